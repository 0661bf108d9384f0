#include "portal/portal_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "sql/database.h"
#include "tests/common/temp_dir.h"
#include "tests/common/test_database.h"

namespace iocgrid::portal {
namespace {

// Runs on the SQLite file and, in ctest's PostgreSQL run, on a schema of the test server
// (tests/common/test_database.h).
class PortalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = test::PostgresMissing(); !why.empty()) GTEST_SKIP() << why;
    dir_ = ::iocgrid::test::MakeTempDir("iocgrid-pstore");
    database_ = test::TestDatabase();
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Result<std::unique_ptr<PortalStore>> Open(Clock clock = Clock()) {
    return PortalStore::Open(dir_, std::move(clock), database_);
  }
  std::string dir_;
  std::string database_;
};

// About the SQLite file itself (upgrades of old files, damaged pages): always on the file, and
// left out of the PostgreSQL run.
class PortalStoreFileTest : public PortalStoreTest {
 protected:
  void SetUp() override {
    PortalStoreTest::SetUp();
    database_.clear();
  }
};

TEST_F(PortalStoreTest, KeysAuthenticateUntilRevoked) {
  auto s = Open();
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
  auto s = Open(clock);
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
    auto s = Open();
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
  auto s = Open();
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
TEST_F(PortalStoreFileTest, ADamagedPageIsAnErrorNotATruncatedList) {
  {
    auto s = Open();
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
  auto s = Open();
  if (!s.ok()) return;  // refusing the damaged file at open is fine too
  auto list = (*s)->ListSearches();
  EXPECT_FALSE(list.ok()) << "a damaged store listed " << list->size() << " searches as OK";
}

// Runs SQL on the portal's file with the sqlite3 shell (an independent writer).
void Sql(const std::string& dir, const std::string& sql) {
  std::string cmd = "sqlite3 " + dir + "/portal.db \"" + sql + "\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The answer of a one-value query, read by the sqlite3 shell ("" when it fails).
std::string SqlValue(const std::string& dir, const std::string& sql) {
  std::string cmd = "sqlite3 " + dir + "/portal.db \"" + sql + "\"";
  FILE* out = popen(cmd.c_str(), "r");
  if (out == nullptr) return "";
  std::string text;
  char buf[256];
  while (fgets(buf, sizeof buf, out) != nullptr) text += buf;
  if (pclose(out) != 0) return "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// A file written before the portal store had a version (no user_version, no application_id)
// and before the scope column: it opens, its rows survive, and it is stamped with the newest
// version.
TEST_F(PortalStoreFileTest, StoresWrittenBeforeVersioningAreUpgraded) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    SearchRow row{"old", "alice", "", "amber", false, 1, "done", 1, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_,
      "ALTER TABLE searches DROP COLUMN scope; PRAGMA user_version = 0;"
      " PRAGMA application_id = 0;");
  {
    auto s = Open();
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
  EXPECT_EQ(version, "12");
}

// The ad-hoc upgrade of the unversioned days could already have added scope; migration 2 keeps it.
TEST_F(PortalStoreFileTest, UnversionedStoresThatHaveTheScopeColumnOpen) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    SearchRow row{"new", "alice", "", "amber", false, 1, "done", 1, 0, "{\"since\":1}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_, "PRAGMA user_version = 0; PRAGMA application_id = 0;");
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->GetSearch("new")->scope, "{\"since\":1}");
}

// Version 4 (issue 11): a version-3 file (users without organisations, no sightings table)
// opens with its users and keys intact; organisations are set only when given.
TEST_F(PortalStoreFileTest, VersionThreeStoresGainOrganisationsAndSightings) {
  std::string key;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    key = *(*s)->CreateUserKey("alice", Role::kAnalyst);
  }
  Sql(dir_,
      "DROP TABLE search_sightings; ALTER TABLE users DROP COLUMN org; PRAGMA user_version = 3;");
  auto s = Open();
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

// An IPv4 sighting of `day` (for the upgrade tests).
AllianceSighting Saw(const std::string& value, int64_t day, const std::string& cls = "noise") {
  AllianceSighting a;
  a.value = value;
  a.type = "ip-src";
  a.cls = cls;
  a.day = day;
  a.first_seen = a.last_seen = day * 86400 + 10;
  return a;
}

// Version 7 files hold sightings but no day sketches: migration 8 adds the table and the first
// open builds them from the rows, so buckets of several days count what was there.
TEST_F(PortalStoreFileTest, VersionSevenStoresGainDaySketchesFromTheirRows) {
  std::vector<SectorDistinctRow> before;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    for (int org = 0; org < 3; ++org) {
      std::vector<AllianceSighting> rows;
      for (int i = 0; i < 30 * (org + 1); ++i) {
        rows.push_back(
            Saw("45.0.0." + std::to_string(i), 20000 + i % 3, i % 2 ? "noise" : "threat"));
      }
      ASSERT_TRUE((*s)->RecordAllianceSightings("b" + std::to_string(org),
                                                "org-" + std::to_string(org),
                                                org == 2 ? "energy" : "finance", rows)
                      .ok());
    }
    before = *(*s)->SectorDistinct(20000, 20002, 3);
    ASSERT_EQ(before.size(), 4u);  // two sectors, two classes
  }
  Sql(dir_,
      "DROP TABLE sector_sketches; DROP INDEX alliance_values_rank; CREATE INDEX "
      "alliance_values_orgs ON alliance_values(orgs) WHERE orgs >= 2; PRAGMA user_version = 7;");
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto after = (*s)->SectorDistinct(20000, 20002, 3);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*after)[i].sector, before[i].sector);
    EXPECT_EQ((*after)[i].cls, before[i].cls);
    EXPECT_EQ((*after)[i].observables, before[i].observables) << i;
  }
  EXPECT_EQ(before[0].observables, 45u);  // energy, noise: org-2's 90 values, half of them
  // A damaged sketch is an error naming it, not a wrong count or a crash.
  s->reset();
  Sql(dir_, "UPDATE sector_sketches SET sketch = X'4501' WHERE day = 20001;");
  s = Open();
  ASSERT_TRUE(s.ok());
  auto damaged = (*s)->SectorDistinct(20000, 20002, 3);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("sketch"), std::string::npos);
}

