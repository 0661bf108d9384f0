#include "node/internal/json_writer.h"

namespace iocgrid::node::internal {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xc2) return 0;  // overlong
  return n;
}

}  // namespace

void JsonWriter::String(std::string_view s, bool) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out_ += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Length(s, i);
      if (n == 0) {
        *out_ += "\xEF\xBF\xBD";
        ++i;
      } else {
        out_->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': *out_ += "\\\""; break;
      case '\\': *out_ += "\\\\"; break;
      case '\n': *out_ += "\\n"; break;
      case '\r': *out_ += "\\r"; break;
      case '\t': *out_ += "\\t"; break;
      default:
        if (c < 0x20) {
          *out_ += "\\u00";
          *out_ += kHex[c >> 4];
          *out_ += kHex[c & 0xf];
        } else {
          *out_ += static_cast<char>(c);
        }
    }
    ++i;
  }
  *out_ += '"';
}

}  // namespace iocgrid::node::internal
