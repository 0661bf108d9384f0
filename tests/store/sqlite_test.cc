// The shared SQLite layer (src/sqlite/) on real files: checked binds, the row loop, migrations.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <thread>
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

// Writes of `rows` rows of 2 KiB in transactions of 16 rows (about 8 WAL frames each).
void WriteRows(Connection& db, int first, int rows) {
  for (int at = first; at < first + rows; at += 16) {
    ASSERT_TRUE(db.Exec("BEGIN").ok());
    for (int i = at; i < at + 16 && i < first + rows; ++i) {
      auto s = db.Prepare("INSERT INTO t(id, pad) VALUES(?, zeroblob(2048))");
      ASSERT_TRUE(s.ok());
      s->Bind(1, int64_t{i});
      ASSERT_TRUE(s->Run().ok());
    }
    ASSERT_TRUE(db.Exec("COMMIT").ok());
  }
}

// The portal's checkpoints (sqlite/checkpoints.h): past `pages` frames the thread copies the
// WAL back into the file while the writer goes on; past the backstop the writer's commit
// does it. Either way every row is in the file once the WAL is gone.
TEST_F(SqliteTest, TheWalIsCheckpointedByTheThreadAndPastTheBackstopByTheWriter) {
  ASSERT_TRUE(
      db_->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, pad)").ok());
  const auto file_size = [&] { return std::filesystem::file_size(path_); };
  ASSERT_TRUE(db_->CheckpointInBackground(32, 1'000'000).ok());
  const auto before = file_size();
  WriteRows(*db_, 0, 200);  // ~400 KiB in the WAL
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (file_size() < before + 256 * 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(file_size(), before + 256 * 1024) << "the thread copied nothing back";
  EXPECT_GT(db_->BackgroundCheckpointRuns(), 0);

  // A writer whose backstop is reached at once checkpoints in its commit: the file holds the
  // rows when COMMIT returns, and the thread is never woken.
  std::string other = dir_ + "/backstop.db";
  auto w = Connection::Open(other, Connection::Mode::kReadWriteCreate, 1000);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(
      (*w)->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, pad)").ok());
  ASSERT_TRUE((*w)->CheckpointInBackground(4, 4).ok());
  const auto small = std::filesystem::file_size(other);
  WriteRows(**w, 0, 64);
  EXPECT_GE(std::filesystem::file_size(other), small + 64 * 2048);
  EXPECT_EQ((*w)->BackgroundCheckpointRuns(), 0);

  // Closed and opened again (the checkpoint thread stopped first), every row is there.
  db_.reset();
  auto again = Connection::Open(path_, Connection::Mode::kReadWrite, 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->QueryInt("SELECT count(*) FROM t"), 200);
}

TEST_F(SqliteTest, CheckpointThresholdsThatCannotWorkAreRefused) {
  ASSERT_TRUE(db_->Exec("PRAGMA journal_mode=WAL").ok());
  EXPECT_EQ(db_->CheckpointInBackground(0, 10).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->CheckpointInBackground(10, 9).code(), StatusCode::kInvalidArgument);
  auto memory = Connection::Open(":memory:", Connection::Mode::kReadWriteCreate, 1000);
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ((*memory)->CheckpointInBackground(10, 20).code(), StatusCode::kInvalidArgument);
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
