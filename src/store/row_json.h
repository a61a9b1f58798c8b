// The JSON form of rows used by the CLI and by dirty-row files.
//
// A row is an object of column name to value: a JSON integer is INTEGER, a number with a
// fraction or exponent DOUBLE, true/false BOOLEAN, a string STRING. Explicit forms cover what
// plain JSON cannot: {"$int":"123"} (int64 beyond 2^53), {"$double":1} or {"$double":"NaN"},
// {"$binary":"BASE64"}, {"$inf":"min"|"max"} (range bounds only). An attribute may carry a
// version, {"$value":V,"$ts":MS}, or several, as an array of those. Output uses the same forms,
// so printed rows read back as the same row.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "tablelake/status.h"
#include "tablelake/table_store.h"
#include "tablelake/types.h"

namespace tablelake::store {

// Parses one JSON text, refusing what a plain parse would take silently: a key given twice
// (a plain parse keeps the last) and an integer beyond int64 (a plain parse makes it a
// double). Errors say what is wrong and at which byte, without the parser's jargon.
Result<nlohmann::json> ParseJson(std::string_view text);

// All of `text` as an int64, as std::stoll reads it (leading spaces and a sign allowed), or
// nothing: {"$int": text} in JSON, an INTEGER field in CSV.
std::optional<int64_t> ReadInt64(std::string_view text);

Result<Value> ValueFromJson(const nlohmann::json& j, const std::string& column);
// Output keeps column order, hence ordered_json.
nlohmann::ordered_json ValueToJson(const Value& v);

struct JsonRow {
  PrimaryKey primary_key;
  std::vector<Cell> cells;
};

// How primary-key columns absent from the object are filled.
enum class MissingKey {
  kError,          // every key column is required
  kAutoIncrement,  // an AUTO_INCREMENT column may be left out (row insert)
  kInfMin,         // range start
  kInfMax,         // range end
};

// Splits a row object into key (in schema order) and attribute cells. Primary-key values are
// read in the column's declared type, so {"PK":5} fits a STRING key only as "5" - an error.
Result<JsonRow> RowFromJson(const TableMeta& meta, const nlohmann::json& obj, MissingKey missing,
                            bool key_only = false);

// Rows from JSON lines by RowFromJson's rules, fast: simdjson takes a line that is an object of
// plain numbers, strings and booleans (what bulk loads are made of); any other line - explicit
// forms, versions, a missing key, anything wrong - goes through ParseJson and RowFromJson, so
// the rules and the error messages stay theirs. One per thread.
class JsonLineParser {
 public:
  JsonLineParser(TableMeta meta, MissingKey missing);
  ~JsonLineParser();
  // `padded`: the kPadding bytes after the line may be read (they need not be spaces), which
  // spares copying the line into a padded buffer first.
  Result<JsonRow> Parse(std::string_view line, bool padded = false);
  // The row of a plain line (what the fast path takes) as views into the line and this parser,
  // valid until its next call; nullptr for any other line, which Parse takes (or refuses).
  const RowView* ParsePlain(std::string_view line, bool padded = false);
  static constexpr size_t kPadding = 64;  // simdjson's SIMDJSON_PADDING

 private:
  struct Fast;
  const TableMeta meta_;
  const MissingKey missing_;
  std::unique_ptr<Fast> fast_;
};

// JSON arrays and objects of plain values and nulls (what the strings of LIST and MAP columns
// mostly hold), read fast by simdjson as ValueFromJson reads each value. A Read says false for
// any text whose reading it cannot match exactly - not JSON, an integer beyond int64, -0, a
// nested array or object, an object whose keys do not increase (a plain parse sorts them and
// keeps the last of a repeated one) - and the caller reads that text the slow way. One per thread.
class PlainJsonCollection {
 public:
  PlainJsonCollection();
  ~PlainJsonCollection();
  struct Entry {
    std::string_view key;            // an object member's; empty for an array element
    std::optional<ValueView> value;  // nullopt for a JSON null
  };
  // Views into this reader, valid until its next Read.
  bool ReadArray(std::string_view text, std::vector<Entry>* out);
  bool ReadObject(std::string_view text, std::vector<Entry>* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The row as one object: key columns first, then each attribute's newest value, or all its
// versions as an array when `with_versions`.
nlohmann::ordered_json RowToJson(const Row& row, bool with_versions = false);

}  // namespace tablelake::store
