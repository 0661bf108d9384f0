#include "sift/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sift/sifter.h"

namespace iocgrid::sift {
namespace {

Observable Obs(std::string value, uint64_t lines) {
  Observable o;
  o.value = std::move(value);
  o.lines = lines;
  return o;
}

TEST(ReportOrderTest, ClassThenMostLinesThenValue) {
  const std::vector<Observable> obs = {
      Obs("203.0.113.9", 5),       // 0 unknown
      Obs("198.51.100.20", 7),     // 1 noise
      Obs("198.51.100.3", 7),      // 2 noise: same lines, "198.51.100.20" < "198.51.100.3"
      Obs("evil.example.com", 1),  // 3 threat
      Obs("198.51.100.200", 7),    // 4 noise: shares its first 8 bytes with 1 and 2
      Obs("192.0.2.1", 9),         // 5 noise: most lines
  };
  const std::vector<Class> cls = {Class::kUnknown, Class::kNoise, Class::kNoise,
                                  Class::kThreat,  Class::kNoise, Class::kNoise};
  EXPECT_EQ(ReportOrder(obs, cls), (std::vector<uint32_t>{3, 5, 1, 4, 2, 0}));
}

// The order against the rule applied directly, over values that share long prefixes or are
// prefixes of each other (with a NUL byte too), repeated values, and line counts beyond the
// sort key's 56 bits.
TEST(ReportOrderTest, SameAsTheRuleOverTiesAndHugeCounts) {
  std::mt19937_64 rng(12);
  const std::vector<std::string> stems = {
      "192.168.1.", "192.168.10.",          "192.168", "a",
      "",           std::string("ab\0", 3), "ab",      "xn--p1ai.example"};
  const std::vector<uint64_t> counts = {0,
                                        1,
                                        2,
                                        (uint64_t{1} << 56) - 1,
                                        uint64_t{1} << 56,
                                        (uint64_t{1} << 56) + 1,
                                        std::numeric_limits<uint64_t>::max()};
  std::vector<Observable> obs;
  std::vector<Class> cls;
  for (int i = 0; i < 5000; ++i) {
    std::string value = stems[rng() % stems.size()];
    if (rng() % 2 == 0) value += std::to_string(rng() % 40);
    obs.push_back(Obs(value, counts[rng() % counts.size()]));
    cls.push_back(static_cast<Class>(rng() % kClassCount));
  }
  std::vector<uint32_t> expected(obs.size());
  std::iota(expected.begin(), expected.end(), 0u);
  std::stable_sort(expected.begin(), expected.end(), [&](uint32_t a, uint32_t b) {
    if (cls[a] != cls[b]) return cls[a] < cls[b];
    if (obs[a].lines != obs[b].lines) return obs[a].lines > obs[b].lines;
    return obs[a].value < obs[b].value;
  });
  EXPECT_EQ(ReportOrder(obs, cls), expected);
}

}  // namespace
}  // namespace iocgrid::sift