// Version 8 files count scanners from every organisation's span; migration 9 marks the spans of
// values two or more organisations saw and indexes them, and the same scanners come out, also
// for a value that becomes shared after the upgrade.
// Four organisations of one sector: 45.0.0.i is seen by the organisations 0..i%4 on days spread
// over 20002-20004, and each organisation's own 45.0.1.<org> on own_day(org).
void RecordFourOrganisations(PortalStore& s, int64_t (*own_day)(int)) {
  for (int org = 0; org < 4; ++org) {
    std::vector<AllianceSighting> rows;
    for (int i = 0; i < 40; ++i) {
      if (org <= i % 4) rows.push_back(Saw("45.0.0." + std::to_string(i), 20002 + (i + org) % 3));
    }
    rows.push_back(Saw("45.0.1." + std::to_string(org), own_day(org)));
    ASSERT_TRUE(s.RecordAllianceSightings("b" + std::to_string(org), "org-" + std::to_string(org),
                                          "energy", rows)
                    .ok());
  }
}

// The row of `value` in a scanners answer, or nullptr.
const ScannerRow* ScannerOf(const std::vector<ScannerRow>& rows, const std::string& value) {
  auto it =
      std::find_if(rows.begin(), rows.end(), [&](const ScannerRow& r) { return r.value == value; });
  return it == rows.end() ? nullptr : &*it;
}

void ExpectSameScanners(const std::vector<ScannerRow>& before,
                        const Result<std::vector<ScannerRow>>& after) {
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*after)[i].value, before[i].value) << i;
    EXPECT_EQ((*after)[i].orgs, before[i].orgs) << i;
    EXPECT_EQ((*after)[i].sightings, before[i].sightings) << i;
  }
}

