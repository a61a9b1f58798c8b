#include "cli/cli_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "client/remote_store.h"
#include "common/printable.h"
#include "fmt/format.h"
#include "store/folder.h"
#include "store/row_json.h"

namespace tablelake::cli {

std::string GlobalOptions::DefaultInstance() {
  const char* env = std::getenv("TABLELAKE_INSTANCE");
  return env != nullptr ? env : "";
}

std::string GlobalOptions::DefaultDataDir() {
  const char* env = std::getenv("TABLELAKE_DATA");
  return env != nullptr && *env != '\0' ? env : "./tablelake-data";
}

std::chrono::steady_clock::time_point CommandStart() {
  static const auto start = std::chrono::steady_clock::now();
  return start;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string GlobalOptions::Where() const {
  if (remote()) return fmt::format("instance '{}' at {}", instance, endpoint);
  return fmt::format("folder {}", data_dir);
}

namespace {

Result<std::unique_ptr<TableStore>> OpenRemote(const GlobalOptions& g) {
  if (g.endpoint.rfind("http://", 0) != 0 && g.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(fmt::format(
        "--endpoint '{}' is not a server's http://HOST:PORT or https://HOST (a delivery task's "
        "bucket endpoint is --oss-endpoint)",
        Printable(g.endpoint)));
  }
  if (g.instance.empty()) {
    return Status::InvalidArgument(
        "--endpoint needs the instance: give --instance NAME or set TABLELAKE_INSTANCE");
  }
  const char* id = std::getenv("TABLELAKE_ACCESS_KEY_ID");
  const char* secret = std::getenv("TABLELAKE_ACCESS_KEY_SECRET");
  if (id == nullptr || *id == '\0' || secret == nullptr || *secret == '\0') {
    return Status::InvalidArgument(
        "--endpoint needs an access key: set TABLELAKE_ACCESS_KEY_ID and "
        "TABLELAKE_ACCESS_KEY_SECRET (never on the command line)");
  }
  remote::RemoteOptions options{g.endpoint, g.instance, id, secret, {}};
  return remote::OpenRemoteStore(options);
}

// `tablelake serve` leaves where it listens in the folder it serves (SERVING, a JSON object),
// so that a refused command can say how to reach the folder instead.
std::string ServedHint(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / "SERVING");
  auto j = nlohmann::json::parse(in, nullptr, false);
  auto user = store::FolderInUse(dir);
  if (j.is_discarded() || !j.is_object() || !user || j.value("pid", int64_t{0}) != user->pid) {
    return "";
  }
  return fmt::format(
      "'{}' is served by `tablelake serve` (pid {}): run the command through it with "
      "--endpoint {} --instance {} (the key in TABLELAKE_ACCESS_KEY_ID and "
      "TABLELAKE_ACCESS_KEY_SECRET)",
      dir, user->pid, j.value("endpoint", ""), j.value("instance", ""));
}

// A folder held by a delivery runner that keeps going: writes and deliveries at once are what
// `serve` is for.
std::string RunnerHint(const std::string& dir) {
  auto user = store::FolderInUse(dir);
  if (!user || user->command.find("delivery run") == std::string::npos ||
      user->command.find("--once") != std::string::npos) {
    return "";
  }
  return ". To write while delivery tasks run, run them in `tablelake serve` instead: it takes "
         "writes over its endpoint (--endpoint) and runs every task";
}

}  // namespace

Result<std::unique_ptr<DeliveryService>> OpenDelivery(const GlobalOptions& g, TableStore* store,
                                                      const DeliveryOptions& options) {
  if (g.remote()) return remote::OpenRemoteDelivery(store);
  return DeliveryService::Open(store, options);
}

Result<std::unique_ptr<TableStore>> OpenStore(const GlobalOptions& g, Access access,
                                              int64_t load_memory_mb) {
  if (g.remote()) return OpenRemote(g);
  StoreOptions options;
  if (load_memory_mb > 0) options.bulk_load_run_bytes = load_memory_mb << 20;
  options.create_if_missing = access == Access::kCreate;
  options.read_only = access == Access::kRead;
  const std::string& dir = g.data_dir;
  std::error_code ec;
  if (access != Access::kCreate && std::filesystem::is_directory(dir, ec) &&
      !std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return Status::InvalidArgument(fmt::format(
        "'{}' is not a Tablelake data folder (create a table there first, or point --data or "
        "TABLELAKE_DATA at one)",
        dir));
  }
  auto store = TableStore::Open(dir, options);
  if (store.ok()) return store;
  const Status& s = store.status();
  // Folder problems are the command line's, not a request's: no Tablestore code.
  if (s.code() == StatusCode::kNotFound) {
    return Status::InvalidArgument(s.message() +
                                   " (`tablelake table create` makes it; --data or TABLELAKE_DATA "
                                   "choose another)");
  }
  if (s.code() == StatusCode::kUnavailable) {
    if (std::string hint = ServedHint(dir); !hint.empty()) return Status::Unavailable(hint);
    return Status::Unavailable(
        s.message() +
        ": stop it or wait for it to finish; reading commands (table list, table describe, get, "
        "range, stream read, delivery list, describe and files) work meanwhile" +
        RunnerHint(dir));
  }
  if (s.message().find("no space left on device") != std::string::npos) {
    return Status(s.code(),
                  s.message() + " (free space on its file system; reading commands still work)");
  }
  return s;
}

Result<nlohmann::json> ParseJsonArgument(const std::string& what, const std::string& text) {
  auto j = store::ParseJson(text);
  if (!j.ok()) return j.status().WithContext(what);
  return j;
}

Result<std::optional<Filter>> ParseConditions(const std::vector<std::string>& conditions) {
  static const std::regex kCondition(
      R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|>=|<=|=|>|<)\s*(.+?)\s*$)");
  std::vector<Filter> filters;
  for (const auto& text : conditions) {
    std::smatch m;
    if (text.find("==") != std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("condition '{}': the operator for equality is =, not ==", text));
    }
    if (!std::regex_match(text, m, kCondition)) {
      return Status::InvalidArgument(fmt::format(
          "condition '{}' is not 'COLUMN OP VALUE' with OP one of = != > >= < <=", text));
    }
    static const std::map<std::string, Comparator> kOps = {
        {"=", Comparator::kEqual},       {"!=", Comparator::kNotEqual},
        {">", Comparator::kGreaterThan}, {">=", Comparator::kGreaterEqual},
        {"<", Comparator::kLessThan},    {"<=", Comparator::kLessEqual}};
    TL_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonArgument("condition value", m[3].str()));
    TL_ASSIGN_OR_RETURN(Value v, store::ValueFromJson(j, m[1].str()));
    filters.push_back(Filter::Compare(m[1].str(), kOps.at(m[2].str()), std::move(v),
                                      /*pass_if_missing=*/false));
  }
  if (filters.empty()) return std::optional<Filter>();
  if (filters.size() == 1) return std::optional<Filter>(std::move(filters[0]));
  return std::optional<Filter>(Filter::Combine(LogicalOp::kAnd, std::move(filters)));
}

