// Rows grouped by partition (issue 10): a full delivery over many partitions writes one file per
// partition however its rows arrive, spilling to sorted runs when the memory budget is spent;
// an incremental backlog writes one file per partition it touched; damaged runs are refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "common/crypto.h"
#include "delivery/row_converter.h"
#include "delivery/spill_runs.h"
#include "delivery/task_state.h"
#include "tablelake/delivery.h"
#include "testutil/lake_fixture.h"
#include "testutil/lake_query.h"

namespace tablelake {
namespace {

namespace fs = std::filesystem;

using testing::Query;

constexpr int64_t kHour = 3600;
constexpr int64_t kStart = 472222 * kHour;  // a fixed hour (2023-11-14): not today

class GroupingTest : public testing::LakeFixture {
 protected:
  void SetUp() override {
    DeliveryOptions options;
    options.memory_budget_bytes = 32 << 20;  // the least: large loads spill
    OpenLake("group", options);
  }
  DeliveryTaskConfig Config(const std::string& prefix) { return HourlyFolderTask(prefix); }
  // Rows `first`.. in key order whose event times fall in random hours of `hours`: each
  // partition's rows arrive scattered through the scan. v is about `bytes` long.
  void Load(int64_t first, int64_t n, int64_t hours, size_t bytes) {
    std::mt19937_64 rng(static_cast<uint64_t>(first));
    auto loader = std::move(store_->NewBulkLoader("t")).value();
    for (int64_t id = first; id < first + n; ++id) {
      int64_t ts = kStart + static_cast<int64_t>(rng() % hours) * kHour + id % kHour;
      std::string v = std::to_string(id) + std::string(bytes, static_cast<char>('a' + id % 26));
      ASSERT_TRUE(loader
                      ->Put({"t",
                             {{"id", Value::Integer(id)}},
                             {{"ts", Value::Integer(ts)}, {"v", Value::String(v)}}})
                      .ok());
    }
    ASSERT_TRUE(loader->Commit().ok());
  }
  std::string Glob(const std::string& prefix) const {
    return (root_ / "lake" / "bucket" / prefix / "**" / "*.parquet").string();
  }
  size_t Files(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "lake" / "bucket" / prefix)) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  }
  // Every row once, each file one hour, and its rows' values as written.
  void ExpectRows(const std::string& prefix, int64_t rows, size_t bytes) {
    auto r = Query(
        "SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, "
        "count(DISTINCT filename)::INTEGER AS files, "
        "sum(CASE WHEN v = id::VARCHAR || repeat(chr((97 + id % 26)::INTEGER), " +
        std::to_string(bytes) + ") THEN 1 ELSE 0 END)::INTEGER AS exact FROM read_parquet('" +
        Glob(prefix) + "', filename=true)");
    EXPECT_EQ(r[0]["n"].get<int64_t>(), rows);
    EXPECT_EQ(r[0]["ids"].get<int64_t>(), rows);
    EXPECT_EQ(r[0]["exact"].get<int64_t>(), rows);
    auto mixed = Query(
        "SELECT count(*)::INTEGER AS n FROM (SELECT filename FROM read_parquet('" + Glob(prefix) +
        "', filename=true) GROUP BY filename HAVING count(DISTINCT ts // 3600) > 1)");
    EXPECT_EQ(mixed[0]["n"].get<int64_t>(), 0) << "files holding more than one hour";
  }
  size_t Partitions(const std::string& prefix) {
    auto r = Query("SELECT count(DISTINCT ts // 3600)::INTEGER AS n FROM read_parquet('" +
                   Glob(prefix) + "')");
    return static_cast<size_t>(r[0]["n"].get<int64_t>());
  }
};

TEST_F(GroupingTest, FullDeliverySpillsAndWritesOneFilePerPartition) {
  Load(0, 200000, 500, 200);  // about 45 MB of rows: more than the 32 MiB budget holds
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "full", Config("full"), DeliveryTaskType::kBase).ok());
  DeliveryRunStats stats;
  ASSERT_TRUE(service_->RunTask("t", "full", nullptr, &stats).ok());
  EXPECT_GE(stats.spill_runs, 1);
  EXPECT_GT(stats.peak_memory_bytes, 0);
  EXPECT_LE(stats.peak_memory_bytes, 48 << 20);  // the budget and what one Add may pass it by
  ExpectRows("full", 200000, 200);
  EXPECT_EQ(Files("full"), Partitions("full"));  // one file per partition
  EXPECT_EQ(Files("full"), 500u);
  auto d = service_->DescribeDeliveryTask("t", "full");
  EXPECT_EQ(d->status.files_written, 500);
  EXPECT_EQ(d->status.rows_delivered, 200000);
  EXPECT_GT(d->status.memory_peak_bytes, 0);
  // The runs went with the finished scan.
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(root_ / "data" / "spill", ec) || !fs::exists(root_ / "data" / "spill"));
}

