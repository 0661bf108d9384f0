#include "portal/portal_store.h"

#include <sodium.h>
#include <sqlite3.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>
#include <cstring>
#include <filesystem>

namespace iocgrid::portal {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Result<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return InternalError(std::string("portal store: ") + sqlite3_errmsg(db));
  }
  return Stmt(raw);
}

// Binds parameters in order and keeps the first failure (SQLITE_TOOBIG, SQLITE_RANGE, ...),
// so that no statement runs with a parameter silently left NULL.
class Binder {
 public:
  Binder(sqlite3* /*db*/, sqlite3_stmt* s) : s_(s) {}
  Binder& Text(std::string_view v) {
    if (rc_ == SQLITE_OK) {
      rc_ = v.size() > static_cast<size_t>(INT32_MAX)
                ? SQLITE_TOOBIG
                : sqlite3_bind_text(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Binder& Blob(std::string_view v) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_blob(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Binder& Int(int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(s_, ++i_, v);
    return *this;
  }
  Status status() const {
    if (rc_ == SQLITE_OK) return Status();
    return InternalError(std::string("portal store: cannot bind parameter ") +
                         std::to_string(i_) + ": " + sqlite3_errstr(rc_));
  }

 private:
  sqlite3_stmt* s_;
  int rc_ = SQLITE_OK;
  int i_ = 0;
};

Status StepError(sqlite3* db, int rc) {
  if (rc == SQLITE_FULL) {
    return ResourceExhaustedError(std::string("portal store: disk full: ") + sqlite3_errmsg(db));
  }
  return InternalError(std::string("portal store: ") + sqlite3_errmsg(db));
}

// Runs a statement that changes rows.
Status StepDone(sqlite3* db, sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? Status() : StepError(db, rc);
}

// Calls `row` for each result row; an error part-way is an error, never a shorter list.
template <class F>
Status StepRows(sqlite3* db, sqlite3_stmt* s, F&& row) {
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
  return rc == SQLITE_DONE ? Status() : StepError(db, rc);
}

std::string KeyHash(std::string_view key) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : "";
}

// Columns 0-9 of a searches row: id, owner, label, tlp, shared, created, status, indicators,
// hits, scope.
SearchRow ReadSearchRow(sqlite3_stmt* s) {
  SearchRow r;
  r.id = ColumnText(s, 0);
  r.owner = ColumnText(s, 1);
  r.label = ColumnText(s, 2);
  r.tlp = ColumnText(s, 3);
  r.shared = sqlite3_column_int(s, 4) != 0;
  r.created = sqlite3_column_int64(s, 5);
  r.status = ColumnText(s, 6);
  r.indicators = static_cast<uint64_t>(sqlite3_column_int64(s, 7));
  r.hits = static_cast<uint64_t>(sqlite3_column_int64(s, 8));
  r.scope = ColumnText(s, 9);
  return r;
}

}  // namespace

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "analyst"; }

bool ParseRole(std::string_view name, Role* out) {
  if (name == "admin")
    *out = Role::kAdmin;
  else if (name == "analyst")
    *out = Role::kAnalyst;
  else
    return false;
  return true;
}

PortalStore::~PortalStore() {
  if (db_) sqlite3_close_v2(db_);
}

Status PortalStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return InternalError("portal store: " + m);
  }
  return Status();
}

