#include "store_fixture.h"

namespace tablelake::testing {
namespace {

using RowOpsTest = StoreTest;

TEST_F(RowOpsTest, PutReplacesTheWholeRow) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"x", Value::Integer(1)}, {"y", Value::String("y")}}).ok());
  ASSERT_TRUE(Put(Key(1, "a"), {{"z", Value::Double(2.5)}}).ok());
  auto row = Get(Key(1, "a"));
  ASSERT_TRUE(row);
  ASSERT_EQ(row->cells.size(), 1u);
  EXPECT_EQ(row->cells[0].name, "z");
  EXPECT_EQ(row->cells[0].value, Value::Double(2.5));
  EXPECT_EQ(row->cells[0].timestamp, NowMs());  // the commit time
  EXPECT_EQ(row->primary_key, Key(1, "a"));
}

TEST_F(RowOpsTest, AllValueTypesRoundTrip) {
  CreateSample();
  std::vector<Cell> cells = {{"b", Value::Boolean(false), kNoTimestamp},
                             {"bin", Value::Binary(std::string("\0\1\xff", 3)), kNoTimestamp},
                             {"d", Value::Double(-1e300), kNoTimestamp},
                             {"i", Value::Integer(INT64_MIN), kNoTimestamp},
                             {"s", Value::String("東京"), kNoTimestamp}};
  ASSERT_TRUE(Put(Key(-5, ""), cells).ok());
  auto row = Get(Key(-5, ""));
  ASSERT_TRUE(row);
  ASSERT_EQ(row->cells.size(), cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(row->cells[i].name, cells[i].name);
    EXPECT_EQ(row->cells[i].value, cells[i].value);
  }
}

TEST_F(RowOpsTest, MissingRowAndTable) {
  CreateSample();
  EXPECT_FALSE(Get(Key(9, "none")).has_value());
  GetRowRequest r;
  r.table = "nope";
  r.primary_key = Key(1, "a");
  auto res = store_->GetRow(r);
  EXPECT_EQ(res.status().code(), StatusCode::kNotFound);
  EXPECT_STREQ(res.status().OtsErrorCode(), "OTSObjectNotExist");
  EXPECT_NE(res.status().message().find("'nope'"), std::string::npos);
}

