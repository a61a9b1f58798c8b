#include "store/row_json.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "common/base64.h"
#include "common/printable.h"
#include "fmt/format.h"

namespace tablelake::store {

std::optional<int64_t> ReadInt64(std::string_view text) {
  const std::string t(text);  // strtoll reads up to a NUL
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  return v;
}

using nlohmann::json;

namespace {

constexpr int64_t kMaxSafeJsonInteger = int64_t{1} << 53;

Status Bad(const std::string& column, const std::string& why) {
  return Status::InvalidArgument(fmt::format("column '{}': {}", Printable(column), why));
}

Result<Value> DoubleFromJson(const json& v, const std::string& column) {
  if (v.is_number()) return Value::Double(v.get<double>());
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") return Value::Double(std::numeric_limits<double>::quiet_NaN());
    if (s == "Infinity") return Value::Double(std::numeric_limits<double>::infinity());
    if (s == "-Infinity") return Value::Double(-std::numeric_limits<double>::infinity());
  }
  return Bad(column, "$double takes a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
}

Result<Value> IntFromString(const std::string& s, const std::string& column) {
  if (auto v = ReadInt64(s)) return Value::Integer(*v);
  return Bad(column, fmt::format("'{}' is not an int64", s));
}

Result<Value> TaggedValueFromJson(const json& j, const std::string& column) {
  if (j.size() != 1) return Bad(column, "a typed value object has exactly one $-key");
  auto first = j.begin();
  const std::string& key = first.key();
  const json& v = first.value();
  if (key == "$int") {
    if (v.is_string()) return IntFromString(v.get<std::string>(), column);
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) {
      return Value::Integer(v.get<int64_t>());
    }
    return Bad(column, "$int takes an int64 as a string or number");
  }
  if (key == "$double") return DoubleFromJson(v, column);
  if (key == "$binary") {
    if (!v.is_string()) return Bad(column, "$binary takes a base64 string");
    auto bytes = Base64Decode(v.get<std::string>());
    if (!bytes) return Bad(column, "$binary is not valid base64");
    return Value::Binary(std::move(*bytes));
  }
  if (key == "$inf") {
    if (v == "min") return Value::InfMin();
    if (v == "max") return Value::InfMax();
    return Bad(column, "$inf takes \"min\" or \"max\"");
  }
  return Bad(column, fmt::format("unknown typed value '{}'", key));
}

Value DefaultFor(MissingKey missing) {
  switch (missing) {
    case MissingKey::kInfMin:
      return Value::InfMin();
    case MissingKey::kInfMax:
      return Value::InfMax();
    default:
      return Value::AutoIncrement();
  }
}

Result<Value> KeyValueFromJson(const PrimaryKeySchema& sc, const json& j) {
  TL_ASSIGN_OR_RETURN(Value v, ValueFromJson(j, sc.name));
  bool ok = v.type() == ValueType::kInfMin || v.type() == ValueType::kInfMax ||
            (sc.type == PrimaryKeyType::kInteger && v.type() == ValueType::kInteger) ||
            (sc.type == PrimaryKeyType::kString && v.type() == ValueType::kString) ||
            (sc.type == PrimaryKeyType::kBinary && v.type() == ValueType::kBinary);
  if (!ok) {
    return Bad(sc.name, fmt::format("primary key column is {}, got {}", PrimaryKeyTypeName(sc.type),
                                    v.DebugString()));
  }
  return v;
}

Status CellsFromJson(const std::string& column, const json& j, std::vector<Cell>* cells) {
  auto one = [&](const json& x) -> Status {
    if (x.is_object() && x.contains("$value")) {
      if (!x.contains("$ts") || !x["$ts"].is_number_integer() || x.size() != 2) {
        return Bad(column, "a versioned value is {\"$value\":V,\"$ts\":MILLISECONDS}");
      }
      TL_ASSIGN_OR_RETURN(Value v, ValueFromJson(x["$value"], column));
      cells->push_back({column, std::move(v), x["$ts"].get<int64_t>()});
      return Status::OK();
    }
    TL_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, column));
    cells->push_back({column, std::move(v), kNoTimestamp});
    return Status::OK();
  };
  if (!j.is_array()) return one(j);
  if (j.empty()) return Bad(column, "an array of versions must not be empty");
  for (const auto& x : j) {
    if (!x.is_object() || !x.contains("$value")) {
      return Bad(column,
                 "an array holds versions, each {\"$value\":V,\"$ts\":MILLISECONDS}; a list "
                 "of values is not a cell type (store it as a JSON string)");
    }
    TL_RETURN_IF_ERROR(one(x));
  }
  return Status::OK();
}

