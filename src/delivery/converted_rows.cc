#include "delivery/converted_rows.h"

#include <algorithm>

#include "delivery/event_time.h"
#include "fmt/format.h"

namespace tablelake::delivery {

Result<PrimaryKey> ConvertedBatch::StoredKey(uint32_t source) const {
  Row row;
  TL_RETURN_IF_ERROR(stored.DecodeRow(source, &row).status());
  return std::move(row.primary_key);
}

void ConvertedBatch::Clear() {
  records.clear();
  rows.clear();
  dirty.clear();
  groups.clear();
  last = false;
}

DirtyReason RowStager::Stage(const PrimaryKey& key, const std::vector<Cell>& cells,
                             int64_t write_ms, const RowConverter::Change& change,
                             int64_t* time_ms) {
  *time_ms = write_ms;
  if (!event_column_.empty()) {
    const Value* v = EventValue(key, cells);
    if (v == nullptr) return {fmt::format("event time column '{}' is missing", event_column_)};
    auto t = ParseEventTime(*v, event_format_);
    if (!t.ok()) return {t.status().message()};
    *time_ms = *t;
  }
  return converter_.Stage(key, cells, change);
}

const Value* RowStager::EventValue(const PrimaryKey& key, const std::vector<Cell>& cells) {
  // Rows of a table share their layout: the column is where it was in the last row.
  if (event_in_key_ && event_hint_ < key.size() && key[event_hint_].name == event_column_) {
    return &key[event_hint_].value;
  }
  if (!event_in_key_ && event_hint_ < cells.size() && cells[event_hint_].name == event_column_) {
    return &cells[event_hint_].value;
  }
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i].name == event_column_) {
      event_in_key_ = true;
      event_hint_ = i;
      return &key[i].value;
    }
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].name == event_column_) {
      event_in_key_ = false;
      event_hint_ = i;
      return &cells[i].value;
    }
  }
  return nullptr;
}

void RowStager::Convert(const Row& row, uint32_t source, int64_t write_ms,
                        const RowConverter::Change& change, ConvertedBatch* batch) {
  int64_t time_ms;
  DirtyReason dirty = Stage(row.primary_key, row.cells, write_ms, change, &time_ms);
  if (!dirty.empty()) {
    batch->rows.push_back(
        {batch->records.size(), 0, time_ms, source, static_cast<int32_t>(batch->dirty.size())});
    batch->dirty.push_back({row, std::move(dirty.text), write_ms});
    return;
  }
  converter_.Encode(&batch->records);
  batch->rows.push_back({batch->records.size(), converter_.row_bytes(), time_ms, source, -1});
}

int64_t SnapshotWriteMs(const Row& row, int64_t snapshot_ms) {
  int64_t write_ms = row.cells.empty() ? snapshot_ms : 0;
  for (const auto& c : row.cells) write_ms = std::max(write_ms, c.timestamp);
  return write_ms;
}

}  // namespace tablelake::delivery
