#include <algorithm>
#include <map>
#include <random>

#include "store_fixture.h"

namespace tablelake::testing {
namespace {

class RangeTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    CreateSample();
    // PK1 in [-3, 3], PK2 in {"", "a", "b"}: 21 rows.
    for (int64_t i = -3; i <= 3; ++i) {
      for (const char* s : {"", "a", "b"}) {
        ASSERT_TRUE(Put(Key(i, s), {{"i", Value::Integer(i)}, {"s", Value::String(s)}}).ok());
      }
    }
  }
  GetRangeRequest Range(PrimaryKey start, PrimaryKey end, Direction d = Direction::kForward) {
    GetRangeRequest r;
    r.table = "sampleTable";
    r.direction = d;
    r.inclusive_start = std::move(start);
    r.exclusive_end = std::move(end);
    return r;
  }
  static PrimaryKey Min() { return {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}}; }
  static PrimaryKey Max() { return {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}}; }
  std::vector<PrimaryKey> Keys(const GetRangeRequest& r) {
    auto res = store_->GetRange(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::vector<PrimaryKey> keys;
    for (const auto& row : res->rows) keys.push_back(row.primary_key);
    return keys;
  }
};

TEST_F(RangeTest, ForwardWholeTableInOrder) {
  auto keys = Keys(Range(Min(), Max()));
  ASSERT_EQ(keys.size(), 21u);
  EXPECT_EQ(keys.front(), Key(-3, ""));  // negative integers first
  EXPECT_EQ(keys[1], Key(-3, "a"));
  EXPECT_EQ(keys.back(), Key(3, "b"));
}

TEST_F(RangeTest, InclusiveStartExclusiveEnd) {
  auto keys = Keys(Range(Key(-1, "a"), Key(1, "a")));
  std::vector<PrimaryKey> expected = {Key(-1, "a"), Key(-1, "b"), Key(0, ""),
                                      Key(0, "a"),  Key(0, "b"),  Key(1, "")};
  EXPECT_EQ(keys, expected);
  // INF_MIN/INF_MAX inside a key: all of PK1 == 2.
  keys = Keys(Range({{"PK1", Value::Integer(2)}, {"PK2", Value::InfMin()}},
                    {{"PK1", Value::Integer(2)}, {"PK2", Value::InfMax()}}));
  EXPECT_EQ(keys, (std::vector<PrimaryKey>{Key(2, ""), Key(2, "a"), Key(2, "b")}));
}

TEST_F(RangeTest, Backward) {
  auto keys = Keys(Range(Key(1, "a"), Key(-1, "a"), Direction::kBackward));
  std::vector<PrimaryKey> expected = {Key(1, "a"), Key(1, ""), Key(0, "b"),
                                      Key(0, "a"), Key(0, ""), Key(-1, "b")};
  EXPECT_EQ(keys, expected);
  keys = Keys(Range(Max(), Min(), Direction::kBackward));
  ASSERT_EQ(keys.size(), 21u);
  EXPECT_EQ(keys.front(), Key(3, "b"));
  EXPECT_EQ(keys.back(), Key(-3, ""));
}

TEST_F(RangeTest, LimitAndPagingVisitEveryRowOnce) {
  for (Direction d : {Direction::kForward, Direction::kBackward}) {
    auto r = d == Direction::kForward ? Range(Min(), Max()) : Range(Max(), Min(), d);
    r.limit = 4;
    std::vector<PrimaryKey> all;
    int pages = 0;
    while (true) {
      auto res = store_->GetRange(r);
      ASSERT_TRUE(res.ok());
      ++pages;
      EXPECT_LE(res->rows.size(), 4u);
      for (auto& row : res->rows) all.push_back(row.primary_key);
      if (!res->next_start_primary_key) break;
      r.inclusive_start = *res->next_start_primary_key;
    }
    EXPECT_EQ(all.size(), 21u);
    EXPECT_EQ(pages, 6);
    auto fwd = Keys(Range(Min(), Max()));
    if (d == Direction::kBackward) std::reverse(fwd.begin(), fwd.end());
    EXPECT_EQ(all, fwd);
  }
}

TEST_F(RangeTest, ReplyCapSetsNextStart) {
  StoreOptions options;
  options.clock = clock_;
  options.max_range_rows = 5;
  store_.reset();
  store_ = std::move(TableStore::Open(dir_, options)).value();
  auto res = store_->GetRange(Range(Min(), Max()));
  ASSERT_EQ(res->rows.size(), 5u);
  ASSERT_TRUE(res->next_start_primary_key);
  EXPECT_EQ(*res->next_start_primary_key, Key(-2, "b"));
}

