#include "portal/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/temp_dir.h"

namespace iocgrid::portal {
namespace {

TEST(PortalConfigTest, ReadsTheDocumentedShape) {
  test::TempDir temp("iocgrid-cfg");
  std::filesystem::path dir = temp.path();
  std::filesystem::create_directories(dir / "keys");
  std::ofstream(dir / "keys" / "anonymity.key") << std::string(40, 'k') << "\n";
  setenv("IOCGRID_TEST_MISP_KEY", std::string(40, 'e').c_str(), 1);
  std::string toml = R"(
listen = "127.0.0.1:8080"
data = "portal-data"            # the portal's SQLite store and state
[[members]]
name = "anonymity"
kind = "iocgrid"
url = "https://node-a.example:8443/"
key_file = "keys/anonymity.key"
ca_file = "ca.pem"
timeout_ms = 5000
disclosure = "full"
[[members]]
name = "circl"
display_name = "CIRCL MISP"
sector = "national CERT"
kind = "misp"
url = "https://misp.example"
key_env = "IOCGRID_TEST_MISP_KEY"
batch_size = 50
max_concurrent = 2
disclosure = "existence"
)";
  auto c = ParseConfig(toml, dir.string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->data, (dir / "portal-data").string());
  ASSERT_EQ(c->members.size(), 2u);
  const auto& a = c->members[0];
  EXPECT_EQ(a.name, "anonymity");
  EXPECT_EQ(a.display_name, "anonymity");
  EXPECT_EQ(a.url, "https://node-a.example:8443");
  EXPECT_EQ(a.key, std::string(40, 'k'));
  EXPECT_EQ(a.ca_file, (dir / "ca.pem").string());
  EXPECT_EQ(a.timeout.count(), 5000);
  EXPECT_EQ(a.kind, federation::MemberKind::kIocgrid);
  const auto& m = c->members[1];
  EXPECT_EQ(m.kind, federation::MemberKind::kMisp);
  EXPECT_EQ(m.key, std::string(40, 'e'));
  EXPECT_EQ(m.batch_size, 50u);
  EXPECT_EQ(m.max_concurrent, 2);
  EXPECT_EQ(m.disclosure, federation::Disclosure::kExistence);
  EXPECT_EQ(m.sector, "national CERT");
}

TEST(PortalConfigTest, ErrorsNameTheProblem) {
  auto bad = [](const std::string& toml) {
    auto c = ParseConfig(toml, "/tmp");
    EXPECT_FALSE(c.ok()) << toml;
    return std::string(c.status().message());
  };
  EXPECT_NE(bad("listen = \n").find("line 1"), std::string::npos);
  EXPECT_NE(bad("lisen = \"x\"\n").find("unknown setting 'lisen'"), std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a\"\nkind = \"opencti\"\nurl = \"https://x\"\nkey = \"k\"\n")
                .find("kind must be"),
            std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a\"\nurl = \"ftp://x\"\nkey = \"k\"\n").find("'url'"),
            std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a\"\nurl = \"https://x\"\n").find("API key"),
            std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a\"\nurl = \"https://x\"\nkey = \"k\"\n[[members]]\nname = "
                "\"a\"\nurl = \"https://y\"\nkey = \"k\"\n")
                .find("listed twice"),
            std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a\"\nurl = \"https://x\"\nkey_file = \"/nonexistent/k\"\n")
                .find("key_file"),
            std::string::npos);
  EXPECT_NE(
      bad("[[members]]\nname = \"a\"\nurl = \"https://x\"\nkey = \"k\"\ntimeout_ms = \"soon\"\n")
          .find("timeout_ms"),
      std::string::npos);
  EXPECT_NE(bad("[[members]]\nname = \"a b\"\nurl = \"https://x\"\nkey = \"k\"\n").find("name"),
            std::string::npos);
}

// `database`: left out = the SQLite file; a postgresql:// URL libpq reads; anything else, a
// wrong type or a URL libpq cannot read is an error naming the setting's line.
TEST(PortalConfigTest, DatabaseIsTheFileOrAPostgresUrl) {
  auto c = ParseConfig("", "/tmp");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->database, "");
  c = ParseConfig(
      "database = \"postgresql://portal@db.example:5433/iocgrid?sslmode=verify-full\"\n", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database, "postgresql://portal@db.example:5433/iocgrid?sslmode=verify-full");
  for (const std::string& bad :
       {std::string("database = \"mysql://h/db\"\n"), std::string("database = \"portal.db\"\n"),
        std::string("database = 5432\n"), std::string("database = \"postgresql://h/db?bogus=1\"\n"),
        std::string("database = \"postgresql://h:99999999999999999999/db\"\n")}) {
    auto r = ParseConfig(bad, "/tmp");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("database"), std::string::npos) << r.status().ToString();
  }
}

