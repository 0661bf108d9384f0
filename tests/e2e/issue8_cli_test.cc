// Issue 8, first contact with the CLI, on the real binary: a typo in --data must not serve an
// empty store, --event-info names CSV and list events, typos name the unknown flag or
// subcommand, and prose given to `search` points at --from-text, quoting input on character
// boundaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/utf8.h"
#include "store/store.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Issue8CliTest, ServeRefusesAMissingDataDirectoryUnlessCreate) {
  TempDir dir;
  const std::string typo = dir.path() + "/typo/dir";
  auto r = RunIocgrid({"node", "serve", "--data", typo, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(typo), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--create"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(typo)) << "the typo must not create a store";
  // --create makes the store (the server then fails on the missing TLS files, after it).
  auto created =
      RunIocgrid({"node", "serve", "--data", typo, "--create", "--listen", "127.0.0.1:0",
                  "--tls-cert", dir.path() + "/none.pem", "--tls-key", dir.path() + "/none.key"});
  EXPECT_EQ(created.exit_code, 2);
  EXPECT_EQ(created.err.find("--create"), std::string::npos) << created.err;
  EXPECT_TRUE(std::filesystem::exists(typo)) << created.err;
}

std::string EventInfo(const std::string& data) {
  store::StoreOptions options;
  options.create_if_missing = false;
  auto s = store::Store::Open(data, options);
  if (!s.ok()) return "open failed: " + s.status().ToString();
  auto events = (*s)->ListEvents(store::EventQuery{});
  if (!events.ok() || events->size() != 1) return "expected one event";
  return events->front().info;
}

TEST(Issue8CliTest, EventInfoNamesCsvAndPlainListEvents) {
  TempDir dir;
  const std::string csv = dir.Write("feed.csv", "type,value\nurl,hxxp://bad.example/login\n");
  const std::string plain = dir.Write("list.txt", "evil[.]example\n");
  for (const std::string& file : {csv, plain}) {
    const std::string data =
        dir.path() + "/data-" + std::filesystem::path(file).filename().string();
    auto r =
        RunIocgrid({"node", "import", "--data", data, "--event-info", "Campaign X", "-q", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(EventInfo(data), "Campaign X") << file;
  }
}

TEST(Issue8CliTest, UnknownFlagsAndSubcommandsAreNamedWithTheClosestMatch) {
  struct Case {
    std::vector<std::string> args;
    std::string unknown;
    std::string suggestion;
  };
  const Case cases[] = {
      {{"match", "--agains", "data.csv", "q.txt"}, "--agains", "--against"},
      {{"nod", "serve"}, "'nod'", "node"},
      {{"node", "serv", "--data", "d"}, "'serv'", "serve"},
      {{"node", "import", "--dat", "d", "f.csv"}, "--dat", "--data"},
      {{"search", "--portall", "http://x", "f.txt"}, "--portall", "--portal"},
  };
  for (const Case& c : cases) {
    auto r = RunIocgrid(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.unknown;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("unknown"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.unknown), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean " + c.suggestion + "?"), std::string::npos) << r.err;
  }
  // Known flags with values that look like subcommands still parse.
  auto ok = RunIocgrid({"node", "serve", "--data", "serve", "--listen", "nowhere"});
  EXPECT_NE(ok.err.find("--listen: 'nowhere' is not HOST:PORT"), std::string::npos) << ok.err;
}

// CLI11 clamped a 20-digit value to the type's largest and read "010" as octal 8: integer
// flags take plain decimals of at most 18 digits, and the value is named.
TEST(Issue8CliTest, IntegerFlagsRefuseHugeOctalAndHexValues) {
  const std::vector<std::vector<std::string>> cases = {
      {"node", "serve", "--data", "d", "--index-merge-at", "99999999999999999999999"},
      {"node", "serve", "--data", "d", "--max-match-values=010"},
      {"node", "serve", "--data", "d", "--max-search-values", "0x10"},
      {"node", "serve", "--data", "d", "--index-fold-at", "-4"},
      {"match", "--max-hits-per-query", "1e3", "--against", "a.csv", "q.txt"},
      {"node", "serve", "--data", "d", "--threads", "--5"},
  };
  for (const auto& args : cases) {
    auto r = RunIocgrid(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("whole number"), std::string::npos) << r.err;
  }
  // Out of a count's range (zero threads, a body cap whose bytes overflow): refused with the
  // range, never clamped.
  const std::vector<std::pair<std::string, std::string>> ranges = {
      {"--index-merge-at", "0"}, {"--threads", "0"},
      {"--threads", "-1"},       {"--psi-threads", "0"},
      {"--read-timeout", "0"},   {"--max-connections", "0"},
      {"--max-body-mb", "0"},    {"--max-body-mb", "999999999999999999"}};
  for (const auto& [flag, value] : ranges) {
    auto r = RunIocgrid({"node", "serve", "--data", "d", flag, value});
    EXPECT_EQ(r.exit_code, 2) << flag << " " << value;
    EXPECT_NE(r.err.find(flag + ": Value " + value + " not in range"), std::string::npos) << r.err;
  }
}

TEST(Issue8CliTest, SearchOnProseSuggestsFromText) {
  TempDir dir;
  const std::string report = dir.Write(
      "report.txt",
      "The actor used several servers in the campaign.\nInfrastructure was rotated weekly.\n");
  auto r = RunIocgrid({"search", "--portal", "http://127.0.0.1:1", "--key", "k", report});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("--from-text"), std::string::npos) << r.err;
}

TEST(Issue8CliTest, WarningsQuotingJapaneseCutOnCharacterBoundaries) {
  TempDir dir;
  std::string prose;
  for (int i = 0; i < 40; ++i) prose += "攻撃者は";  // 12 bytes each: any byte cut can split one
  const std::string file = dir.Write("mixed.txt", "198.51.100.7\n" + prose + "\nx" + prose + "\n");
  auto r = RunIocgrid({"search", "--portal", "http://127.0.0.1:1", "--key", "k", file});
  ASSERT_FALSE(r.err.empty());
  EXPECT_TRUE(IsValidUtf8(r.err)) << r.err;
}

}  // namespace
}  // namespace iocgrid::e2e
