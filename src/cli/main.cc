// The `tablelake` command. Every command exits 0 on success, or prints one line naming the
// problem on standard error and exits non-zero.
#include <cstdio>

#include "cli/cli_util.h"

int main(int argc, char** argv) {
  using namespace tablelake;
  CLI::App app{"Tablelake: a table store that delivers its tables into a data lake as Parquet"};
  app.require_subcommand(1);
  cli::GlobalOptions global;
  cli::AddGlobalOptions(&app, &global);
  Status status;
  cli::RegisterTableCommands(app, global, status);
  cli::RegisterRowCommands(app, global, status);
  cli::RegisterImportCommand(app, global, status);
  cli::RegisterDeliveryCommands(app, global, status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
