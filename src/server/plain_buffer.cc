#include "server/plain_buffer.h"

#include <array>
#include <cstring>

#include "common/utf8.h"
#include "fmt/format.h"

namespace tablelake::server {
namespace {

constexpr uint32_t kHeader = 0x75;

enum Tag : uint8_t {
  kRowPk = 0x01,
  kRowData = 0x02,
  kCell = 0x03,
  kCellName = 0x04,
  kCellValue = 0x05,
  kCellType = 0x06,
  kCellTimestamp = 0x07,
  kDeleteRowMarker = 0x08,
  kRowChecksum = 0x09,
  kCellChecksum = 0x0A,
  kExtension = 0x0B,
  kSeqInfo = 0x0C,
  kSeqInfoEpoch = 0x0D,
  kSeqInfoTs = 0x0E,
  kSeqInfoRowIndex = 0x0F,
};

enum VariantType : uint8_t {
  kVtInteger = 0x00,
  kVtDouble = 0x01,
  kVtBoolean = 0x02,
  kVtString = 0x03,
  kVtNull = 0x06,
  kVtBlob = 0x07,
  kVtInfMin = 0x09,
  kVtInfMax = 0x0A,
  kVtAutoIncrement = 0x0B,
};

constexpr std::array<uint8_t, 256> MakeCrcTable() {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    uint8_t c = static_cast<uint8_t>(i);
    for (int b = 0; b < 8; ++b) c = static_cast<uint8_t>((c & 0x80) ? (c << 1) ^ 0x07 : c << 1);
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kCrcTable = MakeCrcTable();

uint8_t CrcByte(uint8_t crc, uint8_t b) { return kCrcTable[crc ^ b]; }

template <typename T>
uint8_t CrcLittleEndian(uint8_t crc, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) crc = CrcByte(crc, static_cast<uint8_t>(v >> (8 * i)));
  return crc;
}

template <typename T>
void PutLittleEndian(std::string* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// The payload of a value as it follows its type byte, and the type byte.
uint8_t VariantTypeOf(const Value& v) {
  switch (v.type()) {
    case ValueType::kInteger:
      return kVtInteger;
    case ValueType::kDouble:
      return kVtDouble;
    case ValueType::kBoolean:
      return kVtBoolean;
    case ValueType::kString:
      return kVtString;
    case ValueType::kBinary:
      return kVtBlob;
    case ValueType::kInfMin:
      return kVtInfMin;
    case ValueType::kInfMax:
      return kVtInfMax;
    case ValueType::kAutoIncrement:
      return kVtAutoIncrement;
  }
  return kVtNull;
}
void AppendPayload(std::string* out, const Value& v) {
  switch (v.type()) {
    case ValueType::kInteger:
    case ValueType::kDouble:  // the value's bits: Value keeps a DOUBLE's bits in its word
      PutLittleEndian<uint64_t>(out, static_cast<uint64_t>(v.integer()));
      break;
    case ValueType::kBoolean:
      out->push_back(v.boolean() ? 1 : 0);
      break;
    case ValueType::kString:
    case ValueType::kBinary:
      PutLittleEndian<uint32_t>(out, static_cast<uint32_t>(v.bytes().size()));
      out->append(v.bytes());
      break;
    default:
      break;
  }
}

// Reads a buffer front to back; every read checks the bytes left first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }
  bool Peek(uint8_t tag) const {
    return pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == tag;
  }

  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  static Status ErrorAt(size_t pos, const std::string& what) {
    return Status::InvalidArgument(fmt::format("PlainBuffer byte {}: {}", pos, what));
  }
  Status Expect(uint8_t tag, const char* name) {
    if (pos_ >= in_.size()) return Error(fmt::format("ends where {} was expected", name));
    uint8_t got = static_cast<uint8_t>(in_[pos_]);
    if (got != tag) {
      return Error(fmt::format("expected {} (tag 0x{:02X}), found 0x{:02X}", name, tag, got));
    }
    ++pos_;
    return Status::OK();
  }
  template <typename T>
  Status Read(T* v, const char* what) {
    if (in_.size() - pos_ < sizeof(T)) return Error(fmt::format("cut short in {}", what));
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      x |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    }
    *v = static_cast<T>(x);
    pos_ += sizeof(T);
    return Status::OK();
  }
  Status Bytes(uint32_t n, std::string_view* out, const char* what) {
    if (in_.size() - pos_ < n) {
      return Error(
          fmt::format("{} of {} bytes runs past the end ({} left)", what, n, in_.size() - pos_));
    }
    *out = in_.substr(pos_, n);
    pos_ += n;
    return Status::OK();
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// A type byte and its payload; `vlen` (when known) must be what they take.
Status ReadVariant(Reader& r, std::optional<uint32_t> vlen, Value* v, uint8_t* crc) {
  size_t start = r.pos();
  uint8_t type = 0;
  TL_RETURN_IF_ERROR(r.Read(&type, "a value's type"));
  *crc = CrcByte(*crc, type);
  switch (type) {
    case kVtInteger:
    case kVtDouble: {
      uint64_t bits = 0;
      TL_RETURN_IF_ERROR(r.Read(&bits, "an 8-byte value"));
      *crc = CrcLittleEndian(*crc, bits);
      if (type == kVtInteger) {
        *v = Value::Integer(static_cast<int64_t>(bits));
      } else {
        double d;
        std::memcpy(&d, &bits, sizeof d);
        *v = Value::Double(d);
      }
      break;
    }
    case kVtBoolean: {
      uint8_t b = 0;
      TL_RETURN_IF_ERROR(r.Read(&b, "a BOOLEAN value"));
      *crc = CrcByte(*crc, b);
      *v = Value::Boolean(b != 0);
      break;
    }
    case kVtString:
    case kVtBlob: {
      uint32_t n = 0;
      TL_RETURN_IF_ERROR(r.Read(&n, "a value's length"));
      std::string_view bytes;
      TL_RETURN_IF_ERROR(
          r.Bytes(n, &bytes, type == kVtString ? "a STRING value" : "a BINARY value"));
      *crc = Crc8(CrcLittleEndian(*crc, n), bytes);
      *v =
          type == kVtString ? Value::String(std::string(bytes)) : Value::Binary(std::string(bytes));
      break;
    }
    case kVtInfMin:
      *v = Value::InfMin();
      break;
    case kVtInfMax:
      *v = Value::InfMax();
      break;
    case kVtAutoIncrement:
      *v = Value::AutoIncrement();
      break;
    case kVtNull:
      return Reader::ErrorAt(start, "NULL values are not supported in rows");
    default:
      return Reader::ErrorAt(start, fmt::format("unknown value type 0x{:02X}", type));
  }
  if (vlen && r.pos() - start != *vlen) {
    return r.Error(
        fmt::format("the value takes {} bytes but its length says {}", r.pos() - start, *vlen));
  }
  return Status::OK();
}

Status ReadCell(Reader& r, bool key, WireCell* cell, uint8_t* cell_crc) {
  TL_RETURN_IF_ERROR(r.Expect(kCell, "CELL"));
  TL_RETURN_IF_ERROR(r.Expect(kCellName, "CELL_NAME"));
  uint32_t n = 0;
  TL_RETURN_IF_ERROR(r.Read(&n, "a cell name's length"));
  std::string_view name;
  size_t name_at = r.pos();
  TL_RETURN_IF_ERROR(r.Bytes(n, &name, "a cell name"));
  if (!IsValidUtf8(name)) {
    // The Node.js SDK (5.x) writes a name's length in characters, not bytes: a non-ASCII name
    // arrives cut, and everything after it shifted. Say so rather than report a stray tag.
    std::string hex;
    for (size_t i = 0; i < name.size() && i < 32; ++i) {
      hex += fmt::format("{}{:02x}", i ? " " : "", static_cast<uint8_t>(name[i]));
    }
    return Reader::ErrorAt(
        name_at, fmt::format("a column name of {} bytes ({}) is not valid UTF-8 (the Node.js SDK "
                             "corrupts non-ASCII column names on the wire: use ASCII names with "
                             "it)",
                             name.size(), hex));
  }
  cell->name.assign(name);
  uint8_t crc = Crc8(0, name);
  if (r.Peek(kCellValue)) {
    TL_RETURN_IF_ERROR(r.Expect(kCellValue, "CELL_VALUE"));
    uint32_t vlen = 0;
    TL_RETURN_IF_ERROR(r.Read(&vlen, "a value's length"));
    Value v;
    TL_RETURN_IF_ERROR(ReadVariant(r, vlen, &v, &crc));
    cell->value = std::move(v);
  }
  uint8_t op = 0;
  bool has_op = false;
  if (r.Peek(kCellType)) {
    if (key) return r.Error(fmt::format("primary key column '{}' has an operation", cell->name));
    TL_RETURN_IF_ERROR(r.Expect(kCellType, "CELL_TYPE"));
    TL_RETURN_IF_ERROR(r.Read(&op, "a cell's operation"));
    if (op != 0x01 && op != 0x03 && op != 0x04) {
      return r.Error(fmt::format("column '{}': unknown operation 0x{:02X}", cell->name, op));
    }
    cell->op = static_cast<CellOp>(op);
    has_op = true;
  }
  if (r.Peek(kCellTimestamp)) {
    if (key) return r.Error(fmt::format("primary key column '{}' has a timestamp", cell->name));
    TL_RETURN_IF_ERROR(r.Expect(kCellTimestamp, "CELL_TIMESTAMP"));
    uint64_t ts = 0;
    TL_RETURN_IF_ERROR(r.Read(&ts, "a cell's timestamp"));
    cell->timestamp = static_cast<int64_t>(ts);
    crc = CrcLittleEndian(crc, ts);
  }
  if (has_op) crc = CrcByte(crc, op);  // the checksum takes the timestamp before the operation
  if (key && !cell->value) {
    return r.Error(fmt::format("primary key column '{}' has no value", cell->name));
  }
  TL_RETURN_IF_ERROR(r.Expect(kCellChecksum, "CELL_CHECKSUM"));
  uint8_t sent = 0;
  TL_RETURN_IF_ERROR(r.Read(&sent, "a cell checksum"));
  if (sent != crc) {
    return r.Error(fmt::format("column '{}': cell checksum 0x{:02X} does not match 0x{:02X}",
                               cell->name, sent, crc));
  }
  *cell_crc = crc;
  return Status::OK();
}

// The sequence info's fields (epoch, timestamp, row index), each tagged; others are refused.
Status ReadSequenceInfo(std::string_view bytes, SequenceInfo* seq) {
  Reader r(bytes);
  while (!r.done()) {
    if (r.Peek(kSeqInfoEpoch)) {
      TL_RETURN_IF_ERROR(r.Expect(kSeqInfoEpoch, "SEQ_INFO_EPOCH"));
      TL_RETURN_IF_ERROR(r.Read(&seq->epoch, "the sequence epoch"));
    } else if (r.Peek(kSeqInfoTs)) {
      TL_RETURN_IF_ERROR(r.Expect(kSeqInfoTs, "SEQ_INFO_TS"));
      TL_RETURN_IF_ERROR(r.Read(&seq->timestamp, "the sequence timestamp"));
    } else {
      TL_RETURN_IF_ERROR(r.Expect(kSeqInfoRowIndex, "SEQ_INFO_ROW_INDEX"));
      TL_RETURN_IF_ERROR(r.Read(&seq->row_index, "the sequence row index"));
    }
  }
  return Status::OK();
}

// The extension: its sequence info is kept; unknown sub-tags are skipped by their length.
Status ReadExtension(Reader& r, std::optional<SequenceInfo>* sequence) {
  TL_RETURN_IF_ERROR(r.Expect(kExtension, "EXTENSION"));
  uint32_t n = 0;
  TL_RETURN_IF_ERROR(r.Read(&n, "the extension's length"));
  std::string_view body;
  TL_RETURN_IF_ERROR(r.Bytes(n, &body, "the extension"));
  Reader sub(body);
  while (!sub.done()) {
    uint8_t tag = 0;
    uint32_t len = 0;
    std::string_view value;
    TL_RETURN_IF_ERROR(sub.Read(&tag, "an extension tag"));
    TL_RETURN_IF_ERROR(sub.Read(&len, "an extension length"));
    TL_RETURN_IF_ERROR(sub.Bytes(len, &value, "an extension value"));
    if (tag != kSeqInfo) continue;
    sequence->emplace();
    TL_RETURN_IF_ERROR(ReadSequenceInfo(value, &**sequence).WithContext("the extension"));
  }
  return Status::OK();
}

Status ReadRow(Reader& r, WireRow* row) {
  TL_RETURN_IF_ERROR(r.Expect(kRowPk, "ROW_PK"));
  uint8_t row_crc = 0;
  while (r.Peek(kCell)) {
    WireCell c;
    uint8_t crc;
    TL_RETURN_IF_ERROR(ReadCell(r, /*key=*/true, &c, &crc));
    row->primary_key.push_back({std::move(c.name), std::move(*c.value)});
    row_crc = CrcByte(row_crc, crc);
  }
  if (r.Peek(kRowData)) {
    TL_RETURN_IF_ERROR(r.Expect(kRowData, "ROW_DATA"));
    while (r.Peek(kCell)) {
      WireCell c;
      uint8_t crc;
      TL_RETURN_IF_ERROR(ReadCell(r, /*key=*/false, &c, &crc));
      row->cells.push_back(std::move(c));
      row_crc = CrcByte(row_crc, crc);
    }
  }
  if (r.Peek(kDeleteRowMarker)) {
    TL_RETURN_IF_ERROR(r.Expect(kDeleteRowMarker, "DELETE_ROW_MARKER"));
    row->delete_marker = true;
  }
  row_crc = CrcByte(row_crc, row->delete_marker ? 1 : 0);
  if (r.Peek(kExtension)) TL_RETURN_IF_ERROR(ReadExtension(r, &row->sequence));
  TL_RETURN_IF_ERROR(r.Expect(kRowChecksum, "ROW_CHECKSUM"));
  uint8_t sent = 0;
  TL_RETURN_IF_ERROR(r.Read(&sent, "the row checksum"));
  if (sent != row_crc) {
    return r.Error(fmt::format("row checksum 0x{:02X} does not match 0x{:02X}", sent, row_crc));
  }
  return Status::OK();
}

Status ReadHeader(Reader& r) {
  uint32_t header = 0;
  TL_RETURN_IF_ERROR(r.Read(&header, "the header"));
  if (header != kHeader) {
    return Status::InvalidArgument(
        fmt::format("PlainBuffer byte 0: header 0x{:X}, expected 0x75", header));
  }
  return Status::OK();
}

uint8_t AppendCell(std::string* out, const std::string& name, const Value* value, CellOp op,
                   int64_t timestamp) {
  out->push_back(kCell);
  out->push_back(kCellName);
  PutLittleEndian<uint32_t>(out, static_cast<uint32_t>(name.size()));
  out->append(name);
  uint8_t crc = Crc8(0, name);
  if (value != nullptr) {
    out->push_back(kCellValue);
    size_t vlen_at = out->size();
    PutLittleEndian<uint32_t>(out, 0);
    size_t start = out->size();
    out->push_back(static_cast<char>(VariantTypeOf(*value)));
    AppendPayload(out, *value);
    uint32_t vlen = static_cast<uint32_t>(out->size() - start);
    for (int i = 0; i < 4; ++i) (*out)[vlen_at + i] = static_cast<char>(vlen >> (8 * i));
    crc = Crc8(crc, std::string_view(*out).substr(start));
  }
  if (op != CellOp::kNone) {
    out->push_back(kCellType);
    out->push_back(static_cast<char>(op));
  }
  if (timestamp != kNoTimestamp) {
    out->push_back(kCellTimestamp);
    PutLittleEndian<uint64_t>(out, static_cast<uint64_t>(timestamp));
    crc = CrcLittleEndian(crc, static_cast<uint64_t>(timestamp));
  }
  if (op != CellOp::kNone) crc = CrcByte(crc, static_cast<uint8_t>(op));
  out->push_back(kCellChecksum);
  out->push_back(static_cast<char>(crc));
  return crc;
}

void AppendExtension(std::string* out, const SequenceInfo& seq) {
  out->push_back(kExtension);
  PutLittleEndian<uint32_t>(out, 24);
  out->push_back(kSeqInfo);
  PutLittleEndian<uint32_t>(out, 19);
  out->push_back(kSeqInfoEpoch);
  PutLittleEndian<uint32_t>(out, seq.epoch);
  out->push_back(kSeqInfoTs);
  PutLittleEndian<uint64_t>(out, static_cast<uint64_t>(seq.timestamp));
  out->push_back(kSeqInfoRowIndex);
  PutLittleEndian<uint32_t>(out, seq.row_index);
}

void EndRow(std::string* out, uint8_t row_crc, bool delete_marker, const SequenceInfo* ext) {
  if (delete_marker) out->push_back(kDeleteRowMarker);
  row_crc = CrcByte(row_crc, delete_marker ? 1 : 0);
  if (ext != nullptr) AppendExtension(out, *ext);
  out->push_back(kRowChecksum);
  out->push_back(static_cast<char>(row_crc));
}

uint8_t AppendKey(std::string* out, const PrimaryKey& key) {
  out->push_back(kRowPk);
  uint8_t row_crc = 0;
  for (const auto& k : key) {
    row_crc = CrcByte(row_crc, AppendCell(out, k.name, &k.value, CellOp::kNone, kNoTimestamp));
  }
  return row_crc;
}

}  // namespace

uint8_t Crc8(uint8_t crc, std::string_view bytes) {
  for (char c : bytes) crc = CrcByte(crc, static_cast<uint8_t>(c));
  return crc;
}

Result<WireRow> DecodeRow(std::string_view buffer) {
  Reader r(buffer);
  TL_RETURN_IF_ERROR(ReadHeader(r));
  WireRow row;
  TL_RETURN_IF_ERROR(ReadRow(r, &row));
  // The Node.js SDK (5.6.5) sizes an INF_MIN/INF_MAX/AUTO_INCREMENT key cell one byte too large
  // and sends the buffer's unused zero bytes after the row: zeros there are padding.
  for (size_t i = r.pos(); i < buffer.size(); ++i) {
    if (buffer[i] != 0) return r.Error("more bytes after the row");
  }
  return row;
}

Result<std::vector<WireRow>> DecodeRows(std::string_view buffer) {
  Reader r(buffer);
  TL_RETURN_IF_ERROR(ReadHeader(r));
  std::vector<WireRow> rows;
  while (!r.done()) {
    WireRow row;
    TL_RETURN_IF_ERROR(ReadRow(r, &row));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<Value> DecodeVariant(std::string_view bytes) {
  Reader r(bytes);
  Value v;
  uint8_t crc = 0;
  TL_RETURN_IF_ERROR(ReadVariant(r, std::nullopt, &v, &crc));
  if (!r.done()) return r.Error("more bytes after the value");
  return v;
}

std::string EncodeVariant(const Value& value) {
  std::string out(1, static_cast<char>(VariantTypeOf(value)));
  AppendPayload(&out, value);
  return out;
}

void AppendHeader(std::string* out) { PutLittleEndian<uint32_t>(out, kHeader); }

void AppendRow(std::string* out, const PrimaryKey& key, const std::vector<Cell>& cells,
               const SequenceInfo* extension) {
  uint8_t row_crc = AppendKey(out, key);
  if (!cells.empty()) {
    out->push_back(kRowData);
    for (const auto& c : cells) {
      row_crc = CrcByte(row_crc, AppendCell(out, c.name, &c.value, CellOp::kNone, c.timestamp));
    }
  }
  EndRow(out, row_crc, /*delete_marker=*/false, extension);
}

void AppendWireRow(std::string* out, const WireRow& row, const SequenceInfo* extension) {
  uint8_t row_crc = AppendKey(out, row.primary_key);
  if (!row.cells.empty()) {
    out->push_back(kRowData);
    for (const auto& c : row.cells) {
      const Value* v = c.value ? &*c.value : nullptr;
      row_crc = CrcByte(row_crc, AppendCell(out, c.name, v, c.op, c.timestamp));
    }
  }
  EndRow(out, row_crc, row.delete_marker, extension);
}

std::string EncodePrimaryKey(const PrimaryKey& key) { return EncodeRow(key, {}); }

std::string EncodeRow(const PrimaryKey& key, const std::vector<Cell>& cells) {
  std::string out;
  AppendHeader(&out);
  AppendRow(&out, key, cells);
  return out;
}

}  // namespace tablelake::server
