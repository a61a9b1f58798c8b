// Delivery tasks: the service (create, describe, list, delete) and the runners of the base and
// incremental phases.
//
// Commit protocol of a BaseTask (docs/delivery.md): each run is an attempt with a number kept in
// the task's state. An attempt takes a durable snapshot and scans it in segments; each segment's
// files are published under names holding the attempt and segment, then the scan position, the
// segment's counts and its file entries are saved in one atomic write. A run that resumes a
// segment first deletes whatever that segment had published. After the last segment come the
// manifest and _SUCCESS, and only then is the task recorded as finished. A new attempt (its
// snapshot lost) first deletes every object an earlier attempt published, so the bucket ends up
// holding each row of one snapshot exactly once.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "common/progress.h"
#include "delivery/batch_writer.h"
#include "delivery/credentials.h"
#include "delivery/row_prefetcher.h"
#include "delivery/task_config.h"
#include "delivery/task_state.h"
#include "fmt/format.h"
#include "objectstore/object_store.h"
#include "store/row_json.h"
#include "tablelake/delivery.h"

namespace tablelake {
namespace {

using delivery::BatchWriter;
using delivery::ResolvedTask;
using delivery::TaskRecord;
using delivery::TaskState;
using nlohmann::json;

constexpr size_t kMaxTasksPerTable = 10;

std::vector<std::pair<std::string, std::string>> Metadata(const DeliveryTaskDescription& task,
                                                          uint64_t sequence) {
  return {{"tablelake.source_table", task.table},
          {"tablelake.task", task.name},
          {"tablelake.sequence", std::to_string(sequence)}};
}

// Object names. Task names may hold '-', so a task's files are told from another's by the
// whole pattern, not by a prefix ("t-a-base" is also how task "a-base2" of table t starts).
std::string BaseStem(const DeliveryTaskDescription& t, int64_t attempt, int64_t segment) {
  return fmt::format("{}-{}-base{}s{}", t.table, t.name, attempt, segment);
}
std::string IncStem(const DeliveryTaskDescription& t, uint64_t from) {
  return fmt::format("{}-{}-inc{:020d}", t.table, t.name, from);
}
// Table names are [A-Za-z0-9_] and task names [a-z0-9-]: nothing a regex treats specially.
std::regex AnyBaseFile(const DeliveryTaskDescription& t) {
  return std::regex(fmt::format("^{}-{}-base[0-9]+s[0-9]+-.*", t.table, t.name));
}
auto StartsWith(std::string stem) {
  stem += "-";
  return [stem](const std::string& file) { return file.rfind(stem, 0) == 0; };
}
std::string FileName(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

void ClearError(DeliveryTaskStatus* s) {
  s->error_code.clear();
  s->error_detail.clear();
}

class DeliveryServiceImpl : public DeliveryService {
 public:
  DeliveryServiceImpl(TableStore* store, FILE* progress, const BucketRegistry* buckets)
      : store_(store),
        progress_(progress),
        buckets_(buckets ? *buckets : BucketRegistry::Default()),
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
  Result<std::vector<DeliveredFile>> ListDeliveredFiles(const std::string& table,
                                                        const std::string& name) override;
  Result<std::vector<std::string>> DropTable(const std::string& table) override;
  Status RunTask(const std::string& table, const std::string& name, const std::atomic<bool>* stop,
                 DeliveryRunStats* stats) override;
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
  // One run of a task: what it works on and what it did.
  struct Run {
    DeliveryTaskDescription& task;
    TaskState& state;
    DeliveryRunStats& stats;
    ResolvedTask resolved;
    std::unique_ptr<ObjectStore> bucket;
    bool error_saved = false;  // the failure is already in the task's status
  };

  // The task's record, if it exists and is bound to the table now under its name.
  Result<std::optional<TaskRecord>> FindRecord(const std::string& table, const std::string& name);
  Result<TaskRecord> LoadRecord(const std::string& table, const std::string& name);
  // Whether the record's table still is the one the task was created on.
  Result<bool> Bound(const TaskRecord& record);
  Result<TaskState> LoadState(const DeliveryTaskDescription& d);
  Status SaveState(const DeliveryTaskDescription& d, const TaskState& s);
  // Saves the state with entries for the files a batch published, in one atomic write.
  Status CommitState(const DeliveryTaskDescription& d, const TaskState& s,
                     const std::vector<delivery::PublishedFile>& files);
  Status RemoveTask(const std::string& table, const std::string& name);
  Status RecordFailure(const DeliveryTaskDescription& d, const Status& why);

  Status Prepare(Run& run);
  Status AbortIncompleteUploads(Run& run);
  Status RunBase(Run& run);
  Status StartAttempt(Run& run);
  Status DeliverSnapshot(Run& run);
  Status CommitSegment(Run& run, std::unique_ptr<BatchWriter> batch, const PrimaryKey& last);
  Status FinishBase(Run& run);
  Status RunIncremental(Run& run, const std::atomic<bool>* stop);
  Status FillBatch(Run& run, BatchWriter* batch, const std::atomic<bool>* stop, uint64_t target,
                   int64_t* idle_saved_us, bool* done);
  Status RedoIntent(Run& run);
  Status DeliverRecords(Run& run, uint64_t to, BatchWriter* batch, int64_t max_rows);
  Status CommitBatch(Run& run, BatchWriter& batch);
  Status OpenBucket(Run& run);

  TableStore* store_;
  FILE* progress_;
  const BucketRegistry& buckets_;
  std::shared_ptr<Clock> clock_;
  std::mutex ddl_mu_;
};

// ---------------------------------------------------------------------------------------------
// records and state

Result<std::optional<TaskRecord>> DeliveryServiceImpl::FindRecord(const std::string& table,
                                                                  const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(delivery::TaskKey(table, name)));
  if (!raw) return std::optional<TaskRecord>();
  TL_ASSIGN_OR_RETURN(TaskRecord record, delivery::RecordFromJson(*raw));
  TL_ASSIGN_OR_RETURN(bool bound, Bound(record));
  if (!bound) return std::optional<TaskRecord>();  // left by a table dropped without its tasks
  return std::optional<TaskRecord>(std::move(record));
}

Result<bool> DeliveryServiceImpl::Bound(const TaskRecord& record) {
  auto now = store_->DescribeTable(record.description.table);
  if (!now.ok() && now.status().code() != StatusCode::kNotFound) return now.status();
  return now.ok() && (record.table_id == 0 || record.table_id == now->table_id);
}

Result<TaskRecord> DeliveryServiceImpl::LoadRecord(const std::string& table,
                                                   const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto record, FindRecord(table, name));
  if (!record) {
    return Status::NotFound(fmt::format("table '{}' has no delivery task '{}'", table, name));
  }
  return std::move(*record);
}

Result<TaskState> DeliveryServiceImpl::LoadState(const DeliveryTaskDescription& d) {
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(delivery::StateKey(d.table, d.name)));
  if (!raw) return TaskState();
  return delivery::StateFromJson(*raw);
}

