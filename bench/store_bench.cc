// Table store throughput beside raw RocksDB writing and scanning the very same bytes.
//
//   store_bench [ROWS]   (default 1,000,000)
//
// Rows: PK1 INTEGER (random), PK2 STRING (12 bytes), Col1 DOUBLE, Col2 STRING (40 bytes),
// Col3 INTEGER - loaded in random key order, as real tables are. Raw RocksDB gets the keys and
// values the store itself would write, in the same batch size, with the same options, so the
// ratio is the store's overhead over its physical limit.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "store/key_codec.h"
#include "store/row_codec.h"
#include "tablelake/table_store.h"

using namespace tablelake;
using Steady = std::chrono::steady_clock;

namespace {

struct BenchRow {
  PrimaryKey pk;
  std::vector<Cell> cells;
};

std::vector<BenchRow> MakeRows(size_t n) {
  std::mt19937_64 rng(1);
  std::vector<BenchRow> rows(n);
  // Versions must lie within the table's allowed deviation from now.
  int64_t ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  for (size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "user%08zu", i);
    rows[i].pk = {{"PK1", Value::Integer(static_cast<int64_t>(rng() >> 1))},
                  {"PK2", Value::String(name)}};
    rows[i].cells = {{"Col1", Value::Double(static_cast<double>(rng() % 100000) / 7), ts},
                     {"Col2", Value::String(std::string(40, static_cast<char>('a' + i % 26))), ts},
                     {"Col3", Value::Integer(static_cast<int64_t>(i)), ts}};
  }
  return rows;
}

double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

constexpr int kScanRounds = 5;

template <typename Fn>
double Timed(Fn&& fn) {
  auto start = Steady::now();
  fn();
  return Seconds(start);
}

void Report(const char* what, size_t rows, uint64_t bytes, double secs,
            double peer_rows_per_s = 0) {
  double rps = rows / secs;
  std::printf("%-34s %10zu rows %8.2f s %12.0f rows/s %8.1f MB/s", what, rows, secs, rps,
              bytes / secs / 1e6);
  if (peer_rows_per_s > 0) std::printf("   %5.1f%% of raw RocksDB", 100 * rps / peer_rows_per_s);
  std::printf("\n");
}

rocksdb::Options RawOptions() {
  // The same shape the store gives its data column family.
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.max_background_jobs = 2;
  o.OptimizeLevelStyleCompaction(64 << 20);
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(256 << 20);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_size = 16 * 1024;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.compression = rocksdb::kLZ4Compression;
  return o;
}

