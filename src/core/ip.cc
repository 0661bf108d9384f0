#include "core/ip.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#include <tmmintrin.h>
#endif

namespace iocgrid::core {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Clears the bits after `prefix` in `bytes`.
void ClearHostBits(std::array<uint8_t, 16>& bytes, int prefix, int total_bits) {
  for (int bit = prefix; bit < total_bits; ++bit) {
    bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
}

Result<IpNetwork> ParseAddressPart(std::string_view text) {
  IpNetwork net;
  uint32_t v4 = 0;
  if (ParseIpv4(text, &v4)) {
    net.v6 = false;
    net.prefix = 32;
    net.bytes[0] = static_cast<uint8_t>(v4 >> 24);
    net.bytes[1] = static_cast<uint8_t>(v4 >> 16);
    net.bytes[2] = static_cast<uint8_t>(v4 >> 8);
    net.bytes[3] = static_cast<uint8_t>(v4);
    return net;
  }
  if (text.find(':') == std::string_view::npos) {
    if (text.find('.') != std::string_view::npos) {
      // Give the most useful reason for a dotted value that is not an IPv4 address.
      int dots = 0;
      for (char c : text) dots += c == '.';
      if (dots != 3) return InvalidArgumentError("not an IPv4 address (expected 4 octets)");
      return InvalidArgumentError(
          "not an IPv4 address (octets must be 0-255, decimal, without leading zeros)");
    }
    return InvalidArgumentError("not an IP address");
  }
  if (text.size() > 45) return InvalidArgumentError("not an IPv6 address (too long)");
  if (text.find('%') != std::string_view::npos) {
    return InvalidArgumentError("IPv6 zone ids are not allowed");
  }
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in6_addr a6;
  if (inet_pton(AF_INET6, buf, &a6) != 1) return InvalidArgumentError("not an IPv6 address");
  std::memcpy(net.bytes.data(), &a6, 16);
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(net.bytes.data(), kMapped, 12) == 0) {
    // IPv4-mapped IPv6 is the IPv4 address (DESIGN.md).
    std::array<uint8_t, 16> v4bytes{};
    std::memcpy(v4bytes.data(), net.bytes.data() + 12, 4);
    net.bytes = v4bytes;
    net.v6 = false;
    net.prefix = 32;
    return net;
  }
  net.v6 = true;
  net.prefix = 128;
  return net;
}

}  // namespace

uint64_t IpNetwork::v6_hi() const {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | bytes[static_cast<size_t>(i)];
  return x;
}

uint64_t IpNetwork::v6_lo() const {
  uint64_t x = 0;
  for (int i = 8; i < 16; ++i) x = (x << 8) | bytes[static_cast<size_t>(i)];
  return x;
}

#if defined(__x86_64__) || defined(__i386__)
#define IOCGRID_IPV4_SSSE3 1

