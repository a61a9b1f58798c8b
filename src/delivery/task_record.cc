#include "delivery/task_record.h"

#include "delivery/task_config.h"
#include "fmt/format.h"

namespace tablelake::delivery {

using nlohmann::json;

std::string TaskKey(const std::string& table, const std::string& name) {
  return TaskPrefix(table) + name;
}
std::string TaskPrefix(const std::string& table) {
  return table.empty() ? "delivery/task/" : "delivery/task/" + table + "/";
}
json RecordToJson(const TaskRecord& r) {
  const DeliveryTaskDescription& d = r.description;
  return {{"table", d.table},
          {"name", d.name},
          {"type", static_cast<int>(d.type)},
          {"config", ConfigToJson(d.config)},
          {"create_time_us", d.create_time_us},
          {"table_id", r.table_id}};
}

Result<TaskRecord> RecordFromJson(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("config")) {
    return Status::Corruption("a delivery task record is not a task's JSON");
  }
  TaskRecord r;
  DeliveryTaskDescription& d = r.description;
  d.table = j.value("table", "");
  d.name = j.value("name", "");
  d.type = static_cast<DeliveryTaskType>(j.value("type", 2));
  d.create_time_us = j.value("create_time_us", int64_t{0});
  r.table_id = j.value("table_id", uint32_t{0});
  TL_ASSIGN_OR_RETURN(d.config, ConfigFromJson(j.at("config")));
  return r;
}

Result<bool> Bound(TableStore* store, const TaskRecord& record) {
  auto now = store->DescribeTable(record.description.table);
  if (!now.ok() && now.status().code() != StatusCode::kNotFound) return now.status();
  return now.ok() && (record.table_id == 0 || record.table_id == now->table_id);
}

Result<std::optional<TaskRecord>> FindRecord(TableStore* store, const std::string& table,
                                             const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto raw, store->GetMetadata(TaskKey(table, name)));
  if (!raw) return std::optional<TaskRecord>();
  TL_ASSIGN_OR_RETURN(TaskRecord record, RecordFromJson(*raw));
  TL_ASSIGN_OR_RETURN(bool bound, Bound(store, record));
  if (!bound) return std::optional<TaskRecord>();  // left by a table dropped without its tasks
  return std::optional<TaskRecord>(std::move(record));
}

Result<TaskRecord> LoadRecord(TableStore* store, const std::string& table,
                              const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto record, FindRecord(store, table, name));
  if (!record) {
    return Status::NotFound(fmt::format("table '{}' has no delivery task '{}'", table, name));
  }
  return std::move(*record);
}

}  // namespace tablelake::delivery