// Key ranges scanned in parallel feed one grouping: still one file per partition, every row
// once, and each range's rows counted.
TEST_F(GroupingTest, ParallelRangesShareOneGrouping) {
  Load(0, 400000, 500, 200);  // 90 MB of rows
  DeliveryOptions options;
  options.memory_budget_bytes = 96 << 20;  // room for 4 ranges' batches, and still a spill
  options.scan_ranges = 4;
  auto service = std::move(DeliveryService::Open(store_.get(), options)).value();
  ASSERT_TRUE(service->CreateDeliveryTask("t", "par", Config("par"), DeliveryTaskType::kBase).ok());
  DeliveryRunStats stats;
  ASSERT_TRUE(service->RunTask("t", "par", nullptr, &stats).ok());
  ASSERT_EQ(stats.scan_ranges.size(), 4u);
  int64_t rows = 0;
  for (const auto& r : stats.scan_ranges) {
    EXPECT_GT(r.rows, 40000) << "range " << r.index << " is far from a quarter";
    rows += r.rows;
  }
  EXPECT_EQ(rows, 400000);
  EXPECT_GE(stats.spill_runs, 1);
  ExpectRows("par", 400000, 200);
  EXPECT_EQ(Files("par"), 500u);  // one file per partition, as with one range
  EXPECT_EQ(service->DescribeDeliveryTask("t", "par")->status.rows_delivered, 400000);
}

// A task of one partition needs no grouping: each range's thread encodes its rows into row
// groups, which go whole into the partition's files. Ranges still never multiply the files:
// one file holds the groups of all four, each group a run of one range's keys.
TEST_F(GroupingTest, OnePartitionRangesEncodeRowGroupsIntoSharedFiles) {
  Load(0, 200000, 24, 100);  // about 25 MB of values
  DeliveryOptions options;
  options.scan_ranges = 4;
  auto service = std::move(DeliveryService::Open(store_.get(), options)).value();
  DeliveryTaskConfig config = FolderTask("one");
  config.schema = {{"id", "id", "INT64"}, {"ts", "ts", "INT64"}, {"v", "v", "UTF8"}};
  ASSERT_TRUE(service->CreateDeliveryTask("t", "one", config, DeliveryTaskType::kBase).ok());
  DeliveryRunStats stats;
  ASSERT_TRUE(service->RunTask("t", "one", nullptr, &stats).ok());
  ASSERT_EQ(stats.scan_ranges.size(), 4u);
  EXPECT_EQ(stats.spill_runs, 0);
  auto r = Query(
      "SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, "
      "sum((v = id::VARCHAR || repeat(chr((97 + id % 26)::INTEGER), 100))::INTEGER)::INTEGER "
      "AS exact FROM read_parquet('" +
      Glob("one") + "')");
  EXPECT_EQ(r[0], nlohmann::json({{"n", 200000}, {"ids", 200000}, {"exact", 200000}}));
  EXPECT_EQ(Files("one"), 1u);
  // Row groups of 8 MiB of values at most, each a run of consecutive keys of one range.
  auto groups = Query(
      "SELECT count(*)::INTEGER AS n, max(rows)::INTEGER AS most, "
      "sum((hi - lo + 1 = rows)::INTEGER)::INTEGER AS runs FROM (SELECT row_group_id, "
      "any_value(row_group_num_rows) AS rows, max(stats_min_value::BIGINT) AS lo, "
      "max(stats_max_value::BIGINT) AS hi FROM parquet_metadata('" +
      Glob("one") + "') WHERE path_in_schema = 'id' GROUP BY row_group_id)");
  EXPECT_GE(groups[0]["n"].get<int64_t>(), 4);
  EXPECT_EQ(groups[0]["runs"], groups[0]["n"]);
  EXPECT_LT(groups[0]["most"].get<int64_t>(), 200000 / 2);
}

