#include "delivery/task_state.h"

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
std::string StateKey(const std::string& table, const std::string& name) {
  return "delivery/state/" + table + "/" + name;
}
std::string FilesPrefix(const std::string& table, const std::string& name) {
  return "delivery/files/" + table + "/" + name + "/";
}
std::string HoldName(const std::string& task) { return "delivery:" + task; }

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

json StateToJson(const TaskState& t) {
  const DeliveryTaskStatus& s = t.status;
  return {{"phase", static_cast<int>(s.phase)},
          {"sync_ns", s.current_sync_timestamp_ns},
          {"error_code", s.error_code},
          {"error_detail", s.error_detail},
          {"rows", s.rows_delivered},
          {"dirty", s.dirty_rows},
          {"deletes_skipped", s.deletes_skipped},
          {"files", s.files_written},
          {"bytes", s.bytes_written},
          {"finished", s.finished},
          {"attempt", t.attempt},
          {"snapshot_seq", t.snapshot_seq},
          {"base_done", t.base_done},
          {"position", t.position},
          {"intent_from", t.intent_from},
          {"intent_to", t.intent_to},
          {"intent_open", t.intent_open},
          {"checkpoint", t.checkpoint},
          {"checkpoint_path", t.checkpoint_path},
          {"snapshot_ms", t.snapshot_ms},
          {"segment", t.segment},
          {"resume_key", t.resume_key},
          {"base_files", t.base_files}};
}

Result<TaskState> StateFromJson(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("a delivery task's state is not JSON");
  }
  TaskState t;
  t.base_done = j.value("base_done", false);
  t.position = j.value("position", uint64_t{0});
  t.intent_from = j.value("intent_from", uint64_t{0});
  t.intent_to = j.value("intent_to", uint64_t{0});
  t.intent_open = j.value("intent_open", false);
  t.checkpoint = j.value("checkpoint", std::string());
  t.checkpoint_path = j.value("checkpoint_path", std::string());
  t.snapshot_ms = j.value("snapshot_ms", int64_t{0});
  t.segment = j.value("segment", int64_t{0});
  t.resume_key = j.value("resume_key", json());
  t.base_files = j.value("base_files", json::array());
  t.status.phase = static_cast<SyncPhase>(j.value("phase", 0));
  t.status.current_sync_timestamp_ns = j.value("sync_ns", int64_t{0});
  t.status.error_code = j.value("error_code", std::string());
  t.status.error_detail = j.value("error_detail", std::string());
  t.status.rows_delivered = j.value("rows", int64_t{0});
  t.status.dirty_rows = j.value("dirty", int64_t{0});
  t.status.deletes_skipped = j.value("deletes_skipped", int64_t{0});
  t.status.files_written = j.value("files", int64_t{0});
  t.status.bytes_written = j.value("bytes", int64_t{0});
  t.status.finished = j.value("finished", false);
  t.attempt = j.value("attempt", int64_t{0});
  t.snapshot_seq = j.value("snapshot_seq", uint64_t{0});
  return t;
}

json FileEntryToJson(const FileEntry& f) {
  return {{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}, {"time_ms", f.time_ms}};
}

FileEntry FileEntryFromJson(const json& j) {
  return {j.value("key", ""), j.value("rows", int64_t{0}), j.value("bytes", int64_t{0}),
          j.value("time_ms", int64_t{0})};
}

}  // namespace tablelake::delivery