TEST_F(RangeTest, ByteCapEndsPagesEarlyAndPagingStillSeesEveryRow) {
  StoreOptions options;
  options.clock = clock_;
  options.max_range_bytes = 100;  // a stored row here is about 40 bytes
  store_.reset();
  store_ = std::move(TableStore::Open(dir_, options)).value();
  auto r = Range(Min(), Max());
  size_t rows = 0, pages = 0;
  GetRangeResult page;
  while (true) {
    ASSERT_TRUE(store_->GetRange(r, &page).ok());
    EXPECT_LE(page.rows.size(), 3u);
    EXPECT_GE(page.rows.size(), 1u);
    rows += page.rows.size();
    ++pages;
    if (!page.next_start_primary_key) break;
    r.inclusive_start = *page.next_start_primary_key;
  }
  EXPECT_EQ(rows, 21u);
  EXPECT_GE(pages, 7u);
}

TEST_F(RangeTest, FilterAndColumns) {
  auto r = Range(Min(), Max());
  r.filter = Filter::Compare("s", Comparator::kEqual, Value::String("a"));
  r.columns_to_get = {"i"};
  auto res = store_->GetRange(r);
  ASSERT_EQ(res->rows.size(), 7u);
  for (const auto& row : res->rows) {
    ASSERT_EQ(row.cells.size(), 1u);
    EXPECT_EQ(row.cells[0].name, "i");
    EXPECT_EQ(row.primary_key[1].value, Value::String("a"));
  }
}

TEST_F(RangeTest, ReusedResultPagesAsFreshOnes) {
  // Rows of 0 to 3 cells, some filtered out, so that reused slots change shape page by page.
  for (int64_t i = 10; i < 60; ++i) {
    std::vector<Cell> cells;
    for (int64_t c = 0; c < i % 4; ++c)
      cells.push_back({"c" + std::to_string(c), Value::Integer(i)});
    if (i % 5 == 0) cells.push_back({"s", Value::String("skip")});
    ASSERT_TRUE(Put(Key(i, std::string(i % 7, 'x')), cells).ok());
  }
  for (int32_t limit : {1, 3, 7, 100}) {
    auto r = Range(Min(), Max());
    r.limit = limit;
    r.filter = Filter::Compare("s", Comparator::kNotEqual, Value::String("skip"));
    std::vector<Row> fresh, reused;
    for (auto q = r;;) {
      auto page = store_->GetRange(q);
      ASSERT_TRUE(page.ok());
      fresh.insert(fresh.end(), page->rows.begin(), page->rows.end());
      if (!page->next_start_primary_key) break;
      q.inclusive_start = *page->next_start_primary_key;
    }
    GetRangeResult page;
    for (auto q = r;;) {
      ASSERT_TRUE(store_->GetRange(q, &page).ok());
      reused.insert(reused.end(), page.rows.begin(), page.rows.end());
      if (!page.next_start_primary_key) break;
      q.inclusive_start = *page.next_start_primary_key;
    }
    EXPECT_EQ(fresh.size(), 21u + 40u) << limit;  // 21 set-up rows, 50 new less 10 skipped
    EXPECT_EQ(reused, fresh) << limit;
  }
}

TEST_F(RangeTest, BadBounds) {
  auto r = Range(Key(2, ""), Key(1, ""));
  Status s = store_->GetRange(r).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("FORWARD"), std::string::npos) << s.message();
  r = Range(Key(1, ""), Key(2, ""), Direction::kBackward);
  EXPECT_FALSE(store_->GetRange(r).ok());
  r = Range({{"PK1", Value::InfMin()}}, Max());
  EXPECT_EQ(store_->GetRange(r).status().code(), StatusCode::kInvalidPrimaryKey);
  EXPECT_TRUE(Keys(Range(Key(1, "a"), Key(1, "a"))).empty());
}

TEST_F(RangeTest, RowIteratorSeesLatestVersions) {
  auto it = store_->NewRowIterator("sampleTable", Key(0, ""), Max(), {});
  ASSERT_TRUE(it.ok());
  int n = 0;
  for (; (*it)->Valid(); (*it)->Next()) {
    EXPECT_EQ((*it)->row().cells.size(), 2u);
    ++n;
  }
  EXPECT_TRUE((*it)->status().ok());
  EXPECT_EQ(n, 12);
}

// The row that `views` show.
Row RowOf(const RowViews& views) {
  Row row;
  for (const auto& c : views.primary_key)
    row.primary_key.push_back({std::string(c.name), c.value.ToValue()});
  for (const auto& c : views.cells)
    row.cells.push_back({std::string(c.name), c.value.ToValue(), c.timestamp});
  return row;
}

