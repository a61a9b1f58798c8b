// tablelake put|update|delete|get|range|stream read
#include <iostream>
#include <iterator>

#include "cli/cli_util.h"
#include "fmt/format.h"
#include "store/cell_rules.h"

namespace tablelake::cli {
namespace {

struct WriteArgs {
  std::string table;
  std::optional<std::string> row;
  std::string expect = "ignore";
  std::vector<std::string> conditions;
  // update only
  std::vector<std::string> deletes;
  std::vector<std::string> delete_versions;
  std::vector<std::string> increments;
  int64_t memory_mb = 0;  // put from stdin: the load's memory
};

Result<Condition> BuildCondition(const WriteArgs& a) {
  Condition c;
  TL_ASSIGN_OR_RETURN(c.row_existence, ParseExistence(a.expect));
  TL_ASSIGN_OR_RETURN(c.column_condition, ParseConditions(a.conditions));
  return c;
}

// `what` names the argument in errors: "row", "key", "--start".
Result<store::JsonRow> ParseRowArgument(TableStore& s, const std::string& table,
                                        const std::string& what, const std::string& text,
                                        store::MissingKey missing, bool key_only) {
  TL_ASSIGN_OR_RETURN(TableDescription d, s.DescribeTable(table));
  TL_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonArgument(what, text));
  return store::RowFromJson(d.meta, j, missing, key_only);
}

void PrintWriteResult(const WriteResult& r) {
  if (!r.primary_key) return;
  PrintJsonLine(store::RowToJson(r.row ? *r.row : Row{*r.primary_key, {}}));
}

// The row argument as given; an empty one (an unset shell variable) is a mistake, not a
// request to read standard input.
Result<std::string> RowArgument(const WriteArgs& a) {
  if (a.row && a.row->find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(
        "the row argument is empty (an unset shell variable?): give a JSON object, or leave "
        "the argument out to read JSON lines from standard input");
  }
  return a.row.value_or("");
}

void Said(const std::string& what) { std::fprintf(stderr, "%s\n", what.c_str()); }

Status Put(const GlobalOptions& g, const WriteArgs& a) {
  TL_ASSIGN_OR_RETURN(std::string text, RowArgument(a));
  if (!a.row) {
    if (Lower(a.expect) != "ignore" || !a.conditions.empty()) {
      return Status::InvalidArgument("--expect and --if apply to a single row, not to stdin");
    }
    TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kWrite, a.memory_mb));
    return BulkLoad(*s, a.table, "jsonl", "-", "put");
  }
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kWrite));
  TL_ASSIGN_OR_RETURN(
      store::JsonRow row,
      ParseRowArgument(*s, a.table, "row", text, store::MissingKey::kAutoIncrement, false));
  PutRowRequest r{a.table, std::move(row.primary_key), std::move(row.cells), {}, ReturnType::kNone};
  TL_ASSIGN_OR_RETURN(r.condition, BuildCondition(a));
  bool auto_increment = false;
  for (const auto& c : r.primary_key) auto_increment |= c.value.type() == ValueType::kAutoIncrement;
  if (auto_increment) r.return_type = ReturnType::kPrimaryKey;  // show the key assigned
  TL_ASSIGN_OR_RETURN(WriteResult w, s->PutRow(r));
  PrintWriteResult(w);
  Said(fmt::format("put: wrote 1 row to table '{}'", a.table));
  return Status::OK();
}

Result<int64_t> ParseInt(const std::string& what, const std::string& text) {
  size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos == 0 || pos != text.size()) {
    return Status::InvalidArgument(fmt::format("{}: '{}' is not an integer", what, text));
  }
  return static_cast<int64_t>(v);
}

// Splits "COL<sep>REST" into its two parts.
Result<std::pair<std::string, std::string>> SplitAt(const std::string& what,
                                                    const std::string& text, char sep) {
  size_t pos = text.find(sep);
  if (pos == std::string::npos || pos == 0) {
    return Status::InvalidArgument(fmt::format("{} '{}' is not COLUMN{}VALUE", what, text, sep));
  }
  return std::make_pair(text.substr(0, pos), text.substr(pos + 1));
}

