// Options for the embedded table store, each with its default.
#pragma once

#include <cstdint>
#include <memory>

namespace tablelake {

// Time source. Tests substitute a manual clock to drive TTL and stream expiry.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  int64_t NowMillis() const { return NowMicros() / 1000; }
  // The process-wide wall clock.
  static std::shared_ptr<Clock> System();
};

struct StoreOptions {
  bool create_if_missing = true;  // Default: true
  bool read_only = false;         // open for reads only (a checkpoint). Default: false
  std::shared_ptr<Clock> clock;   // Default: Clock::System()
  // Caps on one GetRange reply, as the cloud service has them.
  int32_t max_range_rows = 5000;       // Default: 5000
  int64_t max_range_bytes = 4 << 20;   // Default: 4 MiB
  int32_t max_batch_write_rows = 200;  // Default: 200
  int32_t max_batch_get_rows = 100;    // Default: 100
  int32_t max_tables = 64;             // Default: 64
  // RocksDB block cache for table data.
  int64_t block_cache_bytes = 256 << 20;  // Default: 256 MiB
  // The longest a change record is kept for a consumer that holds it (HoldChangeLog): a
  // consumer lagging further finds its records gone and must report it.
  int32_t max_change_log_hours = 168;  // Default: 168 (7 days)
  // fsync the WAL on every commit (survives power loss, not only process crashes).
  bool sync_writes = false;  // Default: false
  // Memory a bulk load stages rows in; past it they go to sorted files in the data folder,
  // ingested all at once by the commit (BulkLoader). Smaller runs sort faster (their keys stay
  // nearer in the caches) and a wide merge takes many at once: 32 MiB loaded 2M rows faster
  // than 64 MiB, and 10M rows too.
  int64_t bulk_load_run_bytes = int64_t{32} << 20;  // Default: 32 MiB
};

}  // namespace tablelake
