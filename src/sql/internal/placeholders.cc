#include "sql/internal/placeholders.h"

#include <algorithm>
#include <string>

namespace iocgrid::sql::internal {

std::string ToDollarPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int largest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: copied as is
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t end = i + 1;
    int number = 0;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9' && number < 100000) {
      number = number * 10 + (sql[end] - '0');
      ++end;
    }
    if (end == i + 1) number = largest + 1;
    largest = std::max(largest, number);
    out += '$';
    out += std::to_string(number);
    i = end - 1;
  }
  return out;
}

}  // namespace iocgrid::sql::internal
