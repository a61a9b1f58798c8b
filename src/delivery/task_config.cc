#include "delivery/task_config.h"

#include <limits>
#include <regex>
#include <set>

#include "common/printable.h"
#include "delivery/credentials.h"
#include "fmt/format.h"
#include "objectstore/object_store.h"
#include "store/cell_rules.h"

namespace tablelake {

const char* DeliveryTaskTypeName(DeliveryTaskType t) {
  switch (t) {
    case DeliveryTaskType::kBase:
      return "BaseTask";
    case DeliveryTaskType::kInc:
      return "IncTask";
    case DeliveryTaskType::kBaseInc:
      return "BaseIncTask";
  }
  return "Unknown";
}

const char* EventTimeFormatName(EventTimeFormat f) {
  switch (f) {
    case EventTimeFormat::kRfc822:
      return "RFC822";
    case EventTimeFormat::kRfc850:
      return "RFC850";
    case EventTimeFormat::kRfc1123:
      return "RFC1123";
    case EventTimeFormat::kRfc3339:
      return "RFC3339";
    case EventTimeFormat::kUnix:
      return "Unix";
  }
  return "Unknown";
}

const char* SyncPhaseName(SyncPhase p) {
  switch (p) {
    case SyncPhase::kInit:
      return "INIT";
    case SyncPhase::kFull:
      return "FULL";
    case SyncPhase::kIncr:
      return "INCR";
  }
  return "Unknown";
}

namespace delivery {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "(10,2)" or "10,2" -> precision, scale.
Status ParseDecimalExtend(const std::string& column, const std::string& text, int* p, int* s) {
  static const std::regex re(R"(^\s*\(?\s*(\d{1,2})\s*(?:,\s*(\d{1,2})\s*)?\)?\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    return Status::InvalidArgument(fmt::format(
        "column '{}': DECIMAL needs typeExtend '(precision,scale)', got '{}'", column, text));
  }
  *p = std::stoi(m[1]);
  *s = m[2].matched ? std::stoi(m[2]) : 0;
  return Status::OK();
}

// Which target types a primary-key column of `key` type can feed (attributes are checked row
// by row, since their cells are schema-free).
bool KeyFeeds(PrimaryKeyType key, parquet::ColumnType target) {
  using T = parquet::ColumnType;
  switch (key) {
    case PrimaryKeyType::kInteger:
      return target == T::kInt64 || target == T::kInt32 || target == T::kDate ||
             target == T::kTimeMillis || target == T::kTimeMicros ||
             target == T::kTimestampMillis || target == T::kTimestampMicros ||
             target == T::kInt96 || target == T::kDecimal || target == T::kInterval;
    case PrimaryKeyType::kString:
      return target == T::kUtf8 || target == T::kDecimal || target == T::kDate ||
             target == T::kTimestampMillis || target == T::kTimestampMicros || target == T::kList ||
             target == T::kMap;
    case PrimaryKeyType::kBinary:
      return target == T::kUtf8;
  }
  return false;
}