// Builds the document as nlohmann's DOM parser does, checking keys and numbers on the way.
class StrictBuilder : public nlohmann::json_sax<json> {
 public:
  bool null() override { return Add(nullptr); }
  bool boolean(bool v) override { return Add(v); }
  bool number_integer(number_integer_t v) override { return Add(v); }
  bool number_unsigned(number_unsigned_t v) override { return Add(v); }
  bool number_float(number_float_t v, const string_t& text) override {
    if (text.find_first_of(".eE") == std::string::npos) {
      return Fail(
          fmt::format("the integer {} is beyond INTEGER's range (int64); write "
                      "{{\"$double\":{}}} for a DOUBLE",
                      Printable(text), Printable(text)));
    }
    return Add(v);
  }
  bool string(string_t& v) override { return Add(std::move(v)); }
  bool binary(binary_t& v) override { return Add(json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return Open(json::object()); }
  bool key(string_t& k) override {
    if (stack_.back()->contains(k)) {
      return Fail(fmt::format("the key '{}' appears twice in one object", Printable(k)));
    }
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(json::array()); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error while
    // parsing value - invalid literal; last read: 'x'": keep what follows the location.
    std::string what = ex.what();
    size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    size_t bracket = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    return Fail(fmt::format("not valid JSON at byte {}: {}", position, Printable(what, 200)));
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  json* Place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(v));
      return &top->back();
    }
    return &((*top)[key_] = std::move(v));
  }
  bool Add(json v) {
    Place(std::move(v));
    return true;
  }
  bool Open(json container) {
    stack_.push_back(Place(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

}  // namespace

Result<json> ParseJson(std::string_view text) {
  StrictBuilder builder;
  bool ok = json::sax_parse(text.begin(), text.end(), &builder);
  if (!ok) {
    return Status::InvalidArgument(builder.error().empty() ? "not valid JSON" : builder.error());
  }
  return std::move(builder.root());
}

Result<Value> ValueFromJson(const json& j, const std::string& column) {
  switch (j.type()) {
    case json::value_t::number_integer:
      return Value::Integer(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX))
        return Bad(column, fmt::format("{} overflows int64", u));
      return Value::Integer(static_cast<int64_t>(u));
    }
    case json::value_t::number_float:
      return Value::Double(j.get<double>());
    case json::value_t::boolean:
      return Value::Boolean(j.get<bool>());
    case json::value_t::string:
      return Value::String(j.get<std::string>());
    case json::value_t::object:
      return TaggedValueFromJson(j, column);
    case json::value_t::null:
      return Bad(column, "null is not a value (omit the column instead)");
    default:
      return Bad(column, fmt::format("cannot use a JSON {} as a value", j.type_name()));
  }
}

nlohmann::ordered_json ValueToJson(const Value& v) {
  switch (v.type()) {
    case ValueType::kInteger:
      if (v.integer() > kMaxSafeJsonInteger || v.integer() < -kMaxSafeJsonInteger) {
        return {{"$int", std::to_string(v.integer())}};
      }
      return v.integer();
    case ValueType::kDouble:
      if (std::isnan(v.dbl())) return {{"$double", "NaN"}};
      if (std::isinf(v.dbl())) return {{"$double", v.dbl() > 0 ? "Infinity" : "-Infinity"}};
      // A whole double prints as 1.0 here, which reads back as DOUBLE.
      return v.dbl();
    case ValueType::kBoolean:
      return v.boolean();
    case ValueType::kString:
      return v.bytes();
    case ValueType::kBinary:
      return {{"$binary", Base64Encode(v.bytes())}};
    case ValueType::kInfMin:
      return {{"$inf", "min"}};
    case ValueType::kInfMax:
      return {{"$inf", "max"}};
    case ValueType::kAutoIncrement:
      return nullptr;
  }
  return nullptr;
}

