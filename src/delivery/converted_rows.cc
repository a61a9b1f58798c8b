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

template <typename Key, typename Cells>
DirtyReason RowStager::Stage(const Key& key, const Cells& cells, int64_t write_ms,
                             const RowConverter::Change& change, int64_t* time_ms) {
  *time_ms = write_ms;
  if (!event_column_.empty()) {
    const std::optional<ValueView> v = EventValue(key, cells);
    if (!v) return {fmt::format("event time column '{}' is missing", event_column_)};
    auto t = ParseEventTime(*v, event_format_);
    if (!t.ok()) return {t.status().message()};
    *time_ms = *t;
  }
  return converter_.Stage(key, cells, change);
}

template <typename Key, typename Cells>
std::optional<ValueView> RowStager::EventValue(const Key& key, const Cells& cells) {
  // Rows of a table share their layout: the column is where it was in the last row.
  if (event_in_key_ && event_hint_ < key.size() && key[event_hint_].name == event_column_) {
    return ViewOf(key[event_hint_].value);
  }
  if (!event_in_key_ && event_hint_ < cells.size() && cells[event_hint_].name == event_column_) {
    return ViewOf(cells[event_hint_].value);
  }
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i].name == event_column_) {
      event_in_key_ = true;
      event_hint_ = i;
      return ViewOf(key[i].value);
    }
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].name == event_column_) {
      event_in_key_ = false;
      event_hint_ = i;
      return ViewOf(cells[i].value);
    }
  }
  return std::nullopt;
}

template DirtyReason RowStager::Stage(const PrimaryKey&, const std::vector<Cell>&, int64_t,
                                      const RowConverter::Change&, int64_t*);
template DirtyReason RowStager::Stage(const std::vector<ColumnView>&, const std::vector<CellView>&,
                                      int64_t, const RowConverter::Change&, int64_t*);

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

}  // namespace tablelake::delivery
