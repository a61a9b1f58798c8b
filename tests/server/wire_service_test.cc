// The wire service in process: requests signed as the SDKs sign them, the store behind it,
// replies checked as the Java and Python SDKs check them. (The official Node.js SDK drives the
// same service over HTTP in tests/interop.)
#include "server/wire_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../store/store_fixture.h"
#include "common/base64.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "proto/tablestore.pb.h"
#include "proto/tablestore_delivery.pb.h"
#include "proto/tablestore_filter.pb.h"
#include "server/metrics.h"
#include "server/plain_buffer.h"
#include "tablelake/delivery.h"

namespace tablelake::server {
namespace {

using testing::Key;

std::string IsoDate(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&secs));
  return std::string(buf) + ".123Z";
}

class WireServiceTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    delivery_ = std::move(DeliveryService::Open(store_.get())).value();
    WireServiceOptions o;
    o.instance = "inst";
    o.keys = {{"AKID", "SECRET"}, {"USER", "USER-SECRET"}};
    o.admin_keys = {"AKID"};
    o.clock = clock_;
    o.delivery = delivery_.get();
    auto note = [this](const char* what) {
      return [this, what](const std::string& table, const std::string& name) {
        events_.push_back(fmt::format("{} {}/{}", what, table, name));
      };
    };
    o.task_events = {note("created"), note("updating"), note("updated"), note("deleting")};
    service_ = std::make_unique<WireService>(store_.get(), o);
  }
  void TearDown() override {
    service_.reset();
    delivery_.reset();
    StoreTest::TearDown();
  }
  // A request as the SDKs send it, signed with `secret`.
  WireRequest Signed(const std::string& op, const std::string& body,
                     const std::string& secret = "SECRET", const std::string& key_id = "AKID") {
    WireRequest r{op,
                  {{"x-ots-date", IsoDate(clock_->NowMicros())},
                   {"x-ots-apiversion", "2015-12-31"},
                   {"x-ots-accesskeyid", key_id},
                   {"x-ots-instancename", "inst"},
                   {"x-ots-contentmd5", Base64Encode(Md5(body))},
                   {"host", "127.0.0.1"}},
                  body};
    r.headers.push_back({"x-ots-signature", SignV2(secret, RequestStringToSign(op, r.headers))});
    return r;
  }
  template <typename Response>
  Response Call(const std::string& op, const google::protobuf::Message& request) {
    WireReply reply = service_->Handle(Signed(op, request.SerializeAsString()));
    EXPECT_EQ(reply.http_status, 200) << op << ": " << ErrorOf(reply).message();
    ExpectSignedReply(op, reply);
    Response response;
    EXPECT_TRUE(response.ParseFromString(reply.body)) << op;  // required fields present
    return response;
  }
  static wire::Error ErrorOf(const WireReply& reply) {
    wire::Error e;
    if (reply.http_status != 200) {
      EXPECT_TRUE(e.ParseFromString(reply.body));
    }
    return e;
  }
  // What the Java and Python SDKs check of every reply.
  static void ExpectSignedReply(const std::string& op, const WireReply& reply) {
    std::map<std::string, std::string> h(reply.headers.begin(), reply.headers.end());
    EXPECT_EQ(h["x-ots-contentmd5"], Base64Encode(Md5(reply.body)));
    EXPECT_EQ(h["x-ots-contenttype"], "protocol buffer");
    EXPECT_EQ(h["x-ots-date"].size(), 27u) << h["x-ots-date"];  // 2026-11-24T00:00:00.000000Z
    EXPECT_FALSE(h["x-ots-requestid"].empty());
    Headers signed_headers;
    for (const auto& kv : reply.headers) {
      if (kv.first != "authorization") signed_headers.push_back(kv);
    }
    EXPECT_EQ(h["authorization"],
              "OTS AKID:" + SignV2("SECRET", ResponseStringToSign(op, signed_headers)));
  }
  void CreateSample() {
    wire::CreateTableRequest r;
    r.mutable_table_meta()->set_table_name("t");
    auto* k1 = r.mutable_table_meta()->add_primary_key();
    k1->set_name("PK1");
    k1->set_type(wire::INTEGER);
    auto* k2 = r.mutable_table_meta()->add_primary_key();
    k2->set_name("PK2");
    k2->set_type(wire::STRING);
    r.mutable_reserved_throughput()->mutable_capacity_unit()->set_read(0);
    r.mutable_table_options()->set_max_versions(2);
    r.mutable_table_options()->set_time_to_live(-1);
    Call<wire::CreateTableResponse>("CreateTable", r);
  }

  // A failed call: its status, Tablestore code and message.
  std::tuple<int, std::string, std::string> Fails(const std::string& op,
                                                  const google::protobuf::Message& request,
                                                  const std::string& key_id = "AKID") {
    WireReply reply = service_->Handle(Signed(op, request.SerializePartialAsString(),
                                              key_id == "AKID" ? "SECRET" : "USER-SECRET", key_id));
    wire::Error e = ErrorOf(reply);
    return {reply.http_status, e.code(), e.message()};
  }

  std::unique_ptr<DeliveryService> delivery_;
  std::vector<std::string> events_;
  std::unique_ptr<WireService> service_;
};

