// BulkLoader: every rule PutRow checks, checked at Put; all rows or none; change records for
// every row; and the store's folder shared safely with another reader.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "store/folder.h"
#include "store_fixture.h"

namespace tablelake::testing {
namespace {

class BulkLoadTest : public StoreTest {
 protected:
  PutRowRequest Row(int64_t pk1, const std::string& pk2, std::vector<Cell> cells = {}) {
    return {"sampleTable", Key(pk1, pk2), std::move(cells), {}, ReturnType::kNone};
  }
  // Opens the store again with loads staging at most `run_bytes` in memory.
  void ReopenWithRunBytes(int64_t run_bytes) {
    store_.reset();
    StoreOptions options;
    options.clock = clock_;
    options.bulk_load_run_bytes = run_bytes;
    store_ = std::move(TableStore::Open(dir_, options)).value();
  }
  // Every row of the table, in key order.
  std::vector<tablelake::Row> AllRows() {
    GetRangeRequest r;
    r.table = "sampleTable";
    r.inclusive_start = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
    r.exclusive_end = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
    std::vector<tablelake::Row> rows;
    while (true) {  // paged: a reply holds at most 5,000 rows
      auto page = store_->GetRange(r);
      for (auto& row : page->rows) rows.push_back(std::move(row));
      if (!page->next_start_primary_key) return rows;
      r.inclusive_start = *page->next_start_primary_key;
    }
  }
  size_t CountRows() { return AllRows().size(); }
};

// Issue 8, item 3: whatever rule a row breaks, the loader refuses it at its Put, as PutRow
// would, and a load abandoned there writes nothing.
TEST_F(BulkLoadTest, RefusesWhatPutRowRefusesAndWritesNothingUntilCommit) {
  CreateSample();
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  ASSERT_TRUE(loader->Put(Row(1, "a", {{"v", Value::Integer(1), kNoTimestamp}})).ok());
  std::vector<PutRowRequest> bad = {
      Row(2, std::string(2000, 'x')),                                         // key over 1 KB
      Row(3, "c", {{"v", Value::Integer(1), NowMs() - 2 * 86400 * 1000LL}}),  // version too old
      Row(4, "d", {{"PK1", Value::Integer(1), kNoTimestamp}}),  // a key column as attribute
      Row(5, "e", {{"bad name", Value::Integer(1), kNoTimestamp}}),
      Row(6, "f", {{"v", Value::String(std::string(3 << 20, 's')), kNoTimestamp}}),
      {"sampleTable", {{"PK1", Value::Integer(7)}}, {}, {}, ReturnType::kNone},  // PK2 missing
      Row(8, "caf\xe9"),                                                         // a key not UTF-8
      Row(9, "i", {{"v", Value::String("caf\xe9"), kNoTimestamp}}),  // a STRING not UTF-8
  };
  for (auto& row : bad) {
    PutRowRequest copy = row;
    Status single = store_->PutRow(copy).status();
    Status bulk = loader->Put(std::move(row));
    EXPECT_FALSE(bulk.ok());
    EXPECT_EQ(bulk.code(), single.code()) << bulk.ToString() << " vs " << single.ToString();
  }
  EXPECT_EQ(loader->rows(), 1u);
  EXPECT_EQ(CountRows(), 0u);  // nothing written before the commit
  loader.reset();              // abandoned
  EXPECT_EQ(CountRows(), 0u);
}

// The loader encodes rows by PutRow's own steps, not through a PendingWrite: versions filled,
// of one column and version the cell given last kept, retention applied, the same change
// record - the row loaded reads back as the row put.
TEST_F(BulkLoadTest, ALoadedRowIsStoredAsPutRowStoresIt) {
  TableOptions options;
  options.max_versions = 2;
  CreateSample("sampleTable", options);
  const int64_t now = NowMs();
  std::vector<Cell> cells = {
      {"v", Value::Integer(1), now - 3000}, {"w", Value::String("first"), kNoTimestamp},
      {"v", Value::Integer(2), now - 2000}, {"w", Value::String("second"), kNoTimestamp},
      {"v", Value::Integer(3), now - 1000}, {"d", Value::Double(0.5), now - 1000},
      {"d", Value::Double(1.5), now - 1000}};
  const uint64_t before = store_->LastSequence();
  ASSERT_TRUE(Put(Key(1, "put"), cells).ok());
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  ASSERT_TRUE(loader->Put(Row(1, "load", cells)).ok());
  ASSERT_TRUE(loader->Commit().ok());
  auto put = Get(Key(1, "put"), 10);
  auto loaded = Get(Key(1, "load"), 10);
  ASSERT_TRUE(put && loaded);
  EXPECT_EQ(loaded->cells, put->cells);
  ASSERT_EQ(put->cells.size(), 4u);  // d 1.5; v 3 and 2 (two versions kept); w "second"
  auto records = store_->ReadStream("sampleTable", before + 1, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->records.size(), 2u);
  const auto& [by_put, by_load] = std::tie(records->records[0], records->records[1]);
  EXPECT_EQ(by_load.op, by_put.op);
  ASSERT_EQ(by_load.columns.size(), by_put.columns.size());
  for (size_t i = 0; i < by_put.columns.size(); ++i) {
    EXPECT_EQ(by_load.columns[i].name, by_put.columns[i].name);
    EXPECT_EQ(by_load.columns[i].value, by_put.columns[i].value);
    EXPECT_EQ(by_load.columns[i].timestamp, by_put.columns[i].timestamp);
  }
}

// A row given as views (what the JSON-lines loader hands over) is prepared into the bytes the
// same row as a request is - key, cells and change record - and what a request refuses, a view
// refuses with the same words, whether the view path takes the row itself or hands it on.
TEST_F(BulkLoadTest, ARowOfViewsIsPreparedAsTheSameRequestIs) {
  CreateSample();  // with a stream: change records too
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  auto pk = [](int64_t pk1, std::string_view pk2) {
    return std::vector<ColumnView>{{"PK1", ValueView::Integer(pk1)},
                                   {"PK2", ValueView::String(pk2)}};
  };
  const std::string big(3 << 20, 's'), nul("a\0b", 3);
  std::vector<RowView> rows = {
      {pk(1, "a"), {}},
      {pk(-5, nul),
       {{"a", ValueView::Integer(-1)},
        {"b", ValueView::Double(-0.0)},
        {"c", ValueView::Boolean(true)},
        {"d", ValueView::String("")},
        {"e", ValueView::Binary(nul)},
        {"f", ValueView::Double(1e300)}}},
      {pk(2, "b"), {{"w", ValueView::Integer(1)}, {"v", ValueView::Integer(2)}}},  // unsorted
      {pk(3, "c"), {{"v", ValueView::Integer(1)}, {"v", ValueView::Integer(2)}}},  // given twice
      {pk(4, "d"), {{"PK1", ValueView::Integer(1)}}},                              // a key column
      {pk(5, "e"), {{"bad name", ValueView::Integer(1)}}},
      {pk(6, "f"), {{"v", ValueView::String(big)}}},
      {pk(7, std::string(2000, 'k')), {}},
      {pk(8, "caf\xe9"), {}},                                    // not UTF-8
      {pk(9, "i"), {{"v", ValueView::String("\xed\xa0\x80")}}},  // a surrogate: not UTF-8
      {{{"PK1", ValueView::Integer(8)}}, {}},                    // PK2 missing
      {{{"PK1", ValueView::String("8")}, {"PK2", ValueView::String("x")}}, {}},  // wrong type
      {{{"PK2", ValueView::String("x")}, {"PK1", ValueView::Integer(8)}}, {}},   // wrong order
  };
  // Both into batches that already hold a row (of the same time): a refused row adds nothing.
  BulkLoader::PreparedRows by_view, by_request;
  ASSERT_TRUE(loader->Prepare(rows[0], &by_view).ok());
  ASSERT_TRUE(loader->Prepare(rows[0].ToPutRow("sampleTable"), &by_request).ok());
  ASSERT_EQ(by_view.time_ms, by_request.time_ms);
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string view_before = by_view.bytes, request_before = by_request.bytes;
    Status from_view = loader->Prepare(rows[i], &by_view);
    Status from_request = loader->Prepare(rows[i].ToPutRow("sampleTable"), &by_request);
    ASSERT_EQ(from_view.ok(), from_request.ok()) << from_request.ToString();
    if (!from_view.ok()) {
      EXPECT_EQ(from_view.ToString(), from_request.ToString());
      EXPECT_EQ(by_view.bytes, view_before);
      EXPECT_EQ(by_request.bytes, request_before);
      continue;
    }
    EXPECT_EQ(by_view.bytes, by_request.bytes);
    ASSERT_EQ(by_view.encoded.size(), by_request.encoded.size());
    const auto& a = by_view.encoded.back();
    const auto& b = by_request.encoded.back();
    EXPECT_EQ(a.key_bytes, b.key_bytes);
    EXPECT_EQ(a.value_bytes, b.value_bytes);
    EXPECT_EQ(a.change_bytes, b.change_bytes);
    EXPECT_GT(a.change_bytes, 0u);
  }
  EXPECT_EQ(by_view.encoded.size(), 5u);  // the first row twice, then the next three
}

TEST_F(BulkLoadTest, CommitWritesEveryRowAndItsChangeRecordAtOnce) {
  CreateSample();
  uint64_t before = store_->LastSequence();
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        loader->Put(Row(i % 7, "k" + std::to_string(i), {{"v", Value::Integer(i), kNoTimestamp}}))
            .ok());
  }
  // The same key again: the later row wins, as for sequential puts.
  ASSERT_TRUE(loader->Put(Row(0, "k0", {{"v", Value::Integer(-1), kNoTimestamp}})).ok());
  ASSERT_TRUE(loader->Commit().ok());
  EXPECT_EQ(CountRows(), 1000u);
  EXPECT_EQ(Get(Key(0, "k0"))->cells[0].value.integer(), -1);
  EXPECT_EQ(store_->LastSequence(), before + 1001);
  auto records = store_->ReadStream("sampleTable", before + 1, 2000);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->records.size(), 1001u);
  Reopen();  // durable
  EXPECT_EQ(CountRows(), 1000u);
}

