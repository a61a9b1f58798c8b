// tablelake import, and the bulk loader `put` uses for standard input.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/cli_util.h"
#include "common/base64.h"
#include "common/progress.h"
#include "fmt/format.h"
#include "store/cell_rules.h"

namespace tablelake::cli {
namespace {

class JsonLinesParser : public RowParser {
 public:
  explicit JsonLinesParser(TableMeta meta) : meta_(std::move(meta)) {}
  Result<std::optional<store::JsonRow>> Parse(const std::string& line) override {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      return std::optional<store::JsonRow>();
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::InvalidArgument("not valid JSON");
    TL_ASSIGN_OR_RETURN(store::JsonRow row,
                        store::RowFromJson(meta_, j, store::MissingKey::kAutoIncrement));
    return std::optional<store::JsonRow>(std::move(row));
  }

 private:
  TableMeta meta_;
};

// CSV as RFC 4180 without line breaks inside fields. The header names the columns, optionally
// typed as NAME:TYPE (INTEGER, DOUBLE, BOOLEAN, STRING, BINARY as base64). Key columns take
// their declared type; an untyped attribute is INTEGER, DOUBLE or BOOLEAN when its unquoted
// text reads as one, else STRING. An empty unquoted field leaves the column out.
class CsvParser : public RowParser {
 public:
  explicit CsvParser(TableMeta meta) : meta_(std::move(meta)) {}

  Result<std::optional<store::JsonRow>> Parse(const std::string& raw) override {
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return std::optional<store::JsonRow>();
    std::vector<Field> fields;
    TL_RETURN_IF_ERROR(SplitFields(line, &fields));
    if (columns_.empty()) {
      TL_RETURN_IF_ERROR(ParseHeader(fields));
      return std::optional<store::JsonRow>();
    }
    if (fields.size() != columns_.size()) {
      return Status::InvalidArgument(
          fmt::format("has {} fields, the header has {}", fields.size(), columns_.size()));
    }
    nlohmann::json obj = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].text.empty() && !fields[i].quoted) continue;
      TL_ASSIGN_OR_RETURN(obj[columns_[i].name], ToJson(columns_[i], fields[i]));
    }
    TL_ASSIGN_OR_RETURN(store::JsonRow row,
                        store::RowFromJson(meta_, obj, store::MissingKey::kAutoIncrement));
    return std::optional<store::JsonRow>(std::move(row));
  }

 private:
  struct Field {
    std::string text;
    bool quoted = false;
  };
  struct Column {
    std::string name;
    std::string type;  // empty: inferred
  };

  static Status SplitFields(const std::string& line, std::vector<Field>* out) {
    size_t i = 0;
    while (true) {
      Field f;
      if (i < line.size() && line[i] == '"') {
        f.quoted = true;
        ++i;
        while (true) {
          if (i >= line.size()) return Status::InvalidArgument("unterminated quoted field");
          if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
              f.text.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          f.text.push_back(line[i++]);
        }
        if (i < line.size() && line[i] != ',') {
          return Status::InvalidArgument("text after a closing quote");
        }
      } else {
        size_t comma = line.find(',', i);
        f.text = line.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
        i = comma == std::string::npos ? line.size() : comma;
      }
      out->push_back(std::move(f));
      if (i >= line.size()) return Status::OK();
      ++i;  // the comma
      if (i == line.size()) {
        out->push_back({});
        return Status::OK();
      }
    }
  }

  Status ParseHeader(const std::vector<Field>& fields) {
    for (const auto& f : fields) {
      Column c;
      size_t colon = f.text.find(':');
      c.name = f.text.substr(0, colon);
      if (colon != std::string::npos) c.type = f.text.substr(colon + 1);
      static const std::set<std::string> kTypes = {"",        "INTEGER", "DOUBLE",
                                                   "BOOLEAN", "STRING",  "BINARY"};
      if (!kTypes.count(c.type)) {
        return Status::InvalidArgument(
            fmt::format("header column '{}': unknown type '{}'", c.name, c.type));
      }
      for (const auto& pk : meta_.primary_key) {
        if (pk.name == c.name && c.type.empty()) c.type = PrimaryKeyTypeName(pk.type);
      }
      columns_.push_back(std::move(c));
    }
    return Status::OK();
  }

  static Result<nlohmann::json> ToJson(const Column& c, const Field& f) {
    const std::string& t = f.text;
    std::string type = c.type;
    if (type.empty()) type = f.quoted ? "STRING" : InferType(t);
    if (type == "STRING") return nlohmann::json(t);
    if (type == "BINARY") return nlohmann::json{{"$binary", t}};
    if (type == "BOOLEAN") {
      if (t == "true" || t == "false") return nlohmann::json(t == "true");
      return Status::InvalidArgument(fmt::format("column '{}': '{}' is not a BOOLEAN", c.name, t));
    }
    if (type == "INTEGER") return nlohmann::json{{"$int", t}};
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) {
      return Status::InvalidArgument(fmt::format("column '{}': '{}' is not a DOUBLE", c.name, t));
    }
    return nlohmann::json{{"$double", d}};
  }

  static std::string InferType(const std::string& t) {
    if (t == "true" || t == "false") return "BOOLEAN";
    size_t sign = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
    if (t.size() > sign && t.find_first_not_of("0123456789", sign) == std::string::npos) {
      errno = 0;
      std::strtoll(t.c_str(), nullptr, 10);
      if (errno == 0) return "INTEGER";
    }
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size()) return "DOUBLE";
    return "STRING";
  }

  TableMeta meta_;
  std::vector<Column> columns_;
};

