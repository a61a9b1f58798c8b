#include "server/wire_service.h"

#include <atomic>
#include <functional>
#include <unordered_map>

#include "common/base64.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "proto/tablestore.pb.h"
#include "server/plain_buffer.h"
#include "server/wire_convert.h"
#include "server/wire_delivery.h"
#include "server/wire_stream.h"

namespace tablelake::server {
namespace {

// What a request's handler may use: the instance's store and delivery service, and whether
// the request's key is an administrator's.
struct Context {
  TableStore& store;
  const WireServiceOptions& options;
  bool admin;
};

using Handler = std::function<Result<std::string>(const Context&, const std::string& body)>;

// Parses a request message, naming the message and any required field it lacks.
template <typename Request>
Status ParseRequest(const std::string& body, Request* request) {
  const std::string& name = Request::descriptor()->name();
  if (!request->ParsePartialFromString(body)) {
    return Status::InvalidArgument(fmt::format("the body is not a valid {}", name));
  }
  if (!request->IsInitialized()) {
    return Status::InvalidArgument(
        fmt::format("{} lacks required fields: {}", name, request->InitializationErrorString()));
  }
  return Status::OK();
}

template <typename Request, typename Response>
Handler Op(std::function<Status(TableStore&, const Request&, Response*)> fn) {
  return [fn](const Context& context, const std::string& body) -> Result<std::string> {
    Request request;
    TL_RETURN_IF_ERROR(ParseRequest(body, &request));
    Response response;
    TL_RETURN_IF_ERROR(fn(context.store, request, &response));
    return response.SerializePartialAsString();
  };
}

// An operation on a table's stream.
template <typename Request, typename Response>
Handler StreamOp(std::function<Status(const StreamContext&, const Request&, Response*)> fn) {
  return [fn](const Context& context, const std::string& body) -> Result<std::string> {
    Request request;
    TL_RETURN_IF_ERROR(ParseRequest(body, &request));
    Response response;
    StreamContext stream{context.store, *context.options.clock,
                         context.options.iterator_lifetime_ms};
    TL_RETURN_IF_ERROR(fn(stream, request, &response));
    return response.SerializePartialAsString();
  };
}

// An operation on the instance's delivery tasks or credential sets.
template <typename Request, typename Response>
Handler DeliveryOp(
    std::function<Status(DeliveryService&, const TaskEvents&, const Request&, Response*)> fn,
    bool admin_only = false) {
  return [fn, admin_only](const Context& context, const std::string& body) -> Result<std::string> {
    if (context.options.delivery == nullptr) {
      return Status::NotSupported("delivery tasks are not served by this server");
    }
    if (admin_only && !context.admin) {
      return Status::PermissionDenied(
          "credential sets need an administrator key (\"admin\": true in serve's --config)");
    }
    Request request;
    TL_RETURN_IF_ERROR(ParseRequest(body, &request));
    Response response;
    TL_RETURN_IF_ERROR(
        fn(*context.options.delivery, context.options.task_events, request, &response));
    return response.SerializePartialAsString();
  };
}

// ---- tables ----

Status CreateTable(TableStore& store, const wire::CreateTableRequest& r,
                   wire::CreateTableResponse*) {
  TL_ASSIGN_OR_RETURN(TableMeta meta, FromWire(r.table_meta()));
  if (r.index_metas_size() > 0) {
    return Status::NotSupported("secondary indexes (index_metas) are not supported");
  }
  if (r.partitions_size() > 0) {
    return Status::NotSupported("pre-split partitions (partitions) are not supported");
  }
  TableOptions options = FromWire(r.table_options());
  StreamSpecification stream;
  if (r.has_stream_spec()) stream = FromWire(r.stream_spec());
  return store.CreateTable(meta, options, stream);
}

Status ListTable(TableStore& store, const wire::ListTableRequest&, wire::ListTableResponse* out) {
  TL_ASSIGN_OR_RETURN(auto names, store.ListTable());
  for (auto& n : names) out->add_table_names(std::move(n));
  return Status::OK();
}

void ThroughputDetails(const TableDescription& d, wire::ReservedThroughputDetails* out) {
  out->mutable_capacity_unit()->set_read(0);
  out->mutable_capacity_unit()->set_write(0);
  out->set_last_increase_time(d.creation_time_us / 1000000);
}

Status DescribeTable(TableStore& store, const wire::DescribeTableRequest& r,
                     wire::DescribeTableResponse* out) {
  TL_ASSIGN_OR_RETURN(TableDescription d, store.DescribeTable(r.table_name()));
  ToWire(d.meta, out->mutable_table_meta());
  ThroughputDetails(d, out->mutable_reserved_throughput_details());
  ToWire(d.options, out->mutable_table_options());
  out->set_table_status(wire::ACTIVE);
  ToWire(d, out->mutable_stream_details());
  return Status::OK();
}

Status UpdateTable(TableStore& store, const wire::UpdateTableRequest& r,
                   wire::UpdateTableResponse* out) {
  std::optional<TableOptions> options;
  std::optional<StreamSpecification> stream;
  if (r.has_table_options()) {
    TL_ASSIGN_OR_RETURN(TableDescription now, store.DescribeTable(r.table_name()));
    options = FromWire(r.table_options(), now.options);
  }
  if (r.has_stream_spec()) stream = FromWire(r.stream_spec());
  TL_RETURN_IF_ERROR(store.UpdateTable(r.table_name(), options, stream));
  TL_ASSIGN_OR_RETURN(TableDescription d, store.DescribeTable(r.table_name()));
  ThroughputDetails(d, out->mutable_reserved_throughput_details());
  ToWire(d.options, out->mutable_table_options());
  ToWire(d, out->mutable_stream_details());
  return Status::OK();
}

// With delivery served, the table's tasks go with it (DropTable); else only the table goes.
Result<std::string> DeleteTable(const Context& context, const std::string& body) {
  wire::DeleteTableRequest r;
  TL_RETURN_IF_ERROR(ParseRequest(body, &r));
  if (context.options.delivery == nullptr) {
    TL_RETURN_IF_ERROR(context.store.DeleteTable(r.table_name()));
  } else {
    TL_RETURN_IF_ERROR(
        DropTable(*context.options.delivery, context.options.task_events, r.table_name()));
  }
  return wire::DeleteTableResponse().SerializePartialAsString();
}

// ---- rows ----

Status NoTransaction(const std::string& transaction_id) {
  if (transaction_id.empty()) return Status::OK();
  return Status::NotSupported("local transactions (transaction_id) are not supported");
}

// A decoded write (PutRowRequest, UpdateRowRequest or DeleteRowRequest) with the request's
// condition and return content.
template <typename StoreRequest>
Status WithOptions(Result<StoreRequest> decoded, const wire::Condition& condition,
                   const wire::ReturnContent* content, StoreRequest* out) {
  TL_ASSIGN_OR_RETURN(*out, std::move(decoded));
  TL_ASSIGN_OR_RETURN(out->condition, FromWire(condition));
  if (content != nullptr) out->return_type = FromWire(*content);
  return Status::OK();
}

// PutRow, UpdateRow and DeleteRow: one write, its consumed capacity and what it returns.
template <typename WireRequest, typename StoreRequest, typename Response>
Status Write(TableStore& store, const WireRequest& r, Result<StoreRequest> decoded,
             Result<WriteResult> (TableStore::*write)(const StoreRequest&), Response* out) {
  TL_RETURN_IF_ERROR(NoTransaction(r.transaction_id()));
  StoreRequest request;
  TL_RETURN_IF_ERROR(WithOptions(std::move(decoded), r.condition(),
                                 r.has_return_content() ? &r.return_content() : nullptr, &request));
  TL_ASSIGN_OR_RETURN(WriteResult result, (store.*write)(request));
  SetConsumed(0, 1, out->mutable_consumed());
  if (std::string row = WriteResultRow(result); !row.empty()) out->set_row(std::move(row));
  return Status::OK();
}

Status PutRow(TableStore& store, const wire::PutRowRequest& r, wire::PutRowResponse* out) {
  return Write(store, r, PutFromWire(r.table_name(), r.row()), &TableStore::PutRow, out);
}

Status UpdateRow(TableStore& store, const wire::UpdateRowRequest& r, wire::UpdateRowResponse* out) {
  return Write(store, r, UpdateFromWire(r.table_name(), r.row_change()), &TableStore::UpdateRow,
               out);
}

Status DeleteRow(TableStore& store, const wire::DeleteRowRequest& r, wire::DeleteRowResponse* out) {
  return Write(store, r, DeleteFromWire(r.table_name(), r.primary_key()), &TableStore::DeleteRow,
               out);
}

// What GetRow, BatchGetRow and GetRange share: columns, versions, time range and filter.
bool HasToken(const wire::TableInBatchGetRowRequest& r) { return r.token_size() > 0; }
template <typename Request>
bool HasToken(const Request& r) {
  return r.has_token();
}

template <typename Request, typename Read>
Status ReadOptionsFromWire(const Request& r, Read* read) {
  if (r.has_start_column() || r.has_end_column() || HasToken(r)) {
    return Status::NotSupported(
        "start_column, end_column and token are not supported: page the columns with a "
        "ColumnPaginationFilter");
  }
  read->columns_to_get.assign(r.columns_to_get().begin(), r.columns_to_get().end());
  if (r.has_time_range()) {
    TL_ASSIGN_OR_RETURN(read->time_range, FromWire(r.time_range()));
  }
  if (r.has_max_versions()) {
    if (r.max_versions() <= 0) {
      return Status::InvalidArgument(
          fmt::format("max_versions must be positive, not {}", r.max_versions()));
    }
    read->max_versions = r.max_versions();
  }
  if (r.has_filter()) {
    TL_ASSIGN_OR_RETURN(read->filter, FilterFromWire(r.filter()));
  }
  return Status::OK();
}

std::string RowBuffer(const std::optional<Row>& row) {
  if (!row) return "";
  return EncodeRow(row->primary_key, row->cells);
}

Status GetRow(TableStore& store, const wire::GetRowRequest& r, wire::GetRowResponse* out) {
  TL_RETURN_IF_ERROR(NoTransaction(r.transaction_id()));
  GetRowRequest get;
  get.table = r.table_name();
  TL_ASSIGN_OR_RETURN(get.primary_key, KeyFromWire(r.primary_key(), "primary_key"));
  TL_RETURN_IF_ERROR(ReadOptionsFromWire(r, &get));
  TL_ASSIGN_OR_RETURN(std::optional<Row> row, store.GetRow(get));
  SetConsumed(1, 0, out->mutable_consumed());
  out->set_row(RowBuffer(row));
  return Status::OK();
}

Status GetRange(TableStore& store, const wire::GetRangeRequest& r, wire::GetRangeResponse* out) {
  TL_RETURN_IF_ERROR(NoTransaction(r.transaction_id()));
  GetRangeRequest range;
  range.table = r.table_name();
  range.direction = static_cast<Direction>(r.direction());
  TL_ASSIGN_OR_RETURN(range.inclusive_start,
                      KeyFromWire(r.inclusive_start_primary_key(), "inclusive_start_primary_key"));
  TL_ASSIGN_OR_RETURN(range.exclusive_end,
                      KeyFromWire(r.exclusive_end_primary_key(), "exclusive_end_primary_key"));
  if (r.has_limit()) {
    if (r.limit() <= 0) {
      return Status::InvalidArgument(fmt::format("limit must be positive, not {}", r.limit()));
    }
    range.limit = r.limit();
  }
  TL_RETURN_IF_ERROR(ReadOptionsFromWire(r, &range));
  TL_ASSIGN_OR_RETURN(GetRangeResult result, store.GetRange(range));
  std::string rows;
  AppendHeader(&rows);
  for (const Row& row : result.rows) AppendRow(&rows, row.primary_key, row.cells);
  SetConsumed(std::max<int>(1, static_cast<int>(result.rows.size())), 0, out->mutable_consumed());
  out->set_rows(result.rows.empty() ? std::string() : std::move(rows));
  if (result.next_start_primary_key) {
    out->set_next_start_primary_key(EncodePrimaryKey(*result.next_start_primary_key));
  }
  return Status::OK();
}

void SetError(const Status& s, wire::Error* out) {
  out->set_code(s.OtsErrorCode());
  out->set_message(s.message());
}

Status BatchGetRow(TableStore& store, const wire::BatchGetRowRequest& r,
                   wire::BatchGetRowResponse* out) {
  std::vector<GetRowRequest> gets;
  for (const auto& t : r.tables()) {
    GetRowRequest base;
    base.table = t.table_name();
    TL_RETURN_IF_ERROR(ReadOptionsFromWire(t, &base));
    for (const auto& key : t.primary_key()) {
      GetRowRequest get = base;
      TL_ASSIGN_OR_RETURN(get.primary_key, KeyFromWire(key, "primary_key"));
      gets.push_back(std::move(get));
    }
  }
  auto results = store.BatchGetRow(gets);
  size_t i = 0;
  for (const auto& t : r.tables()) {
    auto* table = out->add_tables();
    table->set_table_name(t.table_name());
    for (int k = 0; k < t.primary_key_size(); ++k, ++i) {
      auto* row = table->add_rows();
      row->set_is_ok(results[i].ok());
      if (!results[i].ok()) {
        SetError(results[i].status(), row->mutable_error());
        continue;
      }
      SetConsumed(1, 0, row->mutable_consumed());
      row->set_row(RowBuffer(*results[i]));
    }
  }
  return Status::OK();
}

Result<BatchWriteItem> ItemFromWire(const std::string& table,
                                    const wire::RowInBatchWriteRowRequest& row) {
  BatchWriteItem item;
  item.type = static_cast<BatchWriteItem::Type>(row.type());
  const wire::ReturnContent* content = row.has_return_content() ? &row.return_content() : nullptr;
  const std::string& change = row.row_change();
  if (item.type == BatchWriteItem::Type::kPut) {
    TL_RETURN_IF_ERROR(
        WithOptions(PutFromWire(table, change), row.condition(), content, &item.put));
  } else if (item.type == BatchWriteItem::Type::kUpdate) {
    TL_RETURN_IF_ERROR(
        WithOptions(UpdateFromWire(table, change), row.condition(), content, &item.update));
  } else {
    TL_RETURN_IF_ERROR(
        WithOptions(DeleteFromWire(table, change), row.condition(), content, &item.del));
  }
  return item;
}

Status BatchWriteRow(TableStore& store, const wire::BatchWriteRowRequest& r,
                     wire::BatchWriteRowResponse* out) {
  TL_RETURN_IF_ERROR(NoTransaction(r.transaction_id()));
  if (r.is_atomic()) return Status::NotSupported("atomic batches (is_atomic) are not supported");
  // A row that cannot even be decoded fails alone, as the store's own refusals do.
  std::vector<BatchWriteItem> items;
  std::vector<Status> refused;
  for (const auto& t : r.tables()) {
    for (const auto& row : t.rows()) {
      auto item = ItemFromWire(t.table_name(), row);
      refused.push_back(item.status());
      if (item.ok()) items.push_back(std::move(*item));
    }
  }
  auto results = store.BatchWriteRow(items);
  size_t i = 0, next = 0;
  for (const auto& t : r.tables()) {
    auto* table = out->add_tables();
    table->set_table_name(t.table_name());
    for (int k = 0; k < t.rows_size(); ++k, ++i) {
      auto* row = table->add_rows();
      Result<WriteResult> result = refused[i];
      if (refused[i].ok()) result = std::move(results[next++]);
      row->set_is_ok(result.ok());
      if (!result.ok()) {
        SetError(result.status(), row->mutable_error());
        continue;
      }
      SetConsumed(0, 1, row->mutable_consumed());
      if (std::string b = WriteResultRow(*result); !b.empty()) row->set_row(std::move(b));
    }
  }
  return Status::OK();
}

// Split points as the SDKs walk them: the table's key schema, points that may omit trailing
// key columns (ours hold them all), and locations whose repeats add up to the ranges.
Status ComputeSplitPointsBySize(TableStore& store, const wire::ComputeSplitPointsBySizeRequest& r,
                                wire::ComputeSplitPointsBySizeResponse* out) {
  constexpr int64_t kHundredMb = 100LL << 20;
  int64_t unit = r.has_split_size_unit_in_byte() ? r.split_size_unit_in_byte() : kHundredMb;
  if (r.split_size() <= 0 || unit <= 0 || r.split_size() > INT64_MAX / unit) {
    return Status::InvalidArgument(
        fmt::format("split_size {} x {} bytes is not a positive size", r.split_size(), unit));
  }
  TL_ASSIGN_OR_RETURN(TableDescription d, store.DescribeTable(r.table_name()));
  TL_ASSIGN_OR_RETURN(auto points, store.ComputeSplitPoints(r.table_name(), r.split_size() * unit,
                                                            r.split_point_limit()));
  SetConsumed(1, 0, out->mutable_consumed());
  wire::TableMeta meta;
  ToWire(d.meta, &meta);
  *out->mutable_schema() = meta.primary_key();
  for (const auto& p : points) out->add_split_points(EncodePrimaryKey(p));
  auto* location = out->add_locations();
  location->set_location("tablelake");
  location->set_repeat(static_cast<int64_t>(points.size()) + 1);
  return Status::OK();
}

const std::unordered_map<std::string, Handler>& Handlers() {
  static const auto* handlers = new std::unordered_map<std::string, Handler>{
      {"CreateTable", Op<wire::CreateTableRequest, wire::CreateTableResponse>(CreateTable)},
      {"ListTable", Op<wire::ListTableRequest, wire::ListTableResponse>(ListTable)},
      {"DescribeTable", Op<wire::DescribeTableRequest, wire::DescribeTableResponse>(DescribeTable)},
      {"UpdateTable", Op<wire::UpdateTableRequest, wire::UpdateTableResponse>(UpdateTable)},
      {"DeleteTable", DeleteTable},
      {"PutRow", Op<wire::PutRowRequest, wire::PutRowResponse>(PutRow)},
      {"UpdateRow", Op<wire::UpdateRowRequest, wire::UpdateRowResponse>(UpdateRow)},
      {"DeleteRow", Op<wire::DeleteRowRequest, wire::DeleteRowResponse>(DeleteRow)},
      {"GetRow", Op<wire::GetRowRequest, wire::GetRowResponse>(GetRow)},
      {"GetRange", Op<wire::GetRangeRequest, wire::GetRangeResponse>(GetRange)},
      {"BatchGetRow", Op<wire::BatchGetRowRequest, wire::BatchGetRowResponse>(BatchGetRow)},
      {"BatchWriteRow", Op<wire::BatchWriteRowRequest, wire::BatchWriteRowResponse>(BatchWriteRow)},
      {"ComputeSplitPointsBySize",
       Op<wire::ComputeSplitPointsBySizeRequest, wire::ComputeSplitPointsBySizeResponse>(
           ComputeSplitPointsBySize)},
      {"ListStream", StreamOp<wire::ListStreamRequest, wire::ListStreamResponse>(ListStream)},
      {"DescribeStream",
       StreamOp<wire::DescribeStreamRequest, wire::DescribeStreamResponse>(DescribeStream)},
      {"GetShardIterator",
       StreamOp<wire::GetShardIteratorRequest, wire::GetShardIteratorResponse>(GetShardIterator)},
      {"GetStreamRecord",
       StreamOp<wire::GetStreamRecordRequest, wire::GetStreamRecordResponse>(GetStreamRecord)},
      {"CreateDeliveryTask",
       DeliveryOp<wire::CreateDeliveryTaskRequest, wire::CreateDeliveryTaskResponse>(
           [](DeliveryService& d, const TaskEvents& e, const auto& r, auto*) {
             return CreateDeliveryTask(d, e, r);
           })},
      {"UpdateDeliveryTask",
       DeliveryOp<wire::UpdateDeliveryTaskRequest, wire::UpdateDeliveryTaskResponse>(
           [](DeliveryService& d, const TaskEvents& e, const auto& r, auto*) {
             return UpdateDeliveryTask(d, e, r);
           })},
      {"DeleteDeliveryTask",
       DeliveryOp<wire::DeleteDeliveryTaskRequest, wire::DeleteDeliveryTaskResponse>(
           [](DeliveryService& d, const TaskEvents& e, const auto& r, auto*) {
             return DeleteDeliveryTask(d, e, r);
           })},
      {"DescribeDeliveryTask",
       DeliveryOp<wire::DescribeDeliveryTaskRequest, wire::DescribeDeliveryTaskResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto& r, auto* out) {
             return DescribeDeliveryTask(d, r, out);
           })},
      {"ListDeliveryTask",
       DeliveryOp<wire::ListDeliveryTaskRequest, wire::ListDeliveryTaskResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto& r, auto* out) {
             return ListDeliveryTask(d, r, out);
           })},
      {"ListDeliveredFiles",
       DeliveryOp<wire::ListDeliveredFilesRequest, wire::ListDeliveredFilesResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto& r, auto* out) {
             return ListDeliveredFiles(d, r, out);
           })},
      {"PutCredentialSet",
       DeliveryOp<wire::PutCredentialSetRequest, wire::PutCredentialSetResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto& r, auto*) {
             return PutCredentialSet(d, r);
           },
           /*admin_only=*/true)},
      {"ListCredentialSet",
       DeliveryOp<wire::ListCredentialSetRequest, wire::ListCredentialSetResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto&, auto* out) {
             return ListCredentialSet(d, out);
           },
           /*admin_only=*/true)},
      {"DeleteCredentialSet",
       DeliveryOp<wire::DeleteCredentialSetRequest, wire::DeleteCredentialSetResponse>(
           [](DeliveryService& d, const TaskEvents&, const auto& r, auto*) {
             return DeleteCredentialSet(d, r);
           },
           /*admin_only=*/true)},
  };
  return *handlers;
}

