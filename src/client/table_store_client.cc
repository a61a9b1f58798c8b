#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "common/base64.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "objectstore/http_client.h"
#include "proto/tablestore.pb.h"
#include "proto/tablestore_delivery.pb.h"
#include "server/ots_auth.h"
#include "server/plain_buffer.h"
#include "server/wire_convert.h"
#include "tablelake/client.h"

namespace tablelake::client {
namespace {

using objectstore::HttpClient;
using objectstore::HttpResponse;

// Tablestore's code as the client's Status; codes with no StatusCode of their own keep their
// name in the message. Retryable ones are those the SDKs retry.
Status FromOtsError(const std::string& code, const std::string& message, long http_status) {
  static const std::pair<const char*, StatusCode> kCodes[] = {
      {"OTSParameterInvalid", StatusCode::kInvalidArgument},
      {"OTSObjectNotExist", StatusCode::kNotFound},
      {"OTSObjectAlreadyExist", StatusCode::kAlreadyExists},
      {"OTSConditionCheckFail", StatusCode::kConditionFailed},
      {"OTSInvalidPK", StatusCode::kInvalidPrimaryKey},
      {"OTSQuotaExhausted", StatusCode::kQuotaExhausted},
      {"OTSAuthFailed", StatusCode::kPermissionDenied},
      {"OTSTrimmedDataAccess", StatusCode::kTrimmedData},
      {"OTSServerUnavailable", StatusCode::kUnavailable},
  };
  for (const auto& [name, status_code] : kCodes) {
    if (code == name) return Status(status_code, message);
  }
  static const char* kRetryable[] = {"OTSServerBusy",
                                     "OTSPartitionUnavailable",
                                     "OTSTableNotReady",
                                     "OTSRowOperationConflict",
                                     "OTSTimeout",
                                     "OTSNotEnoughCapacityUnit",
                                     "OTSInternalServerError"};
  for (const char* name : kRetryable) {
    if (code == name) return Status::Unavailable(fmt::format("{}: {}", code, message));
  }
  Status s = Status::Internal(
      fmt::format("{} (HTTP {}): {}", code.empty() ? "no error code" : code, http_status, message));
  return http_status >= 500 ? Status::Unavailable(s.message()) : s;
}

std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&secs));
  return fmt::format("{}.{:03d}Z", buf, ms % 1000);
}

void ToWire(const OSSTaskConfig& c, wire::OSSTaskConfig* w) {
  w->set_ossprefix(c.OssPrefix);
  w->set_ossbucket(c.OssBucket);
  w->set_ossendpoint(c.OssEndpoint);
  w->set_ossstsrole(c.OssRoleName);
  if (!c.OssDirtyPrefix.empty()) w->set_ossdirtyprefix(c.OssDirtyPrefix);
  w->set_format(wire::Parquet);
  if (c.EventTimeColumn) {
    w->mutable_eventtimecolumn()->set_columnname(c.EventTimeColumn->ColumnName);
    w->mutable_eventtimecolumn()->set_timeformat(
        static_cast<wire::EventColumn::eventTimeFormat>(c.EventTimeColumn->TimeFormat));
  }
  for (const auto& s : c.Schema) {
    wire::ParquetSchema* p = w->add_schema();
    p->set_columnname(s.ColumnName);
    p->set_osscolumnname(s.OssColumnName.empty() ? s.ColumnName : s.OssColumnName);
    p->set_type(static_cast<wire::ParquetSchema::DataType>(s.Type));
    p->set_encode(static_cast<wire::Encoding>(s.Encode));
    if (!s.TypeExtend.empty()) p->set_typeextend(s.TypeExtend);
  }
  if (!c.TimeZone.empty()) w->set_time_zone(c.TimeZone);
  if (!c.Compression.empty()) w->set_compression(c.Compression);
  if (c.FileBytes > 0) w->set_file_bytes(c.FileBytes);
  if (c.FlushIntervalSeconds > 0) w->set_flush_interval_seconds(c.FlushIntervalSeconds);
  if (c.ChangeLogColumns) w->set_change_log_columns(true);
}

