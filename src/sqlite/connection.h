// The shared SQLite layer (iocgrid::sqlite), used by the node's store and the portal's store:
// a connection with a cache of prepared statements, a lease type for statements with checked
// binds and a row loop, and transactions. The only code in src/ that calls sqlite3_* (the include
// check enforces it). SQLite handles live in unique_ptrs with stateless deleters (STYLE.md
// section 6); every value reaches SQL as a bound parameter.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a time; its owner
// guarantees it (the Store's writer mutex and reader pool, the PortalStore's mutex).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "common/result.h"
#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace iocgrid::sqlite {

class BackgroundCheckpoints;

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
  // BindTextStatic is used, whose view must outlive the statement's next Step. A failed bind
  // (SQLITE_RANGE, SQLITE_TOOBIG, ...) is kept, and the next Step returns it instead of running
  // with the parameter silently left NULL; Reset clears it.
  Statement& Bind(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindTextStatic(int index, std::string_view value);
  Statement& BindBlob(int index, std::span<const unsigned char> value);
  Statement& BindNull(int index);
  // Binds text, or NULL for an empty string.
  Statement& BindTextOrNull(int index, std::string_view value);
  // Binds the value, or NULL for none.
  Statement& BindOrNull(int index, std::optional<int64_t> value);

  // Advances: true = a row is available, false = done. Errors (a failed bind included) map
  // through SqliteStatus.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Calls `fn(const Statement&)` for each result row; `fn` may return void or Status (a non-OK
  // one stops the loop and is returned). An error part-way is an error, never a shorter list.
  template <typename Fn>
  Status ForEachRow(Fn&& fn);
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

  // Records the first failed bind's result code.
  Statement& CheckBind(int index, int rc);

  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = 0;         // SQLITE_OK, or the first failed bind
  int bind_index_ = 0;      // the parameter whose bind failed
  bool* in_use_ = nullptr;  // the cache entry's flag, for cached statements
  StmtPtr owned_;           // for uncached statements
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

class Connection {
 public:
  enum class Mode : uint8_t { kReadWriteCreate, kReadWrite, kReadOnly };

  // Opens `path` (no mutex: one thread at a time) and sets busy_timeout and foreign_keys.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                  int busy_timeout_ms);
  // Takes an open handle; Open is the usual way in.
  explicit Connection(DbPtr db);
  ~Connection();

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
  // True when `table` has a column named `column` (PRAGMA table_info).
  Result<bool> HasColumn(std::string_view table, std::string_view column);
  // True when the schema has a table named `table`.
  Result<bool> HasTable(std::string_view table);

  // From now on, adds 1 to `*counter` each time a statement starts running on this connection
  // (trigger bodies not counted; SQLite's statement trace). For tests and benchmarks that
  // check how many statements an operation costs. `counter` must outlive the connection.
  void CountStatementsInto(std::atomic<int64_t>* counter);

  // For a WAL database written through this connection only (the portal's file): from now on
  // the WAL is checkpointed by a thread with its own connection once a commit leaves it at
  // `pages` frames or more, and by this connection itself (SQLite's automatic checkpoint, in
  // the commit) past `backstop_pages` (sqlite/checkpoints.h says why). kInvalidArgument for
  // thresholds that cannot work and for a connection without a file (an in-memory database).
  Status CheckpointInBackground(int pages, int backstop_pages);
  // The thread's checkpoints so far (0 without CheckpointInBackground).
  int64_t BackgroundCheckpointRuns() const;

  int64_t LastInsertRowid() const;
  int64_t Changes() const;
  bool InTransaction() const;
  sqlite3* db() const { return db_.get(); }

 private:
  struct CachedStatement {
    StmtPtr stmt;
    bool in_use = false;
  };
  static int WalCommitted(void* self, sqlite3* db, const char* name, int frames);

  DbPtr db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> cache_;
  std::unique_ptr<BackgroundCheckpoints> checkpoints_;
  int checkpoint_pages_ = 0, backstop_pages_ = 0;
};

// A time budget for the statements run on a connection while this object lives: one that runs
// past it stops with kDeadlineExceeded (SQLITE_INTERRUPT; checked every few thousand virtual
// machine steps), so that a question too large for the data (an analyst's, on a request path)
// ends with an error instead of holding the connection for minutes. One at a time per
// connection.
class QueryBudget {
 public:
  QueryBudget(Connection& connection, std::chrono::milliseconds budget);
  ~QueryBudget();
  QueryBudget(const QueryBudget&) = delete;
  QueryBudget& operator=(const QueryBudget&) = delete;

 private:
  static int Check(void* self);
  Connection& connection_;
  std::chrono::steady_clock::time_point deadline_;
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

}  // namespace iocgrid::sqlite
