// Delivery runs inside one process with writers at work, checked through DuckDB.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "nlohmann/json.hpp"
#include "tablelake/delivery.h"
#include "testutil/lake_fixture.h"
#include "testutil/lake_query.h"

namespace tablelake {
namespace {

namespace fs = std::filesystem;

using testing::Query;

class DeliveryRunTest : public testing::LakeFixture {
 protected:
  void SetUp() override { OpenLake("run"); }
  DeliveryTaskConfig Config(int flush_seconds = 60) {
    DeliveryTaskConfig c = FolderTask("out");
    c.flush_interval_seconds = flush_seconds;
    c.schema = {{"id", "id", "INT64"}, {"v", "v", "INT64"}};
    return c;
  }
  Result<WriteResult> Write(int64_t id, int64_t v) {
    return store_->PutRow({"t", {{"id", Value::Integer(id)}}, {{"v", Value::Integer(v)}}, {}, {}});
  }
  std::string Glob() const { return (root_ / "lake" / "bucket" / "out" / "*.parquet").string(); }
  size_t FileCount() const {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "lake" / "bucket" / "out", ec)) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  }
};

// Writers keep writing while the snapshot is scanned and the stream is caught up: the bucket
// must hold the snapshot image of every key plus every later write, each once.
TEST_F(DeliveryRunTest, BaseIncSeesEveryWriteExactlyOnceUnderConcurrentWriters) {
  for (int64_t id = 0; id < 30000; ++id) ASSERT_TRUE(Write(id, -1).ok());
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "baseinc", Config(), DeliveryTaskType::kBaseInc).ok());
  uint64_t created = store_->LastSequence();
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::pair<int64_t, int64_t>>> writes;  // seq -> (id, v)
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      for (int64_t n = 0; !stop; ++n) {
        int64_t id = static_cast<int64_t>(rng() % 40000), v = w * 100000000 + n;
        auto r = Write(id, v);
        ASSERT_TRUE(r.ok());
        std::lock_guard lock(mu);
        writes.push_back({r->sequence, {id, v}});
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(service_->RunTask("t", "baseinc").ok());  // snapshot + stream, writers still busy
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_TRUE(service_->RunTask("t", "baseinc").ok());  // the rest of the stream
  auto manifest = nlohmann::json::parse(
      std::ifstream(root_ / "lake" / "bucket" / "out" / "t-baseinc-base1.manifest.json"));
  uint64_t snapshot = manifest["snapshot_sequence"];
  // Expected multiset: each key's value at the snapshot, then every write after it.
  std::map<int64_t, int64_t> at_snapshot;
  for (int64_t id = 0; id < 30000; ++id) at_snapshot[id] = -1;
  std::sort(writes.begin(), writes.end());
  std::map<std::pair<int64_t, int64_t>, int> expected;
  for (const auto& [seq, w] : writes) {
    if (seq <= snapshot) at_snapshot[w.first] = w.second;
  }
  for (const auto& [id, v] : at_snapshot) ++expected[{id, v}];
  size_t after = 0;
  for (const auto& [seq, w] : writes) {
    if (seq > snapshot) ++expected[w], ++after;
  }
  ASSERT_GT(after, 100u) << "the writers should outlast the snapshot";
  ASSERT_GT(snapshot, created + 10) << "the snapshot should include some concurrent writes";
  auto rows = Query("SELECT id, v FROM read_parquet('" + Glob() + "')");
  std::map<std::pair<int64_t, int64_t>, int> got;
  for (const auto& r : rows)
    ++got[{std::stoll(r["id"].get<std::string>()), std::stoll(r["v"].get<std::string>())}];
  EXPECT_EQ(rows.size(), at_snapshot.size() + after);
  EXPECT_TRUE(got == expected);
  auto d = service_->DescribeDeliveryTask("t", "baseinc");
  EXPECT_EQ(d->status.phase, SyncPhase::kIncr);
  EXPECT_EQ(d->status.rows_delivered, static_cast<int64_t>(at_snapshot.size() + after));
}

