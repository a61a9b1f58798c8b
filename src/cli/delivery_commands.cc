// tablelake delivery create|describe|list|delete|update|run|credentials
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/cli_util.h"
#include "delivery/credentials.h"
#include "delivery/task_config.h"
#include "fmt/format.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"

namespace tablelake::cli {
namespace {

// Config options shared by create and update; unset ones leave the config as it is.
struct ConfigArgs {
  std::optional<std::string> bucket, endpoint, prefix, dirty_prefix, role, event_time_column,
      event_time_format, time_zone, schema, compression, config_file;
  std::optional<int64_t> file_mb;
  std::optional<int32_t> flush_seconds;
  std::optional<bool> change_log_columns;
};

struct TaskArgs {
  std::string table;
  std::string name;
  std::string type = "baseinc";
  ConfigArgs config;
  bool once = false;
  bool until_synced = false;
  int64_t memory_mb = 0;  // 0: the default budget
  int ranges = 0;         // 0: delivery's default (by the cores)
};

void AddConfigOptions(CLI::App* cmd, ConfigArgs* a) {
  cmd->add_option("--bucket", a->bucket, "bucket name (OssBucket)");
  cmd->add_option("--oss-endpoint", a->endpoint,
                  "the bucket's endpoint (OssEndpoint); file:///ABS/DIR is the folder DIR/BUCKET");
  cmd->add_option("--prefix", a->prefix, "object prefix, with $yyyy $MM $dd $HH $mm");
  cmd->add_option("--dirty-prefix", a->dirty_prefix, "where dirty rows go as JSON lines");
  cmd->add_option("--role", a->role, "credential set name (OssRoleName)");
  cmd->add_option("--event-time-column", a->event_time_column, "partition by this column");
  cmd->add_option("--event-time-format", a->event_time_format,
                  "rfc822|rfc850|rfc1123|rfc3339|unix");
  cmd->add_option("--time-zone", a->time_zone, "partition time zone: UTC, +08:00, Asia/Shanghai");
  cmd->add_option("--schema", a->schema,
                  "SRC:DST:TYPE[:ENCODING],... e.g. Col1:Col1:DECIMAL(10,2)");
  cmd->add_option("--compression", a->compression, "UNCOMPRESSED|SNAPPY|GZIP|ZSTD|LZ4_RAW");
  cmd->add_option("--file-mb", a->file_mb, "a file ends past this many MiB (default 128)");
  cmd->add_option("--flush-seconds", a->flush_seconds, "incremental flush interval (default 60)");
  cmd->add_option("--config", a->config_file, "a JSON file with the config's fields");
  cmd->add_option("--change-log-columns", a->change_log_columns,
                  "true: add _op, _seq, _commit_time and deliver deletes as rows");
}

Status ApplyConfigArgs(const ConfigArgs& a, DeliveryTaskConfig* c) {
  if (a.config_file) {
    std::ifstream in(*a.config_file);
    if (!in)
      return Status::InvalidArgument(fmt::format("cannot read config file '{}'", *a.config_file));
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded())
      return Status::InvalidArgument(fmt::format("'{}' is not JSON", *a.config_file));
    TL_ASSIGN_OR_RETURN(*c, delivery::ConfigFromJson(j));
  }
  auto set = [](const std::optional<std::string>& v, std::string* out) {
    if (v) *out = *v;
  };
  set(a.bucket, &c->oss_bucket);
  set(a.endpoint, &c->oss_endpoint);
  set(a.prefix, &c->oss_prefix);
  set(a.dirty_prefix, &c->oss_dirty_prefix);
  set(a.role, &c->oss_role);
  set(a.event_time_column, &c->event_time_column);
  set(a.time_zone, &c->time_zone);
  set(a.compression, &c->compression);
  if (a.event_time_format) {
    TL_ASSIGN_OR_RETURN(c->event_time_format, delivery::ParseEventTimeFormat(*a.event_time_format));
  }
  if (a.schema) {
    TL_ASSIGN_OR_RETURN(c->schema, delivery::ParseSchemaArgument(*a.schema));
  }
  if (a.file_mb) {
    if (*a.file_mb < 1 || *a.file_mb > (int64_t{1} << 20)) {
      return Status::InvalidArgument(
          fmt::format("--file-mb takes 1 to 1048576 (1 TiB), got {}", *a.file_mb));
    }
    c->file_bytes = *a.file_mb << 20;
  }
  if (a.flush_seconds) c->flush_interval_seconds = *a.flush_seconds;
  if (a.change_log_columns) c->change_log_columns = *a.change_log_columns;
  return Status::OK();
}

nlohmann::ordered_json DescriptionJson(const DeliveryTaskDescription& d) {
  auto config = delivery::ConfigToJson(d.config);
  const DeliveryTaskStatus& s = d.status;
  nlohmann::ordered_json status = {{"phase", SyncPhaseName(s.phase)},
                                   {"current_sync_timestamp", s.current_sync_timestamp_ns},
                                   {"error", {{"code", s.error_code}, {"detail", s.error_detail}}},
                                   {"finished", s.finished},
                                   {"rows_delivered", s.rows_delivered},
                                   {"dirty_rows", s.dirty_rows},
                                   {"deletes_skipped", s.deletes_skipped},
                                   {"files_written", s.files_written},
                                   {"bytes_written", s.bytes_written},
                                   {"lag_ms", s.lag_ms},
                                   {"memory_bytes", s.memory_bytes},
                                   {"memory_peak_bytes", s.memory_peak_bytes}};
  return {{"table", d.table},
          {"name", d.name},
          {"type", DeliveryTaskTypeName(d.type)},
          {"config", nlohmann::ordered_json::parse(config.dump())},
          {"status", status}};
}

// Opens the data folder's store and its delivery service for the length of `fn(service)`.
template <typename Fn>
Status WithDelivery(const GlobalOptions& g, Access access, Fn&& fn, int64_t memory_mb = 0,
                    int ranges = 0) {
  TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, access));
  DeliveryOptions options;
  options.progress = stderr;
  if (memory_mb != 0) options.memory_budget_bytes = memory_mb * (int64_t{1} << 20);
  options.scan_ranges = ranges;
  TL_ASSIGN_OR_RETURN(auto service, OpenDelivery(g, store.get(), options));
  return fn(*service);
}

