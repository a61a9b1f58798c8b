// Delivery when the bucket fails mid-run, when a run is redone, and when a task's table goes:
// counts must equal what the bucket holds, errors must clear once the task moves again, file
// splits must not depend on thread timing, and no task may attach to another table.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "delivery/task_state.h"
#include "nlohmann/json.hpp"
#include "objectstore/memory_store.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"
#include "testutil/lake_fixture.h"
#include "testutil/lake_query.h"

namespace tablelake {
namespace {

namespace fs = std::filesystem;

using testing::Query;

// A bucket whose object commits fail from the `fail_at`-th on (1-based; 0: never), as a full
// or read-only bucket does; the `stop_at`-th commit (0: none) requests a stop of the run, as a
// signal would at that moment.
class FailingBucket : public ObjectStoreWrapper {
 public:
  struct Hooks {
    std::atomic<int> fail_at{0};
    std::atomic<int> commits{0};
    std::atomic<int> stop_at{0};
    std::atomic<bool> stop{false};  // the run's stop request
  };
  FailingBucket(std::unique_ptr<ObjectStore> base, Hooks* hooks)
      : ObjectStoreWrapper(base.get()),
        base_(std::move(base)),
        fail_at_(&hooks->fail_at),
        commits_(&hooks->commits),
        hooks_(hooks) {}

  Result<std::unique_ptr<Sink>> NewObject(const std::string& key) override {
    TL_ASSIGN_OR_RETURN(auto sink, target()->NewObject(key));
    return std::unique_ptr<Sink>(std::make_unique<FailingSink>(std::move(sink), this));
  }
  Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) override {
    TL_ASSIGN_OR_RETURN(auto sink, target()->NewObjectIfAbsent(key));
    return std::unique_ptr<Sink>(std::make_unique<FailingSink>(std::move(sink), this));
  }

 private:
  class FailingSink : public Sink {
   public:
    FailingSink(std::unique_ptr<Sink> base, FailingBucket* bucket)
        : base_(std::move(base)), bucket_(bucket) {}
    Status Append(std::string_view data) override {
      // A writer's failure that carries the code a misfit value once carried.
      if (bucket_->fail_appends_after_ && base_->Tell() > 4) {
        return Status::InvalidArgument("injected: the sink refuses the write");
      }
      return base_->Append(data);
    }
    Status Commit() override {
      int n = ++*bucket_->commits_;
      int at = bucket_->fail_at_->load();
      if (at > 0 && n >= at) {
        base_->Abort();
        return Status::IOError("write failed: No space left on device (injected)");
      }
      const int stop_at = bucket_->hooks_->stop_at.load();
      if (stop_at > 0 && n >= stop_at) bucket_->hooks_->stop = true;
      return base_->Commit();
    }
    void Abort() override { base_->Abort(); }
    int64_t Tell() const override { return base_->Tell(); }

   private:
    std::unique_ptr<Sink> base_;
    FailingBucket* bucket_;
  };

  std::unique_ptr<ObjectStore> base_;
  std::atomic<int>* fail_at_;
  std::atomic<int>* commits_;
  Hooks* hooks_;

