// Tablestore's data model: typed values, primary keys, versioned cells, rows and table meta.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tablelake {

// Value types. kInfMin/kInfMax only appear in range bounds; kAutoIncrement is the placeholder a
// writer puts in an AUTO_INCREMENT primary-key column.
enum class ValueType : uint8_t {
  kInteger,
  kDouble,
  kBoolean,
  kString,
  kBinary,
  kInfMin,
  kInfMax,
  kAutoIncrement,
};

const char* ValueTypeName(ValueType type);

class Value;

// A plain value (INTEGER, DOUBLE, BOOLEAN, STRING or BINARY) that refers to bytes it does not
// hold, such as a parser's buffer: what a bulk load encodes without copying each value first.
class ValueView {
 public:
  ValueView() = default;  // INTEGER 0
  static ValueView Integer(int64_t v) { return {ValueType::kInteger, v, {}}; }
  static ValueView Double(double v) {
    int64_t bits;
    std::memcpy(&bits, &v, sizeof v);
    return {ValueType::kDouble, bits, {}};
  }
  static ValueView Boolean(bool v) { return {ValueType::kBoolean, v ? 1 : 0, {}}; }
  static ValueView String(std::string_view v) { return {ValueType::kString, 0, v}; }
  static ValueView Binary(std::string_view v) { return {ValueType::kBinary, 0, v}; }

  ValueType type() const { return type_; }
  int64_t integer() const { return int_; }
  double dbl() const {
    double d;
    std::memcpy(&d, &int_, sizeof d);
    return d;
  }
  bool boolean() const { return int_ != 0; }
  std::string_view bytes() const { return bytes_; }
  Value ToValue() const;

 private:
  friend class Value;
  ValueView(ValueType type, int64_t i, std::string_view bytes)
      : type_(type), int_(i), bytes_(bytes) {}
  ValueType type_ = ValueType::kInteger;
  int64_t int_ = 0;
  std::string_view bytes_;
};

class Value {
 public:
  Value() = default;  // INTEGER 0
  static Value Integer(int64_t v);
  static Value Double(double v);
  static Value Boolean(bool v);
  static Value String(std::string v);
  static Value Binary(std::string v);
  static Value InfMin();
  static Value InfMax();
  static Value AutoIncrement();

  // In-place setters: reuse the value's buffer, for decoders that fill one Value many times.
  void SetInteger(int64_t v) {
    type_ = ValueType::kInteger;
    int_ = v;
  }
  void SetDouble(double v) {
    type_ = ValueType::kDouble;
    std::memcpy(&int_, &v, sizeof v);
  }
  void SetBoolean(bool v) {
    type_ = ValueType::kBoolean;
    int_ = v ? 1 : 0;
  }
  // `type` is kString or kBinary.
  void SetBytes(ValueType type, std::string_view bytes) {
    type_ = type;
    bytes_.assign(bytes);
  }

  ValueType type() const { return type_; }
  int64_t integer() const { return int_; }
  double dbl() const { return view().dbl(); }
  bool boolean() const { return int_ != 0; }
  // Bytes of a STRING (UTF-8) or BINARY value.
  const std::string& bytes() const { return bytes_; }

  // Valid while this value lives unchanged.
  ValueView view() const { return {type_, int_, bytes_}; }

  // Exact equality: same type and same value (doubles compared bitwise, so NaN == NaN).
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

  // Human-readable rendering for error messages, e.g. `STRING "abc"`, `INTEGER 5`.
  std::string DebugString() const;

 private:
  friend class ValueView;
  ValueType type_ = ValueType::kInteger;
  // INTEGER and BOOLEAN values, or a DOUBLE's bits: one word, as rows hold many values.
  int64_t int_ = 0;
  std::string bytes_;
};

// A column's name and value as views (see ValueView).
struct ColumnView {
  std::string_view name;
  ValueView value;
};

// Orders values of the same primary-key type as Tablestore does: INTEGER by signed value,
// STRING and BINARY bytewise; INF_MIN below and INF_MAX above everything. Returns <0, 0, >0.
int ComparePrimaryKeyValues(const Value& a, const Value& b);

struct PrimaryKeyColumn {
  std::string name;
  Value value;
  bool operator==(const PrimaryKeyColumn& o) const { return name == o.name && value == o.value; }
};
using PrimaryKey = std::vector<PrimaryKeyColumn>;

// Marks a cell without a caller-given version: the store assigns the commit time.
constexpr int64_t kNoTimestamp = -1;

// One version of one attribute column. `timestamp` is the version in milliseconds since epoch.
struct Cell {
  std::string name;
  Value value;
  int64_t timestamp = kNoTimestamp;
  bool operator==(const Cell& o) const {
    return name == o.name && value == o.value && timestamp == o.timestamp;
  }
};

// A Cell as views into the bytes it was decoded from (a scan's row, valid while they are).
struct CellView {
  std::string_view name;
  ValueView value;
  int64_t timestamp = kNoTimestamp;
};

