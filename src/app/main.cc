// iocgrid: cross-organization threat-intelligence search. One binary, subcommands.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "app/cli_check.h"
#include "app/commands.h"
#include "net/http_client.h"

namespace {

constexpr const char* kDescription =
    "iocgrid: search indicators of compromise across an alliance of threat-intelligence "
    "members.\n\nCommon jobs:\n"
    "  iocgrid match --against DATA... QUERY     match a list of IoCs against local data files\n"
    "  iocgrid extract REPORT...                 pull IoCs out of report text\n"
    "  iocgrid node serve --data DIR             run a member node (MISP-compatible API)\n"
    "  iocgrid portal serve --config F           run the alliance portal (API and web UI)\n"
    "  iocgrid search --portal URL FILE          search the alliance from the command line\n"
    "  iocgrid sift --against DATA... LOG...     sort a web/WAF/IDS log's clients by what the "
    "alliance knows\n"
    "  iocgrid watch add --portal URL FILE       keep a search running, new hits to a webhook\n";

int Run(int argc, char** argv) {
  CLI::App app(kDescription, "iocgrid");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("iocgrid ") + IOCGRID_VERSION);
  std::vector<iocgrid::app::Command> commands;
  commands.push_back(iocgrid::app::AddMatchCommand(app));
  commands.push_back(iocgrid::app::AddExtractCommand(app));
  commands.push_back(iocgrid::app::AddNodeCommand(app));
  commands.push_back(iocgrid::app::AddPortalCommand(app));
  commands.push_back(iocgrid::app::AddSearchCommand(app));
  commands.push_back(iocgrid::app::AddSiftCommand(app));
  commands.push_back(iocgrid::app::AddWatchCommand(app));
  // Unknown flags and subcommands first, by name: CLI11 would report a missing required
  // option instead.
  if (std::string unknown = iocgrid::app::FindUnknownArgument(app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "iocgrid: %s (see --help)\n", unknown.c_str());
    return iocgrid::app::kExitError;
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
    // One line and exit 2, as for every other error; --help explains the flags.
    std::fprintf(stderr, "iocgrid: %s (see --help)\n", e.what());
    return iocgrid::app::kExitError;
  }
  for (const auto& command : commands) {
    if (command.subcommand->parsed()) {
      try {
        return command.run();
      } catch (const std::exception& e) {
        // Third-party code may throw (std, nlohmann, CLI11): fail closed with one line.
        std::fprintf(stderr, "iocgrid: internal error: %s\n", e.what());
        return iocgrid::app::kExitError;
      }
    }
  }
  return iocgrid::app::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  iocgrid::net::GlobalInit();  // before any thread (STYLE.md section 8)
  // Setting up the commands can throw too (std::bad_alloc, CLI11's ConstructionError): fail
  // closed with one line, as for a command.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iocgrid: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "iocgrid: internal error: unknown exception\n");
  }
  return iocgrid::app::kExitError;
}