Result<ResolvedColumn> ResolveColumn(const DeliveryColumn& c, const TableMeta& table) {
  ResolvedColumn r;
  r.column = c;
  if (r.column.target.empty()) r.column.target = c.source;
  TL_RETURN_IF_ERROR(store::ValidateName("source column", c.source));
  auto type = parquet::ParseColumnType(Upper(c.type));
  if (!type || *type == parquet::ColumnType::kBinary) {
    return Status::InvalidArgument(fmt::format(
        "column '{}': unknown type '{}'; types are BOOL, INT32, INT64, FLOAT, DOUBLE, UTF8, DATE, "
        "DECIMAL, TIME_MILLIS, TIME_MICROS, TIMESTAMP_MILLIS, TIMESTAMP_MICROS, INT96, LIST, MAP, "
        "INTERVAL",
        c.source, c.type));
  }
  auto encoding = parquet::ParseEncoding(Upper(c.encoding.empty() ? "PLAIN" : c.encoding));
  if (!encoding) {
    return Status::InvalidArgument(
        fmt::format("column '{}': unknown encoding '{}'; encodings are PLAIN, PLAIN_DICTIONARY, "
                    "DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY",
                    c.source, c.encoding));
  }
  parquet::ColumnSpec& p = r.parquet;
  p.name = r.column.target;
  p.type = *type;
  p.optional = true;  // a row may lack any attribute: every output column is nullable
  p.encoding = *encoding;
  if (p.type == parquet::ColumnType::kDecimal) {
    TL_RETURN_IF_ERROR(ParseDecimalExtend(c.source, c.type_extend, &p.precision, &p.scale));
  }
  if (p.type == parquet::ColumnType::kList || p.type == parquet::ColumnType::kMap) {
    // typeExtend names the element type, DECIMAL(p,s) included; UTF8 by default.
    std::string extend = c.type_extend.empty() ? "UTF8" : Upper(c.type_extend);
    std::string base = extend.substr(0, extend.find('('));
    auto element = parquet::ParseColumnType(base);
    if (!element || *element == parquet::ColumnType::kBinary) {
      return Status::InvalidArgument(fmt::format("column '{}': {} element type '{}' is unknown",
                                                 c.source, c.type, c.type_extend));
    }
    p.element = *element;
    if (p.element == parquet::ColumnType::kDecimal) {
      TL_RETURN_IF_ERROR(
          ParseDecimalExtend(c.source, extend.substr(base.size()), &p.precision, &p.scale));
    }
  }
  TL_RETURN_IF_ERROR(parquet::ValidateColumn(p));  // its messages name the column
  for (size_t k = 0; k < table.primary_key.size(); ++k) {
    if (table.primary_key[k].name != c.source) continue;
    r.key_index = static_cast<int>(k);
    if (!KeyFeeds(table.primary_key[k].type, p.type)) {
      return Status::InvalidArgument(fmt::format(
          "column '{}' is a {} primary key column and cannot be delivered as {}", c.source,
          PrimaryKeyTypeName(table.primary_key[k].type), parquet::ColumnTypeName(p.type)));
    }
  }
  return r;
}

}  // namespace