TEST_F(PortalStoreFileTest, VersionEightStoresIndexTheSpansOfSharedValues) {
  std::vector<ScannerRow> before;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    RecordFourOrganisations(**s, [](int) { return int64_t{20004}; });
    before = *(*s)->Scanners(20002, 20004, 2, 100);
    ASSERT_EQ(before.size(), 30u);  // the values seen by 2, 3 or 4 organisations
  }
  Sql(dir_,
      "DROP INDEX value_orgs_recent; ALTER TABLE value_orgs DROP COLUMN shared; PRAGMA "
      "user_version = 8;");
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSameScanners(before, (*s)->Scanners(20002, 20004, 2, 100));
  // org-0's own value, now seen by a second organisation: both spans count.
  ASSERT_TRUE(
      (*s)->RecordAllianceSightings("late", "org-9", "energy", {Saw("45.0.1.0", 20003)}).ok());
  auto late = (*s)->Scanners(20003, 20004, 2, 100);
  ASSERT_TRUE(late.ok());
  const ScannerRow* found = ScannerOf(*late, "45.0.1.0");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->orgs.size(), 2u);
}

// Version 9 stores index every sighting by value; version 10 only the rows of values two
// organisations saw (marked shared on the way), and the rest by day and sector. Scanners and
// the cells read the same before and after, and a value that reaches its second organisation
// after the upgrade has the first one's rows found.
TEST_F(PortalStoreFileTest, VersionNineStoresIndexOnlySharedRowsByValue) {
  std::vector<ScannerRow> before;
  std::vector<SectorDayRow> days_before;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    RecordFourOrganisations(**s, [](int org) { return int64_t{20002 + org % 3}; });
    before = *(*s)->Scanners(20002, 20004, 2, 100);
    ASSERT_EQ(before.size(), 30u);
    days_before = *(*s)->SectorDays(20002, 20004);
  }
  // Version 9 as it was: no shared column, the value index on every row.
  Sql(dir_,
      "DROP INDEX alliance_sightings_shared; ALTER TABLE "
      "alliance_sightings DROP COLUMN shared; CREATE INDEX alliance_sightings_value ON "
      "alliance_sightings(value_id, day, sector); PRAGMA user_version = 9;");
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(
      SqlValue(dir_, "SELECT count(*) FROM sqlite_master WHERE name = 'alliance_sightings_value'"),
      "0");
  const std::string shared = SqlValue(dir_, "SELECT count(*) FROM alliance_sightings WHERE shared");
  EXPECT_NE(shared, "0");
  EXPECT_EQ(shared, SqlValue(dir_,
                             "SELECT count(*) FROM alliance_sightings a JOIN alliance_values v ON "
                             "v.id = a.value_id WHERE v.orgs >= 2"));
  ExpectSameScanners(before, (*s)->Scanners(20002, 20004, 2, 100));
  // org-2's own value (seen on day 20004), now seen by org-9 on 20003: org-2's row is found
  // by value, and the cells count it once per day.
  ASSERT_TRUE(
      (*s)->RecordAllianceSightings("late", "org-9", "energy", {Saw("45.0.1.2", 20003)}).ok());
  auto late = (*s)->Scanners(20002, 20004, 2, 100);
  ASSERT_TRUE(late.ok());
  const ScannerRow* found = ScannerOf(*late, "45.0.1.2");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->orgs.size(), 2u);
  EXPECT_EQ(found->first_seen, Saw("45.0.1.2", 20003).first_seen);
  EXPECT_EQ(found->last_seen, Saw("45.0.1.2", 20004).last_seen);
  auto days_after = (*s)->SectorDays(20002, 20004);
  ASSERT_TRUE(days_after.ok());
  uint64_t observables_before = 0, observables_after = 0;
  for (const SectorDayRow& r : days_before) observables_before += r.observables;
  for (const SectorDayRow& r : *days_after) observables_after += r.observables;
  EXPECT_EQ(observables_after, observables_before + 1);  // 45.0.1.2 on 20003 is new that day
}

