// A fresh store in a temporary folder with a manual clock, shared by the store tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>

#include "tablelake/table_store.h"

namespace tablelake::testing {

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_us) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void AdvanceSeconds(int64_t s) { now_us_ += s * 1000000; }
  void AdvanceMicros(int64_t us) { now_us_ += us; }

 private:
  std::atomic<int64_t> now_us_;
};

inline std::string MakeTempDir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             ("tablelake-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline PrimaryKey Key(int64_t pk1, const std::string& pk2) {
  return {{"PK1", Value::Integer(pk1)}, {"PK2", Value::String(pk2)}};
}

class StoreTest : public ::testing::Test {
 protected:
  // 2026-11-24T00:00:00Z, so that caller-given versions near "now" are realistic.
  static constexpr int64_t kStartMicros = 1795478400LL * 1000000;

  void SetUp() override {
    dir_ = MakeTempDir();
    clock_ = std::make_shared<ManualClock>(kStartMicros);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    StoreOptions options;
    options.clock = clock_;
    auto s = TableStore::Open(dir_, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  int64_t NowMs() const { return clock_->NowMillis(); }

  // sampleTable: PK1 INTEGER, PK2 STRING.
  void CreateSample(const std::string& name = "sampleTable", TableOptions options = {},
                    StreamSpecification stream = {true, 24}) {
    TableMeta meta{name, {{"PK1", PrimaryKeyType::kInteger}, {"PK2", PrimaryKeyType::kString}}, {}};
    ASSERT_TRUE(store_->CreateTable(meta, options, stream).ok());
  }

  Status Put(const PrimaryKey& pk, std::vector<Cell> cells, Condition c = {},
             const std::string& table = "sampleTable") {
    return store_->PutRow({table, pk, std::move(cells), std::move(c), ReturnType::kNone}).status();
  }

  std::optional<Row> Get(const PrimaryKey& pk, int32_t max_versions = 0,
                         const std::string& table = "sampleTable") {
    GetRowRequest r;
    r.table = table;
    r.primary_key = pk;
    r.max_versions = max_versions;
    auto res = store_->GetRow(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : std::nullopt;
  }

  std::string dir_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<TableStore> store_;
};

}  // namespace tablelake::testing