OSSTaskConfig FromWire(const wire::OSSTaskConfig& w) {
  OSSTaskConfig c;
  c.OssPrefix = w.ossprefix();
  c.OssBucket = w.ossbucket();
  c.OssEndpoint = w.ossendpoint();
  c.OssRoleName = w.ossstsrole();
  c.OssDirtyPrefix = w.ossdirtyprefix();
  if (w.has_eventtimecolumn()) {
    c.EventTimeColumn = EventColumn{w.eventtimecolumn().columnname(),
                                    static_cast<EventTimeFormat>(w.eventtimecolumn().timeformat())};
  }
  for (const auto& p : w.schema()) {
    c.Schema.push_back({p.columnname(), p.osscolumnname(), static_cast<DataType>(p.type()),
                        static_cast<Encoding>(p.encode()), p.typeextend()});
  }
  c.TimeZone = w.time_zone();
  c.Compression = w.compression();
  c.FileBytes = w.file_bytes();
  c.FlushIntervalSeconds = w.flush_interval_seconds();
  c.ChangeLogColumns = w.change_log_columns();
  return c;
}

// A row read back: its key and the cells that carry values.
Row RowOf(server::WireRow row) {
  Row out{std::move(row.primary_key), {}};
  for (auto& c : row.cells) {
    if (c.value) out.cells.push_back({std::move(c.name), std::move(*c.value), c.timestamp});
  }
  return out;
}

// A reply's `row`: empty when there is none.
Result<std::optional<Row>> OptionalRow(const std::string& bytes) {
  if (bytes.empty()) return std::optional<Row>();
  TL_ASSIGN_OR_RETURN(server::WireRow row, server::DecodeRow(bytes));
  return std::optional<Row>(RowOf(std::move(row)));
}

}  // namespace

class TableStoreClient::Impl {
 public:
  Impl(std::string endpoint, std::string instance, std::string key_id, std::string secret,
       ClientOptions options)
      : instance_(std::move(instance)),
        key_id_(std::move(key_id)),
        secret_(std::move(secret)),
        options_(options) {
    https_ = endpoint.rfind("https://", 0) == 0;
    std::string rest =
        endpoint.substr(endpoint.find("://") == std::string::npos ? 0 : endpoint.find("://") + 3);
    host_ = rest.substr(0, rest.find('/'));
  }

  // Sends `op` and fills `response`; the reply's request id.
  Result<std::string> Call(const std::string& op, const google::protobuf::Message& request,
                           google::protobuf::Message* response) {
    if (host_.empty()) return Status::InvalidArgument("the endpoint names no host");
    std::string body = request.SerializePartialAsString();
    std::mt19937_64 rng(std::random_device{}());
    std::string request_id;
    for (int attempt = 0;; ++attempt) {
      Status s = Once(op, body, response, &request_id);
      if (s.ok() || !s.IsRetryable() || attempt >= options_.max_retries) {
        if (!s.ok()) return s.WithContext(op);
        return request_id;
      }
      int64_t backoff = options_.retry_base_ms << attempt;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(backoff / 2 + rng() % (backoff / 2 + 1)));
    }
  }

 private:
  Status Once(const std::string& op, const std::string& body, google::protobuf::Message* out,
              std::string* request_id) {
    objectstore::HttpRequest r;
    r.method = "POST";
    r.https = https_;
    r.host = host_;
    r.path = "/" + op;
    r.body = body;
    server::Headers signed_headers = {{"x-ots-accesskeyid", key_id_},
                                      {"x-ots-apiversion", "2015-12-31"},
                                      {"x-ots-contentmd5", Base64Encode(Md5(body))},
                                      {"x-ots-date", IsoNow()},
                                      {"x-ots-instancename", instance_}};
    for (const auto& [name, value] : signed_headers) r.SetHeader(name, value);
    r.SetHeader("x-ots-signature",
                server::SignV2(secret_, server::RequestStringToSign(op, signed_headers)));
    r.SetHeader("content-type", "application/x-protobuf");
    std::unique_ptr<HttpClient> http = Acquire();
    Result<HttpResponse> reply = http->Send(r);
    Release(std::move(http));
    if (!reply.ok()) return reply.status();
    *request_id = reply->Header("x-ots-requestid");
    if (reply->status == 200) {
      if (reply->Header("x-ots-contentmd5") != Base64Encode(Md5(reply->body))) {
        return Status::Unavailable("the reply's body does not match its x-ots-contentmd5");
      }
      if (!out->ParseFromString(reply->body)) {
        return Status::Corruption(
            fmt::format("the reply is not a valid {}", out->GetDescriptor()->name()));
      }
      return Status::OK();
    }
    wire::Error error;
    if (!error.ParseFromString(reply->body)) {
      return FromOtsError("", fmt::format("HTTP {} without a Tablestore error", reply->status),
                          reply->status);
    }
    return FromOtsError(error.code(), error.message(), reply->status);
  }

  std::unique_ptr<HttpClient> Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || created_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++created_;
    objectstore::HttpOptions http;
    http.connect_timeout_ms = options_.connect_timeout_ms;
    http.stall_timeout_ms = options_.request_timeout_ms;
    return std::make_unique<HttpClient>(http);
  }
  void Release(std::unique_ptr<HttpClient> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

  const std::string instance_, key_id_, secret_;
  const ClientOptions options_;
  bool https_ = false;
  std::string host_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
  size_t created_ = 0;
};