// AUTO_INCREMENT keys are assigned at Put and stay unique across loads.
TEST_F(BulkLoadTest, AutoIncrementKeysAreAssigned) {
  TableMeta meta{
      "ai", {{"p", PrimaryKeyType::kString}, {"id", PrimaryKeyType::kInteger, true}}, {}};
  ASSERT_TRUE(store_->CreateTable(meta).ok());
  for (int load = 0; load < 2; ++load) {
    auto loader = std::move(store_->NewBulkLoader("ai")).value();
    for (int i = 0; i < 10; ++i) {
      PutRowRequest r{
          "ai", {{"p", Value::String("x")}, {"id", Value::AutoIncrement()}}, {}, {}, {}};
      ASSERT_TRUE(loader->Put(std::move(r)).ok());
    }
    ASSERT_TRUE(loader->Commit().ok());
  }
  GetRangeRequest r;
  r.table = "ai";
  r.inclusive_start = {{"p", Value::InfMin()}, {"id", Value::InfMin()}};
  r.exclusive_end = {{"p", Value::InfMax()}, {"id", Value::InfMax()}};
  EXPECT_EQ(store_->GetRange(r)->rows.size(), 20u);
}

TEST_F(BulkLoadTest, ATableDroppedDuringTheLoadIsNotWritten) {
  CreateSample();
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  ASSERT_TRUE(loader->Put(Row(1, "a")).ok());
  ASSERT_TRUE(store_->DeleteTable("sampleTable").ok());
  CreateSample();
  Status s = loader->Commit();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(CountRows(), 0u);
}

