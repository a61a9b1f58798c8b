// Delivery tasks: their persistence in the table store and the BaseTask run.
//
// Commit protocol of a BaseTask (docs/delivery.md): each run is an attempt with a number kept in
// the task's state. An attempt takes a snapshot, writes every partition's files under names
// holding the attempt (published atomically one by one), then the manifest and _SUCCESS, and only
// then records the task as finished. A crash before that leaves the state unfinished: the next
// run first deletes every object an earlier attempt of the task published, then starts over, so
// the bucket ends up holding each row of one snapshot exactly once.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/progress.h"
#include "delivery/credentials.h"
#include "delivery/event_time.h"
#include "delivery/partition_files.h"
#include "delivery/row_converter.h"
#include "delivery/row_prefetcher.h"
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
std::string HoldName(const std::string& task) { return "delivery:" + task; }

std::vector<std::pair<std::string, std::string>> Metadata(const DeliveryTaskDescription& task,
                                                          uint64_t sequence) {
  return {{"tablelake.source_table", task.table},
          {"tablelake.task", task.name},
          {"tablelake.sequence", std::to_string(sequence)}};
}

// A task's checkpoint: its status, the base attempt, and for the incremental phase the next
// change record to deliver plus the batch being published, if any (see RunIncremental).
struct TaskState {
  DeliveryTaskStatus status;
  int64_t attempt = 0;
  uint64_t snapshot_seq = 0;
  bool base_done = false;
  uint64_t position = 0;
  uint64_t intent_from = 0, intent_to = 0;  // intent_to > 0: batch [from, to) is committing
  // The base scan: its durable snapshot, the next segment and the key it starts after.
  std::string checkpoint, checkpoint_path;
  int64_t snapshot_ms = 0;
  int64_t segment = 0;
  json resume_key;  // null: from the first row
  json base_files = json::array();
};

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
          {"checkpoint", t.checkpoint},
          {"checkpoint_path", t.checkpoint_path},
          {"snapshot_ms", t.snapshot_ms},
          {"segment", t.segment},
          {"resume_key", t.resume_key},
          {"base_files", t.base_files}};
}