Status DeliveryServiceImpl::SaveState(const DeliveryTaskDescription& d, const TaskState& s) {
  return store_->PutMetadata(delivery::StateKey(d.table, d.name), delivery::StateToJson(s).dump());
}

Status DeliveryServiceImpl::CommitState(const DeliveryTaskDescription& d, const TaskState& s,
                                        const std::vector<delivery::PublishedFile>& files) {
  std::vector<std::pair<std::string, std::string>> puts = {
      {delivery::StateKey(d.table, d.name), delivery::StateToJson(s).dump()}};
  int64_t now_ms = clock_->NowMillis();
  for (const auto& f : files) {
    puts.emplace_back(delivery::FilesPrefix(d.table, d.name) + f.key,
                      delivery::FileEntryToJson({f.key, f.rows, f.bytes, now_ms}).dump());
  }
  return store_->WriteMetadata(puts, {});
}

// The status keeps the counts of the last commit: a failed run saves its error on the state
// as it was saved last, never on counts of work the bucket does not hold.
Status DeliveryServiceImpl::RecordFailure(const DeliveryTaskDescription& d, const Status& why) {
  TL_ASSIGN_OR_RETURN(TaskState durable, LoadState(d));
  durable.status.error_code = "DELIVERY_FAILED";
  durable.status.error_detail = why.message();
  return SaveState(d, durable);
}

