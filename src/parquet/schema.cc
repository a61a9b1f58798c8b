#include "parquet/schema.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"

namespace tablelake::parquet {

int32_t DecimalBytes(int32_t precision) {
  // The smallest n with 2^(8n-1) > 10^precision - 1, i.e. 8n - 1 >= precision * log2(10).
  for (int32_t n = 1; n <= 16; ++n) {
    if (8.0 * n - 1 >= precision * 3.321928094887362) return n;
  }
  return 16;
}

bool IsNested(const ColumnSpec& c) {
  return c.type == ColumnType::kList || c.type == ColumnType::kMap;
}

ColumnSpec ElementSpec(const ColumnSpec& c) {
  ColumnSpec e = c;
  e.name = c.type == ColumnType::kList ? "element" : "value";
  e.type = c.element;
  e.optional = true;
  return e;
}

ColumnSpec MapKeySpec(const ColumnSpec& c) {
  ColumnSpec k;
  k.name = "key";
  k.type = ColumnType::kUtf8;
  k.optional = false;
  k.encoding = c.encoding == Encoding::kDictionary || c.encoding == Encoding::kDeltaByteArray ||
                       c.encoding == Encoding::kDeltaLengthByteArray
                   ? c.encoding
                   : Encoding::kPlain;
  return k;
}

PhysicalType PhysicalTypeOf(const ColumnSpec& c) {
  switch (c.type) {
    case ColumnType::kList:
    case ColumnType::kMap:
      return PhysicalTypeOf(ElementSpec(c));
    case ColumnType::kBool:
      return PhysicalType::kBoolean;
    case ColumnType::kInt32:
    case ColumnType::kDate:
    case ColumnType::kTimeMillis:
      return PhysicalType::kInt32;
    case ColumnType::kInt64:
    case ColumnType::kTimeMicros:
    case ColumnType::kTimestampMillis:
    case ColumnType::kTimestampMicros:
      return PhysicalType::kInt64;
    case ColumnType::kFloat:
      return PhysicalType::kFloat;
    case ColumnType::kDouble:
      return PhysicalType::kDouble;
    case ColumnType::kUtf8:
    case ColumnType::kBinary:
      return PhysicalType::kByteArray;
    case ColumnType::kInt96:
      return PhysicalType::kInt96;
    case ColumnType::kInterval:
      return PhysicalType::kFixedLenByteArray;
    case ColumnType::kDecimal:
      return c.precision <= 9    ? PhysicalType::kInt32
             : c.precision <= 18 ? PhysicalType::kInt64
                                 : PhysicalType::kFixedLenByteArray;
  }
  return PhysicalType::kByteArray;
}

int32_t FixedLengthOf(const ColumnSpec& c) {
  switch (c.type) {
    case ColumnType::kList:
    case ColumnType::kMap:
      return FixedLengthOf(ElementSpec(c));
    case ColumnType::kInt96:
    case ColumnType::kInterval:
      return 12;
    case ColumnType::kDecimal:
      return c.precision > 18 ? DecimalBytes(c.precision) : 0;
    default:
      return 0;
  }
}

namespace {

bool EncodingFits(Encoding e, PhysicalType p) {
  switch (e) {
    case Encoding::kPlain:
      return true;
    case Encoding::kDictionary:
      return p != PhysicalType::kBoolean;
    case Encoding::kDeltaBinaryPacked:
      return p == PhysicalType::kInt32 || p == PhysicalType::kInt64;
    case Encoding::kDeltaLengthByteArray:
      return p == PhysicalType::kByteArray;
    case Encoding::kDeltaByteArray:
      return p == PhysicalType::kByteArray || p == PhysicalType::kFixedLenByteArray;
  }
  return false;
}

const char* PhysicalTypeName(PhysicalType p) {
  static const char* kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                 "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return kNames[static_cast<int>(p)];
}

}  // namespace

Status ValidateColumn(const ColumnSpec& c) {
  if (c.name.empty()) return Status::InvalidArgument("a Parquet column name must not be empty");
  for (char ch : c.name) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == '.' || ch == ',' || ch == ';' || ch == '{' ||
        ch == '}' || ch == '(' || ch == ')' || ch == '=') {
      return Status::InvalidArgument(fmt::format(
          "Parquet column name '{}' holds a character engines reject ('{}')", c.name, ch));
    }
  }
  if (IsNested(c)) {
    if (IsNested(ElementSpec(c))) {
      return Status::InvalidArgument(fmt::format("column '{}': a {} holds scalar values, not {}",
                                                 c.name, ColumnTypeName(c.type),
                                                 ColumnTypeName(c.element)));
    }
    return ValidateColumn(ElementSpec(c)).WithContext(fmt::format("column '{}'", c.name));
  }
  if (c.type == ColumnType::kDecimal) {
    if (c.precision < 1 || c.precision > 38) {
      return Status::InvalidArgument(fmt::format(
          "column '{}': DECIMAL precision must be 1 to 38, got {}", c.name, c.precision));
    }
    if (c.scale < 0 || c.scale > c.precision) {
      return Status::InvalidArgument(
          fmt::format("column '{}': DECIMAL scale must be 0 to the precision ({}), got {}", c.name,
                      c.precision, c.scale));
    }
  }
  PhysicalType p = PhysicalTypeOf(c);
  if (!EncodingFits(c.encoding, p)) {
    return Status::InvalidArgument(
        fmt::format("column '{}': encoding {} does not apply to {} ({} values)", c.name,
                    EncodingName(c.encoding), ColumnTypeName(c.type), PhysicalTypeName(p)));
  }
  if (c.type == ColumnType::kInt96 && c.encoding != Encoding::kPlain &&
      c.encoding != Encoding::kDictionary) {
    return Status::InvalidArgument(
        fmt::format("column '{}': INT96 takes PLAIN or dictionary encoding", c.name));
  }
  return Status::OK();
}