TaskState StateFromJson(const json& j) {
  TaskState t;
  t.base_done = j.value("base_done", false);
  t.position = j.value("position", uint64_t{0});
  t.intent_from = j.value("intent_from", uint64_t{0});
  t.intent_to = j.value("intent_to", uint64_t{0});
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

// Dirty rows as JSON lines, {"row": ..., "reason": ...}, published in parts. The prefix's time
// variables take the first dirty row's time, so that a batch done again writes the same keys.
class DirtyRows {
 public:
  DirtyRows(ObjectStore* bucket, const ResolvedTask& resolved, bool enabled, std::string stem)
      : bucket_(bucket), resolved_(resolved), enabled_(enabled), stem_(std::move(stem)) {}
  Status Add(const Row& row, const std::string& reason, int64_t time_ms) {
    if (!enabled_) return Status::OK();
    if (part_ == 0 && buffer_.empty())
      prefix_ = resolved_.dirty_prefix.Expand(time_ms, resolved_.zone);
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

 private:
  ObjectStore* bucket_;
  const ResolvedTask& resolved_;
  bool enabled_;
  std::string stem_;
  std::string prefix_;
  std::string buffer_;
  int part_ = 0;
};

// The rows of one delivery batch (a snapshot, or a range of change records) on their way into
// partition files and dirty-row files, all named after the batch's stem.
class BatchWriter {
 public:
  BatchWriter(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
              ObjectStore* bucket, std::string stem,
              std::vector<std::pair<std::string, std::string>> metadata, DeliveryTaskStatus* status)
      : task_(task),
        resolved_(resolved),
        files_(bucket, resolved, stem, task.config.file_bytes, std::move(metadata)),
        dirty_(bucket, resolved, !task.config.oss_dirty_prefix.empty(), stem),
        converter_(resolved),
        status_(status) {}

  // Delivers one row image; `write_time_ms` partitions it unless the task has an event time.
  Status Add(const PrimaryKey& key, const std::vector<Cell>& cells, int64_t write_time_ms,
             const delivery::RowConverter::Change& change) {
    ++rows_;
    int64_t time_ms = write_time_ms;
    std::string reason = EventTime(key, cells, &time_ms);
    if (reason.empty()) {
      const std::string& partition = Partition(time_ms);
      TL_ASSIGN_OR_RETURN(parquet::RowAppender * out, files_.For(partition));
      Status s = converter_.Append(key, cells, change, out);
      if (s.ok()) {
        ++status_->rows_delivered;
        return files_.RowAdded(partition);
      }
      if (s.code() != StatusCode::kInvalidArgument) return s;
      reason = s.message();
    }
    ++status_->dirty_rows;
    return dirty_.Add(Row{key, cells}, reason, write_time_ms);
  }

  // Publishes every open file and the dirty rows.
  Status Commit() {
    TL_RETURN_IF_ERROR(files_.CloseAll());
    TL_RETURN_IF_ERROR(dirty_.Flush());
    for (size_t i = counted_; i < files_.published().size(); ++i) {
      ++status_->files_written;
      status_->bytes_written += files_.published()[i].bytes;
    }
    counted_ = files_.published().size();
    return Status::OK();
  }

  const std::vector<delivery::PublishedFile>& published() const { return files_.published(); }
  int64_t rows() const { return rows_; }

 private:
  // The expanded prefix for a time; rows of the same minute share it, so it is formatted once.
  const std::string& Partition(int64_t time_ms) {
    int64_t minute = time_ms >= 0 ? time_ms / 60000 : (time_ms - 59999) / 60000;
    if (!has_partition_ || minute != partition_minute_) {
      partition_ = resolved_.prefix.Expand(time_ms, resolved_.zone);
      partition_minute_ = minute;
      has_partition_ = true;
    }
    return partition_;
  }

  // Sets the partition time from the event time column; returns why the row is dirty if not.
  std::string EventTime(const PrimaryKey& key, const std::vector<Cell>& cells, int64_t* time_ms) {
    const std::string& column = task_.config.event_time_column;
    if (column.empty()) return "";
    const Value* v = nullptr;
    for (const auto& k : key) {
      if (k.name == column) v = &k.value;
    }
    for (const auto& c : cells) {
      if (c.name == column) v = &c.value;
    }
    if (v == nullptr) return fmt::format("event time column '{}' is missing", column);
    auto t = delivery::ParseEventTime(*v, task_.config.event_time_format);
    if (!t.ok()) return t.status().message();
    *time_ms = *t;
    return "";
  }

  const DeliveryTaskDescription& task_;
  const ResolvedTask& resolved_;
  delivery::PartitionFiles files_;
  DirtyRows dirty_;
  delivery::RowConverter converter_;
  DeliveryTaskStatus* status_;
  int64_t rows_ = 0;
  size_t counted_ = 0;
  std::string partition_;
  int64_t partition_minute_ = 0;
  bool has_partition_ = false;
};

class DeliveryServiceImpl : public DeliveryService {
 public:
  DeliveryServiceImpl(TableStore* store, FILE* progress)
      : store_(store),
        progress_(progress),
        // The store's clock: tests that drive time drive delivery's too.
        clock_(store->options().clock ? store->options().clock : Clock::System()) {}

  Status CreateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config, DeliveryTaskType type) override;
  Status UpdateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config) override;
  Result<DeliveryTaskDescription> DescribeDeliveryTask(const std::string& table,
                                                       const std::string& name) override;
  Result<std::vector<DeliveryTaskInfo>> ListDeliveryTask(const std::string& table) override;
  Status DeleteDeliveryTask(const std::string& table, const std::string& name) override;
  Status RunTask(const std::string& table, const std::string& name,
                 const std::atomic<bool>* stop) override;
  Status PutCredentialSet(const std::string& role, const CredentialSet& keys) override {
    return delivery::PutCredentialSet(store_, role, keys);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListCredentialSets() override {
    return delivery::ListCredentialSets(store_);
  }
  Status DeleteCredentialSet(const std::string& role) override {
    return delivery::DeleteCredentialSet(store_, role);
  }

 private:
  Status SaveState(const DeliveryTaskDescription& d, const TaskState& s);
  Status RunBase(DeliveryTaskDescription& task, TaskState& state);
  Status RunIncremental(const DeliveryTaskDescription& task, TaskState& state,
                        const std::atomic<bool>* stop);
  Status DeliverRecords(const DeliveryTaskDescription& task, TaskState& state, uint64_t to,
                        BatchWriter* batch, int64_t max_rows);
  Status OpenBucket(const DeliveryTaskDescription& task, TaskState& state,
                    std::unique_ptr<ObjectStore>* bucket);
  Status DeliverSnapshot(const DeliveryTaskDescription& task, const TableMeta& meta,
                         const ResolvedTask& resolved, ObjectStore* bucket, TaskState& state);
  Status RemoveAttempts(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
                        ObjectStore* bucket);
  std::string Stem(const DeliveryTaskDescription& t, int64_t attempt) const {
    return fmt::format("{}-{}-base{}", t.table, t.name, attempt);
  }

  TableStore* store_;
  FILE* progress_;
  std::shared_ptr<Clock> clock_;
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
                 {"create_time_us", clock_->NowMicros()}};
  TaskState state;
  if (type != DeliveryTaskType::kBase) {
    // Incremental tasks keep the table's change log from now on, stream or no stream.
    state.position = store_->LastSequence() + 1;
    TL_RETURN_IF_ERROR(store_->HoldChangeLog(table, HoldName(name), state.position));
    if (type == DeliveryTaskType::kInc) state.status.phase = SyncPhase::kIncr;
  }
  TL_RETURN_IF_ERROR(store_->PutMetadata(StateKey(table, name), StateToJson(state).dump()));
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
  if (d.status.phase == SyncPhase::kIncr && !d.status.finished) {
    int64_t since_us = d.status.current_sync_timestamp_ns > 0
                           ? d.status.current_sync_timestamp_ns / 1000
                           : d.create_time_us;
    d.status.lag_ms = std::max<int64_t>(0, (clock_->NowMicros() - since_us) / 1000);
  }
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
  TL_RETURN_IF_ERROR(store_->ReleaseChangeLog(table, HoldName(name)));
  // An interrupted base scan leaves its durable snapshot: it goes with the task.
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(StateKey(table, name)));
  if (raw) {
    TaskState state = StateFromJson(json::parse(*raw));
    if (!state.checkpoint.empty()) TL_RETURN_IF_ERROR(store_->DropCheckpoint(state.checkpoint));
  }
  TL_RETURN_IF_ERROR(store_->DeleteMetadata(StateKey(table, name)));
  return store_->DeleteMetadata(TaskKey(table, name));
}