// What create-time checks cannot settle (a bucket folder that may appear before the run). A
// server's bucket folders are on its machine, not this one.
void WarnAboutBucket(const GlobalOptions& g, const DeliveryTaskConfig& config) {
  if (g.remote()) return;
  std::string warning = BucketWarning(config.oss_endpoint, config.oss_bucket);
  if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
}

Status Create(const GlobalOptions& g, const TaskArgs& a) {
  DeliveryTaskConfig config;
  TL_RETURN_IF_ERROR(ApplyConfigArgs(a.config, &config));
  TL_ASSIGN_OR_RETURN(DeliveryTaskType type, delivery::ParseTaskType(a.type));
  return WithDelivery(g, Access::kWrite, [&](DeliveryService& service) -> Status {
    TL_RETURN_IF_ERROR(service.CreateDeliveryTask(a.table, a.name, config, type));
    std::fprintf(stderr, "created delivery task '%s' (%s) on table '%s'; %s\n", a.name.c_str(),
                 DeliveryTaskTypeName(type), a.table.c_str(),
                 g.remote() ? "the server runs it" : "`tablelake delivery run` delivers it");
    WarnAboutBucket(g, config);
    return Status::OK();
  });
}

Status Update(const GlobalOptions& g, const TaskArgs& a) {
  return WithDelivery(g, Access::kWrite, [&](DeliveryService& service) -> Status {
    TL_ASSIGN_OR_RETURN(DeliveryTaskDescription d, service.DescribeDeliveryTask(a.table, a.name));
    TL_RETURN_IF_ERROR(ApplyConfigArgs(a.config, &d.config));
    TL_RETURN_IF_ERROR(service.UpdateDeliveryTask(a.table, a.name, d.config));
    std::fprintf(stderr, "updated delivery task '%s'\n", a.name.c_str());
    WarnAboutBucket(g, d.config);
    return Status::OK();
  });
}

