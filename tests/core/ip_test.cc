#include "core/ip.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace iocgrid::core {
namespace {

TEST(ParseIpv4Test, AcceptsDottedQuadOnly) {
  uint32_t v = 0;
  EXPECT_TRUE(ParseIpv4("1.2.3.4", &v));
  EXPECT_EQ(v, 0x01020304u);
  EXPECT_TRUE(ParseIpv4("255.255.255.255", &v));
  EXPECT_EQ(v, 0xffffffffu);
  EXPECT_TRUE(ParseIpv4("0.0.0.0", &v));
  EXPECT_FALSE(ParseIpv4("1.2.3", &v));
  EXPECT_FALSE(ParseIpv4("1.2.3.4.5", &v));
  EXPECT_FALSE(ParseIpv4("1.2.3.256", &v));
  EXPECT_FALSE(ParseIpv4("1.2.3.04", &v));
  EXPECT_FALSE(ParseIpv4("1.2.3.4 ", &v));
  EXPECT_FALSE(ParseIpv4("1..3.4", &v));
  EXPECT_FALSE(ParseIpv4("a.b.c.d", &v));
}

// The dotted-quad rule read independently (both ParseIpv4 and the portable loop it replaces
// where SSE2 is missing) (split on '.', each part 1-3 digits, no leading zero,
// at most 255), against ParseIpv4 over edge cases and random strings of digits and dots (with
// a few other bytes) of every length around the accepted 7..15.
std::optional<uint32_t> Ipv4ByTheRule(const std::string& text) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : text) {
    if (c == '.') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  if (parts.size() != 4) return std::nullopt;
  uint32_t value = 0;
  for (const std::string& p : parts) {
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
    unsigned octet = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      octet = octet * 10 + static_cast<unsigned>(c - '0');
    }
    if (octet > 255) return std::nullopt;
    value = value << 8 | octet;
  }
  return value;
}

TEST(ParseIpv4Test, SameAsTheRuleOnEdgesAndRandomText) {
  std::vector<std::string> cases = {
      "0.0.0.0",         "9.9.9.9",    "10.0.0.1",   "100.200.250.255",
      "255.255.255.256", "256.1.1.1",  "1.2.3.4.",   ".1.2.3.4",
      "1.2.3..4",        "01.2.3.4",   "1.2.3.00",   "1.2.3.0",
      "1.2.34",          "1111.2.3.4", "1.2.3.4444", std::string("1.2.\0.4", 7),
      "1.2.3.4\n",       "1.2.3.-4",   "1.2.3.+4",   "1.2.3.4/8",
      "١.٢.٣.٤"};
  std::mt19937_64 rng(4);
  const std::string alphabet = "0123456789.......0120255x/ ";
  for (int i = 0; i < 300000; ++i) {
    std::string text;
    const size_t length = rng() % 18;
    for (size_t k = 0; k < length; ++k) text += alphabet[rng() % alphabet.size()];
    cases.push_back(text);
  }
  for (int i = 0; i < 100000; ++i) {  // nearly valid: four octets with small mistakes
    std::string text;
    for (int o = 0; o < 4; ++o) {
      if (o > 0) text += '.';
      text += std::to_string(rng() % 300);
      if (rng() % 50 == 0) text.insert(text.size() - 1, "0");
    }
    cases.push_back(text);
  }
  size_t accepted = 0;
  for (const std::string& text : cases) {
    // In a heap block of exactly its size: reading a byte past it fails the sanitizer build.
    const auto exact = std::make_unique<char[]>(text.size());
    std::memcpy(exact.get(), text.data(), text.size());
    const std::string_view view(exact.get(), text.size());
    uint32_t got = 0;
    const bool ok = ParseIpv4(view, &got);
    uint32_t portable_got = 0;
    const bool portable_ok = ParseIpv4Portable(view, &portable_got);
    const std::optional<uint32_t> want = Ipv4ByTheRule(text);
    ASSERT_EQ(ok, want.has_value()) << "'" << text << "'";
    ASSERT_EQ(portable_ok, want.has_value()) << "portable: '" << text << "'";
    if (ok) {
      EXPECT_EQ(got, *want) << text;
      EXPECT_EQ(portable_got, *want) << text;
      ++accepted;
    }
  }
  EXPECT_GT(accepted, 40000u);  // about half the nearly valid cases are valid
}

TEST(ParseIpNetworkTest, ClearsHostBits) {
  auto n = ParseIpNetwork("10.1.2.3/8");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->v4(), 0x0a000000u);
  EXPECT_EQ(n->prefix, 8);
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("2001:db8:ffff::1/33")), "2001:db8:8000::/33");
}

TEST(ParseIpNetworkTest, ZeroPrefixCoversEverything) {
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("9.9.9.9/0")), "0.0.0.0/0");
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("2001:db8::1/0")), "::/0");
}

TEST(ParseIpAddressTest, RefusesNetworks) {
  EXPECT_TRUE(ParseIpAddress("1.2.3.4/32").ok());
  EXPECT_FALSE(ParseIpAddress("1.2.3.0/24").ok());
}

// Round trip over random addresses: formatting then parsing gives the same network, and the
// text has no upper case and no "::" for a single zero group (RFC 5952 section 4.2.2).
TEST(FormatIpNetworkTest, RoundTripsRandomIpv6) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    IpNetwork n;
    n.v6 = true;
    n.prefix = 128;
    uint64_t a = rng(), b = rng();
    // Sprinkle zero groups so that compression is exercised.
    for (int g = 0; g < 4; ++g) {
      if (rng() % 3 == 0) a &= ~(0xffffULL << (16 * g));
      if (rng() % 3 == 0) b &= ~(0xffffULL << (16 * g));
    }
    for (int k = 0; k < 8; ++k) {
      n.bytes[static_cast<size_t>(k)] = static_cast<uint8_t>(a >> (56 - 8 * k));
      n.bytes[static_cast<size_t>(8 + k)] = static_cast<uint8_t>(b >> (56 - 8 * k));
    }
    bool mapped = a == 0 && (b >> 32) == 0xffff;
    if (mapped) continue;
    std::string text = FormatIpNetwork(n);
    auto back = ParseIpNetwork(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, n) << text;
    for (char c : text) EXPECT_FALSE(c >= 'A' && c <= 'F') << text;
  }
}

TEST(FormatIpNetworkTest, CompressesLongestRunFirstOnTie) {
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  EXPECT_EQ(FormatIpNetwork(*ParseIpNetwork("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
}

}  // namespace
}  // namespace iocgrid::core
