// Report bytes to UTF-8 (see document_text.h, ToUtf8).
#include <iconv.h>

#include <string>
#include <string_view>
#include <utility>

#include "extract/internal/document_text.h"

namespace iocgrid::extract::internal {
namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    if (n == 2 && c < 0xC2) return false;  // overlong
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Converts with iconv; false when the input is not valid in `from`.
bool Convert(std::string_view in, const char* from, std::string* out) {
  iconv_t cd = iconv_open("UTF-8", from);
  // (iconv_t)-1 is iconv_open's documented error value (POSIX), hence the integer cast.
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;  // NOLINT(performance-no-int-to-ptr)
  out->clear();
  out->resize(in.size() * 4 + 16);
  char* src = const_cast<char*>(in.data());  // iconv's API is not const-correct
  size_t src_left = in.size();
  char* dst = out->data();
  size_t dst_left = out->size();
  size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  bool ok = rc != static_cast<size_t>(-1) && src_left == 0;
  if (ok) ok = iconv(cd, nullptr, nullptr, &dst, &dst_left) != static_cast<size_t>(-1);
  iconv_close(cd);
  out->resize(out->size() - dst_left);
  return ok;
}

// Scores how Japanese a byte string looks in each legacy encoding: the number of well-formed
// two-byte characters. EUC-JP uses 0xA1-0xFE pairs (and 0x8E half-width kana); Shift_JIS
// leads with 0x81-0x9F/0xE0-0xFC and trails with 0x40-0xFC.
void ScoreJapanese(std::string_view s, int* sjis, int* eucjp) {
  *sjis = *eucjp = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    auto a = static_cast<unsigned char>(s[i]);
    auto b = static_cast<unsigned char>(s[i + 1]);
    if (a >= 0xA1 && a <= 0xFE && b >= 0xA1 && b <= 0xFE) ++*eucjp;
    if (((a >= 0x81 && a <= 0x9F) || (a >= 0xE0 && a <= 0xFC)) && b >= 0x40 && b <= 0xFC &&
        b != 0x7F) {
      ++*sjis;
    }
  }
}

}  // namespace

std::string ToUtf8(std::string bytes) {
  std::string_view v = bytes;
  if (v.size() >= 3 && v.substr(0, 3) == "\xEF\xBB\xBF") return bytes.substr(3);
  std::string out;
  if (v.size() >= 2 && v.substr(0, 2) == "\xFF\xFE" && Convert(v.substr(2), "UTF-16LE", &out)) {
    return out;
  }
  if (v.size() >= 2 && v.substr(0, 2) == "\xFE\xFF" && Convert(v.substr(2), "UTF-16BE", &out)) {
    return out;
  }
  if (ValidUtf8(v)) return bytes;
  int sjis = 0, eucjp = 0;
  ScoreJapanese(v, &sjis, &eucjp);
  // Try the likelier Japanese encoding first; a strict conversion failure rules one out.
  const char* order[2] = {"EUC-JP", "CP932"};
  if (sjis > eucjp) std::swap(order[0], order[1]);
  for (const char* enc : order) {
    if (Convert(v, enc, &out)) return out;
  }
  if (Convert(v, "WINDOWS-1252", &out)) return out;
  Convert(v, "ISO-8859-1", &out);  // total: every byte is a character
  return out;
}

}  // namespace iocgrid::extract::internal