// Issue 13: a load larger than its memory goes through sorted runs (81 here, merged in passes
// of at most 16) and one ingestion - every row once (the last of a key winning across runs), a
// change record per row in order, the counters carried on, nothing to replay, and no run left
// behind.
TEST_F(BulkLoadTest, ALoadLargerThanItsMemoryIsIngestedWhole) {
  CreateSample();
  ASSERT_TRUE(Put(Key(-1, "before"), {{"v", Value::Integer(0), kNoTimestamp}}).ok());
  ReopenWithRunBytes(64 << 10);  // many runs
  uint64_t before = store_->LastSequence();
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  constexpr int kRows = 20000;
  for (int i = 0; i < kRows; ++i) {
    // Keys in an order unrelated to their sort order; the first 1,000 come again at the end.
    int k = (i * 7919) % kRows;
    ASSERT_TRUE(loader
                    ->Put(Row(k % 13, "k" + std::to_string(k),
                              {{"v", Value::Integer(i), kNoTimestamp},
                               {"pad", Value::String(std::string(40, 'p')), kNoTimestamp}}))
                    .ok());
  }
  for (int i = 0; i < 1000; ++i) {
    int k = (i * 7919) % kRows;
    ASSERT_TRUE(
        loader->Put(Row(k % 13, "k" + std::to_string(k), {{"v", Value::Integer(-i), kNoTimestamp}}))
            .ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/bulk")) << "the runs are on disk";
  EXPECT_EQ(CountRows(), 1u) << "nothing visible before the commit";
  ASSERT_TRUE(loader->Commit().ok());
  EXPECT_EQ(CountRows(), kRows + 1u);
  for (int i : {0, 1, 999}) {
    int k = (i * 7919) % kRows;
    auto row = Get(Key(k % 13, "k" + std::to_string(k)));
    ASSERT_TRUE(row.has_value());
    ASSERT_EQ(row->cells.size(), 1u) << "a later put replaces the whole row";
    EXPECT_EQ(row->cells[0].value.integer(), -i);
  }
  EXPECT_EQ(
      Get(Key(1000 * 7919 % kRows % 13, "k" + std::to_string(1000 * 7919 % kRows)))->cells.size(),
      2u);
  EXPECT_EQ(store_->LastSequence(), before + kRows + 1000);
  auto records = store_->ReadStream("sampleTable", before + 1, 1000);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->records.size(), 1000u);
  EXPECT_EQ(records->records[0].sequence, before + 1);
  EXPECT_EQ(records->records[0].primary_key, Key(0, "k0"));
  // Every change record, in Put order under consecutive sequences: the stream is written in two
  // halves at once, from the spilled change log and the records still in memory.
  uint64_t next = before + 1;
  for (int i = 0; i < kRows + 1000;) {
    auto page = store_->ReadStream("sampleTable", next, 1000);
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->records.empty()) << "stream ends at record " << i;
    for (const auto& r : page->records) {
      ASSERT_EQ(r.sequence, next) << "record " << i;
      const int k = (i % kRows) * 7919 % kRows;
      ASSERT_EQ(r.primary_key, Key(k % 13, "k" + std::to_string(k))) << "record " << i;
      ++next;
      ++i;
    }
  }
  // Writes after the load take the sequences after it.
  ASSERT_TRUE(Put(Key(-2, "after"), {}).ok());
  EXPECT_EQ(store_->LastSequence(), before + kRows + 1001);
  loader.reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/bulk"));
  Reopen();  // durable, and the counters with it
  EXPECT_EQ(CountRows(), kRows + 2u);
  EXPECT_EQ(store_->LastSequence(), before + kRows + 1001);
}