TEST_F(WireServiceTest, TablesRoundTrip) {
  CreateSample();
  auto list = Call<wire::ListTableResponse>("ListTable", wire::ListTableRequest());
  ASSERT_EQ(list.table_names_size(), 1);
  EXPECT_EQ(list.table_names(0), "t");
  wire::DescribeTableRequest d;
  d.set_table_name("t");
  auto desc = Call<wire::DescribeTableResponse>("DescribeTable", d);
  EXPECT_EQ(desc.table_meta().primary_key(1).name(), "PK2");
  EXPECT_EQ(desc.table_meta().primary_key(1).type(), wire::STRING);
  EXPECT_EQ(desc.table_options().max_versions(), 2);
  EXPECT_EQ(desc.table_status(), wire::ACTIVE);
  wire::UpdateTableRequest u;
  u.set_table_name("t");
  u.mutable_table_options()->set_max_versions(5);
  auto updated = Call<wire::UpdateTableResponse>("UpdateTable", u);
  EXPECT_EQ(updated.table_options().max_versions(), 5);
  EXPECT_EQ(updated.table_options().time_to_live(), -1);  // kept
  wire::DeleteTableRequest del;
  del.set_table_name("t");
  Call<wire::DeleteTableResponse>("DeleteTable", del);
  WireReply again = service_->Handle(Signed("DescribeTable", d.SerializeAsString()));
  EXPECT_EQ(again.http_status, 404);
  EXPECT_EQ(ErrorOf(again).code(), "OTSObjectNotExist");
  ExpectSignedReply("DescribeTable", again);
}

TEST_F(WireServiceTest, RowsWritesReadsAndConditions) {
  CreateSample();
  wire::PutRowRequest put;
  put.set_table_name("t");
  put.set_row(EncodeRow(Key(1, "a"), {{"c1", Value::String("hello"), kNoTimestamp},
                                      {"c2", Value::Integer(INT64_MAX), 1795478000000}}));
  put.mutable_condition()->set_row_existence(wire::EXPECT_NOT_EXIST);
  put.mutable_return_content()->set_return_type(wire::RT_PK);
  auto put_reply = Call<wire::PutRowResponse>("PutRow", put);
  EXPECT_EQ(put_reply.consumed().capacity_unit().write(), 1);
  EXPECT_EQ(DecodeRow(put_reply.row())->primary_key, Key(1, "a"));
  // The same put again fails its condition, with Tablestore's code and status.
  WireReply again = service_->Handle(Signed("PutRow", put.SerializeAsString()));
  EXPECT_EQ(again.http_status, 403);
  EXPECT_EQ(ErrorOf(again).code(), "OTSConditionCheckFail");

  wire::GetRowRequest get;
  get.set_table_name("t");
  get.set_primary_key(EncodePrimaryKey(Key(1, "a")));
  get.set_max_versions(1);
  auto got = Call<wire::GetRowResponse>("GetRow", get);
  auto row = DecodeRow(got.row());
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->cells.size(), 2u);
  EXPECT_EQ(*row->cells[0].value, Value::String("hello"));
  EXPECT_EQ(row->cells[0].timestamp, clock_->NowMillis());  // every read cell has its version
  EXPECT_EQ(*row->cells[1].value, Value::Integer(INT64_MAX));
  EXPECT_EQ(row->cells[1].timestamp, 1795478000000);

  // UpdateRow: increment, delete a column; a filter that fails.
  wire::UpdateRowRequest update;
  update.set_table_name("t");
  std::string change;
  AppendHeader(&change);
  AppendWireRow(&change, {Key(1, "a"),
                          {{"n", Value::Integer(5), CellOp::kIncrement, kNoTimestamp},
                           {"c1", std::nullopt, CellOp::kDeleteAllVersions, kNoTimestamp}}});
  update.set_row_change(change);
  update.mutable_condition()->set_row_existence(wire::EXPECT_EXIST);
  Call<wire::UpdateRowResponse>("UpdateRow", update);
  got = Call<wire::GetRowResponse>("GetRow", get);
  row = DecodeRow(got.row());
  ASSERT_EQ(row->cells.size(), 2u);
  EXPECT_EQ(row->cells[0].name, "c2");
  EXPECT_EQ(*row->cells[1].value, Value::Integer(5));

  wire::SingleColumnValueFilter single;
  single.set_comparator(wire::CT_EQUAL);
  single.set_column_name("n");
  single.set_column_value(EncodeVariant(Value::Integer(6)));
  single.set_filter_if_missing(true);
  single.set_latest_version_only(true);
  wire::Filter filter;
  filter.set_type(wire::FT_SINGLE_COLUMN_VALUE);
  filter.set_filter(single.SerializeAsString());
  update.mutable_condition()->set_column_condition(filter.SerializeAsString());
  WireReply refused = service_->Handle(Signed("UpdateRow", update.SerializeAsString()));
  EXPECT_EQ(ErrorOf(refused).code(), "OTSConditionCheckFail");

  // A missing row reads as an empty row; DeleteRow removes it.
  get.set_primary_key(EncodePrimaryKey(Key(2, "zz")));
  EXPECT_EQ(Call<wire::GetRowResponse>("GetRow", get).row(), "");
  wire::DeleteRowRequest del;
  del.set_table_name("t");
  WireRow marker{Key(1, "a"), {}, true};
  std::string key;
  AppendHeader(&key);
  AppendWireRow(&key, marker);
  del.set_primary_key(key);
  del.mutable_condition()->set_row_existence(wire::IGNORE);
  Call<wire::DeleteRowResponse>("DeleteRow", del);
  get.set_primary_key(EncodePrimaryKey(Key(1, "a")));
  EXPECT_EQ(Call<wire::GetRowResponse>("GetRow", get).row(), "");
}