// Version 10 stores index every row by day and sector for the question whether a sector counts
// a value already; version 11 asks the shared rows' index, which carries the sector and class.
// The upgrade leaves the cells and scanners as they were, and a value another organisation of
// the sector saw that day (the first one's rows shared on the way) is not counted twice.
TEST_F(PortalStoreFileTest, VersionTenStoresAskTheSharedRowsWhetherASectorCountsAValue) {
  std::vector<ScannerRow> before;
  std::vector<SectorDayRow> days_before;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    RecordFourOrganisations(**s, [](int org) { return int64_t{20002 + org % 3}; });
    before = *(*s)->Scanners(20002, 20004, 2, 100);
    days_before = *(*s)->SectorDays(20002, 20004);
  }
  // Version 10 as it was: the cell index, and shared rows indexed by value and day only.
  Sql(dir_,
      "DROP INDEX alliance_sightings_shared; CREATE INDEX alliance_sightings_cell ON "
      "alliance_sightings(day, sector, value_id); CREATE INDEX alliance_sightings_shared ON "
      "alliance_sightings(value_id, day) WHERE shared = 1; PRAGMA user_version = 10;");
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(SqlValue(dir_, "PRAGMA user_version"), "12");
  EXPECT_EQ(
      SqlValue(dir_, "SELECT count(*) FROM sqlite_master WHERE name = 'alliance_sightings_cell'"),
      "0");
  EXPECT_EQ(SqlValue(dir_,
                     "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                     "pragma_index_info('alliance_sightings_shared') ORDER BY seqno)"),
            "value_id,day,sector,class");
  ExpectSameScanners(before, (*s)->Scanners(20002, 20004, 2, 100));
  auto observables = [&](int64_t day) {
    uint64_t n = 0;
    for (const SectorDayRow& r : *(*s)->SectorDays(day, day)) n += r.observables;
    return n;
  };
  uint64_t observables_before = 0;
  for (const SectorDayRow& r : days_before) {
    if (r.day == 20003) observables_before += r.observables;
  }
  ASSERT_EQ(observables(20003), observables_before);
  // org-1's own value (seen on 20003, by it alone): energy counts it that day already when a
  // second energy organisation reports it; 45.0.1.3 (org-3's, on 20002) is new on 20003.
  ASSERT_TRUE((*s)->RecordAllianceSightings("late", "org-9", "energy",
                                            {Saw("45.0.1.1", 20003), Saw("45.0.1.3", 20003)})
                  .ok());
  EXPECT_EQ(observables(20003), observables_before + 1);
  EXPECT_EQ(SqlValue(dir_,
                     "SELECT count(*) FROM alliance_sightings a JOIN alliance_values v ON v.id = "
                     "a.value_id WHERE v.value IN ('45.0.1.1', '45.0.1.3') AND a.shared = 1"),
            "4");
}

// Reports are staged (schema 12) and folded together: durable in the file before any fold, and
// folded by the first question after a reopen.
TEST_F(PortalStoreFileTest, StagedReportsOutliveTheStoreAndAreFoldedByTheFirstQuestion) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    for (int org = 0; org < 3; ++org) {
      std::vector<AllianceSighting> rows = {Saw("45.0.0.1", 20003), Saw("45.0.0.2", 20003)};
      for (AllianceSighting& r : rows) r.count = 1;
      ASSERT_TRUE((*s)->RecordAllianceSightings("b" + std::to_string(org),
                                                "org-" + std::to_string(org), "energy", rows)
                      .ok());
    }
    EXPECT_EQ(
        (*s)->RecordAllianceSightings("b1", "org-1", "energy", {Saw("45.0.0.9", 20003)}).code(),
        StatusCode::kAlreadyExists);
  }
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) || ' ' || sum(sightings) FROM alliance_pending"),
            "3 6");
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings"), "0");
  auto s = Open();
  ASSERT_TRUE(s.ok());
  auto days = (*s)->SectorDays(20003, 20003);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].observables, 2u);
  EXPECT_EQ((*days)[0].sightings, 6u);
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_pending"), "0");
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings"), "6");
}

