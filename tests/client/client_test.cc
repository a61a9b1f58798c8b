// The C++ client against `tablelake serve`'s layers in process (the wire service behind the
// HTTP server, on a real socket): tables, rows and ranges with exact values, Tablestore's codes
// in errors, retries of OTSServerBusy with backoff (and giving up), and threads sharing a pool
// smaller than themselves. (tests/interop/client_examples.mjs runs the examples against a live
// server.)
#include "tablelake/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../store/store_fixture.h"
#include "client/remote_store.h"
#include "fmt/format.h"
#include "proto/tablestore.pb.h"
#include "server/http_server.h"

namespace tablelake::client {
namespace {

using testing::Key;

class ClientTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    server::WireServiceOptions o;
    o.instance = "inst";
    o.keys = {{"AKID", "SECRET"}};
    wire_ = std::make_unique<server::WireService>(store_.get(), o);
    Serve([this](const server::WireRequest& r) { return wire_->Handle(r); });
  }
  void TearDown() override {
    if (http_) http_->Stop(std::chrono::seconds(1));
    http_.reset();
    wire_.reset();
    StoreTest::TearDown();
  }
  void Serve(server::HttpServer::Handler handler) {
    if (http_) http_->Stop(std::chrono::seconds(1));
    auto s = server::HttpServer::Start({}, std::move(handler));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    http_ = std::move(*s);
  }
  std::unique_ptr<TableStoreClient> Client(const std::string& secret = "SECRET",
                                           ClientOptions options = {}) {
    options.retry_base_ms = 5;
    return std::make_unique<TableStoreClient>(fmt::format("http://127.0.0.1:{}", http_->port()),
                                              "inst", "AKID", secret, options);
  }
  CreateTableRequest Sample() {
    CreateTableRequest r;
    r.Meta = {"t", {{"PK1", PrimaryKeyType::kInteger}, {"PK2", PrimaryKeyType::kString}}, {}};
    return r;
  }

  std::unique_ptr<server::WireService> wire_;
  std::unique_ptr<server::HttpServer> http_;
};

TEST_F(ClientTest, TablesRowsAndRangesWithExactValues) {
  auto c = Client();
  ASSERT_TRUE(c->CreateTable(Sample()).ok());
  EXPECT_EQ(c->CreateTable(Sample()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*c->ListTable(), std::vector<std::string>{"t"});
  std::vector<Cell> cells = {{"big", Value::Integer(9007199254740993), kNoTimestamp},
                             {"bin", Value::Binary(std::string("\0\xff\x07", 3)), kNoTimestamp},
                             {"dbl", Value::Double(0.1), kNoTimestamp},
                             {"flag", Value::Boolean(true), kNoTimestamp},
                             {"text", Value::String("表格"), kNoTimestamp}};
  ASSERT_TRUE(c->PutRow({"t", Key(1, "a"), cells}).ok());
  auto row = c->GetRow({"t", Key(1, "a")});
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  ASSERT_EQ((*row)->cells.size(), cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ((*row)->cells[i].name, cells[i].name);
    EXPECT_EQ((*row)->cells[i].value, cells[i].value) << cells[i].name;
  }
  EXPECT_FALSE(c->GetRow({"t", Key(2, "a")})->has_value());
  Status exists = c->PutRow({"t", Key(1, "a"), cells, RowExistence::kExpectNotExist});
  EXPECT_EQ(exists.code(), StatusCode::kConditionFailed) << exists.ToString();

  BatchWriteRowRequest batch{"t", {}};
  for (int i = 2; i <= 30; ++i) {
    batch.Rows.push_back({"", Key(i, "r"), {{"i", Value::Integer(i), kNoTimestamp}}});
  }
  batch.Rows.push_back({"", Key(1, "a"), cells, RowExistence::kExpectNotExist});  // fails alone
  auto written = c->BatchWriteRow(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->Rows.size(), 30u);
  for (int i = 0; i < 29; ++i) EXPECT_TRUE(written->Rows[i].ok()) << i;
  EXPECT_EQ(written->Rows[29].code(), StatusCode::kConditionFailed);
  GetRangeRequest range{"t",
                        {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}},
                        {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}},
                        7};
  std::vector<int64_t> seen;
  while (true) {
    auto page = c->GetRange(range);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->Rows) seen.push_back(r.primary_key[0].value.integer());
    if (!page->NextStart) break;
    range.Start = *page->NextStart;
  }
  ASSERT_EQ(seen.size(), 30u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int64_t>(i + 1));
  range.Start = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
  range.End = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
  range.Backward = true;
  range.Limit = 3;
  auto back = c->GetRange(range);
  ASSERT_EQ(back->Rows.size(), 3u);
  EXPECT_EQ(back->Rows[0].primary_key[0].value.integer(), 30);

  auto many = c->BatchGetRow({"t", {Key(1, "a"), Key(99, "none"), Key(2, "r")}, {"i"}});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->Rows.size(), 3u);
  EXPECT_TRUE(many->Rows[0].ok() && many->Rows[0]->has_value());
  EXPECT_TRUE((*many->Rows[0])->cells.empty());  // row 1 has no column "i"
  EXPECT_TRUE(many->Rows[1].ok() && !many->Rows[1]->has_value());
  EXPECT_EQ((*many->Rows[2])->cells[0].value, Value::Integer(2));
  TableOptions options;
  options.max_versions = 4;
  ASSERT_TRUE(c->UpdateTable("t", options).ok());
  EXPECT_EQ(c->DescribeTable("t")->options.max_versions, 4);

  Status missing = c->GetRow({"nosuch", Key(1, "a")}).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_STREQ(missing.OtsErrorCode(), "OTSObjectNotExist");
  EXPECT_NE(missing.message().find("nosuch"), std::string::npos) << missing.ToString();
  ASSERT_TRUE(c->DeleteTable("t").ok());
  EXPECT_TRUE(c->ListTable()->empty());
}

