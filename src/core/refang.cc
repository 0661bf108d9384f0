// Refang: undoes the defanging analysts apply to indicators in reports and tickets
// (hxxp, [.], (dot), full-width dots ...), before a value is parsed. Split from indicator.cc.
#include <string>
#include <string_view>

#include "common/ascii.h"
#include "core/indicator.h"

namespace iocgrid::core {

namespace {

struct Rule {
  std::string_view from;
  std::string_view to;
};
// Longest forms first; matched case-insensitively.
constexpr Rule kRules[] = {
    {"[://]", "://"},
    {"[:]//", "://"},
    {"[dot]", "."},
    {"(dot)", "."},
    {"{dot}", "."},
    {"[.]", "."},
    {"(.)", "."},
    {"{.}", "."},
    {"[:]", ":"},
    {"[at]", "@"},
    {"(at)", "@"},
    {"[@]", "@"},
    {"[/]", "/"},
    {"\\.", "."},
    {"\xEF\xBC\xBB.\xEF\xBC\xBD", "."},  // ［.］ full-width brackets
    {"\xEF\xBC\x8E", "."},               // ． FULLWIDTH FULL STOP
    {"\xE3\x80\x82", "."},               // 。 IDEOGRAPHIC FULL STOP
};
// Defanged schemes at the start: hxxp, hXXps, hxtp, htxp, h[tt]p, meow, fxp, [hxxp://].
constexpr Rule kSchemes[] = {{"[hxxps://]", "https://"},
                             {"[hxxp://]", "http://"},
                             {"hxxps", "https"},
                             {"hxxp", "http"},
                             {"hxtps", "https"},
                             {"hxtp", "http"},
                             {"htxps", "https"},
                             {"htxp", "http"},
                             {"h[tt]ps", "https"},
                             {"h[tt]p", "http"},
                             {"meows", "https"},
                             {"meow", "http"},
                             {"fxp", "ftp"},
                             {"sxxp", "sftp"}};

// False when there is nothing to undo: no bracket, backslash or non-ASCII byte (full-width
// dots), and no defanged scheme at the start.
bool MayBeDefanged(std::string_view raw) {
  for (char c : raw) {
    if (c == '[' || c == '(' || c == '{' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) {
      return true;
    }
  }
  if (raw.empty()) return true;
  char f = AsciiToLower(raw.front());
  return f == 'h' || f == 'f' || f == 'm' || f == 's';
}

}  // namespace

std::string Refang(std::string_view raw, bool* changed) {
  // Fast path: most values in bulk matching are plain.
  if (!MayBeDefanged(raw)) {
    if (changed) *changed = false;
    return std::string(raw);
  }
  std::string s;
  s.reserve(raw.size());
  std::string_view v = raw;
  bool any = false;
  for (const Rule& r : kSchemes) {
    if (StartsWithIgnoreAsciiCase(v, r.from)) {
      std::string_view after = v.substr(r.from.size());
      // Only a scheme: it must be followed by "://", "[:]//", "[://]" or "s" forms handled above.
      if (r.from.back() == '/' || after.rfind("://", 0) == 0 || after.rfind("[:]", 0) == 0 ||
          after.rfind("[://]", 0) == 0 || after.rfind(":\\\\", 0) == 0) {
        s += r.to;
        v = after;
        any = true;
      }
      break;
    }
  }
  for (size_t i = 0; i < v.size();) {
    bool hit = false;
    for (const Rule& r : kRules) {
      if (StartsWithIgnoreAsciiCase(v.substr(i), r.from)) {
        s += r.to;
        i += r.from.size();
        hit = any = true;
        break;
      }
    }
    if (!hit) s += v[i++];
  }
  if (changed) *changed = any;
  return s;
}

}  // namespace iocgrid::core