// A report folds the staged ones once they are kFoldBatches batches; one as large as a fold's
// worth, with nothing staged, is folded at once.
TEST_F(PortalStoreFileTest, AReportFoldsTheStagedOnesAtTheThreshold) {
  auto s = Open();
  ASSERT_TRUE(s.ok());
  for (uint64_t i = 0; i + 1 < PortalStore::kFoldBatches; ++i) {
    ASSERT_TRUE((*s)->RecordAllianceSightings("b" + std::to_string(i), "org-" + std::to_string(i),
                                              "energy", {Saw("45.0.0.1", 20003)})
                    .ok());
  }
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_pending"),
            std::to_string(PortalStore::kFoldBatches - 1));
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings"), "0");
  ASSERT_TRUE(
      (*s)->RecordAllianceSightings("last", "org-last", "energy", {Saw("45.0.0.1", 20003)}).ok());
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_pending"), "0");
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings"),
            std::to_string(PortalStore::kFoldBatches));
  EXPECT_EQ(SqlValue(dir_, "SELECT orgs FROM alliance_values WHERE value = '45.0.0.1'"),
            std::to_string(PortalStore::kFoldBatches));
  std::vector<AllianceSighting> large;
  for (uint64_t i = 0; i < PortalStore::kFoldSightings; ++i) {
    large.push_back(Saw("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) +
                            "." + std::to_string(i & 255),
                        20004));
  }
  ASSERT_TRUE((*s)->RecordAllianceSightings("large", "org-0", "energy", large).ok());
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_pending"), "0");
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings WHERE day = 20004"),
            std::to_string(PortalStore::kFoldSightings));
}

// A staged report that cannot be read back is an error naming it, for every question, until it
// is dealt with; nothing staged is dropped, and reports are still taken.
TEST_F(PortalStoreFileTest, ADamagedStagedReportIsAnErrorNamingItAndNothingIsDropped) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(
        (*s)->RecordAllianceSightings("good", "org-0", "energy", {Saw("45.0.0.1", 20003)}).ok());
    ASSERT_TRUE(
        (*s)->RecordAllianceSightings("bad", "org-1", "energy", {Saw("45.0.0.2", 20003)}).ok());
  }
  Sql(dir_,
      "UPDATE alliance_pending SET body = substr(body, 1, length(body) - 1) WHERE batch_id "
      "= 'bad';");
  auto s = Open();
  ASSERT_TRUE(s.ok());
  auto days = (*s)->SectorDays(20003, 20003);
  ASSERT_FALSE(days.ok());
  EXPECT_EQ(days.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(days.status().message().find("batch bad"), std::string::npos)
      << days.status().ToString();
  EXPECT_EQ((*s)->Scanners(20003, 20003, 2, 10).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ((*s)->PurgeAllianceSightings(20000).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(
      (*s)->RecordAllianceSightings("more", "org-2", "energy", {Saw("45.0.0.3", 20003)}).ok());
  EXPECT_EQ(SqlValue(dir_,
                     "SELECT group_concat(batch_id, ',') FROM (SELECT batch_id FROM "
                     "alliance_pending ORDER BY seq)"),
            "good,bad,more");
  EXPECT_EQ(SqlValue(dir_, "SELECT count(*) FROM alliance_sightings"), "0");
}

// The private-search relay's per-user daily share (issue 10) is counted in the file.
TEST_F(PortalStoreTest, PrivateEvaluationsAreCountedPerUserAndDayAcrossReopens) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    auto c = (*s)->ChargeEvaluations("bob", 100, 15, 20);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->charged);
    EXPECT_EQ(c->used, 15u);
  }
  auto s = Open();
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