// ---------------------------------------------------------------------------------------------
// the service's requests

Status DeliveryServiceImpl::CreateDeliveryTask(const std::string& table, const std::string& name,
                                               const DeliveryTaskConfig& config,
                                               DeliveryTaskType type) {
  TL_RETURN_IF_ERROR(delivery::ValidateTaskName(name));
  TL_ASSIGN_OR_RETURN(TableDescription d, store_->DescribeTable(table));
  TL_RETURN_IF_ERROR(delivery::ResolveTask(config, d.meta, buckets_)
                         .status()
                         .WithContext(fmt::format("task '{}'", name)));
  std::lock_guard lock(ddl_mu_);
  TL_ASSIGN_OR_RETURN(auto existing, store_->GetMetadata(delivery::TaskKey(table, name)));
  if (existing) {
    TL_ASSIGN_OR_RETURN(auto bound, FindRecord(table, name));
    if (bound) {
      return Status::AlreadyExists(fmt::format("table '{}' already has a task '{}'", table, name));
    }
    TL_RETURN_IF_ERROR(RemoveTask(table, name));  // a task of a dropped table of that name
  }
  TL_ASSIGN_OR_RETURN(auto tasks, ListDeliveryTask(table));
  if (tasks.size() >= kMaxTasksPerTable) {
    return Status(StatusCode::kQuotaExhausted,
                  fmt::format("table '{}' already has the maximum of {} delivery tasks", table,
                              kMaxTasksPerTable));
  }
  TaskRecord record;
  record.description = {table, name, type, config, {}, clock_->NowMicros()};
  record.table_id = d.table_id;
  TaskState state;
  if (type != DeliveryTaskType::kBase) {
    // Incremental tasks keep the table's change log from now on, stream or no stream.
    state.position = store_->LastSequence() + 1;
    TL_RETURN_IF_ERROR(store_->HoldChangeLog(table, delivery::HoldName(name), state.position));
    if (type == DeliveryTaskType::kInc) state.status.phase = SyncPhase::kIncr;
  }
  return store_->WriteMetadata(
      {{delivery::StateKey(table, name), delivery::StateToJson(state).dump()},
       {delivery::TaskKey(table, name), delivery::RecordToJson(record).dump()}},
      {});
}

Result<DeliveryTaskDescription> DeliveryServiceImpl::DescribeDeliveryTask(const std::string& table,
                                                                          const std::string& name) {
  TL_ASSIGN_OR_RETURN(TaskRecord record, LoadRecord(table, name));
  DeliveryTaskDescription d = std::move(record.description);
  TL_ASSIGN_OR_RETURN(TaskState state, LoadState(d));
  d.status = state.status;
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
  TL_ASSIGN_OR_RETURN(TaskRecord record, LoadRecord(table, name));
  TL_ASSIGN_OR_RETURN(TableDescription d, store_->DescribeTable(table));
  TL_RETURN_IF_ERROR(delivery::ResolveTask(config, d.meta, buckets_)
                         .status()
                         .WithContext(fmt::format("task '{}'", name)));
  std::lock_guard lock(ddl_mu_);
  record.description.config = config;
  return store_->PutMetadata(delivery::TaskKey(table, name), delivery::RecordToJson(record).dump());
}

Result<std::vector<DeliveryTaskInfo>> DeliveryServiceImpl::ListDeliveryTask(
    const std::string& table) {
  if (!table.empty()) TL_RETURN_IF_ERROR(store_->DescribeTable(table).status());
  TL_ASSIGN_OR_RETURN(auto records, store_->ListMetadata(delivery::TaskPrefix(table)));
  std::vector<DeliveryTaskInfo> out;
  for (const auto& [key, value] : records) {
    TL_ASSIGN_OR_RETURN(TaskRecord r, delivery::RecordFromJson(value));
    TL_ASSIGN_OR_RETURN(bool bound, Bound(r));
    if (!bound) continue;  // its table was dropped: the task went with it
    out.push_back({r.description.table, r.description.name, r.description.type});
  }
  return out;
}