Status Update(const GlobalOptions& g, const WriteArgs& a) {
  TL_ASSIGN_OR_RETURN(std::string text, RowArgument(a));
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kWrite));
  TL_ASSIGN_OR_RETURN(store::JsonRow row,
                      ParseRowArgument(*s, a.table, "row", text, store::MissingKey::kError, false));
  UpdateRowRequest r;
  r.table = a.table;
  r.primary_key = std::move(row.primary_key);
  for (auto& c : row.cells) {
    r.updates.push_back({ColumnUpdate::Op::kPut, c.name, std::move(c.value), c.timestamp});
  }
  for (const auto& col : a.deletes) {
    r.updates.push_back({ColumnUpdate::Op::kDeleteAllVersions, col, Value(), kNoTimestamp});
  }
  for (const auto& text : a.delete_versions) {
    TL_ASSIGN_OR_RETURN(auto parts, SplitAt("--delete-version", text, '@'));
    TL_ASSIGN_OR_RETURN(int64_t ts,
                        ParseInt(fmt::format("--delete-version '{}'", text), parts.second));
    r.updates.push_back({ColumnUpdate::Op::kDeleteOneVersion, parts.first, Value(), ts});
  }
  for (const auto& text : a.increments) {
    TL_ASSIGN_OR_RETURN(auto parts, SplitAt("--increment", text, '='));
    TL_ASSIGN_OR_RETURN(int64_t delta,
                        ParseInt(fmt::format("--increment '{}'", text), parts.second));
    r.updates.push_back(
        {ColumnUpdate::Op::kIncrement, parts.first, Value::Integer(delta), kNoTimestamp});
  }
  TL_ASSIGN_OR_RETURN(r.condition, BuildCondition(a));
  TL_RETURN_IF_ERROR(s->UpdateRow(r).status());
  Said(fmt::format("update: changed {} column(s) of a row of table '{}'", r.updates.size(),
                   a.table));
  return Status::OK();
}

Status Delete(const GlobalOptions& g, const WriteArgs& a) {
  TL_ASSIGN_OR_RETURN(std::string text, RowArgument(a));
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kWrite));
  TL_ASSIGN_OR_RETURN(store::JsonRow row,
                      ParseRowArgument(*s, a.table, "key", text, store::MissingKey::kError, true));
  DeleteRowRequest r{a.table, std::move(row.primary_key), {}, ReturnType::kNone};
  TL_ASSIGN_OR_RETURN(r.condition, BuildCondition(a));
  TL_RETURN_IF_ERROR(s->DeleteRow(r).status());
  // As in Tablestore, deleting a row that does not exist succeeds.
  Said(fmt::format("delete: the row is gone from table '{}'", a.table));
  return Status::OK();
}

struct ReadArgs {
  std::string table;
  std::string key;    // get
  std::string start;  // range
  std::string end;
  std::optional<int64_t> limit;
  bool backward = false;
  std::vector<std::string> columns;
  int32_t max_versions = 0;
  std::vector<std::string> conditions;
};

// The names of --columns a,b (repeatable): every name valid, none empty (",," is a mistake).
Result<std::vector<std::string>> ParseColumns(const std::vector<std::string>& args) {
  std::vector<std::string> columns;
  for (const auto& arg : args) {
    size_t start = 0;
    while (true) {
      size_t comma = arg.find(',', start);
      columns.push_back(arg.substr(start, comma == std::string::npos ? comma : comma - start));
      TL_RETURN_IF_ERROR(store::ValidateName("column", columns.back()).WithContext("--columns"));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return columns;
}

Status Get(const GlobalOptions& g, const ReadArgs& a) {
  TL_ASSIGN_OR_RETURN(std::vector<std::string> columns, ParseColumns(a.columns));
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kRead));
  TL_ASSIGN_OR_RETURN(store::JsonRow key,
                      ParseRowArgument(*s, a.table, "key", a.key, store::MissingKey::kError, true));
  GetRowRequest r;
  r.table = a.table;
  r.primary_key = std::move(key.primary_key);
  r.columns_to_get = columns;
  r.max_versions = a.max_versions;
  TL_ASSIGN_OR_RETURN(r.filter, ParseConditions(a.conditions));
  TL_ASSIGN_OR_RETURN(std::optional<Row> row, s->GetRow(r));
  if (!row) return Status::OK();  // as Tablestore answers: an empty row, no error
  PrintJsonLine(store::RowToJson(*row, a.max_versions > 1));
  return Status::OK();
}