// Keys that share far more than the bytes a sort compares as numbers (16 past those every key
// shares), or are each other's prefixes, come out in key order, each once, with its last value.
TEST_F(BulkLoadTest, KeysThatDifferFarIntoTheirBytesSortAsKeys) {
  CreateSample();
  ReopenWithRunBytes(64 << 10);  // runs, and the rows after the last one in memory
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  constexpr int kRows = 6000;
  auto pk2 = [](int k) {  // 40 shared letters, then the number; every 7th cut short
    std::string key(40, 'm');
    if (k % 7 == 0) return key.substr(0, static_cast<size_t>(k % 41));
    char digits[16];
    std::snprintf(digits, sizeof(digits), "%06d", k);
    return key + digits;
  };
  std::map<std::pair<int64_t, std::string>, int64_t> want;
  for (int i = 0; i < kRows + 500; ++i) {
    const int k = (i * 7919) % kRows;  // the first 500 keys again at the end
    ASSERT_TRUE(loader->Put(Row(k % 2, pk2(k), {{"v", Value::Integer(i), kNoTimestamp}})).ok());
    want[{k % 2, pk2(k)}] = i;
  }
  ASSERT_TRUE(loader->Commit().ok());
  std::vector<tablelake::Row> rows = AllRows();
  ASSERT_EQ(rows.size(), want.size());
  auto it = want.begin();
  for (const auto& row : rows) {
    ASSERT_EQ(row.primary_key[0].value.integer(), it->first.first);
    ASSERT_EQ(row.primary_key[1].value.bytes(), it->first.second);
    ASSERT_EQ(row.cells.at(0).value.integer(), it->second) << it->first.second;
    ++it;
  }
}

