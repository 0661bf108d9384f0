// The iocgrid subcommands. Each Add*Command registers its CLI11 subcommand (flags, help text)
// on `app` and returns a Command whose `run` is called by main() when the user chose it.
// `run` returns the process exit status.
//
// Exit status convention (like grep): 0 = found something / success, 1 = ran fine and found
// nothing, 2 = error (a one-line message on stderr).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace iocgrid::app {

inline constexpr int kExitFound = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitError = 2;

struct Command {
  CLI::App* subcommand = nullptr;
  std::function<int()> run;
};

Command AddMatchCommand(CLI::App& app);
Command AddExtractCommand(CLI::App& app);
Command AddNodeCommand(CLI::App& app);
Command AddPortalCommand(CLI::App& app);
Command AddSearchCommand(CLI::App& app);
Command AddSiftCommand(CLI::App& app);
Command AddWatchCommand(CLI::App& app);

}  // namespace iocgrid::app