Status DeliveryServiceImpl::SaveState(const DeliveryTaskDescription& d, const TaskState& s) {
  return store_->PutMetadata(StateKey(d.table, d.name), StateToJson(s).dump());
}

Status DeliveryServiceImpl::RunTask(const std::string& table, const std::string& name,
                                    const std::atomic<bool>* stop) {
  TL_ASSIGN_OR_RETURN(DeliveryTaskDescription task, DescribeDeliveryTask(table, name));
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(StateKey(table, name)));
  TaskState state = raw ? StateFromJson(json::parse(*raw)) : TaskState();
  if (task.type != DeliveryTaskType::kInc && !state.base_done) {
    TL_RETURN_IF_ERROR(RunBase(task, state));
  }
  if (task.type == DeliveryTaskType::kBase) return Status::OK();
  return RunIncremental(task, state, stop);
}

Status DeliveryServiceImpl::RunBase(DeliveryTaskDescription& task, TaskState& state) {
  if (state.status.finished) return Status::OK();
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(task.table));
  TL_ASSIGN_OR_RETURN(ResolvedTask resolved, delivery::ResolveTask(task.config, table.meta));
  std::unique_ptr<ObjectStore> bucket;
  TL_RETURN_IF_ERROR(OpenBucket(task, state, &bucket));
  bool resumable = !state.checkpoint.empty() && !state.checkpoint_path.empty() &&
                   std::filesystem::is_directory(state.checkpoint_path);
  if (!resumable) {
    // A new attempt: an earlier one whose snapshot is gone leaves its files to be removed.
    if (state.attempt > 0) TL_RETURN_IF_ERROR(RemoveAttempts(task, resolved, bucket.get()));
    if (!state.checkpoint.empty()) TL_RETURN_IF_ERROR(store_->DropCheckpoint(state.checkpoint));
    ++state.attempt;
    state.status = DeliveryTaskStatus();
    state.status.phase = SyncPhase::kFull;
    // The name is saved before the snapshot is taken, so that a crash cannot leak it.
    state.checkpoint = fmt::format("{}.{}.base{}", task.table, task.name, state.attempt);
    state.checkpoint_path.clear();
    TL_RETURN_IF_ERROR(SaveState(task, state));
    TL_ASSIGN_OR_RETURN(auto cp, store_->CreateCheckpoint(state.checkpoint));
    state.checkpoint_path = cp.path;
    state.snapshot_seq = cp.sequence;
    state.snapshot_ms = clock_->NowMillis();
    state.segment = 0;
    state.resume_key = json();
    state.base_files = json::array();
    TL_RETURN_IF_ERROR(SaveState(task, state));
  } else if (progress_) {
    std::fprintf(progress_, "deliver %s: resuming the snapshot scan at segment %lld\n",
                 task.name.c_str(), static_cast<long long>(state.segment));
  }
  Status s = DeliverSnapshot(task, table.meta, resolved, bucket.get(), state);
  if (!s.ok()) {
    state.status.error_code = "DELIVERY_FAILED";
    state.status.error_detail = s.message();
    (void)SaveState(task, state);
    return s.WithContext(fmt::format("task '{}'", task.name));
  }
  return store_->DropCheckpoint(state.checkpoint);
}