TEST_F(PortalStoreFileTest, ANewerSchemaVersionIsRefusedNamingBoth) {
  ASSERT_TRUE(Open().ok());
  Sql(dir_, "PRAGMA user_version = 13;");
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  std::string_view message = s.status().message();
  EXPECT_NE(message.find("portal store schema version 13"), std::string::npos) << message;
  EXPECT_NE(message.find("versions up to 12"), std::string::npos) << message;
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
TEST_F(PortalStoreFileTest, Version2StoresGainSifts) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    SearchRow row{"old", "alice", "", "amber", false, 1, "done", 1, 0, "{}", "", ""};
    ASSERT_TRUE((*s)->InsertSearch(row).ok());
  }
  Sql(dir_, "DROP TABLE sifts; PRAGMA user_version = 2;");
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE((*s)->GetSearch("old").ok());
    ASSERT_TRUE((*s)->InsertSift(ASift("a", "searching")).ok());
    ASSERT_TRUE((*s)->InsertSift(ASift("b", "done")).ok());
    EXPECT_FALSE((*s)->InsertSift(ASift("b", "done")).ok()) << "ids are unique";
    ASSERT_TRUE((*s)->FinishSift("b", "done", "{\"final\":1}").ok());
    EXPECT_EQ((*s)->FinishSift("nope", "done", "").code(), StatusCode::kNotFound);
  }
  auto s = Open();
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

TEST_F(PortalStoreFileTest, AnotherSqliteFileIsRefused) {
  Sql(dir_, "CREATE TABLE notes(x);");
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
}

// On both engines: sifts with binary line groups, the newest first on equal times, the
// sentsightings and their counts by value, watch runs and deliveries with the ids the engine
// gave them, and a due time past 2^31 milliseconds.
TEST_F(PortalStoreTest, SiftsSightingsRunsAndDeliveriesRoundTrip) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    SiftRow a = ASift("a", "searching");
    a.groups = std::string("\x00\xff\x01\\x", 5);
    ASSERT_TRUE((*s)->InsertSift(a).ok());
    ASSERT_TRUE((*s)->InsertSift(ASift("b", "done")).ok());
    EXPECT_EQ((*s)->InsertSift(ASift("b", "done")).code(), StatusCode::kAlreadyExists);
    auto list = (*s)->ListSifts();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(list->at(0).id, "b") << "equal times: the later insert first";
    SentSighting tp{"s1",       5, "alice",        "true-positive", "ACME",
                    "honeypot", 2, "198.51.100.7", "sent",          ""};
    SentSighting fp = tp;
    fp.type = "false-positive";
    fp.value = "evil.example";
    SentSighting refused = tp;
    refused.outcome = "refused";
    ASSERT_TRUE((*s)->InsertSentSightings({tp, fp, refused}).ok());
    auto counts = (*s)->CountSentSightings({"198.51.100.7", "evil.example", "other"});
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    EXPECT_EQ(counts->first, 1u);
    EXPECT_EQ(counts->second, 1u);
    EXPECT_EQ((*s)->ListConfirmedSightings()->size(), 1u);

    WatchlistRow w;
    w.id = "w1";
    w.owner = "alice";
    w.name = "watch";
    w.request = "{}";
    w.interval_s = 60;
    ASSERT_TRUE((*s)->InsertWatchlist(w).ok());
    WatchRunRow run;
    run.watchlist_id = "w1";
    run.started = 1;
    run.finished = 2;
    run.reason = "created";
    run.status = "done";
    DeliveryRow d;
    d.url = "https://receiver.example/hook";
    d.body = "{\"event\":\"watchlist.hits\"}";
    d.next_at = int64_t{1} << 41;  // unix milliseconds: past 32 bits
    // Claims: one per snapshot of the row, whoever asks first (the instances sharing a
    // database); the claim moves last_run forward even within the same second.
    auto claim = (*s)->ClaimWatchRun("w1", 0, 1);
    ASSERT_TRUE(claim.ok() && claim->has_value()) << claim.status().ToString();
    EXPECT_EQ(**claim, 1);
    EXPECT_FALSE((*s)->ClaimWatchRun("w1", 0, 1)->has_value());
    EXPECT_FALSE((*s)->ClaimWatchRun("gone", 0, 1)->has_value());
    auto id = (*s)->RecordWatchRun(run, "[]", &d, **claim);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_GT(*id, 0);
    EXPECT_EQ(d.run_id, *id);
    EXPECT_GT(d.id, 0);
    EXPECT_EQ((*s)->GetWatchlist("w1")->last_run, 2);
    // A run whose claim was overtaken records nothing.
    EXPECT_EQ((*s)->RecordWatchRun(run, "[]", nullptr, **claim).status().code(),
              StatusCode::kAlreadyExists);
    auto again = (*s)->ClaimWatchRun("w1", 2, 2);
    ASSERT_TRUE(again.ok() && again->has_value());
    EXPECT_EQ(**again, 3);
    auto second = (*s)->RecordWatchRun(run, "[]", nullptr, **again);
    ASSERT_TRUE(second.ok());
    EXPECT_GT(*second, *id);
    EXPECT_EQ((*s)->ListWatchRuns("w1", 10)->size(), 2u);
    EXPECT_TRUE((*s)->DueDeliveries((int64_t{1} << 41) - 1)->empty());
    auto due = (*s)->DueDeliveries(int64_t{1} << 41);
    ASSERT_TRUE(due.ok()) << due.status().ToString();
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ(due->at(0).id, d.id);
    EXPECT_EQ(due->at(0).body, d.body);
    // A delivery is claimed for one attempt by one instance; then it is not due until then.
    EXPECT_TRUE(*(*s)->ClaimDelivery(d.id, d.next_at, (int64_t{1} << 41) + 5000));
    EXPECT_FALSE(*(*s)->ClaimDelivery(d.id, d.next_at, (int64_t{1} << 41) + 5000));
    EXPECT_TRUE((*s)->DueDeliveries((int64_t{1} << 41) + 4999)->empty());
    EXPECT_EQ((*s)->DueDeliveries((int64_t{1} << 41) + 5000)->size(), 1u);
    run.watchlist_id = "gone";
    EXPECT_EQ((*s)->RecordWatchRun(run, "[]", nullptr, 1).status().code(), StatusCode::kNotFound);
  }
  auto s = Open();
  ASSERT_TRUE(s.ok());
  auto a = (*s)->GetSift("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, "interrupted");
  EXPECT_EQ(a->groups, std::string("\x00\xff\x01\\x", 5));
  EXPECT_EQ((*s)->ListWatchRuns("w1", 10)->size(), 2u);
}