// ---- authentication ----

const std::string* Find(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// x-ots-date, leniently: "YYYY-MM-DDTHH:MM:SS", any fraction, "Z" (the SDKs differ, and the Go
// SDK's layout prints odd digits after the point).
std::optional<int64_t> ParseOtsDate(const std::string& s) {
  int y, mo, d, h, mi, sec;
  char t;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &sec) != 7 ||
      (t != 'T' && t != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60 || s.size() < 20 || s.back() != 'Z') {
    return std::nullopt;
  }
  return ((DaysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000;
}

std::string FormatOtsDate(int64_t micros) {
  int64_t secs = micros / 1000000, days = secs / 86400, rem = secs % 86400;
  // civil_from_days (Howard Hinnant's algorithm)
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z", y + (m <= 2), m, d,
                     rem / 3600, rem / 60 % 60, rem % 60, micros % 1000000);
}

}  // namespace

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kInvalidPrimaryKey:
    case StatusCode::kNotSupported:
    case StatusCode::kTrimmedData:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kConditionFailed:
    case StatusCode::kQuotaExhausted:
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

class WireService::Impl {
 public:
  Impl(TableStore* store, WireServiceOptions options)
      : store_(store), options_(std::move(options)) {
    if (!options_.clock) options_.clock = Clock::System();
  }