// Reads the rest of `it` through NextBatch, `batch_rows` (or `batch_bytes`) at a time, decoding
// every row, also as views (which must show the same row).
std::vector<Row> DrainInBatches(RowIterator* it, size_t batch_rows, size_t batch_bytes = 1 << 20) {
  std::vector<Row> rows;
  RowBatch batch;
  while (it->Valid()) {
    EXPECT_TRUE(it->NextBatch(batch_rows, batch_bytes, &batch).ok());
    EXPECT_LE(batch.size(), batch_rows);
    EXPECT_GE(batch.size(), 1u);
    if (batch.size() > 1) {
      EXPECT_LT(batch.bytes(), batch_bytes + 200);  // one row past the bound at most
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Row row;
      auto visible = batch.DecodeRow(i, &row);
      EXPECT_TRUE(visible.ok()) << visible.status().ToString();
      RowViews views;
      auto seen = batch.DecodeRowViews(i, &views);
      EXPECT_TRUE(seen.ok() && visible.ok() && *seen == *visible);
      if (seen.ok() && *seen) EXPECT_EQ(RowOf(views), row);
      if (visible.ok() && *visible) rows.push_back(std::move(row));
    }
  }
  return rows;
}

TEST_F(RangeTest, NextBatchYieldsWhatNextDoes) {
  for (size_t batch_rows : {1u, 4u, 21u, 100u}) {
    auto one = store_->NewRowIterator("sampleTable", Key(-1, "a"), Max(), {});
    auto bulk = store_->NewRowIterator("sampleTable", Key(-1, "a"), Max(), {});
    ASSERT_TRUE(one.ok() && bulk.ok());
    std::vector<Row> expected;
    for (; (*one)->Valid(); (*one)->Next()) expected.push_back((*one)->row());
    EXPECT_EQ(expected.size(), 14u);
    EXPECT_EQ(DrainInBatches(bulk->get(), batch_rows), expected) << batch_rows;
  }
  // A byte bound ends a batch early, however many rows it may hold; one byte still takes a row.
  for (size_t batch_bytes : {1u, 64u, 300u}) {
    auto one = store_->NewRowIterator("sampleTable", Key(-1, "a"), Max(), {});
    auto bulk = store_->NewRowIterator("sampleTable", Key(-1, "a"), Max(), {});
    ASSERT_TRUE(one.ok() && bulk.ok());
    std::vector<Row> expected;
    for (; (*one)->Valid(); (*one)->Next()) expected.push_back((*one)->row());
    EXPECT_EQ(DrainInBatches(bulk->get(), 100, batch_bytes), expected) << batch_bytes;
  }
}

TEST_F(RangeTest, NextBatchAfterNextAndHiddenRows) {
  // Rows past their TTL are copied into a batch but decode as hidden.
  CreateSample("ttl", {.time_to_live = 86400});
  for (int64_t i = 0; i < 10; ++i) {
    if (i == 5) clock_->AdvanceSeconds(50000);
    ASSERT_TRUE(Put(Key(i, "x"), {{"v", Value::Integer(i)}}, {}, "ttl").ok());
  }
  clock_->AdvanceSeconds(40000);  // rows 0-4 are 90000 s old, rows 5-9 40000 s
  auto it = store_->NewRowIterator("ttl", Min(), Max(), {});
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE((*it)->Valid());
  EXPECT_EQ((*it)->row().primary_key, Key(5, "x"));
  (*it)->Next();
  auto rest = DrainInBatches(it->get(), 3);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest.front().primary_key, Key(6, "x"));
  EXPECT_EQ(rest.back().primary_key, Key(9, "x"));
}

