// How a delivery task's progress is kept in the table store's metadata: its state (where it
// stands: the checkpoint the runners commit) and the files it published. docs/delivery.md
// describes the commit protocol these serve. (Its record, what the user created: task_record.h.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tablelake/delivery.h"
#include "tablelake/table_store.h"

namespace tablelake::delivery {

std::string StateKey(const std::string& table, const std::string& name);
// One entry per published object, keyed by the object's key (a redo rewrites the same entry).
std::string FilesPrefix(const std::string& table, const std::string& name);
// The change-log hold of an incremental task.
std::string HoldName(const std::string& task);

// A task's checkpoint: its status, the base attempt, and for the incremental phase the next
// change record to deliver plus the batch being published, if any. Counters in `status` change
// only with a commit, so they always equal what the bucket holds.
struct TaskState {
  // The layout of the saved state. 1: the first (no field); 2: with this field, spill runs
  // and no list of base files (the file entries hold them); 3: resume_at (an older binary
  // would skip the row it names); 4: the scan's key ranges, each with its own position.
  static constexpr int kVersion = 4;
  int version = kVersion;
  DeliveryTaskStatus status;
  int64_t attempt = 0;
  uint64_t snapshot_seq = 0;
  bool base_done = false;
  uint64_t position = 0;
  // An incremental batch in flight: from intent_from, published up to intent_to (exclusive)
  // once that is known; intent_open says a batch started from intent_from and its end is not
  // known yet. Either way, its objects may be in the bucket.
  uint64_t intent_from = 0, intent_to = 0;
  bool intent_open = false;
  // The base scan: its durable snapshot, the next segment, and the key ranges it scans in
  // parallel (fixed for the attempt), each with where it stands.
  std::string checkpoint, checkpoint_path;
  int64_t snapshot_ms = 0;
  int64_t segment = 0;
  struct ScanRange {
    // Primary keys as row JSON (store/row_json.h); null: the table's first row / past its last.
    nlohmann::json start, end;
    nlohmann::json resume_key;  // the last row delivered; null: nothing yet, from `start`
    bool resume_at = false;     // the range resumes at resume_key, not after it
    bool done = false;
  };
  // Empty until the attempt's snapshot is split: one range over the whole table.
  std::vector<ScanRange> ranges;
  // Spill runs written (run-000000 ... in the attempt's spill folder); once the scan is over,
  // `merging` and the last partition the merge committed.
  int64_t runs = 0;
  bool merging = false;
  std::string merged_through;
};
nlohmann::json StateToJson(const TaskState& t);
Result<TaskState> StateFromJson(const std::string& text);

// A published object as `delivery files` lists it.
struct FileEntry {
  std::string key;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t time_ms = 0;
};
// An entry as JSON text: {"bytes":..,"key":..,"rows":..,"time_ms":..}, the text earlier versions
// wrote with nlohmann's dump, written and read without building a JSON document (a
// many-partition delivery stores and reads back an entry per file). A member missing reads as 0.
std::string FileEntryText(const FileEntry& f);
Result<FileEntry> ParseFileEntry(std::string_view text);

// Clears the status's error: the task moves again.
void ClearError(DeliveryTaskStatus* s);

struct PublishedFile;  // partition_files.h

Result<TaskState> LoadState(TableStore* store, const DeliveryTaskDescription& d);
Status SaveState(TableStore* store, const DeliveryTaskDescription& d, const TaskState& s);
// Saves the state with entries for the files a batch published, in one atomic write.
Status CommitState(TableStore* store, const DeliveryTaskDescription& d, const TaskState& s,
                   const std::vector<PublishedFile>& files, int64_t now_ms);
// Saves a failed run's error on the state as it was saved last: the status keeps the counts of
// the last commit, never counts of work the bucket does not hold.
Status RecordFailure(TableStore* store, const DeliveryTaskDescription& d, const Status& why);

}  // namespace tablelake::delivery
