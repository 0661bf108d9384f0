#include "core/ip.h"

#include <gtest/gtest.h>

#include <random>

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