TEST(PortalConfigTest, PrivateMembersAreNodesWithAMode) {
  const std::string head = "[[members]]\nname = \"a\"\nurl = \"https://x\"\nkey = \"k\"\n";
  auto c = ParseConfig(head + "disclosure = \"private\"\n", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->members[0].disclosure, federation::Disclosure::kPrivate);
  EXPECT_EQ(c->members[0].psi_mode, federation::PsiMode::kFullSet);
  c = ParseConfig(head + "disclosure = \"private\"\npsi_mode = \"bucketed\"\n", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->members[0].psi_mode, federation::PsiMode::kBucketed);
  struct Case {
    std::string extra;
    std::string says;
  };
  for (const Case& bad : std::vector<Case>{
           {"kind = \"misp\"\ndisclosure = \"private\"\n", "iocgrid node"},
           {"psi_mode = \"bucketed\"\n", "psi_mode needs disclosure = \"private\""},
           {"disclosure = \"private\"\npsi_mode = \"fast\"\n", "psi_mode must be"},
           {"disclosure = \"private\"\npsi_mode = 3\n", "psi_mode"},
           {"disclosure = \"secret\"\n", "disclosure must be"},
       }) {
    auto r = ParseConfig(head + bad.extra, "/tmp");
    ASSERT_FALSE(r.ok()) << bad.extra;
    EXPECT_NE(r.status().message().find(bad.says), std::string_view::npos) << r.status().message();
  }
}

// Sightings back to members (issue 11): taken and with their source by default; either can be
// turned off per member, and only with a boolean.
TEST(PortalConfigTest, SightingSettingsPerMember) {
  const std::string head = "[[members]]\nname = \"a\"\nurl = \"https://x\"\nkey = \"k\"\n";
  auto c = ParseConfig(head, "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->members[0].accept_sightings);
  EXPECT_FALSE(c->members[0].hide_sighting_source);
  c = ParseConfig(head + "accept_sightings = false\nhide_sighting_source = true\n", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->members[0].accept_sightings);
  EXPECT_TRUE(c->members[0].hide_sighting_source);
  for (const char* bad : {"accept_sightings = \"no\"\n", "accept_sightings = 0\n",
                          "hide_sighting_source = \"yes\"\n"}) {
    auto r = ParseConfig(head + bad, "/tmp");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("sighting"), std::string_view::npos)
        << r.status().message();
  }
}

TEST(PortalConfigTest, WatchSettingsHaveDefaultsAndRanges) {
  auto c = ParseConfig("", "/tmp");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->watch.poll_seconds, 60);
  EXPECT_EQ(c->watch.min_interval_s, 60);
  EXPECT_EQ(c->watch.webhook_attempts, 6);
  c = ParseConfig("watch_poll_seconds = 5\nwebhook_attempts = 2\nwebhook_backoff_ms = 100\n",
                  "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->watch.poll_seconds, 5);
  EXPECT_EQ(c->watch.webhook_attempts, 2);
  EXPECT_EQ(c->watch.webhook_backoff_ms, 100);
  for (const char* bad : {"watch_poll_seconds = 0\n", "webhook_attempts = 21\n",
                          "min_watch_interval_seconds = \"1m\"\n", "max_watchlists_per_user = -1\n",
                          "webhook_timeout_ms = 1\n"}) {
    auto r = ParseConfig(bad, "/tmp");
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(PortalConfigTest, FederationSettingsOutsideTheirRangeAreErrors) {
  auto c = ParseConfig(
      "retries = 0\nbreaker_failures = 5\nbreaker_open_ms = 1000\n"
      "max_private_tags = 100000\n",
      "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->federation.retries, 0);
  EXPECT_EQ(c->federation.breaker_failures, 5);
  EXPECT_EQ(c->federation.breaker_open_for.count(), 1000);
  EXPECT_EQ(c->federation.max_private_tags, 100000u);
  EXPECT_EQ(c->private_evaluations_per_user_day, 200000u);  // the default
  for (const char* text :
       {"retries = -1\n", "retries = 99999999999999999\n", "breaker_failures = 0\n",
        "breaker_open_ms = -5\n", "max_private_tags = 10\n", "max_private_tags = \"lots\"\n"}) {
    auto r = ParseConfig(text, "/tmp");
    ASSERT_FALSE(r.ok()) << text;
    const std::string key(text, std::string_view(text).find(' '));
    EXPECT_NE(r.status().message().find(key), std::string_view::npos) << r.status().message();
  }
}

TEST(PortalConfigTest, SiftUploadCapIsMiBAndChecked) {
  EXPECT_EQ(ParseConfig("", "/tmp")->max_sift_upload_bytes, uint64_t{2048} << 20);
  EXPECT_EQ(ParseConfig("max_sift_upload_mb = 16\n", "/tmp")->max_sift_upload_bytes,
            uint64_t{16} << 20);
  for (const char* text :
       {"max_sift_upload_mb = 0\n", "max_sift_upload_mb = -5\n", "max_sift_upload_mb = 2000000\n",
        "max_sift_upload_mb = \"2G\"\n", "max_sift_upload_mb = 1.5\n"}) {
    auto c = ParseConfig(text, "/tmp");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find("max_sift_upload_mb"), std::string_view::npos)
        << c.status().message();
  }
}

TEST(PortalConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadConfig("/nonexistent/portal.toml").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace iocgrid::portal
