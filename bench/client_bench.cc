// One operation of the C++ client against a running server, timed; bench/client_bench.mjs runs
// it beside the Node.js SDK doing the same (scripts/bench client).
//
//   client_bench put|batch|range TABLE ROWS THREADS
// with TABLELAKE_ENDPOINT, TABLELAKE_INSTANCE, TABLELAKE_ACCESS_KEY_ID and
// TABLELAKE_ACCESS_KEY_SECRET in the environment. put: ROWS PutRows over THREADS threads;
// batch: ROWS rows in BatchWriteRows of 200 over THREADS threads; range: GetRange pages over the
// whole table. Prints one JSON line: {"op", "rows", "seconds"}; exits 1 on any failure.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tablelake/client.h"

using namespace tablelake;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

client::PutRowRequest BenchRow(const std::string& table, int64_t id) {
  return {table,
          {{"PK1", Value::Integer(id)}},
          {{"Col1", Value::String(std::string(40, static_cast<char>('a' + id % 26))), kNoTimestamp},
           {"Col2", Value::Integer(id * 7), kNoTimestamp}}};
}

// Runs `work(first, last)` over [0, rows) split across `threads`; false if any call failed.
template <typename Work>
bool Parallel(int64_t rows, int threads, int64_t step, Work work) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int64_t first; ok && (first = next.fetch_add(step)) < rows;) {
        if (!work(first, std::min(rows, first + step))) ok = false;
      }
    });
  }
  for (auto& t : pool) t.join();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: client_bench put|batch|range TABLE ROWS THREADS\n");
    return 2;
  }
  std::string op = argv[1], table = argv[2];
  int64_t rows = std::stoll(argv[3]);
  int threads = std::stoi(argv[4]);
  client::ClientOptions options;
  options.max_connections = static_cast<size_t>(threads);
  client::TableStoreClient c(Env("TABLELAKE_ENDPOINT"), Env("TABLELAKE_INSTANCE"),
                             Env("TABLELAKE_ACCESS_KEY_ID"), Env("TABLELAKE_ACCESS_KEY_SECRET"),
                             options);
  auto start = std::chrono::steady_clock::now();
  bool ok = true;
  int64_t done = rows;
  if (op == "put") {
    ok = Parallel(rows, threads, 1, [&](int64_t id, int64_t) {
      Status s = c.PutRow(BenchRow(table, id));
      if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return s.ok();
    });
  } else if (op == "batch") {
    ok = Parallel(rows, threads, 200, [&](int64_t first, int64_t last) {
      client::BatchWriteRowRequest batch{table, {}};
      for (int64_t id = first; id < last; ++id) batch.Rows.push_back(BenchRow(table, id));
      auto r = c.BatchWriteRow(batch);
      if (!r.ok()) std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      if (!r.ok()) return false;
      for (const auto& s : r->Rows) {
        if (!s.ok()) return false;
      }
      return true;
    });
  } else if (op == "range") {
    client::GetRangeRequest range{table, {{"PK1", Value::InfMin()}}, {{"PK1", Value::InfMax()}}};
    done = 0;
    while (ok) {
      auto page = c.GetRange(range);
      ok = page.ok();
      if (!ok) std::fprintf(stderr, "%s\n", page.status().ToString().c_str());
      if (!ok) break;
      done += static_cast<int64_t>(page->Rows.size());
      if (!page->NextStart) break;
      range.Start = *page->NextStart;
    }
  } else {
    std::fprintf(stderr, "unknown operation '%s'\n", op.c_str());
    return 2;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!ok) return 1;
  std::printf("{\"op\":\"%s\",\"rows\":%lld,\"seconds\":%.4f}\n", op.c_str(),
              static_cast<long long>(done), seconds);
  return 0;
}