Status DeliveryServiceImpl::OpenBucket(const DeliveryTaskDescription& task, TaskState& state,
                                       std::unique_ptr<ObjectStore>* bucket) {
  // Not request errors: the task reports them in its status, as the cloud service does.
  auto report = [&](const char* code, const Status& why) -> Status {
    state.status.error_code = code;
    state.status.error_detail = why.message();
    TL_RETURN_IF_ERROR(SaveState(task, state));
    return why.WithContext(fmt::format("task '{}'", task.name));
  };
  const std::string& endpoint = task.config.oss_endpoint;
  std::optional<CredentialSet> keys;
  if (EndpointNeedsKeys(endpoint)) {
    TL_ASSIGN_OR_RETURN(keys, delivery::FindCredentialSet(store_, task.config.oss_role));
    if (!keys) {
      return report(
          "UNAUTHORIZED",
          Status::InvalidArgument(
              task.config.oss_role.empty()
                  ? fmt::format("endpoint '{}' needs credentials: set the task's role "
                                "(OssRoleName) to a credential set",
                                endpoint)
                  : fmt::format("role '{}' names no credential set (add one with `tablelake "
                                "delivery credentials put {}`)",
                                task.config.oss_role, delivery::RoleOf(task.config.oss_role))));
    }
  }
  auto b = OpenObjectStore(endpoint, task.config.oss_bucket, keys ? &*keys : nullptr);
  if (!b.ok()) return report("INVALID_OSS_BUCKET", b.status());
  if (!state.status.error_code.empty() && state.status.error_code != "DELIVERY_FAILED") {
    state.status.error_code.clear();  // the bucket (or its keys) is back
    state.status.error_detail.clear();
  }
  *bucket = std::move(b).value();
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
                                            const TableMeta& meta, const ResolvedTask& resolved,
                                            ObjectStore* bucket, TaskState& state) {
  StoreOptions read_only;
  read_only.read_only = true;
  TL_ASSIGN_OR_RETURN(auto snapshot, TableStore::Open(state.checkpoint_path, read_only));
  PrimaryKey start, end;
  for (const auto& k : meta.primary_key) {
    start.push_back({k.name, Value::InfMin()});
    end.push_back({k.name, Value::InfMax()});
  }
  if (!state.resume_key.is_null()) {
    TL_ASSIGN_OR_RETURN(auto key, store::RowFromJson(meta, json::parse(state.resume_key.dump()),
                                                     store::MissingKey::kError, true));
    start = key.primary_key;
  }
  TL_ASSIGN_OR_RETURN(auto it, snapshot->NewRowIterator(task.table, start, end, {}));
  if (!state.resume_key.is_null() && it->Valid()) it->Next();  // it was the last one delivered
  // A segment ends after about file_bytes / 64 rows: all its files are published and the scan
  // position saved, so a crash costs at most one segment, redone into the same file names.
  const int64_t segment_rows = std::max<int64_t>(10000, task.config.file_bytes / 64);
  std::unique_ptr<Progress> progress;
  if (progress_) progress = std::make_unique<Progress>("deliver " + task.name, 0, progress_);
  delivery::RowPrefetcher rows(it.get());  // the scan runs a batch ahead, on another core
  std::unique_ptr<BatchWriter> batch;
  // The segment's last row: its key is still valid when the scan ends (see RowPrefetcher).
  const Row* last = nullptr;
  auto end_segment = [&]() -> Status {
    TL_RETURN_IF_ERROR(batch->Commit());
    for (const auto& f : batch->published()) {
      state.base_files.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}});
    }
    state.resume_key = json::parse(store::RowToJson(Row{last->primary_key, {}}).dump());
    ++state.segment;
    batch.reset();
    return SaveState(task, state);
  };
  while (const Row* row = rows.Next()) {
    if (!batch) {
      batch = std::make_unique<BatchWriter>(
          task, resolved, bucket, fmt::format("{}s{}", Stem(task, state.attempt), state.segment),
          Metadata(task, state.snapshot_seq), &state.status);
    }
    // A row's write time is its newest cell's version; a key-only row takes the snapshot's.
    int64_t write_ms = row->cells.empty() ? state.snapshot_ms : 0;
    for (const auto& c : row->cells) write_ms = std::max(write_ms, c.timestamp);
    TL_RETURN_IF_ERROR(batch->Add(row->primary_key, row->cells, write_ms,
                                  {"PUT", state.snapshot_seq, write_ms * 1000}));
    last = row;
    if (batch->rows() >= segment_rows) {
      TL_RETURN_IF_ERROR(end_segment());
    } else if (progress) {
      progress->Update(0, state.status.rows_delivered + state.status.dirty_rows);
    }
  }
  TL_RETURN_IF_ERROR(rows.status());
  if (batch) TL_RETURN_IF_ERROR(end_segment());
  std::string stem = Stem(task, state.attempt);
  int64_t snapshot_ms = state.snapshot_ms;
  // The manifest and _SUCCESS go last: their presence says every file above is complete.
  const json& manifest_files = state.base_files;
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
  state.status.current_sync_timestamp_ns = snapshot_ms * 1000000;
  state.base_done = true;
  if (task.type == DeliveryTaskType::kBase) {
    // A finished BaseTask reports phase INCR, as the cloud service does (isFinished).
    state.status.finished = true;
    state.status.phase = SyncPhase::kIncr;
  } else {
    state.status.phase = SyncPhase::kIncr;
    state.position = state.snapshot_seq + 1;  // the stream right after the snapshot
  }
  return SaveState(task, state);
}