// A run stopped after the finished scan was saved but before its checkpoint and spill runs were
// removed: the next run removes them (they would stay for ever otherwise).
TEST_F(GroupingTest, LeftoversOfAFinishedScanGoWithTheNextRun) {
  Load(0, 1000, 10, 20);
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "left", Config("left"), DeliveryTaskType::kBase).ok());
  ASSERT_TRUE(service_->RunTask("t", "left").ok());
  const std::string key = delivery::StateKey("t", "left");
  auto state = delivery::StateFromJson(store_->GetMetadata(key)->value());
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->checkpoint.empty());
  // As a crash between the two would leave them.
  fs::path checkpoint = root_ / "data" / "checkpoints" / "t.left.base1";
  fs::path spill = root_ / "data" / "spill" / "t.left.base1";
  fs::create_directories(checkpoint);
  fs::create_directories(spill);
  std::ofstream(spill / "run-000000") << "TLRUN1";
  state->checkpoint = "t.left.base1";
  state->checkpoint_path = checkpoint.string();
  ASSERT_TRUE(store_->PutMetadata(key, delivery::StateToJson(*state).dump()).ok());
  ASSERT_TRUE(service_->RunTask("t", "left").ok());
  EXPECT_FALSE(fs::exists(checkpoint));
  EXPECT_FALSE(fs::exists(spill));
  EXPECT_TRUE(delivery::StateFromJson(store_->GetMetadata(key)->value())->checkpoint.empty());
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "left")->status.rows_delivered, 1000);
}

// Partitions holding more than a few rows at a spill go to the run as encoded row groups, and
// the merge copies them into the partition's file: a file is then several row groups, every
// value as written.
TEST_F(GroupingTest, LargePartitionsSpillEncodedRowGroupsThatTheMergeCopies) {
  Load(0, 200000, 20, 200);  // 20 partitions of about 2.2 MB: 1 MB of each at a spill
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "enc", Config("enc"), DeliveryTaskType::kBase).ok());
  DeliveryRunStats stats;
  ASSERT_TRUE(service_->RunTask("t", "enc", nullptr, &stats).ok());
  EXPECT_GE(stats.spill_runs, 1);
  // Encoded and compressed, the runs hold far less than the rows' 45 MB of values.
  EXPECT_LT(stats.spill_bytes, 20 << 20);
  ExpectRows("enc", 200000, 200);
  EXPECT_EQ(Files("enc"), 20u);
  auto groups = Query(
      "SELECT min(n)::INTEGER AS least FROM (SELECT count(*) AS n FROM (SELECT "
      "DISTINCT file_name, row_group_id FROM parquet_metadata('" +
      Glob("enc") + "')) GROUP BY file_name)");
  EXPECT_GE(groups[0]["least"].get<int64_t>(), 2) << "a file of one row group was not merged";
}

// Rows of megabytes: a file's writer takes them a few at a time (its batches are bounded in
// bytes, not only rows), every value arrives whole, and the files respect the size bound.
TEST_F(GroupingTest, WideRowsArriveWholeWithinTheBudget) {
  std::mt19937_64 rng(9);
  std::map<int64_t, std::string> md5;
  auto loader = std::move(store_->NewBulkLoader("t")).value();
  for (int64_t id = 0; id < 24; ++id) {
    std::string v(2 << 20, '\0');
    for (char& c : v) c = static_cast<char>('a' + rng() % 16);  // compresses to about half
    md5[id] = Hex(Md5(v));
    ASSERT_TRUE(loader->Put({"t", {{"id", Value::Integer(id)}}, {{"v", Value::String(v)}}}).ok());
  }
  ASSERT_TRUE(loader->Commit().ok());
  DeliveryTaskConfig c = FolderTask("wide");
  c.schema = {{"id", "id", "INT64"}, {"v", "v", "UTF8"}};
  c.compression = "ZSTD";
  c.file_bytes = 16 << 20;
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "wide", c, DeliveryTaskType::kBase).ok());
  DeliveryRunStats stats;
  ASSERT_TRUE(service_->RunTask("t", "wide", nullptr, &stats).ok());
  EXPECT_LE(stats.peak_memory_bytes, 48 << 20);
  auto rows = Query(
      "SELECT id::INTEGER AS id, md5(v) AS md5, length(v)::INTEGER AS n FROM "
      "read_parquet('" +
      (root_ / "lake" / "bucket" / "wide" / "*.parquet").string() + "') ORDER BY id");
  ASSERT_EQ(rows.size(), 24u);
  for (const auto& r : rows) {
    EXPECT_EQ(r["n"].get<int64_t>(), 2 << 20);
    EXPECT_EQ(r["md5"].get<std::string>(), md5[r["id"].get<int64_t>()]);
  }
  EXPECT_EQ(Files("wide"), 4u);  // 48 MiB of values, 16 MiB per file (a file ends before the row
                                 // that would pass the bound: 7 rows each, then 3)
}