TEST_F(RowOpsTest, WriteValidationNamesTheColumn) {
  CreateSample();
  Status s = Put(Key(1, "a"), {{"bad-name", Value::Integer(1)}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bad-name"), std::string::npos);
  s = Put(Key(1, "a"), {{"PK1", Value::Integer(1)}});
  EXPECT_NE(s.message().find("primary key column"), std::string::npos) << s.message();
  s = Put(Key(1, "a"), {{"c", Value::InfMax()}});
  EXPECT_FALSE(s.ok());
  s = Put(Key(1, "a"), {{"c", Value::String(std::string((2 << 20) + 1, 'x'))}});
  EXPECT_NE(s.message().find("limit"), std::string::npos);
  // Versions too far from now are refused (deviation_cell_version_in_sec, default one day).
  s = Put(Key(1, "a"), {{"c", Value::Integer(1), NowMs() - 86400 * 1000 - 1}});
  EXPECT_NE(s.message().find("version"), std::string::npos) << s.message();
  PrimaryKey wrong = {{"PK1", Value::String("1")}, {"PK2", Value::String("a")}};
  EXPECT_EQ(Put(wrong, {}).code(), StatusCode::kInvalidPrimaryKey);
  EXPECT_FALSE(Get(Key(1, "a")).has_value());  // nothing was written
}

TEST_F(RowOpsTest, UpdateOperations) {
  CreateSample("sampleTable", {.max_versions = 5});
  int64_t t0 = NowMs();
  UpdateRowRequest u;
  u.table = "sampleTable";
  u.primary_key = Key(1, "a");
  u.updates = {{ColumnUpdate::Op::kPut, "v", Value::Integer(1), t0 - 3000},
               {ColumnUpdate::Op::kPut, "v", Value::Integer(2), t0 - 2000},
               {ColumnUpdate::Op::kPut, "v", Value::Integer(3), t0 - 1000},
               {ColumnUpdate::Op::kPut, "w", Value::String("w"), kNoTimestamp},
               {ColumnUpdate::Op::kIncrement, "n", Value::Integer(10), kNoTimestamp}};
  ASSERT_TRUE(store_->UpdateRow(u).ok());  // creates the row (IGNORE)
  auto row = Get(Key(1, "a"), 10);
  ASSERT_TRUE(row);
  ASSERT_EQ(row->cells.size(), 5u);  // n, v x3, w
  EXPECT_EQ(row->Latest("n")->value, Value::Integer(10));
  EXPECT_EQ(row->Latest("v")->value, Value::Integer(3));

  u.updates = {{ColumnUpdate::Op::kDeleteOneVersion, "v", Value(), t0 - 1000},
               {ColumnUpdate::Op::kDeleteAllVersions, "w", Value(), kNoTimestamp},
               {ColumnUpdate::Op::kIncrement, "n", Value::Integer(-3), kNoTimestamp}};
  ASSERT_TRUE(store_->UpdateRow(u).ok());
  row = Get(Key(1, "a"), 10);
  EXPECT_EQ(row->Latest("v")->value, Value::Integer(2));
  EXPECT_EQ(row->Latest("w"), nullptr);
  EXPECT_EQ(row->Latest("n")->value, Value::Integer(7));

  u.updates = {{ColumnUpdate::Op::kIncrement, "v", Value::Double(1), kNoTimestamp}};
  EXPECT_FALSE(store_->UpdateRow(u).ok());
  ASSERT_TRUE(Put(Key(2, "s"), {{"s", Value::String("x")}}).ok());
  u.primary_key = Key(2, "s");
  u.updates = {{ColumnUpdate::Op::kIncrement, "s", Value::Integer(1), kNoTimestamp}};
  Status s = store_->UpdateRow(u).status();
  EXPECT_NE(s.message().find("cannot increment column 's'"), std::string::npos) << s.message();
  u.updates = {{ColumnUpdate::Op::kDeleteOneVersion, "s", Value(), kNoTimestamp}};
  EXPECT_FALSE(store_->UpdateRow(u).ok());  // needs a timestamp
}

TEST_F(RowOpsTest, UpdateOfAbsentRowWithOnlyDeletesWritesNothing) {
  CreateSample();
  UpdateRowRequest u{"sampleTable",
                     Key(1, "a"),
                     {{ColumnUpdate::Op::kDeleteAllVersions, "x", Value(), kNoTimestamp}},
                     {},
                     {}};
  ASSERT_TRUE(store_->UpdateRow(u).ok());
  EXPECT_FALSE(Get(Key(1, "a")).has_value());
  EXPECT_TRUE(store_->ReadStream("sampleTable", 0)->records.empty());
}

TEST_F(RowOpsTest, DeleteRow) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"x", Value::Integer(1)}}).ok());
  ASSERT_TRUE(store_->DeleteRow({"sampleTable", Key(1, "a"), {}, {}}).ok());
  EXPECT_FALSE(Get(Key(1, "a")).has_value());
  // IGNORE on an absent row succeeds; EXPECT_EXIST fails.
  EXPECT_TRUE(store_->DeleteRow({"sampleTable", Key(1, "a"), {}, {}}).ok());
  Condition expect_exist{RowExistence::kExpectExist, std::nullopt};
  EXPECT_EQ(store_->DeleteRow({"sampleTable", Key(1, "a"), expect_exist, {}}).status().code(),
            StatusCode::kConditionFailed);
}

TEST_F(RowOpsTest, PrimaryKeyOnlyRowExists) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {}).ok());
  auto row = Get(Key(1, "a"));
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->cells.empty());
}

TEST_F(RowOpsTest, AutoIncrementAssignsIncreasingKeysAndReturnsThem) {
  TableMeta meta{
      "ai", {{"p", PrimaryKeyType::kString}, {"id", PrimaryKeyType::kInteger, true}}, {}};
  ASSERT_TRUE(store_->CreateTable(meta).ok());
  int64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    PutRowRequest r{"ai",
                    {{"p", Value::String("x")}, {"id", Value::AutoIncrement()}},
                    {{"i", Value::Integer(i)}},
                    {},
                    ReturnType::kPrimaryKey};
    auto res = store_->PutRow(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_TRUE(res->primary_key);
    int64_t id = (*res->primary_key)[1].value.integer();
    EXPECT_GT(id, last);
    last = id;
  }
  Reopen();  // still increasing after a restart, even if the clock stood still
  PutRowRequest r{"ai",
                  {{"p", Value::String("x")}, {"id", Value::AutoIncrement()}},
                  {},
                  {},
                  ReturnType::kPrimaryKey};
  auto res = store_->PutRow(r);
  ASSERT_TRUE(res.ok());
  EXPECT_GT((*res->primary_key)[1].value.integer(), last);
  // The placeholder only fits the AUTO_INCREMENT column, and only with IGNORE.
  r.primary_key = {{"p", Value::AutoIncrement()}, {"id", Value::Integer(1)}};
  EXPECT_FALSE(store_->PutRow(r).ok());
  r.primary_key = {{"p", Value::String("x")}, {"id", Value::AutoIncrement()}};
  r.condition.row_existence = RowExistence::kExpectNotExist;
  EXPECT_FALSE(store_->PutRow(r).ok());
}

