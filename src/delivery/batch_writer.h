// The rows of one delivery batch (a segment of the snapshot, or a range of change records) on
// their way into partition files and dirty-row files, all named after the batch's stem:
//   <partition>/<stem>-<index>.parquet and <dirty prefix>/<stem>-dirty-<part>.jsonl
// The batch counts what it delivered; the runner adds the counts to the task's status when it
// commits the batch, so that the status never counts rows the bucket does not hold.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "delivery/dirty_rows.h"
#include "delivery/partition_files.h"
#include "delivery/row_converter.h"
#include "delivery/task_config.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"

namespace tablelake::delivery {

class BatchWriter {
 public:
  BatchWriter(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
              ObjectStore* bucket, std::string stem,
              std::vector<std::pair<std::string, std::string>> metadata);

  // Delivers one row image; `write_time_ms` partitions it unless the task has an event time.
  Status Add(const PrimaryKey& key, const std::vector<Cell>& cells, int64_t write_time_ms,
             const RowConverter::Change& change);
  // A delete the task does not deliver.
  void SkipDelete() { ++counts_.deletes_skipped; }

  // Publishes every open file and the dirty rows.
  Status Commit();

  // Rows seen (delivered or dirty): what bounds a batch.
  int64_t rows() const { return counts_.rows_delivered + counts_.dirty_rows; }
  // What the batch delivered; files and bytes once committed.
  const DeliveryRunStats& counts() const { return counts_; }
  const std::vector<PublishedFile>& published() const { return files_.published(); }

 private:
  const std::string& Partition(int64_t time_ms);
  DirtyReason EventTime(const PrimaryKey& key, const std::vector<Cell>& cells, int64_t* time_ms);

  const DeliveryTaskDescription& task_;
  const ResolvedTask& resolved_;
  PartitionFiles files_;
  DirtyRows dirty_;
  RowConverter converter_;
  DeliveryRunStats counts_;
  std::string partition_;
  int64_t partition_minute_ = 0;
  bool has_partition_ = false;
};

// Adds a batch's counts to a task's status and to a run's.
void AddCounts(const DeliveryRunStats& batch, DeliveryTaskStatus* status, DeliveryRunStats* run);

// Deletes the objects under the task's prefixes (data and dirty) whose file name `matches`:
// what a batch or attempt published before it is redone.
Status RemoveObjects(ObjectStore* bucket, const ResolvedTask& resolved,
                     const std::function<bool(const std::string& file_name)>& matches);

}  // namespace tablelake::delivery
