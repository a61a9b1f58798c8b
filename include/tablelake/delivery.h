// Data lake delivery: tasks that copy a table's rows into a bucket as Parquet files in
// hive-style time partitions (Tablestore's CreateDeliveryTask & co.).
//
// A task is (table, name, config, type). BaseTask delivers one consistent snapshot of the table;
// IncTask, every change committed after the task was created; BaseIncTask, the snapshot and
// then every change after it. Files are published atomically under names
// derived from the task and the data they hold, and a task's progress is checkpointed in the
// table store, so a re-run after a crash leaves every row in the bucket exactly once.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tablelake/credentials.h"
#include "tablelake/status.h"
#include "tablelake/table_store.h"

namespace tablelake {

enum class DeliveryTaskType { kBase = 0, kInc = 1, kBaseInc = 2 };
enum class EventTimeFormat { kRfc822 = 1, kRfc850 = 2, kRfc1123 = 3, kRfc3339 = 4, kUnix = 5 };
enum class SyncPhase { kInit = 0, kFull = 1, kIncr = 2 };

const char* DeliveryTaskTypeName(DeliveryTaskType t);  // BaseTask, IncTask, BaseIncTask
const char* EventTimeFormatName(EventTimeFormat f);    // RFC822 ... Unix
const char* SyncPhaseName(SyncPhase p);                // INIT, FULL, INCR

// One output column (Tablestore's ParquetSchema).
struct DeliveryColumn {
  std::string source;              // the table column: a primary key or attribute column
  std::string target;              // the Parquet column name. Default: `source`
  std::string type;                // BOOL, INT32, INT64, FLOAT, DOUBLE, UTF8, DATE, DECIMAL,
                                   // TIME_MILLIS, TIME_MICROS, TIMESTAMP_MILLIS,
                                   // TIMESTAMP_MICROS, INT96, LIST, MAP, INTERVAL
  std::string encoding = "PLAIN";  // PLAIN, PLAIN_DICTIONARY, DELTA_BINARY_PACKED,
                                   // DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY. Default: PLAIN
  std::string type_extend;         // DECIMAL: "(p,s)" or "p,s"; LIST/MAP: the element type
};

struct DeliveryTaskConfig {
  std::string oss_prefix;  // object key prefix; may hold $yyyy $MM $dd $HH $mm
  std::string oss_bucket;
  std::string oss_endpoint;      // file:///ABS/DIR: the bucket is the folder DIR/<bucket>
  std::string oss_role;          // names a credential set (PutCredentialSet), or an ARN
                                 // ending in role/<name>; S3/OSS endpoints need one
  std::string oss_dirty_prefix;  // where dirty rows go as JSON lines; empty: count and drop
  std::string format = "Parquet";
  std::string event_time_column;  // partition by this column instead of the write time
  EventTimeFormat event_time_format = EventTimeFormat::kRfc3339;
  std::string time_zone = "UTC";  // partition time zone: UTC, +HH:MM or an IANA name
  std::vector<DeliveryColumn> schema;
  // Beyond the seed.
  std::string compression = "SNAPPY";   // UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW
  int64_t file_bytes = 128 << 20;       // a partition's file ends past this. Default 128 MiB
  int32_t flush_interval_seconds = 60;  // incremental time bound, 1..3600. Default: 60
  // Adds _op (PUT, UPDATE, DELETE), _seq and _commit_time columns and delivers deletes as rows
  // (key columns set, the rest null): the output becomes a change log a lake engine can merge.
  // Snapshot rows carry _op PUT and the snapshot's sequence. Default: false (deletes skipped)
  bool change_log_columns = false;
};

struct DeliveryTaskStatus {
  SyncPhase phase = SyncPhase::kInit;
  // Every write committed at or before this instant is delivered and visible (ns since epoch).
  int64_t current_sync_timestamp_ns = 0;
  std::string error_code;  // empty when healthy; INVALID_OSS_BUCKET, UNAUTHORIZED, ...
  std::string error_detail;
  // Beyond the seed.
  int64_t rows_delivered = 0;
  int64_t dirty_rows = 0;
  int64_t deletes_skipped = 0;
  int64_t files_written = 0;
  int64_t bytes_written = 0;
  int64_t lag_ms = 0;     // incremental phase: now minus current_sync_timestamp (creation before)
  bool finished = false;  // a BaseTask that has delivered its snapshot
  // Memory: what the task holds now of the delivery budget (grouped rows, open files) while
  // this service runs it, and the most its runs held, as of its last commit.
  int64_t memory_bytes = 0;
  int64_t memory_peak_bytes = 0;
};

struct DeliveryTaskDescription {
  std::string table;
  std::string name;
  DeliveryTaskType type = DeliveryTaskType::kBaseInc;
  DeliveryTaskConfig config;
  DeliveryTaskStatus status;
  int64_t create_time_us = 0;
};

// What one RunTask call delivered (the task's status holds the totals).
struct DeliveryRunStats {
  int64_t rows_delivered = 0;
  int64_t dirty_rows = 0;
  int64_t deletes_skipped = 0;
  int64_t files_written = 0;  // Parquet files
  int64_t bytes_written = 0;
  int64_t dirty_files = 0;  // JSON-lines files of dirty rows
  bool resumed = false;     // the run continued an interrupted snapshot scan or batch
  // Asked to stop, the run ended its snapshot scan (or merge) before the end, having committed
  // what it held: the next run resumes it.
  bool stopped = false;
  // Grouping rows by partition: sorted runs the base scan spilled to the data folder (the
  // memory budget was spent), and the most bytes of grouped rows and open files the run held.
  int64_t spill_runs = 0;
  int64_t spill_bytes = 0;
  int64_t peak_memory_bytes = 0;
  // The base scan's key ranges when it read several in parallel: each one's number in the
  // task's split, the rows it took in this run, and the seconds its thread spent reading and
  // converting them.
  struct ScanRange {
    int64_t index = 0;
    int64_t rows = 0;
    double busy_seconds = 0;
  };
  std::vector<ScanRange> scan_ranges;
};

// A file a task published, as its checkpoint records it.
struct DeliveredFile {
  std::string key;  // the object's key in the bucket
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t time_ms = 0;  // when it was committed
};

struct DeliveryTaskInfo {
  std::string table;
  std::string name;
  DeliveryTaskType type;
};

class BucketRegistry;  // src/objectstore/object_store.h

struct DeliveryOptions {
  FILE* progress = nullptr;  // long runs report progress lines here (a bar on a terminal)
  // How tasks reach their buckets (borrowed). Default: the built-in file, S3 and OSS stores.
  const BucketRegistry* buckets = nullptr;
  // Memory delivery may hold in this process, shared by the tasks it runs: rows grouped by
  // partition, the open files' row groups and queued batches. When grouped rows fill it, a
  // full delivery spills them to sorted runs in the data folder and an incremental batch
  // writes its largest partitions out. Default: 256 MiB.
  int64_t memory_budget_bytes = int64_t{256} << 20;
  // Key ranges a full delivery (BaseTask, BaseIncTask's first phase) scans at once, each read
  // and converted on a thread of its own into the one grouping (so no more files). A table is
  // split when an attempt starts, into parts of about equal size of at least 1 MiB stored, and
  // each range's position is kept in the task's state. 0: by the cores, at most 8 - one per core
  // for a task whose prefix makes partitions (its rows are grouped), half the cores for a task
  // of one partition (its rows stream into one file, which one thread converts best).
  int scan_ranges = 0;
};

class DeliveryService {
 public:
  static Result<std::unique_ptr<DeliveryService>> Open(TableStore* store,
                                                       const DeliveryOptions& options);
  // Borrows `store`, which must outlive the service. Long runs report progress lines to
  // `progress` (a progress bar on a terminal) when it is not null. Tasks reach their buckets
  // through `buckets` (borrowed; default: the built-in file, S3 and OSS stores).
  static Result<std::unique_ptr<DeliveryService>> Open(TableStore* store, FILE* progress = nullptr,
                                                       const BucketRegistry* buckets = nullptr);
  virtual ~DeliveryService() = default;

