#include "server/wire_convert.h"

#include "fmt/format.h"
#include "proto/tablestore_filter.pb.h"
#include "server/plain_buffer.h"

namespace tablelake::server {
namespace {

constexpr int kMaxFilterDepth = 32;  // a nested filter deeper than this is refused

Result<Filter> FilterFromWire(const wire::Filter& f, int depth);

Result<Filter> SingleFromWire(const std::string& bytes) {
  wire::SingleColumnValueFilter s;
  if (!s.ParseFromString(bytes)) {
    return Status::InvalidArgument("filter: a malformed SingleColumnValueFilter");
  }
  if (s.comparator() < wire::CT_EQUAL || s.comparator() > wire::CT_LESS_EQUAL) {
    return Status::InvalidArgument(fmt::format("filter: unknown comparator {}", s.comparator()));
  }
  if (s.has_value_trans_rule()) {
    return Status::NotSupported("filter: value transfer rules (regex) are not supported");
  }
  auto value = DecodeVariant(s.column_value());
  if (!value.ok()) return value.status().WithContext("filter on '" + s.column_name() + "'");
  Filter out = Filter::Compare(s.column_name(), static_cast<Comparator>(s.comparator()),
                               std::move(*value), !s.filter_if_missing());
  out.latest_version_only = s.latest_version_only();
  return out;
}

Result<Filter> FilterFromWire(const wire::Filter& f, int depth) {
  if (depth > kMaxFilterDepth) {
    return Status::InvalidArgument(
        fmt::format("filter: nested deeper than {} levels", kMaxFilterDepth));
  }
  switch (f.type()) {
    case wire::FT_SINGLE_COLUMN_VALUE:
      return SingleFromWire(f.filter());
    case wire::FT_COMPOSITE_COLUMN_VALUE: {
      wire::CompositeColumnValueFilter c;
      if (!c.ParseFromString(f.filter())) {
        return Status::InvalidArgument("filter: a malformed CompositeColumnValueFilter");
      }
      if (c.combinator() < wire::LO_NOT || c.combinator() > wire::LO_OR) {
        return Status::InvalidArgument(
            fmt::format("filter: unknown logical operator {}", c.combinator()));
      }
      std::vector<Filter> children;
      for (const auto& sub : c.sub_filters()) {
        TL_ASSIGN_OR_RETURN(Filter child, FilterFromWire(sub, depth + 1));
        children.push_back(std::move(child));
      }
      return Filter::Combine(static_cast<LogicalOp>(c.combinator()), std::move(children));
    }
    case wire::FT_COLUMN_PAGINATION: {
      wire::ColumnPaginationFilter p;
      if (!p.ParseFromString(f.filter())) {
        return Status::InvalidArgument("filter: a malformed ColumnPaginationFilter");
      }
      Filter out;
      out.kind = Filter::Kind::kColumnPagination;
      out.offset = p.offset();
      out.limit = p.limit();
      return out;
    }
  }
  return Status::InvalidArgument(fmt::format("filter: unknown filter type {}", f.type()));
}

// A request row without operations, timestamps on its key, or a delete marker.
Result<WireRow> RowFromWire(const std::string& buffer, const char* what) {
  auto row = DecodeRow(buffer);
  if (!row.ok()) return row.status().WithContext(what);
  if (row->primary_key.empty()) {
    return Status::InvalidArgument(fmt::format("{}: the row has no primary key", what));
  }
  return row;
}

}  // namespace

Result<TableMeta> FromWire(const wire::TableMeta& meta) {
  TableMeta out;
  out.name = meta.table_name();
  for (const auto& k : meta.primary_key()) {
    PrimaryKeySchema s;
    s.name = k.name();
    s.type = static_cast<PrimaryKeyType>(k.type());
    s.auto_increment = k.has_option() && k.option() == wire::AUTO_INCREMENT;
    out.primary_key.push_back(std::move(s));
  }
  for (const auto& c : meta.defined_column()) {
    out.defined_columns.push_back({c.name(), static_cast<DefinedColumnType>(c.type())});
  }
  if (meta.index_meta_size() > 0) {
    return Status::NotSupported("secondary indexes (index_meta) are not supported");
  }
  return out;
}

void ToWire(const TableMeta& meta, wire::TableMeta* out) {
  out->set_table_name(meta.name);
  for (const auto& k : meta.primary_key) {
    auto* s = out->add_primary_key();
    s->set_name(k.name);
    s->set_type(static_cast<wire::PrimaryKeyType>(k.type));
    if (k.auto_increment) s->set_option(wire::AUTO_INCREMENT);
  }
  for (const auto& c : meta.defined_columns) {
    auto* s = out->add_defined_column();
    s->set_name(c.name);
    s->set_type(static_cast<wire::DefinedColumnType>(c.type));
  }
}

TableOptions FromWire(const wire::TableOptions& options, TableOptions base) {
  if (options.has_time_to_live()) base.time_to_live = options.time_to_live();
  if (options.has_max_versions()) base.max_versions = options.max_versions();
  if (options.has_deviation_cell_version_in_sec()) {
    base.deviation_cell_version_in_sec = options.deviation_cell_version_in_sec();
  }
  if (options.has_allow_update()) base.allow_update = options.allow_update();
  return base;
}

void ToWire(const TableOptions& options, wire::TableOptions* out) {
  out->set_time_to_live(options.time_to_live);
  out->set_max_versions(options.max_versions);
  out->set_deviation_cell_version_in_sec(options.deviation_cell_version_in_sec);
  out->set_allow_update(options.allow_update);
}

StreamSpecification FromWire(const wire::StreamSpecification& stream) {
  StreamSpecification out;
  out.enabled = stream.enable_stream();
  if (stream.has_expiration_time()) out.expiration_hours = stream.expiration_time();
  return out;
}

void ToWire(const TableDescription& table, wire::StreamDetails* out) {
  out->set_enable_stream(table.stream.enabled);
  if (!table.stream.enabled) return;
  out->set_stream_id(table.stream_id);
  out->set_expiration_time(table.stream.expiration_hours);
  out->set_last_enable_time(table.stream_enable_time_us);
}

Result<Filter> FilterFromWire(const std::string& bytes) {
  wire::Filter f;
  if (!f.ParseFromString(bytes)) return Status::InvalidArgument("filter: a malformed Filter");
  return FilterFromWire(f, 0);
}

Result<Condition> FromWire(const wire::Condition& condition) {
  Condition out;
  if (condition.row_existence() < wire::IGNORE ||
      condition.row_existence() > wire::EXPECT_NOT_EXIST) {
    return Status::InvalidArgument(
        fmt::format("condition: unknown row existence {}", condition.row_existence()));
  }
  out.row_existence = static_cast<RowExistence>(condition.row_existence());
  if (condition.has_column_condition()) {
    TL_ASSIGN_OR_RETURN(Filter f, FilterFromWire(condition.column_condition()));
    out.column_condition = std::move(f);
  }
  return out;
}

ReturnType FromWire(const wire::ReturnContent& content) {
  return static_cast<ReturnType>(content.return_type());
}

Result<std::optional<TimeRange>> FromWire(const wire::TimeRange& range) {
  if (range.has_specific_time()) {
    return std::optional<TimeRange>(TimeRange::Specific(range.specific_time()));
  }
  if (!range.has_start_time() && !range.has_end_time()) return std::optional<TimeRange>();
  TimeRange out;
  if (range.has_start_time()) out.start_ms = range.start_time();
  if (range.has_end_time()) out.end_ms = range.end_time();
  if (out.start_ms < 0 || out.end_ms <= out.start_ms) {
    return Status::InvalidArgument(
        fmt::format("time_range [{}, {}) is empty or negative", out.start_ms, out.end_ms));
  }
  return std::optional<TimeRange>(out);
}

Result<PrimaryKey> KeyFromWire(const std::string& buffer, const char* what) {
  TL_ASSIGN_OR_RETURN(WireRow row, RowFromWire(buffer, what));
  if (!row.cells.empty()) {
    return Status::InvalidArgument(fmt::format("{}: holds attribute columns", what));
  }
  return std::move(row.primary_key);
}

Result<PutRowRequest> PutFromWire(const std::string& table, const std::string& buffer) {
  TL_ASSIGN_OR_RETURN(WireRow row, RowFromWire(buffer, "row"));
  if (row.delete_marker) return Status::InvalidArgument("row: a PutRow row has a delete marker");
  PutRowRequest out;
  out.table = table;
  out.primary_key = std::move(row.primary_key);
  for (auto& c : row.cells) {
    if (c.op != CellOp::kNone || !c.value) {
      return Status::InvalidArgument(
          fmt::format("row: column '{}' of a PutRow has no value or an operation", c.name));
    }
    out.cells.push_back({std::move(c.name), std::move(*c.value), c.timestamp});
  }
  return out;
}

Result<UpdateRowRequest> UpdateFromWire(const std::string& table, const std::string& buffer) {
  TL_ASSIGN_OR_RETURN(WireRow row, RowFromWire(buffer, "row_change"));
  if (row.delete_marker) {
    return Status::InvalidArgument("row_change: an UpdateRow row has a delete marker");
  }
  UpdateRowRequest out;
  out.table = table;
  out.primary_key = std::move(row.primary_key);
  for (auto& c : row.cells) {
    ColumnUpdate u;
    u.name = std::move(c.name);
    u.timestamp = c.timestamp;
    switch (c.op) {
      case CellOp::kNone:
        u.op = ColumnUpdate::Op::kPut;
        break;
      case CellOp::kDeleteOneVersion:
        u.op = ColumnUpdate::Op::kDeleteOneVersion;
        break;
      case CellOp::kDeleteAllVersions:
        u.op = ColumnUpdate::Op::kDeleteAllVersions;
        break;
      case CellOp::kIncrement:
        u.op = ColumnUpdate::Op::kIncrement;
        break;
    }
    bool wants_value = u.op == ColumnUpdate::Op::kPut || u.op == ColumnUpdate::Op::kIncrement;
    if (wants_value != c.value.has_value()) {
      return Status::InvalidArgument(fmt::format("row_change: column '{}': a {} {} a value", u.name,
                                                 ColumnUpdateOpName(u.op),
                                                 wants_value ? "needs" : "takes no"));
    }
    if (c.value) u.value = std::move(*c.value);
    out.updates.push_back(std::move(u));
  }
  return out;
}

Result<DeleteRowRequest> DeleteFromWire(const std::string& table, const std::string& buffer) {
  TL_ASSIGN_OR_RETURN(WireRow row, RowFromWire(buffer, "primary_key"));
  if (!row.cells.empty()) {
    return Status::InvalidArgument("primary_key: a DeleteRow row holds attribute columns");
  }
  DeleteRowRequest out;
  out.table = table;
  out.primary_key = std::move(row.primary_key);
  return out;
}

std::string WriteResultRow(const WriteResult& result) {
  if (result.row) return EncodeRow(result.row->primary_key, result.row->cells);
  return result.primary_key ? EncodePrimaryKey(*result.primary_key) : std::string();
}

void SetConsumed(int read, int write, wire::ConsumedCapacity* out) {
  out->mutable_capacity_unit()->set_read(read);
  out->mutable_capacity_unit()->set_write(write);
}

}  // namespace tablelake::server