Status ValidateSchema(const std::vector<ColumnSpec>& columns) {
  if (columns.empty()) return Status::InvalidArgument("a Parquet schema needs at least one column");
  std::set<std::string> names;
  for (const auto& c : columns) {
    TL_RETURN_IF_ERROR(ValidateColumn(c));
    if (!names.insert(c.name).second) {
      return Status::InvalidArgument(fmt::format("Parquet column '{}' appears twice", c.name));
    }
  }
  return Status::OK();
}

namespace {
struct TypeName {
  ColumnType type;
  const char* name;
};
constexpr TypeName kTypeNames[] = {
    {ColumnType::kBool, "BOOL"},
    {ColumnType::kInt32, "INT32"},
    {ColumnType::kInt64, "INT64"},
    {ColumnType::kFloat, "FLOAT"},
    {ColumnType::kDouble, "DOUBLE"},
    {ColumnType::kUtf8, "UTF8"},
    {ColumnType::kBinary, "BINARY"},
    {ColumnType::kDate, "DATE"},
    {ColumnType::kDecimal, "DECIMAL"},
    {ColumnType::kTimeMillis, "TIME_MILLIS"},
    {ColumnType::kTimeMicros, "TIME_MICROS"},
    {ColumnType::kTimestampMillis, "TIMESTAMP_MILLIS"},
    {ColumnType::kTimestampMicros, "TIMESTAMP_MICROS"},
    {ColumnType::kInt96, "INT96"},
    {ColumnType::kInterval, "INTERVAL"},
    {ColumnType::kList, "LIST"},
    {ColumnType::kMap, "MAP"},
};
}  // namespace

const char* ColumnTypeName(ColumnType t) {
  for (const auto& tn : kTypeNames) {
    if (tn.type == t) return tn.name;
  }
  return "UNKNOWN";
}

std::optional<ColumnType> ParseColumnType(const std::string& name) {
  for (const auto& tn : kTypeNames) {
    if (name == tn.name) return tn.type;
  }
  return std::nullopt;
}

const char* EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain:
      return "PLAIN";
    case Encoding::kDictionary:
      return "PLAIN_DICTIONARY";
    case Encoding::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
  }
  return "UNKNOWN";
}

std::optional<Encoding> ParseEncoding(const std::string& name) {
  if (name == "PLAIN") return Encoding::kPlain;
  if (name == "PLAIN_DICTIONARY" || name == "RLE_DICTIONARY" || name == "DICTIONARY") {
    return Encoding::kDictionary;
  }
  if (name == "DELTA_BINARY_PACKED") return Encoding::kDeltaBinaryPacked;
  if (name == "DELTA_LENGTH_BYTE_ARRAY") return Encoding::kDeltaLengthByteArray;
  if (name == "DELTA_BYTE_ARRAY") return Encoding::kDeltaByteArray;
  return std::nullopt;
}

const char* CodecName(Codec c) {
  switch (c) {
    case Codec::kUncompressed:
      return "UNCOMPRESSED";
    case Codec::kSnappy:
      return "SNAPPY";
    case Codec::kGzip:
      return "GZIP";
    case Codec::kZstd:
      return "ZSTD";
    case Codec::kLz4Raw:
      return "LZ4_RAW";
  }
  return "UNKNOWN";
}

std::optional<Codec> ParseCodec(const std::string& name) {
  for (Codec c :
       {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd, Codec::kLz4Raw}) {
    if (name == CodecName(c)) return c;
  }
  return std::nullopt;
}

}  // namespace tablelake::parquet
