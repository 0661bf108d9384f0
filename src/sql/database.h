// The portal's database (iocgrid::sql): one interface over the embedded SQLite file (the
// default) and a PostgreSQL server (`database = "postgresql://..."`, so that several portal
// instances share their state), so that PortalStore's SQL is written once.
//
// SQL is written in the common subset of both engines, with SQLite's placeholders (`?` and
// `?N`, which the PostgreSQL side renumbers as `$N`); where they differ the caller asks
// dialect(). Every value reaches SQL as a bound parameter. Writers take Transaction, which on
// PostgreSQL also takes a transaction-level advisory lock, so that writes from several
// instances follow each other as SQLite's BEGIN IMMEDIATE makes them do on one file.
//
// Thread-safety: a Database (and its statements) is used by one thread at a time; its owner
// guarantees it (PortalStore's mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/result.h"
#include "common/status.h"

namespace iocgrid::sqlite {
class Connection;
}

namespace iocgrid::sql {

enum class Dialect : uint8_t { kSqlite, kPostgres };

namespace internal {
class StatementBackend;
}

// A prepared statement in use; back to its database's cache when it ends. Parameters are
// 1-based. A failed bind is kept and returned by the next Step.
class Statement {
 public:
  explicit Statement(std::unique_ptr<internal::StatementBackend> backend);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::span<const unsigned char> value);
  Statement& BindNull(int index);
  // Text, or NULL for an empty string.
  Statement& BindTextOrNull(int index, std::string_view value);
  Statement& BindOrNull(int index, std::optional<int64_t> value);

  // Advances: true = a row is available, false = done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Ready to run again with new bindings (all cleared), as when prepared: a statement run
  // once per item is prepared once.
  void Reset();
  // Calls `fn(const Statement&)` per row; `fn` may return void or Status (non-OK stops).
  template <typename Fn>
  Status ForEachRow(Fn&& fn);

  // Column values of the current row; views are valid until the next Step.
  int64_t Int(int column) const;
  std::string_view Text(int column) const;
  std::span<const unsigned char> Blob(int column) const;
  bool IsNull(int column) const;

 private:
  std::unique_ptr<internal::StatementBackend> backend_;
};

template <typename Fn>
Status Statement::ForEachRow(Fn&& fn) {
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, const Statement&>>) {
      fn(static_cast<const Statement&>(*this));
    } else {
      IOCGRID_RETURN_IF_ERROR(fn(static_cast<const Statement&>(*this)));
    }
  }
}

class Database {
 public:
  enum class TransactionKind : uint8_t {
    kWrite,     // SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN and the writers' advisory lock
    kSnapshot,  // reads that must agree: SQLite BEGIN; PostgreSQL REPEATABLE READ, READ ONLY
  };

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return dialect_; }
  // Names the database in messages: the SQLite file's path, or the server's host and name
  // (never its password).
  const std::string& name() const { return name_; }

  // SQL text without parameters; may hold several statements.
  Status Exec(std::string_view sql) { return DoExec(sql); }
  // A prepared statement for `sql`, cached by its text.
  Result<Statement> Prepare(std::string_view sql) { return DoPrepare(sql); }
  // The one integer of a one-row query.
  Result<int64_t> QueryInt(std::string_view sql);
  // Rows changed by the last statement that ran.
  int64_t Changes() const { return DoChanges(); }

  Status Begin(TransactionKind kind) { return DoBegin(kind); }
  bool InTransaction() const { return DoInTransaction(); }

  // From now on, statements stop with kDeadlineExceeded once `budget` has passed (SQLite's
  // progress handler; PostgreSQL's statement_timeout); nullopt lifts it. QueryBudget is the
  // scoped way.
  void SetBudget(std::optional<std::chrono::milliseconds> budget) { DoSetBudget(budget); }

  // SQL run again whenever a lost connection is re-established (a server's session state, such
  // as an advisory lock; unused on SQLite, whose file does not go away).
  void SetReconnectSql(std::string sql) { reconnect_sql_ = std::move(sql); }

 protected:
  Database(Dialect dialect, std::string name) : dialect_(dialect), name_(std::move(name)) {}
  const std::string& reconnect_sql() const { return reconnect_sql_; }

 private:
  virtual Status DoExec(std::string_view sql) = 0;
  virtual Result<Statement> DoPrepare(std::string_view sql) = 0;
  virtual int64_t DoChanges() const = 0;
  virtual Status DoBegin(TransactionKind kind) = 0;
  virtual bool DoInTransaction() const = 0;
  virtual void DoSetBudget(std::optional<std::chrono::milliseconds> budget) = 0;

  const Dialect dialect_;
  const std::string name_;
  std::string reconnect_sql_;
};

// Wraps an open SQLite connection (its owner has set its pragmas and migrated it).
std::unique_ptr<Database> WrapSqlite(std::unique_ptr<sqlite::Connection> connection,
                                     std::string path);

// Connects to a PostgreSQL server: `url` is a libpq connection URI (postgresql://user@host:port
// /dbname?sslmode=...). Errors: kInvalidArgument for a URL libpq cannot read, kUnavailable or
// kPermissionDenied when the server cannot be reached or refuses (the message is libpq's,
// without the password).
Result<std::unique_ptr<Database>> ConnectPostgres(const std::string& url);

// True for a `database` setting that names a PostgreSQL server (postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view url);
// Whether libpq can read `url`. Errors: kInvalidArgument with libpq's reason.
Status CheckPostgresUrl(const std::string& url);

// A PostgreSQL schema's migrations: the table iocgrid_schema(kind, version) records how far
// each kind of store went; migration N takes version N-1 to N in one transaction under the
// writers' lock, and a database newer than the binary is refused (kUnimplemented).
struct Migration {
  int version = 0;
  std::string_view sql;
};
Status MigratePostgres(Database& db, std::string_view kind, std::span<const Migration> migrations);

// A transaction: Begin, then Commit; ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin(Database::TransactionKind kind = Database::TransactionKind::kWrite);
  Status Commit();

 private:
  Database& db_;
  bool open_ = false;
};

// A time budget for the statements run while this object lives (Database::SetBudget).
class QueryBudget {
 public:
  QueryBudget(Database& db, std::chrono::milliseconds budget) : db_(db) { db_.SetBudget(budget); }
  ~QueryBudget() { db_.SetBudget(std::nullopt); }
  QueryBudget(const QueryBudget&) = delete;
  QueryBudget& operator=(const QueryBudget&) = delete;

 private:
  Database& db_;
};

}  // namespace iocgrid::sql
