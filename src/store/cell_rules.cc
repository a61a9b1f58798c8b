#include "store/cell_rules.h"

#include <algorithm>

#include "common/printable.h"
#include "common/utf8.h"
#include "fmt/format.h"
#include "store/row_codec.h"

namespace tablelake::store {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) return false;
  }
  return true;
}

Status ValidateName(const std::string& what, const std::string& name) {
  if (IsValidName(name)) return Status::OK();
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument(fmt::format("{} name '{}' must be 1 to {} bytes long", what,
                                               Printable(name), kMaxNameBytes));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) {
      return Status::InvalidArgument(fmt::format(
          "{} name '{}' is invalid: use letters, digits and '_', not starting with a digit", what,
          Printable(name)));
    }
  }
  return Status::OK();
}

Status ValidateTableMeta(const TableMeta& meta) {
  TL_RETURN_IF_ERROR(ValidateName("table", meta.name));
  const auto& pk = meta.primary_key;
  if (pk.empty() || pk.size() > 4) {
    return Status::InvalidArgument(
        fmt::format("table '{}': needs 1 to 4 primary key columns, got {}", meta.name, pk.size()));
  }
  int auto_increments = 0;
  for (size_t i = 0; i < pk.size(); ++i) {
    TL_RETURN_IF_ERROR(ValidateName("primary key column", pk[i].name)
                           .WithContext(fmt::format("table '{}'", meta.name)));
    for (size_t j = 0; j < i; ++j) {
      if (pk[j].name == pk[i].name) {
        return Status::InvalidArgument(
            fmt::format("table '{}': duplicated primary key name: '{}'", meta.name, pk[i].name));
      }
    }
    if (pk[i].auto_increment) {
      if (i == 0 || pk[i].type != PrimaryKeyType::kInteger) {
        return Status::InvalidArgument(fmt::format(
            "table '{}': AUTO_INCREMENT column '{}' must be an INTEGER column other than the "
            "partition key",
            meta.name, pk[i].name));
      }
      ++auto_increments;
    }
  }
  if (auto_increments > 1) {
    return Status::InvalidArgument(
        fmt::format("table '{}': at most one AUTO_INCREMENT column is allowed", meta.name));
  }
  for (const auto& dc : meta.defined_columns) {
    TL_RETURN_IF_ERROR(
        ValidateName("defined column", dc.name).WithContext(fmt::format("table '{}'", meta.name)));
  }
  return Status::OK();
}

Status ValidateTableOptions(const std::string& table, const TableOptions& o) {
  if (o.time_to_live != -1 && o.time_to_live < 86400) {
    return Status::InvalidArgument(
        fmt::format("table '{}': time_to_live must be -1 or at least 86400 seconds, got {}", table,
                    o.time_to_live));
  }
  if (o.max_versions < 1) {
    return Status::InvalidArgument(
        fmt::format("table '{}': max_versions must be positive, got {}", table, o.max_versions));
  }
  if (o.deviation_cell_version_in_sec < 1) {
    return Status::InvalidArgument(
        fmt::format("table '{}': deviation_cell_version_in_sec must be positive, got {}", table,
                    o.deviation_cell_version_in_sec));
  }
  return Status::OK();
}

Status ValidateStream(const std::string& table, const StreamSpecification& s) {
  if (s.enabled && (s.expiration_hours < 1 || s.expiration_hours > 168)) {
    return Status::InvalidArgument(fmt::format(
        "table '{}': stream expiration must be 1 to 168 hours, got {}", table, s.expiration_hours));
  }
  return Status::OK();
}

Status NotUtf8(const std::string& table, const std::string& column) {
  return Status::InvalidArgument(fmt::format(
      "table '{}': column '{}' is a STRING, but its value is not valid UTF-8 (BINARY holds any "
      "bytes)",
      table, column));
}

Status ValidateAttributeValue(const std::string& table, const std::string& column, const Value& v) {
  switch (v.type()) {
    case ValueType::kInteger:
    case ValueType::kDouble:
    case ValueType::kBoolean:
      return Status::OK();
    case ValueType::kString:
      if (!IsValidUtf8(v.bytes())) return NotUtf8(table, column);
      [[fallthrough]];
    case ValueType::kBinary:
      if (v.bytes().size() > kMaxAttributeValueBytes) {
        return Status::InvalidArgument(
            fmt::format("table '{}': column '{}' value is {} bytes, the limit is {}", table, column,
                        v.bytes().size(), kMaxAttributeValueBytes));
      }
      return Status::OK();
    default:
      return Status::InvalidArgument(fmt::format("table '{}': column '{}' cannot hold a {} value",
                                                 table, column, ValueTypeName(v.type())));
  }
}

Status ValidateCellTimestamp(const std::string& table, const std::string& column, int64_t ts_ms,
                             const TableOptions& options, int64_t now_ms) {
  int64_t deviation_ms = options.deviation_cell_version_in_sec * 1000;
  if (ts_ms < 0 || ts_ms < now_ms - deviation_ms || ts_ms > now_ms + deviation_ms) {
    return Status::InvalidArgument(
        fmt::format("table '{}': column '{}' version {} is more than {} s away from now ({})",
                    table, column, ts_ms, options.deviation_cell_version_in_sec, now_ms));
  }
  return Status::OK();
}