  WireReply Handle(const WireRequest& request) {
    const std::string* secret = nullptr;
    const std::string* key_id = Find(request.headers, "x-ots-accesskeyid");
    if (key_id != nullptr) {
      auto it = options_.keys.find(*key_id);
      if (it != options_.keys.end()) secret = &it->second;
    }
    // A V4 request is signed with a key derived from the secret; the Java SDK checks the
    // reply's signature with that key too (wire spec 1.4).
    std::string v4_key;
    const std::string* reply_key = secret;
    const std::string* day = Find(request.headers, "x-ots-signdate");
    const std::string* region = Find(request.headers, "x-ots-signregion");
    if (secret != nullptr && Find(request.headers, "x-ots-signaturev4") != nullptr &&
        day != nullptr && region != nullptr) {
      v4_key = V4SigningKey(*secret, *day, *region);
      reply_key = &v4_key;
    }
    Result<std::string> body = Authenticate(request, secret, reply_key);
    if (body.ok()) body = Dispatch(request);
    return Reply(request.operation, body, key_id, reply_key);
  }

 private:
  Result<std::string> Dispatch(const WireRequest& request) {
    const auto& handlers = Handlers();
    auto it = handlers.find(request.operation);
    if (it == handlers.end()) {
      return Status::NotSupported(
          fmt::format("Unsupported operation: '{}' is not supported by Tablelake",
                      request.operation.substr(0, 100)));
    }
    const std::string* key_id = Find(request.headers, "x-ots-accesskeyid");
    bool admin = key_id != nullptr && options_.admin_keys.count(*key_id) > 0;
    return it->second(Context{*store_, options_, admin}, request.body);
  }

