// The `tablelake` command. Every command exits 0 on success, or prints one line naming the
// problem on standard error and exits 1 (2 for a command line it cannot parse).
#include <cstdio>
#include <string>

#include "cli/cli_util.h"
#include "common/printable.h"

namespace {

using tablelake::Status;
using tablelake::StatusCode;

// Errors the service would answer the same request with keep Tablestore's code (scripts
// written against the cloud match on them); local problems - a bad argument, a folder in
// use, a file that cannot be read - are plain messages.
std::string ErrorLine(const Status& s) {
  std::string message = tablelake::Printable(s.message(), 1 << 20);
  switch (s.code()) {
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kConditionFailed:
    case StatusCode::kInvalidPrimaryKey:
    case StatusCode::kQuotaExhausted:
    case StatusCode::kPermissionDenied:
    case StatusCode::kTrimmedData:
      return std::string(s.OtsErrorCode()) + ": " + message;
    default:
      return message;
  }
}

// `tablelake foo` and `tablelake help`: CLI11 would say only "A subcommand is required".
int UnknownCommand(CLI::App& app, const std::string& word) {
  if (word == "help") {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  std::string names;
  for (const auto* sub : app.get_subcommands({}))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  std::fprintf(stderr, "error: unknown command '%s'; commands are %s (tablelake --help)\n",
               tablelake::Printable(word).c_str(), names.c_str());
  return 2;
}

// The first word that is not an option (nor a global option's value): the command.
const char* CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" || arg == "--endpoint" || arg == "--instance") {
      ++i;
    } else if (arg.empty() || arg[0] != '-') {
      return argv[i];
    }
  }
  return nullptr;
}

bool IsCommand(CLI::App& app, const std::string& word) {
  for (const auto* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tablelake;
  // Standard input is read through std::cin only (nothing here reads it with stdio): unsynced,
  // it is read in blocks instead of a getc and ungetc per byte (a 760 MB load from a pipe: 56 s ->
  // 32 s).
  std::ios::sync_with_stdio(false);
  cli::CommandStart();  // the clock of every summary starts here
  CLI::App app{"Tablelake: a table store that delivers its tables into a data lake as Parquet"};
  app.name("tablelake");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tablelake ") + TABLELAKE_VERSION);
  cli::GlobalOptions global;
  global.data_dir = cli::GlobalOptions::DefaultDataDir();
  global.instance = cli::GlobalOptions::DefaultInstance();
  cli::AddGlobalOptions(&app, &global);
  Status status;
  cli::RegisterTableCommands(app, global, status);
  cli::RegisterRowCommands(app, global, status);
  cli::RegisterImportCommand(app, global, status);
  cli::RegisterDeliveryCommands(app, global, status);
  cli::RegisterServeCommand(app, global, status);
  if (const char* word = CommandWord(argc, argv); word != nullptr && !IsCommand(app, word)) {
    return UnknownCommand(app, word);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", Printable(e.what(), 1 << 20).c_str());
    return 2;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", ErrorLine(status).c_str());
    return 1;
  }
  return 0;
}