TableStoreClient::TableStoreClient(std::string endpoint, std::string instance,
                                   std::string access_key_id, std::string access_key_secret,
                                   ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(instance),
                                   std::move(access_key_id), std::move(access_key_secret),
                                   options)) {}
TableStoreClient::~TableStoreClient() = default;

Result<CreateDeliveryTaskResponse> TableStoreClient::CreateDeliveryTask(
    const CreateDeliveryTaskRequest& r) {
  wire::CreateDeliveryTaskRequest w;
  w.set_tablename(r.TableName);
  w.set_taskname(r.TaskName);
  w.set_tasktype(static_cast<wire::DeliveryTaskType>(r.TaskType));
  ToWire(r.TaskConfig, w.mutable_taskconfig());
  wire::CreateDeliveryTaskResponse reply;
  CreateDeliveryTaskResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("CreateDeliveryTask", w, &reply));
  return out;
}

Result<UpdateDeliveryTaskResponse> TableStoreClient::UpdateDeliveryTask(
    const UpdateDeliveryTaskRequest& r) {
  wire::UpdateDeliveryTaskRequest w;
  w.set_table(r.TableName);
  w.set_taskname(r.TaskName);
  ToWire(r.TaskConfig, w.mutable_taskconfig());
  wire::UpdateDeliveryTaskResponse reply;
  UpdateDeliveryTaskResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("UpdateDeliveryTask", w, &reply));
  return out;
}

Result<DescribeDeliveryTaskResponse> TableStoreClient::DescribeDeliveryTask(
    const DescribeDeliveryTaskRequest& r) {
  wire::DescribeDeliveryTaskRequest w;
  w.set_tablename(r.TableName);
  w.set_taskname(r.TaskName);
  wire::DescribeDeliveryTaskResponse reply;
  DescribeDeliveryTaskResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("DescribeDeliveryTask", w, &reply));
  out.TaskConfig = FromWire(reply.taskconfig());
  out.TaskType = static_cast<DeliveryTaskType>(reply.tasktype());
  const auto& s = reply.task_sync_stat();
  out.TaskSyncStat.TaskSyncPhase = static_cast<SyncPhase>(s.task_sync_phase());
  out.TaskSyncStat.CurrentSyncTimestamp = s.current_sync_timestamp();
  out.TaskSyncStat.ErrorCode = s.has_error_name()   ? s.error_name()
                               : s.has_error_code() ? wire::ErrorType_Name(s.error_code())
                                                    : "";
  out.TaskSyncStat.Detail = s.detail();
  out.TaskSyncStat.RowsDelivered = s.rows_delivered();
  out.TaskSyncStat.DirtyRows = s.dirty_rows();
  out.TaskSyncStat.FilesWritten = s.files_written();
  out.TaskSyncStat.BytesWritten = s.bytes_written();
  out.TaskSyncStat.LagMs = s.lag_ms();
  return out;
}