TEST_F(WireServiceTest, RangesPageBothWaysAndBatches) {
  CreateSample();
  wire::BatchWriteRowRequest batch;
  auto* table = batch.add_tables();
  table->set_table_name("t");
  for (int i = 0; i < 10; ++i) {
    auto* row = table->add_rows();
    row->set_type(wire::PUT);
    row->set_row_change(EncodeRow(Key(i, "k"), {{"v", Value::Integer(i), kNoTimestamp}}));
    row->mutable_condition()->set_row_existence(wire::IGNORE);
  }
  auto* bad = table->add_rows();  // a row that cannot be decoded fails alone
  bad->set_type(wire::PUT);
  bad->set_row_change("garbage");
  bad->mutable_condition()->set_row_existence(wire::IGNORE);
  auto written = Call<wire::BatchWriteRowResponse>("BatchWriteRow", batch);
  ASSERT_EQ(written.tables(0).rows_size(), 11);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(written.tables(0).rows(i).is_ok()) << i;
  EXPECT_FALSE(written.tables(0).rows(10).is_ok());
  EXPECT_EQ(written.tables(0).rows(10).error().code(), "OTSParameterInvalid");

  for (auto direction : {wire::FORWARD, wire::BACKWARD}) {
    bool forward = direction == wire::FORWARD;
    PrimaryKey lo = {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}};
    PrimaryKey hi = {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}};
    wire::GetRangeRequest range;
    range.set_table_name("t");
    range.set_direction(direction);
    range.set_max_versions(1);
    range.set_limit(4);
    range.set_inclusive_start_primary_key(EncodePrimaryKey(forward ? lo : hi));
    range.set_exclusive_end_primary_key(EncodePrimaryKey(forward ? hi : lo));
    std::vector<int64_t> seen;
    while (true) {
      auto page = Call<wire::GetRangeResponse>("GetRange", range);
      auto rows = DecodeRows(page.rows());
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      for (const auto& r : *rows) seen.push_back(r.primary_key[0].value.integer());
      if (!page.has_next_start_primary_key()) break;
      range.set_inclusive_start_primary_key(page.next_start_primary_key());
    }
    ASSERT_EQ(seen.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[i], forward ? i : 9 - i);
  }

  wire::BatchGetRowRequest get;
  auto* t = get.add_tables();
  t->set_table_name("t");
  t->set_max_versions(1);
  t->add_primary_key(EncodePrimaryKey(Key(3, "k")));
  t->add_primary_key(EncodePrimaryKey(Key(30, "k")));
  auto* missing = get.add_tables();
  missing->set_table_name("nope");
  missing->set_max_versions(1);
  missing->add_primary_key(EncodePrimaryKey(Key(3, "k")));
  auto got = Call<wire::BatchGetRowResponse>("BatchGetRow", get);
  ASSERT_EQ(got.tables_size(), 2);
  EXPECT_TRUE(got.tables(0).rows(0).is_ok());
  EXPECT_EQ(*DecodeRow(got.tables(0).rows(0).row())->cells[0].value, Value::Integer(3));
  EXPECT_TRUE(got.tables(0).rows(1).is_ok());
  EXPECT_EQ(got.tables(0).rows(1).row(), "");
  EXPECT_FALSE(got.tables(1).rows(0).is_ok());
  EXPECT_EQ(got.tables(1).rows(0).error().code(), "OTSObjectNotExist");
}

TEST_F(WireServiceTest, SplitPointsCutTheTableBySize) {
  CreateSample();
  std::mt19937_64 rng(1);
  std::string value(1000, 'v');
  for (int i = 0; i < 6000; ++i) {
    for (char& c : value) c = static_cast<char>(rng());  // 6 MB that do not compress
    ASSERT_TRUE(store_
                    ->PutRow({"t",
                              Key(i, "k"),
                              {{"v", Value::Binary(value), kNoTimestamp}},
                              {},
                              ReturnType::kNone})
                    .ok());
  }
  wire::ComputeSplitPointsBySizeRequest r;
  r.set_table_name("t");
  r.set_split_size(1);
  r.set_split_size_unit_in_byte(1 << 20);
  // Rows still in memory (a table just written) are sized too.
  EXPECT_GE(Call<wire::ComputeSplitPointsBySizeResponse>("ComputeSplitPointsBySize", r)
                .split_points_size(),
            2);
  ASSERT_TRUE(store_->CompactAll().ok());
  auto reply = Call<wire::ComputeSplitPointsBySizeResponse>("ComputeSplitPointsBySize", r);
  ASSERT_EQ(reply.schema_size(), 2);
  EXPECT_EQ(reply.schema(0).name(), "PK1");
  EXPECT_GE(reply.split_points_size(), 4);  // 6 MB in ranges of 1 MiB
  EXPECT_LE(reply.split_points_size(), 7);
  int64_t previous = -1;
  for (const auto& p : reply.split_points()) {
    auto key = DecodeRow(p);
    ASSERT_TRUE(key.ok());
    int64_t id = key->primary_key[0].value.integer();
    EXPECT_GT(id, previous);  // in key order, inside the table
    EXPECT_LT(id, 6000);
    previous = id;
  }
  int64_t repeats = 0;
  for (const auto& l : reply.locations()) repeats += l.repeat();
  EXPECT_EQ(repeats, reply.split_points_size() + 1);
  // One range when the size exceeds the table.
  r.set_split_size(1000);
  EXPECT_EQ(Call<wire::ComputeSplitPointsBySizeResponse>("ComputeSplitPointsBySize", r)
                .split_points_size(),
            0);
  r.set_split_size(0);
  WireReply bad = service_->Handle(Signed("ComputeSplitPointsBySize", r.SerializeAsString()));
  EXPECT_EQ(ErrorOf(bad).code(), "OTSParameterInvalid");
}