// Delivers change records from state.position up to `to` (exclusive) into `batch`, stopping
// early once the batch holds `max_rows` rows (0: no bound). Deletes are skipped and counted.
Status DeliveryServiceImpl::DeliverRecords(const DeliveryTaskDescription& task, TaskState& state,
                                           uint64_t to, BatchWriter* batch, int64_t max_rows) {
  while (state.position < to) {
    TL_ASSIGN_OR_RETURN(StreamReadResult page,
                        store_->ReadStream(task.table, state.position, 1000));
    if (page.records.empty()) {
      state.position = to;
      break;
    }
    for (const ChangeRecord& rec : page.records) {
      if (rec.sequence >= to) {
        state.position = to;
        return Status::OK();
      }
      if (rec.op == ChangeOp::kDelete && !task.config.change_log_columns) {
        ++state.status.deletes_skipped;
      } else {
        TL_RETURN_IF_ERROR(batch->Add(rec.primary_key, rec.row_image, rec.commit_time_us / 1000,
                                      {ChangeOpName(rec.op), rec.sequence, rec.commit_time_us}));
      }
      state.position = rec.sequence + 1;
      if (max_rows > 0 && batch->rows() >= max_rows) return Status::OK();
    }
  }
  return Status::OK();
}

// The incremental phase. Records are read in batches; a batch [from, to) is published by first
// recording the intent (from, to) in the checkpoint, then committing its files, then advancing
// the position to `to`. Files are named after `from` and filled deterministically from the
// records, so a batch redone after a crash rewrites the same objects with the same rows: no
// change is delivered twice or lost.
Status DeliveryServiceImpl::RunIncremental(const DeliveryTaskDescription& task, TaskState& state,
                                           const std::atomic<bool>* stop) {
  constexpr int64_t kMaxBatchRows = 1000000;
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(task.table));
  TL_ASSIGN_OR_RETURN(ResolvedTask resolved, delivery::ResolveTask(task.config, table.meta));
  std::unique_ptr<ObjectStore> bucket;
  TL_RETURN_IF_ERROR(OpenBucket(task, state, &bucket));
  state.status.phase = SyncPhase::kIncr;
  // Records older than the store's maximum hold may be gone: past it, say so rather than skip.
  int64_t synced_us = state.status.current_sync_timestamp_ns > 0
                          ? state.status.current_sync_timestamp_ns / 1000
                          : task.create_time_us;
  int64_t max_us = int64_t{store_->options().max_change_log_hours} * 3600 * 1000000;
  if (clock_->NowMicros() - synced_us > max_us) {
    state.status.error_code = "CHANGE_LOG_EXPIRED";
    state.status.error_detail = fmt::format(
        "the task fell more than {} hours behind; changes it has not delivered may be gone from "
        "the change log: recreate the task (BaseIncTask) to deliver the table again",
        store_->options().max_change_log_hours);
    TL_RETURN_IF_ERROR(SaveState(task, state));
    return Status::Unavailable(fmt::format("task '{}': {}", task.name, state.status.error_detail));
  }
  auto stem = [&](uint64_t from) {
    return fmt::format("{}-{}-inc{:020d}", task.table, task.name, from);
  };
  if (state.intent_to > 0) {
    state.position = state.intent_from;
    BatchWriter redo(task, resolved, bucket.get(), stem(state.intent_from),
                     Metadata(task, state.intent_from), &state.status);
    TL_RETURN_IF_ERROR(DeliverRecords(task, state, state.intent_to, &redo, 0));
    TL_RETURN_IF_ERROR(redo.Commit());
    state.intent_from = state.intent_to = 0;
    TL_RETURN_IF_ERROR(SaveState(task, state));
  }
  const auto& clock = clock_;
  const int64_t interval_us = int64_t{task.config.flush_interval_seconds} * 1000000;
  uint64_t target = store_->LastSequence();  // without `stop`: what was committed before now
  while (true) {
    uint64_t from = state.position;
    BatchWriter batch(task, resolved, bucket.get(), stem(from), Metadata(task, from),
                      &state.status);
    int64_t batch_start_us = clock->NowMicros();
    int64_t synced_us = 0;  // every write committed at or before it is in this batch or earlier
    bool done = false;
    while (true) {
      int64_t before_us = clock->NowMicros();
      TL_ASSIGN_OR_RETURN(auto snapshot, store_->GetSnapshot());  // waits for commits in flight
      uint64_t last = snapshot->sequence();
      snapshot.reset();
      TL_RETURN_IF_ERROR(DeliverRecords(task, state, last + 1, &batch, kMaxBatchRows));
      bool caught_up = state.position > last;
      if (caught_up) synced_us = before_us;
      done = stop == nullptr ? caught_up && state.position > target : stop->load();
      bool time_up = clock->NowMicros() - batch_start_us >= interval_us;
      if (done || batch.rows() >= kMaxBatchRows || time_up) break;
      if (caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (batch.rows() > 0) {
      state.intent_from = from;
      state.intent_to = state.position;
      TL_RETURN_IF_ERROR(SaveState(task, state));
      TL_RETURN_IF_ERROR(batch.Commit());
      state.intent_from = state.intent_to = 0;
    }
    if (synced_us > 0) state.status.current_sync_timestamp_ns = synced_us * 1000;
    TL_RETURN_IF_ERROR(SaveState(task, state));
    TL_RETURN_IF_ERROR(store_->HoldChangeLog(task.table, HoldName(task.name), state.position));
    if (progress_ && batch.rows() > 0) {
      std::fprintf(progress_, "deliver %s: published %lld rows in %zu files, lag %.1f s\n",
                   task.name.c_str(), static_cast<long long>(batch.rows()),
                   batch.published().size(),
                   (clock->NowMicros() - state.status.current_sync_timestamp_ns / 1000) / 1e6);
    }
    if (done) return Status::OK();
  }
}

}  // namespace

Result<std::unique_ptr<DeliveryService>> DeliveryService::Open(TableStore* store, FILE* progress) {
  if (store == nullptr) return Status::InvalidArgument("delivery needs a table store");
  return std::unique_ptr<DeliveryService>(std::make_unique<DeliveryServiceImpl>(store, progress));
}

}  // namespace tablelake