Status Range(const GlobalOptions& g, const ReadArgs& a) {
  if (a.limit && *a.limit < 1) {
    return Status::InvalidArgument(fmt::format("--limit takes at least 1, got {}", *a.limit));
  }
  TL_ASSIGN_OR_RETURN(std::vector<std::string> columns, ParseColumns(a.columns));
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kRead));
  // A bound left out is open. A partial bound compares as its prefix: forward, {"PK1":3}
  // starts at the first row with PK1 = 3 and, as an end, stops before it; backward mirrors it.
  auto partial = a.backward ? store::MissingKey::kInfMax : store::MissingKey::kInfMin;
  auto open_start = a.backward ? store::MissingKey::kInfMax : store::MissingKey::kInfMin;
  auto open_end = a.backward ? store::MissingKey::kInfMin : store::MissingKey::kInfMax;
  TL_ASSIGN_OR_RETURN(store::JsonRow start,
                      ParseRowArgument(*s, a.table, "--start", a.start.empty() ? "{}" : a.start,
                                       a.start.empty() ? open_start : partial, true));
  TL_ASSIGN_OR_RETURN(store::JsonRow end,
                      ParseRowArgument(*s, a.table, "--end", a.end.empty() ? "{}" : a.end,
                                       a.end.empty() ? open_end : partial, true));
  GetRangeRequest r;
  r.table = a.table;
  r.direction = a.backward ? Direction::kBackward : Direction::kForward;
  r.inclusive_start = std::move(start.primary_key);
  r.exclusive_end = std::move(end.primary_key);
  r.columns_to_get = columns;
  r.max_versions = a.max_versions;
  TL_ASSIGN_OR_RETURN(r.filter, ParseConditions(a.conditions));
  int64_t printed = 0;
  while (true) {
    if (a.limit) r.limit = static_cast<int32_t>(std::min<int64_t>(*a.limit - printed, 5000));
    TL_ASSIGN_OR_RETURN(GetRangeResult page, s->GetRange(r));
    for (const auto& row : page.rows) PrintJsonLine(store::RowToJson(row, a.max_versions > 1));
    printed += static_cast<int64_t>(page.rows.size());
    if (!page.next_start_primary_key || (a.limit && printed >= *a.limit)) break;
    r.inclusive_start = std::move(*page.next_start_primary_key);
  }
  return Status::OK();
}

struct StreamArgs {
  std::string table;
  int64_t from = 0;
  std::optional<int64_t> limit;
};

Status StreamRead(const GlobalOptions& g, const StreamArgs& a) {
  if (a.from < 0) {
    return Status::InvalidArgument(fmt::format("--from takes a sequence >= 0, got {}", a.from));
  }
  if (a.limit && *a.limit < 1) {
    return Status::InvalidArgument(fmt::format("--limit takes at least 1, got {}", *a.limit));
  }
  TL_ASSIGN_OR_RETURN(auto s, OpenStore(g, Access::kRead));
  uint64_t from = static_cast<uint64_t>(a.from);
  int64_t printed = 0;
  while (!a.limit || printed < *a.limit) {
    int32_t batch =
        a.limit ? static_cast<int32_t>(std::min<int64_t>(*a.limit - printed, 1000)) : 1000;
    TL_ASSIGN_OR_RETURN(StreamReadResult page, s->ReadStream(a.table, from, batch));
    for (const auto& rec : page.records) {
      nlohmann::ordered_json cols = nlohmann::ordered_json::array();
      for (const auto& c : rec.columns) {
        nlohmann::ordered_json col = {{"op", ColumnUpdateOpName(c.op)}, {"name", c.name}};
        if (c.op == ColumnUpdate::Op::kPut) col["value"] = store::ValueToJson(c.value);
        if (c.timestamp != kNoTimestamp) col["ts"] = c.timestamp;
        cols.push_back(col);
      }
      nlohmann::ordered_json line = {{"seq", rec.sequence},
                                     {"op", ChangeOpName(rec.op)},
                                     {"commit_time_us", rec.commit_time_us},
                                     {"primary_key", store::RowToJson(Row{rec.primary_key, {}})},
                                     {"columns", cols}};
      // A server's stream records carry what the write did, not the row after it.
      if (!g.remote()) line["row"] = store::RowToJson(Row{rec.primary_key, rec.row_image});
      PrintJsonLine(line);
      ++printed;
    }
    if (page.records.empty() || page.next_sequence == from) break;
    from = page.next_sequence;
  }
  return Status::OK();
}