// A load within its memory but past what one RocksDB write takes well (16 MiB) is sorted straight
// into the table's files, each half of the keys on a thread: a key given many times at the
// split still ends up once, with its last value.
// The rows staged after the last full run win over the runs, and of a key they hold twice the
// later row wins, in both halves of the merge.
TEST_F(BulkLoadTest, TheRowsStagedLastWin) {
  CreateSample();
  ReopenWithRunBytes(64 << 10);  // a run every few hundred rows
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  constexpr int kRows = 12000;
  auto put = [&](int k, int64_t v) {
    ASSERT_TRUE(
        loader->Put(Row(k % 5, "k" + std::to_string(k), {{"v", Value::Integer(v), kNoTimestamp}}))
            .ok());
  };
  for (int i = 0; i < kRows; ++i) put((i * 7919) % kRows, i);
  // A few rows more, fewer than a run: keys from the first runs, from both ends of the key
  // space, one of them twice.
  for (int k : {0, 11999, 6000, 3}) put(k, -k - 1);
  put(6000, -100);
  ASSERT_TRUE(loader->Commit().ok());
  EXPECT_EQ(CountRows(), static_cast<size_t>(kRows));
  for (auto [k, v] : std::vector<std::pair<int, int64_t>>{
           {0, -1}, {11999, -12000}, {6000, -100}, {3, -4}, {7919, 1}}) {
    auto row = Get(Key(k % 5, "k" + std::to_string(k)));
    ASSERT_TRUE(row.has_value()) << k;
    EXPECT_EQ(row->cells[0].value.integer(), v) << k;
  }
  loader.reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/bulk"));
}

