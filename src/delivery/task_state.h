// How a delivery task is kept in the table store's metadata: its record (what the user
// created), its state (where it stands: the checkpoint the runners commit), and the files it
// published. docs/delivery.md describes the commit protocol these serve.
#pragma once

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "tablelake/delivery.h"

namespace tablelake::delivery {

// Metadata keys. A task is named by (table, task name); its record also holds the table's id,
// so that a task never attaches to another table created later under the same name.
std::string TaskKey(const std::string& table, const std::string& name);
std::string TaskPrefix(const std::string& table);  // "" table: every task
std::string StateKey(const std::string& table, const std::string& name);
// One entry per published object, keyed by the object's key (a redo rewrites the same entry).
std::string FilesPrefix(const std::string& table, const std::string& name);
// The change-log hold of an incremental task.
std::string HoldName(const std::string& task);

struct TaskRecord {
  DeliveryTaskDescription description;  // without status
  uint32_t table_id = 0;                // 0: a record older than table ids (binds by name)
};
nlohmann::json RecordToJson(const TaskRecord& r);
Result<TaskRecord> RecordFromJson(const std::string& text);

// A task's checkpoint: its status, the base attempt, and for the incremental phase the next
// change record to deliver plus the batch being published, if any. Counters in `status` change
// only with a commit, so they always equal what the bucket holds.
struct TaskState {
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
  // The base scan: its durable snapshot, the next segment and the key it starts after.
  std::string checkpoint, checkpoint_path;
  int64_t snapshot_ms = 0;
  int64_t segment = 0;
  nlohmann::json resume_key;  // null: from the first row
  nlohmann::json base_files = nlohmann::json::array();
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
nlohmann::json FileEntryToJson(const FileEntry& f);
FileEntry FileEntryFromJson(const nlohmann::json& j);

}  // namespace tablelake::delivery