 public:
  bool fail_appends_after_ = false;  // every append after the file's magic bytes fails
};

class DeliveryFaultTest : public testing::LakeFixture {
 protected:
  void SetUp() override {
    // Folder buckets, wrapped: the registry's file scheme replaced.
    auto failing_folder = [this](
                              const std::string& endpoint, const std::string& bucket,
                              const CredentialSet* keys) -> Result<std::unique_ptr<ObjectStore>> {
      TL_ASSIGN_OR_RETURN(auto base, OpenObjectStore(endpoint, bucket, keys));
      auto failing = std::make_unique<FailingBucket>(std::move(base), &hooks_);
      failing->fail_appends_after_ = fail_appends_;
      return std::unique_ptr<ObjectStore>(std::move(failing));
    };
    buckets_.Register("file", failing_folder, /*needs_keys=*/false);
    DeliveryOptions options;
    options.buckets = &buckets_;
    OpenLake("faults", options);
  }
  DeliveryTaskConfig Config(const std::string& prefix) {
    DeliveryTaskConfig c = FolderTask(prefix);
    c.file_bytes = 1 << 20;
    c.schema = {{"id", "id", "INT64"}, {"v", "v", "UTF8"}};
    return c;
  }
  // `n` rows of about `bytes` bytes each, ids from `first`, in one atomic load.
  void Load(int64_t first, int64_t n, size_t bytes = 1000) {
    auto loader = std::move(store_->NewBulkLoader("t")).value();
    for (int64_t id = first; id < first + n; ++id) {
      std::string v(bytes, static_cast<char>('a' + id % 26));
      ASSERT_TRUE(loader->Put({"t", {{"id", Value::Integer(id)}}, {{"v", Value::String(v)}}}).ok());
    }
    ASSERT_TRUE(loader->Commit().ok());
  }
  fs::path Dir(const std::string& prefix) const { return root_ / "lake" / "bucket" / prefix; }
  // Parquet file name -> size, under `prefix`.
  std::map<std::string, int64_t> Files(const std::string& prefix) const {
    std::map<std::string, int64_t> files;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(Dir(prefix), ec)) {
      if (e.path().extension() == ".parquet") {
        files[e.path().filename().string()] = static_cast<int64_t>(e.file_size());
      }
    }
    return files;
  }
  static constexpr int64_t kScattered = 150000;
  // kScattered rows of 300 bytes over 200 hours ("ts", Unix seconds), scattered over the keys.
  void LoadScattered() {
    constexpr int64_t kHour = 3600, kStart = 472222 * kHour;
    auto loader = std::move(store_->NewBulkLoader("t")).value();
    for (int64_t id = 0; id < kScattered; ++id) {
      const int64_t ts = kStart + (id * 7919 % 200) * kHour;
      ASSERT_TRUE(
          loader
              ->Put({"t",
                     {{"id", Value::Integer(id)}},
                     {{"ts", Value::Integer(ts)}, {"v", Value::String(std::string(300, 'v'))}}})
              .ok());
    }
    ASSERT_TRUE(loader->Commit().ok());
  }
  // A service with the least memory budget, and a BaseTask `name` of hourly partitions over
  // LoadScattered's rows, which spill.
  std::unique_ptr<DeliveryService> SpillingTask(const std::string& name) {
    DeliveryOptions options;
    options.buckets = &buckets_;
    options.memory_budget_bytes = 32 << 20;  // the least: these rows spill
    auto service = std::move(DeliveryService::Open(store_.get(), options)).value();
    LoadScattered();
    EXPECT_TRUE(
        service->CreateDeliveryTask("t", name, HourlyFolderTask(name), DeliveryTaskType::kBase)
            .ok());
    return service;
  }
  size_t ParquetFiles(const std::string& prefix) const {
    size_t files = 0;  // their names repeat from folder to folder: not Files(prefix).size()
    for (const auto& e : fs::recursive_directory_iterator(Dir(prefix))) {
      files += e.path().extension() == ".parquet";
    }
    return files;
  }
  // (rows, distinct ids) in the bucket under `prefix`, read by DuckDB.
  std::pair<int64_t, int64_t> Rows(const std::string& prefix) {
    if (Files(prefix).empty()) return {0, 0};  // DuckDB refuses a glob that matches nothing
    auto r = Query(
        "SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d FROM read_parquet('" +
        (Dir(prefix) / "**" / "*.parquet").string() + "')");
    return {r[0]["n"].get<int64_t>(), r[0]["d"].get<int64_t>()};
  }

  BucketRegistry buckets_;  // the service borrows it until TearDown
  FailingBucket::Hooks hooks_;
  std::atomic<int>& fail_at_ = hooks_.fail_at;
  std::atomic<int>& commits_ = hooks_.commits;
  bool fail_appends_ = false;
};