// Checks what the store would reject, so that bad input is found before the first write.
Status ValidateRow(const std::string& table, const store::JsonRow& row) {
  for (const auto& c : row.cells) {
    TL_RETURN_IF_ERROR(store::ValidateName("column", c.name));
    TL_RETURN_IF_ERROR(store::ValidateAttributeValue(table, c.name, c.value));
  }
  return Status::OK();
}

std::unique_ptr<std::istream> OpenInput(const std::string& path, const std::string* stdin_text) {
  if (path == "-") return std::make_unique<std::istringstream>(*stdin_text);
  return std::make_unique<std::ifstream>(path, std::ios::binary);
}

// Calls `fn(line_number, row)` for each row of the input.
template <typename Fn>
Status ForEachRow(const TableMeta& meta, const std::string& format, const std::string& path,
                  const std::string* stdin_text, Fn&& fn) {
  auto in = OpenInput(path, stdin_text);
  if (!*in) return Status::IOError(fmt::format("cannot open '{}'", path));
  TL_ASSIGN_OR_RETURN(auto parser, NewRowParser(format, meta));
  std::string line;
  for (uint64_t number = 1; std::getline(*in, line); ++number) {
    auto row = parser->Parse(line);
    std::string where = fmt::format("{} line {}", path == "-" ? "stdin" : path, number);
    if (!row.ok()) return row.status().WithContext(where);
    if (!row->has_value()) continue;
    TL_RETURN_IF_ERROR(fn(number, static_cast<uint64_t>(in->tellg()), **row).WithContext(where));
  }
  if (in->bad()) return Status::IOError(fmt::format("error reading '{}'", path));
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<RowParser>> NewRowParser(const std::string& format, const TableMeta& meta) {
  if (format == "jsonl") return std::unique_ptr<RowParser>(std::make_unique<JsonLinesParser>(meta));
  if (format == "csv") return std::unique_ptr<RowParser>(std::make_unique<CsvParser>(meta));
  return Status::InvalidArgument(fmt::format("format '{}' is not jsonl or csv", format));
}

Status BulkLoad(TableStore& store, const std::string& table, const std::string& format,
                const std::string& path, const std::string* stdin_text, const char* label) {
  TL_ASSIGN_OR_RETURN(TableDescription d, store.DescribeTable(table));
  uint64_t rows = 0;
  TL_RETURN_IF_ERROR(ForEachRow(d.meta, format, path, stdin_text,
                                [&](uint64_t, uint64_t, const store::JsonRow& row) {
                                  ++rows;
                                  return ValidateRow(table, row);
                                }));
  uint64_t total_bytes = path == "-" ? stdin_text->size() : std::filesystem::file_size(path);
  Progress progress(label, total_bytes);
  constexpr size_t kBatch = 200;
  std::vector<BatchWriteItem> batch;
  std::vector<uint64_t> lines;
  uint64_t written = 0;
  auto flush = [&]() -> Status {
    auto results = store.BatchWriteRow(batch);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) {
        return results[i].status().WithContext(
            fmt::format("line {} ({} rows written before it)", lines[i], written + i));
      }
    }
    written += batch.size();
    batch.clear();
    lines.clear();
    return Status::OK();
  };
  TL_RETURN_IF_ERROR(
      ForEachRow(d.meta, format, path, stdin_text,
                 [&](uint64_t line, uint64_t offset, const store::JsonRow& row) {
                   BatchWriteItem item;
                   item.type = BatchWriteItem::Type::kPut;
                   item.put = {table, row.primary_key, row.cells, {}, ReturnType::kNone};
                   batch.push_back(std::move(item));
                   lines.push_back(line);
                   if (batch.size() == kBatch) TL_RETURN_IF_ERROR(flush());
                   progress.Update(offset, written);
                   return Status::OK();
                 }));
  TL_RETURN_IF_ERROR(flush());
  progress.Finish(written, "rows");
  return Status::OK();
}

void RegisterImportCommand(CLI::App& app, GlobalOptions& g, Status& status) {
  struct Args {
    std::vector<std::string> positional;
    std::string table;
    std::string format;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("import", "bulk-load a JSON-lines or CSV file into a table");
  AddGlobalOptions(cmd, &g);
  cmd->add_option("args", args->positional, "[TABLE] FILE")->required()->expected(1, 2);
  cmd->add_option("--table", args->table, "table to load into");
  cmd->add_option("--format", args->format, "jsonl or csv")->required();
  cmd->callback([&g, &status, args] {
    status = [&]() -> Status {
      std::string table = args->table;
      std::string file = args->positional.back();
      if (args->positional.size() == 2) {
        if (!table.empty()) return Status::InvalidArgument("give the table once: TABLE or --table");
        table = args->positional[0];
      }
      if (table.empty()) return Status::InvalidArgument("import: which table? give --table T");
      if (file != "-" && !std::filesystem::is_regular_file(file)) {
        return Status::InvalidArgument(fmt::format("import: '{}' is not a file", file));
      }
      TL_ASSIGN_OR_RETURN(auto store, OpenStore(g));
      return BulkLoad(*store, table, args->format, file, nullptr, "import");
    }();
  });
}

}  // namespace tablelake::cli
