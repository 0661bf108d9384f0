#include "portal/portal_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/common/temp_dir.h"

namespace iocgrid::portal {
namespace {

class PortalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = ::iocgrid::test::MakeTempDir("iocgrid-pstore"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PortalStoreTest, KeysAuthenticateUntilRevoked) {
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto key = (*s)->CreateUserKey("alice", Role::kAnalyst);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 40u);
  auto u = (*s)->Authenticate(*key);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->role, Role::kAnalyst);
  EXPECT_FALSE((*s)->Authenticate(std::string(40, 'a')).ok());
  EXPECT_FALSE((*s)->Authenticate("short").ok());
  auto keys = (*s)->ListKeys();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->at(0).key_start, key->substr(0, 4));
  ASSERT_TRUE((*s)->RevokeKey(keys->at(0).id).ok());
  EXPECT_FALSE((*s)->Authenticate(*key).ok());
  EXPECT_EQ((*s)->RevokeKey(keys->at(0).id).code(), StatusCode::kNotFound);
}

TEST_F(PortalStoreTest, KeyTimesComeFromTheStoresClock) {
  Clock clock = Clock::Manual(1'700'000'000);
  auto s = PortalStore::Open(dir_, clock);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->CreateUserKey("alice", Role::kAnalyst).ok());
  clock.Advance(3600);
  auto keys = (*s)->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->at(0).created, 1'700'000'000);
  EXPECT_EQ(keys->at(0).revoked, 0);
  ASSERT_TRUE((*s)->RevokeKey(keys->at(0).id).ok());
  keys = (*s)->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->at(0).revoked, 1'700'003'600);
}

TEST_F(PortalStoreTest, FinishedSearchesSurviveAndRunningOnesAreInterrupted) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    SearchRow done{"aaa", "alice", "case 1", "amber", false, 100, "running", 2, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(done).ok());
    done.status = "done";
    done.hits = 3;
    done.document = "{\"id\":\"aaa\"}";
    done.events = "event: done\ndata: {}\n\n";
    ASSERT_TRUE((*s)->FinishSearch(done).ok());
    SearchRow running{"bbb", "bob", "case 2", "red", true, 200, "running", 5, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(running).ok());
  }
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->interrupted_at_open(), 1);
  auto a = (*s)->GetSearch("aaa");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, "done");
  EXPECT_EQ(a->hits, 3u);
  EXPECT_EQ(a->document, "{\"id\":\"aaa\"}");
  EXPECT_EQ((*s)->GetSearch("bbb")->status, "interrupted");
  auto list = (*s)->ListSearches();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).id, "bbb");  // newest first
  ASSERT_TRUE((*s)->DeleteSearch("aaa").ok());
  EXPECT_EQ((*s)->GetSearch("aaa").status().code(), StatusCode::kNotFound);
}

// A read error part-way through the history is an error, never a shorter list presented as
// the whole: a real file with a damaged page in the middle.
TEST_F(PortalStoreTest, ADamagedPageIsAnErrorNotATruncatedList) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 2000; ++i) {
      SearchRow row{"id" + std::to_string(i),
                    "alice",
                    std::string(1000, 'l'),
                    "amber",
                    false,
                    i,
                    "done",
                    1,
                    0,
                    "{}",
                    "",
                    ""};
      ASSERT_TRUE((*s)->InsertSearch(row).ok());
    }
    ASSERT_EQ((*s)->ListSearches()->size(), 2000u);
  }
  std::string path = dir_ + "/portal.db";
  auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 1000000u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string garbage(4096 * 4, '\xff');
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto s = PortalStore::Open(dir_);
  if (!s.ok()) return;  // refusing the damaged file at open is fine too
  auto list = (*s)->ListSearches();
  EXPECT_FALSE(list.ok()) << "a damaged store listed " << list->size() << " searches as OK";
}

// Runs SQL on the portal's file with the sqlite3 shell (an independent writer).
void Sql(const std::string& dir, const std::string& sql) {
  std::string cmd = "sqlite3 " + dir + "/portal.db \"" + sql + "\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A file written before the portal store had a version (no user_version, no application_id)
// and before the scope column: it opens, its rows survive, and it is stamped with the newest
// version.
TEST_F(PortalStoreTest, StoresWrittenBeforeVersioningAreUpgraded) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    SearchRow row{"old", "alice", "", "amber", false, 1, "done", 1, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_,
      "ALTER TABLE searches DROP COLUMN scope; PRAGMA user_version = 0;"
      " PRAGMA application_id = 0;");
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto row = (*s)->GetSearch("old");
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_EQ(row->scope, "{}");
  }
  std::string out = dir_ + "/version.txt";
  std::string cmd = "sqlite3 " + dir_ + "/portal.db 'PRAGMA user_version' > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  std::string version;
  std::getline(in, version);
  EXPECT_EQ(version, "7");
}

// The ad-hoc upgrade of the unversioned days could already have added scope; migration 2 keeps it.
TEST_F(PortalStoreTest, UnversionedStoresThatHaveTheScopeColumnOpen) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    SearchRow row{"new", "alice", "", "amber", false, 1, "done", 1, 0, "{\"since\":1}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_, "PRAGMA user_version = 0; PRAGMA application_id = 0;");
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->GetSearch("new")->scope, "{\"since\":1}");
}

