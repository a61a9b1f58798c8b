#include "delivery/task_state.h"

#include "delivery/partition_files.h"
#include "delivery/task_config.h"
#include "fmt/format.h"
#include "simdjson.h"

namespace tablelake::delivery {

using nlohmann::json;

std::string StateKey(const std::string& table, const std::string& name) {
  return "delivery/state/" + table + "/" + name;
}
std::string FilesPrefix(const std::string& table, const std::string& name) {
  return "delivery/files/" + table + "/" + name + "/";
}
std::string HoldName(const std::string& task) { return "delivery:" + task; }

namespace {

json RangesToJson(const std::vector<TaskState::ScanRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) {
    out.push_back({{"start", r.start},
                   {"end", r.end},
                   {"resume_key", r.resume_key},
                   {"resume_at", r.resume_at},
                   {"done", r.done}});
  }
  return out;
}

std::vector<TaskState::ScanRange> RangesFromJson(const json& j) {
  std::vector<TaskState::ScanRange> out;
  if (!j.is_array()) return out;
  for (const auto& r : j) {
    if (!r.is_object()) continue;
    out.push_back({r.value("start", json()), r.value("end", json()), r.value("resume_key", json()),
                   r.value("resume_at", false), r.value("done", false)});
  }
  return out;
}

}  // namespace

json StateToJson(const TaskState& t) {
  const DeliveryTaskStatus& s = t.status;
  return {{"version", t.version},
          {"phase", static_cast<int>(s.phase)},
          {"sync_ns", s.current_sync_timestamp_ns},
          {"error_code", s.error_code},
          {"error_detail", s.error_detail},
          {"rows", s.rows_delivered},
          {"dirty", s.dirty_rows},
          {"deletes_skipped", s.deletes_skipped},
          {"files", s.files_written},
          {"bytes", s.bytes_written},
          {"memory_peak", s.memory_peak_bytes},
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
          {"ranges", RangesToJson(t.ranges)},
          {"runs", t.runs},
          {"merging", t.merging},
          {"merged_through", t.merged_through}};
}

Result<TaskState> StateFromJson(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("a delivery task's state is not JSON");
  }
  TaskState t;
  t.version = j.value("version", 1);
  if (t.version > TaskState::kVersion) {
    return Status::Corruption(
        fmt::format("a delivery task's state has layout {}, newer than this Tablelake knows ({})",
                    t.version, TaskState::kVersion));
  }
  t.base_done = j.value("base_done", false);
  t.position = j.value("position", uint64_t{0});
  t.intent_from = j.value("intent_from", uint64_t{0});
  t.intent_to = j.value("intent_to", uint64_t{0});
  t.intent_open = j.value("intent_open", false);
  t.checkpoint = j.value("checkpoint", std::string());
  t.checkpoint_path = j.value("checkpoint_path", std::string());
  t.snapshot_ms = j.value("snapshot_ms", int64_t{0});
  t.segment = j.value("segment", int64_t{0});
  if (t.version >= 4) {
    t.ranges = RangesFromJson(j.value("ranges", json::array()));
  } else if (j.contains("resume_key")) {
    // Layouts 1-3 scanned the table as one range.
    t.ranges.push_back({json(), json(), j["resume_key"], j.value("resume_at", false), false});
  }
  t.runs = j.value("runs", int64_t{0});
  t.merging = j.value("merging", false);
  t.merged_through = j.value("merged_through", std::string());
  t.status.phase = static_cast<SyncPhase>(j.value("phase", 0));
  t.status.current_sync_timestamp_ns = j.value("sync_ns", int64_t{0});
  t.status.error_code = j.value("error_code", std::string());
  t.status.error_detail = j.value("error_detail", std::string());
  t.status.rows_delivered = j.value("rows", int64_t{0});
  t.status.dirty_rows = j.value("dirty", int64_t{0});
  t.status.deletes_skipped = j.value("deletes_skipped", int64_t{0});
  t.status.files_written = j.value("files", int64_t{0});
  t.status.bytes_written = j.value("bytes", int64_t{0});
  t.status.memory_peak_bytes = j.value("memory_peak", int64_t{0});
  t.status.finished = j.value("finished", false);
  t.attempt = j.value("attempt", int64_t{0});
  t.snapshot_seq = j.value("snapshot_seq", uint64_t{0});
  return t;
}

std::string FileEntryText(const FileEntry& f) {
  return fmt::format(R"({{"bytes":{},"key":{},"rows":{},"time_ms":{}}})", f.bytes,
                     json(f.key).dump(), f.rows, f.time_ms);
}

Result<FileEntry> ParseFileEntry(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get_object().get(obj)) {
    return Status::Corruption(fmt::format("file entry '{}' is not a JSON object", text));
  }
  FileEntry f;
  for (auto field : obj) {
    int64_t* number = field.key == "rows"      ? &f.rows
                      : field.key == "bytes"   ? &f.bytes
                      : field.key == "time_ms" ? &f.time_ms
                                               : nullptr;
    std::string_view key;
    if (number != nullptr) {
      if (field.value.get_int64().get(*number)) {
        return Status::Corruption(
            fmt::format("file entry '{}': '{}' is not an integer", text, field.key));
      }
    } else if (field.key == "key") {
      if (field.value.get_string().get(key)) {
        return Status::Corruption(fmt::format("file entry '{}': 'key' is not a string", text));
      }
      f.key = key;
    }
  }
  return f;
}

void ClearError(DeliveryTaskStatus* s) {
  s->error_code.clear();
  s->error_detail.clear();
}

Result<TaskState> LoadState(TableStore* store, const DeliveryTaskDescription& d) {
  TL_ASSIGN_OR_RETURN(auto raw, store->GetMetadata(StateKey(d.table, d.name)));
  if (!raw) return TaskState();
  return StateFromJson(*raw);
}

Status SaveState(TableStore* store, const DeliveryTaskDescription& d, const TaskState& s) {
  return store->PutMetadata(StateKey(d.table, d.name), StateToJson(s).dump());
}

Status CommitState(TableStore* store, const DeliveryTaskDescription& d, const TaskState& s,
                   const std::vector<PublishedFile>& files, int64_t now_ms) {
  std::vector<std::pair<std::string, std::string>> puts = {
      {StateKey(d.table, d.name), StateToJson(s).dump()}};
  for (const auto& f : files) {
    puts.emplace_back(FilesPrefix(d.table, d.name) + f.key,
                      FileEntryText({f.key, f.rows, f.bytes, now_ms}));
  }
  return store->WriteMetadata(puts, {});
}

Status RecordFailure(TableStore* store, const DeliveryTaskDescription& d, const Status& why) {
  TL_ASSIGN_OR_RETURN(TaskState durable, LoadState(store, d));
  durable.status.error_code = "DELIVERY_FAILED";
  durable.status.error_detail = why.message();
  return SaveState(store, d, durable);
}

}  // namespace tablelake::delivery