namespace {

// Octet lengths (1-3 each) name one of 81 shapes; for each, the SSSE3 shuffle that moves the
// digit values of octet k to bytes 4k..4k+2 (hundreds, tens, ones; missing leading digits and
// byte 4k+3 zero), and the least value each octet may have without a leading zero.
struct Ipv4Shape {
  alignas(16) std::array<uint8_t, 16> shuffle;
  alignas(16) std::array<int32_t, 4> least;
};

constexpr std::array<Ipv4Shape, 81> MakeIpv4Shapes() {
  std::array<Ipv4Shape, 81> shapes{};
  for (int id = 0; id < 81; ++id) {
    const std::array<int, 4> length = {id / 27 + 1, id / 9 % 3 + 1, id / 3 % 3 + 1, id % 3 + 1};
    Ipv4Shape& shape = shapes[static_cast<size_t>(id)];
    int start = 0;
    for (size_t k = 0; k < 4; ++k) {
      for (size_t j = 0; j < 4; ++j) shape.shuffle[4 * k + j] = 0x80;  // 0x80: a zero byte
      for (int j = 0; j < length[k]; ++j) {
        shape.shuffle[4 * k + static_cast<size_t>(3 - length[k] + j)] =
            static_cast<uint8_t>(start + j);
      }
      shape.least[k] = length[k] == 1 ? 0 : (length[k] == 2 ? 10 : 100);
      start += length[k] + 1;
    }
  }
  return shapes;
}

constexpr std::array<Ipv4Shape, 81> kIpv4Shapes = MakeIpv4Shapes();

// Every list, log and query line with an address goes through here. The (at most 16) bytes are
// loaded as two overlapping words without reading past the text; SSE2 compares find the dots
// and digits; the dots give the four octet lengths, which pick a shape; one shuffle lines up
// the digits and two multiply-adds make the octets, checked against 255 and the shape's least
// values (no leading zero). ~100 instructions a valid address against 158 for an SSE2-only
// version and more, with mispredictions, for the portable loop (callgrind, 10^6 addresses).
__attribute__((target("ssse3"))) bool ParseIpv4Ssse3(std::string_view text, uint32_t* out) {
  const size_t n = text.size();
  if (n < 7 || n > 15) return false;
  const char* p = text.data();
  auto load8 = [](const char* at) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    return w;
  };
  auto load4 = [](const char* at) {
    uint32_t w;
    std::memcpy(&w, at, 4);
    return uint64_t{w};
  };
  // Little-endian words: byte i of the text is byte i of `lo` (i < 8) or of `hi` (i - 8).
  uint64_t lo = 0;
  uint64_t hi = 0;
  if (n >= 8) {
    lo = load8(p);
    if (n > 8) hi = load8(p + n - 8) >> (8 * (16 - n));
  } else {
    lo = load4(p) | (load4(p + 3) << 24);
  }
  const __m128i bytes = _mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo));
  const unsigned valid = (1u << n) - 1;
  const auto dots =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.')))) & valid;
  // Digit values (byte - '0'); a digit is below 10, compared unsigned by a sign flip.
  const __m128i value = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
  const auto digits = static_cast<unsigned>(
      _mm_movemask_epi8(_mm_cmplt_epi8(_mm_xor_si128(value, _mm_set1_epi8(static_cast<char>(0x80))),
                                       _mm_set1_epi8(static_cast<char>(0x80 + 10)))));
  const unsigned after_first = dots & (dots - 1);
  const unsigned after_second = after_first & (after_first - 1);
  // Every byte a digit or a dot, exactly three dots.
  if (((dots | digits) & valid) != valid || after_second == 0 ||
      (after_second & (after_second - 1)) != 0) {
    return false;
  }
  const auto d1 = static_cast<unsigned>(__builtin_ctz(dots));
  const auto d2 = static_cast<unsigned>(__builtin_ctz(after_first));
  const auto d3 = static_cast<unsigned>(__builtin_ctz(after_second));
  // Octet lengths less one; an empty octet wraps to a large number.
  const unsigned l0 = d1 - 1;
  const unsigned l1 = d2 - d1 - 2;
  const unsigned l2 = d3 - d2 - 2;
  const unsigned l3 = static_cast<unsigned>(n) - d3 - 2;
  if ((l0 > 2) | (l1 > 2) | (l2 > 2) | (l3 > 2)) return false;
  const Ipv4Shape& shape = kIpv4Shapes[((l0 * 3 + l1) * 3 + l2) * 3 + l3];
  const __m128i lined_up = _mm_shuffle_epi8(
      value, _mm_load_si128(reinterpret_cast<const __m128i*>(shape.shuffle.data())));
  // Per octet, bytes (h, t, o, 0) times (100, 10, 1, 0), summed in pairs, then the pairs.
  const __m128i octets =
      _mm_madd_epi16(_mm_maddubs_epi16(lined_up, _mm_set1_epi32(0x00010A64)), _mm_set1_epi16(1));
  const __m128i bad = _mm_or_si128(
      _mm_cmpgt_epi32(octets, _mm_set1_epi32(255)),
      _mm_cmplt_epi32(octets,
                      _mm_load_si128(reinterpret_cast<const __m128i*>(shape.least.data()))));
  if (_mm_movemask_epi8(bad) != 0) return false;
  const __m128i words = _mm_packs_epi32(octets, octets);
  const auto packed = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(words, words)));
  *out = __builtin_bswap32(packed);  // octet 0 was the lowest byte
  return true;
}

