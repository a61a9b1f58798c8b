// PlainBuffer: how Tablestore's wire protocol carries rows inside its protobuf messages
// (../shared/spec/wire-protocol.md, section 3). A buffer is a little-endian u32 header 0x75 and
// one or more rows:
//   row  := 0x01 pkcell* [0x02 cell+] [0x08] [extension] 0x09 row_crc:u8
//   cell := 0x03 0x04 u32 name [0x05 u32 vlen type:u8 payload] [0x06 op:u8] [0x07 ts:i64]
//           0x0A cell_crc:u8
// with CRC-8 (polynomial 0x07) over each cell and, per row, over its cells' checksums and the
// delete marker. The decoder checks every length against the bytes left and both checksums, and
// says what is wrong at which byte; it never reads past the buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::server {

// A cell's operation type on the wire (UpdateRow).
enum class CellOp : uint8_t {
  kNone = 0,  // no operation tag: a put
  kDeleteAllVersions = 0x01,
  kDeleteOneVersion = 0x03,
  kIncrement = 0x04,
};

// One attribute cell as sent: a value and a version when present, an operation when given.
struct WireCell {
  std::string name;
  std::optional<Value> value;
  CellOp op = CellOp::kNone;
  int64_t timestamp = kNoTimestamp;
};

// The stream record position carried by a row's extension (GetStreamRecord).
struct SequenceInfo {
  uint32_t epoch = 0;
  int64_t timestamp = 0;
  uint32_t row_index = 0;
};

struct WireRow {
  PrimaryKey primary_key;
  std::vector<WireCell> cells;
  bool delete_marker = false;
  std::optional<SequenceInfo> sequence;  // decoded from the extension, when the row has one
};

uint8_t Crc8(uint8_t crc, std::string_view bytes);

// Decodes a buffer of one row (`DecodeRow`) or of rows back to back (`DecodeRows`, as GetRange
// replies carry them). InvalidArgument says what is wrong and at which byte.
Result<WireRow> DecodeRow(std::string_view buffer);
Result<std::vector<WireRow>> DecodeRows(std::string_view buffer);

// A value outside a row (a filter's column_value, a partition bound): type byte and payload.
Result<Value> DecodeVariant(std::string_view bytes);
std::string EncodeVariant(const Value& value);

// Encoding. The header starts a buffer once; rows follow it back to back.
void AppendHeader(std::string* out);
// A row of a primary key and cells (each with its version when it has one).
void AppendRow(std::string* out, const PrimaryKey& key, const std::vector<Cell>& cells,
               const SequenceInfo* extension = nullptr);
// A row of cells as sent (values and/or operations), for requests and change records.
void AppendWireRow(std::string* out, const WireRow& row, const SequenceInfo* extension = nullptr);
// A buffer holding one row: the primary key alone, or a whole row.
std::string EncodePrimaryKey(const PrimaryKey& key);
std::string EncodeRow(const PrimaryKey& key, const std::vector<Cell>& cells);

}  // namespace tablelake::server
