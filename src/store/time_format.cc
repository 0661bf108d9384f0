#include "store/time_format.h"

#include <cstdio>
#include <string>

#include "common/ascii.h"
#include "common/time.h"

namespace iocgrid::store {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

}  // namespace

Result<int64_t> ParseIsoTime(std::string_view text) {
  auto fail = [&] {
    return InvalidArgumentError("invalid time '" + std::string(text.substr(0, 64)) + "'");
  };
  text = TrimAscii(text);
  if (text.empty()) return fail();
  // A plain unix time in seconds.
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    if (text.size() > 12) return fail();
    size_t pos = 0;
    int64_t seconds = 0;
    Digits(text, &pos, text.size(), &seconds);
    return seconds * 1'000'000;
  }
  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!Digits(text, &pos, 4, &year) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, &pos, 2, &month) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, &pos, 2, &day)) {
    return fail();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return fail();
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return fail();
    ++pos;
    if (!Digits(text, &pos, 2, &hour) || pos >= text.size() || text[pos++] != ':' ||
        !Digits(text, &pos, 2, &minute)) {
      return fail();
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!Digits(text, &pos, 2, &second)) return fail();
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        size_t start = pos;
        int64_t scale = 100000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (scale > 0) micros += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return fail();
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return fail();
    if (pos < text.size()) {
      char zone = text[pos++];
      if (zone == 'Z' || zone == 'z') {
        if (pos != text.size()) return fail();
      } else if (zone == '+' || zone == '-') {
        int64_t zh = 0, zm = 0;
        if (!Digits(text, &pos, 2, &zh)) return fail();
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (pos < text.size() && !Digits(text, &pos, 2, &zm)) return fail();
        if (pos != text.size() || zh > 23 || zm > 59) return fail();
        offset_seconds = (zh * 3600 + zm * 60) * (zone == '+' ? 1 : -1);
      } else {
        return fail();
      }
    }
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1'000'000 + micros;
}

std::string FormatIsoMicros(int64_t unix_us) {
  int64_t seconds = FloorDiv(unix_us, 1'000'000);
  int64_t micros = unix_us - seconds * 1'000'000;
  int64_t days = FloorDiv(seconds, 86400);
  int64_t rest = seconds - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lld+00:00",
                static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60),
                static_cast<long long>(micros));
  return buffer;
}

}  // namespace iocgrid::store