// Reads every key and value of the table's range, as the store's bulk scans read them.
size_t RawScan(rocksdb::DB* raw) {
  std::string lower = store::TablePrefix(1), upper = store::TablePrefix(2);
  rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;
  ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(ro));
  size_t scanned = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    scanned += it->key().size() > 0 && it->value().size() > 0;
  }
  return scanned;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoull(argv[1]) : 1000000;
  auto base = std::filesystem::temp_directory_path() / "tablelake-store-bench";
  std::filesystem::remove_all(base);
  std::printf("generating %zu rows in random key order...\n", n);
  auto rows = MakeRows(n);

  // Encoded exactly as the store encodes them (table id 1 is the first table created).
  std::vector<std::pair<std::string, std::string>> kv(n);
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    kv[i].first = store::TablePrefix(1);
    store::AppendPrimaryKey(rows[i].pk, &kv[i].first);
    store::EncodeCells(rows[i].cells, &kv[i].second);
    bytes += kv[i].first.size() + kv[i].second.size();
  }
  std::printf("%.1f MB of keys and values\n\n", bytes / 1e6);

  // ---- raw RocksDB ----
  rocksdb::DB* raw = nullptr;
  std::filesystem::create_directories(base);
  if (auto s = rocksdb::DB::Open(RawOptions(), (base / "raw").string(), &raw); !s.ok()) {
    std::fprintf(stderr, "open raw RocksDB: %s\n", s.ToString().c_str());
    return 1;
  }
  auto start = Steady::now();
  for (size_t i = 0; i < n; i += 200) {
    rocksdb::WriteBatch batch;
    for (size_t j = i; j < std::min(n, i + 200); ++j) batch.Put(kv[j].first, kv[j].second);
    if (!raw->Write(rocksdb::WriteOptions(), &batch).ok()) return 1;
  }
  double raw_write_s = Seconds(start);
  double raw_write_rps = n / raw_write_s;
  Report("raw RocksDB batch write (200)", n, bytes, raw_write_s);
  raw->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  // ---- Tablelake ----
  auto store = std::move(TableStore::Open((base / "store").string())).value();
  TableMeta meta{
      "bench", {{"PK1", PrimaryKeyType::kInteger}, {"PK2", PrimaryKeyType::kString}}, {}};
  if (!store->CreateTable(meta).ok()) return 1;
  start = Steady::now();
  for (size_t i = 0; i < n; i += 200) {
    std::vector<BatchWriteItem> items;
    for (size_t j = i; j < std::min(n, i + 200); ++j) {
      BatchWriteItem item;
      item.put = {"bench", rows[j].pk, rows[j].cells, {}, {}};
      items.push_back(std::move(item));
    }
    for (const auto& r : store->BatchWriteRow(items)) {
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
    }
  }
  Report("Tablelake BatchWriteRow (200)", n, bytes, Seconds(start), raw_write_rps);

  size_t single = std::min<size_t>(n, 200000);
  TableMeta meta2{"bench_single", meta.primary_key, {}};
  if (!store->CreateTable(meta2).ok()) return 1;
  start = Steady::now();
  for (size_t i = 0; i < single; ++i) {
    if (!store->PutRow({"bench_single", rows[i].pk, rows[i].cells, {}, {}}).ok()) return 1;
  }
  Report("Tablelake PutRow (one at a time)", single, bytes * single / n, Seconds(start),
         raw_write_rps);
  if (!store->CompactAll().ok()) return 1;

  // The three scans take turns, round by round, so that each sees the same machine state
  // (a shared 2-core machine drifts by tens of percent within a minute); each reports its best.
  PrimaryKey min = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
  PrimaryKey max = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
  size_t scanned = 0, iterated = 0, ranged = 0, reused = 0;
  double raw_s = 1e30, iterate_s = 1e30, range_s = 1e30, reuse_s = 1e30;
  GetRangeRequest first;
  first.table = "bench";
  first.inclusive_start = min;
  first.exclusive_end = max;
  for (int round = 0; round < kScanRounds; ++round) {
    raw_s = std::min(raw_s, Timed([&] { scanned = RawScan(raw); }));
    iterate_s = std::min(iterate_s, Timed([&] {
                           iterated = 0;
                           auto it =
                               std::move(store->NewRowIterator("bench", min, max, {})).value();
                           for (; it->Valid(); it->Next()) iterated += it->row().cells.size() == 3;
                         }));
    // A fresh result per page, as a one-off caller gets it.
    range_s = std::min(range_s, Timed([&] {
                         ranged = 0;
                         GetRangeRequest r = first;
                         while (true) {
                           auto page = std::move(store->GetRange(r)).value();
                           ranged += page.rows.size();
                           if (!page.next_start_primary_key) break;
                           r.inclusive_start = std::move(*page.next_start_primary_key);
                         }
                       }));
    // One result reused page after page, as a server answering a paged scan keeps it.
    reuse_s = std::min(reuse_s, Timed([&] {
                         reused = 0;
                         GetRangeRequest r = first;
                         GetRangeResult page;
                         while (store->GetRange(r, &page).ok()) {
                           reused += page.rows.size();
                           if (!page.next_start_primary_key) break;
                           r.inclusive_start = *page.next_start_primary_key;
                         }
                       }));
  }
  double raw_scan_rps = scanned / raw_s;
  Report("raw RocksDB scan", scanned, bytes, raw_s);
  Report("Tablelake row iterator scan", iterated, bytes, iterate_s, raw_scan_rps);
  Report("Tablelake GetRange scan (pages)", ranged, bytes, range_s, raw_scan_rps);
  Report("Tablelake GetRange (reused result)", reused, bytes, reuse_s, raw_scan_rps);
  delete raw;
  store.reset();
  std::filesystem::remove_all(base);
  return iterated == n && ranged == n && reused == n ? 0 : 1;
}