TEST_F(GroupingTest, PartitionsPastTheSizeBoundGetMoreFilesOnlyThen) {
  Load(0, 60000, 3, 200);  // 3 partitions of about 4 MB each
  DeliveryTaskConfig c = Config("bound");
  c.file_bytes = 1 << 20;
  c.compression = "UNCOMPRESSED";
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "bound", c, DeliveryTaskType::kBase).ok());
  ASSERT_TRUE(service_->RunTask("t", "bound").ok());
  ExpectRows("bound", 60000, 200);
  for (const auto& e : fs::recursive_directory_iterator(root_ / "lake" / "bucket" / "bound")) {
    if (e.path().extension() == ".parquet") {
      EXPECT_LE(e.file_size(), (1 << 20) + (64 << 10));
    }
  }
  // About 13 MB of values in files of at most 1 MiB: no partition ends in a run of tiny files.
  EXPECT_LE(Files("bound"), 3u * 6u);
}

TEST_F(GroupingTest, IncrementalBacklogWritesOneFilePerPartitionPerBatch) {
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "inc", Config("inc"), DeliveryTaskType::kInc).ok());
  Load(0, 30000, 700, 20);
  ASSERT_TRUE(service_->RunTask("t", "inc").ok());
  ExpectRows("inc", 30000, 20);
  EXPECT_EQ(Files("inc"), Partitions("inc"));
}

TEST_F(GroupingTest, IncrementalBacklogPastTheBudgetFlushesLargestPartitionsFirst) {
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "big", Config("big"), DeliveryTaskType::kInc).ok());
  Load(0, 200000, 40, 200);  // about 45 MB in one batch: more than the budget
  DeliveryRunStats stats;
  ASSERT_TRUE(service_->RunTask("t", "big", nullptr, &stats).ok());
  ExpectRows("big", 200000, 200);
  EXPECT_LE(stats.peak_memory_bytes, 48 << 20);
  // Flushes write partitions of about a megabyte each at the least, never a file per row.
  EXPECT_LE(Files("big"), 40u * 4u);
}

