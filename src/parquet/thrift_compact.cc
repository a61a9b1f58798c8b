#include "parquet/thrift_compact.h"

namespace tablelake::parquet::thrift {

void CompactWriter::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::FieldHeader(int16_t id, Type type) {
  int16_t& last = last_ids_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    PutVarint(Zigzag(id));
  }
  last = id;
}

void CompactWriter::I8(int16_t id, int8_t v) {
  FieldHeader(id, Type::kI8);
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::I32(int16_t id, int32_t v) {
  FieldHeader(id, Type::kI32);
  PutVarint(Zigzag(v));
}

void CompactWriter::I64(int16_t id, int64_t v) {
  FieldHeader(id, Type::kI64);
  PutVarint(Zigzag(v));
}

void CompactWriter::Bool(int16_t id, bool v) {
  FieldHeader(id, v ? Type::kBoolTrue : Type::kBoolFalse);
}

void CompactWriter::Binary(int16_t id, std::string_view v) {
  FieldHeader(id, Type::kBinary);
  PutVarint(v.size());
  out_->append(v);
}

void CompactWriter::BeginStruct(int16_t id) {
  FieldHeader(id, Type::kStruct);
  last_ids_.push_back(0);
}

void CompactWriter::EndStruct() {
  out_->push_back(0);  // STOP
  last_ids_.pop_back();
}

void CompactWriter::BeginList(int16_t id, Type element, size_t n) {
  FieldHeader(id, Type::kList);
  if (n < 15) {
    out_->push_back(static_cast<char>((n << 4) | static_cast<uint8_t>(element)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<uint8_t>(element)));
    PutVarint(n);
  }
}

void CompactWriter::ListBinary(std::string_view v) {
  PutVarint(v.size());
  out_->append(v);
}

}  // namespace tablelake::parquet::thrift
