// Delivery tasks: their persistence in the table store and the BaseTask run.
//
// Commit protocol of a BaseTask (docs/delivery.md): each run is an attempt with a number kept in
// the task's state. An attempt takes a snapshot, writes every partition's files under names
// holding the attempt (published atomically one by one), then the manifest and _SUCCESS, and only
// then records the task as finished. A crash before that leaves the state unfinished: the next
// run first deletes every object an earlier attempt of the task published, then starts over, so
// the bucket ends up holding each row of one snapshot exactly once.
#include <mutex>

#include "common/progress.h"
#include "delivery/event_time.h"
#include "delivery/partition_files.h"
#include "delivery/row_converter.h"
#include "delivery/task_config.h"
#include "fmt/format.h"
#include "objectstore/object_store.h"
#include "store/row_json.h"
#include "tablelake/delivery.h"

namespace tablelake {
namespace {

using delivery::ResolvedTask;
using nlohmann::json;

constexpr size_t kMaxTasksPerTable = 10;
constexpr size_t kDirtyFileBytes = 8 << 20;

std::string TaskKey(const std::string& table, const std::string& name) {
  return "delivery/task/" + table + "/" + name;
}
std::string StateKey(const std::string& table, const std::string& name) {
  return "delivery/state/" + table + "/" + name;
}

json StatusToJson(const DeliveryTaskStatus& s, int64_t attempt, uint64_t snapshot_seq) {
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
          {"attempt", attempt},
          {"snapshot_seq", snapshot_seq}};
}

struct TaskState {
  DeliveryTaskStatus status;
  int64_t attempt = 0;
  uint64_t snapshot_seq = 0;
};

TaskState StateFromJson(const json& j) {
  TaskState t;
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

// Dirty rows as JSON lines, {"row": ..., "reason": ...}, published in parts.
class DirtyRows {
 public:
  DirtyRows(ObjectStore* bucket, std::string prefix, std::string stem)
      : bucket_(bucket), prefix_(std::move(prefix)), stem_(std::move(stem)) {}
  Status Add(const Row& row, const std::string& reason) {
    if (!enabled()) return Status::OK();
    nlohmann::ordered_json line = {{"row", store::RowToJson(row)}, {"reason", reason}};
    buffer_ += line.dump() + "\n";
    return buffer_.size() >= kDirtyFileBytes ? Flush() : Status::OK();
  }
  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    std::string key =
        delivery::JoinKey(prefix_, fmt::format("{}-dirty-{:05d}.jsonl", stem_, part_++));
    TL_RETURN_IF_ERROR(bucket_->PutObject(key, buffer_).WithContext(bucket_->Url(key)));
    buffer_.clear();
    return Status::OK();
  }
  bool enabled() const { return !prefix_.empty(); }

 private:
  ObjectStore* bucket_;
  std::string prefix_;
  std::string stem_;
  std::string buffer_;
  int part_ = 0;
};

class DeliveryServiceImpl : public DeliveryService {
 public:
  DeliveryServiceImpl(TableStore* store, FILE* progress) : store_(store), progress_(progress) {}

  Status CreateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config, DeliveryTaskType type) override;
  Status UpdateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config) override;
  Result<DeliveryTaskDescription> DescribeDeliveryTask(const std::string& table,
                                                       const std::string& name) override;
  Result<std::vector<DeliveryTaskInfo>> ListDeliveryTask(const std::string& table) override;
  Status DeleteDeliveryTask(const std::string& table, const std::string& name) override;
  Status RunTask(const std::string& table, const std::string& name) override;

 private:
  Status SaveState(const DeliveryTaskDescription& d, const TaskState& s);
  Status RunBase(DeliveryTaskDescription& task, TaskState& state);
  Status DeliverSnapshot(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
                         ObjectStore* bucket, TaskState& state);
  Status RemoveAttempts(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
                        ObjectStore* bucket);
  std::string Stem(const DeliveryTaskDescription& t, int64_t attempt) const {
    return fmt::format("{}-{}-base{}", t.table, t.name, attempt);
  }

  TableStore* store_;
  FILE* progress_;
  std::mutex ddl_mu_;
};

