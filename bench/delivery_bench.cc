// Delivery throughput and lag, beside their peers in the same run.
//
//   delivery_bench [ROWS]   (default 10,000,000)
//
// 1. BaseTask: a table of ROWS rows (PK1 INTEGER random, PK2 STRING 12 bytes, Col1 DOUBLE, Col2
//    STRING 40 bytes, Col3 INTEGER; loaded in random key order) delivered as SNAPSHOT Parquet,
//    with one key range and with a range per core (at most 8; rows and rows/s per range),
//    beside a plain scan of the same table (the physical limit of reading it) and DuckDB writing
//    the same number of rows of the same shape to Parquet with its default threads.
// 2. IncTask: 10,000 writes/s for 15 s while a task runs with a 1 s flush interval; the lag
//    (now minus the task's current_sync_timestamp) is sampled every 100 ms.
// 3. IncTask over many partitions: 20,000 writes/s for 60 s whose event times spread over
//    5,000 hourly partitions, flushed every 5 s within the default memory budget: files per
//    flush against the partitions it touched, lag, and the process's peak RSS over the run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "tablelake/delivery.h"

using namespace tablelake;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

DeliveryTaskConfig Config(const fs::path& lake, int flush_seconds) {
  DeliveryTaskConfig c;
  c.oss_bucket = "bucket";
  c.oss_endpoint = "file://" + lake.string();
  c.oss_prefix = "out/$yyyy";
  c.flush_interval_seconds = flush_seconds;
  c.schema = {{"PK1", "PK1", "INT64"},
              {"PK2", "PK2", "UTF8"},
              {"Col1", "Col1", "DOUBLE"},
              {"Col2", "Col2", "UTF8"},
              {"Col3", "Col3", "INT64"}};
  return c;
}

void Load(TableStore& store, size_t rows) {
  std::mt19937_64 rng(1);
  int64_t ts = Clock::System()->NowMillis();
  char name[32];
  for (size_t i = 0; i < rows; i += 200) {
    std::vector<BatchWriteItem> items;
    for (size_t j = i; j < std::min(rows, i + 200); ++j) {
      std::snprintf(name, sizeof(name), "user%08zu", j % 100000000);
      BatchWriteItem item;
      item.put = {
          "bench",
          {{"PK1", Value::Integer(static_cast<int64_t>(rng() >> 1))}, {"PK2", Value::String(name)}},
          {{"Col1", Value::Double(static_cast<double>(j) * 0.25), ts},
           {"Col2", Value::String(std::string(40, static_cast<char>('a' + j % 26))), ts},
           {"Col3", Value::Integer(static_cast<int64_t>(j)), ts}},
          {},
          {}};
      items.push_back(std::move(item));
    }
    for (const auto& r : store.BatchWriteRow(items)) {
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        std::exit(1);
      }
    }
    if (i % 1000000 == 0) std::fprintf(stderr, "\rloading: %zu rows", i);
  }
  std::fprintf(stderr, "\rloaded %zu rows          \n", rows);
}

// DuckDB copying the same rows to Parquet with its defaults (all its threads); `*threads` says
// how many.
double DuckDbSeconds(size_t rows, const fs::path& out, int* threads) {
  // The same shape: BIGINT, 12-byte text, DOUBLE, 40-byte text, BIGINT, SNAPPY.
  std::string sql =
      "CREATE TABLE t AS SELECT (hash(range) >> 1)::BIGINT AS PK1, 'user' || "
      "lpad(CAST(range % 100000000 AS VARCHAR), 8, '0') AS PK2, CAST(range AS DOUBLE) * 0.25 AS "
      "Col1, repeat(chr(97 + (range % 26)::INTEGER), 40) AS Col2, range AS Col3 FROM range(" +
      std::to_string(rows) + ");";
  std::string script =
      "import { createRequire } from 'module';"
      "const require = createRequire('" +
      std::string(TABLELAKE_SOURCE_DIR) +
      "/tests/interop/package.json');"
      "const { DuckDBInstance } = require('@duckdb/node-api');"
      "const db = await (await DuckDBInstance.create(':memory:')).connect();"
      "await db.run(`" +
      sql +
      "`);"
      "const t = process.hrtime.bigint();"
      "await db.run(`COPY t TO '" +
      out.string() +
      "' (FORMAT parquet, COMPRESSION snappy)`);"
      "const [{ n }] = (await db.runAndReadAll(`SELECT current_setting('threads') AS n`))"
      ".getRowObjectsJson();"
      "console.log(Number(process.hrtime.bigint() - t) / 1e9, n);";
  fs::path file = out.parent_path() / "duck.mjs";
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs(script.c_str(), f);
  std::fclose(f);
  FILE* p = popen(("node '" + file.string() + "'").c_str(), "r");
  char buf[128] = {0};
  double seconds = -1;
  if (p && std::fgets(buf, sizeof(buf), p) && std::sscanf(buf, "%lf %d", &seconds, threads) != 2) {
    seconds = -1;
  }
  if (p) pclose(p);
  return seconds;
}