Result<JsonRow> RowFromJson(const TableMeta& meta, const json& obj, MissingKey missing,
                            bool key_only) {
  if (!obj.is_object()) {
    return Status::InvalidArgument(
        fmt::format("table '{}': a row must be a JSON object, got {}", meta.name, obj.type_name()));
  }
  JsonRow row;
  bool seen_infinite = false;
  for (const auto& sc : meta.primary_key) {
    auto it = obj.find(sc.name);
    if (it == obj.end()) {
      bool allowed = missing == MissingKey::kInfMin || missing == MissingKey::kInfMax ||
                     (missing == MissingKey::kAutoIncrement && sc.auto_increment);
      if (!allowed) {
        return Status::InvalidArgument(
            fmt::format("table '{}': primary key column '{}' is missing", meta.name, sc.name));
      }
      row.primary_key.push_back({sc.name, DefaultFor(missing)});
      seen_infinite = true;
      continue;
    }
    if (seen_infinite && (missing == MissingKey::kInfMin || missing == MissingKey::kInfMax)) {
      return Status::InvalidArgument(
          fmt::format("table '{}': range bound gives '{}' but leaves out an earlier key column",
                      meta.name, sc.name));
    }
    TL_ASSIGN_OR_RETURN(Value v, KeyValueFromJson(sc, *it));
    row.primary_key.push_back({sc.name, std::move(v)});
  }
  for (const auto& [name, value] : obj.items()) {
    bool is_key = false;
    for (const auto& sc : meta.primary_key) is_key |= sc.name == name;
    if (is_key) continue;
    if (key_only) {
      return Status::InvalidArgument(
          fmt::format("table '{}': '{}' is not a primary key column", meta.name, name));
    }
    TL_RETURN_IF_ERROR(CellsFromJson(name, value, &row.cells));
  }
  return row;
}

nlohmann::ordered_json RowToJson(const Row& row, bool with_versions) {
  nlohmann::ordered_json ordered = nlohmann::ordered_json::object();
  for (const auto& c : row.primary_key) ordered[c.name] = ValueToJson(c.value);
  for (size_t i = 0; i < row.cells.size();) {
    size_t j = i;
    while (j < row.cells.size() && row.cells[j].name == row.cells[i].name) ++j;
    const std::string& name = row.cells[i].name;
    if (!with_versions) {
      ordered[name] = ValueToJson(row.cells[i].value);
    } else {
      auto versions = nlohmann::ordered_json::array();
      for (size_t k = i; k < j; ++k) {
        versions.push_back(
            {{"$value", ValueToJson(row.cells[k].value)}, {"$ts", row.cells[k].timestamp}});
      }
      ordered[name] = versions;
    }
    i = j;
  }
  return ordered;
}

namespace {

// A plain value as ValueFromJson reads it; nothing for what only the slow path decides.
std::optional<ValueView> PlainValue(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return ValueView::Integer(int64_t(e));
    case simdjson::dom::element_type::DOUBLE: {
      double d = double(e);
      // "-0" is INTEGER 0 to nlohmann, "-0.0" DOUBLE -0: the text tells, not the value.
      if (d == 0 && std::signbit(d)) return std::nullopt;
      return ValueView::Double(d);
    }
    case simdjson::dom::element_type::STRING:
      return ValueView::String(std::string_view(e));
    case simdjson::dom::element_type::BOOL:
      return ValueView::Boolean(bool(e));
    default:  // beyond int64, null, objects and arrays
      return std::nullopt;
  }
}

// An element of a collection: a plain value or null, or false.
bool PlainEntry(simdjson::dom::element e, std::optional<ValueView>* out) {
  if (e.is_null()) {
    out->reset();
    return true;
  }
  *out = PlainValue(e);
  return out->has_value();
}

}  // namespace

struct PlainJsonCollection::Impl {
  simdjson::dom::parser parser;
};

PlainJsonCollection::PlainJsonCollection() : impl_(std::make_unique<Impl>()) {}
PlainJsonCollection::~PlainJsonCollection() = default;

bool PlainJsonCollection::ReadArray(std::string_view text, std::vector<Entry>* out) {
  simdjson::dom::array array;
  if (impl_->parser.parse(text.data(), text.size()).get_array().get(array)) return false;
  out->clear();
  for (simdjson::dom::element e : array) {
    out->emplace_back();
    if (!PlainEntry(e, &out->back().value)) return false;
  }
  return true;
}