TEST_F(BulkLoadTest, ALoadWithinItsMemoryIsSortedStraightIntoFiles) {
  CreateSample();
  ReopenWithRunBytes(256 << 20);  // no run
  uint64_t before = store_->LastSequence();
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  constexpr int kRows = 100000, kRepeats = 5000;
  auto pk2 = [](int k) {
    char name[16];
    std::snprintf(name, sizeof(name), "k%06d", k);
    return std::string(name);
  };
  auto v = [&](int k) {  // the row's v (its cells come in name order: pad, v)
    auto row = Get(Key(0, pk2(k)));
    return row && row->cells.size() == 2 ? row->cells[1].value.integer() : int64_t{-999999};
  };
  auto put = [&](int k, int64_t value) {
    return loader->Put(Row(0, pk2(k),
                           {{"v", Value::Integer(value), kNoTimestamp},
                            {"pad", Value::String(std::string(200, 'p')), kNoTimestamp}}));
  };
  for (int i = 0; i < kRows; ++i) {
    ASSERT_TRUE(put((i * 7919) % kRows, i).ok());
    // The middle key again and again: its copies straddle the middle of the sorted rows.
    if (i % (kRows / kRepeats) == 0) {
      ASSERT_TRUE(put(kRows / 2, -i).ok());
    }
  }
  ASSERT_TRUE(put(kRows / 2, -1).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bulk")) << "no run was written";
  ASSERT_TRUE(loader->Commit().ok());
  EXPECT_EQ(CountRows(), static_cast<size_t>(kRows));
  EXPECT_EQ(v(kRows / 2), -1);
  for (int k : {0, kRows / 2 - 1, kRows / 2 + 1, kRows - 1}) {  // around the split, and the ends
    int i = 0;
    while ((i * 7919) % kRows != k) ++i;
    EXPECT_EQ(v(k), i) << pk2(k);
  }
  EXPECT_EQ(store_->LastSequence(), before + kRows + kRepeats + 1);
  loader.reset();
  Reopen();
  EXPECT_EQ(CountRows(), static_cast<size_t>(kRows));
  EXPECT_EQ(v(kRows / 2), -1);
}

// A large load abandoned before its commit (a bad line near the end) writes nothing and leaves
// no run; runs a crash left are removed by the next open.
TEST_F(BulkLoadTest, AnAbandonedLargeLoadLeavesNothing) {
  CreateSample();
  ReopenWithRunBytes(16 << 10);
  {
    auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
    for (int i = 0; i < 5000; ++i) {
      Status put = loader->Put(Row(i, "x", {{"v", Value::Integer(i), kNoTimestamp}}));
      ASSERT_TRUE(put.ok()) << put.ToString();
    }
    EXPECT_FALSE(loader->Put(Row(5000, std::string(2000, 'x'))).ok());
  }
  EXPECT_EQ(CountRows(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/bulk"));
  std::filesystem::create_directories(dir_ + "/bulk/123-1");
  std::ofstream(dir_ + "/bulk/123-1/run-000000.sst") << "left by a crash";
  Reopen();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bulk/123-1"));
}

// Item 10: another process holding the folder is named; reading it meanwhile works.
TEST_F(BulkLoadTest, AFolderInUseNamesItsProcessAndStaysReadable) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(1), kNoTimestamp}}).ok());
  std::string dir = dir_;
  store_.reset();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {  // holds the folder open for writing until killed
    auto held = TableStore::Open(dir);
    char c = held.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto user = store::FolderInUse(dir);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->pid, child);
  auto writer = TableStore::Open(dir);
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(writer.status().message().find("pid " + std::to_string(child)), std::string::npos)
      << writer.status().ToString();
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = TableStore::Open(dir, read_only);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->DescribeTable("sampleTable").ok());
  GetRowRequest get;
  get.table = "sampleTable";
  get.primary_key = Key(1, "a");
  EXPECT_TRUE((*reader)->GetRow(get)->has_value());
  EXPECT_FALSE((*reader)->PutRow(Row(2, "b")).ok());
  reader->reset();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  Reopen();
}

// Item 2 in one process (a server, a delivery daemon): writes fail cleanly while the disk is
// full, and work again in the same process once there is room (RocksDB's Resume).
TEST(StoreOnAFullDisk, WritesFailCleanlyAndResumeWhenThereIsRoom) {
  std::string dir = MakeTempDir();
  std::string mount = "mount -t tmpfs -o size=8m tmpfs '" + dir + "' 2>/dev/null";
  if (std::system(mount.c_str()) != 0) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  {
    auto store = std::move(TableStore::Open(dir + "/d")).value();
    ASSERT_TRUE(store->CreateTable({"t", {{"k", PrimaryKeyType::kInteger}}, {}}).ok());
    Status failed;
    int written = 0;
    for (int i = 0; i < 200 && failed.ok(); ++i) {
      failed = store
                   ->PutRow({"t",
                             {{"k", Value::Integer(i)}},
                             {{"v", Value::String(std::string(200000, 'x')), kNoTimestamp}}})
                   .status();
      written += failed.ok();
    }
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.message().find("no space left on device"), std::string::npos)
        << failed.ToString();
    ASSERT_EQ(std::system(("mount -o remount,size=160m '" + dir + "'").c_str()), 0);
    // RocksDB's file manager polls the free space every 5 s and recovers by itself once there
    // is room for a memtable (64 MiB here); writes work once it has.
    Status again;
    for (int i = 0; i < 200; ++i) {
      again = store->PutRow({"t", {{"k", Value::Integer(-1)}}, {}}).status();
      if (again.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(again.ok()) << again.ToString();
    GetRowRequest get;
    get.table = "t";
    get.primary_key = {{"k", Value::Integer(written - 1)}};
    EXPECT_TRUE(store->GetRow(get)->has_value());
  }
  (void)!std::system(("umount '" + dir + "'").c_str());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tablelake::testing