// Updates, deletes and the stream through the client: each change comes back from the stream
// as it was written, in order.
TEST_F(ClientTest, UpdatesDeletesAndTheStream) {
  auto c = Client();
  CreateTableRequest create = Sample();
  create.Stream = {true, 24};
  ASSERT_TRUE(c->CreateTable(create).ok());
  auto d = c->DescribeTable("t");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->meta.primary_key.size(), 2u);
  ASSERT_TRUE(d->stream.enabled);
  const int64_t t0 = NowMs();
  ASSERT_TRUE(
      c->PutRow({"t", Key(1, "a"), {{"v", Value::Integer(1), t0}, {"w", Value::Integer(2), t0}}})
          .ok());
  UpdateRowRequest update{"t", Key(1, "a"), {}};
  update.Updates = {{ColumnUpdate::Op::kDeleteOneVersion, "v", {}, t0},
                    {ColumnUpdate::Op::kDeleteAllVersions, "w", {}, kNoTimestamp},
                    {ColumnUpdate::Op::kIncrement, "n", Value::Integer(5), kNoTimestamp},
                    {ColumnUpdate::Op::kPut, "s", Value::String("x"), kNoTimestamp}};
  Status updated = c->UpdateRow(update);
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  auto row = c->GetRow({"t", Key(1, "a")});
  ASSERT_TRUE(row.ok() && row->has_value());
  ASSERT_EQ((*row)->cells.size(), 2u);
  EXPECT_EQ((*row)->cells[0].value, Value::Integer(5));
  EXPECT_EQ((*row)->cells[1].value, Value::String("x"));
  EXPECT_EQ(c->DeleteRow({"t", Key(2, "a"), RowExistence::kExpectExist}).code(),
            StatusCode::kConditionFailed);
  ASSERT_TRUE(c->DeleteRow({"t", Key(1, "a")}).ok());
  EXPECT_FALSE(c->GetRow({"t", Key(1, "a")})->has_value());

  auto streams = c->ListStream("t");
  ASSERT_TRUE(streams.ok()) << streams.status().ToString();
  ASSERT_EQ(streams->size(), 1u);
  auto described = c->DescribeStream((*streams)[0].StreamId);
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->ShardIds.size(), 1u);
  auto it = c->GetShardIterator(described->StreamId, described->ShardIds[0]);
  ASSERT_TRUE(it.ok()) << it.status().ToString();
  auto records = c->GetStreamRecord(*it, 10);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->Records.size(), 3u);
  EXPECT_EQ(records->Records[0].Type, ChangeOp::kPut);
  EXPECT_EQ(records->Records[1].Type, ChangeOp::kUpdate);
  const auto& cols = records->Records[1].Columns;
  ASSERT_EQ(cols.size(), 4u);
  EXPECT_EQ(cols[0].op, ColumnUpdate::Op::kDeleteOneVersion);
  EXPECT_EQ(cols[0].timestamp, t0);
  EXPECT_EQ(cols[1].op, ColumnUpdate::Op::kDeleteAllVersions);
  EXPECT_EQ(cols[2].value, Value::Integer(5));  // the increment's result
  EXPECT_EQ(records->Records[2].Type, ChangeOp::kDelete);
  EXPECT_EQ(records->Records[2].Key, Key(1, "a"));
  auto after = c->GetStreamRecord(records->NextShardIterator);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->Records.empty());
  EXPECT_EQ(c->GetStreamRecord("not-an-iterator").status().code(), StatusCode::kInvalidArgument);
}

