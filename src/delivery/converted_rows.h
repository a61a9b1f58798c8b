// The steps a row takes before it is grouped: the time that partitions it (its event time when
// the task has one) and its conversion to the task's columns. A BatchWriter takes them for the
// rows it is given one by one; each key range of a parallel base scan takes them on a thread of
// its own and hands the BatchWriter batches of converted records, so that grouping, the only
// step the ranges share, is a copy of bytes per row.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/row_converter.h"
#include "delivery/row_group_encoder.h"
#include "delivery/task_config.h"
#include "tablelake/types.h"

namespace tablelake::delivery {

// Rows converted into records (RowConverter::Encode), with the dirty ones in their place, and
// the rows as they were read (so that a row's key can be decoded where the grouping needs it).
struct ConvertedBatch {
  struct Entry {
    size_t end;        // where the row's record ends in `records` (it starts at the last's end)
    size_t row_bytes;  // RowConverter::row_bytes
    int64_t time_ms;   // what partitions the row
    uint32_t source;   // the row's index in `stored`
    int32_t dirty;     // the row's index in `dirty`, or -1 for a clean row
  };
  struct Dirty {
    Row row;
    std::string reason;
    int64_t write_ms;
  };
  // A task of one partition has its rows encoded into row groups on the range's thread
  // (RangeScan): each group the batch completed, with the row of `stored` it ends with and the
  // dirty rows that come before that row (dirty[0, dirty_end)); `rows` and `records` stay empty.
  struct Group {
    RowGroupBlock block;
    uint32_t last_source;
    size_t dirty_end;
  };
  RowBatch stored;  // every row read, hidden ones included
  std::string records;
  std::vector<Entry> rows;
  std::vector<Dirty> dirty;
  std::vector<Group> groups;
  bool last = false;  // the source has no more rows

  std::string_view record(size_t i) const {
    size_t start = i == 0 ? 0 : rows[i - 1].end;
    return std::string_view(records).substr(start, rows[i].end - start);
  }
  // The primary key of rows[i].
  Result<PrimaryKey> Key(size_t i) const { return StoredKey(rows[i].source); }
  // The primary key of stored row `source`.
  Result<PrimaryKey> StoredKey(uint32_t source) const;
  void Clear();
};

class RowStager {
 public:
  RowStager(const DeliveryTaskConfig& config, const ResolvedTask& resolved)
      : event_column_(config.event_time_column),
        event_format_(config.event_time_format),
        converter_(resolved) {}

  // Stages the row in converter(), or says why it is dirty. `*time_ms` becomes the time that
  // partitions it: its event time when the task has an event time column, else `write_ms`.
  // Key and Cells as RowConverter::Stage takes them.
  template <typename Key, typename Cells>
  DirtyReason Stage(const Key& key, const Cells& cells, int64_t write_ms,
                    const RowConverter::Change& change, int64_t* time_ms);
  // Stages the row (batch->stored's row `source`) and adds it to `batch`: its record, or the
  // row itself if it is dirty.
  void Convert(const Row& row, uint32_t source, int64_t write_ms,
               const RowConverter::Change& change, ConvertedBatch* batch);
  RowConverter& converter() { return converter_; }

 private:
  // The event time column's value in the row, if it has one.
  template <typename Key, typename Cells>
  std::optional<ValueView> EventValue(const Key& key, const Cells& cells);

  // Copies, not the task's config: each range's thread reads them for every row.
  const std::string event_column_;
  const EventTimeFormat event_format_;
  size_t event_hint_ = 0;  // where the event time column was in the last row's key or cells
  bool event_in_key_ = false;
  RowConverter converter_;
};

// A snapshot row's write time: its newest cell's version, or the snapshot's for a key-only row.
template <typename Cells>
int64_t SnapshotWriteMs(const Cells& cells, int64_t snapshot_ms) {
  int64_t write_ms = cells.empty() ? snapshot_ms : 0;
  for (const auto& c : cells) write_ms = std::max(write_ms, c.timestamp);
  return write_ms;
}
inline int64_t SnapshotWriteMs(const Row& row, int64_t snapshot_ms) {
  return SnapshotWriteMs(row.cells, snapshot_ms);
}

}  // namespace tablelake::delivery
