// Delivery tasks: the service's requests (create, describe, list, delete) and its runs, which
// the runners of the base and incremental phases (base_runner.h, inc_runner.h) carry out.
#include <algorithm>
#include <map>
#include <mutex>

#include "delivery/base_runner.h"
#include "delivery/credentials.h"
#include "delivery/inc_runner.h"
#include "delivery/memory_budget.h"
#include "delivery/task_config.h"
#include "delivery/task_record.h"
#include "delivery/task_run.h"
#include "delivery/task_state.h"
#include "fmt/format.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"

namespace tablelake {
namespace {

using delivery::TaskRecord;
using delivery::TaskState;
using nlohmann::json;

constexpr size_t kMaxTasksPerTable = 10;

class DeliveryServiceImpl : public DeliveryService {
 public:
  DeliveryServiceImpl(TableStore* store, const DeliveryOptions& options)
      : store_(store),
        progress_(options.progress),
        buckets_(options.buckets ? *options.buckets : BucketRegistry::Default()),
        budget_(options.memory_budget_bytes),
        scan_ranges_(options.scan_ranges),
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
  Status RemoveTask(const std::string& table, const std::string& name);
  Status Prepare(delivery::TaskRun& run);
  Status AbortIncompleteUploads(delivery::TaskRun& run);
  Status OpenBucket(delivery::TaskRun& run);

  TableStore* store_;
  FILE* progress_;
  const BucketRegistry& buckets_;
  delivery::MemoryBudget budget_;
  const int scan_ranges_;
  std::shared_ptr<Clock> clock_;
  std::mutex ddl_mu_;
  std::mutex running_mu_;
  // Tasks running in this service: what they hold of the budget now.
  std::map<std::string, std::shared_ptr<std::atomic<int64_t>>> running_;
};

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
    TL_ASSIGN_OR_RETURN(auto bound, delivery::FindRecord(store_, table, name));
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
  TL_ASSIGN_OR_RETURN(TaskRecord record, delivery::LoadRecord(store_, table, name));
  DeliveryTaskDescription d = std::move(record.description);
  TL_ASSIGN_OR_RETURN(TaskState state, delivery::LoadState(store_, d));
  d.status = state.status;
  {
    std::lock_guard lock(running_mu_);
    auto it = running_.find(table + "/" + name);
    if (it != running_.end()) d.status.memory_bytes = it->second->load();
  }
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
  TL_ASSIGN_OR_RETURN(TaskRecord record, delivery::LoadRecord(store_, table, name));
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
    TL_ASSIGN_OR_RETURN(bool bound, delivery::Bound(store_, r));
    if (!bound) continue;  // its table was dropped: the task went with it
    out.push_back({r.description.table, r.description.name, r.description.type});
  }
  return out;
}

