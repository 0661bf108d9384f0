#include "app/cli_check.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace iocgrid::app {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "; did you mean X?" for the closest candidate within a few edits, else "".
std::string Suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance || (best == nullptr && c.rfind(word, 0) == 0 && word.size() >= 3)) {
      best = &c;
      best_distance = std::min(d, best_distance);
    }
  }
  return best == nullptr ? std::string() : "; did you mean " + *best + "?";
}

std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) {
    path = app->get_name() + (path.empty() ? "" : " " + path);
  }
  return "`" + path + "`";
}

std::vector<const CLI::App*> Subcommands(const CLI::App* app) {
  return app->get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); });
}

std::vector<std::string> FlagNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app->get_options()) {
    for (const std::string& n : opt->get_lnames()) names.push_back("--" + n);
    for (const std::string& n : opt->get_snames()) names.push_back("-" + n);
  }
  return names;
}

bool HasPositionals(const CLI::App* app) {
  for (const CLI::Option* opt : app->get_options()) {
    if (!opt->nonpositional()) return true;
  }
  return false;
}

// CLI11 2.1 reads integers with strtoull/strtoll in base 0: a 20-digit number became the
// type's largest value without a word, and "010" was octal 8. What an integer flag takes is
// checked here instead: decimal digits (a minus sign for signed ones), no leading zeros, at
// most 18 digits (every such number fits in 64 bits; narrower types are range-checked by CLI11).
std::string BadInteger(const CLI::Option* opt, std::string_view flag, std::string_view value) {
  // "UINT", or "UINT:..." with a validator's description.
  const std::string full = opt->get_type_name();
  const std::string type = full.substr(0, full.find(':'));
  const bool is_unsigned = type == "UINT";
  if (!is_unsigned && type != "INT") return {};
  std::string_view digits = value;
  if (!is_unsigned && !digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  const bool ok =
      !digits.empty() && digits.size() <= 18 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      (digits.size() == 1 || digits[0] != '0');
  if (ok) return {};
  return std::string(flag) + ": '" + std::string(value) + "' is not a " +
         (is_unsigned ? "non-negative " : "") +
         "whole number (decimal digits, no leading zeros, at most 18 of them)";
}

}  // namespace

std::string FindUnknownArgument(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* current = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    const bool is_flag =
        arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9');  // "-5" is a value
    if (is_flag) {
      const bool is_long = arg.rfind("--", 0) == 0;
      const std::string name(is_long ? arg.substr(0, arg.find('=')) : arg.substr(0, 2));
      const CLI::Option* opt = current->get_option_no_throw(name);
      if (opt == nullptr) {
        return "unknown flag " + name + " for " + CommandPath(current) +
               Suggestion(name, FlagNames(current));
      }
      const bool takes_value = opt->get_type_size_max() > 0;
      const bool inline_value = is_long ? arg.find('=') != std::string_view::npos : arg.size() > 2;
      if (!takes_value) continue;
      if (inline_value) {
        std::string bad =
            BadInteger(opt, name, is_long ? arg.substr(arg.find('=') + 1) : arg.substr(2));
        if (!bad.empty()) return bad;
        continue;
      }
      if (opt->get_items_expected_max() <= 1) {
        ++i;  // its value
        if (i < argc) {
          std::string bad = BadInteger(opt, name, argv[i]);
          if (!bad.empty()) return bad;
        }
      } else {
        while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0')) ++i;
      }
      continue;
    }
    const auto subs = Subcommands(current);
    auto found = std::find_if(subs.begin(), subs.end(),
                              [&](const CLI::App* s) { return s->check_name(std::string(arg)); });
    if (found != subs.end()) {
      current = *found;
      continue;
    }
    if (!subs.empty() && !HasPositionals(current)) {
      std::vector<std::string> names;
      names.reserve(subs.size());
      for (const CLI::App* s : subs) names.push_back(s->get_name());
      return "unknown subcommand '" + std::string(arg) + "' for " + CommandPath(current) +
             Suggestion(arg, names);
    }
  }
  return {};
}

}  // namespace iocgrid::app