TEST_F(RowOpsTest, ReturnAfterModify) {
  CreateSample();
  UpdateRowRequest u{"sampleTable",
                     Key(1, "a"),
                     {{ColumnUpdate::Op::kIncrement, "n", Value::Integer(5), kNoTimestamp}},
                     {},
                     ReturnType::kAfterModify};
  auto res = store_->UpdateRow(u);
  ASSERT_TRUE(res.ok());
  ASSERT_TRUE(res->row);
  EXPECT_EQ(res->row->Latest("n")->value, Value::Integer(5));
  res = store_->UpdateRow(u);
  EXPECT_EQ(res->row->Latest("n")->value, Value::Integer(10));
}

TEST_F(RowOpsTest, BatchWriteAndBatchGet) {
  CreateSample();
  ASSERT_TRUE(Put(Key(3, "c"), {{"x", Value::Integer(3)}}).ok());
  std::vector<BatchWriteItem> items(4);
  items[0].type = BatchWriteItem::Type::kPut;
  items[0].put = {"sampleTable", Key(1, "a"), {{"x", Value::Integer(1)}}, {}, {}};
  items[1].type = BatchWriteItem::Type::kPut;  // fails its condition, alone
  items[1].put = {"sampleTable",
                  Key(3, "c"),
                  {{"x", Value::Integer(99)}},
                  {RowExistence::kExpectNotExist, std::nullopt},
                  {}};
  items[2].type = BatchWriteItem::Type::kUpdate;
  items[2].update = {"sampleTable",
                     Key(2, "b"),
                     {{ColumnUpdate::Op::kPut, "x", Value::Integer(2), kNoTimestamp}},
                     {},
                     {}};
  items[3].type = BatchWriteItem::Type::kDelete;
  items[3].del = {"nope", Key(4, "d"), {}, {}};
  auto results = store_->BatchWriteRow(items);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].status().code(), StatusCode::kConditionFailed);
  EXPECT_TRUE(results[2].ok());
  EXPECT_EQ(results[3].status().code(), StatusCode::kNotFound);

  std::vector<GetRowRequest> gets(4);
  int64_t ids[] = {1, 2, 3, 9};
  const char* names[] = {"a", "b", "c", "z"};
  for (int i = 0; i < 4; ++i) {
    gets[i].table = "sampleTable";
    gets[i].primary_key = Key(ids[i], names[i]);
  }
  auto rows = store_->BatchGetRow(gets);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ((*rows[0])->Latest("x")->value, Value::Integer(1));
  EXPECT_EQ((*rows[1])->Latest("x")->value, Value::Integer(2));
  EXPECT_EQ((*rows[2])->Latest("x")->value, Value::Integer(3));  // unchanged
  EXPECT_FALSE(rows[3]->has_value());
}

TEST_F(RowOpsTest, BatchWriteRejectsDuplicatesAndOversizedBatches) {
  CreateSample();
  std::vector<BatchWriteItem> items(2);
  for (auto& it : items) it.put = {"sampleTable", Key(1, "a"), {{"x", Value::Integer(1)}}, {}, {}};
  for (const auto& r : store_->BatchWriteRow(items)) EXPECT_FALSE(r.ok());
  EXPECT_FALSE(Get(Key(1, "a")).has_value());
  std::vector<BatchWriteItem> many(201);
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].put = {"sampleTable", Key(static_cast<int64_t>(i), "a"), {}, {}, {}};
  }
  auto results = store_->BatchWriteRow(many);
  EXPECT_NE(results[0].status().message().find("limit of 200"), std::string::npos);
}

TEST_F(RowOpsTest, DataSurvivesReopen) {
  CreateSample();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Put(Key(i, "k"), {{"v", Value::Integer(i)}}).ok());
  Reopen();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Get(Key(i, "k"))->Latest("v")->value, Value::Integer(i));
}

}  // namespace
}  // namespace tablelake::testing