// The remote TableStore (the CLI's --endpoint): a BatchGetRow of keys with their own read
// options in one request, each found, missing or refused alone, in request order.
TEST_F(ClientTest, TheRemoteStoreReadsABatchWithEachKeysOptions) {
  CreateSample("t");
  ASSERT_TRUE(
      Put(Key(1, "a"),
          {{"x", Value::Integer(1), kNoTimestamp}, {"y", Value::String("why"), kNoTimestamp}}, {},
          "t")
          .ok());
  auto remote = remote::OpenRemoteStore(
      {fmt::format("http://127.0.0.1:{}", http_->port()), "inst", "AKID", "SECRET", {}});
  tablelake::GetRowRequest both{"t", Key(1, "a"), {}, {}, 0, {}, {}};
  tablelake::GetRowRequest only_y = both;
  only_y.columns_to_get = {"y"};
  tablelake::GetRowRequest missing{"t", Key(2, "b"), {}, {}, 0, {}, {}};
  tablelake::GetRowRequest no_table{"nope", Key(1, "a"), {}, {}, 0, {}, {}};
  auto rows = remote->BatchGetRow({both, only_y, missing, no_table});
  ASSERT_EQ(rows.size(), 4u);
  ASSERT_TRUE(rows[0].ok() && rows[0]->has_value()) << rows[0].status().ToString();
  EXPECT_EQ((*rows[0])->cells.size(), 2u);
  ASSERT_TRUE(rows[1].ok() && rows[1]->has_value());
  ASSERT_EQ((*rows[1])->cells.size(), 1u);
  EXPECT_EQ((*rows[1])->cells[0].value, Value::String("why"));
  ASSERT_TRUE(rows[2].ok());
  EXPECT_FALSE(rows[2]->has_value());
  EXPECT_EQ(rows[3].status().code(), StatusCode::kNotFound) << rows[3].status().ToString();
}

TEST_F(ClientTest, AWrongSecretIsRefusedOnceAndNeverEchoed) {
  std::atomic<int> requests{0};
  Serve([&](const server::WireRequest& r) {
    ++requests;
    return wire_->Handle(r);
  });
  Status s = Client("not-the-secret")->ListTable().status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_EQ(s.ToString().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(requests, 1);  // not retried
}

// OTSServerBusy is retried with backoff until it passes, or until the retries run out.
TEST_F(ClientTest, BusyServersAreRetriedWithBackoff) {
  std::atomic<int> requests{0}, busy{2};
  Serve([&](const server::WireRequest& r) {
    ++requests;
    if (busy-- > 0) {
      wire::Error e;
      e.set_code("OTSServerBusy");
      e.set_message("try again");
      server::WireReply reply;
      reply.http_status = 503;
      reply.body = e.SerializeAsString();
      return reply;
    }
    return wire_->Handle(r);
  });
  ClientOptions options;
  options.max_retries = 3;
  auto list = Client("SECRET", options)->ListTable();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(requests, 3);
  busy = 1000;
  requests = 0;
  Status s = Client("SECRET", options)->ListTable().status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("OTSServerBusy"), std::string::npos) << s.ToString();
  EXPECT_EQ(requests, 4);  // the request and 3 retries
}

TEST_F(ClientTest, ThreadsShareABoundedPool) {
  ClientOptions options;
  options.max_connections = 2;
  auto c = Client("SECRET", options);
  ASSERT_TRUE(c->CreateTable(Sample()).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (!c->PutRow({"t", Key(t, std::to_string(i)), {{"v", Value::Integer(i), kNoTimestamp}}})
                 .ok()) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  GetRangeRequest all{"t",
                      {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}},
                      {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}}};
  EXPECT_EQ(c->GetRange(all)->Rows.size(), 400u);
}

}  // namespace
}  // namespace tablelake::client