// Each SDK writes x-ots-date its own way (wire spec 1.2): all of them are accepted.
TEST_F(WireServiceTest, DatesAsEverySdkWritesThem) {
  std::string body = wire::ListTableRequest().SerializeAsString();
  std::string day = IsoDate(clock_->NowMicros()).substr(0, 19);  // 2026-11-24T00:00:00
  for (const std::string& date : {day + ".123Z",                 // Node, Java
                                  day + ".000Z",                 // Python
                                  day + ".11245Z",               // Go's layout prints odd digits
                                  day + ".123456Z"}) {           // microseconds
    WireRequest r = Signed("ListTable", body);
    r.headers[0].second = date;
    r.headers.pop_back();  // re-sign with this date
    r.headers.push_back(
        {"x-ots-signature", SignV2("SECRET", RequestStringToSign("ListTable", r.headers))});
    EXPECT_EQ(service_->Handle(r).http_status, 200) << date;
  }
  for (const std::string& date :
       {day, day.substr(0, 10), std::string("yesterday"), day + "+08:00"}) {
    WireRequest r = Signed("ListTable", body);
    r.headers[0].second = date;
    r.headers.pop_back();
    r.headers.push_back(
        {"x-ots-signature", SignV2("SECRET", RequestStringToSign("ListTable", r.headers))});
    WireReply reply = service_->Handle(r);
    EXPECT_EQ(reply.http_status, 400) << date;
    EXPECT_NE(ErrorOf(reply).message().find("Invalid date format"), std::string::npos);
  }
}

TEST_F(WireServiceTest, AuthenticationFailuresAreRefusedAsTheCloudDoes) {
  CreateSample();
  std::string body = wire::ListTableRequest().SerializeAsString();
  auto expect = [&](const WireRequest& r, int status, const std::string& code,
                    const std::string& text) {
    WireReply reply = service_->Handle(r);
    EXPECT_EQ(reply.http_status, status) << text;
    wire::Error e = ErrorOf(reply);
    EXPECT_EQ(e.code(), code) << text;
    EXPECT_NE(e.message().find(text), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find("SECRET"), std::string::npos);
    return reply;
  };
  expect(Signed("ListTable", body, "WRONG"), 403, "OTSAuthFailed", "Signature mismatch");
  WireRequest r = Signed("ListTable", body);
  r.body = "x";  // the body changed after signing
  expect(r, 403, "OTSAuthFailed", "MD5");
  r = Signed("ListTable", body);
  r.headers[3].second = "other";  // instance
  expect(r, 403, "OTSAuthFailed", "Instance 'other'");
  r = Signed("ListTable", body);
  r.headers[2].second = "NOKEY";
  WireReply unknown = expect(r, 403, "OTSAuthFailed", "access key id");
  for (const auto& h : unknown.headers) EXPECT_NE(h.first, "authorization");
  r = Signed("ListTable", body);
  r.headers.erase(r.headers.begin());  // x-ots-date
  expect(r, 400, "OTSParameterInvalid", "Missing header: x-ots-date");
  r = Signed("ListTable", body);
  clock_->AdvanceSeconds(16 * 60);
  expect(r, 403, "OTSAuthFailed", "Mismatch between system time");
  clock_->AdvanceSeconds(-16 * 60);
  expect(Signed("CreateSearchIndex", body), 400, "OTSParameterInvalid",
         "'CreateSearchIndex' is not supported");
  expect(Signed("PutRow", "\x0a\x01"), 400, "OTSParameterInvalid", "not a valid PutRowRequest");
  wire::GetRowRequest partial;
  partial.set_table_name("t");
  expect(Signed("GetRow", partial.SerializePartialAsString()), 400, "OTSParameterInvalid",
         "primary_key");
  wire::PutRowRequest put;
  put.set_table_name("t");
  put.set_row("\x75\x00\x00\x00\x01\x03", 6);
  put.mutable_condition()->set_row_existence(wire::IGNORE);
  expect(Signed("PutRow", put.SerializeAsString()), 400, "OTSParameterInvalid",
         "PlainBuffer byte 6");
  // A put whose signature or body was refused wrote nothing.
  put.set_row(EncodeRow(Key(1, "a"), {{"c", Value::Integer(1), kNoTimestamp}}));
  expect(Signed("PutRow", put.SerializeAsString(), "WRONG"), 403, "OTSAuthFailed", "Signature");
  auto rows = store_->GetRange({"t",
                                Direction::kForward,
                                {{"PK1", Value::InfMin()}, {"PK2", Value::InfMin()}},
                                {{"PK1", Value::InfMax()}, {"PK2", Value::InfMax()}}});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->rows.empty());
}