TEST_F(RangeTest, RowViewsShowWhatRowsDo) {
  // Views of the stored form where they can show the row (one version, no TTL, no escaped key
  // byte), the row decoded whole where they cannot: the same rows either way.
  CreateSample("versions", {.max_versions = 3});
  const std::string nul("a\0b", 3);
  const std::vector<Cell> every_type = {
      {"b", Value::Boolean(true)}, {"d", Value::Double(-0.5)}, {"e", Value::String("")},
      {"i", Value::Integer(-7)},   {"n", Value::Binary(nul)},  {"s", Value::String("caf\xc3\xa9")}};
  ASSERT_TRUE(Put(Key(1, "plain"), every_type, {}, "versions").ok());
  ASSERT_TRUE(Put(Key(2, nul), every_type, {}, "versions").ok());  // an escaped key byte
  ASSERT_TRUE(Put(Key(3, ""), {}, {}, "versions").ok());           // no cells
  for (int v = 0; v < 3; ++v) {
    clock_->AdvanceSeconds(1);
    ASSERT_TRUE(Put(Key(4, "three"), {{"v", Value::Integer(v)}}, {}, "versions").ok());
  }
  auto one = store_->NewRowIterator("versions", Min(), Max(), {});
  auto bulk = store_->NewRowIterator("versions", Min(), Max(), {});
  ASSERT_TRUE(one.ok() && bulk.ok());
  std::vector<Row> expected;
  for (; (*one)->Valid(); (*one)->Next()) expected.push_back((*one)->row());
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(expected[1].primary_key, Key(2, nul));
  EXPECT_EQ(DrainInBatches(bulk->get(), 2), expected);
}

TEST_F(RangeTest, RandomizedAgainstModel) {
  std::mt19937_64 rng(11);
  TableMeta meta{"rnd", {{"k", PrimaryKeyType::kBinary}, {"n", PrimaryKeyType::kInteger}}, {}};
  ASSERT_TRUE(store_->CreateTable(meta).ok());
  auto cmp = [](const PrimaryKey& a, const PrimaryKey& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      int c = ComparePrimaryKeyValues(a[i].value, b[i].value);
      if (c) return c < 0;
    }
    return false;
  };
  std::map<PrimaryKey, int, decltype(cmp)> model(cmp);
  auto random_key = [&] {
    std::string k(rng() % 3, '\0');
    for (char& c : k) c = static_cast<char>(rng() % 3 == 0 ? 0xff : rng() % 3);
    return PrimaryKey{{"k", Value::Binary(k)},
                      {"n", Value::Integer(static_cast<int64_t>(rng() % 7) - 3)}};
  };
  for (int i = 0; i < 300; ++i) {
    auto k = random_key();
    ASSERT_TRUE(store_->PutRow({"rnd", k, {}, {}, {}}).ok());
    model[k] = i;
  }
  for (int q = 0; q < 200; ++q) {
    auto a = random_key(), b = random_key();
    if (cmp(b, a)) std::swap(a, b);
    GetRangeRequest r;
    r.table = "rnd";
    r.inclusive_start = a;
    r.exclusive_end = b;
    auto res = store_->GetRange(r);
    ASSERT_TRUE(res.ok());
    std::vector<PrimaryKey> expected;
    for (auto it = model.lower_bound(a); it != model.end() && cmp(it->first, b); ++it)
      expected.push_back(it->first);
    std::vector<PrimaryKey> got;
    for (auto& row : res->rows) got.push_back(row.primary_key);
    ASSERT_EQ(got, expected);
  }
}

// Issue 13: the parts a full delivery scans in parallel - keys in order, each part a fair
// share of the rows, none for a table too small to split, and a clear error for no table.
TEST_F(RangeTest, SplitIntoPartsOfAboutEqualSize) {
  std::mt19937_64 rng(5);
  auto loader = std::move(store_->NewBulkLoader("sampleTable")).value();
  constexpr int kRows = 40000;
  for (int i = 0; i < kRows; ++i) {
    std::string v(300, ' ');
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);  // stored at about its size
    ASSERT_TRUE(loader
                    ->Put({"sampleTable",
                           {{"PK1", Value::Integer(100 + i)}, {"PK2", Value::String("x")}},
                           {{"v", Value::String(v)}}})
                    .ok());
  }
  ASSERT_TRUE(loader->Commit().ok());
  auto points = store_->SplitIntoParts("sampleTable", 4, 1 << 20);
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  ASSERT_EQ(points->size(), 3u);
  PrimaryKey from = Min();
  for (size_t i = 0; i <= points->size(); ++i) {
    PrimaryKey to = i < points->size() ? (*points)[i] : Max();
    auto it = std::move(store_->NewRowIterator("sampleTable", from, to, {})).value();
    size_t rows = 0;
    for (; it->Valid(); it->Next()) ++rows;
    EXPECT_GT(rows, kRows / 8) << "part " << i;
    EXPECT_LT(rows, kRows / 2) << "part " << i;
    from = to;
  }
  EXPECT_TRUE(store_->SplitIntoParts("sampleTable", 1, 1 << 20)->empty());
  EXPECT_TRUE(store_->SplitIntoParts("sampleTable", 4, int64_t{1} << 40)->empty());
  EXPECT_EQ(store_->SplitIntoParts("nosuchtable", 4, 1 << 20).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace tablelake::testing