std::string Bytes(int64_t n) {
  if (n < 10 * 1024) return fmt::format("{} B", n);
  if (n < 10 * 1024 * 1024) return fmt::format("{:.1f} KiB", n / 1024.0);
  if (n < 10LL * 1024 * 1024 * 1024) return fmt::format("{:.1f} MiB", n / 1048576.0);
  return fmt::format("{:.1f} GiB", n / 1073741824.0);
}

// "1 row", "2 rows".
std::string Count(int64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// One line of what a run did: rows, dirty rows and where they went, deletes, files, time.
std::string RunSummary(const DeliveryTaskDescription& d, const DeliveryRunStats& s,
                       double seconds) {
  std::string dirty;
  if (s.dirty_rows > 0) {
    dirty = d.config.oss_dirty_prefix.empty()
                ? fmt::format(", {} dropped (set --dirty-prefix to keep them)",
                              Count(s.dirty_rows, "dirty row"))
                : fmt::format(", {} written as JSON lines under '{}'",
                              Count(s.dirty_rows, "dirty row"), d.config.oss_dirty_prefix);
  }
  std::string deletes;
  if (s.deletes_skipped > 0) {
    deletes = fmt::format(", {} skipped (--change-log-columns true delivers them)",
                          Count(s.deletes_skipped, "delete"));
  }
  std::string grouping;
  if (s.spill_runs > 0) {
    grouping = fmt::format(", rows grouped through {} ({}; --memory-mb spills less)",
                           Count(s.spill_runs, "spill run"), Bytes(s.spill_bytes));
  }
  std::string ranges;
  if (!s.scan_ranges.empty()) {
    ranges = fmt::format(", {} scanned at once (rows, and rows/s of the range's thread:",
                         Count(static_cast<int64_t>(s.scan_ranges.size()), "key range"));
    for (const auto& r : s.scan_ranges) {
      ranges += fmt::format("{} {} at {:.0f}", &r == &s.scan_ranges[0] ? "" : ";", r.rows,
                            r.busy_seconds > 0 ? r.rows / r.busy_seconds : 0.0);
    }
    ranges += ")";
  }
  // A resumed run publishes rows that the interrupted one read and grouped: rows over its own
  // seconds would be a rate of work it did not all do.
  const std::string rate =
      s.resumed   ? "; part of the work was the interrupted run's, so no rows/s"
      : s.stopped ? ""
                  : fmt::format(" ({:.0f} rows/s)", seconds > 0 ? s.rows_delivered / seconds : 0.0);
  const char* stopped =
      s.stopped ? " (stopped before its snapshot was all delivered: `delivery run` resumes it)"
                : "";
  return fmt::format("task '{}': delivered {} in {} ({}){}{}{}{}{}{} in {:.2f} s{}", d.name,
                     Count(s.rows_delivered, "row"), Count(s.files_written, "file"),
                     Bytes(s.bytes_written), dirty, deletes, grouping, ranges,
                     s.resumed ? " (resumed an interrupted run)" : "", stopped, seconds, rate);
}

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

// Runs the tasks, one thread each. --once / --until-synced: until every write committed before
// the start is delivered (a BaseTask: until its snapshot is). Otherwise until SIGINT/SIGTERM,
// after which each task publishes what it holds and stops. Each task ends with a summary line.
Status Run(const GlobalOptions& g, const TaskArgs& a) {
  auto start = CommandStart();
  if (a.name.empty() != a.table.empty()) {
    return Status::InvalidArgument(
        "delivery run: give both --table and --name, or neither (every task)");
  }
  if (g.remote()) {
    return Status::InvalidArgument(
        "delivery run: a server runs its delivery tasks itself; `delivery list` and `delivery "
        "describe` show how they do");
  }
  return WithDelivery(
      g, Access::kWrite,
      [&](DeliveryService& service) -> Status {
        std::vector<DeliveryTaskInfo> tasks;
        if (a.name.empty()) {
          TL_ASSIGN_OR_RETURN(tasks, service.ListDeliveryTask(""));
          if (tasks.empty()) std::fprintf(stderr, "delivery run: there are no delivery tasks\n");
        } else {
          TL_ASSIGN_OR_RETURN(auto d, service.DescribeDeliveryTask(a.table, a.name));
          tasks.push_back({d.table, d.name, d.type});
        }
        bool forever = !a.once && !a.until_synced;
        if (forever) {
          std::signal(SIGINT, OnStopSignal);
          std::signal(SIGTERM, OnStopSignal);
        }
        std::vector<Status> results(tasks.size());
        std::vector<DeliveryRunStats> stats(tasks.size());
        std::vector<std::thread> threads;
        for (size_t i = 0; i < tasks.size(); ++i) {
          threads.emplace_back([&, i] {
            results[i] = service.RunTask(tasks[i].table, tasks[i].name, forever ? &g_stop : nullptr,
                                         &stats[i]);
            if (!results[i].ok() && forever) g_stop = true;  // one failing task stops the daemon
          });
        }
        for (auto& t : threads) t.join();
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::vector<Status> failed;
        for (size_t i = 0; i < tasks.size(); ++i) {
          auto d = service.DescribeDeliveryTask(tasks[i].table, tasks[i].name);
          if (d.ok()) std::fprintf(stderr, "%s\n", RunSummary(*d, stats[i], seconds).c_str());
          if (!results[i].ok()) failed.push_back(results[i]);
        }
        if (failed.size() <= 1) return failed.empty() ? Status::OK() : failed[0];
        std::string all;
        for (const auto& f : failed) all += (all.empty() ? "" : "; ") + f.message();
        return Status(failed[0].code(),
                      fmt::format("{} of {} tasks failed: {}", failed.size(), tasks.size(), all));
      },
      a.memory_mb, a.ranges);
}

constexpr const char* kClientSecretEnv = "TABLELAKE_ACCESS_KEY_SECRET";

struct CredentialArgs {
  std::string role, access_key_id, region, oss_signature;
  std::string secret_env = kClientSecretEnv;
  std::string token_env = "TABLELAKE_SECURITY_TOKEN";
};

// The secret comes from an environment variable or standard input, never the command line,
// where other users of the machine could read it.
Status PutCredentials(const GlobalOptions& g, const CredentialArgs& a) {
  TL_RETURN_IF_ERROR(delivery::ValidateRoleName(a.role));
  if (!a.oss_signature.empty() && Lower(a.oss_signature) != "v1" &&
      Lower(a.oss_signature) != "v4") {
    return Status::InvalidArgument(
        fmt::format("--oss-signature takes v1 or v4, got '{}'", a.oss_signature));
  }
  if (g.remote() && a.secret_env == kClientSecretEnv) {
    return Status::InvalidArgument(fmt::format(
        "with --endpoint, {} holds the secret this command signs with, not the bucket's: give "
        "the bucket key's secret in another variable (--secret-env VAR)",
        kClientSecretEnv));
  }
  CredentialSet keys{a.access_key_id, "", "", a.region, Lower(a.oss_signature) == "v4" ? "v4" : ""};
  if (const char* secret = std::getenv(a.secret_env.c_str())) {
    keys.access_key_secret = secret;
  } else if (!std::getline(std::cin, keys.access_key_secret)) {
    return Status::InvalidArgument(
        fmt::format("no access key secret: set {} or give it on standard input", a.secret_env));
  }
  if (const char* token = std::getenv(a.token_env.c_str())) keys.security_token = token;
  // Setting up keys may come before the first table: this may create the data folder.
  return WithDelivery(g, Access::kCreate, [&](DeliveryService& service) -> Status {
    TL_RETURN_IF_ERROR(service.PutCredentialSet(a.role, keys));
    std::fprintf(stderr, "stored credential set '%s' (access key id %s)\n", a.role.c_str(),
                 a.access_key_id.c_str());
    return Status::OK();
  });
}

std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "-";
  time_t secs = static_cast<time_t>(ms / 1000);
  tm t;
  gmtime_r(&secs, &t);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

// Prints rows as columns padded to their widest cell.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

Status ListTasks(DeliveryService& service, const std::string& table, bool as_json) {
  TL_ASSIGN_OR_RETURN(auto tasks, service.ListDeliveryTask(table));
  std::vector<std::vector<std::string>> rows = {
      {"TABLE", "TASK", "TYPE", "PHASE", "ROWS", "DIRTY", "LAG", "ERROR"}};
  for (const auto& t : tasks) {
    TL_ASSIGN_OR_RETURN(auto d, service.DescribeDeliveryTask(t.table, t.name));
    if (as_json) {
      PrintJsonLine(DescriptionJson(d));
      continue;
    }
    const DeliveryTaskStatus& s = d.status;
    std::string phase = s.finished ? "FINISHED" : SyncPhaseName(s.phase);
    std::string lag = s.phase == SyncPhase::kIncr && !s.finished
                          ? fmt::format("{:.1f} s", s.lag_ms / 1000.0)
                          : "-";
    std::string error = s.error_code.empty() ? "-" : s.error_code + ": " + s.error_detail;
    rows.push_back({d.table, d.name, DeliveryTaskTypeName(d.type), phase,
                    std::to_string(s.rows_delivered), std::to_string(s.dirty_rows), lag, error});
  }
  if (!as_json) PrintTable(rows);
  return Status::OK();
}

Status ListFiles(DeliveryService& service, const TaskArgs& a, bool as_json) {
  TL_ASSIGN_OR_RETURN(auto files, service.ListDeliveredFiles(a.table, a.name));
  std::vector<std::vector<std::string>> rows = {{"KEY", "ROWS", "BYTES", "TIME"}};
  for (const auto& f : files) {
    if (as_json) {
      PrintJsonLine(
          {{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}, {"time", FormatTime(f.time_ms)}});
      continue;
    }
    rows.push_back({f.key, std::to_string(f.rows), std::to_string(f.bytes), FormatTime(f.time_ms)});
  }
  if (!as_json) PrintTable(rows);
  return Status::OK();
}

void RegisterCredentialCommands(CLI::App* delivery, GlobalOptions& g, Status& status) {
  auto* credentials = delivery->add_subcommand(
      "credentials", "credential sets for S3/OSS endpoints, named by a task's --role");
  credentials->require_subcommand(1);
  auto put_args = std::make_shared<CredentialArgs>();
  auto* put = credentials->add_subcommand("put", "add or replace a credential set");
  AddGlobalOptions(put, &g);
  put->add_option("role", put_args->role, "the set's name, as tasks' --role gives it")->required();
  put->add_option("--access-key-id", put_args->access_key_id, "access key id")->required();
  put->add_option("--region", put_args->region,
                  "region for SigV4 when the endpoint names none (default us-east-1)");
  put->add_option("--oss-signature", put_args->oss_signature,
                  "OSS endpoints: v1 (default) or v4 (OSS4-HMAC-SHA256, needs a region)");
  put->add_option("--secret-env", put_args->secret_env,
                  "variable holding the secret (else read from stdin)")
      ->capture_default_str();
  put->add_option("--token-env", put_args->token_env, "variable holding an STS token, if any")
      ->capture_default_str();
  put->callback([&g, &status, put_args] { status = PutCredentials(g, *put_args); });

  auto* list = credentials->add_subcommand("list", "list credential sets (no secrets)");
  AddGlobalOptions(list, &g);
  list->callback([&g, &status] {
    status = WithDelivery(g, Access::kRead, [&](DeliveryService& service) -> Status {
      TL_ASSIGN_OR_RETURN(auto sets, service.ListCredentialSets());
      for (const auto& [role, id] : sets) PrintJsonLine({{"role", role}, {"access_key_id", id}});
      return Status::OK();
    });
  });

  auto role = std::make_shared<std::string>();
  auto* del = credentials->add_subcommand("delete", "delete a credential set");
  AddGlobalOptions(del, &g);
  del->add_option("role", *role, "the set's name")->required();
  del->callback([&g, &status, role] {
    status = WithDelivery(g, Access::kWrite, [&](DeliveryService& service) -> Status {
      TL_RETURN_IF_ERROR(service.DeleteCredentialSet(*role));
      std::fprintf(stderr, "deleted credential set '%s'\n", role->c_str());
      return Status::OK();
    });
  });
}

}  // namespace