Result<ListDeliveryTaskResponse> TableStoreClient::ListDeliveryTask(
    const ListDeliveryTaskRequest& r) {
  wire::ListDeliveryTaskRequest w;
  if (!r.TableName.empty()) w.set_tablename(r.TableName);
  wire::ListDeliveryTaskResponse reply;
  ListDeliveryTaskResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("ListDeliveryTask", w, &reply));
  for (const auto& t : reply.tasks()) {
    out.Tasks.push_back({t.tablename(), t.taskname(), static_cast<DeliveryTaskType>(t.tasktype())});
  }
  return out;
}

Result<DeleteDeliveryTaskResponse> TableStoreClient::DeleteDeliveryTask(
    const DeleteDeliveryTaskRequest& r) {
  wire::DeleteDeliveryTaskRequest w;
  w.set_tablename(r.TableName);
  w.set_taskname(r.TaskName);
  wire::DeleteDeliveryTaskResponse reply;
  DeleteDeliveryTaskResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("DeleteDeliveryTask", w, &reply));
  return out;
}

Status TableStoreClient::CreateTable(const CreateTableRequest& r) {
  wire::CreateTableRequest w;
  server::ToWire(r.Meta, w.mutable_table_meta());
  w.mutable_reserved_throughput()->mutable_capacity_unit()->set_read(0);
  w.mutable_reserved_throughput()->mutable_capacity_unit()->set_write(0);
  server::ToWire(r.Options, w.mutable_table_options());
  w.mutable_stream_spec()->set_enable_stream(r.Stream.enabled);
  if (r.Stream.enabled) w.mutable_stream_spec()->set_expiration_time(r.Stream.expiration_hours);
  wire::CreateTableResponse reply;
  return impl_->Call("CreateTable", w, &reply).status();
}

Result<std::vector<std::string>> TableStoreClient::ListTable() {
  wire::ListTableResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("ListTable", wire::ListTableRequest(), &reply).status());
  return std::vector<std::string>(reply.table_names().begin(), reply.table_names().end());
}

Result<TableDescription> TableStoreClient::DescribeTable(const std::string& table) {
  wire::DescribeTableRequest w;
  w.set_table_name(table);
  wire::DescribeTableResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("DescribeTable", w, &reply).status());
  TableDescription d;
  TL_ASSIGN_OR_RETURN(d.meta, server::FromWire(reply.table_meta()));
  d.options = server::FromWire(reply.table_options());
  if (reply.has_stream_details()) {
    d.stream.enabled = reply.stream_details().enable_stream();
    d.stream.expiration_hours = reply.stream_details().expiration_time();
    d.stream_id = reply.stream_details().stream_id();
    d.stream_enable_time_us = reply.stream_details().last_enable_time();
  }
  return d;
}

Status TableStoreClient::UpdateTable(const std::string& table,
                                     const std::optional<TableOptions>& options,
                                     const std::optional<StreamSpecification>& stream) {
  wire::UpdateTableRequest w;
  w.set_table_name(table);
  if (options) server::ToWire(*options, w.mutable_table_options());
  if (stream) {
    w.mutable_stream_spec()->set_enable_stream(stream->enabled);
    if (stream->enabled) w.mutable_stream_spec()->set_expiration_time(stream->expiration_hours);
  }
  wire::UpdateTableResponse reply;
  return impl_->Call("UpdateTable", w, &reply).status();
}

Status TableStoreClient::DeleteTable(const std::string& table) {
  wire::DeleteTableRequest w;
  w.set_table_name(table);
  wire::DeleteTableResponse reply;
  return impl_->Call("DeleteTable", w, &reply).status();
}

Status TableStoreClient::PutRow(const PutRowRequest& r) {
  wire::PutRowRequest w;
  w.set_table_name(r.TableName);
  w.set_row(server::EncodeRow(r.Key, r.Columns));
  w.mutable_condition()->set_row_existence(static_cast<wire::RowExistenceExpectation>(r.Expect));
  wire::PutRowResponse reply;
  return impl_->Call("PutRow", w, &reply).status();
}

