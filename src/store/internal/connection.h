// A SQLite connection with a cache of prepared statements, and a lease type for statements.
// SQLite handles live in unique_ptrs with stateless deleters (STYLE.md section 6); every value
// reaches SQL as a bound parameter.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a time; the Store
// guarantees it (writer mutex, reader pool).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/result.h"
#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace iocgrid::store::internal {

struct DbDeleter {
  void operator()(sqlite3* db) const;
};
struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const;
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// Maps a SQLite result code to a Status: constraint -> kAlreadyExists (unique / primary key) or
// kInvalidArgument, busy/locked -> kUnavailable, corrupt/notadb -> kDataLoss, full ->
// kResourceExhausted, cannot open / read-only -> kPermissionDenied, else kInternal.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// A prepared statement in use. Cached statements go back to their cache (reset, bindings
// cleared) when the lease ends; uncached ones are finalized.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3_stmt* cached, bool* in_use);
  explicit Statement(StmtPtr owned);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT) unless
  // BindTextStatic is used, whose view must outlive the statement's next Step.
  Statement& Bind(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindTextStatic(int index, std::string_view value);
  Statement& BindBlob(int index, std::span<const unsigned char> value);
  Statement& BindNull(int index);
  // Binds text, or NULL for an empty string.
  Statement& BindTextOrNull(int index, std::string_view value);

  // Advances: true = a row is available, false = done. Errors map through SqliteStatus.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Resets for another execution with new bindings (bindings cleared).
  void Reset();

  int64_t Int(int column) const;
  // Views are valid until the next Step/Reset.
  std::string_view Text(int column) const;
  std::span<const unsigned char> Blob(int column) const;
  bool IsNull(int column) const;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  bool* in_use_ = nullptr;  // the cache entry's flag, for cached statements
  StmtPtr owned_;           // for uncached statements
};

class Connection {
 public:
  enum class Mode : uint8_t { kReadWriteCreate, kReadWrite, kReadOnly };

  // Opens `path` (no mutex: one thread at a time) and sets busy_timeout and foreign_keys.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                  int busy_timeout_ms);
  // Takes an open handle; Open is the usual way in.
  explicit Connection(DbPtr db) : db_(std::move(db)) {}

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text without parameters (may hold several statements).
  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql` (the text is the cache key). When the cached one is
  // in use (a nested query), a fresh uncached statement is returned.
  Result<Statement> Prepare(std::string_view sql);
  // An uncached statement, for one-off SQL (built filters vary).
  Result<Statement> PrepareOnce(std::string_view sql);
  // Runs a single-row, single-integer query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(std::string_view sql);

  int64_t LastInsertRowid() const;
  int64_t Changes() const;
  bool InTransaction() const;
  sqlite3* db() const { return db_.get(); }

 private:
  struct CachedStatement {
    StmtPtr stmt;
    bool in_use = false;
  };
  DbPtr db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> cache_;
};

// A transaction on a connection: BEGIN IMMEDIATE at Begin, ROLLBACK on destruction unless
// Commit succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin();
  Status Commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace iocgrid::store::internal