Result<std::unique_ptr<PortalStore>> PortalStore::Open(const std::string& data_dir) {
  if (sodium_init() < 0) return InternalError("libsodium initialisation failed");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return PermissionDeniedError("cannot create " + data_dir + ": " + ec.message());
  std::unique_ptr<PortalStore> s(new PortalStore());
  std::string path = data_dir + "/portal.db";
  if (sqlite3_open_v2(path.c_str(), &s->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return UnavailableError("cannot open " + path + ": " +
                            (s->db_ ? sqlite3_errmsg(s->db_) : "out of memory"));
  }
  sqlite3_busy_timeout(s->db_, 5000);
  IOCGRID_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  IOCGRID_RETURN_IF_ERROR(s->Exec(
      "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      " role TEXT NOT NULL, created INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS api_keys(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL"
      " REFERENCES users(id), key_hash BLOB NOT NULL UNIQUE, key_start TEXT NOT NULL,"
      " key_end TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS searches(id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
      " label TEXT NOT NULL, tlp TEXT NOT NULL, shared INTEGER NOT NULL, created INTEGER NOT NULL,"
      " status TEXT NOT NULL, indicators INTEGER NOT NULL, hits INTEGER NOT NULL,"
      " document TEXT NOT NULL DEFAULT '', events TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX IF NOT EXISTS searches_created ON searches(created);"));
  // Version 2 of the file records the scope a search applied (JSON) for the history.
  bool has_scope = false;
  {
    IOCGRID_ASSIGN_OR_RETURN(Stmt info, Prepare(s->db_, "PRAGMA table_info(searches)"));
    IOCGRID_RETURN_IF_ERROR(StepRows(s->db_, info.get(), [&](sqlite3_stmt* row) {
      has_scope |= ColumnText(row, 1) == "scope";
    }));
  }
  if (!has_scope) {
    IOCGRID_RETURN_IF_ERROR(
        s->Exec("ALTER TABLE searches ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';"));
  }
  IOCGRID_RETURN_IF_ERROR(
      s->Exec("UPDATE searches SET status='interrupted' WHERE status='running';"));
  s->interrupted_ = sqlite3_changes(s->db_);
  return s;
}

Result<std::string> PortalStore::CreateUserKey(const std::string& name, Role role) {
  if (name.empty()) return InvalidArgumentError("a user needs a name");
  std::lock_guard<std::mutex> lock(mu_);
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string key(40, ' ');
  for (char& c : key) c = kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  // Statements are prepared before the transaction, so a failure there needs no rollback.
  IOCGRID_ASSIGN_OR_RETURN(Stmt up,
                           Prepare(db_,
                                   "INSERT INTO users(name, role, created) VALUES(?, ?, ?) "
                                   "ON CONFLICT(name) DO UPDATE SET role=excluded.role"));
  IOCGRID_ASSIGN_OR_RETURN(Stmt sel, Prepare(db_, "SELECT id FROM users WHERE name = ?"));
  IOCGRID_ASSIGN_OR_RETURN(Stmt ins, Prepare(db_,
                                             "INSERT INTO api_keys(user_id, key_hash, key_start, "
                                             "key_end, created) VALUES(?, ?, ?, ?, ?)"));
  IOCGRID_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [&] {
    Status st = InternalError(std::string("portal store: ") + sqlite3_errmsg(db_));
    Exec("ROLLBACK").IgnoreError();  // the statement error above is the one to report
    return st;
  };
  if (!Binder(db_, up.get()).Text(name).Text(RoleName(role)).Int(Now()).status().ok() ||
      sqlite3_step(up.get()) != SQLITE_DONE) {
    return rollback();
  }
  if (!Binder(db_, sel.get()).Text(name).status().ok() || sqlite3_step(sel.get()) != SQLITE_ROW) {
    return rollback();
  }
  int64_t user_id = sqlite3_column_int64(sel.get(), 0);
  std::string hash = KeyHash(key);
  if (!Binder(db_, ins.get())
           .Int(user_id)
           .Blob(hash)
           .Text(std::string_view(key).substr(0, 4))
           .Text(std::string_view(key).substr(36))
           .Int(Now())
           .status()
           .ok() ||
      sqlite3_step(ins.get()) != SQLITE_DONE) {
    return rollback();
  }
  IOCGRID_RETURN_IF_ERROR(Exec("COMMIT"));
  return key;
}

Result<std::vector<KeyInfo>> PortalStore::ListKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_,
                      "SELECT k.id, u.name, u.role, k.key_start, k.key_end, k.created, k.revoked "
                      "FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY k.id"));
  std::vector<KeyInfo> out;
  IOCGRID_RETURN_IF_ERROR(StepRows(db_, s.get(), [&](sqlite3_stmt* raw) {
    KeyInfo k;
    k.id = sqlite3_column_int64(raw, 0);
    k.user = ColumnText(raw, 1);
    ParseRole(ColumnText(raw, 2), &k.role);
    k.key_start = ColumnText(raw, 3);
    k.key_end = ColumnText(raw, 4);
    k.created = sqlite3_column_int64(raw, 5);
    k.revoked = sqlite3_column_int64(raw, 6);
    out.push_back(std::move(k));
  }));
  return out;
}

Status PortalStore::RevokeKey(int64_t key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_, "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked = 0"));
  IOCGRID_RETURN_IF_ERROR(Binder(db_, s.get()).Int(Now()).Int(key_id).status());
  IOCGRID_RETURN_IF_ERROR(StepDone(db_, s.get()));
  if (sqlite3_changes(db_) == 0)
    return NotFoundError("no live key with id " + std::to_string(key_id));
  return Status();
}