Status DeliveryServiceImpl::CreateDeliveryTask(const std::string& table, const std::string& name,
                                               const DeliveryTaskConfig& config,
                                               DeliveryTaskType type) {
  TL_RETURN_IF_ERROR(delivery::ValidateTaskName(name));
  TL_ASSIGN_OR_RETURN(TableDescription d, store_->DescribeTable(table));
  TL_RETURN_IF_ERROR(
      delivery::ResolveTask(config, d.meta).status().WithContext(fmt::format("task '{}'", name)));
  std::lock_guard lock(ddl_mu_);
  TL_ASSIGN_OR_RETURN(auto existing, store_->GetMetadata(TaskKey(table, name)));
  if (existing) {
    return Status::AlreadyExists(fmt::format("table '{}' already has a task '{}'", table, name));
  }
  TL_ASSIGN_OR_RETURN(auto tasks, store_->ListMetadata("delivery/task/" + table + "/"));
  if (tasks.size() >= kMaxTasksPerTable) {
    return Status(StatusCode::kQuotaExhausted,
                  fmt::format("table '{}' already has the maximum of {} delivery tasks", table,
                              kMaxTasksPerTable));
  }
  json record = {{"table", table},
                 {"name", name},
                 {"type", static_cast<int>(type)},
                 {"config", delivery::ConfigToJson(config)},
                 {"create_time_us", Clock::System()->NowMicros()}};
  TL_RETURN_IF_ERROR(store_->PutMetadata(StateKey(table, name), StatusToJson({}, 0, 0).dump()));
  return store_->PutMetadata(TaskKey(table, name), record.dump());
}

Result<DeliveryTaskDescription> DeliveryServiceImpl::DescribeDeliveryTask(const std::string& table,
                                                                          const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto record, store_->GetMetadata(TaskKey(table, name)));
  if (!record) {
    return Status::NotFound(fmt::format("table '{}' has no delivery task '{}'", table, name));
  }
  auto j = json::parse(*record, nullptr, false);
  if (j.is_discarded())
    return Status::Corruption(fmt::format("task '{}': record is not JSON", name));
  DeliveryTaskDescription d;
  d.table = table;
  d.name = name;
  d.type = static_cast<DeliveryTaskType>(j.value("type", 2));
  d.create_time_us = j.value("create_time_us", int64_t{0});
  TL_ASSIGN_OR_RETURN(d.config, delivery::ConfigFromJson(j.at("config")));
  TL_ASSIGN_OR_RETURN(auto state, store_->GetMetadata(StateKey(table, name)));
  if (state) d.status = StateFromJson(json::parse(*state)).status;
  return d;
}

Status DeliveryServiceImpl::UpdateDeliveryTask(const std::string& table, const std::string& name,
                                               const DeliveryTaskConfig& config) {
  TL_ASSIGN_OR_RETURN(DeliveryTaskDescription task, DescribeDeliveryTask(table, name));
  TL_ASSIGN_OR_RETURN(TableDescription d, store_->DescribeTable(table));
  TL_RETURN_IF_ERROR(
      delivery::ResolveTask(config, d.meta).status().WithContext(fmt::format("task '{}'", name)));
  std::lock_guard lock(ddl_mu_);
  json record = {{"table", table},
                 {"name", name},
                 {"type", static_cast<int>(task.type)},
                 {"config", delivery::ConfigToJson(config)},
                 {"create_time_us", task.create_time_us}};
  return store_->PutMetadata(TaskKey(table, name), record.dump());
}

Result<std::vector<DeliveryTaskInfo>> DeliveryServiceImpl::ListDeliveryTask(
    const std::string& table) {
  if (!table.empty()) TL_RETURN_IF_ERROR(store_->DescribeTable(table).status());
  TL_ASSIGN_OR_RETURN(
      auto records,
      store_->ListMetadata(table.empty() ? "delivery/task/" : "delivery/task/" + table + "/"));
  std::vector<DeliveryTaskInfo> out;
  for (const auto& [key, value] : records) {
    auto j = json::parse(value, nullptr, false);
    if (j.is_discarded()) return Status::Corruption(fmt::format("delivery task record '{}'", key));
    out.push_back({j.value("table", ""), j.value("name", ""),
                   static_cast<DeliveryTaskType>(j.value("type", 2))});
  }
  return out;
}

Status DeliveryServiceImpl::DeleteDeliveryTask(const std::string& table, const std::string& name) {
  std::lock_guard lock(ddl_mu_);
  TL_ASSIGN_OR_RETURN(auto record, store_->GetMetadata(TaskKey(table, name)));
  if (!record) {
    return Status::NotFound(fmt::format("table '{}' has no delivery task '{}'", table, name));
  }
  TL_RETURN_IF_ERROR(store_->DeleteMetadata(StateKey(table, name)));
  return store_->DeleteMetadata(TaskKey(table, name));
}

