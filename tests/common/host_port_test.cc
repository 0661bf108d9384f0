#include "common/host_port.h"

#include <gtest/gtest.h>

namespace iocgrid {
namespace {

TEST(HostPortTest, ParsesHostsAndPorts) {
  auto a = ParseHostPort("127.0.0.1:8443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8443);
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = ParseHostPort("portal.example:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 65535);
}

TEST(HostPortTest, RefusesPortsOutOfRangeInsteadOfWrapping) {
  for (const char* bad : {"127.0.0.1:70000", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:", "127.0.0.1:99999999999999999999", "127.0.0.1:8x", ":80",
                          "::1:80", "127.0.0.1", "127.0.0.1: 80"}) {
    auto r = ParseHostPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace iocgrid
