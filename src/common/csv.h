// RFC 4180 CSV fields, for every CSV the project writes (CLI output, portal exports).
//
// Thread-safety: a pure function.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace iocgrid {

// Appends `s` as one CSV field, always quoted, inner quotes doubled.
inline void AppendCsvQuoted(std::string_view s, std::string* out) {
  *out += '"';
  for (char c : s) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

// Appends `s` as one CSV field: quoted only when it holds a comma, a quote or a line break.
// Hot output loops use this; it makes no temporary.
inline void AppendCsvField(std::string_view s, std::string* out) {
  // One table load per character (find_first_of searched the set for each one).
  static constexpr auto kQuote = [] {
    std::array<bool, 256> t{};
    t[','] = t['"'] = t['\r'] = t['\n'] = true;
    return t;
  }();
  bool quote = false;
  for (char c : s) quote |= kQuote[static_cast<unsigned char>(c)];
  if (!quote) {
    *out += s;
  } else {
    AppendCsvQuoted(s, out);
  }
}

// `s` as one CSV field, always quoted (MISP's CSV quotes every value).
inline std::string CsvQuoted(std::string_view s) {
  std::string out;
  AppendCsvQuoted(s, &out);
  return out;
}

// `s` as one CSV field: quoted only when it holds a comma, a quote or a line break.
inline std::string CsvField(std::string_view s) {
  std::string out;
  AppendCsvField(s, &out);
  return out;
}

}  // namespace iocgrid
