#include "store_fixture.h"

namespace tablelake::testing {
namespace {

using StreamTest = StoreTest;

TEST_F(StreamTest, RecordsEveryOperationWithItsImage) {
  CreateSample();
  int64_t t = NowMs();
  ASSERT_TRUE(Put(Key(1, "a"), {{"x", Value::Integer(1)}, {"y", Value::String("y")}}).ok());
  UpdateRowRequest u{"sampleTable",
                     Key(1, "a"),
                     {{ColumnUpdate::Op::kPut, "x", Value::Integer(2), kNoTimestamp},
                      {ColumnUpdate::Op::kDeleteAllVersions, "y", Value(), kNoTimestamp},
                      {ColumnUpdate::Op::kIncrement, "n", Value::Integer(5), kNoTimestamp}},
                     {},
                     {}};
  clock_->AdvanceMicros(1000);
  ASSERT_TRUE(store_->UpdateRow(u).ok());
  ASSERT_TRUE(store_->DeleteRow({"sampleTable", Key(1, "a"), {}, {}}).ok());

  auto res = store_->ReadStream("sampleTable", 0);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->records.size(), 3u);
  const auto& put = res->records[0];
  EXPECT_EQ(put.op, ChangeOp::kPut);
  EXPECT_EQ(put.primary_key, Key(1, "a"));
  EXPECT_EQ(put.table, "sampleTable");
  EXPECT_EQ(put.commit_time_us, t * 1000);
  ASSERT_EQ(put.columns.size(), 2u);
  EXPECT_EQ(put.columns[0].timestamp, t);
  EXPECT_EQ(put.row_image.size(), 2u);

  const auto& upd = res->records[1];
  EXPECT_EQ(upd.op, ChangeOp::kUpdate);
  ASSERT_EQ(upd.columns.size(), 3u);
  EXPECT_EQ(upd.columns[1].op, ColumnUpdate::Op::kDeleteAllVersions);
  EXPECT_EQ(upd.columns[2].op, ColumnUpdate::Op::kPut);  // the increment, as its result
  EXPECT_EQ(upd.columns[2].value, Value::Integer(5));
  ASSERT_EQ(upd.row_image.size(), 2u);  // n and x; y deleted
  EXPECT_EQ(upd.row_image[0].name, "n");
  EXPECT_EQ(upd.row_image[1].value, Value::Integer(2));

  EXPECT_EQ(res->records[2].op, ChangeOp::kDelete);
  EXPECT_TRUE(res->records[0].sequence < res->records[1].sequence &&
              res->records[1].sequence < res->records[2].sequence);
  EXPECT_EQ(res->next_sequence, res->records[2].sequence + 1);
  EXPECT_EQ(store_->LastSequence(), res->records[2].sequence);
}

TEST_F(StreamTest, ReadsFromASequenceWithLimit) {
  CreateSample();
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(Put(Key(i, "k"), {{"v", Value::Integer(i)}}).ok());
  uint64_t from = 0;
  std::vector<int64_t> seen;
  while (true) {
    auto res = store_->ReadStream("sampleTable", from, 10);
    ASSERT_TRUE(res.ok());
    if (res->records.empty()) break;
    EXPECT_LE(res->records.size(), 10u);
    for (const auto& r : res->records) seen.push_back(r.primary_key[0].value.integer());
    from = res->next_sequence;
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], i);
}