namespace {

// A prefix segment "year=$yyyy" makes `year` a hive partition key: readers (DuckDB, Spark,
// Trino) add it as a column, so an output column of that name would be shadowed by it.
Status CheckHiveKeys(const std::string& prefix, const std::set<std::string>& targets) {
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t slash = prefix.find('/', start);
    std::string segment = prefix.substr(start, slash == std::string::npos ? slash : slash - start);
    size_t eq = segment.find('=');
    if (eq != std::string::npos && eq > 0) {
      std::string key = Upper(segment.substr(0, eq));
      for (const auto& t : targets) {
        if (Upper(t) == key) {
          return Status::InvalidArgument(fmt::format(
              "output column '{}' has the name of the prefix's partition key '{}=': readers "
              "would show the partition's value in its place; rename one of them",
              t, segment.substr(0, eq)));
        }
      }
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

}  // namespace

Status ValidateTaskName(const std::string& name) {
  static const std::regex re("^[a-z0-9][a-z0-9-]{1,14}[a-z0-9]$");
  if (!std::regex_match(name, re)) {
    return Status::InvalidArgument(fmt::format(
        "task name '{}' is invalid: 3 to 16 characters of a-z, 0-9 and '-', starting and "
        "ending with a letter or digit",
        name));
  }
  return Status::OK();
}

Result<ResolvedTask> ResolveTask(const DeliveryTaskConfig& config, const TableMeta& table,
                                 const BucketRegistry& buckets) {
  ResolvedTask t;
  if (config.oss_bucket.empty())
    return Status::InvalidArgument("the task needs a bucket (OssBucket)");
  if (config.oss_endpoint.empty())
    return Status::InvalidArgument("the task needs an endpoint (OssEndpoint)");
  TL_RETURN_IF_ERROR(buckets.Validate(config.oss_endpoint, config.oss_bucket));
  if (config.oss_role.empty() && buckets.NeedsKeys(config.oss_endpoint)) {
    return Status::InvalidArgument(fmt::format(
        "endpoint '{}' needs a role (OssRoleName) naming a credential set", config.oss_endpoint));
  }
  if (!config.oss_role.empty()) TL_RETURN_IF_ERROR(ValidateRoleName(RoleOf(config.oss_role)));
  if (Upper(config.format) != "PARQUET") {
    return Status::InvalidArgument(
        fmt::format("format '{}' is not supported: Parquet only", config.format));
  }
  TL_ASSIGN_OR_RETURN(t.prefix, PathTemplate::Parse(config.oss_prefix));
  TL_ASSIGN_OR_RETURN(t.dirty_prefix, PathTemplate::Parse(config.oss_dirty_prefix));
  TL_ASSIGN_OR_RETURN(t.zone, TimeZone::Parse(config.time_zone));
  auto codec = parquet::ParseCodec(Upper(config.compression));
  if (!codec) {
    return Status::InvalidArgument(
        fmt::format("compression '{}' is unknown: UNCOMPRESSED, SNAPPY, GZIP, ZSTD or LZ4_RAW",
                    config.compression));
  }
  t.codec = *codec;
  if (config.file_bytes < (1 << 20) || config.file_bytes > (int64_t{1} << 40)) {
    return Status::InvalidArgument(
        fmt::format("file size bound {} is outside 1 MiB..1 TiB", config.file_bytes));
  }
  if (config.flush_interval_seconds < 1 || config.flush_interval_seconds > 3600) {
    return Status::InvalidArgument(
        fmt::format("flush interval {} s is outside 1..3600", config.flush_interval_seconds));
  }
  if (!config.event_time_column.empty()) {
    TL_RETURN_IF_ERROR(store::ValidateName("event time column", config.event_time_column));
    int f = static_cast<int>(config.event_time_format);
    if (f < 1 || f > 5)
      return Status::InvalidArgument(fmt::format("event time format {} is unknown", f));
  }
  if (config.schema.empty()) return Status::InvalidArgument("the task's schema has no columns");
  std::set<std::string> targets;
  for (const auto& c : config.schema) {
    TL_ASSIGN_OR_RETURN(ResolvedColumn r, ResolveColumn(c, table));
    if (!targets.insert(r.parquet.name).second) {
      return Status::InvalidArgument(
          fmt::format("output column '{}' appears twice", r.parquet.name));
    }
    t.columns.push_back(std::move(r));
  }
  TL_RETURN_IF_ERROR(CheckHiveKeys(config.oss_prefix, targets));
  if (config.change_log_columns) {
    using S = ResolvedColumn::Source;
    for (auto [name, type, source] :
         {std::tuple{"_op", parquet::ColumnType::kUtf8, S::kOp},
          std::tuple{"_seq", parquet::ColumnType::kInt64, S::kSequence},
          std::tuple{"_commit_time", parquet::ColumnType::kTimestampMicros, S::kCommitTime}}) {
      if (!targets.insert(name).second) {
        return Status::InvalidArgument(
            fmt::format("output column '{}' is taken by the change-log columns", name));
      }
      ResolvedColumn r;
      r.source = source;
      r.parquet.name = name;
      r.parquet.type = type;
      r.parquet.optional = false;
      t.columns.push_back(std::move(r));
    }
  }
  return t;
}

nlohmann::json ConfigToJson(const DeliveryTaskConfig& c) {
  nlohmann::json schema = nlohmann::json::array();
  for (const auto& col : c.schema) {
    schema.push_back({{"source", col.source},
                      {"target", col.target},
                      {"type", col.type},
                      {"encoding", col.encoding},
                      {"type_extend", col.type_extend}});
  }
  return {{"oss_prefix", c.oss_prefix},
          {"oss_bucket", c.oss_bucket},
          {"oss_endpoint", c.oss_endpoint},
          {"oss_role", c.oss_role},
          {"oss_dirty_prefix", c.oss_dirty_prefix},
          {"format", c.format},
          {"event_time_column", c.event_time_column},
          {"event_time_format", EventTimeFormatName(c.event_time_format)},
          {"time_zone", c.time_zone},
          {"schema", schema},
          {"compression", c.compression},
          {"file_bytes", c.file_bytes},
          {"flush_interval_seconds", c.flush_interval_seconds},
          {"change_log_columns", c.change_log_columns}};
}

namespace {

// Typed fields of a config object, each refused with its name and the type it needs.
class ConfigReader {
 public:
  explicit ConfigReader(const nlohmann::json& j, std::string where = "task config")
      : j_(j), where_(std::move(where)) {}

  Status String(const char* key, std::string* out) const {
    if (!j_.contains(key)) return Status::OK();
    if (!j_.at(key).is_string()) return Wrong(key, "a string");
    *out = j_.at(key).get<std::string>();
    return Status::OK();
  }
  template <typename Int>
  Status Integer(const char* key, Int* out) const {
    if (!j_.contains(key)) return Status::OK();
    const auto& v = j_.at(key);
    if (!v.is_number_integer()) return Wrong(key, "an integer");
    int64_t value = v.get<int64_t>();
    if (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX) return Wrong(key, "an int64");
    if (value < std::numeric_limits<Int>::min() || value > std::numeric_limits<Int>::max()) {
      return Status::InvalidArgument(
          fmt::format("{}: field '{}' is out of range: {}", where_, key, value));
    }
    *out = static_cast<Int>(value);
    return Status::OK();
  }
  Status Boolean(const char* key, bool* out) const {
    if (!j_.contains(key)) return Status::OK();
    if (!j_.at(key).is_boolean()) return Wrong(key, "true or false");
    *out = j_.at(key).get<bool>();
    return Status::OK();
  }

 private:
  Status Wrong(const char* key, const char* what) const {
    return Status::InvalidArgument(fmt::format("{}: field '{}' must be {}, got {}", where_, key,
                                               what, Printable(j_.at(key).dump(), 60)));
  }
  const nlohmann::json& j_;
  std::string where_;
};

}  // namespace

Result<DeliveryTaskConfig> ConfigFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a task config must be a JSON object");
  static const std::set<std::string> kKnown = {"oss_prefix",
                                               "oss_bucket",
                                               "oss_endpoint",
                                               "oss_role",
                                               "oss_dirty_prefix",
                                               "format",
                                               "event_time_column",
                                               "event_time_format",
                                               "time_zone",
                                               "schema",
                                               "compression",
                                               "file_bytes",
                                               "flush_interval_seconds",
                                               "change_log_columns"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k)) {
      return Status::InvalidArgument(
          fmt::format("task config: unknown field '{}'; fields are oss_bucket, oss_endpoint, "
                      "oss_prefix, oss_dirty_prefix, oss_role, format, event_time_column, "
                      "event_time_format, time_zone, schema, compression, file_bytes, "
                      "flush_interval_seconds, change_log_columns",
                      Printable(k)));
    }
  }
  DeliveryTaskConfig c;
  ConfigReader r(j);
  TL_RETURN_IF_ERROR(r.String("oss_prefix", &c.oss_prefix));
  TL_RETURN_IF_ERROR(r.String("oss_bucket", &c.oss_bucket));
  TL_RETURN_IF_ERROR(r.String("oss_endpoint", &c.oss_endpoint));
  TL_RETURN_IF_ERROR(r.String("oss_role", &c.oss_role));
  TL_RETURN_IF_ERROR(r.String("oss_dirty_prefix", &c.oss_dirty_prefix));
  TL_RETURN_IF_ERROR(r.String("format", &c.format));
  TL_RETURN_IF_ERROR(r.String("event_time_column", &c.event_time_column));
  TL_RETURN_IF_ERROR(r.String("time_zone", &c.time_zone));
  TL_RETURN_IF_ERROR(r.String("compression", &c.compression));
  std::string format;
  TL_RETURN_IF_ERROR(r.String("event_time_format", &format));
  if (!format.empty()) {
    TL_ASSIGN_OR_RETURN(c.event_time_format, ParseEventTimeFormat(format));
  }
  TL_RETURN_IF_ERROR(r.Integer("file_bytes", &c.file_bytes));
  TL_RETURN_IF_ERROR(r.Integer("flush_interval_seconds", &c.flush_interval_seconds));
  TL_RETURN_IF_ERROR(r.Boolean("change_log_columns", &c.change_log_columns));
  if (j.contains("schema")) {
    const auto& schema = j.at("schema");
    if (!schema.is_array()) {
      return Status::InvalidArgument("task config: field 'schema' must be an array of columns");
    }
    for (size_t i = 0; i < schema.size(); ++i) {
      const auto& col = schema[i];
      std::string where = fmt::format("task config: schema[{}]", i);
      if (!col.is_object() || !col.contains("source") || !col.contains("type")) {
        return Status::InvalidArgument(
            fmt::format("{} must be an object with at least \"source\" and \"type\"", where));
      }
      DeliveryColumn d;
      ConfigReader cr(col, where);
      TL_RETURN_IF_ERROR(cr.String("source", &d.source));
      d.target = d.source;
      TL_RETURN_IF_ERROR(cr.String("target", &d.target));
      TL_RETURN_IF_ERROR(cr.String("type", &d.type));
      TL_RETURN_IF_ERROR(cr.String("encoding", &d.encoding));
      TL_RETURN_IF_ERROR(cr.String("type_extend", &d.type_extend));
      c.schema.push_back(std::move(d));
    }
  }
  return c;
}