Status TableStoreClient::UpdateRow(const UpdateRowRequest& r) {
  server::WireRow row;
  row.primary_key = r.Key;
  for (const auto& u : r.Updates) {
    server::WireCell cell{u.name, std::nullopt, server::CellOp::kNone, u.timestamp};
    switch (u.op) {
      case ColumnUpdate::Op::kPut:
        cell.value = u.value;
        break;
      case ColumnUpdate::Op::kDeleteOneVersion:
        cell.op = server::CellOp::kDeleteOneVersion;
        break;
      case ColumnUpdate::Op::kDeleteAllVersions:
        cell.op = server::CellOp::kDeleteAllVersions;
        cell.timestamp = kNoTimestamp;
        break;
      case ColumnUpdate::Op::kIncrement:
        cell.value = u.value;
        cell.op = server::CellOp::kIncrement;
        break;
    }
    row.cells.push_back(std::move(cell));
  }
  wire::UpdateRowRequest w;
  w.set_table_name(r.TableName);
  std::string change;
  server::AppendHeader(&change);
  server::AppendWireRow(&change, row);
  w.set_row_change(change);
  w.mutable_condition()->set_row_existence(static_cast<wire::RowExistenceExpectation>(r.Expect));
  wire::UpdateRowResponse reply;
  return impl_->Call("UpdateRow", w, &reply).status();
}

Status TableStoreClient::DeleteRow(const DeleteRowRequest& r) {
  server::WireRow row{r.Key, {}, /*delete_marker=*/true};
  std::string key;
  server::AppendHeader(&key);
  server::AppendWireRow(&key, row);
  wire::DeleteRowRequest w;
  w.set_table_name(r.TableName);
  w.set_primary_key(key);
  w.mutable_condition()->set_row_existence(static_cast<wire::RowExistenceExpectation>(r.Expect));
  wire::DeleteRowResponse reply;
  return impl_->Call("DeleteRow", w, &reply).status();
}

Result<BatchWriteRowResponse> TableStoreClient::BatchWriteRow(const BatchWriteRowRequest& r) {
  wire::BatchWriteRowRequest w;
  wire::TableInBatchWriteRowRequest* table = w.add_tables();
  table->set_table_name(r.TableName);
  for (const auto& row : r.Rows) {
    wire::RowInBatchWriteRowRequest* put = table->add_rows();
    put->set_type(wire::PUT);
    put->set_row_change(server::EncodeRow(row.Key, row.Columns));
    put->mutable_condition()->set_row_existence(
        static_cast<wire::RowExistenceExpectation>(row.Expect));
  }
  wire::BatchWriteRowResponse reply;
  BatchWriteRowResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("BatchWriteRow", w, &reply));
  if (reply.tables_size() != 1 || reply.tables(0).rows_size() != table->rows_size()) {
    return Status::Corruption("BatchWriteRow: the reply does not answer every row");
  }
  for (const auto& row : reply.tables(0).rows()) {
    out.Rows.push_back(row.is_ok() ? Status::OK()
                                   : FromOtsError(row.error().code(), row.error().message(), 200));
  }
  return out;
}

Result<std::optional<Row>> TableStoreClient::GetRow(const GetRowRequest& r) {
  wire::GetRowRequest w;
  w.set_table_name(r.TableName);
  w.set_primary_key(server::EncodePrimaryKey(r.Key));
  for (const auto& c : r.Columns) w.add_columns_to_get(c);
  w.set_max_versions(r.MaxVersions);
  wire::GetRowResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("GetRow", w, &reply).status());
  return OptionalRow(reply.row());
}

Result<BatchGetRowResponse> TableStoreClient::BatchGetRow(const BatchGetRowRequest& r) {
  wire::BatchGetRowRequest w;
  wire::TableInBatchGetRowRequest* table = w.add_tables();
  table->set_table_name(r.TableName);
  for (const auto& key : r.Keys) table->add_primary_key(server::EncodePrimaryKey(key));
  for (const auto& c : r.Columns) table->add_columns_to_get(c);
  table->set_max_versions(r.MaxVersions);
  wire::BatchGetRowResponse reply;
  BatchGetRowResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("BatchGetRow", w, &reply));
  if (reply.tables_size() != 1 || reply.tables(0).rows_size() != table->primary_key_size()) {
    return Status::Corruption("BatchGetRow: the reply does not answer every key");
  }
  for (const auto& row : reply.tables(0).rows()) {
    if (!row.is_ok()) {
      out.Rows.push_back(FromOtsError(row.error().code(), row.error().message(), 200));
    } else {
      out.Rows.push_back(OptionalRow(row.row()));
    }
  }
  return out;
}

