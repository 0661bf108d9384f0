// Classes of observables and the rules that decide them (issue 9, DESIGN.md "The collective
// loop"). The rules are data: DefaultRules() below, documented in docs/sift.md, overridable
// by a TOML file (ParseRules).
//
//   kind of a member's data      -> class      (a member declares its kind once: `data_kind`)
//   list name / path tokens      -> kind       (for --against files without --kind)
//   classes of all hits          -> one class  (the first class in `precedence` that any hit has)
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace iocgrid::sift {

enum class Class : uint8_t { kThreat = 0, kNoise, kAnonymizer, kBenign, kUnknown };
inline constexpr int kClassCount = 5;
inline constexpr std::array<Class, kClassCount> kAllClasses = {
    Class::kThreat, Class::kNoise, Class::kAnonymizer, Class::kBenign, Class::kUnknown};

// "threat", "noise", "anonymizer", "benign", "unknown".
std::string_view ClassName(Class c);
bool ParseClass(std::string_view name, Class* out);

struct ListRule {
  std::vector<std::string> tokens;  // any of these words in the list's name or path
  std::string kind;
};

struct ClassRules {
  // Kind of data -> class, e.g. {"honeypot", kNoise}.
  std::vector<std::pair<std::string, Class>> kinds;
  // First rule with a token among the words of a list's path and name gives its kind.
  std::vector<ListRule> lists;
  std::string default_event_kind = "threat";        // MISP events and STIX bundles
  std::string default_warninglist_kind = "benign";  // MISP warninglists no rule names
  std::string default_list_kind = "threat";         // plain, CSV and IPsum lists
  std::string default_member_kind = "threat";       // portal members without data_kind
  // Strongest first: an observable hit by a threat list and a VPN list is a threat.
  std::vector<Class> precedence = {Class::kThreat, Class::kNoise, Class::kAnonymizer,
                                   Class::kBenign};

  // The class of a kind name. Errors: kInvalidArgument for a kind no rule knows.
  Result<Class> ClassOfKind(std::string_view kind) const;
  // The kind of a data file from its path and list/event name (lower-cased words split at
  // anything but letters and digits), or `fallback` when no rule matches.
  std::string KindOfList(std::string_view path, std::string_view name,
                         std::string_view fallback) const;
  // The class of an observable from the classes of its hits (kUnknown when none).
  Class Decide(std::span<const Class> hit_classes) const;
};

ClassRules DefaultRules();

// Reads a TOML rules file over the defaults:
//   precedence = ["threat", "noise", "anonymizer", "benign"]
//   [kinds]            honeypot = "noise"          (adds or replaces)
//   [[lists]]          tokens = ["tor", "exit"]  kind = "tor"   (tried before the defaults)
//   [defaults]         event = "threat"  warninglist = "benign"  list = "threat"  member = "threat"
// Errors: kInvalidArgument naming the key and the problem.
Result<ClassRules> ParseRules(std::string_view toml_text, ClassRules base = DefaultRules());

}  // namespace iocgrid::sift
