// Shared pieces of the `tablelake` command: opening the store, parsing arguments, printing.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "store/row_json.h"
#include "tablelake/delivery.h"
#include "tablelake/table_store.h"

namespace tablelake::cli {

// Options every command shares. `data_dir` is set by the global --data option; its default is
// $TABLELAKE_DATA, else ./tablelake-data. With --endpoint, commands work on a server's instance
// instead (`instance`: --instance, else $TABLELAKE_INSTANCE), signing with the key in
// $TABLELAKE_ACCESS_KEY_ID and $TABLELAKE_ACCESS_KEY_SECRET.
struct GlobalOptions {
  std::string data_dir;
  std::string endpoint;
  std::string instance;
  static std::string DefaultDataDir();
  static std::string DefaultInstance();
  bool remote() const { return !endpoint.empty(); }
  // Where commands work: "folder DIR" or "instance NAME at ENDPOINT".
  std::string Where() const;
};

// What a command does with the data folder. Only kCreate makes a missing folder (so a typo in
// --data is an error, not a new empty store); kRead works while another process writes the
// folder, reading what it has committed.
enum class Access { kRead, kWrite, kCreate };
// `load_memory_mb`, when positive: the memory a bulk load stages rows in
// (StoreOptions::bulk_load_run_bytes).
Result<std::unique_ptr<TableStore>> OpenStore(const GlobalOptions& g, Access access,
                                              int64_t load_memory_mb = 0);
// The delivery service beside `store` (from OpenStore): the server's with --endpoint.
Result<std::unique_ptr<DeliveryService>> OpenDelivery(const GlobalOptions& g, TableStore* store,
                                                      const DeliveryOptions& options = {});

// When the command started (main's first step): summaries time the whole command.
std::chrono::steady_clock::time_point CommandStart();

// Option values compare without case (--format CSV, --type BASE, --time-zone utc).
std::string Lower(std::string s);

// Parses command-line JSON, naming the argument in the error.
Result<nlohmann::json> ParseJsonArgument(const std::string& what, const std::string& text);

// Parses `--if 'COLUMN OP VALUE'` (OP one of = != > >= < <=, VALUE in the row JSON form);
// several are ANDed. Returns std::nullopt for none.
Result<std::optional<Filter>> ParseConditions(const std::vector<std::string>& conditions);

// Parses ignore|exist|not-exist.
Result<RowExistence> ParseExistence(const std::string& text);

// Adds the global options to a (sub)command so they may follow the subcommand too.
void AddGlobalOptions(CLI::App* app, GlobalOptions* g);

void PrintJsonLine(const nlohmann::ordered_json& j);

void RegisterTableCommands(CLI::App& app, GlobalOptions& g, Status& status);
void RegisterRowCommands(CLI::App& app, GlobalOptions& g, Status& status);
void RegisterImportCommand(CLI::App& app, GlobalOptions& g, Status& status);
void RegisterDeliveryCommands(CLI::App& app, GlobalOptions& g, Status& status);
void RegisterServeCommand(CLI::App& app, GlobalOptions& g, Status& status);

}  // namespace tablelake::cli

namespace tablelake::cli {

inline constexpr const char* kLoadMemoryHelp =
    "memory the load stages rows in, MiB (default 32); past it rows go to sorted files in the "
    "data folder, ingested at once at the end";

// Parses rows of one text format, record by record: a line, or in CSV the lines of a record
// whose quoted fields hold line breaks.
class RowParser {
 public:
  virtual ~RowParser() = default;
  // A record's row: as views (into the record and the parser, valid until its next Parse) when
  // the parser can give them, else as a row; neither for a record that holds none (blank, CSV
  // header).
  struct Parsed {
    const RowView* view = nullptr;
    std::optional<store::JsonRow> row;
  };
  // The row of `line` (a record). The store::JsonLineParser::kPadding bytes after it may be read.
  virtual Result<Parsed> Parse(std::string_view line) = 0;
};
// format: "jsonl" or "csv".
Result<std::unique_ptr<RowParser>> NewRowParser(const std::string& format, const TableMeta& meta);

// Loads every row of `path` (a file, or "-" for standard input) into `table` in one pass and
// one atomic write: a bad line is reported with its number and nothing is written. Shows
// progress and a summary timed over the whole load on standard error.
Status BulkLoad(TableStore& store, const std::string& table, const std::string& format,
                const std::string& path, const char* label);

}  // namespace tablelake::cli