  // `key` signs the request: the secret (V2) or the V4 signing key.
  Status Authenticate(const WireRequest& r, const std::string* secret, const std::string* key) {
    for (const char* name : {"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid",
                             "x-ots-instancename", "x-ots-contentmd5"}) {
      if (Find(r.headers, name) == nullptr) {
        return Status::InvalidArgument(fmt::format("Missing header: {}", name));
      }
    }
    const std::string* v2 = Find(r.headers, "x-ots-signature");
    const std::string* v4 = Find(r.headers, "x-ots-signaturev4");
    if (v2 == nullptr && v4 == nullptr) {
      return Status::InvalidArgument("Missing header: x-ots-signature");
    }
    if (secret == nullptr) {
      return Status::PermissionDenied("The access key id does not exist.");
    }
    if (*Find(r.headers, "x-ots-instancename") != options_.instance) {
      return Status::PermissionDenied(fmt::format(
          "Instance '{}' does not exist.", Find(r.headers, "x-ots-instancename")->substr(0, 100)));
    }
    auto date = ParseOtsDate(*Find(r.headers, "x-ots-date"));
    if (!date) return Status::InvalidArgument("Invalid date format.");
    if (std::abs(*date - options_.clock->NowMillis()) > options_.max_date_skew_ms) {
      return Status::PermissionDenied("Mismatch between system time and x-ots-date.");
    }
    if (*Find(r.headers, "x-ots-contentmd5") != Base64Encode(Md5(r.body))) {
      return Status::PermissionDenied(
          "Mismatch between MD5 value of request body and x-ots-contentmd5.");
    }
    std::string to_sign = RequestStringToSign(r.operation, r.headers);
    bool valid;
    if (v4 != nullptr) {
      if (key == secret) {
        return Status::InvalidArgument("Missing header: x-ots-signdate or x-ots-signregion");
      }
      valid = SignaturesEqual(*v4, SignV4(*key, to_sign));
    } else {
      valid = SignaturesEqual(*v2, SignV2(*secret, to_sign));
    }
    if (!valid) return Status::PermissionDenied("Signature mismatch.");
    return Status::OK();
  }

