// Bare file names with an executable, script or macro-document extension ("invoice.exe"):
// grown back from the extension anchor, refused inside paths, URLs and longer names, and flagged
// when they are well-known system binaries or JavaScript libraries.
#include <algorithm>
#include <string_view>

#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

void Run::ScanFile(size_t anchor_end) {
  size_t dot = t_.rfind('.', anchor_end - 1);
  if (dot == std::string_view::npos) return;
  // A longer name ("a.exe.config", "evil.exe.example") is something else.
  if (At(anchor_end) == '.' && IsAlnum(At(anchor_end + 1))) return;
  if (At(anchor_end) == '(' || At(anchor_end) == '@') return;
  size_t s = dot;
  while (s > 0) {
    char c = t_[s - 1];
    if (IsAlnum(c) || c == '_' || c == '-' || c == '.' || c == '$' || c == '~' || c == '+' ||
        c == '!' || c == '#' || c == '(' || c == ')' || c == '[' || c == ']') {
      --s;
    } else {
      break;
    }
  }
  // Leading punctuation wraps the name rather than belonging to it.
  while (s < dot && !IsAlnum(t_[s]) && t_[s] != '_' && t_[s] != '$' && t_[s] != '~') ++s;
  if (s >= dot) return;
  char before = Before(s);
  if (before == '\\' || before == '/' || before == '%' || before == ':' || before == '@' ||
      before == '.' || before == '=') {
    return;  // part of a path, URL, format string or longer name
  }
  if (Claimed(s, anchor_end, kClaimAny)) return;
  std::string_view name = t_.substr(s, anchor_end - s);
  if (std::count(name.begin(), name.end(), '(') != std::count(name.begin(), name.end(), ')')) {
    return;
  }
  Claim(s, anchor_end, kClaimAny);
  Reason reason;
  if (impl_.options.filters.system_file &&
      impl_.well_known_files.count(LowerInto(name, host_buf_)) != 0) {
    reason = {"well-known-file", {}};
  }
  Add(T::kFilename, name, s, anchor_end, reason);
}

}  // namespace iocgrid::extract::internal
