// The fast value path against the generic one (core/fast_value.h): whenever the fast path takes
// a value, its result must be exactly GuessIndicatorGeneric's. Checked on every token of every
// shared and bundled data file, on hand-picked edge cases, and on seeded random mutations of
// plain values.
#include "core/fast_value.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/indicator.h"

namespace iocgrid::core {
namespace {

// Checks one value; returns whether the fast path took it.
bool CheckOne(std::string_view raw) {
  Indicator fast;
  if (!GuessPlainIndicator(raw, &fast)) return false;
  Result<Indicator> generic = GuessIndicatorGeneric(raw);
  EXPECT_TRUE(generic.ok()) << "fast path took '" << raw << "' as " << TypeName(fast.type)
                            << " but the generic path refuses it: "
                            << (generic.ok() ? "" : generic.status().message());
  if (generic.ok()) {
    EXPECT_EQ(fast.type, generic->type) << raw;
    EXPECT_EQ(fast.value, generic->value) << raw;
  }
  // GuessIndicator is the fast path then the generic one: the same answer either way.
  Result<Indicator> guessed = GuessIndicator(raw);
  EXPECT_TRUE(guessed.ok() && *guessed == fast) << raw;
  return true;
}

std::vector<std::string> Tokens(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > 4096) line.resize(4096);
    out.push_back(line);
    std::string token;
    for (char c : line + " ") {
      if (c == ' ' || c == '\t' || c == ',' || c == ';' || c == '"' || c == '\'' || c == '\r' ||
          c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' || c == '=') {
        if (!token.empty()) out.push_back(token);
        token.clear();
      } else {
        token += c;
      }
    }
  }
  return out;
}

TEST(FastValue, AgreesWithTheGenericPathOnEveryDataFileToken) {
  size_t tokens = 0;
  size_t fast = 0;
  for (const char* root : {IOCGRID_SHARED_DATA_DIR, IOCGRID_TEST_DATA_DIR}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file() || entry.file_size() > (64 << 20)) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (const std::string& token : Tokens(text)) {
        ++tokens;
        fast += CheckOne(token) ? 1 : 0;
      }
    }
  }
  // The shared data is mostly IP lists, digests and domains: the fast path must carry most of it.
  EXPECT_GT(tokens, 500000u);
  EXPECT_GT(fast, tokens / 5) << fast << " of " << tokens;
}

TEST(FastValue, TakesEveryLineOfAPlainIpList) {
  const std::string path = std::string(IOCGRID_SHARED_DATA_DIR) +
                           "/D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++lines;
    EXPECT_TRUE(CheckOne(line)) << line;
  }
  EXPECT_GT(lines, 1000u);
}

TEST(FastValue, EdgeCases) {
  struct Case {
    const char* raw;
    bool fast;  // whether the fast path takes it (the result is always checked against generic)
  };
  const Case cases[] = {
      {"1.2.3.4", true},
      {"0.0.0.0", true},
      {"255.255.255.255", true},
      {"256.1.1.1", false},
      {"1.2.3.04", false},
      {"01.2.3.4", false},
      {"1.2.3", false},
      {"1.2.3.4.5", false},
      {"1.2.3.4 ", false},
      {" 1.2.3.4", false},
      {"1.2.3.4.", false},
      {"1.2.3.4/32", false},
      {"1.2.3.4:80", false},
      {"d41d8cd98f00b204e9800998ecf8427e", true},
      {"D41D8CD98F00B204E9800998ECF8427E", true},
      {"d41d8cd98f00b204e9800998ecf8427", false},
      {"d41d8cd98f00b204e9800998ecf8427eX", false},
      {"da39a3ee5e6b4b0d3255bfef95601890afd80709", true},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true},
      {"evil.example.com", true},
      {"Evil.Example.COM", true},
      {"evil.com", true},
      {"a.b.c.d.e.co.jp", true},
      {"under_score.example.com", true},
      {"xn--p1ai", false},
      {"xn--80ak6aa92e.xn--p1ai", true},
      {"example.notatld", false},
      {"example.", false},
      {".example.com", false},
      {"a..example.com", false},
      {"-a.example.com", false},
      {"a-.example.com", true},
      {"1.2.3.com", true},
      {"localhost", false},
      {"evil.example.com:443", false},
      {"evil.example.com/path", false},
      {"hxxp.example.com", true},
      {"user@example.com", false},
      {"", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CheckOne(c.raw), c.fast) << "'" << c.raw << "'";
  }
  std::string long_label(63, 'a');
  EXPECT_TRUE(CheckOne(long_label + ".com"));
  EXPECT_FALSE(CheckOne(long_label + "a.com"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  EXPECT_TRUE(CheckOne(long_name + "com"));       // 253 characters: the longest name
  EXPECT_FALSE(CheckOne(long_name + "abc.com"));  // 257
}

TEST(FastValue, AgreesOnRandomMutationsOfPlainValues) {
  const std::string seeds[] = {"1.2.3.4",          "192.168.100.200",
                               "evil.example.com", "d41d8cd98f00b204e9800998ecf8427e",
                               "a.b.co.jp",        "x1-2_3.org"};
  const std::string alphabet = "0123456789abcdefxyzABCDEF.-_:/@|[]() \t%*\x80\xff";
  std::mt19937 rng(20261205);
  size_t fast = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string v = seeds[rng() % std::size(seeds)];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (v.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          if (at < v.size()) v[at] = c;
          break;
        default:
          if (at < v.size()) v.erase(at, 1);
      }
    }
    fast += CheckOne(v) ? 1 : 0;
  }
  EXPECT_GT(fast, 1000u);  // the mutations keep many values plain, so both branches are tested
}

}  // namespace
}  // namespace iocgrid::core