// Streams on the wire: the table's stream and its one shard, every record in commit order with
// what was written (puts with versions, a deleted version, a deleted column, a delete, an
// increment as its result), paging by limit, an iterator from a time, and the errors.
TEST_F(WireServiceTest, StreamRecordsInOrderAndIteratorsExpire) {
  testing::StoreTest::CreateSample("s");
  const int64_t t0 = NowMs();
  auto put = [&](int64_t id, int64_t v) {
    return Put(Key(id, "k"), {{"v", Value::Integer(v), t0 + id}}, {}, "s");
  };
  ASSERT_TRUE(put(1, 10).ok());
  ASSERT_TRUE(put(2, 20).ok());
  clock_->AdvanceSeconds(5);
  int64_t later_us = clock_->NowMicros();
  UpdateRowRequest update{"s", Key(1, "k"), {}};
  update.updates = {{ColumnUpdate::Op::kDeleteOneVersion, "v", {}, t0 + 1},
                    {ColumnUpdate::Op::kDeleteAllVersions, "w", {}, kNoTimestamp},
                    {ColumnUpdate::Op::kIncrement, "n", Value::Integer(5), kNoTimestamp}};
  ASSERT_TRUE(store_->UpdateRow(update).ok());
  ASSERT_TRUE(store_->DeleteRow({"s", Key(2, "k")}).ok());

  auto streams = Call<wire::ListStreamResponse>("ListStream", wire::ListStreamRequest());
  ASSERT_EQ(streams.streams_size(), 1);
  EXPECT_EQ(streams.streams(0).table_name(), "s");
  wire::DescribeStreamRequest describe;
  describe.set_stream_id(streams.streams(0).stream_id());
  auto d = Call<wire::DescribeStreamResponse>("DescribeStream", describe);
  EXPECT_EQ(d.expiration_time(), 24);
  EXPECT_EQ(d.stream_status(), wire::STREAM_ACTIVE);
  ASSERT_EQ(d.shards_size(), 1);
  wire::GetShardIteratorRequest iterator;
  iterator.set_stream_id(d.stream_id());
  iterator.set_shard_id(d.shards(0).shard_id());
  std::string it =
      Call<wire::GetShardIteratorResponse>("GetShardIterator", iterator).shard_iterator();

  std::vector<std::pair<wire::ActionType, WireRow>> records;
  for (int page = 0; page < 10; ++page) {
    wire::GetStreamRecordRequest get;
    get.set_shard_iterator(it);
    get.set_limit(3);
    auto r = Call<wire::GetStreamRecordResponse>("GetStreamRecord", get);
    for (const auto& rec : r.stream_records()) {
      auto row = DecodeRow(rec.record());
      ASSERT_TRUE(row.ok()) << row.status().ToString();
      records.push_back({rec.action_type(), *row});
    }
    it = r.next_shard_iterator();
    if (!r.may_more_record()) break;
  }
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].first, wire::PUT_ROW);
  EXPECT_EQ(records[0].second.primary_key, Key(1, "k"));
  ASSERT_EQ(records[0].second.cells.size(), 1u);
  EXPECT_EQ(records[0].second.cells[0].value, Value::Integer(10));
  EXPECT_EQ(records[0].second.cells[0].timestamp, t0 + 1);
  EXPECT_EQ(records[2].first, wire::UPDATE_ROW);
  const auto& cells = records[2].second.cells;
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].op, CellOp::kDeleteOneVersion);
  EXPECT_EQ(cells[0].timestamp, t0 + 1);
  EXPECT_EQ(cells[1].op, CellOp::kDeleteAllVersions);
  EXPECT_EQ(cells[2].value, Value::Integer(5));  // the increment's result
  EXPECT_EQ(records[3].first, wire::DELETE_ROW);
  EXPECT_EQ(records[3].second.primary_key, Key(2, "k"));

  // Caught up: no records, the same position, and new writes come next.
  wire::GetStreamRecordRequest get;
  get.set_shard_iterator(it);
  auto empty = Call<wire::GetStreamRecordResponse>("GetStreamRecord", get);
  EXPECT_EQ(empty.stream_records_size(), 0);
  ASSERT_TRUE(put(3, 30).ok());
  get.set_shard_iterator(empty.next_shard_iterator());
  auto next = Call<wire::GetStreamRecordResponse>("GetStreamRecord", get);
  ASSERT_EQ(next.stream_records_size(), 1);

  // From a time (microseconds): the update first.
  iterator.set_timestamp(later_us);
  get.set_shard_iterator(
      Call<wire::GetShardIteratorResponse>("GetShardIterator", iterator).shard_iterator());
  auto from_time = Call<wire::GetStreamRecordResponse>("GetStreamRecord", get);
  ASSERT_EQ(from_time.stream_records_size(), 3);
  EXPECT_EQ(from_time.stream_records(0).action_type(), wire::UPDATE_ROW);

  // An iterator past its 30 minutes; one that was never given out; a stream that is not.
  clock_->AdvanceSeconds(31 * 60);
  auto [http, code, message] = Fails("GetStreamRecord", get);
  EXPECT_EQ(http, 400);
  EXPECT_EQ(code, "OTSTrimmedDataAccess");
  EXPECT_NE(message.find("expired"), std::string::npos) << message;
  get.set_shard_iterator("bm90IGFuIGl0ZXJhdG9y");
  EXPECT_EQ(std::get<1>(Fails("GetStreamRecord", get)), "OTSParameterInvalid");
  describe.set_stream_id("nosuch_1");
  EXPECT_EQ(std::get<1>(Fails("DescribeStream", describe)), "OTSObjectNotExist");
  iterator.set_shard_id("shard-9");
  EXPECT_EQ(std::get<1>(Fails("GetShardIterator", iterator)), "OTSObjectNotExist");
}