  // Validates everything first: nothing is created when any check fails.
  virtual Status CreateDeliveryTask(const std::string& table, const std::string& name,
                                    const DeliveryTaskConfig& config, DeliveryTaskType type) = 0;
  virtual Status UpdateDeliveryTask(const std::string& table, const std::string& name,
                                    const DeliveryTaskConfig& config) = 0;
  virtual Result<DeliveryTaskDescription> DescribeDeliveryTask(const std::string& table,
                                                               const std::string& name) = 0;
  // Every task of `table`, or of every table when `table` is empty.
  virtual Result<std::vector<DeliveryTaskInfo>> ListDeliveryTask(const std::string& table) = 0;
  // Objects already delivered stay in the bucket.
  virtual Status DeleteDeliveryTask(const std::string& table, const std::string& name) = 0;
  // Every Parquet file the task published and still counts, oldest first.
  virtual Result<std::vector<DeliveredFile>> ListDeliveredFiles(const std::string& table,
                                                                const std::string& name) = 0;
  // Drops `table` and deletes its tasks (their delivered objects stay); returns the tasks'
  // names. A task is bound to its table's identity, so a table dropped by
  // TableStore::DeleteTable leaves tasks that report it and never attach to a new table of
  // the same name.
  virtual Result<std::vector<std::string>> DropTable(const std::string& table) = 0;

  // Credential sets that tasks' OssRoleName names. Putting one replaces a set of that role;
  // listing returns (role, access key id) pairs: secrets are only read by running tasks.
  virtual Status PutCredentialSet(const std::string& role, const CredentialSet& keys) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListCredentialSets() = 0;
  virtual Status DeleteCredentialSet(const std::string& role) = 0;

  // Runs one task. Without `stop`: until it has nothing more to do now - a BaseTask delivers its
  // snapshot and finishes (a finished one returns at once); an incremental task delivers every
  // write committed before the call, publishes, and returns. With `stop`: keeps delivering,
  // publishing on the task's size and time bounds, until *stop becomes true.
  // `stats`, when given, receives what this call delivered, also when it fails.
  virtual Status RunTask(const std::string& table, const std::string& name,
                         const std::atomic<bool>* stop = nullptr,
                         DeliveryRunStats* stats = nullptr) = 0;
};

}  // namespace tablelake
