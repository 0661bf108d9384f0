// The shared SQLite layer (src/sqlite/) on real files: checked binds, the row loop, migrations.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sqlite/api_key.h"
#include "sqlite/connection.h"
#include "sqlite/migrate.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::sqlite {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::iocgrid::test::MakeTempDir("iocgrid-sqlite");
    path_ = dir_ + "/test.db";
    auto db = Connection::Open(path_, Connection::Mode::kReadWriteCreate, 1000);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *std::move(db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::string path_;
  std::unique_ptr<Connection> db_;
};

// A bind to a parameter the statement does not have fails the statement, instead of running it
// with that value silently missing.
TEST_F(SqliteTest, AFailedBindFailsTheStepAndNothingRuns) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t(a TEXT NOT NULL DEFAULT 'x', b INTEGER)").ok());
  auto insert = db_->Prepare("INSERT INTO t(b) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  insert->Bind(1, 7).BindText(2, "no such parameter");
  Status run = insert->Run();
  EXPECT_FALSE(run.ok());
  EXPECT_NE(run.message().find("parameter 2"), std::string_view::npos) << run.ToString();
  EXPECT_EQ(*db_->QueryInt("SELECT count(*) FROM t"), 0);
  // Reset clears the failure: the statement is usable again.
  insert->Reset();
  insert->Bind(1, 8);
  EXPECT_TRUE(insert->Run().ok());
  EXPECT_EQ(*db_->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteTest, ForEachRowVisitsEveryRowAndStopsOnTheCallbacksError) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
  auto select = db_->Prepare("SELECT v FROM t ORDER BY v");
  ASSERT_TRUE(select.ok());
  std::vector<int64_t> seen;
  ASSERT_TRUE(select->ForEachRow([&](const Statement& row) { seen.push_back(row.Int(0)); }).ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3}));
  select->Reset();
  seen.clear();
  Status stopped = select->ForEachRow([&](const Statement& row) -> Status {
    seen.push_back(row.Int(0));
    return row.Int(0) == 2 ? DataLossError("bad row") : Status::Ok();
  });
  EXPECT_EQ(stopped.code(), StatusCode::kDataLoss);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
}

// A step error part-way (here a row that fails a cast in the middle) is the loop's result.
TEST_F(SqliteTest, ForEachRowReturnsAnErrorPartWay) {
  ASSERT_TRUE(
      db_->Exec("CREATE TABLE t(v); INSERT INTO t VALUES ('{}'), ('not json'), ('[]')").ok());
  auto select = db_->Prepare("SELECT json_valid(v), json(v) FROM t ORDER BY rowid");
  ASSERT_TRUE(select.ok());
  int rows = 0;
  Status status = select->ForEachRow([&](const Statement&) { ++rows; });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(rows, 1);
}

constexpr Migration kTwoSteps[] = {
    {.version = 1, .sql = "CREATE TABLE a(x)", .apply = nullptr},
    {.version = 2, .sql = "ALTER TABLE a ADD COLUMN y", .apply = nullptr},
};
constexpr Schema kSchema{.kind = "test store",
                         .application_id = 0x54455354,
                         .migrations = kTwoSteps,
                         .unversioned_table = "a"};

// A query that runs past its budget stops with kDeadlineExceeded; once the budget ends, the
// same connection runs queries to the end again.
TEST_F(SqliteTest, AQueryBudgetStopsALongQueryAndEndsWithIt) {
  const std::string endless =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) "
      "SELECT count(*) FROM n";
  {
    QueryBudget budget(*db_, std::chrono::milliseconds(50));
    auto s = db_->Prepare(endless);
    ASSERT_TRUE(s.ok());
    auto row = s->Step();
    ASSERT_FALSE(row.ok());
    EXPECT_EQ(row.status().code(), StatusCode::kDeadlineExceeded) << row.status().ToString();
  }
  auto n = db_->QueryInt(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
      "SELECT count(*) FROM n");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 300000);
}

TEST_F(SqliteTest, MigrateRunsEachStepOnceAndStampsTheFile) {
  EXPECT_EQ(LatestVersion(kSchema), 2);
  ASSERT_TRUE(Migrate(*db_, path_, kSchema).ok());
  ASSERT_TRUE(Migrate(*db_, path_, kSchema).ok());  // nothing left to do
  EXPECT_EQ(*db_->QueryInt("PRAGMA user_version"), 2);
  EXPECT_EQ(*db_->QueryInt("PRAGMA application_id"), 0x54455354);
  EXPECT_TRUE(*db_->HasColumn("a", "y"));
}

TEST_F(SqliteTest, MigrateRefusesANewerFileNamingBothVersions) {
  ASSERT_TRUE(Migrate(*db_, path_, kSchema).ok());
  ASSERT_TRUE(db_->Exec("PRAGMA user_version = 5").ok());
  Status status = Migrate(*db_, path_, kSchema);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("test store schema version 5"), std::string_view::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("versions up to 2"), std::string_view::npos);
}

TEST_F(SqliteTest, MigrateAdoptsAnUnversionedFileOnlyWhenItHasTheNamedTable) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE other(x)").ok());
  EXPECT_EQ(Migrate(*db_, path_, kSchema).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(db_->Exec("DROP TABLE other; CREATE TABLE a(x)").ok());
  // Version 1's CREATE TABLE a fails on such a file: the error names the step, nothing changes.
  Status status = Migrate(*db_, path_, kSchema);
  EXPECT_NE(status.message().find("test store migration to version 1"), std::string_view::npos)
      << status.ToString();
  EXPECT_EQ(*db_->QueryInt("PRAGMA user_version"), 0);
}

TEST_F(SqliteTest, MigrateRefusesAnotherApplicationsFile) {
  ASSERT_TRUE(db_->Exec("PRAGMA application_id = 42").ok());
  EXPECT_EQ(Migrate(*db_, path_, kSchema).code(), StatusCode::kInvalidArgument);
}

TEST(ApiKeyTest, KeysAreAlphanumericAndHashesCompare) {
  ASSERT_TRUE(InitCrypto());
  std::string key = NewApiKey();
  ASSERT_EQ(key.size(), kApiKeyLength);
  for (char c : key) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << key;
  EXPECT_NE(NewApiKey(), key);
  std::string hash = Sha256(key);
  ASSERT_EQ(hash.size(), 32u);
  std::span<const unsigned char> stored(reinterpret_cast<const unsigned char*>(hash.data()),
                                        hash.size());
  EXPECT_TRUE(HashEquals(stored, Sha256(key)));
  EXPECT_FALSE(HashEquals(stored, Sha256(key + "x")));
  EXPECT_FALSE(HashEquals(stored.first(31), hash.substr(0, 32)));
  // Known answer: SHA-256("abc").
  EXPECT_EQ(Sha256("abc").substr(0, 4), std::string("\xba\x78\x16\xbf", 4));
}

}  // namespace
}  // namespace iocgrid::sqlite