Result<PortalUser> PortalStore::Authenticate(std::string_view key) {
  if (key.size() != 40) return PermissionDeniedError("malformed key");
  std::string hash = KeyHash(key);
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s,
      Prepare(db_,
              "SELECT u.id, u.name, u.role, k.key_hash FROM api_keys k JOIN users u "
              "ON u.id = k.user_id WHERE k.key_start = ? AND k.key_end = ? AND k.revoked = 0"));
  IOCGRID_RETURN_IF_ERROR(Binder(db_, s.get()).Text(key.substr(0, 4)).Text(key.substr(36)).status());
  std::optional<PortalUser> found;
  IOCGRID_RETURN_IF_ERROR(StepRows(db_, s.get(), [&](sqlite3_stmt* raw) {
    const void* stored = sqlite3_column_blob(raw, 3);
    if (!found && sqlite3_column_bytes(raw, 3) == static_cast<int>(hash.size()) &&
        sodium_memcmp(stored, hash.data(), hash.size()) == 0) {
      PortalUser u;
      u.id = sqlite3_column_int64(raw, 0);
      u.name = ColumnText(raw, 1);
      if (ParseRole(ColumnText(raw, 2), &u.role)) found = std::move(u);
    }
  }));
  if (!found) return PermissionDeniedError("unknown or revoked key");
  return *std::move(found);
}

Status PortalStore::InsertSearch(const SearchRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_,
                      "INSERT INTO searches(id, owner, label, tlp, shared, created, status, "
                      "indicators, hits, scope, document, events) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  IOCGRID_RETURN_IF_ERROR(Binder(db_, s.get())
                              .Text(row.id)
                              .Text(row.owner)
                              .Text(row.label)
                              .Text(row.tlp)
                              .Int(row.shared ? 1 : 0)
                              .Int(row.created)
                              .Text(row.status)
                              .Int(static_cast<int64_t>(row.indicators))
                              .Int(static_cast<int64_t>(row.hits))
                              .Text(row.scope.empty() ? "{}" : row.scope)
                              .Text(row.document)
                              .Text(row.events)
                              .status());
  return StepDone(db_, s.get());
}

Status PortalStore::FinishSearch(const SearchRow& row) { return UpdateSearch(row, false); }

Status PortalStore::CheckpointSearch(const SearchRow& row) { return UpdateSearch(row, true); }

Status PortalStore::UpdateSearch(const SearchRow& row, bool only_if_running) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_, only_if_running
                               ? "UPDATE searches SET status = ?, indicators = ?, hits = ?, "
                                 "document = ?, events = ? WHERE id = ? AND status = 'running'"
                               : "UPDATE searches SET status = ?, indicators = ?, hits = ?, "
                                 "document = ?, events = ? WHERE id = ?"));
  IOCGRID_RETURN_IF_ERROR(Binder(db_, s.get())
                              .Text(row.status)
                              .Int(static_cast<int64_t>(row.indicators))
                              .Int(static_cast<int64_t>(row.hits))
                              .Text(row.document)
                              .Text(row.events)
                              .Text(row.id)
                              .status());
  return StepDone(db_, s.get());
}

Result<SearchRow> PortalStore::GetSearch(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_,
                      "SELECT id, owner, label, tlp, shared, created, status, indicators, hits, "
                      "scope, document, events FROM searches WHERE id = ?"));
  sqlite3_stmt* raw = s.get();
  IOCGRID_RETURN_IF_ERROR(Binder(db_, raw).Text(id).status());
  int rc = sqlite3_step(raw);
  if (rc == SQLITE_DONE) return NotFoundError("no search " + id);
  if (rc != SQLITE_ROW) return StepError(db_, rc);
  SearchRow r = ReadSearchRow(raw);
  r.document = ColumnText(raw, 10);
  r.events = ColumnText(raw, 11);
  return r;
}

Result<std::vector<SearchRow>> PortalStore::ListSearches() {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_,
                      "SELECT id, owner, label, tlp, shared, created, status, indicators, hits, "
                      "scope FROM searches ORDER BY created DESC, rowid DESC"));
  std::vector<SearchRow> out;
  IOCGRID_RETURN_IF_ERROR(
      StepRows(db_, s.get(), [&](sqlite3_stmt* raw) { out.push_back(ReadSearchRow(raw)); }));
  return out;
}

Status PortalStore::DeleteSearch(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Stmt s, Prepare(db_, "DELETE FROM searches WHERE id = ?"));
  IOCGRID_RETURN_IF_ERROR(Binder(db_, s.get()).Text(id).status());
  IOCGRID_RETURN_IF_ERROR(StepDone(db_, s.get()));
  if (sqlite3_changes(db_) == 0) return NotFoundError("no search " + id);
  return Status();
}

}  // namespace iocgrid::portal