// Issue 8, items 7, 8 and 18: a bucket that fails mid-scan stops the task with the error in its
// status, counts only what was committed, and a re-run resumes: counts equal the bucket, the
// error clears, no row is counted dirty for a writer's failure.
TEST_F(DeliveryFaultTest, FailedSegmentIsNotCountedAndErrorClearsOnResume) {
  Load(0, 60000);
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "full", Config("full"), DeliveryTaskType::kBase).ok());
  fail_at_ = 3;  // the third object: inside the scan's first segment or the next
  Status failed = service_->RunTask("t", "full");
  ASSERT_FALSE(failed.ok());
  auto d = service_->DescribeDeliveryTask("t", "full");
  EXPECT_EQ(d->status.error_code, "DELIVERY_FAILED");
  EXPECT_NE(d->status.error_detail.find("No space left"), std::string::npos);
  EXPECT_EQ(d->status.dirty_rows, 0);
  // Only committed segments count, and the failed one's files are gone again.
  auto [rows_before, distinct_before] = Rows("full");
  EXPECT_EQ(d->status.rows_delivered, rows_before);

  fail_at_ = 0;
  DeliveryRunStats stats;
  ASSERT_TRUE(service_->RunTask("t", "full", nullptr, &stats).ok());
  EXPECT_TRUE(stats.resumed);
  EXPECT_EQ(stats.rows_delivered, 60000 - rows_before);  // this run's rows, not the table's
  d = service_->DescribeDeliveryTask("t", "full");
  EXPECT_EQ(d->status.error_code, "");
  EXPECT_EQ(d->status.error_detail, "");
  EXPECT_TRUE(d->status.finished);
  EXPECT_EQ(d->status.rows_delivered, 60000);
  EXPECT_EQ(d->status.dirty_rows, 0);
  auto [rows, distinct] = Rows("full");
  EXPECT_EQ(rows, 60000);
  EXPECT_EQ(distinct, 60000);
  int64_t bytes = 0;
  auto files = Files("full");
  for (const auto& [name, size] : files) bytes += size;
  EXPECT_EQ(d->status.files_written, static_cast<int64_t>(files.size()));
  EXPECT_EQ(d->status.bytes_written, bytes);
  auto listed = service_->ListDeliveredFiles("t", "full");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), files.size());
}

// Small files are finished and published on background threads: one of thousands failing
// mid-way fails the batch as a whole (what waited is discarded, nothing of it counted), and the
// re-run delivers every row once, one file per partition.
TEST_F(DeliveryFaultTest, AFailureAmongManySmallFilesFailsTheBatchOnce) {
  auto loader = std::move(store_->NewBulkLoader("t")).value();
  for (int64_t hour = 0; hour < 3000; ++hour) {  // ids an hour of seconds apart
    ASSERT_TRUE(
        loader->Put({"t", {{"id", Value::Integer(hour * 3600)}}, {{"v", Value::String("x")}}})
            .ok());
  }
  ASSERT_TRUE(loader->Commit().ok());
  auto config = Config("many/$yyyy/$MM/$dd/$HH");
  config.event_time_column = "id";  // seconds since 1970: a partition per row
  config.event_time_format = EventTimeFormat::kUnix;
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "many", config, DeliveryTaskType::kBase).ok());
  fail_at_ = commits_ + 1500;
  Status failed = service_->RunTask("t", "many");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("No space left"), std::string::npos) << failed.ToString();
  auto d = service_->DescribeDeliveryTask("t", "many");
  EXPECT_EQ(d->status.error_code, "DELIVERY_FAILED");
  EXPECT_EQ(d->status.rows_delivered, Rows("many").first);
  fail_at_ = 0;
  ASSERT_TRUE(service_->RunTask("t", "many").ok());
  auto [rows, distinct] = Rows("many");
  EXPECT_EQ(rows, 3000);
  EXPECT_EQ(distinct, 3000);
  d = service_->DescribeDeliveryTask("t", "many");
  EXPECT_EQ(d->status.rows_delivered, 3000);
  int64_t files = 0;  // same names in every partition: counted by path
  for (const auto& e : fs::recursive_directory_iterator(Dir("many"))) {
    files += e.path().extension() == ".parquet";
  }
  EXPECT_EQ(files, 3000);
  EXPECT_EQ(d->status.files_written, files);
}

