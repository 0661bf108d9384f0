// A check of the command line against the CLI11 command tree, run before CLI11 parses it: an
// unknown flag or subcommand is named, with the closest known one. CLI11 reports the first
// missing required option instead (`--agains` gave "--against is required", an unknown
// subcommand "A subcommand is required"; issue 8).
//
// Thread-safety: reads `app` only.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace iocgrid::app {

// Walks argv[1..argc) through `app`'s subcommands and options. Returns the one-line problem
// ("unknown flag --agains for `iocgrid match`; did you mean --against?", or an integer flag's
// value that is not a plain decimal of at most 18 digits, which CLI11 would clamp or read as
// octal), or "" when every flag and subcommand is known (other values and positionals are left
// to CLI11).
std::string FindUnknownArgument(const CLI::App& app, int argc, const char* const* argv);

}  // namespace iocgrid::app