// Read once, at static initialization (a call before it finds false and takes the loop).
const bool kHaveSsse3 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("ssse3") != 0;
}();

}  // namespace

#endif

bool ParseIpv4(std::string_view text, uint32_t* out) {
#ifdef IOCGRID_IPV4_SSSE3
  if (kHaveSsse3) return ParseIpv4Ssse3(text, out);
#endif
  return ParseIpv4Portable(text, out);
}

bool ParseIpv4Portable(std::string_view text, uint32_t* out) {
  if (text.size() < 7 || text.size() > 15) return false;
  uint32_t result = 0;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    uint32_t v = 0;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3) {
      v = v * 10 + static_cast<uint32_t>(text[i] - '0');
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || v > 255) return false;
    if (len > 1 && text[start] == '0') return false;  // leading zero: octal to some parsers
    result = (result << 8) | v;
  }
  if (i != text.size()) return false;
  *out = result;
  return true;
}

Result<IpNetwork> ParseIpNetwork(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty IP address");
  std::string_view addr = text;
  std::string_view prefix_text;
  bool has_prefix = false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
    has_prefix = true;
  }
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    if (has_prefix) return InvalidArgumentError("brackets are only allowed around an address");
    addr = addr.substr(1, addr.size() - 2);
    if (addr.find(':') == std::string_view::npos) {
      return InvalidArgumentError("brackets are only allowed around an IPv6 address");
    }
  }
  auto parsed = ParseAddressPart(addr);
  if (!parsed.ok()) return parsed.status();
  IpNetwork net = *parsed;
  // An IPv4-mapped v6 network keeps its v4 meaning: ::ffff:1.2.3.0/120 -> 1.2.3.0/24.
  bool was_mapped = !net.v6 && addr.find(':') != std::string_view::npos;
  int total = net.v6 ? 128 : 32;
  if (has_prefix) {
    if (prefix_text.empty() || prefix_text.size() > 3) {
      return InvalidArgumentError("invalid prefix length '" + std::string(prefix_text) + "'");
    }
    int p = 0;
    for (char c : prefix_text) {
      if (!IsDigit(c)) {
        return InvalidArgumentError("invalid prefix length '" + std::string(prefix_text) + "'");
      }
      p = p * 10 + (c - '0');
    }
    if (prefix_text.size() > 1 && prefix_text[0] == '0') {
      return InvalidArgumentError("invalid prefix length '" + std::string(prefix_text) + "'");
    }
    if (was_mapped) {
      if (p < 96 || p > 128) {
        return InvalidArgumentError("prefix length of an IPv4-mapped network must be 96-128");
      }
      p -= 96;
    }
    if (p > total) {
      return InvalidArgumentError("prefix length " + std::to_string(p) + " > " +
                                  std::to_string(total));
    }
    net.prefix = static_cast<uint8_t>(p);
    ClearHostBits(net.bytes, p, total);
  }
  return net;
}

Result<IpNetwork> ParseIpAddress(std::string_view text) {
  auto net = ParseIpNetwork(text);
  if (!net.ok()) return net.status();
  if (!net->is_address()) return InvalidArgumentError("expected an address, got a network");
  return net;
}

std::string FormatIpNetwork(const IpNetwork& net) {
  std::string out;
  if (!net.v6) {
    out.reserve(18);
    for (int i = 0; i < 4; ++i) {
      if (i) out += '.';
      out += std::to_string(net.bytes[static_cast<size_t>(i)]);
    }
    if (net.prefix != 32) out += "/" + std::to_string(net.prefix);
    return out;
  }
  // RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as "::"
  // (the first one on a tie).
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) {
    g[i] = static_cast<uint16_t>((net.bytes[2 * static_cast<size_t>(i)] << 8) |
                                 net.bytes[2 * static_cast<size_t>(i) + 1]);
  }
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best + best_len) out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int nib = (g[i] >> shift) & 0xf;
      if (nib || started || shift == 0) {
        out += kHex[nib];
        started = true;
      }
    }
  }
  if (net.prefix != 128) out += "/" + std::to_string(net.prefix);
  return out;
}

}  // namespace iocgrid::core
