// RFC 4180 CSV fields, for every CSV the project writes (CLI output, portal exports).
//
// Thread-safety: a pure function.
#pragma once

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
  bool plain = true;  // find_first_of with a set costs a search of the set per character
  for (char c : s) plain &= c != ',' && c != '"' && c != '\r' && c != '\n';
  if (plain) {
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