// A row as read: primary key plus cells, ordered by column name, newest version first.
struct Row {
  PrimaryKey primary_key;
  std::vector<Cell> cells;

  // The newest version of `column`, or nullptr.
  const Cell* Latest(const std::string& column) const;
  bool operator==(const Row& o) const { return primary_key == o.primary_key && cells == o.cells; }
};

// One change of an UpdateRow.
struct ColumnUpdate {
  enum class Op : uint8_t {
    kPut = 0,
    kDeleteOneVersion = 1,
    kDeleteAllVersions = 2,
    kIncrement = 3
  };
  Op op = Op::kPut;
  std::string name;
  Value value;                       // kPut: the value; kIncrement: the INTEGER delta
  int64_t timestamp = kNoTimestamp;  // kPut: optional version; kDeleteOneVersion: required
};
const char* ColumnUpdateOpName(ColumnUpdate::Op op);

// ---- table meta ----

enum class PrimaryKeyType : uint8_t { kInteger = 1, kString = 2, kBinary = 3 };
const char* PrimaryKeyTypeName(PrimaryKeyType type);

struct PrimaryKeySchema {
  std::string name;
  PrimaryKeyType type = PrimaryKeyType::kInteger;
  bool auto_increment = false;  // only on a non-first INTEGER column, at most one per table
};

enum class DefinedColumnType : uint8_t {
  kInteger = 1,
  kDouble = 2,
  kBoolean = 3,
  kString = 4,
  kBlob = 7
};

struct DefinedColumnSchema {
  std::string name;
  DefinedColumnType type = DefinedColumnType::kString;
};

struct TableOptions {
  int32_t time_to_live = -1;                      // seconds; -1 keeps data for ever. Default: -1
  int32_t max_versions = 1;                       // versions kept per column (>0). Default: 1
  int64_t deviation_cell_version_in_sec = 86400;  // max skew of a given version from now (>0).
                                                  // Default: 86400
  bool allow_update = true;                       // UpdateRow allowed. Default: true
};

struct StreamSpecification {
  bool enabled = false;           // Default: false
  int32_t expiration_hours = 24;  // record retention, 1..168. Default: 24
};

struct TableMeta {
  std::string name;
  std::vector<PrimaryKeySchema> primary_key;         // 1..4 columns, the first is the partition key
  std::vector<DefinedColumnSchema> defined_columns;  // informational, cells stay schema-free
};

struct TableDescription {
  TableMeta meta;
  TableOptions options;
  StreamSpecification stream;
  // Consumers (delivery tasks) holding the change log, each from the sequence it still needs.
  std::map<std::string, uint64_t> change_log_holds;
  std::string stream_id;  // "<table>_<enable time µs>"; empty when the stream was never enabled
  int64_t creation_time_us = 0;
  // Unique within the store and never reused: a table dropped and created again under the same
  // name has another id, so what is bound to a table (a delivery task) can tell them apart.
  uint32_t table_id = 0;
  int64_t stream_enable_time_us = 0;
};

// ---- conditions and filters ----

enum class RowExistence : uint8_t { kIgnore = 0, kExpectExist = 1, kExpectNotExist = 2 };

enum class Comparator : uint8_t {
  kEqual = 1,
  kNotEqual = 2,
  kGreaterThan = 3,
  kGreaterEqual = 4,
  kLessThan = 5,
  kLessEqual = 6
};
enum class LogicalOp : uint8_t { kNot = 1, kAnd = 2, kOr = 3 };

// A column filter (Tablestore's Filter): a single-column comparison, a NOT/AND/OR of filters,
// or (reads only) a column pagination.
struct Filter {
  enum class Kind : uint8_t { kSingleColumn = 1, kComposite = 2, kColumnPagination = 3 };
  Kind kind = Kind::kSingleColumn;
  // kSingleColumn
  Comparator comparator = Comparator::kEqual;
  std::string column;
  Value value;
  bool pass_if_missing = true;      // Tablestore's !filter_if_missing. Default: true
  bool latest_version_only = true;  // Default: true
  // kComposite
  LogicalOp logical_op = LogicalOp::kAnd;
  std::vector<Filter> children;
  // kColumnPagination
  int32_t offset = 0;
  int32_t limit = 0;

  static Filter Compare(std::string column, Comparator cmp, Value value,
                        bool pass_if_missing = true);
  static Filter Combine(LogicalOp op, std::vector<Filter> children);
};

struct Condition {
  RowExistence row_existence = RowExistence::kIgnore;
  std::optional<Filter> column_condition;
};

enum class ReturnType : uint8_t { kNone = 0, kPrimaryKey = 1, kAfterModify = 2 };

struct TimeRange {
  int64_t start_ms = 0;        // inclusive
  int64_t end_ms = INT64_MAX;  // exclusive
  static TimeRange Specific(int64_t ts) { return {ts, ts + 1}; }
};

}  // namespace tablelake