// In the background, with a 1 s flush interval: a write shows up within the interval plus 2 s,
// and the time bound publishes even though no further write arrives.
TEST_F(DeliveryRunTest, IncrementalLagAndTimeBound) {
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "inc", Config(1), DeliveryTaskType::kInc).ok());
  std::atomic<bool> stop{false};
  Status result;
  std::thread runner([&] { result = service_->RunTask("t", "inc", &stop); });
  std::vector<double> lags;
  for (int round = 0; round < 3; ++round) {
    size_t files = FileCount();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(Write(round * 1000 + i, round).ok());
    while (FileCount() == files &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    lags.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  stop = true;
  runner.join();
  ASSERT_TRUE(result.ok()) << result.ToString();
  for (double lag : lags) {
    std::printf("commit to visible file: %.2f s (flush interval 1 s)\n", lag);
    EXPECT_LT(lag, 3.0);
  }
  auto count =
      Query("SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('" + Glob() + "')");
  EXPECT_EQ(count[0]["n"], "3000");
  EXPECT_EQ(count[0]["d"], "3000");
  auto d = service_->DescribeDeliveryTask("t", "inc");
  int64_t lag_ms = Clock::System()->NowMillis() - d->status.current_sync_timestamp_ns / 1000000;
  EXPECT_LT(lag_ms, 3000);
}

TEST_F(DeliveryRunTest, IncTaskDeliversOnlyLaterChangesAndSkipsDeletes) {
  ASSERT_TRUE(Write(1, 1).ok());
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "inconly", Config(), DeliveryTaskType::kInc).ok());
  ASSERT_TRUE(Write(2, 2).ok());
  ASSERT_TRUE(store_->DeleteRow({"t", {{"id", Value::Integer(1)}}, {}, {}}).ok());
  ASSERT_TRUE(store_
                  ->UpdateRow({"t",
                               {{"id", Value::Integer(2)}},
                               {{ColumnUpdate::Op::kPut, "w", Value::String("x"), kNoTimestamp}},
                               {},
                               {}})
                  .ok());
  ASSERT_TRUE(service_->RunTask("t", "inconly").ok());
  auto rows = Query("SELECT id, v FROM read_parquet('" + Glob() + "') ORDER BY ALL");
  // The put of 2 and the update's row image (v still 2); the delete is skipped.
  EXPECT_EQ(rows.dump(), R"([{"id":"2","v":"2"},{"id":"2","v":"2"}])");
  auto d = service_->DescribeDeliveryTask("t", "inconly");
  EXPECT_EQ(d->status.deletes_skipped, 1);
  // Deleting the task releases the change log it held.
  ASSERT_TRUE(service_->DeleteDeliveryTask("t", "inconly").ok());
  EXPECT_TRUE(store_->DescribeTable("t")->change_log_holds.empty());
}

}  // namespace
}  // namespace tablelake