// Item 18: a writer's failure, whatever its code, stops the task; it is never taken for dirty
// rows (whose rows would be dropped). Row groups of 16 MiB fill mid-file here, so the failure
// comes back while rows are still being added.
TEST_F(DeliveryFaultTest, AWriterFailureIsAnErrorNeverDirtyRows) {
  Load(0, 40000);
  auto config = Config("werr");
  config.file_bytes = 64 << 20;
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "werr", config, DeliveryTaskType::kBase).ok());
  fail_appends_ = true;
  Status s = service_->RunTask("t", "werr");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected"), std::string::npos) << s.ToString();
  auto d = service_->DescribeDeliveryTask("t", "werr");
  EXPECT_EQ(d->status.dirty_rows, 0);
  EXPECT_EQ(d->status.rows_delivered, 0);
  EXPECT_EQ(d->status.error_code, "DELIVERY_FAILED");
}

// Item 17: where files split follows from the data, not from thread timing, and honours the
// size bound; a run redone after a failure leaves the same objects as a run that never failed.
TEST_F(DeliveryFaultTest, SplitsAreDeterministicAndRedoLeavesTheSameObjects) {
  Load(0, 60000);
  std::vector<std::map<std::string, int64_t>> splits;
  for (const std::string name : {"aaa", "bbb", "ccc"}) {
    ASSERT_TRUE(
        service_->CreateDeliveryTask("t", name, Config(name), DeliveryTaskType::kBase).ok());
    fail_at_ = name == "bbb" ? commits_ + 4 : 0;  // bbb fails mid-scan and is run again
    if (name == "bbb") {
      EXPECT_FALSE(service_->RunTask("t", name).ok());
    }
    fail_at_ = 0;
    ASSERT_TRUE(service_->RunTask("t", name).ok());
    std::map<std::string, int64_t> renamed;  // file names without the task's name
    for (const auto& [file, size] : Files(name)) {
      EXPECT_LE(size, 1 << 20) << file;  // the 1 MiB bound holds
      renamed[file.substr(file.find("-base"))] = size;
    }
    EXPECT_GE(renamed.size(), 40u);  // 60 MB of values in files of at most 1 MiB
    splits.push_back(renamed);
    auto [rows, distinct] = Rows(name);
    EXPECT_EQ(rows, 60000);
    EXPECT_EQ(distinct, 60000);
  }
  EXPECT_EQ(splits[0], splits[1]);
  EXPECT_EQ(splits[0], splits[2]);
}

