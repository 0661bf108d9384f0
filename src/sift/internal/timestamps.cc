#include "sift/internal/timestamps.h"

#include <charconv>

#include "common/time.h"

namespace iocgrid::sift::internal {
namespace {

// Reads exactly `n` digits at text[*pos].
bool Digits(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + static_cast<size_t>(n) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(n);
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

int MonthFromName(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (m == kMonths[i]) return i + 1;
  }
  return 0;
}

bool ValidDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= kDays[m - 1];
}

int64_t Combine(int y, int mo, int d, int h, int mi, int s) {
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
         mi * 60 + s;
}

// Optional zone at text[pos..]: Z, +HHMM, +HH:MM, -HHMM, "--0400". Returns offset seconds.
bool Zone(std::string_view text, size_t pos, int* offset) {
  *offset = 0;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos >= text.size()) return true;
  if (text[pos] == 'Z' || text[pos] == 'z') return true;
  int sign = 0;
  if (text[pos] == '+') sign = 1;
  if (text[pos] == '-') {
    sign = -1;
    if (pos + 1 < text.size() && text[pos + 1] == '-') ++pos;  // ModSecurity 2 writes "--0400"
  }
  if (sign == 0) return true;  // trailing text we do not know: UTC
  ++pos;
  int hh = 0, mm = 0;
  if (!Digits(text, &pos, 2, &hh)) return false;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && !Digits(text, &pos, 2, &mm)) return false;
  if (hh > 23 || mm > 59) return false;
  *offset = sign * (hh * 3600 + mm * 60);
  return true;
}

}  // namespace

bool ParseApacheTime(std::string_view text, int64_t* out) {
  size_t pos = 0;
  int d = 0, y = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, &pos, 2, &d) || !Expect(text, &pos, '/')) return false;
  if (pos + 4 > text.size()) return false;
  int mo = MonthFromName(text.substr(pos, 3));
  pos += 3;
  if (mo == 0 || !Expect(text, &pos, '/') || !Digits(text, &pos, 4, &y) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &s)) {
    return false;
  }
  if (!ValidDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;
  if (pos < text.size() && text[pos] == '.') {  // fractions (some nginx setups)
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  int offset = 0;
  if (!Zone(text, pos, &offset)) return false;
  *out = Combine(y, mo, d, h, mi, s) - offset;
  return true;
}

bool ParseIsoTime(std::string_view text, int64_t* out) {
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, &pos, 4, &y) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &mo) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &d)) {
    return false;
  }
  if (!ValidDate(y, mo, d)) return false;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ' || text[pos] == 't')) {
    ++pos;
    if (!Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &mi)) {
      return false;
    }
    if (pos < text.size() && text[pos] == ':' && !(++pos, Digits(text, &pos, 2, &s))) return false;
    if (h > 23 || mi > 59 || s > 60) return false;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    }
  }
  int offset = 0;
  if (!Zone(text, pos, &offset)) return false;
  *out = Combine(y, mo, d, h, mi, s) - offset;
  return true;
}

bool ParseEpochTime(std::string_view text, int64_t* out) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr == text.data()) return false;
  if (ptr != text.data() + text.size() && *ptr != '.') return false;
  if (v > 100000000000LL) v /= 1000;  // milliseconds
  if (v <= 0 || v > 253402300799LL) return false;
  *out = v;
  return true;
}

bool ParseAscTime(std::string_view text, int64_t* out) {
  // "Www Mmm dd hh:mm:ss yyyy" with the day space-padded.
  if (text.size() < 24 || text[3] != ' ' || text[7] != ' ') return false;
  int mo = MonthFromName(text.substr(4, 3));
  size_t pos = 8;
  if (text[pos] == ' ') ++pos;
  int d = 0, h = 0, mi = 0, s = 0, y = 0;
  size_t before = pos;
  if (!Digits(text, &pos, pos + 2 <= text.size() && text[pos + 1] != ' ' ? 2 : 1, &d)) return false;
  if (pos - before == 0) return false;
  if (mo == 0 || !Expect(text, &pos, ' ') || !Digits(text, &pos, 2, &h) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &s) || !Expect(text, &pos, ' ') || !Digits(text, &pos, 4, &y)) {
    return false;
  }
  if (!ValidDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;
  *out = Combine(y, mo, d, h, mi, s);
  return true;
}

bool ParseAnyTime(std::string_view text, int64_t* out) {
  if (text.size() >= 24 && text[3] == ' ') return ParseAscTime(text, out);
  if (text.size() >= 10 && text[4] == '-') return ParseIsoTime(text, out);
  if (text.size() >= 11 && text[2] == '/') return ParseApacheTime(text, out);
  return ParseEpochTime(text, out);
}

}  // namespace iocgrid::sift::internal
