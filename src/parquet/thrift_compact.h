// Thrift compact protocol encoder: the one place Parquet's footer and page headers are encoded.
//
// Just what Parquet's structures use: i8/i16/i32/i64 (zigzag varints), binary, bool, nested
// structs and lists of i32, binary or structs. Field ids are delta-encoded against the previous
// field of the same struct, as the protocol specifies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tablelake::parquet::thrift {

enum class Type : uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) { last_ids_.push_back(0); }

  void I8(int16_t id, int8_t v);
  void I32(int16_t id, int32_t v);
  void I64(int16_t id, int64_t v);
  void Bool(int16_t id, bool v);
  void Binary(int16_t id, std::string_view v);
  // A nested struct field: BeginStruct, its fields, EndStruct.
  void BeginStruct(int16_t id);
  void EndStruct();
  // A list field of `n` elements of `element` type, then the elements.
  void BeginList(int16_t id, Type element, size_t n);
  void ListI32(int32_t v) { PutVarint(Zigzag(v)); }
  void ListBinary(std::string_view v);
  // One struct element of a list: its fields, then EndListStruct.
  void BeginListStruct() { last_ids_.push_back(0); }
  void EndListStruct() { EndStruct(); }
  // Ends the top-level struct.
  void Stop() { out_->push_back(0); }

  static uint64_t Zigzag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void PutVarint(uint64_t v);

 private:
  void FieldHeader(int16_t id, Type type);

  std::string* out_;
  std::vector<int16_t> last_ids_;  // per open struct, the id of its last field
};

}  // namespace tablelake::parquet::thrift