// A reader on the wire while four writers write: every record once, each writer's in order.
TEST_F(WireServiceTest, StreamReadWhileWritersWrite) {
  testing::StoreTest::CreateSample("s");
  auto streams = Call<wire::ListStreamResponse>("ListStream", wire::ListStreamRequest());
  wire::GetShardIteratorRequest iterator;
  iterator.set_stream_id(streams.streams(0).stream_id());
  iterator.set_shard_id("shard-0");
  std::string it =
      Call<wire::GetShardIteratorResponse>("GetShardIterator", iterator).shard_iterator();
  constexpr int kWriters = 4, kRows = 500;
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kRows; ++i) {
        Status s =
            Put(Key(w, std::to_string(i)), {{"i", Value::Integer(i), kNoTimestamp}}, {}, "s");
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
      ++done;
    });
  }
  std::vector<int> next(kWriters, 0);
  int seen = 0;
  bool missing = false;
  while (seen < kWriters * kRows && !missing) {
    bool writers_done = done == kWriters;
    wire::GetStreamRecordRequest get;
    get.set_shard_iterator(it);
    get.set_limit(37);
    WireReply reply = service_->Handle(Signed("GetStreamRecord", get.SerializeAsString()));
    ASSERT_EQ(reply.http_status, 200) << ErrorOf(reply).message();
    wire::GetStreamRecordResponse r;
    ASSERT_TRUE(r.ParseFromString(reply.body));
    for (const auto& rec : r.stream_records()) {
      auto row = DecodeRow(rec.record());
      ASSERT_TRUE(row.ok());
      int w = static_cast<int>(row->primary_key[0].value.integer());
      ASSERT_EQ(row->cells[0].value, Value::Integer(next[w])) << "writer " << w;
      ++next[w];
      ++seen;
    }
    it = r.next_shard_iterator();
    missing = writers_done && r.stream_records_size() == 0;
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(next, std::vector<int>(kWriters, kRows));
}

// /metrics: requests by operation and code with cumulative latency buckets, every task's
// counters with its labels (escaped), in Prometheus' text format.
TEST_F(WireServiceTest, MetricsCountRequestsAndTasks) {
  RequestMetrics requests;
  requests.Observe("PutRow", "", 0.0007);
  requests.Observe("PutRow", "", 0.003);
  requests.Observe("PutRow", "OTSConditionCheckFail", 0.0002);
  requests.Observe("NoSuchOperationAtAll", "OTSParameterInvalid", 0.0001);
  std::string text;
  requests.Render(&text);
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  };
  has("# TYPE tablelake_requests_total counter");
  has("tablelake_requests_total{op=\"PutRow\",code=\"\"} 2");
  has("tablelake_requests_total{op=\"PutRow\",code=\"OTSConditionCheckFail\"} 1");
  has("tablelake_requests_total{op=\"unsupported\",code=\"OTSParameterInvalid\"} 1");
  has("tablelake_request_seconds_bucket{op=\"PutRow\",le=\"0.0005\"} 1");
  has("tablelake_request_seconds_bucket{op=\"PutRow\",le=\"0.001\"} 2");
  has("tablelake_request_seconds_bucket{op=\"PutRow\",le=\"0.005\"} 3");
  has("tablelake_request_seconds_bucket{op=\"PutRow\",le=\"+Inf\"} 3");
  has("tablelake_request_seconds_count{op=\"PutRow\"} 3");

  testing::StoreTest::CreateSample("t");
  std::filesystem::create_directories(dir_ + "-lake/bucket");
  DeliveryTaskConfig c;
  c.oss_bucket = "bucket";
  c.oss_endpoint = "file://" + dir_ + "-lake";
  c.oss_prefix = "p";
  c.schema = {{"PK1", "PK1", "INT64"}};
  ASSERT_TRUE(delivery_->CreateDeliveryTask("t", "metered", c, DeliveryTaskType::kBase).ok());
  ASSERT_TRUE(Put(Key(1, "a"), {{"x", Value::Integer(1), kNoTimestamp}}, {}, "t").ok());
  ASSERT_TRUE(delivery_->RunTask("t", "metered").ok());
  text.clear();
  RenderTaskMetrics({{"in\"st", delivery_.get()}}, &text);
  has("# TYPE tablelake_delivery_rows_total counter");
  has("tablelake_delivery_rows_total{instance=\"in\\\"st\",table=\"t\",task=\"metered\"} 1");
  has("tablelake_delivery_files_total{instance=\"in\\\"st\",table=\"t\",task=\"metered\"} 1");
  has("tablelake_delivery_error{instance=\"in\\\"st\",table=\"t\",task=\"metered\",code=\"\"} 0");
  std::filesystem::remove_all(dir_ + "-lake");
}