namespace tablelake {
namespace {

TEST_F(DeliveryRunTest, ChangeLogColumnsDeliverDeletesAsRows) {
  ASSERT_TRUE(Write(1, 10).ok());
  auto config = Config();
  config.change_log_columns = true;
  ASSERT_TRUE(
      service_->CreateDeliveryTask("t", "changelog", config, DeliveryTaskType::kBaseInc).ok());
  ASSERT_TRUE(service_->RunTask("t", "changelog").ok());  // the snapshot: one PUT
  ASSERT_TRUE(Write(2, 20).ok());
  ASSERT_TRUE(store_
                  ->UpdateRow({"t",
                               {{"id", Value::Integer(1)}},
                               {{ColumnUpdate::Op::kPut, "v", Value::Integer(11), kNoTimestamp}},
                               {},
                               {}})
                  .ok());
  ASSERT_TRUE(store_->DeleteRow({"t", {{"id", Value::Integer(2)}}, {}, {}}).ok());
  ASSERT_TRUE(service_->RunTask("t", "changelog").ok());
  // The snapshot row carries the snapshot's sequence (0: nothing was recorded before it).
  auto rows =
      Query("SELECT id, v, _op, _seq, _commit_time IS NOT NULL AS has_time FROM read_parquet('" +
            Glob() + "') ORDER BY _seq");
  auto expected =
      nlohmann::json::parse(R"([{"id":"1","v":"10","_op":"PUT","_seq":"0","has_time":true},)"
                            R"({"id":"2","v":"20","_op":"PUT","_seq":"1","has_time":true},)"
                            R"({"id":"1","v":"11","_op":"UPDATE","_seq":"2","has_time":true},)"
                            R"({"id":"2","v":null,"_op":"DELETE","_seq":"3","has_time":true}])");
  EXPECT_EQ(rows, expected) << rows.dump();
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "changelog")->status.deletes_skipped, 0);
  auto bad = Config();
  bad.change_log_columns = true;
  bad.schema.push_back({"x", "_op", "UTF8"});
  EXPECT_FALSE(service_->CreateDeliveryTask("t", "clash", bad, DeliveryTaskType::kInc).ok());
}