Status DeliveryServiceImpl::SaveState(const DeliveryTaskDescription& d, const TaskState& s) {
  return store_->PutMetadata(StateKey(d.table, d.name),
                             StatusToJson(s.status, s.attempt, s.snapshot_seq).dump());
}

Status DeliveryServiceImpl::RunTask(const std::string& table, const std::string& name) {
  TL_ASSIGN_OR_RETURN(DeliveryTaskDescription task, DescribeDeliveryTask(table, name));
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(StateKey(table, name)));
  TaskState state = raw ? StateFromJson(json::parse(*raw)) : TaskState();
  if (task.type != DeliveryTaskType::kBase) {
    return Status::NotSupported(
        fmt::format("task '{}' is an {}: incremental delivery is not implemented yet", name,
                    DeliveryTaskTypeName(task.type)));
  }
  return RunBase(task, state);
}

Status DeliveryServiceImpl::RunBase(DeliveryTaskDescription& task, TaskState& state) {
  if (state.status.finished) return Status::OK();
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(task.table));
  TL_ASSIGN_OR_RETURN(ResolvedTask resolved, delivery::ResolveTask(task.config, table.meta));
  auto bucket = OpenObjectStore(task.config.oss_endpoint, task.config.oss_bucket);
  if (!bucket.ok()) {
    // Not a request error: the task reports it in its status, as the cloud service does.
    state.status.error_code =
        bucket.status().code() == StatusCode::kNotFound ? "INVALID_OSS_BUCKET" : "UNAUTHORIZED";
    state.status.error_detail = bucket.status().message();
    TL_RETURN_IF_ERROR(SaveState(task, state));
    return bucket.status().WithContext(fmt::format("task '{}'", task.name));
  }
  if (state.attempt > 0) TL_RETURN_IF_ERROR(RemoveAttempts(task, resolved, bucket->get()));
  ++state.attempt;
  state.status = DeliveryTaskStatus();
  state.status.phase = SyncPhase::kFull;
  TL_RETURN_IF_ERROR(SaveState(task, state));
  Status s = DeliverSnapshot(task, resolved, bucket->get(), state);
  if (!s.ok()) {
    state.status.error_code = "DELIVERY_FAILED";
    state.status.error_detail = s.message();
    (void)SaveState(task, state);
    return s.WithContext(fmt::format("task '{}'", task.name));
  }
  return Status::OK();
}

Status DeliveryServiceImpl::RemoveAttempts(const DeliveryTaskDescription& task,
                                           const ResolvedTask& resolved, ObjectStore* bucket) {
  std::string mark = fmt::format("{}-{}-base", task.table, task.name);
  for (const std::string& prefix :
       {resolved.prefix.StaticPrefix(), resolved.dirty_prefix.StaticPrefix()}) {
    TL_ASSIGN_OR_RETURN(auto objects, bucket->List(prefix));
    for (const auto& o : objects) {
      std::string file =
          o.key.substr(o.key.rfind('/') == std::string::npos ? 0 : o.key.rfind('/') + 1);
      if (file.rfind(mark, 0) == 0) TL_RETURN_IF_ERROR(bucket->DeleteObject(o.key));
    }
  }
  return Status::OK();
}