Status DeliveryServiceImpl::RemoveTask(const std::string& table, const std::string& name) {
  TL_RETURN_IF_ERROR(store_->ReleaseChangeLog(table, delivery::HoldName(name)));
  // An interrupted base scan leaves its durable snapshot: it goes with the task.
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(delivery::StateKey(table, name)));
  if (raw) {
    auto state = delivery::StateFromJson(*raw);
    if (state.ok() && !state->checkpoint.empty()) {
      TL_RETURN_IF_ERROR(store_->DropCheckpoint(state->checkpoint));
    }
  }
  TL_ASSIGN_OR_RETURN(auto files, store_->ListMetadata(delivery::FilesPrefix(table, name)));
  std::vector<std::string> deletes = {delivery::StateKey(table, name),
                                      delivery::TaskKey(table, name)};
  for (const auto& [key, value] : files) deletes.push_back(key);
  return store_->WriteMetadata({}, deletes);
}

Status DeliveryServiceImpl::DeleteDeliveryTask(const std::string& table, const std::string& name) {
  std::lock_guard lock(ddl_mu_);
  TL_RETURN_IF_ERROR(LoadRecord(table, name).status());
  return RemoveTask(table, name);
}

Result<std::vector<DeliveredFile>> DeliveryServiceImpl::ListDeliveredFiles(
    const std::string& table, const std::string& name) {
  TL_RETURN_IF_ERROR(LoadRecord(table, name).status());
  TL_ASSIGN_OR_RETURN(auto entries, store_->ListMetadata(delivery::FilesPrefix(table, name)));
  std::vector<DeliveredFile> files;
  for (const auto& [key, value] : entries) {
    auto j = json::parse(value, nullptr, false);
    if (j.is_discarded()) return Status::Corruption(fmt::format("file entry '{}'", key));
    delivery::FileEntry f = delivery::FileEntryFromJson(j);
    files.push_back({f.key, f.rows, f.bytes, f.time_ms});
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  return files;
}

Result<std::vector<std::string>> DeliveryServiceImpl::DropTable(const std::string& table) {
  std::lock_guard lock(ddl_mu_);
  TL_RETURN_IF_ERROR(store_->DescribeTable(table).status());
  TL_ASSIGN_OR_RETURN(auto records, store_->ListMetadata(delivery::TaskPrefix(table)));
  std::vector<std::string> names;
  for (const auto& [key, value] : records) {
    TL_ASSIGN_OR_RETURN(TaskRecord r, delivery::RecordFromJson(value));
    TL_RETURN_IF_ERROR(RemoveTask(table, r.description.name));
    names.push_back(r.description.name);
  }
  TL_RETURN_IF_ERROR(store_->DeleteTable(table));
  return names;
}

// ---------------------------------------------------------------------------------------------
// runs

Status DeliveryServiceImpl::RunTask(const std::string& table, const std::string& name,
                                    const std::atomic<bool>* stop, DeliveryRunStats* stats) {
  DeliveryRunStats ignored;
  if (stats == nullptr) stats = &ignored;
  *stats = DeliveryRunStats();
  TL_ASSIGN_OR_RETURN(auto record, FindRecord(table, name));
  if (!record) {
    TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(delivery::TaskKey(table, name)));
    if (raw) {
      std::lock_guard lock(ddl_mu_);
      TL_RETURN_IF_ERROR(RemoveTask(table, name));
      return Status::NotFound(fmt::format(
          "table '{}' was dropped after task '{}' was created: the task is deleted with it", table,
          name));
    }
    return Status::NotFound(fmt::format("table '{}' has no delivery task '{}'", table, name));
  }
  DeliveryTaskDescription& task = record->description;
  TL_ASSIGN_OR_RETURN(TaskState state, LoadState(task));
  Run run{task, state, *stats, {}, nullptr};
  Status s = [&]() -> Status {
    if (task.type == DeliveryTaskType::kBase && state.status.finished) return Status::OK();
    TL_RETURN_IF_ERROR(Prepare(run));
    if (task.type != DeliveryTaskType::kInc && !state.base_done) TL_RETURN_IF_ERROR(RunBase(run));
    if (task.type == DeliveryTaskType::kBase) return Status::OK();
    return RunIncremental(run, stop);
  }();
  if (!s.ok() && !run.error_saved) (void)RecordFailure(task, s);
  return s.ok() ? s : s.WithContext(fmt::format("task '{}'", name));
}