// PostgreSQL only (registered in the PostgreSQL run): what a shared server adds.
class PortalStorePostgresTest : public PortalStoreTest {
 protected:
  void SetUp() override {
    if (!test::OnPostgres()) GTEST_SKIP() << "PostgreSQL run only (IOCGRID_TEST_POSTGRES)";
    PortalStoreTest::SetUp();
  }
};

// Two portal instances on one database see each other's users and searches; a third starting
// while they run leaves their running searches alone; one starting alone marks them.
TEST_F(PortalStorePostgresTest, InstancesShareOneDatabase) {
  {
    auto a = Open();
    auto b = Open();
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    auto key = (*a)->CreateUserKey("alice", Role::kAnalyst, std::string("ACME"));
    ASSERT_TRUE(key.ok());
    auto alice = (*b)->Authenticate(*key);
    ASSERT_TRUE(alice.ok()) << alice.status().ToString();
    EXPECT_EQ(alice->org, "ACME");
    SearchRow running{"r1", "alice", "live", "amber", false, 1, "running", 1, 0, "{}", "", ""};
    ASSERT_TRUE((*a)->InsertSearch(running).ok());
    auto c = Open();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->interrupted_at_open(), 0);
    EXPECT_EQ((*b)->GetSearch("r1")->status, "running");
  }
  auto d = Open();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->interrupted_at_open(), 1);
  EXPECT_EQ((*d)->GetSearch("r1")->status, "interrupted");
}

