// Versions, time ranges, TTL and max_versions on read, and their reclamation by compaction.
#include "store_fixture.h"

namespace tablelake::testing {
namespace {

using VersionsTest = StoreTest;

std::vector<int64_t> Versions(const Row& row, const std::string& column) {
  std::vector<int64_t> ts;
  for (const auto& c : row.cells) {
    if (c.name == column) ts.push_back(c.timestamp);
  }
  return ts;
}

TEST_F(VersionsTest, MaxVersionsKeepsNewest) {
  CreateSample("sampleTable", {.max_versions = 3});
  int64_t t = NowMs();
  for (int i = 0; i < 5; ++i) {
    UpdateRowRequest u{"sampleTable",
                       Key(1, "a"),
                       {{ColumnUpdate::Op::kPut, "v", Value::Integer(i), t - 5000 + i * 1000}},
                       {},
                       {}};
    ASSERT_TRUE(store_->UpdateRow(u).ok());
  }
  auto row = Get(Key(1, "a"), 10);
  EXPECT_EQ(Versions(*row, "v"), (std::vector<int64_t>{t - 1000, t - 2000, t - 3000}));
  row = Get(Key(1, "a"));  // default: newest only
  EXPECT_EQ(Versions(*row, "v"), (std::vector<int64_t>{t - 1000}));
  EXPECT_EQ(row->cells[0].value, Value::Integer(4));
}

TEST_F(VersionsTest, SameVersionOverwrites) {
  CreateSample("sampleTable", {.max_versions = 3});
  int64_t t = NowMs() - 10;
  for (int i = 0; i < 3; ++i) {
    UpdateRowRequest u{
        "sampleTable", Key(1, "a"), {{ColumnUpdate::Op::kPut, "v", Value::Integer(i), t}}, {}, {}};
    ASSERT_TRUE(store_->UpdateRow(u).ok());
  }
  auto row = Get(Key(1, "a"), 10);
  ASSERT_EQ(row->cells.size(), 1u);
  EXPECT_EQ(row->cells[0].value, Value::Integer(2));
}

TEST_F(VersionsTest, TimeRangeAndMaxVersionsOnRead) {
  CreateSample("sampleTable", {.max_versions = 10});
  int64_t t = NowMs();
  std::vector<ColumnUpdate> ups;
  for (int i = 1; i <= 6; ++i)
    ups.push_back({ColumnUpdate::Op::kPut, "v", Value::Integer(i), t - i * 1000});
  ASSERT_TRUE(store_->UpdateRow({"sampleTable", Key(1, "a"), ups, {}, {}}).ok());
  GetRowRequest r;
  r.table = "sampleTable";
  r.primary_key = Key(1, "a");
  r.time_range = TimeRange{t - 4000, t - 1500};  // versions t-4000, t-3000, t-2000
  auto row = store_->GetRow(r);
  EXPECT_EQ(Versions(**row, "v"), (std::vector<int64_t>{t - 2000, t - 3000, t - 4000}));
  r.max_versions = 2;
  row = store_->GetRow(r);
  EXPECT_EQ(Versions(**row, "v"), (std::vector<int64_t>{t - 2000, t - 3000}));
  r.time_range = TimeRange::Specific(t - 5000);
  r.max_versions = 0;
  row = store_->GetRow(r);
  EXPECT_EQ(Versions(**row, "v"), (std::vector<int64_t>{t - 5000}));
  r.time_range = TimeRange{10, 5};
  EXPECT_EQ(store_->GetRow(r).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(VersionsTest, ColumnsToGet) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"),
                  {{"a", Value::Integer(1)}, {"b", Value::Integer(2)}, {"c", Value::Integer(3)}})
                  .ok());
  GetRowRequest r;
  r.table = "sampleTable";
  r.primary_key = Key(1, "a");
  r.columns_to_get = {"c", "a"};
  auto row = store_->GetRow(r);
  ASSERT_EQ((*row)->cells.size(), 2u);
  EXPECT_EQ((*row)->cells[0].name, "a");
  EXPECT_EQ((*row)->cells[1].name, "c");
}

TEST_F(VersionsTest, TtlHidesExpiredCellsAndCompactionReclaimsThem) {
  CreateSample("sampleTable", {.time_to_live = 86400});
  ASSERT_TRUE(Put(Key(1, "old"), {{"v", Value::Integer(1)}}).ok());
  clock_->AdvanceSeconds(86400 / 2);
  ASSERT_TRUE(Put(Key(2, "new"), {{"v", Value::Integer(2)}}).ok());
  clock_->AdvanceSeconds(86400 / 2 + 1);  // row 1 is past its TTL, row 2 is not
  EXPECT_FALSE(Get(Key(1, "old")).has_value());
  EXPECT_TRUE(Get(Key(2, "new")).has_value());
  GetRangeRequest range;
  range.table = "sampleTable";
  range.inclusive_start = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
  range.exclusive_end = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
  EXPECT_EQ(store_->GetRange(range)->rows.size(), 1u);
  // An expired row no longer exists for conditions either.
  EXPECT_TRUE(Put(Key(1, "old"), {}, {RowExistence::kExpectNotExist, std::nullopt}).ok());
  ASSERT_TRUE(store_->DeleteRow({"sampleTable", Key(1, "old"), {}, {}}).ok());
  ASSERT_TRUE(Put(Key(1, "old"), {{"v", Value::Integer(1)}, {"w", Value::Integer(9)}}).ok());
  clock_->AdvanceSeconds(86401);
  ASSERT_TRUE(store_->CompactAll().ok());
  // Had compaction kept the cells, lifting the TTL would bring them back.
  ASSERT_TRUE(store_->UpdateTable("sampleTable", TableOptions{}, std::nullopt).ok());
  EXPECT_FALSE(Get(Key(1, "old")).has_value());
  EXPECT_FALSE(Get(Key(2, "new")).has_value());
}

TEST_F(VersionsTest, LoweredMaxVersionsAppliesOnReadAndIsReclaimed) {
  CreateSample("sampleTable", {.max_versions = 5});
  int64_t t = NowMs();
  std::vector<ColumnUpdate> ups;
  for (int i = 1; i <= 5; ++i)
    ups.push_back({ColumnUpdate::Op::kPut, "v", Value::Integer(i), t - i});
  ASSERT_TRUE(store_->UpdateRow({"sampleTable", Key(1, "a"), ups, {}, {}}).ok());
  ASSERT_TRUE(
      store_->UpdateTable("sampleTable", TableOptions{.max_versions = 2}, std::nullopt).ok());
  EXPECT_EQ(Versions(*Get(Key(1, "a"), 10), "v").size(), 2u);
  ASSERT_TRUE(store_->CompactAll().ok());
  ASSERT_TRUE(
      store_->UpdateTable("sampleTable", TableOptions{.max_versions = 5}, std::nullopt).ok());
  EXPECT_EQ(Versions(*Get(Key(1, "a"), 10), "v"), (std::vector<int64_t>{t - 1, t - 2}));
}

TEST_F(VersionsTest, CompactionDropsDataOfDroppedTables) {
  CreateSample("gone");
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(Put(Key(i, "x"), {{"v", Value::Integer(i)}}, {}, "gone").ok());
  ASSERT_TRUE(store_->DeleteTable("gone").ok());
  ASSERT_TRUE(store_->CompactAll().ok());
  CreateSample("gone");
  EXPECT_FALSE(Get(Key(5, "x"), 0, "gone").has_value());
}

}  // namespace
}  // namespace tablelake::testing
