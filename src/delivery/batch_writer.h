// The rows of one delivery batch (a segment of the snapshot, or a range of change records) on
// their way into partition files and dirty-row files, all named after the batch's stem:
//   <partition>/<stem>-<index>.parquet and <dirty prefix>/<stem>-dirty-<part>.jsonl
// Rows are converted as they come and grouped by partition in memory (partition_buffers.h),
// so that a partition gets one file per batch, more only past the size bound or when the
// memory budget forces a flush. A partition whose buffer reaches a row group's worth streams
// into an open file from then on (a few at once), as a task with one partition always does. The
// batch counts what it delivered; the runner adds the counts to the task's status when it commits
// the batch, so that the status never counts rows the bucket does not hold.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "delivery/converted_rows.h"
#include "delivery/dirty_rows.h"
#include "delivery/memory_budget.h"
#include "delivery/partition_buffers.h"
#include "delivery/partition_files.h"
#include "delivery/row_converter.h"
#include "delivery/row_group_encoder.h"
#include "delivery/task_config.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"

namespace tablelake::delivery {

class BatchWriter {
 public:
  // `budget` bounds the rows held in memory (and the open files' row groups).
  BatchWriter(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
              ObjectStore* bucket, std::string stem,
              std::vector<std::pair<std::string, std::string>> metadata, MemoryBudget* budget);
  ~BatchWriter() { budget_->Give(row_group_bytes_); }

  // Takes one row image; `write_time_ms` partitions it unless the task has an event time.
  // Clean rows wait in their partition's buffer; dirty ones go to the dirty rows.
  Status Add(const PrimaryKey& key, const std::vector<Cell>& cells, int64_t write_time_ms,
             const RowConverter::Change& change);
  // Takes rows converted on another thread (a range of a parallel scan) from batch.rows[from]
  // on, as Add would; returns where it stopped: the row carried (carried()), or the end.
  Result<size_t> AddConverted(const ConvertedBatch& batch, size_t from = 0);
  // Encoding mode (RangeScan), a task of one partition: row groups a key range encoded go
  // whole into the partition's file, after the dirty rows before them. EndsFile comes first:
  // when the open file is whole without `block`, it closes that file and says so, and the
  // segment ends there (its rows are all in files).
  Result<bool> EndsFile(const RowGroupBlock& block);
  Status AddEncodedGroup(const RowGroupBlock& block);
  Status AddDirty(const ConvertedBatch::Dirty& d) {
    ++rows_;
    ++counts_.dirty_rows;
    return dirty_.Add(d.row, d.reason, d.write_ms);
  }
  // A delete the task does not deliver.
  void SkipDelete() { ++counts_.deletes_skipped; }

  // Whether the buffers have spent the memory budget (the caller flushes or spills).
  bool full() const { return full_; }
  // Whether the base scan should end its segment for the files completed since the batch
  // began: once none is open (a partition's file is whole, so a crash costs at most a file's
  // worth of rows), or once several are whole while others stream (ending the segment closes
  // the open ones early).
  bool segment_due() const {
    return files_done_ > 0 && (files_.open_count() == 0 || files_done_ >= 2 * kMaxStreaming);
  }
  // Base scans: a row that finds its partition's file whole, when closing that file ends the
  // segment (segment_due), is not taken; carried() then names its partition, and the runner
  // commits the segment and gives the row to the next one, which streams that partition from
  // the row on (StreamFrom). So a segment never ends with a lone row to spill.
  void set_carry(bool carry) { carry_ = carry; }
  const std::string& carried() const { return carried_; }
  // Rows of `partition` go straight into an open file from the next one on (while few stream).
  void StreamFrom(std::string partition) { stream_from_ = std::move(partition); }
  // Writes the largest buffers out as files until the buffers hold at most `bytes`.
  Status FlushLargest(int64_t bytes);
  // Writes the buffers as spill run `path` (large ones as encoded row groups) and empties them.
  Status Spill(const std::string& path);
  // Adds a row of `partition` that a spill run kept: into its file if it streams, else into
  // its buffer.
  Status AddGrouped(const std::string& partition, std::string_view encoded, size_t row_bytes);
  // Adds a row group of `partition` that a spill run kept: it goes into the partition's file
  // with the partition's buffered rows at Commit.
  void AddRowGroup(const std::string& partition, RowGroupBlock block);
  // Places a row group of `partition` that a spill run kept into its file.
  Status WriteRowGroup(const std::string& partition, const RowGroupBlock& block) {
    return files_.AppendRowGroup(partition, block.group, block.value_bytes);
  }
  // Writes rows of `partition` that a spill run kept (RunReader's records) into its file.
  // `large`: the partition holds enough rows to encode them on a second thread.
  Status WriteRow(const std::string& partition, std::string_view encoded, size_t row_bytes,
                  bool large = true);
  Status ClosePartition(const std::string& partition) { return files_.Close(partition); }
  // Publishes every buffered partition, every open file and the dirty rows.
  Status Commit();

  // Rows taken (delivered, buffered or dirty): what bounds a batch.
  int64_t rows() const { return rows_; }
  int64_t buffered_bytes() const { return buffers_.bytes() + row_group_bytes_; }
  // Grouped rows and open files' memory.
  int64_t memory_bytes() const { return buffered_bytes() + files_.memory_bytes(); }
  // What the batch delivered; files, bytes and rows once committed.
  const DeliveryRunStats& counts() const { return counts_; }
  const std::vector<PublishedFile>& published() const { return files_.published(); }

 private:
  // Places a clean row of partition `id` (partitions_): into its open file by
  // `write(appender)`, else into its buffer as `encoded()`.
  template <typename Write, typename Encoded>
  Status Place(uint32_t id, size_t row_bytes, const Write& write, const Encoded& encoded);
  // Writes a buffer's rows and gives its memory back; `keep_open`: its file stays open and the
  // partition's next rows stream into it.
  Status WriteBuffer(std::string partition, bool keep_open);
  // Writes the row groups AddRowGroup kept and the buffered rows of each of their partitions.
  Status WriteRowGroups();

  static constexpr size_t kMaxStreaming = 4;  // partitions streaming into open files at once
  const int64_t stream_bytes_;                // a buffer this large starts streaming

  const DeliveryTaskDescription& task_;
  const ResolvedTask& resolved_;
  PartitionFiles files_;
  DirtyRows dirty_;
  RowStager stager_;
  PartitionBuffers buffers_;
  DeliveryRunStats counts_;
  int64_t rows_ = 0;
  bool full_ = false;
  size_t files_done_ = 0;
  bool carry_ = false;
  std::string carried_;      // the partition of the row not taken, if any
  std::string stream_from_;  // a partition that streams from its first row
  std::string encoded_;      // the row being added
  PartitionNames partitions_;
  MemoryBudget* budget_;
  std::map<std::string, std::vector<RowGroupBlock>> row_groups_;  // AddRowGroup's
  int64_t row_group_bytes_ = 0;                                   // what they take of the budget
};

// Adds a batch's counts to a task's status and to a run's.
void AddCounts(const DeliveryRunStats& batch, DeliveryTaskStatus* status, DeliveryRunStats* run);

// Deletes the objects under the task's prefixes (data and dirty) whose file name `matches`:
// what a batch or attempt published before it is redone.
Status RemoveObjects(ObjectStore* bucket, const ResolvedTask& resolved,
                     const std::function<bool(const std::string& file_name)>& matches);

}  // namespace tablelake::delivery