TEST(SpillRuns, DamagedRunsAreRefusedNamingTheFile) {
  fs::path dir =
      fs::temp_directory_path() / ("tablelake-run-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  delivery::MemoryBudget budget(64 << 20);
  delivery::PartitionBuffers buffers(&budget);
  for (const std::string p : {"a/2", "a/1"}) {
    for (int i = 0; i < 100; ++i) buffers.Add(p, "row" + p + std::string(i * 20, 'x'), 7);
  }
  std::string path = (dir / "run-000000").string();
  ASSERT_TRUE(delivery::WriteRun(path, buffers, nullptr).ok());
  auto reader = delivery::RunReader::Open(path);
  ASSERT_TRUE(reader.ok());
  int rows = 0;
  std::string_view row;
  size_t row_bytes;
  std::vector<std::string> order;
  while (!(*reader)->done()) {
    order.push_back((*reader)->partition());
    // Each partition's rows as added, across the chunks that hold them.
    for (int i = 0; *(*reader)->NextRow(&row, &row_bytes); ++i, ++rows) {
      ASSERT_EQ(row, "row" + order.back() + std::string(i * 20, 'x'));
      ASSERT_EQ(row_bytes, 7u);
    }
    ASSERT_TRUE((*reader)->NextBlock().ok());
  }
  EXPECT_EQ(rows, 200);
  EXPECT_EQ(order, (std::vector<std::string>{"a/1", "a/2"}));  // runs hold partitions in order
  EXPECT_TRUE(delivery::VerifyRun(path).ok());
  {
    // A byte changed (as a crash of the machine could leave an unsynced run): the hash says so.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('#');
  }
  Status damaged = delivery::VerifyRun(path);
  EXPECT_EQ(damaged.code(), StatusCode::kCorruption);
  EXPECT_NE(damaged.message().find(path), std::string::npos) << damaged.ToString();
  EXPECT_NE(damaged.message().find("checksum"), std::string::npos) << damaged.ToString();
  fs::resize_file(path, fs::file_size(path) - 20);  // cut short, as a crash could leave it
  EXPECT_EQ(delivery::VerifyRun(path).code(), StatusCode::kCorruption);
  Status s = [&]() -> Status {
    TL_ASSIGN_OR_RETURN(auto r, delivery::RunReader::Open(path));
    while (!r->done()) {
      while (true) {
        TL_ASSIGN_OR_RETURN(bool more, r->NextRow(&row, &row_bytes));
        if (!more) break;
      }
      TL_RETURN_IF_ERROR(r->NextBlock());
    }
    return Status::OK();
  }();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  fs::remove_all(dir);
}

// A spill encodes a large buffer as row groups (one per row group bound) and keeps a small one
// as records; the row groups placed into a file read back whole; a damaged one is refused.
TEST(SpillRuns, LargeBuffersGoAsEncodedRowGroups) {
  fs::path dir =
      fs::temp_directory_path() / ("tablelake-run-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  TableMeta meta;
  meta.name = "t";
  meta.primary_key = {{"id", PrimaryKeyType::kInteger}};
  DeliveryTaskConfig config;
  config.oss_bucket = "b";
  config.oss_endpoint = "file://" + dir.string();
  config.schema = {{"id", "id", "INT64"}, {"v", "v", "UTF8"}};
  auto task = delivery::ResolveTask(config, meta);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  delivery::RowConverter converter(*task);
  delivery::MemoryBudget budget(64 << 20);
  delivery::PartitionBuffers buffers(&budget);
  int64_t big_bytes = 0;
  for (int64_t id = 0; id < 2010; ++id) {
    const std::string partition = id < 2000 ? "big" : "small";
    PrimaryKey key = {{"id", Value::Integer(id)}};
    std::vector<Cell> cells = {{"v", Value::String(std::to_string(id) + std::string(100, 'v'))}};
    ASSERT_TRUE(converter.Stage(key, cells, {}).empty());
    std::string encoded;
    converter.Encode(&encoded);
    buffers.Add(partition, encoded, converter.row_bytes());
    if (id < 2000) big_bytes += static_cast<int64_t>(converter.row_bytes());
  }
  const delivery::RowGroupEncoding encoding{*task, converter, 100 << 10};
  std::string path = (dir / "run-000000").string();
  ASSERT_TRUE(delivery::WriteRun(path, buffers, &encoding).ok());

  std::string file = (dir / "big.parquet").string();
  auto writer =
      std::move(parquet::FileWriter::Open({task->columns[0].parquet, task->columns[1].parquet}, {},
                                          std::move(NewFileSink(file)).value()))
          .value();
  auto reader = std::move(delivery::RunReader::Open(path)).value();
  int64_t groups = 0, rows = 0, value_bytes = 0;
  while (reader->row_group()) {
    EXPECT_EQ(reader->partition(), "big");
    auto block = reader->ReadRowGroup();
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    EXPECT_LE(block->value_bytes, 100 << 10);
    ++groups;
    rows += block->group.meta.num_rows;
    value_bytes += block->value_bytes;
    ASSERT_TRUE(writer->AppendRowGroup(block->group.meta, block->group.bytes).ok());
    ASSERT_TRUE(reader->NextBlock().ok());
  }
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_EQ(groups, 3);  // 2000 rows of about 110 bytes, 100 KiB a row group
  EXPECT_EQ(rows, 2000);
  EXPECT_EQ(value_bytes, big_bytes);
  EXPECT_EQ(reader->partition(), "small");  // records: ten rows
  std::string_view row;
  size_t row_bytes;
  int small = 0;
  while (*reader->NextRow(&row, &row_bytes)) ++small;
  EXPECT_EQ(small, 10);
  auto got = Query(
      "SELECT count(*)::INTEGER AS n, sum(CASE WHEN v = id::VARCHAR || repeat('v', "
      "100) THEN 1 ELSE 0 END)::INTEGER AS exact, min(id)::INTEGER AS lo, "
      "max(id)::INTEGER AS hi FROM read_parquet('" +
      file + "')");
  EXPECT_EQ(got[0]["n"].get<int64_t>(), 2000);
  EXPECT_EQ(got[0]["exact"].get<int64_t>(), 2000);
  EXPECT_EQ(got[0]["lo"].get<int64_t>(), 0);
  EXPECT_EQ(got[0]["hi"].get<int64_t>(), 1999);

  fs::resize_file(path, 5000);  // cut inside the first row group
  auto cut = std::move(delivery::RunReader::Open(path)).value();
  auto block = cut->ReadRowGroup();
  EXPECT_EQ(block.status().code(), StatusCode::kCorruption);
  EXPECT_NE(block.status().message().find(path), std::string::npos) << block.status().ToString();
  fs::remove_all(dir);
}

// Rows of numbered partitions are written through slots whose counts reach the buffers only when
// a buffer is read: every reader must see every row, in order, counted.
TEST(PartitionBuffersTest, NumberedPartitionsKeepEveryRowInOrderAndCounted) {
  delivery::MemoryBudget budget(64 << 20);
  delivery::PartitionBuffers buffers(&budget);
  const std::vector<std::string> names = {"p/0", "p/1", "p/2", "p/3"};
  std::map<std::string, std::vector<std::string>> want;
  std::map<std::string, int64_t> want_row_bytes;
  std::mt19937 random(7);
  auto add = [&](uint32_t id, int i) {
    // Sizes from a byte to past the largest chunk (300 KiB), so that chunks fill and grow.
    const size_t size = i % 97 == 0 ? (300 << 10) : 1 + random() % 200;
    std::string row = names[id] + "#" + std::to_string(i) + std::string(size, 'x');
    buffers.Add(names[id], row, row.size() + id, id);
    want[names[id]].push_back(row);
    want_row_bytes[names[id]] += static_cast<int64_t>(row.size() + id);
    EXPECT_EQ(buffers.last_row_bytes(), want_row_bytes[names[id]]);
  };
  auto rows_of = [](const delivery::PartitionBuffer& b) {
    std::vector<std::string> rows;
    EXPECT_TRUE(delivery::ForEachRecord(b, [&](std::string_view row, size_t) {
                  rows.emplace_back(row);
                  return Status::OK();
                }).ok());
    return rows;
  };
  auto check = [&](const std::string& name, const delivery::PartitionBuffer& b) {
    EXPECT_EQ(b.rows, static_cast<int64_t>(want[name].size())) << name;
    EXPECT_EQ(b.row_bytes, want_row_bytes[name]) << name;
    int64_t size = 0;
    for (const auto& c : b.chunks) size += static_cast<int64_t>(c.size);
    EXPECT_EQ(b.size, size) << name;
    EXPECT_EQ(rows_of(b), want[name]) << name;
  };
  for (int i = 0; i < 3000; ++i) add(random() % 3, i);  // interleaved, as rows arrive

  // Take one, keep adding to its number: a new buffer from the next row on.
  delivery::PartitionBuffer taken = buffers.Take("p/1");
  check("p/1", taken);
  buffers.Release(&taken);
  want["p/1"].clear();
  want_row_bytes["p/1"] = 0;
  for (int i = 3000; i < 4000; ++i) add(static_cast<uint32_t>(1 + random() % 3), i);

  auto sorted = buffers.Sorted();
  ASSERT_EQ(sorted.size(), 4u);
  for (const auto* e : sorted) check(e->first, e->second);
  std::string largest;
  size_t most = 0;
  for (const auto& [name, rows] : want) {
    size_t bytes = 0;
    for (const auto& r : rows) bytes += r.size();
    if (bytes > most) most = bytes, largest = name;
  }
  EXPECT_EQ(buffers.Largest(), largest);

  buffers.Clear();  // as after a spill: the numbers start over with empty buffers
  want.clear();
  want_row_bytes.clear();
  for (int i = 0; i < 100; ++i) add(3, i);
  ASSERT_EQ(buffers.Sorted().size(), 1u);
  check("p/3", buffers.Sorted()[0]->second);
}

TEST(DeliveryOptionsTest, ABudgetTooSmallOrBadRangesAreRefused) {
  fs::path dir =
      fs::temp_directory_path() / ("tablelake-opt-" + std::to_string(std::random_device{}()));
  auto store = std::move(TableStore::Open(dir.string())).value();
  DeliveryOptions options;
  options.memory_budget_bytes = 1 << 20;
  auto service = DeliveryService::Open(store.get(), options);
  EXPECT_EQ(service.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(service.status().message().find("32 MiB"), std::string::npos);
  // Scan ranges: 1 to 64, or 0 for the default.
  for (int ranges : {-1, 65}) {
    DeliveryOptions bad;
    bad.scan_ranges = ranges;
    auto refused = DeliveryService::Open(store.get(), bad);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << ranges;
    EXPECT_NE(refused.status().message().find("1 to 64 key ranges"), std::string::npos);
  }
  store.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tablelake
