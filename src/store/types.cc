#include "tablelake/types.h"

#include <cmath>
#include <cstring>

#include "fmt/format.h"
#include "tablelake/table_store.h"

namespace tablelake {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kInteger:
      return "INTEGER";
    case ValueType::kDouble:
      return "DOUBLE";
    case ValueType::kBoolean:
      return "BOOLEAN";
    case ValueType::kString:
      return "STRING";
    case ValueType::kBinary:
      return "BINARY";
    case ValueType::kInfMin:
      return "INF_MIN";
    case ValueType::kInfMax:
      return "INF_MAX";
    case ValueType::kAutoIncrement:
      return "AUTO_INCREMENT";
  }
  return "UNKNOWN";
}

const char* PrimaryKeyTypeName(PrimaryKeyType type) {
  switch (type) {
    case PrimaryKeyType::kInteger:
      return "INTEGER";
    case PrimaryKeyType::kString:
      return "STRING";
    case PrimaryKeyType::kBinary:
      return "BINARY";
  }
  return "UNKNOWN";
}

const char* ColumnUpdateOpName(ColumnUpdate::Op op) {
  switch (op) {
    case ColumnUpdate::Op::kPut:
      return "PUT";
    case ColumnUpdate::Op::kDeleteOneVersion:
      return "DELETE_ONE_VERSION";
    case ColumnUpdate::Op::kDeleteAllVersions:
      return "DELETE_ALL_VERSIONS";
    case ColumnUpdate::Op::kIncrement:
      return "INCREMENT";
  }
  return "UNKNOWN";
}

const char* ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kPut:
      return "PUT";
    case ChangeOp::kUpdate:
      return "UPDATE";
    case ChangeOp::kDelete:
      return "DELETE";
  }
  return "UNKNOWN";
}

Value ValueView::ToValue() const {
  Value v;
  v.type_ = type_;
  v.int_ = int_;
  v.bytes_.assign(bytes_);
  return v;
}

Value Value::Integer(int64_t v) {
  Value r;
  r.type_ = ValueType::kInteger;
  r.int_ = v;
  return r;
}
Value Value::Double(double v) {
  Value r;
  r.type_ = ValueType::kDouble;
  r.SetDouble(v);
  return r;
}
Value Value::Boolean(bool v) {
  Value r;
  r.type_ = ValueType::kBoolean;
  r.int_ = v ? 1 : 0;
  return r;
}
Value Value::String(std::string v) {
  Value r;
  r.type_ = ValueType::kString;
  r.bytes_ = std::move(v);
  return r;
}
Value Value::Binary(std::string v) {
  Value r;
  r.type_ = ValueType::kBinary;
  r.bytes_ = std::move(v);
  return r;
}
Value Value::InfMin() {
  Value r;
  r.type_ = ValueType::kInfMin;
  return r;
}
Value Value::InfMax() {
  Value r;
  r.type_ = ValueType::kInfMax;
  return r;
}
Value Value::AutoIncrement() {
  Value r;
  r.type_ = ValueType::kAutoIncrement;
  return r;
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case ValueType::kInteger:
    case ValueType::kBoolean:
      return int_ == other.int_;
    case ValueType::kDouble:
      return int_ == other.int_;  // bitwise, so NaN == NaN
    case ValueType::kString:
    case ValueType::kBinary:
      return bytes_ == other.bytes_;
    default:
      return true;
  }
}

std::string Value::DebugString() const {
  switch (type_) {
    case ValueType::kInteger:
      return fmt::format("INTEGER {}", int_);
    case ValueType::kDouble:
      return fmt::format("DOUBLE {}", dbl());
    case ValueType::kBoolean:
      return int_ ? "BOOLEAN true" : "BOOLEAN false";
    case ValueType::kString: {
      std::string s = bytes_.size() > 64 ? bytes_.substr(0, 64) + "..." : bytes_;
      return fmt::format("STRING \"{}\"", s);
    }
    case ValueType::kBinary:
      return fmt::format("BINARY ({} bytes)", bytes_.size());
    default:
      return ValueTypeName(type_);
  }
}

int ComparePrimaryKeyValues(const Value& a, const Value& b) {
  auto rank = [](const Value& v) {
    return v.type() == ValueType::kInfMin ? 0 : v.type() == ValueType::kInfMax ? 2 : 1;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (rank(a) != 1) return 0;
  if (a.type() == ValueType::kInteger) {
    return a.integer() < b.integer() ? -1 : a.integer() > b.integer() ? 1 : 0;
  }
  int c = a.bytes().compare(b.bytes());
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

const Cell* Row::Latest(const std::string& column) const {
  // Cells are ordered by name, newest first: the first match is the newest.
  for (const Cell& c : cells) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

Filter Filter::Compare(std::string column, Comparator cmp, Value value, bool pass_if_missing) {
  Filter f;
  f.kind = Kind::kSingleColumn;
  f.column = std::move(column);
  f.comparator = cmp;
  f.value = std::move(value);
  f.pass_if_missing = pass_if_missing;
  return f;
}

Filter Filter::Combine(LogicalOp op, std::vector<Filter> children) {
  Filter f;
  f.kind = Kind::kComposite;
  f.logical_op = op;
  f.children = std::move(children);
  return f;
}

}  // namespace tablelake
