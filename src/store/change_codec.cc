#include "store/change_codec.h"

#include "common/coding.h"
#include "store/cell_rules.h"
#include "store/key_codec.h"
#include "store/row_codec.h"

namespace tablelake::store {

std::string StreamKey(uint32_t table_id, uint64_t sequence) {
  std::string k = TablePrefix(table_id);
  PutBigEndian64(&k, sequence);
  return k;
}

bool StreamKeySequence(std::string_view key, uint64_t* sequence) {
  if (key.size() < kTablePrefixBytes + 8) return false;
  *sequence = DecodeBigEndian64(key.data() + kTablePrefixBytes);
  return true;
}

namespace {

void AppendChangeHeader(int64_t commit_time_us, ChangeOp op, std::string_view encoded_pk,
                        size_t columns, std::string* v) {
  PutFixed64(v, static_cast<uint64_t>(commit_time_us));
  v->push_back(static_cast<char>(op));
  PutLengthPrefixed(v, encoded_pk);
  PutVarint64(v, columns);
}

void AppendChangeColumn(ColumnUpdate::Op op, std::string_view name, int64_t timestamp,
                        ValueView value, std::string* v) {
  v->push_back(static_cast<char>(op));
  PutLengthPrefixed(v, name);
  PutVarint64(v, static_cast<uint64_t>(timestamp + 1));  // kNoTimestamp (-1) -> 0
  if (op == ColumnUpdate::Op::kPut) AppendValue(value, v);
}

}  // namespace

std::string EncodeChange(int64_t commit_time_us, ChangeOp op, std::string_view encoded_pk,
                         const std::vector<ColumnUpdate>& columns,
                         const std::vector<Cell>& update_image) {
  std::string v;
  AppendChangeHeader(commit_time_us, op, encoded_pk, columns.size(), &v);
  for (const auto& c : columns) AppendChangeColumn(c.op, c.name, c.timestamp, c.value.view(), &v);
  if (op == ChangeOp::kUpdate) {
    std::string image;
    EncodeCells(update_image, &image);
    PutLengthPrefixed(&v, image);
  }
  return v;
}

std::string EncodePutChange(int64_t commit_time_us, std::string_view encoded_pk,
                            const std::vector<ColumnView>& cells, int64_t timestamp) {
  std::string v;
  AppendChangeHeader(commit_time_us, ChangeOp::kPut, encoded_pk, cells.size(), &v);
  for (const auto& c : cells) {
    AppendChangeColumn(ColumnUpdate::Op::kPut, c.name, timestamp, c.value, &v);
  }
  return v;
}

bool ChangeCommitTime(std::string_view value, int64_t* commit_time_us) {
  if (value.size() < 8) return false;
  *commit_time_us = static_cast<int64_t>(DecodeFixed64(value.data()));
  return true;
}

Status DecodeChange(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                    ChangeRecord* r) {
  uint64_t time;
  uint8_t op;
  std::string_view pk;
  uint64_t n;
  if (!GetFixed64(&in, &time) || !GetByte(&in, &op) || !GetLengthPrefixed(&in, &pk) ||
      !GetVarint64(&in, &n)) {
    return Status::Corruption("truncated change record header");
  }
  r->commit_time_us = static_cast<int64_t>(time);
  r->op = static_cast<ChangeOp>(op);
  TL_RETURN_IF_ERROR(DecodePrimaryKey(schema, pk, &r->primary_key));
  r->columns.clear();
  if (n > in.size()) return Status::Corruption("bad change record column count");
  r->columns.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    ColumnUpdate c;
    uint8_t cop;
    std::string_view name;
    uint64_t ts;
    if (!GetByte(&in, &cop) || !GetLengthPrefixed(&in, &name) || !GetVarint64(&in, &ts)) {
      return Status::Corruption("truncated change record column");
    }
    c.op = static_cast<ColumnUpdate::Op>(cop);
    c.name.assign(name);
    c.timestamp = static_cast<int64_t>(ts) - 1;
    if (c.op == ColumnUpdate::Op::kPut && !GetValue(&in, &c.value)) {
      return Status::Corruption("truncated change record value");
    }
    r->columns.push_back(std::move(c));
  }
  r->row_image.clear();
  if (r->op == ChangeOp::kUpdate) {
    std::string_view image;
    if (!GetLengthPrefixed(&in, &image)) return Status::Corruption("truncated row image");
    TL_RETURN_IF_ERROR(DecodeCells(image, &r->row_image));
  } else if (r->op == ChangeOp::kPut) {
    r->row_image.reserve(r->columns.size());
    for (const auto& c : r->columns) r->row_image.push_back({c.name, c.value, c.timestamp});
    SortCells(&r->row_image);
    KeepNewestVersion(&r->row_image);
  }
  return Status::OK();
}

}  // namespace tablelake::store