Result<DeliveryTaskType> ParseTaskType(const std::string& text) {
  std::string t = Upper(text);
  if (t == "BASE" || t == "BASETASK") return DeliveryTaskType::kBase;
  if (t == "INC" || t == "INCTASK") return DeliveryTaskType::kInc;
  if (t == "BASEINC" || t == "BASEINCTASK") return DeliveryTaskType::kBaseInc;
  return Status::InvalidArgument(fmt::format("task type '{}' is not base, inc or baseinc", text));
}

Result<EventTimeFormat> ParseEventTimeFormat(const std::string& text) {
  std::string t = Upper(text);
  for (EventTimeFormat f :
       {EventTimeFormat::kRfc822, EventTimeFormat::kRfc850, EventTimeFormat::kRfc1123,
        EventTimeFormat::kRfc3339, EventTimeFormat::kUnix}) {
    if (t == Upper(EventTimeFormatName(f))) return f;
  }
  return Status::InvalidArgument(
      fmt::format("event time format '{}' is not rfc822, rfc850, rfc1123, rfc3339 or unix", text));
}

Result<std::vector<DeliveryColumn>> ParseSchemaArgument(const std::string& text) {
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char ch : text) {
    if (ch == '(') ++depth;
    if (ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
    } else {
      current.push_back(ch);
    }
  }
  items.push_back(current);
  std::vector<DeliveryColumn> out;
  static const std::regex re(
      R"(^\s*([^:\s]+):([^:\s]*):([A-Za-z0-9_]+)(\([^)]*\))?(?::([A-Za-z_]+))?\s*$)");
  for (const auto& item : items) {
    std::smatch m;
    if (!std::regex_match(item, m, re)) {
      return Status::InvalidArgument(fmt::format(
          "schema item '{}' is not SRC:DST:TYPE[:ENCODING] (DECIMAL(p,s), LIST(ELEMENT))", item));
    }
    DeliveryColumn c;
    c.source = m[1];
    c.target = m[2].length() ? m[2].str() : c.source;
    c.type = m[3];
    std::string extend = m[4].matched ? m[4].str() : "";
    if (!extend.empty())
      c.type_extend = Upper(c.type) == "DECIMAL" ? extend : extend.substr(1, extend.size() - 2);
    if (m[5].matched) c.encoding = m[5];
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace delivery
}  // namespace tablelake