// Issue 13: a full delivery over key ranges scanned in parallel fails again and again, a few
// files after each resume; every resume starts each range where its last commit left it, so
// the rows arrive once each and the status counts what the bucket holds.
TEST_F(DeliveryFaultTest, ParallelRangesResumeEachWhereItStopped) {
  DeliveryOptions options;
  options.buckets = &buckets_;
  options.scan_ranges = 3;
  auto service = std::move(DeliveryService::Open(store_.get(), options)).value();
  std::mt19937_64 rng(13);
  auto loader = std::move(store_->NewBulkLoader("t")).value();
  for (int64_t id = 0; id < 20000; ++id) {
    std::string v(400, ' ');
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);  // stored at about its size
    // Every 500th row's n does not fit INT32: a dirty row, written beside the files.
    const int64_t n = id % 500 == 0 ? int64_t{1} << 40 : id;
    ASSERT_TRUE(loader
                    ->Put({"t",
                           {{"id", Value::Integer(id)}},
                           {{"n", Value::Integer(n)}, {"v", Value::String(v)}}})
                    .ok());
  }
  ASSERT_TRUE(loader->Commit().ok());
  DeliveryTaskConfig config = Config("par");
  config.schema.push_back({"n", "n", "INT32"});
  config.oss_dirty_prefix = "par-dirty";
  ASSERT_TRUE(service->CreateDeliveryTask("t", "par", config, DeliveryTaskType::kBase).ok());
  int failures = 0;
  size_t ranges = 0;
  while (true) {
    fail_at_ = commits_ + 3;
    if (service->RunTask("t", "par").ok()) break;
    ++failures;
    ASSERT_LT(failures, 100) << "the delivery does not move";
    auto state =
        delivery::StateFromJson(store_->GetMetadata(delivery::StateKey("t", "par"))->value());
    ASSERT_TRUE(state.ok());
    ranges = std::max(ranges, state->ranges.size());
    auto d = service->DescribeDeliveryTask("t", "par");
    EXPECT_EQ(d->status.rows_delivered, Rows("par").first) << "after failure " << failures;
  }
  EXPECT_EQ(ranges, 3u);
  EXPECT_GE(failures, 3);
  auto [rows, distinct] = Rows("par");
  EXPECT_EQ(rows, 20000 - 40);
  EXPECT_EQ(distinct, 20000 - 40);
  std::multiset<int64_t> dirty;  // the ids of the dirty rows written, each once
  for (const auto& e : fs::recursive_directory_iterator(Dir("par-dirty"))) {
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      dirty.insert(nlohmann::json::parse(line)["row"]["id"].get<int64_t>());
    }
  }
  EXPECT_EQ(dirty.size(), 40u);
  EXPECT_EQ(std::set<int64_t>(dirty.begin(), dirty.end()).size(), 40u);
  auto d = service->DescribeDeliveryTask("t", "par");
  EXPECT_EQ(d->status.rows_delivered, 20000 - 40);
  EXPECT_EQ(d->status.dirty_rows, 40);
  EXPECT_TRUE(d->status.finished);
  for (const auto& [file, size] : Files("par")) EXPECT_LE(size, 1 << 20) << file;
}

