// Many writers at once: row atomicity, exactly-once snapshot + stream, and kill -9 survival.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store_fixture.h"

namespace tablelake::testing {
namespace {

class ConcurrencyTest : public StoreTest {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    clock_ = nullptr;
    auto s = TableStore::Open(dir_);  // the real clock: concurrent writers, real time
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    TableMeta meta{"t", {{"k", PrimaryKeyType::kInteger}}, {}};
    ASSERT_TRUE(store_->CreateTable(meta, {}, {true, 24}).ok());
  }
};

struct Logged {
  uint64_t seq;
  int64_t key;
  int64_t value;  // -1 for a delete
};

using Image = std::map<int64_t, std::vector<Cell>>;

Image ScanAll(TableStore& store, const Snapshot* snap) {
  ReadOptions ro;
  ro.snapshot = snap;
  auto it =
      std::move(store.NewRowIterator("t", {{"k", Value::InfMin()}}, {{"k", Value::InfMax()}}, ro))
          .value();
  Image image;
  for (; it->Valid(); it->Next()) image[it->row().primary_key[0].value.integer()] = it->row().cells;
  EXPECT_TRUE(it->status().ok());
  return image;
}

TEST_F(ConcurrencyTest, SnapshotThenStreamSeesEveryWriteExactlyOnce) {
  constexpr int kWriters = 6;
  constexpr int kKeys = 200;
  std::atomic<bool> stop{false};
  std::mutex log_mu;
  std::vector<Logged> log;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      int64_t counter = 0;
      while (!stop) {
        int64_t key = static_cast<int64_t>(rng() % kKeys);
        int64_t value = w * 1000000 + counter++;
        PrimaryKey pk = {{"k", Value::Integer(key)}};
        Result<WriteResult> r = Status::OK();
        int kind = static_cast<int>(rng() % 10);
        if (kind < 6) {
          // Two columns written together must never be seen apart.
          r = store_->PutRow(
              {"t", pk, {{"a", Value::Integer(value)}, {"b", Value::Integer(value)}}, {}, {}});
        } else if (kind < 9) {
          r = store_->UpdateRow(
              {"t",
               pk,
               {{ColumnUpdate::Op::kPut, "a", Value::Integer(value), kNoTimestamp},
                {ColumnUpdate::Op::kPut, "b", Value::Integer(value), kNoTimestamp}},
               {},
               {}});
        } else {
          value = -1;
          r = store_->DeleteRow({"t", pk, {}, {}});
        }
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::lock_guard lock(log_mu);
        log.push_back({r->sequence, key, value});
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto snap = std::move(store_->GetSnapshot()).value();
  uint64_t s = snap->sequence();
  Image image = ScanAll(*store_, snap.get());  // scanned while writers keep writing
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : writers) t.join();

  // The snapshot holds exactly the writes with sequence <= s.
  std::sort(log.begin(), log.end(), [](const Logged& a, const Logged& b) { return a.seq < b.seq; });
  std::map<int64_t, int64_t> expected_at_s;
  for (const auto& l : log) {
    if (l.seq <= s) expected_at_s[l.key] = l.value;
  }
  for (const auto& [key, value] : expected_at_s) {
    if (value < 0) {
      EXPECT_EQ(image.count(key), 0u) << key;
    } else {
      ASSERT_EQ(image.count(key), 1u) << key;
      EXPECT_EQ(image[key][0].value, Value::Integer(value));
      EXPECT_EQ(image[key][1].value, Value::Integer(value));
    }
  }
  EXPECT_GT(log.size(), 1000u);
  EXPECT_GT(log.back().seq, s + 100);  // writers really did write during and after the scan

  // The stream after s holds exactly the later writes, each once, in commit order.
  std::vector<uint64_t> expected_seqs, read_seqs;
  for (const auto& l : log) {
    if (l.seq > s) expected_seqs.push_back(l.seq);
  }
  for (uint64_t from = s + 1;;) {
    auto page = std::move(store_->ReadStream("t", from, 500)).value();
    if (page.records.empty()) break;
    for (const auto& rec : page.records) {
      read_seqs.push_back(rec.sequence);
      int64_t key = rec.primary_key[0].value.integer();
      if (rec.op == ChangeOp::kDelete) {
        image.erase(key);
      } else {
        image[key] = rec.row_image;
      }
    }
    from = page.next_sequence;
  }
  EXPECT_EQ(read_seqs, expected_seqs);
  // Replaying the stream on the snapshot gives the table's final state.
  Image final_image = ScanAll(*store_, nullptr);
  ASSERT_EQ(image.size(), final_image.size());
  for (const auto& [key, cells] : final_image) {
    ASSERT_EQ(image[key].size(), cells.size());
    for (size_t i = 0; i < cells.size(); ++i) EXPECT_EQ(image[key][i].value, cells[i].value);
  }
}

TEST_F(ConcurrencyTest, BatchWritersDoNotDeadlock) {
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      for (int round = 0; round < 200; ++round) {
        std::vector<BatchWriteItem> items;
        std::set<int64_t> keys;
        while (keys.size() < 20) keys.insert(static_cast<int64_t>(rng() % 100));
        for (int64_t k : keys) {
          BatchWriteItem item;
          item.type = BatchWriteItem::Type::kUpdate;
          item.update = {"t",
                         {{"k", Value::Integer(k)}},
                         {{ColumnUpdate::Op::kIncrement, "n", Value::Integer(1), kNoTimestamp}},
                         {},
                         {}};
          items.push_back(std::move(item));
        }
        for (const auto& r : store_->BatchWriteRow(items)) ASSERT_TRUE(r.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (const auto& [key, cells] : ScanAll(*store_, nullptr)) total += cells[0].value.integer();
  EXPECT_EQ(total, 4 * 200 * 20);  // every increment applied exactly once
}

// Run in a child process (re-executed, so that it has its own RocksDB threads): writes rows
// flat out until killed.
TEST(CrashChild, WritesUntilKilled) {
  const char* dir = std::getenv("TABLELAKE_CRASH_CHILD_DIR");
  if (dir == nullptr) GTEST_SKIP() << "only run by SurvivesKillDashNine";
  auto store = std::move(TableStore::Open(dir)).value();
  for (int64_t i = 0;; ++i) {
    std::vector<BatchWriteItem> items(10);
    for (int j = 0; j < 10; ++j) {
      items[j].put = {"t",
                      {{"k", Value::Integer(i * 10 + j)}},
                      {{"a", Value::Integer(i)},
                       {"b", Value::String(std::string(100, 'x'))},
                       {"c", Value::Integer(i)}},
                      {},
                      {}};
    }
    for (const auto& r : store->BatchWriteRow(items)) ASSERT_TRUE(r.ok());
  }
}

// A child process writes rows flat out and is killed with SIGKILL; the reopened store must
// hold whole rows only, each with its change record, and accept new writes.
TEST_F(ConcurrencyTest, SurvivesKillDashNine) {
  store_.reset();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv("TABLELAKE_CRASH_CHILD_DIR", dir_.c_str(), 1);
    execl("/proc/self/exe", "tl_tests", "--gtest_filter=CrashChild.WritesUntilKilled", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto reopened = TableStore::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  Image image = ScanAll(*store_, nullptr);
  ASSERT_GT(image.size(), 100u);
  for (const auto& [key, cells] : image) {
    ASSERT_EQ(cells.size(), 3u) << key;
    EXPECT_EQ(cells[0].value, cells[2].value);
  }
  std::map<int64_t, uint64_t> recorded;
  for (uint64_t from = 0;;) {
    auto page = std::move(store_->ReadStream("t", from, 1000)).value();
    if (page.records.empty()) break;
    for (const auto& rec : page.records)
      recorded[rec.primary_key[0].value.integer()] = rec.sequence;
    from = page.next_sequence;
  }
  EXPECT_EQ(recorded.size(), image.size());  // no row without its record, no record without row
  uint64_t last = store_->LastSequence();
  EXPECT_EQ(recorded.rbegin()->second, last);
  auto w = store_->PutRow({"t", {{"k", Value::Integer(-1)}}, {}, {}, {}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->sequence, last + 1);
}

}  // namespace
}  // namespace tablelake::testing