bool PlainJsonCollection::ReadObject(std::string_view text, std::vector<Entry>* out) {
  simdjson::dom::object object;
  if (impl_->parser.parse(text.data(), text.size()).get_object().get(object)) return false;
  out->clear();
  for (auto field : object) {
    if (!out->empty() && !(out->back().key < field.key)) return false;
    out->push_back({field.key, std::nullopt});
    if (!PlainEntry(field.value, &out->back().value)) return false;
  }
  return true;
}

struct JsonLineParser::Fast {
  simdjson::dom::parser parser;
  std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
  RowView row;

  // Views into the parser, valid until its next parse.
  const RowView* Row(const TableMeta& meta, std::string_view line, bool padded) {
    simdjson::dom::object obj;
    if (parser.parse(line.data(), line.size(), !padded).get_object().get(obj)) return nullptr;
    fields.clear();
    for (auto field : obj) fields.emplace_back(field.key, field.value);
    if (!SameLayout() && !Plan(meta)) return nullptr;
    row.primary_key.clear();
    for (size_t k = 0; k < layout.keys.size(); ++k) {
      const PrimaryKeySchema& sc = meta.primary_key[k];
      auto v = PlainValue(fields[layout.keys[k]].second);
      if (!v || !((sc.type == PrimaryKeyType::kInteger && v->type() == ValueType::kInteger) ||
                  (sc.type == PrimaryKeyType::kString && v->type() == ValueType::kString))) {
        return nullptr;
      }
      row.primary_key.push_back({sc.name, *v});
    }
    row.cells.clear();
    for (size_t i : layout.cells) {
      auto v = PlainValue(fields[i].second);
      if (!v) return nullptr;
      row.cells.push_back({fields[i].first, *v});
    }
    return &row;
  }

  // Where the last planned line had which field: its names in the line's order, the field of
  // each key column, and the other fields in name order (as nlohmann's object iterates them,
  // which the cells follow). The lines of one input mostly name the same fields in the same
  // order: a line that does so takes the plan without sorting its names again.
  struct Layout {
    std::vector<std::string> names;
    std::vector<size_t> keys;
    std::vector<size_t> cells;
  } layout;

  bool SameLayout() const {
    if (fields.size() != layout.names.size()) return false;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].first != layout.names[i]) return false;
    }
    return true;
  }

  // False (and no plan kept) for a line the slow path must read: a key given twice (an error it
  // names), a key column missing.
  bool Plan(const TableMeta& meta) {
    layout.names.clear();
    std::vector<size_t> order(fields.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto name = [&](size_t i) { return fields[i].first; };
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return name(a) < name(b); });
    for (size_t i = 1; i < order.size(); ++i) {
      if (name(order[i]) == name(order[i - 1])) return false;
    }
    layout.keys.clear();
    for (const auto& sc : meta.primary_key) {
      auto it = std::lower_bound(order.begin(), order.end(), sc.name,
                                 [&](size_t i, const std::string& k) { return name(i) < k; });
      if (it == order.end() || name(*it) != sc.name) return false;
      layout.keys.push_back(*it);
    }
    layout.cells.clear();
    for (size_t i : order) {
      if (std::find(layout.keys.begin(), layout.keys.end(), i) == layout.keys.end()) {
        layout.cells.push_back(i);
      }
    }
    for (const auto& f : fields) layout.names.emplace_back(f.first);
    return true;
  }
};

JsonLineParser::JsonLineParser(TableMeta meta, MissingKey missing)
    : meta_(std::move(meta)), missing_(missing), fast_(std::make_unique<Fast>()) {}
JsonLineParser::~JsonLineParser() = default;

static_assert(JsonLineParser::kPadding == simdjson::SIMDJSON_PADDING);

const RowView* JsonLineParser::ParsePlain(std::string_view line, bool padded) {
  return fast_->Row(meta_, line, padded);
}

Result<JsonRow> JsonLineParser::Parse(std::string_view line, bool padded) {
  if (const RowView* plain = ParsePlain(line, padded)) {
    PutRowRequest r = plain->ToPutRow({});
    return JsonRow{std::move(r.primary_key), std::move(r.cells)};
  }
  TL_ASSIGN_OR_RETURN(json j, ParseJson(line));
  return RowFromJson(meta_, j, missing_);
}

}  // namespace tablelake::store
