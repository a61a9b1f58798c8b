// The column types, encodings and codecs Tablelake writes, and how each maps onto Parquet.
//
// Column types are the delivery task schema's (BOOL, INT32, INT64, FLOAT, DOUBLE, UTF8, DATE,
// DECIMAL, TIME_MILLIS, TIME_MICROS, TIMESTAMP_MILLIS, TIMESTAMP_MICROS, INT96, INTERVAL) plus
// BINARY (a BYTE_ARRAY without annotation). See docs/parquet.md for the physical layout of each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tablelake/status.h"

namespace tablelake::parquet {

// Parquet's physical types; the values are the format's enum values.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class ColumnType {
  kBool,
  kInt32,
  kInt64,
  kFloat,
  kDouble,
  kUtf8,
  kBinary,
  kDate,             // INT32 days since 1970-01-01
  kDecimal,          // INT32 (p <= 9), INT64 (p <= 18) or FIXED_LEN_BYTE_ARRAY (p <= 38)
  kTimeMillis,       // INT32 ms since midnight
  kTimeMicros,       // INT64 µs since midnight
  kTimestampMillis,  // INT64 ms since epoch, UTC
  kTimestampMicros,  // INT64 µs since epoch, UTC
  kInt96,            // legacy Hive/Spark timestamp: nanos of day (8 bytes LE) + Julian day (4)
  kInterval,         // FIXED_LEN_BYTE_ARRAY(12): months, days, millis as u32 LE
  kList,             // LIST of `element` values (three-level list, elements nullable)
  kMap,              // MAP of UTF8 keys (required) to `element` values (nullable)
};

enum class Encoding {
  kPlain,
  kDictionary,            // dictionary page + RLE_DICTIONARY data pages, PLAIN on overflow
  kDeltaBinaryPacked,     // INT32, INT64 physical types
  kDeltaLengthByteArray,  // BYTE_ARRAY
  kDeltaByteArray,        // BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY
};

// Values are the format's CompressionCodec enum values.
enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kZstd = 6,
  kLz4Raw = 7,
};

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kInt64;
  bool optional = true;  // Default: OPTIONAL (nullable)
  Encoding encoding = Encoding::kPlain;
  int32_t precision = 0;                   // DECIMAL (also as a LIST/MAP element): 1..38
  int32_t scale = 0;                       // DECIMAL: 0..precision
  ColumnType element = ColumnType::kUtf8;  // LIST element / MAP value type; `encoding` applies
                                           // to it. Default: UTF8
};

bool IsNested(const ColumnSpec& c);
// The leaf that holds a LIST's elements or a MAP's values, as a flat column spec.
ColumnSpec ElementSpec(const ColumnSpec& c);
// The leaf that holds a MAP's keys.
ColumnSpec MapKeySpec(const ColumnSpec& c);

// For LIST and MAP: the physical type of the elements / values.
PhysicalType PhysicalTypeOf(const ColumnSpec& c);
// Byte width of FIXED_LEN_BYTE_ARRAY and INT96 values, 0 for other types.
int32_t FixedLengthOf(const ColumnSpec& c);
// Bytes needed for a DECIMAL of `precision` digits as big-endian two's complement.
int32_t DecimalBytes(int32_t precision);

// Checks the name, DECIMAL precision/scale, and that the encoding fits the physical type.
Status ValidateColumn(const ColumnSpec& c);
Status ValidateSchema(const std::vector<ColumnSpec>& columns);

const char* ColumnTypeName(ColumnType t);
const char* EncodingName(Encoding e);
const char* CodecName(Codec c);
std::optional<ColumnType> ParseColumnType(const std::string& name);
std::optional<Encoding> ParseEncoding(const std::string& name);  // also PLAIN_DICTIONARY etc.
std::optional<Codec> ParseCodec(const std::string& name);

}  // namespace tablelake::parquet