// Records of a megabyte: a read stops once it holds kStreamPageBytes of them (a thousand would
// be a gigabyte in memory) and says so; read on, each comes once.
TEST_F(StreamTest, AReadStopsAtItsSizeBound) {
  CreateSample();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Put(Key(i, "k"), {{"v", Value::String(std::string(1 << 20, 'a' + i))}}).ok());
  }
  uint64_t from = 0;
  std::vector<size_t> pages;
  std::vector<int64_t> seen;
  while (true) {
    auto res = store_->ReadStream("sampleTable", from, 1000);
    ASSERT_TRUE(res.ok());
    if (res->records.empty()) break;
    EXPECT_EQ(res->truncated, res->records.size() == 2) << res->records.size();
    pages.push_back(res->records.size());
    for (const auto& r : res->records) seen.push_back(r.primary_key[0].value.integer());
    from = res->next_sequence;
  }
  EXPECT_EQ(pages, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST_F(StreamTest, TablesHaveSeparateStreamsAndTablesWithoutStreamRecordNothing) {
  CreateSample("one");
  CreateSample("two");
  CreateSample("quiet", {}, {});
  ASSERT_TRUE(Put(Key(1, "a"), {}, {}, "one").ok());
  ASSERT_TRUE(Put(Key(2, "b"), {}, {}, "two").ok());
  auto w = store_->PutRow({"quiet", Key(3, "c"), {}, {}, {}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->sequence, 0u);
  EXPECT_EQ(store_->ReadStream("one", 0)->records.size(), 1u);
  EXPECT_EQ(store_->ReadStream("two", 0)->records.size(), 1u);
  EXPECT_EQ(store_->ReadStream("quiet", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StreamTest, SequenceKeepsGrowingAcrossRestarts) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {}).ok());
  uint64_t before = store_->LastSequence();
  Reopen();
  EXPECT_EQ(store_->LastSequence(), before);
  auto w = store_->PutRow({"sampleTable", Key(2, "a"), {}, {}, {}});
  EXPECT_EQ(w->sequence, before + 1);
}

TEST_F(StreamTest, RecordsExpireAndAreReclaimed) {
  CreateSample("sampleTable", {}, {true, 1});
  ASSERT_TRUE(Put(Key(1, "old"), {}).ok());
  clock_->AdvanceSeconds(1800);
  ASSERT_TRUE(Put(Key(2, "new"), {}).ok());
  clock_->AdvanceSeconds(1801);  // the first record is past one hour, the second is not
  auto res = store_->ReadStream("sampleTable", 0);
  ASSERT_EQ(res->records.size(), 1u);
  EXPECT_EQ(res->records[0].primary_key, Key(2, "new"));
  ASSERT_TRUE(store_->CompactAll().ok());
  // With a longer retention the reclaimed record does not come back.
  ASSERT_TRUE(
      store_->UpdateTable("sampleTable", std::nullopt, StreamSpecification{true, 168}).ok());
  EXPECT_EQ(store_->ReadStream("sampleTable", 0)->records.size(), 1u);
}

TEST_F(StreamTest, ChangeLogHoldsRecordWithoutAStreamAndKeepWhatIsNeeded) {
  CreateSample("sampleTable", {}, {});  // no user stream
  ASSERT_TRUE(Put(Key(1, "before"), {}).ok());
  EXPECT_FALSE(store_->ReadStream("sampleTable", 0).ok());
  ASSERT_TRUE(store_->HoldChangeLog("sampleTable", "task-a", store_->LastSequence() + 1).ok());
  EXPECT_EQ(store_->DescribeTable("sampleTable")->change_log_holds.at("task-a"), 1u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put(Key(i, "held"), {}).ok());
  auto res = store_->ReadStream("sampleTable", 0);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->records.size(), 5u);
  // The consumer moves on past the first three; compaction may drop those, not the rest,
  // however old they get within the maximum hold.
  uint64_t third = res->records[2].sequence;
  ASSERT_TRUE(store_->HoldChangeLog("sampleTable", "task-a", third + 1).ok());
  clock_->AdvanceSeconds(100 * 3600);
  EXPECT_EQ(store_->ReadStream("sampleTable", 0)->records.size(), 5u);  // kept until compaction
  ASSERT_TRUE(store_->CompactAll().ok());
  Reopen();  // holds are durable
  res = store_->ReadStream("sampleTable", 0);
  ASSERT_EQ(res->records.size(), 2u);
  EXPECT_EQ(res->records[0].sequence, third + 1);
  // Past max_change_log_hours (168 by default) even held records go.
  clock_->AdvanceSeconds(69 * 3600);
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_TRUE(store_->ReadStream("sampleTable", 0)->records.empty());
  ASSERT_TRUE(store_->ReleaseChangeLog("sampleTable", "task-a").ok());
  ASSERT_TRUE(Put(Key(9, "after"), {}).ok());
  EXPECT_FALSE(store_->ReadStream("sampleTable", 0).ok());  // nothing keeps a log now
}

TEST_F(StreamTest, DisablingTheStreamKeepsHeldRecords) {
  CreateSample();
  ASSERT_TRUE(store_->HoldChangeLog("sampleTable", "task-a", 1).ok());
  ASSERT_TRUE(Put(Key(1, "a"), {}).ok());
  ASSERT_TRUE(
      store_->UpdateTable("sampleTable", std::nullopt, StreamSpecification{false, 24}).ok());
  EXPECT_EQ(store_->ReadStream("sampleTable", 0)->records.size(), 1u);
}

TEST_F(StreamTest, CheckpointsOutliveTheProcessAndHoldTheirSequence) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(1)}}).ok());
  auto cp = store_->CreateCheckpoint("task-x");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->sequence, store_->LastSequence());
  EXPECT_EQ(cp->path, dir_ + "/checkpoints/task-x");  // inside the store's folder
  EXPECT_TRUE(std::filesystem::is_directory(cp->path));
  ASSERT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(2)}}).ok());
  ASSERT_TRUE(Put(Key(2, "b"), {}).ok());
  Reopen();  // the checkpoint is on disk, not in memory
  StoreOptions ro;
  ro.read_only = true;
  ro.clock = clock_;
  auto copy = TableStore::Open(cp->path, ro);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  GetRowRequest r;
  r.table = "sampleTable";
  r.primary_key = Key(1, "a");
  EXPECT_EQ((*(*copy)->GetRow(r))->Latest("v")->value, Value::Integer(1));
  r.primary_key = Key(2, "b");
  EXPECT_FALSE((*copy)->GetRow(r)->has_value());
  EXPECT_EQ((*copy)->LastSequence(), cp->sequence);
  EXPECT_FALSE((*copy)->PutRow({"sampleTable", Key(3, "c"), {}, {}, {}}).ok());  // read-only
  copy->reset();
  ASSERT_TRUE(store_->DropCheckpoint("task-x").ok());
  EXPECT_FALSE(std::filesystem::exists(cp->path));
}

TEST_F(StreamTest, SnapshotIsTiedToASequence) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(1)}}).ok());
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->sequence(), store_->LastSequence());
  ASSERT_TRUE(Put(Key(1, "a"), {{"v", Value::Integer(2)}}).ok());
  ASSERT_TRUE(Put(Key(2, "b"), {{"v", Value::Integer(3)}}).ok());
  GetRowRequest r;
  r.table = "sampleTable";
  r.primary_key = Key(1, "a");
  r.read_options.snapshot = snap->get();
  EXPECT_EQ((*store_->GetRow(r))->Latest("v")->value, Value::Integer(1));
  r.primary_key = Key(2, "b");
  EXPECT_FALSE(store_->GetRow(r)->has_value());
  auto after = store_->ReadStream("sampleTable", (*snap)->sequence() + 1);
  EXPECT_EQ(after->records.size(), 2u);
}

}  // namespace
}  // namespace tablelake::testing