void AddWriteOptions(CLI::App* cmd, WriteArgs* a, const char* row_help, bool row_required) {
  cmd->add_option("table", a->table, "table name")->required();
  auto* row = cmd->add_option("row", a->row, row_help);
  if (row_required) row->required();
  cmd->add_option("--expect", a->expect, "row existence: ignore (default), exist, not-exist");
  cmd->add_option("--if", a->conditions, "column condition 'COLUMN OP VALUE' (repeatable, ANDed)")
      ->allow_extra_args(false);
}

void AddReadOptions(CLI::App* cmd, ReadArgs* a) {
  cmd->add_option("table", a->table, "table name")->required();
  cmd->add_option("--columns", a->columns, "columns to return, a,b,c (default all)")
      ->allow_extra_args(false);
  cmd->add_option("--max-versions", a->max_versions, "versions per column (default 1)");
  cmd->add_option("--if", a->conditions, "row filter 'COLUMN OP VALUE' (repeatable, ANDed)")
      ->allow_extra_args(false);
}

}  // namespace

void RegisterRowCommands(CLI::App& app, GlobalOptions& g, Status& status) {
  auto put_args = std::make_shared<WriteArgs>();
  auto* put = app.add_subcommand("put", "write a row (replacing it), or JSON lines from stdin");
  AddGlobalOptions(put, &g);
  AddWriteOptions(put, put_args.get(), "row JSON; omit to read JSON lines from stdin", false);
  put->add_option("--memory-mb", put_args->memory_mb, kLoadMemoryHelp)
      ->check(CLI::Range(1, 1 << 20));
  put->callback([&g, &status, put_args] { status = Put(g, *put_args); });

  auto update_args = std::make_shared<WriteArgs>();
  auto* update = app.add_subcommand("update", "change columns of a row");
  AddGlobalOptions(update, &g);
  AddWriteOptions(update, update_args.get(), "primary key plus the columns to put, as JSON", true);
  update->add_option("--delete", update_args->deletes, "delete every version of COLUMN")
      ->allow_extra_args(false);
  update->add_option("--delete-version", update_args->delete_versions, "delete COLUMN@TIMESTAMP")
      ->allow_extra_args(false);
  update->add_option("--increment", update_args->increments, "add to an INTEGER: COLUMN=DELTA")
      ->allow_extra_args(false);
  update->callback([&g, &status, update_args] { status = Update(g, *update_args); });

  auto delete_args = std::make_shared<WriteArgs>();
  auto* del = app.add_subcommand("delete", "delete a row");
  AddGlobalOptions(del, &g);
  AddWriteOptions(del, delete_args.get(), "primary key JSON", true);
  del->callback([&g, &status, delete_args] { status = Delete(g, *delete_args); });

  auto get_args = std::make_shared<ReadArgs>();
  auto* get = app.add_subcommand("get", "print one row as JSON");
  AddGlobalOptions(get, &g);
  AddReadOptions(get, get_args.get());
  get->add_option("key", get_args->key, "primary key JSON")->required();
  get->callback([&g, &status, get_args] { status = Get(g, *get_args); });

  auto range_args = std::make_shared<ReadArgs>();
  auto* range = app.add_subcommand("range", "print the rows of a key range as JSON lines");
  AddGlobalOptions(range, &g);
  AddReadOptions(range, range_args.get());
  range->add_option("--start", range_args->start, "inclusive start key JSON (default: open)");
  range->add_option("--end", range_args->end, "exclusive end key JSON (default: open)");
  range->add_option("--limit", range_args->limit, "at most N rows");
  range->add_flag("--backward", range_args->backward, "read from high keys to low");
  range->callback([&g, &status, range_args] { status = Range(g, *range_args); });

  auto* stream = app.add_subcommand("stream", "the change stream");
  stream->require_subcommand(1);
  AddGlobalOptions(stream, &g);
  auto stream_args = std::make_shared<StreamArgs>();
  auto* read = stream->add_subcommand("read", "print change records as JSON lines");
  AddGlobalOptions(read, &g);
  read->add_option("table", stream_args->table, "table name")->required();
  read->add_option("--from", stream_args->from, "first sequence to read (default 0)");
  read->add_option("--limit", stream_args->limit, "at most N records");
  read->callback([&g, &status, stream_args] { status = StreamRead(g, *stream_args); });
}

}  // namespace tablelake::cli
