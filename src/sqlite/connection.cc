#include "sqlite/connection.h"

#include <sqlite3.h>

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "sqlite/checkpoints.h"

namespace iocgrid::sqlite {

void DbDeleter::operator()(sqlite3* db) const {
  // close_v2 defers the close until every statement is finalized, so destruction order of
  // cached statements cannot leak the handle.
  sqlite3_close_v2(db);
}

void StmtDeleter::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(message);
      }
      return InvalidArgumentError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(message);
    case SQLITE_FULL:
      // store::IsDiskFull recognises this tag; servers answer 507 with the reason.
      return ResourceExhaustedError("disk full (SQLITE_FULL): " + message);
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return ResourceExhaustedError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return PermissionDeniedError(message);
    case SQLITE_INTERRUPT:  // a QueryBudget ran out
      return DeadlineExceededError(message);
    default:
      return InternalError(message);
  }
}

// ---- Statement -------------------------------------------------------------------------------

Statement::Statement(sqlite3_stmt* cached, bool* in_use) : stmt_(cached), in_use_(in_use) {
  *in_use_ = true;
}

Statement::Statement(StmtPtr owned) : stmt_(owned.get()), owned_(std::move(owned)) {}

Statement::~Statement() { Release(); }

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      bind_rc_(std::exchange(other.bind_rc_, SQLITE_OK)),
      bind_index_(std::exchange(other.bind_index_, 0)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(std::move(other.owned_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = std::exchange(other.bind_rc_, SQLITE_OK);
    bind_index_ = std::exchange(other.bind_index_, 0);
    in_use_ = std::exchange(other.in_use_, nullptr);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

void Statement::Release() {
  if (stmt_ != nullptr && in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }
  stmt_ = nullptr;
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
  in_use_ = nullptr;
  owned_.reset();
}

Statement& Statement::CheckBind(int index, int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  return CheckBind(index, sqlite3_bind_int64(stmt_, index, value));
}

Statement& Statement::BindText(int index, std::string_view value) {
  return CheckBind(index, sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                              SQLITE_TRANSIENT, SQLITE_UTF8));
}

Statement& Statement::BindTextStatic(int index, std::string_view value) {
  return CheckBind(index, sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                              SQLITE_STATIC, SQLITE_UTF8));
}

Statement& Statement::BindBlob(int index, std::span<const unsigned char> value) {
  return CheckBind(index,
                   sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
}

Statement& Statement::BindNull(int index) {
  return CheckBind(index, sqlite3_bind_null(stmt_, index));
}

Statement& Statement::BindTextOrNull(int index, std::string_view value) {
  return value.empty() ? BindNull(index) : BindText(index, value);
}

Statement& Statement::BindOrNull(int index, std::optional<int64_t> value) {
  return value.has_value() ? Bind(index, *value) : BindNull(index);
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return SqliteStatus(nullptr, bind_rc_,
                        "sqlite: cannot bind parameter " + std::to_string(bind_index_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  // sqlite3_reset returns the extended code of the failed step (e.g. CONSTRAINT_UNIQUE).
  int extended = sqlite3_extended_errcode(db);
  Status status = SqliteStatus(db, extended, "sqlite");
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::Run() {
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::span<const unsigned char> Statement::Blob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return {};
  return {static_cast<const unsigned char*>(blob),
          static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// ---- Connection ------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode,
                                                     int busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
    case Mode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);  // owns the handle even when open failed
  if (rc != SQLITE_OK) return SqliteStatus(db.get(), rc, "cannot open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  auto connection = std::make_unique<Connection>(std::move(db));
  IOCGRID_RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys = ON"));
  return connection;
}

namespace {

int CountStatement(unsigned type, void* context, void* /*stmt*/, void* sql) {
  const char* text = static_cast<const char*>(sql);
  // A trigger's statements are traced as "-- " comments; only top-level statements count.
  bool trigger = text != nullptr && text[0] == '-' && text[1] == '-';
  if (type == SQLITE_TRACE_STMT && !trigger) {
    static_cast<std::atomic<int64_t>*>(context)->fetch_add(1, std::memory_order_relaxed);
  }
  return 0;
}

}  // namespace

Connection::Connection(DbPtr db) : db_(std::move(db)) {}

Connection::~Connection() {
  // No commit can reach the hook while the connection goes, but the hook must not outlive the
  // thread it wakes.
  if (checkpoints_ != nullptr) sqlite3_wal_hook(db_.get(), nullptr, nullptr);
}

Status Connection::CheckpointInBackground(int pages, int backstop_pages) {
  if (pages < 1 || backstop_pages < pages) {
    return InvalidArgumentError("sqlite: checkpoint thresholds must be 1 <= pages <= backstop");
  }
  const char* path = sqlite3_db_filename(db_.get(), "main");
  if (path == nullptr || *path == '\0') {
    return InvalidArgumentError("sqlite: a database without a file has no WAL to checkpoint");
  }
  IOCGRID_ASSIGN_OR_RETURN(checkpoints_, BackgroundCheckpoints::Start(path));
  checkpoint_pages_ = pages;
  backstop_pages_ = backstop_pages;
  // Replaces SQLite's automatic checkpoint (itself a WAL hook).
  sqlite3_wal_hook(db_.get(), &Connection::WalCommitted, this);
  return Status::Ok();
}

int64_t Connection::BackgroundCheckpointRuns() const {
  return checkpoints_ != nullptr ? checkpoints_->runs() : 0;
}

int Connection::WalCommitted(void* self, sqlite3* db, const char* name, int frames) {
  auto* c = static_cast<Connection*>(self);
  if (frames >= c->backstop_pages_) {
    // What SQLite's automatic checkpoint does. Its result is not the commit's: the commit
    // has succeeded, and frames not copied stay in the WAL.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= c->checkpoint_pages_) {
    c->checkpoints_->Due();
  }
  return SQLITE_OK;
}

void Connection::CountStatementsInto(std::atomic<int64_t>* counter) {
  sqlite3_trace_v2(db_.get(), SQLITE_TRACE_STMT, &CountStatement, counter);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    Status status = SqliteStatus(db_.get(), sqlite3_extended_errcode(db_.get()), "sqlite");
    return Status(status.code(), "sqlite: " + message);
  }
  return Status::Ok();
}

Result<Statement> Connection::PrepareOnce(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), 0, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteStatus(db_.get(), rc, "prepare");
  return Statement(std::move(stmt));
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    if (it->second->in_use) return PrepareOnce(sql);
    return Statement(it->second->stmt.get(), &it->second->in_use);
  }
  // Built search filters vary; keep the cache bounded by dropping idle entries when it grows.
  if (cache_.size() >= 256) {
    for (auto entry = cache_.begin(); entry != cache_.end();) {
      entry = entry->second->in_use ? std::next(entry) : cache_.erase(entry);
    }
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteStatus(db_.get(), rc, "prepare");
  auto entry = std::make_unique<CachedStatement>();
  entry->stmt = std::move(stmt);
  CachedStatement* cached = entry.get();
  cache_.emplace(std::string(sql), std::move(entry));
  return Statement(cached->stmt.get(), &cached->in_use);
}

Result<int64_t> Connection::QueryInt(std::string_view sql) {
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, PrepareOnce(sql));
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return InternalError(std::string("no row from: ") + std::string(sql));
  return stmt.Int(0);
}

Result<bool> Connection::HasColumn(std::string_view table, std::string_view column) {
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           PrepareOnce("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2"));
  stmt.BindText(1, table).BindText(2, column);
  return stmt.Step();
}

Result<bool> Connection::HasTable(std::string_view table) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      PrepareOnce("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1"));
  stmt.BindText(1, table);
  return stmt.Step();
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int64_t Connection::Changes() const { return sqlite3_changes64(db_.get()); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

// ---- Transaction -----------------------------------------------------------------------------

Transaction::~Transaction() {
  if (open_ && connection_.InTransaction()) {
    // A failed ROLLBACK leaves nothing to do here: SQLite rolls back when the connection closes,
    // and the next BEGIN on this connection would report the problem.
    connection_.Exec("ROLLBACK").IgnoreError();
  }
}

Status Transaction::Begin() {
  // IMMEDIATE takes the write lock up front, so a transaction never fails half-way with
  // SQLITE_BUSY on its first write (busy_timeout applies here instead).
  IOCGRID_RETURN_IF_ERROR(connection_.Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  IOCGRID_RETURN_IF_ERROR(connection_.Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

// ---- QueryBudget ----------------------------------------------------------------------------

QueryBudget::QueryBudget(Connection& connection, std::chrono::milliseconds budget)
    : connection_(connection), deadline_(std::chrono::steady_clock::now() + budget) {
  sqlite3_progress_handler(connection_.db(), 4096, &QueryBudget::Check, this);
}

QueryBudget::~QueryBudget() { sqlite3_progress_handler(connection_.db(), 0, nullptr, nullptr); }

int QueryBudget::Check(void* self) {
  return std::chrono::steady_clock::now() > static_cast<QueryBudget*>(self)->deadline_ ? 1 : 0;
}

}  // namespace iocgrid::sqlite