// Spill runs are not synced: a resumed attempt checks their hashes first, and a run that a crash
// of the machine damaged starts a new attempt rather than lose (or invent) rows.
TEST_F(DeliveryFaultTest, ADamagedSpillRunStartsANewAttempt) {
  auto service = SpillingTask("runs");
  fail_at_ = commits_ + 1;  // the merge's first file fails: the runs stay, listed
  ASSERT_FALSE(service->RunTask("t", "runs").ok());
  auto state =
      delivery::StateFromJson(store_->GetMetadata(delivery::StateKey("t", "runs"))->value());
  ASSERT_TRUE(state.ok());
  ASSERT_GE(state->runs, 2);
  ASSERT_EQ(state->attempt, 1);
  // One byte of the first run changed, as a machine's crash while it was written could leave it.
  fs::path run = root_ / "data" / "spill" / state->checkpoint / "run-000000";
  ASSERT_TRUE(fs::exists(run));
  {
    std::fstream f(run, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(fs::file_size(run) / 2);
    f.seekg(middle);
    const char c = static_cast<char>(f.get());
    f.seekp(middle);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  fail_at_ = 0;
  ASSERT_TRUE(service->RunTask("t", "runs").ok());
  state = delivery::StateFromJson(store_->GetMetadata(delivery::StateKey("t", "runs"))->value());
  EXPECT_EQ(state->attempt, 2);
  EXPECT_EQ(Rows("runs"), std::make_pair(kScattered, kScattered));
  EXPECT_EQ(service->DescribeDeliveryTask("t", "runs")->status.rows_delivered, kScattered);
  EXPECT_EQ(ParquetFiles("runs"), 200u);  // one per partition
}

// A stop request during the merge of spill runs (a signal, a server shutting down) ends the run
// within a partition, with what was merged counted; the next run merges the rest: every row
// once, one file per partition.
TEST_F(DeliveryFaultTest, AStopDuringTheMergeEndsItAndTheNextRunMergesTheRest) {
  auto service = SpillingTask("merge");
  hooks_.stop_at = commits_ + 3;  // the merge's third partition file: the scan publishes none
  DeliveryRunStats stats;
  ASSERT_TRUE(service->RunTask("t", "merge", &hooks_.stop, &stats).ok());
  EXPECT_TRUE(stats.stopped);
  auto d = service->DescribeDeliveryTask("t", "merge");
  EXPECT_FALSE(d->status.finished);
  const auto [rows, distinct] = Rows("merge");
  EXPECT_EQ(d->status.rows_delivered, rows);
  EXPECT_EQ(rows, distinct);
  EXPECT_GT(rows, 0);
  EXPECT_LT(rows, kScattered / 2);
  EXPECT_LT(ParquetFiles("merge"), 20u);
  hooks_.stop_at = 0;
  hooks_.stop = false;
  ASSERT_TRUE(service->RunTask("t", "merge", &hooks_.stop, &stats).ok());
  EXPECT_FALSE(stats.stopped);
  EXPECT_TRUE(stats.resumed);
  d = service->DescribeDeliveryTask("t", "merge");
  EXPECT_TRUE(d->status.finished);
  EXPECT_EQ(d->status.rows_delivered, kScattered);
  EXPECT_EQ(Rows("merge"), std::make_pair(kScattered, kScattered));
  EXPECT_EQ(ParquetFiles("merge"), 200u);
}

// Item 17 for the incremental phase: a batch fails after some of its size-bound files were
// published; the re-run removes them and delivers the batch once.
TEST_F(DeliveryFaultTest, IncrementalBatchFailingAfterSizeBoundFilesIsDeliveredOnce) {
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "inc", Config("inc"), DeliveryTaskType::kInc).ok());
  Load(0, 20000);
  fail_at_ = 5;  // four 1 MiB files are out when the fifth fails
  EXPECT_FALSE(service_->RunTask("t", "inc").ok());
  EXPECT_EQ(Files("inc").size(), 0u);  // the failed batch's four files are gone again
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "inc")->status.rows_delivered, 0);
  Load(20000, 5000);  // more changes arrive: the redo's batch is longer than the failed one
  fail_at_ = 0;
  ASSERT_TRUE(service_->RunTask("t", "inc").ok());
  auto [rows, distinct] = Rows("inc");
  EXPECT_EQ(rows, 25000);
  EXPECT_EQ(distinct, 25000);
  auto d = service_->DescribeDeliveryTask("t", "inc");
  EXPECT_EQ(d->status.rows_delivered, 25000);
  EXPECT_EQ(d->status.error_code, "");
  EXPECT_EQ(d->status.files_written, static_cast<int64_t>(Files("inc").size()));
}

// Item 4: a table dropped behind delivery's back (TableStore::DeleteTable) and created again
// under its name does not inherit the old table's task.
TEST_F(DeliveryFaultTest, TasksNeverAttachToANewTableOfTheSameName) {
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "inc", Config("inc"), DeliveryTaskType::kInc).ok());
  ASSERT_TRUE(store_->DeleteTable("t").ok());
  ASSERT_TRUE(store_->CreateTable({"t", {{"id", PrimaryKeyType::kInteger}}, {}}).ok());
  Load(0, 10);
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "inc").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->ListDeliveryTask("t")->empty());
  Status run = service_->RunTask("t", "inc");
  EXPECT_EQ(run.code(), StatusCode::kNotFound);
  EXPECT_NE(run.message().find("dropped"), std::string::npos) << run.ToString();
  // The name is free again, for a task of the new table.
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "inc", Config("inc"), DeliveryTaskType::kBase).ok());
  ASSERT_TRUE(service_->RunTask("t", "inc").ok());
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "inc")->status.rows_delivered, 10);

  // DropTable deletes the table's tasks with it.
  auto dropped = service_->DropTable("t");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, std::vector<std::string>{"inc"});
  EXPECT_EQ(store_->DescribeTable("t").status().code(), StatusCode::kNotFound);
}

