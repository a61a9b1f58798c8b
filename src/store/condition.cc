#include "store/condition.h"

#include "fmt/format.h"

namespace tablelake::store {
namespace {

// Values of different types never satisfy a comparison, as in Tablestore; NaN compares false.
bool Compare(const Value& cell, Comparator cmp, const Value& operand) {
  if (cell.type() != operand.type()) return false;
  int c;
  switch (cell.type()) {
    case ValueType::kInteger:
    case ValueType::kBoolean:
      c = cell.integer() < operand.integer() ? -1 : cell.integer() > operand.integer() ? 1 : 0;
      break;
    case ValueType::kDouble:
      if (cell.dbl() != cell.dbl() || operand.dbl() != operand.dbl()) {
        return cmp == Comparator::kNotEqual;
      }
      c = cell.dbl() < operand.dbl() ? -1 : cell.dbl() > operand.dbl() ? 1 : 0;
      break;
    default: {
      int r = cell.bytes().compare(operand.bytes());
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
    }
  }
  switch (cmp) {
    case Comparator::kEqual:
      return c == 0;
    case Comparator::kNotEqual:
      return c != 0;
    case Comparator::kGreaterThan:
      return c > 0;
    case Comparator::kGreaterEqual:
      return c >= 0;
    case Comparator::kLessThan:
      return c < 0;
    case Comparator::kLessEqual:
      return c <= 0;
  }
  return false;
}

bool SingleMatches(const Filter& f, const std::vector<Cell>& cells) {
  bool seen = false;
  for (const Cell& c : cells) {
    if (c.name != f.column) continue;
    if (f.latest_version_only) return Compare(c.value, f.comparator, f.value);
    seen = true;
    if (Compare(c.value, f.comparator, f.value)) return true;
  }
  return seen ? false : f.pass_if_missing;
}

}  // namespace

Status ValidateFilter(const Filter& f, bool allow_pagination) {
  switch (f.kind) {
    case Filter::Kind::kSingleColumn: {
      if (f.column.empty()) return Status::InvalidArgument("filter: column name is empty");
      ValueType t = f.value.type();
      if (t == ValueType::kInfMin || t == ValueType::kInfMax || t == ValueType::kAutoIncrement) {
        return Status::InvalidArgument(fmt::format("filter on column '{}': cannot compare with {}",
                                                   f.column, ValueTypeName(t)));
      }
      int cmp = static_cast<int>(f.comparator);
      if (cmp < 1 || cmp > 6) {
        return Status::InvalidArgument(
            fmt::format("filter on column '{}': unknown comparator {}", f.column, cmp));
      }
      return Status::OK();
    }
    case Filter::Kind::kComposite: {
      size_t n = f.children.size();
      if (f.logical_op == LogicalOp::kNot && n != 1) {
        return Status::InvalidArgument(fmt::format("filter: NOT takes 1 sub-filter, got {}", n));
      }
      if (f.logical_op != LogicalOp::kNot && n < 2) {
        return Status::InvalidArgument(
            fmt::format("filter: AND/OR take at least 2 sub-filters, got {}", n));
      }
      for (const auto& child : f.children)
        TL_RETURN_IF_ERROR(ValidateFilter(child, allow_pagination));
      return Status::OK();
    }
    case Filter::Kind::kColumnPagination:
      if (!allow_pagination) {
        return Status::InvalidArgument("column pagination is not allowed in a condition");
      }
      if (f.offset < 0 || f.limit < 0) {
        return Status::InvalidArgument("column pagination: offset and limit must be >= 0");
      }
      return Status::OK();
  }
  return Status::InvalidArgument("filter: unknown kind");
}

bool RowMatches(const Filter& f, const std::vector<Cell>& cells) {
  switch (f.kind) {
    case Filter::Kind::kSingleColumn:
      return SingleMatches(f, cells);
    case Filter::Kind::kColumnPagination:
      return true;
    case Filter::Kind::kComposite:
      switch (f.logical_op) {
        case LogicalOp::kNot:
          return !RowMatches(f.children[0], cells);
        case LogicalOp::kAnd:
          for (const auto& c : f.children) {
            if (!RowMatches(c, cells)) return false;
          }
          return true;
        case LogicalOp::kOr:
          for (const auto& c : f.children) {
            if (RowMatches(c, cells)) return true;
          }
          return false;
      }
  }
  return false;
}

void ApplyColumnPagination(const Filter& f, std::vector<Cell>* cells) {
  if (f.kind == Filter::Kind::kComposite) {
    for (const auto& c : f.children) ApplyColumnPagination(c, cells);
    return;
  }
  if (f.kind != Filter::Kind::kColumnPagination) return;
  // remove_if moves kept cells over earlier slots, so remember the column by value.
  int32_t column_index = -1;
  std::string column;
  std::erase_if(*cells, [&](const Cell& c) {
    if (column_index < 0 || column != c.name) {
      column = c.name;
      ++column_index;
    }
    return column_index < f.offset || column_index >= int64_t{f.offset} + f.limit;
  });
}

}  // namespace tablelake::store