namespace {

// Removes the cells `keep(cell, kept_before)` rejects, where kept_before counts the cells kept
// so far in the same column. Decides for every cell before moving any, since a moved-from cell
// has no name left to compare. Rows of up to 64 cells need no allocation.
template <typename Keep>
bool FilterCells(std::vector<Cell>* cells, Keep&& keep) {
  size_t n = cells->size();
  uint8_t small[64];
  std::vector<uint8_t> large;
  uint8_t* flags = small;
  if (n > sizeof(small)) {
    large.resize(n);
    flags = large.data();
  }
  bool dropped = false;
  int32_t kept_in_column = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || (*cells)[i].name != (*cells)[i - 1].name) kept_in_column = 0;
    bool k = keep((*cells)[i], kept_in_column);
    flags[i] = k;
    kept_in_column += k;
    dropped |= !k;
  }
  if (!dropped) return false;
  size_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!flags[i]) continue;
    if (w != i) std::swap((*cells)[w], (*cells)[i]);
    ++w;
  }
  cells->resize(w);
  return true;
}

}  // namespace

bool ApplyRetention(const TableOptions& options, int64_t now_ms, std::vector<Cell>* cells) {
  int64_t oldest_live =
      options.time_to_live < 0 ? INT64_MIN : now_ms - int64_t{options.time_to_live} * 1000;
  return FilterCells(cells, [&](const Cell& c, int32_t kept) {
    return c.timestamp > oldest_live && kept < options.max_versions;
  });
}

void SelectForRead(const std::vector<std::string>& columns_to_get,
                   const std::optional<TimeRange>& time_range, int32_t max_versions,
                   std::vector<Cell>* cells) {
  int32_t limit = max_versions > 0 ? max_versions : (time_range ? INT32_MAX : 1);
  FilterCells(cells, [&](const Cell& c, int32_t kept) {
    if (!columns_to_get.empty() &&
        std::find(columns_to_get.begin(), columns_to_get.end(), c.name) == columns_to_get.end()) {
      return false;
    }
    if (time_range && (c.timestamp < time_range->start_ms || c.timestamp >= time_range->end_ms)) {
      return false;
    }
    return kept < limit;
  });
}

void KeepNewestLiveVersion(const TableOptions& options, int64_t now_ms, std::vector<Cell>* cells) {
  int64_t oldest_live =
      options.time_to_live < 0 ? INT64_MIN : now_ms - int64_t{options.time_to_live} * 1000;
  FilterCells(cells,
              [&](const Cell& c, int32_t kept) { return kept == 0 && c.timestamp > oldest_live; });
}

void KeepNewestVersion(std::vector<Cell>* cells) {
  FilterCells(cells, [](const Cell&, int32_t kept) { return kept == 0; });
}

namespace {

Status ApplyOne(const std::string& table, const ColumnUpdate& u, int64_t now_ms,
                std::vector<Cell>* cells, std::vector<ColumnUpdate>* resolved) {
  auto same_column = [&](const Cell& c) { return c.name == u.name; };
  switch (u.op) {
    case ColumnUpdate::Op::kPut: {
      int64_t ts = u.timestamp == kNoTimestamp ? now_ms : u.timestamp;
      std::erase_if(*cells, [&](const Cell& c) { return c.name == u.name && c.timestamp == ts; });
      cells->push_back({u.name, u.value, ts});
      resolved->push_back({u.op, u.name, u.value, ts});
      return Status::OK();
    }
    case ColumnUpdate::Op::kDeleteOneVersion:
      std::erase_if(*cells,
                    [&](const Cell& c) { return c.name == u.name && c.timestamp == u.timestamp; });
      resolved->push_back(u);
      return Status::OK();
    case ColumnUpdate::Op::kDeleteAllVersions:
      std::erase_if(*cells, same_column);
      resolved->push_back({u.op, u.name, Value(), kNoTimestamp});
      return Status::OK();
    case ColumnUpdate::Op::kIncrement: {
      const Cell* latest = nullptr;
      for (const Cell& c : *cells) {
        if (c.name == u.name && (latest == nullptr || c.timestamp > latest->timestamp)) latest = &c;
      }
      int64_t base = 0;
      if (latest != nullptr) {
        if (latest->value.type() != ValueType::kInteger) {
          return Status::InvalidArgument(
              fmt::format("table '{}': cannot increment column '{}': it holds {}", table, u.name,
                          latest->value.DebugString()));
        }
        base = latest->value.integer();
      }
      int64_t sum;
      if (__builtin_add_overflow(base, u.value.integer(), &sum)) {
        return Status::InvalidArgument(
            fmt::format("table '{}': increment of column '{}' overflows int64", table, u.name));
      }
      int64_t ts = std::max(now_ms, latest ? latest->timestamp + 1 : now_ms);
      cells->push_back({u.name, Value::Integer(sum), ts});
      resolved->push_back({ColumnUpdate::Op::kPut, u.name, Value::Integer(sum), ts});
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

Status ApplyUpdates(const std::string& table, const std::vector<ColumnUpdate>& updates,
                    int64_t now_ms, std::vector<Cell>* cells, std::vector<ColumnUpdate>* resolved) {
  for (const auto& u : updates) {
    TL_RETURN_IF_ERROR(ApplyOne(table, u, now_ms, cells, resolved));
  }
  SortCells(cells);
  return Status::OK();
}

std::vector<Cell> LatestImage(const std::vector<Cell>& cells) {
  std::vector<Cell> image = cells;
  KeepNewestVersion(&image);
  return image;
}

}  // namespace tablelake::store