// The registry is keyed by scheme: a store registered as "memory" serves memory:// endpoints
// (no keys), and an endpoint of a scheme nobody registered is refused at create time.
TEST_F(DeliveryFaultTest, RegisteredSchemesServeTheirEndpoints) {
  std::unique_ptr<ObjectStore> memory = NewMemoryObjectStore("lake");
  buckets_.Register(
      "memory",
      [&](const std::string&, const std::string&,
          const CredentialSet*) -> Result<std::unique_ptr<ObjectStore>> {
        return std::unique_ptr<ObjectStore>(std::make_unique<ObjectStoreWrapper>(memory.get()));
      },
      /*needs_keys=*/false);
  DeliveryTaskConfig config = Config("mem");
  config.oss_endpoint = "memory://lake";
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "mem", config, DeliveryTaskType::kBase).ok());
  Load(0, 3000);
  ASSERT_TRUE(service_->RunTask("t", "mem").ok());
  auto objects = memory->List("mem/");
  ASSERT_TRUE(objects.ok());
  fs::create_directories(Dir("copied"));
  int parquet = 0;
  for (const auto& o : *objects) {
    if (o.key.size() < 8 || o.key.substr(o.key.size() - 8) != ".parquet") continue;
    std::ofstream(Dir("copied") / (std::to_string(parquet++) + ".parquet"), std::ios::binary)
        << memory->GetObject(o.key).value();
  }
  EXPECT_GE(parquet, 3);  // 3 MB of values in files of at most 1 MiB
  auto [rows, distinct] = Rows("copied");
  EXPECT_EQ(rows, 3000);
  EXPECT_EQ(distinct, 3000);
  EXPECT_TRUE(Files("mem").empty());  // nothing went to the folder bucket

  config.oss_endpoint = "ftp://lake.example";
  Status refused = service_->CreateDeliveryTask("t", "ftp", config, DeliveryTaskType::kBase);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("ftp://lake.example"), std::string::npos) << refused.ToString();
}

// A run asked to stop (SIGINT on `delivery run`, a server stopping a task) ends its snapshot scan
// at the next row batch, committing what it holds, rather than after the whole table; the next
// run resumes it, every row once - one range or several, one partition (the ranges encode) or
// many (they group).
TEST_F(DeliveryFaultTest, AStopEndsTheScanSoonAndTheNextRunResumesIt) {
  Load(0, 30000, 400);
  struct Case {
    const char* name;
    const char* prefix;
    const char* folder;  // where its files are
    int ranges;
  };
  for (const Case& c : {Case{"onerange", "s1", "s1", 1}, Case{"encoding", "s2", "s2", 3},
                        Case{"grouping", "s3/$yyyy/$MM/$dd/$HH", "s3", 3}}) {
    SCOPED_TRACE(c.name);
    DeliveryOptions options;
    options.buckets = &buckets_;
    options.scan_ranges = c.ranges;
    auto service = std::move(DeliveryService::Open(store_.get(), options)).value();
    ASSERT_TRUE(
        service->CreateDeliveryTask("t", c.name, Config(c.prefix), DeliveryTaskType::kBase).ok());
    std::atomic<bool> stop{true};
    DeliveryRunStats stats;
    ASSERT_TRUE(service->RunTask("t", c.name, &stop, &stats).ok());
    EXPECT_TRUE(stats.stopped);
    auto d = service->DescribeDeliveryTask("t", c.name);
    EXPECT_FALSE(d->status.finished);
    EXPECT_EQ(d->status.rows_delivered, Rows(c.folder).first);
    EXPECT_LT(d->status.rows_delivered, 30000);
    ASSERT_TRUE(service->RunTask("t", c.name, nullptr, &stats).ok());
    EXPECT_FALSE(stats.stopped);
    EXPECT_TRUE(stats.resumed);
    d = service->DescribeDeliveryTask("t", c.name);
    EXPECT_TRUE(d->status.finished);
    EXPECT_EQ(d->status.rows_delivered, 30000);
    EXPECT_EQ(Rows(c.folder), std::make_pair(int64_t{30000}, int64_t{30000}));
  }
}

}  // namespace
}  // namespace tablelake