  WireReply Reply(const std::string& operation, const Result<std::string>& body,
                  const std::string* key_id, const std::string* key) {
    WireReply reply;
    if (body.ok()) {
      reply.body = *body;
    } else {
      wire::Error error;
      error.set_code(body.status().OtsErrorCode());
      error.set_message(body.status().message());
      reply.body = error.SerializeAsString();
      reply.http_status = HttpStatusOf(body.status());
      reply.error_code = error.code();
    }
    reply.headers = {{"x-ots-contentmd5", Base64Encode(Md5(reply.body))},
                     {"x-ots-contenttype", "protocol buffer"},
                     {"x-ots-date", FormatOtsDate(options_.clock->NowMicros())},
                     {"x-ots-requestid", RequestId()}};
    if (key != nullptr) {
      reply.headers.push_back(
          {"authorization",
           fmt::format("OTS {}:{}", *key_id,
                       SignV2(*key, ResponseStringToSign(operation, reply.headers)))});
    }
    return reply;
  }

  std::string RequestId() {
    uint64_t n = ++requests_;
    uint64_t t = static_cast<uint64_t>(options_.clock->NowMicros());
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", static_cast<uint32_t>(t >> 32),
                       (t >> 16) & 0xffff, t & 0xffff, (n >> 48) & 0xffff, n & 0xffffffffffffULL);
  }

  TableStore* store_;
  WireServiceOptions options_;
  std::atomic<uint64_t> requests_{0};
};

WireService::WireService(TableStore* store, WireServiceOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
WireService::~WireService() = default;
WireReply WireService::Handle(const WireRequest& request) { return impl_->Handle(request); }

const std::vector<std::string>& WireService::Operations() {
  static const auto* ops = [] {
    auto* v = new std::vector<std::string>();
    for (const auto& [name, handler] : Handlers()) v->push_back(name);
    std::sort(v->begin(), v->end());
    return v;
  }();
  return *ops;
}

}  // namespace tablelake::server