Status DeliveryServiceImpl::Prepare(Run& run) {
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(run.task.table));
  TL_ASSIGN_OR_RETURN(run.resolved, delivery::ResolveTask(run.task.config, table.meta, buckets_));
  TL_RETURN_IF_ERROR(OpenBucket(run));
  return AbortIncompleteUploads(run);
}

// What an earlier run of the task started and never finished (it was killed): a folder's
// temporaries, a remote bucket's open multipart uploads. Only this process runs the task (it
// holds the data folder), so none of them is in progress.
Status DeliveryServiceImpl::AbortIncompleteUploads(Run& run) {
  std::regex mine(
      fmt::format("^{}-{}-(base[0-9]+s[0-9]+|inc[0-9]{{20}})-.*", run.task.table, run.task.name));
  auto matches = [&](const std::string& name) { return std::regex_match(name, mine); };
  for (const std::string& prefix :
       {run.resolved.prefix.StaticPrefix(), run.resolved.dirty_prefix.StaticPrefix()}) {
    Status s = run.bucket->AbortIncompleteUploads(prefix, matches);
    // A store that cannot list its uploads keeps them until its own lifecycle rules end them.
    if (!s.ok() && s.code() != StatusCode::kNotSupported) return s;
  }
  return Status::OK();
}

Status DeliveryServiceImpl::OpenBucket(Run& run) {
  TaskState& state = run.state;
  const DeliveryTaskConfig& config = run.task.config;
  // Not request errors: the task reports them in its status, as the cloud service does.
  auto report = [&](const char* code, const Status& why) -> Status {
    state.status.error_code = code;
    state.status.error_detail = why.message();
    TL_RETURN_IF_ERROR(SaveState(run.task, state));
    run.error_saved = true;
    return why;
  };
  std::optional<CredentialSet> keys;
  if (buckets_.NeedsKeys(config.oss_endpoint)) {
    TL_ASSIGN_OR_RETURN(keys, delivery::FindCredentialSet(store_, config.oss_role));
    if (!keys) {
      return report("UNAUTHORIZED",
                    Status::InvalidArgument(fmt::format(
                        "role '{}' names no credential set (add one with `tablelake delivery "
                        "credentials put {}`)",
                        config.oss_role, delivery::RoleOf(config.oss_role))));
    }
  }
  auto b = buckets_.Open(config.oss_endpoint, config.oss_bucket, keys ? &*keys : nullptr);
  if (!b.ok()) {
    // Refused keys are the role's problem; anything else (no such bucket, unreachable) the
    // bucket's, as the cloud service reports them.
    bool refused = b.status().code() == StatusCode::kPermissionDenied;
    return report(refused ? "UNAUTHORIZED" : "INVALID_OSS_BUCKET", b.status());
  }
  run.bucket = std::move(b).value();
  return Status::OK();
}

Status DeliveryServiceImpl::RunBase(Run& run) {
  TaskState& state = run.state;
  bool resumable = !state.checkpoint.empty() && !state.checkpoint_path.empty() &&
                   std::filesystem::is_directory(state.checkpoint_path);
  if (!resumable) {
    TL_RETURN_IF_ERROR(StartAttempt(run));
  } else {
    run.stats.resumed = true;
    if (progress_) {
      std::fprintf(progress_, "deliver %s: resuming the snapshot scan at segment %lld\n",
                   run.task.name.c_str(), static_cast<long long>(state.segment));
    }
    // The segment may have published some of its files before the interruption.
    TL_RETURN_IF_ERROR(
        delivery::RemoveObjects(run.bucket.get(), run.resolved,
                                StartsWith(BaseStem(run.task, state.attempt, state.segment))));
  }
  TL_RETURN_IF_ERROR(DeliverSnapshot(run));
  TL_RETURN_IF_ERROR(FinishBase(run));
  return store_->DropCheckpoint(state.checkpoint);
}

