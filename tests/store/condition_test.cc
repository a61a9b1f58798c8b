#include "store_fixture.h"

namespace tablelake::testing {
namespace {

using ConditionTest = StoreTest;

TEST_F(ConditionTest, RowExistence) {
  CreateSample();
  Condition not_exist{RowExistence::kExpectNotExist, std::nullopt};
  Condition exist{RowExistence::kExpectExist, std::nullopt};
  EXPECT_EQ(Put(Key(1, "a"), {{"v", Value::Integer(1)}}, exist).code(),
            StatusCode::kConditionFailed);
  EXPECT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(1)}}, not_exist).ok());
  Status s = Put(Key(1, "a"), {{"v", Value::Integer(2)}}, not_exist);
  EXPECT_EQ(s.code(), StatusCode::kConditionFailed);
  EXPECT_STREQ(s.OtsErrorCode(), "OTSConditionCheckFail");
  EXPECT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(3)}}, exist).ok());
  EXPECT_EQ(Get(Key(1, "a"))->Latest("v")->value, Value::Integer(3));
}

TEST_F(ConditionTest, SingleColumnComparisons) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"n", Value::Integer(10)}, {"s", Value::String("m")}}).ok());
  auto check = [&](Filter f) {
    return Put(Key(1, "a"), {{"n", Value::Integer(10)}, {"s", Value::String("m")}},
               {RowExistence::kIgnore, std::move(f)});
  };
  struct Case {
    Comparator cmp;
    int64_t operand;
    bool pass;
  } cases[] = {{Comparator::kEqual, 10, true},        {Comparator::kEqual, 9, false},
               {Comparator::kNotEqual, 9, true},      {Comparator::kGreaterThan, 9, true},
               {Comparator::kGreaterThan, 10, false}, {Comparator::kGreaterEqual, 10, true},
               {Comparator::kLessThan, 11, true},     {Comparator::kLessThan, 10, false},
               {Comparator::kLessEqual, 10, true},    {Comparator::kLessEqual, 9, false}};
  for (const auto& c : cases) {
    Status s = check(Filter::Compare("n", c.cmp, Value::Integer(c.operand)));
    EXPECT_EQ(s.ok(), c.pass) << static_cast<int>(c.cmp) << " " << c.operand;
  }
  EXPECT_TRUE(check(Filter::Compare("s", Comparator::kGreaterThan, Value::String("l"))).ok());
  // Different types never compare equal.
  EXPECT_FALSE(check(Filter::Compare("n", Comparator::kEqual, Value::String("10"))).ok());
  // A missing column passes unless filter_if_missing.
  EXPECT_TRUE(check(Filter::Compare("zz", Comparator::kEqual, Value::Integer(1), true)).ok());
  EXPECT_FALSE(check(Filter::Compare("zz", Comparator::kEqual, Value::Integer(1), false)).ok());
}

TEST_F(ConditionTest, CompositeConditions) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"n", Value::Integer(10)}}).ok());
  auto gt5 = Filter::Compare("n", Comparator::kGreaterThan, Value::Integer(5));
  auto lt8 = Filter::Compare("n", Comparator::kLessThan, Value::Integer(8));
  auto check = [&](Filter f) {
    return Put(Key(1, "a"), {{"n", Value::Integer(10)}}, {RowExistence::kExpectExist, f});
  };
  EXPECT_FALSE(check(Filter::Combine(LogicalOp::kAnd, {gt5, lt8})).ok());
  EXPECT_TRUE(check(Filter::Combine(LogicalOp::kOr, {gt5, lt8})).ok());
  EXPECT_TRUE(check(Filter::Combine(LogicalOp::kNot, {lt8})).ok());
  EXPECT_TRUE(
      check(Filter::Combine(LogicalOp::kAnd, {gt5, Filter::Combine(LogicalOp::kNot, {lt8})})).ok());
  // Malformed trees are parameter errors, not check failures.
  EXPECT_EQ(check(Filter::Combine(LogicalOp::kNot, {gt5, lt8})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(check(Filter::Combine(LogicalOp::kAnd, {gt5})).code(), StatusCode::kInvalidArgument);
  Filter page;
  page.kind = Filter::Kind::kColumnPagination;
  page.limit = 1;
  EXPECT_EQ(check(page).code(), StatusCode::kInvalidArgument);
}

TEST_F(ConditionTest, LatestVersionOnlyOrAnyVersion) {
  CreateSample("sampleTable", {.max_versions = 3});
  int64_t t = NowMs();
  UpdateRowRequest u{"sampleTable",
                     Key(1, "a"),
                     {{ColumnUpdate::Op::kPut, "n", Value::Integer(1), t - 2},
                      {ColumnUpdate::Op::kPut, "n", Value::Integer(2), t - 1}},
                     {},
                     {}};
  ASSERT_TRUE(store_->UpdateRow(u).ok());
  auto eq1 = Filter::Compare("n", Comparator::kEqual, Value::Integer(1));
  Condition c{RowExistence::kIgnore, eq1};
  UpdateRowRequest touch{"sampleTable",
                         Key(1, "a"),
                         {{ColumnUpdate::Op::kPut, "m", Value::Integer(0), kNoTimestamp}},
                         c,
                         {}};
  EXPECT_FALSE(store_->UpdateRow(touch).ok());
  touch.condition.column_condition->latest_version_only = false;
  EXPECT_TRUE(store_->UpdateRow(touch).ok());
}

TEST_F(ConditionTest, UpdateAndDeleteHonourConditions) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"state", Value::String("open")}}).ok());
  Condition only_open{RowExistence::kExpectExist,
                      Filter::Compare("state", Comparator::kEqual, Value::String("open"))};
  UpdateRowRequest close{"sampleTable",
                         Key(1, "a"),
                         {{ColumnUpdate::Op::kPut, "state", Value::String("closed"), kNoTimestamp}},
                         only_open,
                         {}};
  EXPECT_TRUE(store_->UpdateRow(close).ok());
  EXPECT_EQ(store_->UpdateRow(close).status().code(), StatusCode::kConditionFailed);
  EXPECT_EQ(store_->DeleteRow({"sampleTable", Key(1, "a"), only_open, {}}).status().code(),
            StatusCode::kConditionFailed);
  EXPECT_TRUE(Get(Key(1, "a")).has_value());
}

TEST_F(ConditionTest, ReadFiltersAndColumnPagination) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"),
                  {{"a", Value::Integer(1)}, {"b", Value::Integer(2)}, {"c", Value::Integer(3)}})
                  .ok());
  GetRowRequest r;
  r.table = "sampleTable";
  r.primary_key = Key(1, "a");
  r.filter = Filter::Compare("a", Comparator::kEqual, Value::Integer(2));
  EXPECT_FALSE(store_->GetRow(r)->has_value());
  Filter page;
  page.kind = Filter::Kind::kColumnPagination;
  page.offset = 1;
  page.limit = 1;
  r.filter = page;
  auto row = store_->GetRow(r);
  ASSERT_TRUE(row.ok());
  ASSERT_EQ((*row)->cells.size(), 1u);
  EXPECT_EQ((*row)->cells[0].name, "b");
}

}  // namespace
}  // namespace tablelake::testing