Status DeliveryServiceImpl::RemoveTask(const std::string& table, const std::string& name) {
  TL_RETURN_IF_ERROR(store_->ReleaseChangeLog(table, delivery::HoldName(name)));
  // An interrupted base scan leaves its durable snapshot and spill runs: they go with the task.
  TL_ASSIGN_OR_RETURN(auto raw, store_->GetMetadata(delivery::StateKey(table, name)));
  if (raw) {
    auto state = delivery::StateFromJson(*raw);
    if (state.ok() && !state->checkpoint.empty()) {
      delivery::RemoveSpillRuns(*state);
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
  TL_RETURN_IF_ERROR(delivery::LoadRecord(store_, table, name).status());
  return RemoveTask(table, name);
}

Result<std::vector<DeliveredFile>> DeliveryServiceImpl::ListDeliveredFiles(
    const std::string& table, const std::string& name) {
  TL_RETURN_IF_ERROR(delivery::LoadRecord(store_, table, name).status());
  TL_ASSIGN_OR_RETURN(auto entries, store_->ListMetadata(delivery::FilesPrefix(table, name)));
  std::vector<DeliveredFile> files;
  for (const auto& [key, value] : entries) {
    TL_ASSIGN_OR_RETURN(delivery::FileEntry f, delivery::ParseFileEntry(value));
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
  TL_ASSIGN_OR_RETURN(auto record, delivery::FindRecord(store_, table, name));
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
  TL_ASSIGN_OR_RETURN(TaskState state, delivery::LoadState(store_, task));
  delivery::TaskRun run{store_, clock_.get(), progress_, &budget_, task,
                        state,  *stats,       {},        nullptr};
  run.scan_ranges = scan_ranges_;
  run.stop = stop;
  Status s = [&]() -> Status {
    if (state.base_done && !state.checkpoint.empty()) {
      TL_RETURN_IF_ERROR(delivery::ReleaseSnapshot(run));
    }
    if (task.type == DeliveryTaskType::kBase && state.status.finished) return Status::OK();
    TL_RETURN_IF_ERROR(Prepare(run));
    if (task.type != DeliveryTaskType::kInc && !state.base_done)
      TL_RETURN_IF_ERROR(delivery::RunBase(run));
    if (task.type == DeliveryTaskType::kBase || stats->stopped) return Status::OK();
    return delivery::RunIncremental(run, stop);
  }();
  {
    std::lock_guard lock(running_mu_);
    running_.erase(task.table + "/" + task.name);
  }
  budget_.slabs().Trim();  // what no running task uses goes back to the system
  if (!s.ok() && !run.error_saved) (void)delivery::RecordFailure(store_, task, s);
  return s.ok() ? s : s.WithContext(fmt::format("task '{}'", name));
}

Status DeliveryServiceImpl::Prepare(delivery::TaskRun& run) {
  TL_ASSIGN_OR_RETURN(TableDescription table, store_->DescribeTable(run.task.table));
  TL_ASSIGN_OR_RETURN(run.resolved, delivery::ResolveTask(run.task.config, table.meta, buckets_));
  TL_RETURN_IF_ERROR(OpenBucket(run));
  return AbortIncompleteUploads(run);
}

// What an earlier run of the task started and never finished (it was killed): a folder's
// temporaries, a remote bucket's open multipart uploads. Only this process runs the task (it
// holds the data folder), so none of them is in progress.
Status DeliveryServiceImpl::AbortIncompleteUploads(delivery::TaskRun& run) {
  delivery::FileMatcher matches = delivery::AnyTaskFile(run.task);
  for (const std::string& prefix :
       {run.resolved.prefix.StaticPrefix(), run.resolved.dirty_prefix.StaticPrefix()}) {
    Status s = run.bucket->AbortIncompleteUploads(prefix, matches);
    // A store that cannot list its uploads keeps them until its own lifecycle rules end them.
    if (!s.ok() && s.code() != StatusCode::kNotSupported) return s;
  }
  return Status::OK();
}

Status DeliveryServiceImpl::OpenBucket(delivery::TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskConfig& config = run.task.config;
  // Not request errors: the task reports them in its status, as the cloud service does.
  auto report = [&](const char* code, const Status& why) -> Status {
    state.status.error_code = code;
    state.status.error_detail = why.message();
    TL_RETURN_IF_ERROR(run.Save());
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

}  // namespace

Result<std::unique_ptr<DeliveryService>> DeliveryService::Open(TableStore* store,
                                                               const DeliveryOptions& options) {
  if (store == nullptr) return Status::InvalidArgument("delivery needs a table store");
  if (options.memory_budget_bytes < (int64_t{32} << 20)) {
    return Status::InvalidArgument(
        fmt::format("a delivery memory budget of {} bytes is too small: at least 32 MiB",
                    options.memory_budget_bytes));
  }
  if (options.scan_ranges < 0 || options.scan_ranges > 64) {
    return Status::InvalidArgument(
        fmt::format("a full delivery scans 1 to 64 key ranges at once (0: by the cores), not {}",
                    options.scan_ranges));
  }
  return std::unique_ptr<DeliveryService>(std::make_unique<DeliveryServiceImpl>(store, options));
}

Result<std::unique_ptr<DeliveryService>> DeliveryService::Open(TableStore* store, FILE* progress,
                                                               const BucketRegistry* buckets) {
  DeliveryOptions options;
  options.progress = progress;
  options.buckets = buckets;
  return Open(store, options);
}

}  // namespace tablelake