// The seed's CreateDeliveryTask over the wire: every field of the cloud's OSSTaskConfig and
// Tablelake's own, read back by DescribeDeliveryTask; the task runs (as the server runs it when
// told it was created) and its status comes back as the cloud reports it, nanoseconds included.
TEST_F(WireServiceTest, DeliveryTasksOverTheWire) {
  testing::StoreTest::CreateSample("t");
  ASSERT_TRUE(Put(Key(1, "a"), {{"Col1", Value::String("12.34"), kNoTimestamp}}, {}, "t").ok());
  std::filesystem::create_directories(dir_ + "-lake/bucket");
  wire::CreateDeliveryTaskRequest create;
  create.set_tablename("t");
  create.set_taskname("sampletask");
  create.set_tasktype(wire::BASE_INC);
  wire::OSSTaskConfig* c = create.mutable_taskconfig();
  c->set_ossprefix("sample/year=$yyyy/month=$MM");
  c->set_ossbucket("bucket");
  c->set_ossendpoint("file://" + dir_ + "-lake");
  c->set_ossstsrole("");
  c->set_format(wire::Parquet);
  auto column = [&](const char* name, wire::ParquetSchema::DataType type, wire::Encoding e) {
    wire::ParquetSchema* s = c->add_schema();
    s->set_columnname(name);
    s->set_osscolumnname(std::string(name) + "_out");
    s->set_type(type);
    s->set_encode(e);
    return s;
  };
  column("PK1", wire::ParquetSchema::INT64, wire::PLAIN);
  column("PK2", wire::ParquetSchema::UTF8, wire::PLAIN_DICTIONARY);
  column("Col1", wire::ParquetSchema::DECIMAL, wire::PLAIN)->set_typeextend("(10,2)");
  c->set_compression("ZSTD");
  c->set_file_bytes(8 << 20);
  Call<wire::CreateDeliveryTaskResponse>("CreateDeliveryTask", create);
  EXPECT_EQ(events_, std::vector<std::string>{"created t/sampletask"});

  wire::DescribeDeliveryTaskRequest describe;
  describe.set_tablename("t");
  describe.set_taskname("sampletask");
  auto d = Call<wire::DescribeDeliveryTaskResponse>("DescribeDeliveryTask", describe);
  EXPECT_EQ(d.tasktype(), wire::BASE_INC);
  EXPECT_EQ(d.taskconfig().ossprefix(), "sample/year=$yyyy/month=$MM");
  EXPECT_EQ(d.taskconfig().ossbucket(), "bucket");
  ASSERT_EQ(d.taskconfig().schema_size(), 3);
  EXPECT_EQ(d.taskconfig().schema(1).osscolumnname(), "PK2_out");
  EXPECT_EQ(d.taskconfig().schema(1).encode(), wire::PLAIN_DICTIONARY);
  EXPECT_EQ(d.taskconfig().schema(2).type(), wire::ParquetSchema::DECIMAL);
  EXPECT_EQ(d.taskconfig().schema(2).typeextend(), "(10,2)");
  EXPECT_EQ(d.taskconfig().compression(), "ZSTD");
  EXPECT_EQ(d.taskconfig().file_bytes(), 8 << 20);
  EXPECT_EQ(d.taskconfig().time_zone(), "UTC");
  EXPECT_EQ(d.task_sync_stat().task_sync_phase(), wire::TaskSyncStat::INIT);
  EXPECT_FALSE(d.task_sync_stat().has_error_code());

  ASSERT_TRUE(delivery_->RunTask("t", "sampletask").ok());
  d = Call<wire::DescribeDeliveryTaskResponse>("DescribeDeliveryTask", describe);
  EXPECT_EQ(d.task_sync_stat().task_sync_phase(), wire::TaskSyncStat::INCR);
  EXPECT_EQ(d.task_sync_stat().rows_delivered(), 1) << d.task_sync_stat().DebugString();
  EXPECT_EQ(d.task_sync_stat().dirty_rows(), 0);
  auto embedded = delivery_->DescribeDeliveryTask("t", "sampletask");
  EXPECT_EQ(d.task_sync_stat().current_sync_timestamp(),
            embedded->status.current_sync_timestamp_ns);
  EXPECT_GT(d.task_sync_stat().current_sync_timestamp(), int64_t{1700000000} * 1000000000);

  wire::ListDeliveryTaskRequest list;
  list.set_tablename("t");
  auto listed = Call<wire::ListDeliveryTaskResponse>("ListDeliveryTask", list);
  ASSERT_EQ(listed.tasks_size(), 1);
  EXPECT_EQ(listed.tasks(0).taskname(), "sampletask");
  EXPECT_EQ(listed.tasks(0).tasktype(), wire::BASE_INC);
  EXPECT_EQ(
      Call<wire::ListDeliveryTaskResponse>("ListDeliveryTask", wire::ListDeliveryTaskRequest())
          .tasks_size(),
      1);  // every table's

  wire::UpdateDeliveryTaskRequest update;
  update.set_table("t");
  update.set_taskname("sampletask");
  *update.mutable_taskconfig() = d.taskconfig();
  update.mutable_taskconfig()->set_compression("SNAPPY");
  Call<wire::UpdateDeliveryTaskResponse>("UpdateDeliveryTask", update);
  d = Call<wire::DescribeDeliveryTaskResponse>("DescribeDeliveryTask", describe);
  EXPECT_EQ(d.taskconfig().compression(), "SNAPPY");

  wire::DeleteDeliveryTaskRequest del;
  del.set_tablename("t");
  del.set_taskname("sampletask");
  Call<wire::DeleteDeliveryTaskResponse>("DeleteDeliveryTask", del);
  EXPECT_EQ(events_, (std::vector<std::string>{"created t/sampletask", "updating t/sampletask",
                                               "updated t/sampletask", "deleting t/sampletask"}));
  EXPECT_EQ(std::get<1>(Fails("DescribeDeliveryTask", describe)), "OTSObjectNotExist");
  std::filesystem::remove_all(dir_ + "-lake");
}