// Batches from two instances at once: the writers' lock orders them, so an observable both
// organisations saw that day counts once in its sector and both organisations contribute.
TEST_F(PortalStorePostgresTest, BatchesFromTwoInstancesAtOnceCountOnce) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a.ok() && b.ok());
  constexpr int kBatches = 20;
  auto report = [](PortalStore* store, const std::string& org) {
    for (int i = 0; i < kBatches; ++i) {
      std::vector<AllianceSighting> rows;
      for (int v = 0; v < 50; ++v) {
        AllianceSighting s;
        s.value = "203.0.113." + std::to_string(v);
        s.type = "ip-src";
        s.cls = "noise";
        s.day = 20000;
        s.first_seen = s.last_seen = 20000 * 86400;
        s.count = 1;
        rows.push_back(s);
      }
      ASSERT_TRUE(
          store->RecordAllianceSightings(org + std::to_string(i), org, "finance", rows).ok());
    }
  };
  std::thread ta(report, a->get(), "bank-a");
  std::thread tb(report, b->get(), "bank-b");
  ta.join();
  tb.join();
  auto days = (*a)->SectorDays(20000, 20000);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ(days->at(0).observables, 50u);
  EXPECT_EQ(days->at(0).sightings, 2u * kBatches * 50u);
  EXPECT_EQ((*b)->SectorOrgs(20000, 20000)->size(), 2u);
  auto scanners = (*b)->Scanners(20000, 20000, 2, 100);
  ASSERT_TRUE(scanners.ok());
  EXPECT_EQ(scanners->size(), 50u);
}

// A database that holds something else, or a newer schema, is refused and left as it was.
TEST_F(PortalStorePostgresTest, ForeignTablesAndNewerSchemasAreRefused) {
  {
    auto raw = sql::ConnectPostgres(database_);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_TRUE((*raw)->Exec("CREATE TABLE notes(x TEXT)").ok());
  }
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
  EXPECT_NE(s.status().message().find("empty database"), std::string::npos);

  database_ = test::TestDatabase();
  ASSERT_TRUE(Open().ok());
  {
    auto raw = sql::ConnectPostgres(database_);
    ASSERT_TRUE((*raw)->Exec("UPDATE iocgrid_schema SET version = 13").ok());
  }
  s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("portal store schema version 13"), std::string::npos)
      << s.status().ToString();
  EXPECT_NE(s.status().message().find("versions up to 12"), std::string::npos);
}

// Unreachable servers and unreadable URLs are clear errors that never repeat the password.
TEST_F(PortalStorePostgresTest, BadUrlsAndUnreachableServersAreClearErrors) {
  auto down = PortalStore::Open(dir_, Clock(),
                                "postgresql://portal:s3cret@127.0.0.1:1/iocgrid?connect_timeout=2");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_EQ(down.status().message().find("s3cret"), std::string::npos);
  EXPECT_EQ(down.status().message().find('\n'), std::string::npos) << "one line for the CLI";
  auto bad = PortalStore::Open(dir_, Clock(), "postgresql://h/db?nosuchoption=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
  auto other = PortalStore::Open(dir_, Clock(), "mysql://h/db");
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
}

// The server ends the portal's session (a restart, a failover, an administrator): the next
// call reconnects and works, and text PostgreSQL cannot hold is an error, never cut short.
TEST_F(PortalStorePostgresTest, ASessionEndedByTheServerIsResumed) {
  const std::string role =
      "r" + std::to_string(getpid()) + "_" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  auto admin = sql::ConnectPostgres(test::PostgresServerUrl());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Exec("CREATE ROLE " + role + " LOGIN SUPERUSER").ok());
  std::string url = database_;
  url.replace(url.find("user=postgres"), 13, "user=" + role);
  auto s = PortalStore::Open(dir_, Clock(), url);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto key = (*s)->CreateUserKey("alice", Role::kAnalyst);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(
      (*admin)
          ->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role +
                 "'")
          .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto alice = (*s)->Authenticate(*key);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ((*s)->CreateUserKey("bob", Role::kAnalyst, std::string("a\0b", 3)).status().code(),
            StatusCode::kInvalidArgument);
  SearchRow nul{"n1", "alice", std::string("x\0y", 3), "amber", false, 1, "done", 1, 0, "{}",
                "",   ""};
  EXPECT_EQ((*s)->InsertSearch(nul).code(), StatusCode::kInvalidArgument);
  s->reset();
  ASSERT_TRUE((*admin)->Exec("DROP ROLE " + role).ok() ||
              (*admin)
                  ->Exec("REASSIGN OWNED BY " + role + " TO postgres; DROP OWNED BY " + role +
                         "; DROP ROLE " + role)
                  .ok());
}

}  // namespace
}  // namespace iocgrid::portal