TEST_F(DeliveryRunTest, CredentialSetsAreKeptListedWithoutSecretsAndReplaced) {
  EXPECT_TRUE(service_->ListCredentialSets()->empty());
  ASSERT_TRUE(service_->PutCredentialSet("lake-writer", {"AKID1", "secret1", ""}).ok());
  ASSERT_TRUE(service_->PutCredentialSet("lake-writer", {"AKID2", "secret2", "sts"}).ok());
  ASSERT_TRUE(service_->PutCredentialSet("other.role_2", {"AKID3", "secret3", ""}).ok());
  auto sets = service_->ListCredentialSets();
  ASSERT_TRUE(sets.ok());
  using Sets = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(*sets, (Sets{{"lake-writer", "AKID2"}, {"other.role_2", "AKID3"}}));
  EXPECT_EQ(service_->PutCredentialSet("bad role", {"a", "b", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->PutCredentialSet("no-secret", {"a", "", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->DeleteCredentialSet("other.role_2").ok());
  EXPECT_EQ(service_->DeleteCredentialSet("other.role_2").code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ListCredentialSets()->size(), 1u);
}

TEST_F(DeliveryRunTest, RemoteEndpointNeedsARoleNamingACredentialSet) {
  auto config = Config();
  config.oss_endpoint = "oss-cn-hangzhou.aliyuncs.com";
  // No role: a request error, nothing created.
  auto create = service_->CreateDeliveryTask("t", "remote", config, DeliveryTaskType::kBase);
  EXPECT_EQ(create.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(create.message().find("OssRoleName"), std::string::npos) << create.message();
  config.oss_role = "not a role!";
  EXPECT_EQ(service_->CreateDeliveryTask("t", "remote", config, DeliveryTaskType::kBase).code(),
            StatusCode::kInvalidArgument);
  // A role without a set: created, and the run reports UNAUTHORIZED, as the cloud service
  // reports a role it cannot assume. An ARN names the role after "role/".
  config.oss_role = "acs:ram::1234:role/lake-writer";
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "remote", config, DeliveryTaskType::kBase).ok());
  EXPECT_FALSE(service_->RunTask("t", "remote").ok());
  auto d = service_->DescribeDeliveryTask("t", "remote");
  EXPECT_EQ(d->status.error_code, "UNAUTHORIZED");
  EXPECT_NE(d->status.error_detail.find("credentials put lake-writer"), std::string::npos)
      << d->status.error_detail;
  // With the set, the keys are found and the endpoint itself answers: here nobody listens, and
  // the task reports the bucket unreachable with the endpoint's own message.
  ASSERT_TRUE(service_->PutCredentialSet("lake-writer", {"AKID", "secret", "", ""}).ok());
  config.oss_endpoint = "oss+http://127.0.0.1:1";
  ASSERT_TRUE(service_->UpdateDeliveryTask("t", "remote", config).ok());
  EXPECT_FALSE(service_->RunTask("t", "remote").ok());
  d = service_->DescribeDeliveryTask("t", "remote");
  EXPECT_EQ(d->status.error_code, "INVALID_OSS_BUCKET");
  EXPECT_NE(d->status.error_detail.find("connect"), std::string::npos) << d->status.error_detail;
  // Local folders need no role.
  EXPECT_TRUE(service_->CreateDeliveryTask("t", "local", Config(), DeliveryTaskType::kBase).ok());
  EXPECT_TRUE(service_->RunTask("t", "local").ok());
}

TEST_F(DeliveryRunTest, BucketErrorClearsOnceTheBucketIsBack) {
  auto config = Config();
  config.oss_bucket = "later";
  // An IncTask: its state, error included, carries over from run to run.
  ASSERT_TRUE(service_->CreateDeliveryTask("t", "later", config, DeliveryTaskType::kInc).ok());
  ASSERT_TRUE(Write(1, 10).ok());
  EXPECT_FALSE(service_->RunTask("t", "later").ok());
  EXPECT_EQ(service_->DescribeDeliveryTask("t", "later")->status.error_code, "INVALID_OSS_BUCKET");
  fs::create_directories(root_ / "lake" / "later");
  ASSERT_TRUE(service_->RunTask("t", "later").ok());
  auto d = service_->DescribeDeliveryTask("t", "later");
  EXPECT_EQ(d->status.error_code, "");
  EXPECT_EQ(d->status.error_detail, "");
  EXPECT_EQ(d->status.rows_delivered, 1);
}

}  // namespace
}  // namespace tablelake

namespace tablelake {
namespace {

class ManualClock : public Clock {
 public:
  int64_t NowMicros() const override { return now_.load(); }
  void Advance(int64_t us) { now_ += us; }
  std::atomic<int64_t> now_{1795478400LL * 1000000};
};

// A task that falls further behind than the change log keeps its records reports it, rather
// than skipping the changes it lost.
TEST(DeliveryRetention, FallingBehindTheChangeLogIsAnError) {
  auto root =
      fs::temp_directory_path() / ("tablelake-retention-" + std::to_string(std::random_device{}()));
  fs::create_directories(root / "lake" / "bucket");
  auto clock = std::make_shared<ManualClock>();
  StoreOptions options;
  options.clock = clock;
  options.max_change_log_hours = 24;
  {
    auto store = std::move(TableStore::Open((root / "data").string(), options)).value();
    auto service = std::move(DeliveryService::Open(store.get())).value();
    TableMeta meta{"t", {{"id", PrimaryKeyType::kInteger}}, {}};
    ASSERT_TRUE(store->CreateTable(meta).ok());
    DeliveryTaskConfig c;
    c.oss_bucket = "bucket";
    c.oss_endpoint = "file://" + (root / "lake").string();
    c.schema = {{"id", "id", "INT64"}};
    ASSERT_TRUE(service->CreateDeliveryTask("t", "slow", c, DeliveryTaskType::kInc).ok());
    ASSERT_TRUE(store->PutRow({"t", {{"id", Value::Integer(1)}}, {}, {}, {}}).ok());
    ASSERT_TRUE(service->RunTask("t", "slow").ok());  // in time: delivered
    ASSERT_TRUE(store->PutRow({"t", {{"id", Value::Integer(2)}}, {}, {}, {}}).ok());
    clock->Advance(int64_t{25} * 3600 * 1000000);  // past the 24 h the log keeps
    Status s = service->RunTask("t", "slow");
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("24 hours"), std::string::npos) << s.ToString();
    auto d = service->DescribeDeliveryTask("t", "slow");
    EXPECT_EQ(d->status.error_code, "CHANGE_LOG_EXPIRED");
    EXPECT_EQ(d->status.rows_delivered, 1);
    EXPECT_GE(d->status.lag_ms, 25 * 3600 * 1000 - 1000);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace tablelake