// The process's peak RSS since the last ResetPeakRss, in MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Samples a task's lag (now minus its current sync time) every 100 ms while `running`.
struct LagSampler {
  double max = 0, sum = 0;
  int samples = 0;
  void Sample(DeliveryService& service, const std::string& table, const std::string& name) {
    auto d = service.DescribeDeliveryTask(table, name);
    if (!d.ok()) return;
    double lag = (Clock::System()->NowMicros() - d->status.current_sync_timestamp_ns / 1000) / 1e6;
    max = std::max(max, lag);
    sum += lag;
    ++samples;
  }
  double mean() const { return samples ? sum / samples : 0; }
};

// Incremental delivery of 20,000 writes/s over 5,000 hourly partitions (scenario 3).
int ManyPartitionsInc(TableStore& store, DeliveryService& service, const fs::path& root) {
  constexpr int kPartitions = 5000, kRate = 20000, kSeconds = 60, kFlush = 5;
  if (!store.CreateTable({"events", {{"id", PrimaryKeyType::kInteger}}, {}}).ok()) return 1;
  DeliveryTaskConfig c;
  c.oss_bucket = "bucket";
  c.oss_endpoint = "file://" + (root / "lake").string();
  c.oss_prefix = "ev/$yyyy/$MM/$dd/$HH";
  c.event_time_column = "ts";
  c.event_time_format = EventTimeFormat::kUnix;
  c.flush_interval_seconds = kFlush;
  c.schema = {{"id", "id", "INT64"}, {"ts", "ts", "INT64"}, {"v", "v", "UTF8"}};
  if (!service.CreateDeliveryTask("events", "wide", c, DeliveryTaskType::kInc).ok()) return 1;
  ResetPeakRss();
  std::atomic<bool> stop{false};
  Status run;
  std::thread runner([&] { run = service.RunTask("events", "wide", &stop); });
  std::atomic<int64_t> written{0};
  std::thread writer([&] {
    std::mt19937_64 rng(3);
    const int64_t first_hour = Clock::System()->NowMillis() / 3600000 - kPartitions;
    auto begin = Steady::now();
    for (int64_t i = 0; i < int64_t{kRate} * kSeconds; i += 100) {
      std::this_thread::sleep_until(begin + std::chrono::microseconds(i * 1000000 / kRate));
      std::vector<BatchWriteItem> items(100);
      for (int64_t j = 0; j < 100; ++j) {
        int64_t ts = (first_hour + static_cast<int64_t>(rng() % kPartitions)) * 3600 + j;
        items[j].put = {"events",
                        {{"id", Value::Integer(i + j)}},
                        {{"ts", Value::Integer(ts)}, {"v", Value::String(std::string(40, 'v'))}},
                        {},
                        {}};
      }
      for (const auto& r : store.BatchWriteRow(items)) written += r.ok();
    }
  });
  LagSampler lag;
  auto begin = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(kFlush + 2));  // past the first flush
  while (Since(begin) < kSeconds) {
    lag.Sample(service, "events", "wide");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writer.join();
  double rate = written / Since(begin);
  // The last writes go out with the next flush.
  int64_t delivered = 0;
  for (auto until = Steady::now() + std::chrono::seconds(3 * kFlush); Steady::now() < until;) {
    delivered = service.DescribeDeliveryTask("events", "wide")->status.rows_delivered;
    if (delivered == written) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop = true;
  runner.join();
  double peak_rss = PeakRssMiB();
  // Files per flush: a flush's files share the stem <table>-<task>-inc<first sequence>.
  std::map<std::string, std::pair<std::set<std::string>, int>> flushes;  // partitions, files
  for (const auto& e : fs::recursive_directory_iterator(root / "lake" / "bucket" / "ev")) {
    std::string file = e.path().filename().string();
    if (e.path().extension() != ".parquet") continue;
    auto& [partitions, files] = flushes[file.substr(0, file.rfind('-'))];
    partitions.insert(e.path().parent_path().string());
    ++files;
  }
  size_t files = 0, partitions = 0, max_excess = 0;
  for (const auto& [stem, f] : flushes) {
    files += f.second;
    partitions += f.first.size();
    max_excess = std::max(max_excess, f.second - f.first.size());
  }
  auto d = service.DescribeDeliveryTask("events", "wide");
  std::printf(
      "IncTask at %.0f writes/s over %d hourly partitions, flush interval %d s, %d s: %lld of %lld "
      "rows delivered in %zu flushes, %.0f files and %.0f partitions touched per flush (files "
      "past one per partition: %zu), lag mean %.2f s, max %.2f s, peak RSS %.0f MiB (budget %lld "
      "MiB, delivery's own peak %.0f MiB; target: no file past one per partition, lag under %d s + "
      "2 "
      "s, peak RSS under the budget + 64 MiB)\n",
      rate, kPartitions, kFlush, kSeconds, static_cast<long long>(delivered),
      static_cast<long long>(written.load()), flushes.size(),
      static_cast<double>(files) / std::max<size_t>(1, flushes.size()),
      static_cast<double>(partitions) / std::max<size_t>(1, flushes.size()), max_excess, lag.mean(),
      lag.max, peak_rss, static_cast<long long>(DeliveryOptions().memory_budget_bytes >> 20),
      d->status.memory_peak_bytes / 1048576.0, kFlush);
  if (!run.ok()) std::fprintf(stderr, "%s\n", run.ToString().c_str());
  return run.ok() && delivered == written ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t rows = argc > 1 ? std::stoull(argv[1]) : 10000000;
  fs::path root = fs::temp_directory_path() / "tablelake-delivery-bench";
  fs::remove_all(root);
  fs::create_directories(root / "lake" / "bucket");
  auto store = std::move(TableStore::Open((root / "data").string())).value();
  auto service = std::move(DeliveryService::Open(store.get())).value();
  TableMeta meta{
      "bench", {{"PK1", PrimaryKeyType::kInteger}, {"PK2", PrimaryKeyType::kString}}, {}};
  if (!store->CreateTable(meta).ok()) return 1;
  Load(*store, rows);
  if (!store->CompactAll().ok()) return 1;
  double raw_bytes = static_cast<double>(rows) * (8 + 12 + 8 + 40 + 8);

  // The table scan the delivery has to do, as its limit, and the delivery with one key range
  // and with a range per core take turns for two rounds, so that all see the same machine
  // state; each reports its best round.
  PrimaryKey min = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
  PrimaryKey max = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> range_counts = {1};
  if (cores > 1) range_counts.push_back(std::min(cores, 8));
  struct Delivered {
    double seconds = 1e30;
    DeliveryTaskDescription d;
    DeliveryRunStats stats;
  };
  std::vector<Delivered> delivered(range_counts.size());
  size_t scanned = 0;
  double scan_s = 1e30;
  for (int round = 0; round < 2; ++round) {
    auto start = Steady::now();
    scanned = 0;
    {
      auto it = std::move(store->NewRowIterator("bench", min, max, {})).value();
      for (; it->Valid(); it->Next()) scanned += it->row().cells.size() == 3;
    }
    scan_s = std::min(scan_s, Since(start));
    for (size_t i = 0; i < range_counts.size(); ++i) {
      DeliveryOptions options;
      options.scan_ranges = range_counts[i];
      auto ranged = std::move(DeliveryService::Open(store.get(), options)).value();
      fs::remove_all(root / "lake" / "bucket" / "out");
      std::string name = fmt::format("base{}r{}", round, range_counts[i]);
      if (!ranged
               ->CreateDeliveryTask("bench", name, Config(root / "lake", 60),
                                    DeliveryTaskType::kBase)
               .ok())
        return 1;
      start = Steady::now();
      DeliveryRunStats stats;
      Status s = ranged->RunTask("bench", name, nullptr, &stats);
      const double seconds = Since(start);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      if (seconds < delivered[i].seconds) {
        delivered[i] = {seconds, std::move(ranged->DescribeDeliveryTask("bench", name)).value(),
                        stats};
      }
      if (!ranged->DeleteDeliveryTask("bench", name).ok()) return 1;
    }
  }
  int duck_threads = 0;
  double duck_s = DuckDbSeconds(rows, root / "duck.parquet", &duck_threads);

  std::printf("%-40s %10s %9s %14s %9s\n", "", "rows", "seconds", "rows/s", "MB/s");
  std::printf("%-40s %10zu %9.2f %14.0f %9.1f\n", "table scan (row iterator)", scanned, scan_s,
              scanned / scan_s, raw_bytes / scan_s / 1e6);
  std::string duck_label = fmt::format("DuckDB COPY ({} threads, SNAPPY)", duck_threads);
  for (size_t i = 0; i < delivered.size(); ++i) {
    const Delivered& r = delivered[i];
    std::string label = fmt::format("Tablelake BaseTask, {} range{} (SNAPPY)", range_counts[i],
                                    range_counts[i] == 1 ? "" : "s");
    std::printf(
        "%-40s %10lld %9.2f %14.0f %9.1f   %.0f%% of the scan, %lld files, %.1f MB, DuckDB's "
        "time %.2fx\n",
        label.c_str(), static_cast<long long>(r.d.status.rows_delivered), r.seconds,
        r.d.status.rows_delivered / r.seconds, raw_bytes / r.seconds / 1e6,
        100 * scan_s / r.seconds, static_cast<long long>(r.d.status.files_written),
        r.d.status.bytes_written / 1e6, duck_s / r.seconds);
    for (const auto& range : r.stats.scan_ranges) {
      std::printf("%-40s %10lld %9.2f %14.0f   (its thread's busy time)\n",
                  fmt::format("  range {}", range.index).c_str(),
                  static_cast<long long>(range.rows), range.busy_seconds,
                  range.rows / std::max(range.busy_seconds, 1e-9));
    }
  }
  std::printf("%-40s %10zu %9.2f %14.0f %9.1f\n", duck_label.c_str(), rows, duck_s, rows / duck_s,
              raw_bytes / duck_s / 1e6);

  // Incremental lag at 10k writes/s.
  if (!service->CreateDeliveryTask("bench", "inc", Config(root / "lake", 1), DeliveryTaskType::kInc)
           .ok())
    return 1;
  std::atomic<bool> stop{false};
  Status run;
  std::thread runner([&] { run = service->RunTask("bench", "inc", &stop); });
  std::atomic<bool> writing{true};
  std::atomic<int64_t> written{0};
  std::thread writer([&] {
    auto begin = Steady::now();
    for (int64_t i = 0; writing; ++i) {
      // Paced: write i happens at i / 10000 s.
      auto due = begin + std::chrono::microseconds(i * 100);
      std::this_thread::sleep_until(due);
      auto written_row = store->PutRow(
          {"bench",
           {{"PK1", Value::Integer(-i - 1)}, {"PK2", Value::String("inc")}},
           {{"Col1", Value::Double(1)}, {"Col2", Value::String("x")}, {"Col3", Value::Integer(i)}},
           {},
           {}});
      if (written_row.ok()) ++written;
    }
  });
  LagSampler lag;
  auto begin = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past the first flush
  while (Since(begin) < 15) {
    lag.Sample(*service, "bench", "inc");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writing = false;
  writer.join();
  stop = true;
  runner.join();
  double rate = written / Since(begin);
  std::printf(
      "IncTask at %.0f writes/s, flush interval 1 s: lag (commit to visible) mean %.2f s, max %.2f "
      "s"
      " (target: under 1 s + 2 s)\n",
      rate, lag.mean(), lag.max);
  if (!run.ok()) return 1;
  int many = ManyPartitionsInc(*store, *service, root);
  fs::remove_all(root);
  return many;
}
