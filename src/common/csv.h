// RFC 4180 CSV fields, for every CSV the project writes (CLI output, portal exports).
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace iocgrid {

// `s` as one CSV field, always quoted, inner quotes doubled (MISP's CSV quotes every value).
inline std::string CsvQuoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// `s` as one CSV field: quoted only when it holds a comma, a quote or a line break.
inline std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  return CsvQuoted(s);
}

}  // namespace iocgrid