// A new attempt: an earlier one whose snapshot is gone leaves its files to be removed.
Status DeliveryServiceImpl::StartAttempt(Run& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  if (state.attempt > 0) {
    std::regex base_file = AnyBaseFile(task);
    auto matches = [&](const std::string& f) { return std::regex_match(f, base_file); };
    TL_RETURN_IF_ERROR(delivery::RemoveObjects(run.bucket.get(), run.resolved, matches));
    TL_ASSIGN_OR_RETURN(auto entries,
                        store_->ListMetadata(delivery::FilesPrefix(task.table, task.name)));
    std::vector<std::string> stale;
    for (const auto& [key, value] : entries) {
      if (matches(FileName(key))) stale.push_back(key);
    }
    TL_RETURN_IF_ERROR(store_->WriteMetadata({}, stale));
  }
  if (!state.checkpoint.empty()) TL_RETURN_IF_ERROR(store_->DropCheckpoint(state.checkpoint));
  ++state.attempt;
  state.status = DeliveryTaskStatus();  // the bucket holds nothing of the task now
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
  return SaveState(task, state);
}

Status DeliveryServiceImpl::DeliverSnapshot(Run& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  StoreOptions read_only;
  read_only.read_only = true;
  TL_ASSIGN_OR_RETURN(auto snapshot, TableStore::Open(state.checkpoint_path, read_only));
  TL_ASSIGN_OR_RETURN(TableDescription table, snapshot->DescribeTable(task.table));
  const TableMeta& meta = table.meta;
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
  Status scanned = [&]() -> Status {
    while (const Row* row = rows.Next()) {
      if (!batch) {
        batch = std::make_unique<BatchWriter>(task, run.resolved, run.bucket.get(),
                                              BaseStem(task, state.attempt, state.segment),
                                              Metadata(task, state.snapshot_seq));
      }
      // A row's write time is its newest cell's version; a key-only row takes the snapshot's.
      int64_t write_ms = row->cells.empty() ? state.snapshot_ms : 0;
      for (const auto& c : row->cells) write_ms = std::max(write_ms, c.timestamp);
      TL_RETURN_IF_ERROR(batch->Add(row->primary_key, row->cells, write_ms,
                                    {"PUT", state.snapshot_seq, write_ms * 1000}));
      last = row;
      if (batch->rows() >= segment_rows) {
        TL_RETURN_IF_ERROR(CommitSegment(run, std::move(batch), last->primary_key));
      } else if (progress) {
        progress->Update(0, run.stats.rows_delivered + run.stats.dirty_rows + batch->rows());
      }
    }
    TL_RETURN_IF_ERROR(rows.status());
    return batch ? CommitSegment(run, std::move(batch), last->primary_key) : Status::OK();
  }();
  if (!scanned.ok()) {
    // What the failed segment published goes now, where the bucket allows, so that the bucket
    // holds what the status counts (a resume removes it anyway).
    batch.reset();
    (void)delivery::RemoveObjects(run.bucket.get(), run.resolved,
                                  StartsWith(BaseStem(task, state.attempt, state.segment)));
    return scanned;
  }
  if (progress) progress->Finish(run.stats.rows_delivered + run.stats.dirty_rows, "rows");
  return Status::OK();
}

// Publishes a segment's files, then saves where the scan stands with the segment's counts and
// file entries, in one write.
Status DeliveryServiceImpl::CommitSegment(Run& run, std::unique_ptr<BatchWriter> batch,
                                          const PrimaryKey& last) {
  TaskState& state = run.state;
  TL_RETURN_IF_ERROR(batch->Commit());
  for (const auto& f : batch->published()) {
    state.base_files.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}});
  }
  state.resume_key = json::parse(store::RowToJson(Row{last, {}}).dump());
  ++state.segment;
  delivery::AddCounts(batch->counts(), &state.status, &run.stats);
  ClearError(&state.status);  // progress again
  return CommitState(run.task, state, batch->published());
}