// Every validation of the embedded API, with Tablestore's codes; nothing is created.
TEST_F(WireServiceTest, DeliveryTaskErrorsNameTheProblem) {
  testing::StoreTest::CreateSample("t");
  wire::CreateDeliveryTaskRequest r;
  r.set_tablename("t");
  r.set_taskname("sampledeliverytask");  // the seed's name: 18 characters
  r.mutable_taskconfig()->set_ossbucket("bucket");
  r.mutable_taskconfig()->set_ossendpoint("file:///tmp/tablelake-nowhere");
  r.mutable_taskconfig()->set_ossprefix("p");
  auto* s = r.mutable_taskconfig()->add_schema();
  s->set_columnname("PK1");
  s->set_type(wire::ParquetSchema::INT64);
  auto expect = [&](const wire::CreateDeliveryTaskRequest& req, int status, const char* code,
                    const char* text) {
    auto [http, got_code, message] = Fails("CreateDeliveryTask", req);
    EXPECT_EQ(http, status) << message;
    EXPECT_EQ(got_code, code) << message;
    EXPECT_NE(message.find(text), std::string::npos) << message;
  };
  expect(r, 400, "OTSParameterInvalid", "3 to 16 characters");
  r.set_taskname("ok-name");
  auto bad = r;
  bad.set_tablename("missing");
  expect(bad, 404, "OTSObjectNotExist", "missing");
  bad = r;
  bad.clear_taskconfig();
  expect(bad, 400, "OTSParameterInvalid", "taskConfig is required");
  bad = r;
  bad.clear_tablename();
  expect(bad, 400, "OTSParameterInvalid", "tableName is required");
  bad = r;
  bad.mutable_taskconfig()->set_ossprefix("p/$yy");
  expect(bad, 400, "OTSParameterInvalid", "$yy");
  bad = r;
  bad.mutable_taskconfig()->mutable_schema(0)->clear_type();
  expect(bad, 400, "OTSParameterInvalid", "PK1");
  bad = r;
  bad.mutable_taskconfig()->mutable_schema(0)->set_type(wire::ParquetSchema::DECIMAL);
  bad.mutable_taskconfig()->mutable_schema(0)->set_typeextend("(99,2)");
  expect(bad, 400, "OTSParameterInvalid", "99");
  bad = r;
  bad.mutable_taskconfig()->set_compression("BROTLI");
  expect(bad, 400, "OTSParameterInvalid", "BROTLI");
  EXPECT_TRUE(delivery_->ListDeliveryTask("")->empty());
  EXPECT_TRUE(events_.empty());
  Call<wire::CreateDeliveryTaskResponse>("CreateDeliveryTask", r);
  expect(r, 409, "OTSObjectAlreadyExist", "already has a task");
  EXPECT_EQ(events_.size(), 1u);
  // Bodies that are not the message.
  WireReply garbage = service_->Handle(Signed("CreateDeliveryTask", "\xff\xff\xff"));
  EXPECT_EQ(garbage.http_status, 400);
  EXPECT_NE(ErrorOf(garbage).message().find("CreateDeliveryTaskRequest"), std::string::npos);
}

// Credential sets on the wire: an administrator's key only, and no secret ever comes back.
TEST_F(WireServiceTest, CredentialSetsNeedAnAdministratorKey) {
  wire::PutCredentialSetRequest put;
  put.set_role("lake-writer");
  put.set_access_key_id("LAKEKEY");
  put.set_access_key_secret("lake-secret-value");
  put.set_region("us-east-1");
  auto [http, code, message] = Fails("PutCredentialSet", put, "USER");
  EXPECT_EQ(http, 403);
  EXPECT_EQ(code, "OTSAuthFailed");
  EXPECT_NE(message.find("administrator"), std::string::npos) << message;
  EXPECT_EQ(std::get<0>(Fails("ListCredentialSet", wire::ListCredentialSetRequest(), "USER")), 403);
  Call<wire::PutCredentialSetResponse>("PutCredentialSet", put);
  WireReply listed = service_->Handle(
      Signed("ListCredentialSet", wire::ListCredentialSetRequest().SerializeAsString()));
  ASSERT_EQ(listed.http_status, 200);
  EXPECT_EQ(listed.body.find("lake-secret-value"), std::string::npos);
  wire::ListCredentialSetResponse sets;
  ASSERT_TRUE(sets.ParseFromString(listed.body));
  ASSERT_EQ(sets.sets_size(), 1);
  EXPECT_EQ(sets.sets(0).role(), "lake-writer");
  EXPECT_EQ(sets.sets(0).access_key_id(), "LAKEKEY");
  put.clear_access_key_secret();
  EXPECT_EQ(std::get<2>(Fails("PutCredentialSet", put)), "access_key_secret is required");
  wire::DeleteCredentialSetRequest del;
  del.set_role("lake-writer");
  Call<wire::DeleteCredentialSetResponse>("DeleteCredentialSet", del);
  EXPECT_EQ(
      Call<wire::ListCredentialSetResponse>("ListCredentialSet", wire::ListCredentialSetRequest())
          .sets_size(),
      0);
}

}  // namespace
}  // namespace tablelake::server
