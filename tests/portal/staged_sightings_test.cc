#include "portal/internal/staged_sightings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace iocgrid::portal::internal {
namespace {

std::vector<AllianceSighting> Sample() {
  AllianceSighting a;
  a.value = "45.0.0.1";
  a.type = "ip-src";
  a.cls = "noise";
  a.day = 20003;
  a.first_seen = 20003 * 86400 + 5;
  a.last_seen = 20003 * 86400 + 3600;
  a.count = 7;
  a.alerted = 2;
  a.members = {"honeypot", "東京-cert"};
  a.actors = {"misp-galaxy:threat-actor=\"APT10\""};
  AllianceSighting b;  // every field at an edge: empty strings, negatives, the largest counts
  b.day = -1;
  b.first_seen = std::numeric_limits<int64_t>::min();
  b.last_seen = std::numeric_limits<int64_t>::max();
  b.count = std::numeric_limits<uint64_t>::max();
  b.alerted = 0;
  b.members = {""};
  return {a, b};
}

void ExpectSame(const std::vector<AllianceSighting>& got,
                const std::vector<AllianceSighting>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].value, want[i].value) << i;
    EXPECT_EQ(got[i].type, want[i].type) << i;
    EXPECT_EQ(got[i].cls, want[i].cls) << i;
    EXPECT_EQ(got[i].day, want[i].day) << i;
    EXPECT_EQ(got[i].first_seen, want[i].first_seen) << i;
    EXPECT_EQ(got[i].last_seen, want[i].last_seen) << i;
    EXPECT_EQ(got[i].count, want[i].count) << i;
    EXPECT_EQ(got[i].alerted, want[i].alerted) << i;
    EXPECT_EQ(got[i].members, want[i].members) << i;
    EXPECT_EQ(got[i].actors, want[i].actors) << i;
  }
}

TEST(StagedSightingsTest, EveryFieldComesBackAsItWent) {
  const std::string bytes = EncodeStagedSightings(Sample());
  auto back = DecodeStagedSightings(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(*back, Sample());
  auto none = DecodeStagedSightings(EncodeStagedSightings({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StagedSightingsTest, EveryCutIsRefusedAndTrailingBytesToo) {
  const std::string bytes = EncodeStagedSightings(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto cut = DecodeStagedSightings(bytes.substr(0, n));
    ASSERT_FALSE(cut.ok()) << n;
    EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeStagedSightings(bytes + '\0').status().code(), StatusCode::kDataLoss);
}

TEST(StagedSightingsTest, HostileHeadersAreRefusedWithoutAllocatingForThem) {
  EXPECT_EQ(DecodeStagedSightings("X").status().code(), StatusCode::kDataLoss);  // not 'S'
  // 2^63 sightings claimed in 12 bytes; a varint past 64 bits; a string longer than the rest.
  EXPECT_FALSE(
      DecodeStagedSightings(std::string("S\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10)).ok());
  EXPECT_FALSE(
      DecodeStagedSightings(std::string("S\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)).ok());
  std::string long_string("S\x01\xff\xff\x03", 5);
  long_string += std::string(20, 'a');
  auto refused = DecodeStagedSightings(long_string);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("staged batch"), std::string::npos);
}

}  // namespace
}  // namespace iocgrid::portal::internal