// The manifest and _SUCCESS go last: their presence says every file above is complete.
Status DeliveryServiceImpl::FinishBase(Run& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  json manifest = {{"table", task.table},
                   {"task", task.name},
                   {"type", DeliveryTaskTypeName(task.type)},
                   {"attempt", state.attempt},
                   {"snapshot_sequence", state.snapshot_seq},
                   {"snapshot_time_ms", state.snapshot_ms},
                   {"rows", state.status.rows_delivered},
                   {"dirty_rows", state.status.dirty_rows},
                   {"files", state.base_files}};
  std::string base = run.resolved.prefix.StaticPrefix();
  std::string stem = fmt::format("{}-{}-base{}", task.table, task.name, state.attempt);
  TL_RETURN_IF_ERROR(run.bucket->PutObject(
      delivery::JoinKey(base, fmt::format("{}.manifest.json", stem)), manifest.dump(2) + "\n"));
  TL_RETURN_IF_ERROR(run.bucket->PutObject(delivery::JoinKey(base, "_SUCCESS"), ""));
  state.status.current_sync_timestamp_ns = state.snapshot_ms * 1000000;
  state.base_done = true;
  // A finished BaseTask reports phase INCR, as the cloud service does (isFinished).
  state.status.phase = SyncPhase::kIncr;
  if (task.type == DeliveryTaskType::kBase) {
    state.status.finished = true;
  } else {
    state.position = state.snapshot_seq + 1;  // the stream right after the snapshot
  }
  ClearError(&state.status);
  return SaveState(task, state);
}