Result<GetRangeResponse> TableStoreClient::GetRange(const GetRangeRequest& r) {
  wire::GetRangeRequest w;
  w.set_table_name(r.TableName);
  w.set_direction(r.Backward ? wire::BACKWARD : wire::FORWARD);
  w.set_max_versions(r.MaxVersions);
  if (r.Limit > 0) w.set_limit(r.Limit);
  w.set_inclusive_start_primary_key(server::EncodePrimaryKey(r.Start));
  w.set_exclusive_end_primary_key(server::EncodePrimaryKey(r.End));
  wire::GetRangeResponse reply;
  GetRangeResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("GetRange", w, &reply));
  if (!reply.rows().empty()) {
    TL_ASSIGN_OR_RETURN(auto rows, server::DecodeRows(reply.rows()));
    for (auto& row : rows) out.Rows.push_back(RowOf(std::move(row)));
  }
  if (reply.has_next_start_primary_key() && !reply.next_start_primary_key().empty()) {
    TL_ASSIGN_OR_RETURN(auto next, server::DecodeRow(reply.next_start_primary_key()));
    out.NextStart = next.primary_key;
  }
  return out;
}

Result<std::vector<StreamInfo>> TableStoreClient::ListStream(const std::string& table) {
  wire::ListStreamRequest w;
  if (!table.empty()) w.set_table_name(table);
  wire::ListStreamResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("ListStream", w, &reply).status());
  std::vector<StreamInfo> out;
  for (const auto& s : reply.streams()) {
    out.push_back({s.stream_id(), s.table_name(), s.creation_time()});
  }
  return out;
}

Result<DescribeStreamResponse> TableStoreClient::DescribeStream(const std::string& stream_id) {
  wire::DescribeStreamRequest w;
  w.set_stream_id(stream_id);
  wire::DescribeStreamResponse reply;
  DescribeStreamResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("DescribeStream", w, &reply));
  out.StreamId = reply.stream_id();
  out.TableName = reply.table_name();
  out.ExpirationHours = reply.expiration_time();
  for (const auto& shard : reply.shards()) out.ShardIds.push_back(shard.shard_id());
  return out;
}

Result<std::string> TableStoreClient::GetShardIterator(const std::string& stream_id,
                                                       const std::string& shard_id,
                                                       std::optional<int64_t> from_time_us) {
  wire::GetShardIteratorRequest w;
  w.set_stream_id(stream_id);
  w.set_shard_id(shard_id);
  if (from_time_us) w.set_timestamp(*from_time_us);
  wire::GetShardIteratorResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("GetShardIterator", w, &reply).status());
  return reply.shard_iterator();
}

Result<GetStreamRecordResponse> TableStoreClient::GetStreamRecord(const std::string& iterator,
                                                                  int32_t limit) {
  wire::GetStreamRecordRequest w;
  w.set_shard_iterator(iterator);
  if (limit > 0) w.set_limit(limit);
  wire::GetStreamRecordResponse reply;
  GetStreamRecordResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("GetStreamRecord", w, &reply));
  for (const auto& rec : reply.stream_records()) {
    TL_ASSIGN_OR_RETURN(server::WireRow row, server::DecodeRow(rec.record()));
    StreamRecord r{static_cast<ChangeOp>(rec.action_type()), row.primary_key, {}};
    for (auto& c : row.cells) {
      ColumnUpdate u;
      u.name = c.name;
      u.timestamp = c.timestamp;
      if (c.value) {
        u.value = *c.value;
      } else {
        u.op = c.op == server::CellOp::kDeleteOneVersion ? ColumnUpdate::Op::kDeleteOneVersion
                                                         : ColumnUpdate::Op::kDeleteAllVersions;
      }
      r.Columns.push_back(std::move(u));
    }
    out.Records.push_back(std::move(r));
  }
  out.NextShardIterator = reply.next_shard_iterator();
  return out;
}

}  // namespace tablelake::client
