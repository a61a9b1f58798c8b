// A delivery task's record in the table store's metadata: what the user created. A task is
// named by (table, task name); its record also holds the table's id, so that a task never
// attaches to another table created later under the same name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "tablelake/delivery.h"
#include "tablelake/table_store.h"

namespace tablelake::delivery {

std::string TaskKey(const std::string& table, const std::string& name);
std::string TaskPrefix(const std::string& table);  // "" table: every task

struct TaskRecord {
  DeliveryTaskDescription description;  // without status
  uint32_t table_id = 0;                // 0: a record older than table ids (binds by name)
};
nlohmann::json RecordToJson(const TaskRecord& r);
Result<TaskRecord> RecordFromJson(const std::string& text);

// Whether the record's table still is the one the task was created on.
Result<bool> Bound(TableStore* store, const TaskRecord& record);
// The task's record, if it exists and is bound to the table now under its name.
Result<std::optional<TaskRecord>> FindRecord(TableStore* store, const std::string& table,
                                             const std::string& name);
// The same, NotFound when there is none.
Result<TaskRecord> LoadRecord(TableStore* store, const std::string& table, const std::string& name);

}  // namespace tablelake::delivery
