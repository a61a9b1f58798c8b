#include "client/remote_store.h"
#include "client/wire_caller.h"
#include "client/wire_requests.h"
#include "fmt/format.h"
#include "proto/tablestore.pb.h"
#include "proto/tablestore_delivery.pb.h"
#include "server/plain_buffer.h"
#include "server/wire_convert.h"
#include "server/wire_delivery.h"
#include "tablelake/client.h"

namespace tablelake::client {

using remote::FromWire;
using remote::RowFromWire;
using remote::ToWire;

namespace {

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

}  // namespace

TableStoreClient::TableStoreClient(std::string endpoint, std::string instance,
                                   std::string access_key_id, std::string access_key_secret,
                                   ClientOptions options)
    : impl_(std::make_shared<WireCaller>(std::move(endpoint), std::move(instance),
                                         std::move(access_key_id), std::move(access_key_secret),
                                         options)),
      tables_(remote::NewRemoteStore(impl_)) {}
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
  const DeliveryTaskStatus s = server::FromWire(reply.task_sync_stat());
  out.TaskSyncStat = {s.phase,          s.current_sync_timestamp_ns,
                      s.error_code,     s.error_detail,
                      s.rows_delivered, s.dirty_rows,
                      s.files_written,  s.bytes_written,
                      s.lag_ms};
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
  return tables_->CreateTable(r.Meta, r.Options, r.Stream);
}

Result<std::vector<std::string>> TableStoreClient::ListTable() { return tables_->ListTable(); }

Result<TableDescription> TableStoreClient::DescribeTable(const std::string& table) {
  return tables_->DescribeTable(table);
}

Status TableStoreClient::UpdateTable(const std::string& table,
                                     const std::optional<TableOptions>& options,
                                     const std::optional<StreamSpecification>& stream) {
  return tables_->UpdateTable(table, options, stream);
}

Status TableStoreClient::DeleteTable(const std::string& table) {
  return tables_->DeleteTable(table);
}

namespace {

tablelake::PutRowRequest StorePut(const std::string& table, const PutRowRequest& r) {
  return {table, r.Key, r.Columns, Condition{r.Expect, std::nullopt}, ReturnType::kNone};
}

template <typename Read>
void SetReadOptions(const std::vector<std::string>& columns, int32_t max_versions, Read* read) {
  read->columns_to_get = columns;
  read->max_versions = max_versions;
}

}  // namespace

Status TableStoreClient::PutRow(const PutRowRequest& r) {
  wire::PutRowRequest w;
  ToWire(StorePut(r.TableName, r), &w);
  wire::PutRowResponse reply;
  return impl_->Call("PutRow", w, &reply).status();
}

Status TableStoreClient::UpdateRow(const UpdateRowRequest& r) {
  wire::UpdateRowRequest w;
  ToWire(tablelake::UpdateRowRequest{r.TableName, r.Key, r.Updates, Condition{r.Expect, {}}, {}},
         &w);
  wire::UpdateRowResponse reply;
  return impl_->Call("UpdateRow", w, &reply).status();
}

Status TableStoreClient::DeleteRow(const DeleteRowRequest& r) {
  wire::DeleteRowRequest w;
  ToWire(tablelake::DeleteRowRequest{r.TableName, r.Key, Condition{r.Expect, {}}, {}}, &w);
  wire::DeleteRowResponse reply;
  return impl_->Call("DeleteRow", w, &reply).status();
}

Result<BatchWriteRowResponse> TableStoreClient::BatchWriteRow(const BatchWriteRowRequest& r) {
  wire::BatchWriteRowRequest w;
  wire::TableInBatchWriteRowRequest* table = w.add_tables();
  table->set_table_name(r.TableName);
  for (const auto& row : r.Rows) {
    BatchWriteItem item;
    item.put = StorePut(r.TableName, row);
    ToWire(item, table->add_rows());
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
  tablelake::GetRowRequest get;
  get.table = r.TableName;
  get.primary_key = r.Key;
  SetReadOptions(r.Columns, r.MaxVersions, &get);
  wire::GetRowRequest w;
  ToWire(get, &w);
  wire::GetRowResponse reply;
  TL_RETURN_IF_ERROR(impl_->Call("GetRow", w, &reply).status());
  return RowFromWire(reply.row());
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
      out.Rows.push_back(RowFromWire(row.row()));
    }
  }
  return out;
}

Result<GetRangeResponse> TableStoreClient::GetRange(const GetRangeRequest& r) {
  tablelake::GetRangeRequest range;
  range.table = r.TableName;
  range.direction = r.Backward ? Direction::kBackward : Direction::kForward;
  range.inclusive_start = r.Start;
  range.exclusive_end = r.End;
  range.limit = r.Limit;
  SetReadOptions({}, r.MaxVersions, &range);
  wire::GetRangeRequest w;
  ToWire(range, &w);
  wire::GetRangeResponse reply;
  GetRangeResponse out;
  TL_ASSIGN_OR_RETURN(out.RequestId, impl_->Call("GetRange", w, &reply));
  TL_ASSIGN_OR_RETURN(GetRangeResult result, FromWire(reply));
  out.Rows = std::move(result.rows);
  out.NextStart = std::move(result.next_start_primary_key);
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
    TL_ASSIGN_OR_RETURN(ChangeRecord change, remote::ChangeFromWire("", rec));
    out.Records.push_back({change.op, std::move(change.primary_key), std::move(change.columns)});
  }
  out.NextShardIterator = reply.next_shard_iterator();
  return out;
}

}  // namespace tablelake::client