// Delivers change records from state.position up to `to` (exclusive) into `batch`, stopping
// early once the batch holds `max_rows` rows (0: no bound). Deletes are skipped and counted.
Status DeliveryServiceImpl::DeliverRecords(Run& run, uint64_t to, BatchWriter* batch,
                                           int64_t max_rows) {
  TaskState& state = run.state;
  while (state.position < to) {
    TL_ASSIGN_OR_RETURN(StreamReadResult page,
                        store_->ReadStream(run.task.table, state.position, 1000));
    if (page.records.empty()) {
      state.position = to;
      break;
    }
    for (const ChangeRecord& rec : page.records) {
      if (rec.sequence >= to) {
        state.position = to;
        return Status::OK();
      }
      if (rec.op == ChangeOp::kDelete && !run.task.config.change_log_columns) {
        batch->SkipDelete();
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

// Publishes a batch whose end (state.position) is known: the intent [from, to) is saved
// first, so that a crash while publishing redoes exactly this batch; then its files; then
// the position, counts and file entries together.
Status DeliveryServiceImpl::CommitBatch(Run& run, BatchWriter& batch) {
  TaskState& state = run.state;
  if (batch.rows() > 0) {
    state.intent_to = state.position;
    state.intent_open = false;
    TL_RETURN_IF_ERROR(SaveState(run.task, state));
    TL_RETURN_IF_ERROR(batch.Commit());
    ClearError(&state.status);  // progress again
  }
  state.intent_from = state.intent_to = 0;
  state.intent_open = false;
  delivery::AddCounts(batch.counts(), &state.status, &run.stats);
  return CommitState(run.task, state, batch.published());
}

// A batch interrupted by a crash: what it published goes, then a batch whose end was saved is
// delivered again from the same records into the same names; one whose end was not is simply
// started again from its first record.
Status DeliveryServiceImpl::RedoIntent(Run& run) {
  TaskState& state = run.state;
  run.stats.resumed = true;
  TL_RETURN_IF_ERROR(delivery::RemoveObjects(run.bucket.get(), run.resolved,
                                             StartsWith(IncStem(run.task, state.intent_from))));
  state.position = state.intent_from;
  if (state.intent_to == 0) {
    state.intent_open = false;
    state.intent_from = 0;
    return SaveState(run.task, state);
  }
  BatchWriter redo(run.task, run.resolved, run.bucket.get(), IncStem(run.task, state.intent_from),
                   Metadata(run.task, state.intent_from));
  TL_RETURN_IF_ERROR(DeliverRecords(run, state.intent_to, &redo, 0));
  return CommitBatch(run, redo);
}

// The incremental phase. Records are read in batches of at most a flush interval; each batch is
// published under names holding its first record's sequence, and filled deterministically from
// the records, so that a batch redone after a crash writes the same objects with the same rows.
Status DeliveryServiceImpl::RunIncremental(Run& run, const std::atomic<bool>* stop) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
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
    run.error_saved = true;
    return Status::Unavailable(state.status.error_detail);
  }
  if (state.intent_open || state.intent_to > 0) TL_RETURN_IF_ERROR(RedoIntent(run));
  uint64_t target = store_->LastSequence();  // without `stop`: what was committed before now
  int64_t idle_saved_us = 0;
  while (true) {
    uint64_t from = state.position;
    // Saved before anything of the batch can be published (a file may end on its size bound
    // long before the batch does).
    state.intent_from = from;
    state.intent_open = true;
    TL_RETURN_IF_ERROR(SaveState(task, state));
    BatchWriter batch(task, run.resolved, run.bucket.get(), IncStem(task, from),
                      Metadata(task, from));
    bool done = false;
    Status delivered = FillBatch(run, &batch, stop, target, &idle_saved_us, &done);
    if (delivered.ok()) delivered = CommitBatch(run, batch);
    if (!delivered.ok()) {
      // As for a base segment: the failed batch's objects go where the bucket allows.
      (void)delivery::RemoveObjects(run.bucket.get(), run.resolved,
                                    StartsWith(IncStem(task, from)));
      return delivered;
    }
    TL_RETURN_IF_ERROR(
        store_->HoldChangeLog(task.table, delivery::HoldName(task.name), state.position));
    if (progress_ && batch.rows() > 0) {
      int64_t since_us = state.status.current_sync_timestamp_ns > 0
                             ? state.status.current_sync_timestamp_ns / 1000
                             : task.create_time_us;
      std::fprintf(progress_, "deliver %s: published %lld rows in %lld files, lag %.1f s\n",
                   task.name.c_str(), static_cast<long long>(batch.counts().rows_delivered),
                   static_cast<long long>(batch.counts().files_written),
                   std::max<int64_t>(0, clock_->NowMicros() - since_us) / 1e6);
    }
    if (done) return Status::OK();
  }
}

// Reads change records into `batch` until the flush interval has passed, the batch is full, or
// the run is to end (`*done`: without `stop`, once every record up to `target` is in).
Status DeliveryServiceImpl::FillBatch(Run& run, BatchWriter* batch, const std::atomic<bool>* stop,
                                      uint64_t target, int64_t* idle_saved_us, bool* done) {
  constexpr int64_t kMaxBatchRows = 1000000;
  TaskState& state = run.state;
  const int64_t interval_us = int64_t{run.task.config.flush_interval_seconds} * 1000000;
  int64_t batch_start_us = clock_->NowMicros();
  int64_t synced_us = 0;  // every write committed at or before it is in this batch or earlier
  while (true) {
    int64_t before_us = clock_->NowMicros();
    TL_ASSIGN_OR_RETURN(auto snapshot, store_->GetSnapshot());  // waits for commits in flight
    uint64_t last = snapshot->sequence();
    snapshot.reset();
    TL_RETURN_IF_ERROR(DeliverRecords(run, last + 1, batch, kMaxBatchRows));
    bool caught_up = state.position > last;
    if (caught_up) synced_us = before_us;
    if (caught_up && batch->rows() == 0 && before_us - *idle_saved_us >= 1000000) {
      // Idle: nothing waits to be published, so every write up to now is delivered. Saying so
      // once a second keeps the reported lag near zero between flushes.
      state.status.current_sync_timestamp_ns = before_us * 1000;
      TL_RETURN_IF_ERROR(SaveState(run.task, state));
      *idle_saved_us = before_us;
    }
    *done = stop == nullptr ? caught_up && state.position > target : stop->load();
    bool time_up = clock_->NowMicros() - batch_start_us >= interval_us;
    if (*done || batch->rows() >= kMaxBatchRows || time_up) break;
    if (caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (synced_us > 0) state.status.current_sync_timestamp_ns = synced_us * 1000;
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DeliveryService>> DeliveryService::Open(TableStore* store, FILE* progress,
                                                               const BucketRegistry* buckets) {
  if (store == nullptr) return Status::InvalidArgument("delivery needs a table store");
  return std::unique_ptr<DeliveryService>(
      std::make_unique<DeliveryServiceImpl>(store, progress, buckets));
}

}  // namespace tablelake
