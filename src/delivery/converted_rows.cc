#include "delivery/converted_rows.h"

#include <algorithm>

#include "delivery/event_time.h"

namespace tablelake::delivery {

Result<PrimaryKey> ConvertedBatch::Key(size_t i) const {
  Row row;
  TL_RETURN_IF_ERROR(stored.DecodeRow(rows[i].source, &row).status());
  return std::move(row.primary_key);
}

void ConvertedBatch::Clear() {
  records.clear();
  rows.clear();
  dirty.clear();
  last = false;
}

DirtyReason RowStager::Stage(const PrimaryKey& key, const std::vector<Cell>& cells,
                             int64_t write_ms, const RowConverter::Change& change,
                             int64_t* time_ms) {
  *time_ms = write_ms;
  if (!config_.event_time_column.empty()) {
    auto t = RowEventTime(config_.event_time_column, config_.event_time_format, key, cells);
    if (!t.ok()) return {t.status().message()};
    *time_ms = *t;
  }
  return converter_.Stage(key, cells, change);
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
