// sql::Database over the shared SQLite layer (sqlite/connection.h).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sql/database.h"
#include "sql/internal/statement_backend.h"
#include "sqlite/connection.h"

namespace iocgrid::sql {
namespace {

class SqliteStatement final : public internal::StatementBackend {
 public:
  explicit SqliteStatement(sqlite::Statement s) : s_(std::move(s)) {}
  void Bind(int index, int64_t value) override { s_.Bind(index, value); }
  void BindText(int index, std::string_view value) override { s_.BindText(index, value); }
  void BindBlob(int index, std::span<const unsigned char> value) override {
    s_.BindBlob(index, value);
  }
  void BindNull(int index) override { s_.BindNull(index); }
  Result<bool> Step() override { return s_.Step(); }
  void Reset() override { s_.Reset(); }
  int64_t Int(int column) const override { return s_.Int(column); }
  std::string_view Text(int column) const override { return s_.Text(column); }
  std::span<const unsigned char> Blob(int column) const override { return s_.Blob(column); }
  bool IsNull(int column) const override { return s_.IsNull(column); }

 private:
  sqlite::Statement s_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::unique_ptr<sqlite::Connection> c, std::string path)
      : Database(Dialect::kSqlite, std::move(path)), c_(std::move(c)) {}

 private:
  Status DoExec(std::string_view sql) override { return c_->Exec(sql); }
  Result<Statement> DoPrepare(std::string_view sql) override {
    IOCGRID_ASSIGN_OR_RETURN(sqlite::Statement s, c_->Prepare(sql));
    return Statement(std::make_unique<SqliteStatement>(std::move(s)));
  }
  int64_t DoChanges() const override { return c_->Changes(); }
  Status DoBegin(TransactionKind kind) override {
    // IMMEDIATE takes the write lock up front, so a write never fails half-way with BUSY.
    return c_->Exec(kind == TransactionKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  bool DoInTransaction() const override { return c_->InTransaction(); }
  void DoSetBudget(std::optional<std::chrono::milliseconds> budget) override {
    budget_.reset();
    if (budget) budget_ = std::make_unique<sqlite::QueryBudget>(*c_, *budget);
  }

  std::unique_ptr<sqlite::Connection> c_;
  std::unique_ptr<sqlite::QueryBudget> budget_;  // declared after c_: destroyed first
};

}  // namespace

std::unique_ptr<Database> WrapSqlite(std::unique_ptr<sqlite::Connection> connection,
                                     std::string path) {
  return std::make_unique<SqliteDatabase>(std::move(connection), std::move(path));
}

}  // namespace iocgrid::sql