Status DeliveryServiceImpl::DeliverSnapshot(const DeliveryTaskDescription& task,
                                            const ResolvedTask& resolved, ObjectStore* bucket,
                                            TaskState& state) {
  TL_ASSIGN_OR_RETURN(auto snapshot, store_->GetSnapshot());
  int64_t snapshot_ms = Clock::System()->NowMillis();
  state.snapshot_seq = snapshot->sequence();
  std::string stem = Stem(task, state.attempt);
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"tablelake.source_table", task.table},
      {"tablelake.task", task.name},
      {"tablelake.snapshot_sequence", std::to_string(state.snapshot_seq)}};
  delivery::PartitionFiles files(bucket, resolved, stem, task.config.file_bytes, metadata);
  DirtyRows dirty(bucket,
                  task.config.oss_dirty_prefix.empty()
                      ? ""
                      : resolved.dirty_prefix.Expand(snapshot_ms, resolved.zone),
                  stem);
  delivery::RowConverter converter(resolved);
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(task.table));
  PrimaryKey min, max;
  for (const auto& k : table.meta.primary_key) {
    min.push_back({k.name, Value::InfMin()});
    max.push_back({k.name, Value::InfMax()});
  }
  ReadOptions ro;
  ro.snapshot = snapshot.get();
  TL_ASSIGN_OR_RETURN(auto it, store_->NewRowIterator(task.table, min, max, ro));
  std::unique_ptr<Progress> progress;
  if (progress_) progress = std::make_unique<Progress>("deliver " + task.name, 0, progress_);
  const std::string& event_column = task.config.event_time_column;
  for (; it->Valid(); it->Next()) {
    const Row& row = it->row();
    // The partition's time: the event time column, or the row's write time (its newest cell).
    int64_t time_ms = snapshot_ms;
    std::string reason;
    if (!event_column.empty()) {
      const Value* v = nullptr;
      for (const auto& k : row.primary_key) {
        if (k.name == event_column) v = &k.value;
      }
      if (const Cell* c = row.Latest(event_column); c != nullptr) v = &c->value;
      if (v == nullptr) {
        reason = fmt::format("event time column '{}' is missing", event_column);
      } else if (auto t = delivery::ParseEventTime(*v, task.config.event_time_format); t.ok()) {
        time_ms = *t;
      } else {
        reason = t.status().message();
      }
    } else if (!row.cells.empty()) {
      time_ms = 0;
      for (const auto& c : row.cells) time_ms = std::max(time_ms, c.timestamp);
    }
    if (reason.empty()) {
      std::string partition = resolved.prefix.Expand(time_ms, resolved.zone);
      TL_ASSIGN_OR_RETURN(parquet::RowAppender * out, files.For(partition));
      Status s = converter.Append(row.primary_key, row.cells, out);
      if (s.ok()) {
        ++state.status.rows_delivered;
        TL_RETURN_IF_ERROR(files.RowAdded(partition));
      } else if (s.code() == StatusCode::kInvalidArgument) {
        reason = s.message();
      } else {
        return s;
      }
    }
    if (!reason.empty()) {
      ++state.status.dirty_rows;
      TL_RETURN_IF_ERROR(dirty.Add(row, reason));
    }
    if (progress) progress->Update(0, state.status.rows_delivered + state.status.dirty_rows);
  }
  TL_RETURN_IF_ERROR(it->status());
  TL_RETURN_IF_ERROR(files.CloseAll());
  TL_RETURN_IF_ERROR(dirty.Flush());
  // The manifest and _SUCCESS go last: their presence says every file above is complete.
  json manifest_files = json::array();
  for (const auto& f : files.published()) {
    manifest_files.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}});
    ++state.status.files_written;
    state.status.bytes_written += f.bytes;
  }
  json manifest = {{"table", task.table},
                   {"task", task.name},
                   {"type", DeliveryTaskTypeName(task.type)},
                   {"attempt", state.attempt},
                   {"snapshot_sequence", state.snapshot_seq},
                   {"snapshot_time_ms", snapshot_ms},
                   {"rows", state.status.rows_delivered},
                   {"dirty_rows", state.status.dirty_rows},
                   {"files", manifest_files}};
  std::string base = resolved.prefix.StaticPrefix();
  TL_RETURN_IF_ERROR(bucket->PutObject(
      delivery::JoinKey(base, fmt::format("{}.manifest.json", stem)), manifest.dump(2) + "\n"));
  TL_RETURN_IF_ERROR(bucket->PutObject(delivery::JoinKey(base, "_SUCCESS"), ""));
  if (progress) progress->Finish(state.status.rows_delivered, "rows");
  // A finished BaseTask reports phase INCR, as the cloud service does (isFinished).
  state.status.finished = true;
  state.status.phase = SyncPhase::kIncr;
  state.status.current_sync_timestamp_ns = snapshot_ms * 1000000;
  return SaveState(task, state);
}

}  // namespace

Result<std::unique_ptr<DeliveryService>> DeliveryService::Open(TableStore* store, FILE* progress) {
  if (store == nullptr) return Status::InvalidArgument("delivery needs a table store");
  return std::unique_ptr<DeliveryService>(std::make_unique<DeliveryServiceImpl>(store, progress));
}

}  // namespace tablelake
