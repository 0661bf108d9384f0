#include "common/time.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace iocgrid {
namespace {

bool LeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && LeapYear(y) ? 29 : kDays[m - 1];
}

// Exactly `n` digits at s[pos...].
bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t UnixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> ParseIsoDateTime(std::string_view s) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(s.substr(0, 64)) +
                                "' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  };
  unsigned y = 0, mo = 0, d = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return bad();
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return bad();
  int64_t t = DaysFromCivil(y, mo, d) * 86400;
  size_t pos = 10;
  if (pos == s.size()) return t;
  if (s[pos] != 'T' && s[pos] != ' ') return bad();
  unsigned hh = 0, mm = 0, ss = 0;
  if (!Digits(s, pos + 1, 2, &hh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !Digits(s, pos + 4, 2, &mm)) {
    return bad();
  }
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &ss)) return bad();
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 9) ++pos;
      if (pos == start) return bad();
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return bad();
  t += hh * 3600 + mm * 60 + ss;
  if (pos == s.size()) return t;
  if (s[pos] == 'Z' && pos + 1 == s.size()) return t;
  if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '+' ? 1 : -1;
    unsigned oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, &oh)) return bad();
    size_t p = pos + 3;
    if (p < s.size() && s[p] == ':') ++p;
    if (!Digits(s, p, 2, &om) || p + 2 != s.size() || oh > 23 || om > 59) return bad();
    return t - sign * static_cast<int64_t>(oh * 3600 + om * 60);
  }
  return bad();
}

Result<int64_t> ParseDaysAgo(std::string_view s, int64_t now) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(s.substr(0, 64)) +
                                "' is not a number of days such as 30d (1d to 36500d)");
  };
  if (s.size() < 2 || s.back() != 'd') return bad();
  std::string_view digits = s.substr(0, s.size() - 1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 1 || n > 36500 ||
      digits[0] == '+') {
    return bad();
  }
  return now - n * 86400;
}

Result<int64_t> ParseDuration(std::string_view s) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(s.substr(0, 64)) +
                                "' is not a duration such as 30s, 15m, 1h, 7d or 2w (at most "
                                "366 days)");
  };
  if (s.size() < 2) return bad();
  int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return bad();
  }
  std::string_view digits = s.substr(0, s.size() - 1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  constexpr int64_t kMax = int64_t{366} * 86400;
  if (ec != std::errc() || end != digits.data() + digits.size() || digits[0] == '+' || n < 1 ||
      n > kMax / unit) {
    return bad();
  }
  return n * unit;
}

Result<int64_t> ParseTimeBound(std::string_view text, int64_t now) {
  if (!text.empty() && text.back() == 'd') return ParseDaysAgo(text, now);
  Result<int64_t> t = ParseIsoDateTime(text);
  if (t.ok()) return t;
  return InvalidArgumentError(
      "must be a date (YYYY-MM-DD), a date-time, a number of days such as \"30d\", or unix "
      "seconds; got '" +
      std::string(text.substr(0, 64)) + "'.");
}

std::string FormatIsoDate(int64_t t) { return FormatIsoDateTime(t).substr(0, 10); }

std::string FormatIsoDateTime(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  if (y >= 0 && y <= 9999) {  // digits by hand: reports format 10^5 of these
    const auto two = [](char* p, int64_t v) {
      p[0] = static_cast<char>('0' + v / 10);
      p[1] = static_cast<char>('0' + v % 10);
    };
    char out[20];
    two(out, y / 100);
    two(out + 2, y % 100);
    out[4] = '-';
    two(out + 5, m);
    out[7] = '-';
    two(out + 8, d);
    out[10] = 'T';
    two(out + 11, secs / 3600);
    out[13] = ':';
    two(out + 14, secs / 60 % 60);
    out[16] = ':';
    two(out + 17, secs % 60);
    return std::string(out, 19) + 'Z';
  }
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace iocgrid
