#include "client/wire_requests.h"

#include "proto/tablestore_filter.pb.h"

namespace tablelake::remote {
namespace {

std::string CompareToWire(const Filter& f) {
  wire::SingleColumnValueFilter s;
  s.set_comparator(static_cast<wire::ComparatorType>(f.comparator));
  s.set_column_name(f.column);
  s.set_column_value(server::EncodeVariant(f.value));
  s.set_filter_if_missing(!f.pass_if_missing);
  s.set_latest_version_only(f.latest_version_only);
  return s.SerializeAsString();
}

std::string CompositeToWire(const Filter& f) {
  wire::CompositeColumnValueFilter c;
  c.set_combinator(static_cast<wire::LogicalOperator>(f.logical_op));
  for (const auto& child : f.children) c.add_sub_filters()->ParseFromString(FilterToWire(child));
  return c.SerializeAsString();
}

std::string PaginationToWire(const Filter& f) {
  wire::ColumnPaginationFilter p;
  p.set_offset(f.offset);
  p.set_limit(f.limit);
  return p.SerializeAsString();
}

void ToWire(ReturnType type, wire::ReturnContent* out) {
  out->set_return_type(static_cast<wire::ReturnType>(type));
}

void ToWire(const std::optional<TimeRange>& range, wire::TimeRange* out) {
  if (range->end_ms == range->start_ms + 1) {
    out->set_specific_time(range->start_ms);
    return;
  }
  out->set_start_time(range->start_ms);
  out->set_end_time(range->end_ms);
}

// Columns, versions, time range and filter: what GetRow and GetRange share. The wire wants
// max_versions or a time range; the store's 0 means one version when there is no range.
template <typename Request, typename Wire>
void ReadOptionsToWire(const Request& r, Wire* out) {
  for (const auto& c : r.columns_to_get) out->add_columns_to_get(c);
  if (r.time_range) ToWire(r.time_range, out->mutable_time_range());
  if (r.max_versions > 0 || !r.time_range) out->set_max_versions(std::max(1, r.max_versions));
  if (r.filter) out->set_filter(FilterToWire(*r.filter));
}

std::string UpdateRowChange(const UpdateRowRequest& r) {
  server::WireRow row;
  row.primary_key = r.primary_key;
  for (const auto& u : r.updates) {
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
  std::string change;
  server::AppendHeader(&change);
  server::AppendWireRow(&change, row);
  return change;
}

std::string DeleteRowChange(const DeleteRowRequest& r) {
  std::string key;
  server::AppendHeader(&key);
  server::AppendWireRow(&key, server::WireRow{r.primary_key, {}, /*delete_marker=*/true});
  return key;
}

}  // namespace

std::string FilterToWire(const Filter& f) {
  wire::Filter out;
  out.set_type(static_cast<wire::FilterType>(f.kind));
  switch (f.kind) {
    case Filter::Kind::kSingleColumn:
      out.set_filter(CompareToWire(f));
      break;
    case Filter::Kind::kComposite:
      out.set_filter(CompositeToWire(f));
      break;
    case Filter::Kind::kColumnPagination:
      out.set_filter(PaginationToWire(f));
      break;
  }
  return out.SerializeAsString();
}

void ToWire(const Condition& c, wire::Condition* out) {
  out->set_row_existence(static_cast<wire::RowExistenceExpectation>(c.row_existence));
  if (c.column_condition) out->set_column_condition(FilterToWire(*c.column_condition));
}

void ToWire(const PutRowRequest& r, wire::PutRowRequest* out) {
  out->set_table_name(r.table);
  out->set_row(server::EncodeRow(r.primary_key, r.cells));
  ToWire(r.condition, out->mutable_condition());
  if (r.return_type != ReturnType::kNone) ToWire(r.return_type, out->mutable_return_content());
}

void ToWire(const UpdateRowRequest& r, wire::UpdateRowRequest* out) {
  out->set_table_name(r.table);
  out->set_row_change(UpdateRowChange(r));
  ToWire(r.condition, out->mutable_condition());
  if (r.return_type != ReturnType::kNone) ToWire(r.return_type, out->mutable_return_content());
}

void ToWire(const DeleteRowRequest& r, wire::DeleteRowRequest* out) {
  out->set_table_name(r.table);
  out->set_primary_key(DeleteRowChange(r));
  ToWire(r.condition, out->mutable_condition());
  if (r.return_type != ReturnType::kNone) ToWire(r.return_type, out->mutable_return_content());
}

void ToWire(const BatchWriteItem& item, wire::RowInBatchWriteRowRequest* out) {
  out->set_type(static_cast<wire::OperationType>(item.type));
  const Condition* condition = &item.put.condition;
  ReturnType return_type = item.put.return_type;
  if (item.type == BatchWriteItem::Type::kPut) {
    out->set_row_change(server::EncodeRow(item.put.primary_key, item.put.cells));
  } else if (item.type == BatchWriteItem::Type::kUpdate) {
    out->set_row_change(UpdateRowChange(item.update));
    condition = &item.update.condition;
    return_type = item.update.return_type;
  } else {
    out->set_row_change(DeleteRowChange(item.del));
    condition = &item.del.condition;
    return_type = item.del.return_type;
  }
  ToWire(*condition, out->mutable_condition());
  if (return_type != ReturnType::kNone) ToWire(return_type, out->mutable_return_content());
}

void ToWire(const GetRowRequest& r, wire::GetRowRequest* out) {
  out->set_table_name(r.table);
  out->set_primary_key(server::EncodePrimaryKey(r.primary_key));
  ReadOptionsToWire(r, out);
}

void ToWire(const GetRowRequest& r, wire::TableInBatchGetRowRequest* out) {
  out->set_table_name(r.table);
  out->add_primary_key(server::EncodePrimaryKey(r.primary_key));
  ReadOptionsToWire(r, out);
}

void ToWire(const GetRangeRequest& r, wire::GetRangeRequest* out) {
  out->set_table_name(r.table);
  out->set_direction(r.direction == Direction::kBackward ? wire::BACKWARD : wire::FORWARD);
  out->set_inclusive_start_primary_key(server::EncodePrimaryKey(r.inclusive_start));
  out->set_exclusive_end_primary_key(server::EncodePrimaryKey(r.exclusive_end));
  if (r.limit > 0) out->set_limit(r.limit);
  ReadOptionsToWire(r, out);
}

Row RowOf(server::WireRow row) {
  Row out{std::move(row.primary_key), {}};
  for (auto& c : row.cells) {
    if (c.value) out.cells.push_back({std::move(c.name), std::move(*c.value), c.timestamp});
  }
  return out;
}

Result<WriteResult> WriteResultFromWire(const std::string& bytes) {
  WriteResult out;
  if (bytes.empty()) return out;
  TL_ASSIGN_OR_RETURN(server::WireRow row, server::DecodeRow(bytes));
  out.primary_key = row.primary_key;
  if (!row.cells.empty()) out.row = RowOf(std::move(row));
  return out;
}

Result<std::optional<Row>> RowFromWire(const std::string& bytes) {
  if (bytes.empty()) return std::optional<Row>();
  TL_ASSIGN_OR_RETURN(server::WireRow row, server::DecodeRow(bytes));
  return std::optional<Row>(RowOf(std::move(row)));
}

Result<GetRangeResult> FromWire(const wire::GetRangeResponse& reply) {
  GetRangeResult out;
  if (!reply.rows().empty()) {
    TL_ASSIGN_OR_RETURN(auto rows, server::DecodeRows(reply.rows()));
    for (auto& row : rows) out.rows.push_back(RowOf(std::move(row)));
  }
  if (reply.has_next_start_primary_key() && !reply.next_start_primary_key().empty()) {
    TL_ASSIGN_OR_RETURN(auto next, server::DecodeRow(reply.next_start_primary_key()));
    out.next_start_primary_key = std::move(next.primary_key);
  }
  return out;
}

// A stream record as the store gives it. The record's sequence info holds the store's
// sequence (its epoch the high half) and the commit time; the row after the write is not sent.
Result<ChangeRecord> ChangeFromWire(const std::string& table, const wire::StreamRecord& rec) {
  TL_ASSIGN_OR_RETURN(server::WireRow row, server::DecodeRow(rec.record()));
  ChangeRecord out;
  out.table = table;
  out.op = static_cast<ChangeOp>(rec.action_type());
  if (row.sequence) {
    out.sequence = (uint64_t{row.sequence->epoch} << 32) | row.sequence->row_index;
    out.commit_time_us = row.sequence->timestamp;
  }
  out.primary_key = std::move(row.primary_key);
  for (auto& c : row.cells) {
    ColumnUpdate u;
    u.name = std::move(c.name);
    u.timestamp = c.timestamp;
    if (c.value) {
      u.value = std::move(*c.value);
    } else {
      u.op = c.op == server::CellOp::kDeleteOneVersion ? ColumnUpdate::Op::kDeleteOneVersion
                                                       : ColumnUpdate::Op::kDeleteAllVersions;
    }
    out.columns.push_back(std::move(u));
  }
  return out;
}

}  // namespace tablelake::remote