Result<RowExistence> ParseExistence(const std::string& raw) {
  std::string text = Lower(raw);
  if (text == "ignore") return RowExistence::kIgnore;
  if (text == "exist") return RowExistence::kExpectExist;
  if (text == "not-exist") return RowExistence::kExpectNotExist;
  return Status::InvalidArgument(
      fmt::format("--expect takes ignore, exist or not-exist, got '{}'", Printable(text)));
}

void AddGlobalOptions(CLI::App* app, GlobalOptions* g) {
  app->add_option("--data", g->data_dir,
                  "data folder (default $TABLELAKE_DATA, else ./tablelake-data)");
  app->add_option("--endpoint", g->endpoint,
                  "work on a server (http://HOST:PORT) instead of a data folder; the key comes "
                  "from $TABLELAKE_ACCESS_KEY_ID and $TABLELAKE_ACCESS_KEY_SECRET");
  app->add_option("--instance", g->instance,
                  "the server's instance (default $TABLELAKE_INSTANCE); serve: the name it "
                  "answers to");
}

void PrintJsonLine(const nlohmann::ordered_json& j) {
  // A STRING that is not UTF-8 (written before writes refused them) prints with U+FFFD in
  // place of the bad bytes rather than end the command.
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), stdout);
}

}  // namespace tablelake::cli