void RegisterDeliveryCommands(CLI::App& app, GlobalOptions& g, Status& status) {
  auto* delivery = app.add_subcommand("delivery", "data lake delivery tasks");
  delivery->require_subcommand(1);
  AddGlobalOptions(delivery, &g);
  auto task_options = [&](CLI::App* cmd, TaskArgs* a, bool required) {
    AddGlobalOptions(cmd, &g);
    auto* table = cmd->add_option("--table", a->table, "table name");
    auto* name = cmd->add_option("--name", a->name, "task name");
    if (required) {
      table->required();
      name->required();
    }
  };

  auto create_args = std::make_shared<TaskArgs>();
  auto* create = delivery->add_subcommand("create", "create a delivery task");
  task_options(create, create_args.get(), true);
  create->add_option("--type", create_args->type, "base, inc or baseinc (default)");
  AddConfigOptions(create, &create_args->config);
  create->callback([&g, &status, create_args] { status = Create(g, *create_args); });

  auto update_args = std::make_shared<TaskArgs>();
  auto* update = delivery->add_subcommand("update", "change a delivery task's config");
  task_options(update, update_args.get(), true);
  AddConfigOptions(update, &update_args->config);
  update->callback([&g, &status, update_args] { status = Update(g, *update_args); });

  auto describe_args = std::make_shared<TaskArgs>();
  auto* describe = delivery->add_subcommand("describe", "print a task's config and status as JSON");
  task_options(describe, describe_args.get(), true);
  describe->callback([&g, &status, describe_args] {
    status = WithDelivery(g, Access::kRead, [&](DeliveryService& service) -> Status {
      TL_ASSIGN_OR_RETURN(auto d,
                          service.DescribeDeliveryTask(describe_args->table, describe_args->name));
      PrintJsonLine(DescriptionJson(d));
      return Status::OK();
    });
  });

  auto list_args = std::make_shared<TaskArgs>();
  auto list_json = std::make_shared<bool>(false);
  auto* list = delivery->add_subcommand("list", "list delivery tasks with their phase and lag");
  task_options(list, list_args.get(), false);
  list->add_flag("--json", *list_json, "one JSON object per task (its describe output)");
  list->callback([&g, &status, list_args, list_json] {
    status = WithDelivery(g, Access::kRead, [&](DeliveryService& service) {
      return ListTasks(service, list_args->table, *list_json);
    });
  });

  auto files_args = std::make_shared<TaskArgs>();
  auto files_json = std::make_shared<bool>(false);
  auto* files = delivery->add_subcommand("files", "list the Parquet files a task published");
  task_options(files, files_args.get(), true);
  files->add_flag("--json", *files_json, "one JSON object per file");
  files->callback([&g, &status, files_args, files_json] {
    status = WithDelivery(g, Access::kRead, [&](DeliveryService& service) {
      return ListFiles(service, *files_args, *files_json);
    });
  });

  auto delete_args = std::make_shared<TaskArgs>();
  auto* del = delivery->add_subcommand("delete", "delete a delivery task (delivered files stay)");
  task_options(del, delete_args.get(), true);
  del->callback([&g, &status, delete_args] {
    status = WithDelivery(g, Access::kWrite, [&](DeliveryService& service) -> Status {
      TL_RETURN_IF_ERROR(service.DeleteDeliveryTask(delete_args->table, delete_args->name));
      std::fprintf(stderr, "deleted delivery task '%s' (its delivered files stay)\n",
                   delete_args->name.c_str());
      return Status::OK();
    });
  });

  auto run_args = std::make_shared<TaskArgs>();
  auto* run = delivery->add_subcommand("run", "run delivery tasks in this process");
  task_options(run, run_args.get(), false);
  run->add_flag("--once", run_args->once, "deliver what there is now and exit");
  run->add_flag("--until-synced", run_args->until_synced,
                "exit once every earlier write is delivered");
  run->add_option("--memory-mb", run_args->memory_mb,
                  "memory for delivery: grouped rows, open files (default 256; more spills less)")
      ->check(CLI::Range(32, 1 << 20));
  run->add_option("--ranges", run_args->ranges,
                  "key ranges a full delivery scans at once, each on a core (default: a core "
                  "each, at most 8; fixed when a task's snapshot is taken)")
      ->check(CLI::Range(1, 64));
  run->callback([&g, &status, run_args] { status = Run(g, *run_args); });

  RegisterCredentialCommands(delivery, g, status);
}

}  // namespace tablelake::cli