// Version 4 (issue 11): a version-3 file (users without organisations, no sightings table)
// opens with its users and keys intact; organisations are set only when given.
TEST_F(PortalStoreTest, VersionThreeStoresGainOrganisationsAndSightings) {
  std::string key;
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    key = *(*s)->CreateUserKey("alice", Role::kAnalyst);
  }
  Sql(dir_,
      "DROP TABLE search_sightings; ALTER TABLE users DROP COLUMN org; PRAGMA user_version = 3;");
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto alice = (*s)->Authenticate(key);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->org, "");
  ASSERT_TRUE((*s)->CreateUserKey("alice", Role::kAnalyst, "ACME CERT").ok());
  EXPECT_EQ((*s)->Authenticate(key)->org, "ACME CERT");
  ASSERT_TRUE((*s)->CreateUserKey("alice", Role::kAdmin).ok());  // keeps the organisation
  EXPECT_EQ((*s)->Authenticate(key)->org, "ACME CERT");
  for (const std::string& bad :
       {std::string(), std::string(256, 'x'), std::string("a\nb"), std::string("\xff")}) {
    EXPECT_EQ((*s)->CreateUserKey("bob", Role::kAnalyst, bad).status().code(),
              StatusCode::kInvalidArgument);
  }
  SentSighting row{"s1",       5, "alice",        "true-positive", "ACME CERT",
                   "honeypot", 2, "198.51.100.7", "sent",          ""};
  ASSERT_TRUE((*s)->InsertSentSightings({row, row}).ok());
  EXPECT_EQ((*s)->ListSentSightings("s1")->size(), 2u);
  EXPECT_TRUE((*s)->ListSentSightings("s2")->empty());
}

// The private-search relay's per-user daily share (issue 10) is counted in the file.
TEST_F(PortalStoreTest, PrivateEvaluationsAreCountedPerUserAndDayAcrossReopens) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    auto c = (*s)->ChargeEvaluations("bob", 100, 15, 20);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->charged);
    EXPECT_EQ(c->used, 15u);
  }
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto over = (*s)->ChargeEvaluations("bob", 100, 10, 20);
  ASSERT_TRUE(over.ok());
  EXPECT_FALSE(over->charged);
  EXPECT_EQ(over->used, 15u);
  EXPECT_TRUE((*s)->ChargeEvaluations("bob", 100, 5, 20)->charged);     // exactly the cap
  EXPECT_TRUE((*s)->ChargeEvaluations("carol", 100, 20, 20)->charged);  // her own share
  auto next_day = (*s)->ChargeEvaluations("bob", 101, 20, 20);
  EXPECT_TRUE(next_day->charged);
  EXPECT_EQ(next_day->used, 20u);
}

TEST_F(PortalStoreTest, ANewerSchemaVersionIsRefusedNamingBoth) {
  ASSERT_TRUE(PortalStore::Open(dir_).ok());
  Sql(dir_, "PRAGMA user_version = 9;");
  auto s = PortalStore::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  std::string_view message = s.status().message();
  EXPECT_NE(message.find("portal store schema version 9"), std::string::npos) << message;
  EXPECT_NE(message.find("versions up to 7"), std::string::npos) << message;
}

SiftRow ASift(std::string id, std::string status) {
  return SiftRow{std::move(id),
                 "alice",
                 "web",
                 "amber",
                 false,
                 5,
                 std::move(status),
                 "s1",
                 10,
                 2,
                 "{}",
                 "{\"observables\":[]}",
                 std::string("\x01\x00\x02", 3),
                 ""};
}

// Version 3 (sifts) on a version-2 file: the searches stay, sifts can be stored and read back,
// binary line groups intact; a sift whose search still ran is interrupted at the next open.
TEST_F(PortalStoreTest, Version2StoresGainSifts) {
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    SearchRow row{"old", "alice", "", "amber", false, 1, "done", 1, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_, "DROP TABLE sifts; PRAGMA user_version = 2;");
  {
    auto s = PortalStore::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE((*s)->GetSearch("old").ok());
    ASSERT_TRUE((*s)->InsertSift(ASift("a", "searching")).ok());
    ASSERT_TRUE((*s)->InsertSift(ASift("b", "done")).ok());
    EXPECT_FALSE((*s)->InsertSift(ASift("b", "done")).ok()) << "ids are unique";
    ASSERT_TRUE((*s)->FinishSift("b", "done", "{\"final\":1}").ok());
    EXPECT_EQ((*s)->FinishSift("nope", "done", "").code(), StatusCode::kNotFound);
  }
  auto s = PortalStore::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto a = (*s)->GetSift("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, "interrupted");
  EXPECT_EQ(a->groups, std::string("\x01\x00\x02", 3));
  EXPECT_EQ(a->lines, 10u);
  EXPECT_EQ((*s)->GetSift("b")->report, "{\"final\":1}");
  EXPECT_EQ((*s)->GetSift("c").status().code(), StatusCode::kNotFound);
  auto list = (*s)->ListSifts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE(list->at(0).report.empty()) << "the list leaves the documents out";
}

TEST_F(PortalStoreTest, AnotherSqliteFileIsRefused) {
  Sql(dir_, "CREATE TABLE notes(x);");
  auto s = PortalStore::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
}

}  // namespace
}  // namespace iocgrid::portal
