#include "portal/portal_store.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "portal/internal/store_schema.h"
#include "portal/internal/store_select.h"
#include "sql/database.h"
#include "sqlite/api_key.h"
#include "sqlite/connection.h"
#include "sqlite/migrate.h"

namespace iocgrid::portal {

using internal::SelectById;
using internal::SelectRows;

namespace {

using sql::Statement;
using sqlite::Connection;

// The session-level advisory lock every portal instance on a PostgreSQL server holds shared
// while it runs (per schema: portals in other schemas are other alliances); whoever gets it
// exclusively at start is alone, and may mark the searches left running as interrupted.
constexpr std::string_view kInstanceLock = "1229931345, hashtext(current_schema())";

constexpr std::string_view kSearchColumns =
    "id, owner, label, tlp, shared, created, status, indicators, hits, scope";

// Columns 0-6 of a searches or a sifts row: the fields both kinds of job have.
template <typename Row>
void ReadJobColumns(const Statement& s, Row* r) {
  r->id = std::string(s.Text(0));
  r->owner = std::string(s.Text(1));
  r->label = std::string(s.Text(2));
  r->tlp = std::string(s.Text(3));
  r->shared = s.Int(4) != 0;
  r->created = s.Int(5);
  r->status = std::string(s.Text(6));
}

// Parameters 1-7, the same fields, for an INSERT.
template <typename Row>
Statement& BindJobColumns(Statement& s, const Row& row) {
  return s.BindText(1, row.id)
      .BindText(2, row.owner)
      .BindText(3, row.label)
      .BindText(4, row.tlp)
      .Bind(5, row.shared ? 1 : 0)
      .Bind(6, row.created)
      .BindText(7, row.status);
}

// Columns 0-9 of a searches row, as kSearchColumns lists them.
SearchRow ReadSearchRow(const Statement& s) {
  SearchRow r;
  ReadJobColumns(s, &r);
  r.indicators = static_cast<uint64_t>(s.Int(7));
  r.hits = static_cast<uint64_t>(s.Int(8));
  r.scope = std::string(s.Text(9));
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

PortalStore::PortalStore(std::unique_ptr<sql::Database> db, Clock clock)
    : db_(std::move(db)), clock_(std::move(clock)) {}

PortalStore::~PortalStore() = default;

namespace {

Result<std::unique_ptr<sql::Database>> OpenSqliteFile(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return PermissionDeniedError("cannot create " + data_dir + ": " + ec.message());
  const std::string path = data_dir + "/portal.db";
  IOCGRID_ASSIGN_OR_RETURN(std::unique_ptr<Connection> db,
                           Connection::Open(path, Connection::Mode::kReadWriteCreate, 5000));
  IOCGRID_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
               "PRAGMA temp_store=MEMORY;"));
  IOCGRID_RETURN_IF_ERROR(sqlite::Migrate(*db, path, internal::SqliteSchema()));
  // Checkpoints on a thread of their own from 16 MiB of WAL on (sqlite/checkpoints.h), and the
  // writer's own only past 256 MiB: while batches of sightings follow each other, the thread is
  // still copying the last one when the next begins, so the WAL restarts only after the
  // writer's checkpoint, which then copies one batch's pages (a batch of 10^4 dirties ~20 MiB
  // all over the value indexes; 65k/s with a 64 MiB backstop, 68–70k/s with this one). The
  // WAL file is cut back to 64 MiB when it restarts.
  IOCGRID_RETURN_IF_ERROR(db->Exec("PRAGMA journal_size_limit=67108864;"));
  IOCGRID_RETURN_IF_ERROR(db->CheckpointInBackground(4096, 65536));
  return sql::WrapSqlite(std::move(db), path);
}

// Whether this instance may mark searches left running as interrupted: always on the SQLite
// file (one portal per file); on a server only when no other instance holds the instance lock.
// Either way this instance then holds it shared until it closes.
Result<bool> AloneOnTheDatabase(sql::Database& db) {
  if (db.dialect() != sql::Dialect::kPostgres) return true;
  IOCGRID_ASSIGN_OR_RETURN(int64_t alone,
                           db.QueryInt("SELECT CASE WHEN pg_try_advisory_lock(" +
                                       std::string(kInstanceLock) + ") THEN 1 ELSE 0 END"));
  if (alone == 1) {
    IOCGRID_RETURN_IF_ERROR(
        db.Exec("SELECT pg_advisory_unlock(" + std::string(kInstanceLock) + ")"));
  }
  const std::string shared = "SELECT pg_advisory_lock_shared(" + std::string(kInstanceLock) + ")";
  IOCGRID_RETURN_IF_ERROR(db.Exec(shared));
  db.SetReconnectSql(shared);  // a new session holds it again
  return alone == 1;
}

}  // namespace

Result<std::unique_ptr<PortalStore>> PortalStore::Open(const std::string& data_dir, Clock clock,
                                                       const std::string& database) {
  if (!sqlite::InitCrypto()) return InternalError("libsodium initialisation failed");
  std::unique_ptr<sql::Database> db;
  if (database.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(db, OpenSqliteFile(data_dir));
  } else if (sql::IsPostgresUrl(database)) {
    IOCGRID_ASSIGN_OR_RETURN(db, sql::ConnectPostgres(database));
    IOCGRID_RETURN_IF_ERROR(
        sql::MigratePostgres(*db, "portal store", internal::PostgresMigrations()));
  } else {
    return InvalidArgumentError(
        "database must be empty (the SQLite file DATA/portal.db) or a postgresql:// URL");
  }
  int interrupted = 0;
  IOCGRID_ASSIGN_OR_RETURN(bool alone, AloneOnTheDatabase(*db));
  if (alone) {
    IOCGRID_RETURN_IF_ERROR(
        db->Exec("UPDATE searches SET status='interrupted' WHERE status='running';"));
    interrupted = static_cast<int>(db->Changes());
    IOCGRID_RETURN_IF_ERROR(
        db->Exec("UPDATE sifts SET status='interrupted' WHERE status='searching';"));
  }
  std::unique_ptr<PortalStore> s(new PortalStore(std::move(db), std::move(clock)));
  s->interrupted_ = interrupted;
  IOCGRID_RETURN_IF_ERROR(s->BuildSketchesIfMissing());
  return s;
}

Result<std::string> PortalStore::CreateUserKey(const std::string& name, Role role,
                                               const std::optional<std::string>& org) {
  if (name.empty()) return InvalidArgumentError("a user needs a name");
  if (org) {
    if (org->empty() || org->size() > 255 || !IsValidUtf8(*org) ||
        std::any_of(org->begin(), org->end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20; })) {
      return InvalidArgumentError(
          "--org must be 1-255 bytes of UTF-8 text without control characters");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = sqlite::NewApiKey();
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  {
    // An existing user keeps its organisation unless one is given.
    IOCGRID_ASSIGN_OR_RETURN(
        Statement up, db_->Prepare("INSERT INTO users(name, role, created, org) VALUES(?, ?, ?, ?) "
                                   "ON CONFLICT(name) DO UPDATE SET role=excluded.role, "
                                   "org=CASE WHEN ?5 = 1 THEN excluded.org ELSE users.org END"));
    up.BindText(1, name)
        .BindText(2, RoleName(role))
        .Bind(3, clock_.Now())
        .BindText(4, org.value_or(""))
        .Bind(5, org.has_value() ? 1 : 0);
    IOCGRID_RETURN_IF_ERROR(up.Run());
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement sel, db_->Prepare("SELECT id FROM users WHERE name = ?"));
  sel.BindText(1, name);
  IOCGRID_ASSIGN_OR_RETURN(bool found, sel.Step());
  if (!found) return InternalError("portal store: user vanished after insert");
  const int64_t user_id = sel.Int(0);
  const std::string hash = sqlite::Sha256(key);
  IOCGRID_ASSIGN_OR_RETURN(Statement ins,
                           db_->Prepare("INSERT INTO api_keys(user_id, key_hash, key_start, "
                                        "key_end, created) VALUES(?, ?, ?, ?, ?)"));
  ins.Bind(1, user_id)
      .BindBlob(2, {reinterpret_cast<const unsigned char*>(hash.data()), hash.size()})
      .BindText(3, std::string_view(key).substr(0, 4))
      .BindText(4, std::string_view(key).substr(sqlite::kApiKeyLength - 4))
      .Bind(5, clock_.Now());
  IOCGRID_RETURN_IF_ERROR(ins.Run());
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return key;
}

Result<std::vector<KeyInfo>> PortalStore::ListKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("SELECT k.id, u.name, u.role, k.key_start, k.key_end, k.created, k.revoked, "
                   "u.org "
                   "FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY k.id"));
  std::vector<KeyInfo> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& row) {
    KeyInfo k;
    k.id = row.Int(0);
    k.user = std::string(row.Text(1));
    ParseRole(row.Text(2), &k.role);
    k.key_start = std::string(row.Text(3));
    k.key_end = std::string(row.Text(4));
    k.created = row.Int(5);
    k.revoked = row.Int(6);
    k.org = std::string(row.Text(7));
    out.push_back(std::move(k));
  }));
  return out;
}

Status PortalStore::RevokeKey(int64_t key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked = 0"));
  s.Bind(1, clock_.Now()).Bind(2, key_id);
  IOCGRID_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) return NotFoundError("no live key with id " + std::to_string(key_id));
  return Status();
}

Result<PortalUser> PortalStore::Authenticate(std::string_view key) {
  if (key.size() != sqlite::kApiKeyLength) return PermissionDeniedError("malformed key");
  std::string hash = sqlite::Sha256(key);
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("SELECT u.id, u.name, u.role, k.key_hash, u.org FROM api_keys k JOIN users u "
                   "ON u.id = k.user_id WHERE k.key_start = ? AND k.key_end = ? "
                   "AND k.revoked = 0"));
  s.BindText(1, key.substr(0, 4)).BindText(2, key.substr(sqlite::kApiKeyLength - 4));
  std::optional<PortalUser> found;
  // Every candidate is compared, so timing does not reveal which one matched.
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& row) {
    if (sqlite::HashEquals(row.Blob(3), hash) && !found) {
      PortalUser u;
      u.id = row.Int(0);
      u.name = std::string(row.Text(1));
      u.org = std::string(row.Text(4));
      if (ParseRole(row.Text(2), &u.role)) found = std::move(u);
    }
  }));
  sqlite::Wipe(hash);
  if (!found) return PermissionDeniedError("unknown or revoked key");
  return *std::move(found);
}

Status PortalStore::InsertSearch(const SearchRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("INSERT INTO searches(" + std::string(kSearchColumns) +
                                ", document, events) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindJobColumns(s, row)
      .Bind(8, static_cast<int64_t>(row.indicators))
      .Bind(9, static_cast<int64_t>(row.hits))
      .BindText(10, row.scope.empty() ? "{}" : row.scope)
      .BindText(11, row.document)
      .BindText(12, row.events);
  return s.Run();
}

Status PortalStore::FinishSearch(const SearchRow& row) { return UpdateSearch(row, false); }

Status PortalStore::CheckpointSearch(const SearchRow& row) { return UpdateSearch(row, true); }

Status PortalStore::UpdateSearch(const SearchRow& row, bool only_if_running) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare(only_if_running ? "UPDATE searches SET status = ?, indicators = ?, hits = ?, "
                                     "document = ?, events = ? WHERE id = ? AND status = 'running'"
                                   : "UPDATE searches SET status = ?, indicators = ?, hits = ?, "
                                     "document = ?, events = ? WHERE id = ?"));
  s.BindText(1, row.status)
      .Bind(2, static_cast<int64_t>(row.indicators))
      .Bind(3, static_cast<int64_t>(row.hits))
      .BindText(4, row.document)
      .BindText(5, row.events)
      .BindText(6, row.id);
  return s.Run();
}

Result<SearchRow> PortalStore::GetSearch(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           SelectById(*db_,
                                      "SELECT " + std::string(kSearchColumns) +
                                          ", document, events FROM searches WHERE id = ?",
                                      id, "search"));
  SearchRow r = ReadSearchRow(s);
  r.document = std::string(s.Text(10));
  r.events = std::string(s.Text(11));
  return r;
}

Result<std::vector<SearchRow>> PortalStore::ListSearches() {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(
      *db_,
      "SELECT " + std::string(kSearchColumns) + " FROM searches ORDER BY created DESC, rowid DESC",
      &ReadSearchRow);
}

Status PortalStore::DeleteSearch(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(Statement s, db_->Prepare("DELETE FROM searches WHERE id = ?"));
  s.BindText(1, id);
  IOCGRID_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) return NotFoundError("no search " + id);
  IOCGRID_ASSIGN_OR_RETURN(Statement sightings,
                           db_->Prepare("DELETE FROM search_sightings WHERE search_id = ?"));
  sightings.BindText(1, id);
  IOCGRID_RETURN_IF_ERROR(sightings.Run());
  return tx.Commit();
}

Status PortalStore::InsertSentSightings(const std::vector<SentSighting>& rows) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  for (const SentSighting& r : rows) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement s,
        db_->Prepare("INSERT INTO search_sightings(search_id, created, \"user\", type, source, "
                     "member, i, value, outcome, reason) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.BindText(1, r.search_id)
        .Bind(2, r.created)
        .BindText(3, r.user)
        .BindText(4, r.type)
        .BindText(5, r.source)
        .BindText(6, r.member)
        .Bind(7, static_cast<int64_t>(r.i))
        .BindText(8, r.value)
        .BindText(9, r.outcome)
        .BindText(10, r.reason);
    IOCGRID_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

namespace {

SentSighting ReadSentSighting(const Statement& row) {
  SentSighting r;
  r.search_id = std::string(row.Text(0));
  r.created = row.Int(1);
  r.user = std::string(row.Text(2));
  r.type = std::string(row.Text(3));
  r.source = std::string(row.Text(4));
  r.member = std::string(row.Text(5));
  r.i = static_cast<uint32_t>(row.Int(6));
  r.value = std::string(row.Text(7));
  r.outcome = std::string(row.Text(8));
  r.reason = std::string(row.Text(9));
  return r;
}

constexpr std::string_view kSentSightingSelect =
    "SELECT search_id, created, \"user\", type, source, member, i, value, outcome, reason FROM "
    "search_sightings ";

}  // namespace

Result<std::vector<SentSighting>> PortalStore::ListSentSightings(const std::string& search_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(*db_, std::string(kSentSightingSelect) + "WHERE search_id = ? ORDER BY id",
                    &ReadSentSighting, search_id);
}

Result<std::pair<uint64_t, uint64_t>> PortalStore::CountSentSightings(
    const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string list =
      nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The values go as one JSON list: SQLite's json_each, PostgreSQL's jsonb_array_elements_text.
  const std::string values_of_list = db_->dialect() == sql::Dialect::kPostgres
                                         ? "SELECT jsonb_array_elements_text(?::jsonb)"
                                         : "SELECT value FROM json_each(?)";
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("SELECT COALESCE(SUM(CASE WHEN type = 'true-positive' THEN 1 ELSE 0 END), 0), "
                   "COALESCE(SUM(CASE WHEN type = 'false-positive' THEN 1 ELSE 0 END), 0) FROM "
                   "search_sightings WHERE outcome = 'sent' AND value IN (" +
                   values_of_list + ")"));
  s.BindText(1, list);
  IOCGRID_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::make_pair(uint64_t{0}, uint64_t{0});
  return std::make_pair(static_cast<uint64_t>(s.Int(0)), static_cast<uint64_t>(s.Int(1)));
}

Result<std::vector<SentSighting>> PortalStore::ListConfirmedSightings() {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(*db_,
                    std::string(kSentSightingSelect) +
                        "WHERE type = 'true-positive' AND outcome = 'sent' ORDER BY id",
                    &ReadSentSighting);
}

constexpr std::string_view kSiftColumns =
    "id, owner, label, tlp, shared, created, status, search_id, lines, observables";

namespace {

SiftRow ReadSiftRow(const Statement& s) {
  SiftRow r;
  ReadJobColumns(s, &r);
  r.search_id = std::string(s.Text(7));
  r.lines = static_cast<uint64_t>(s.Int(8));
  r.observables = static_cast<uint64_t>(s.Int(9));
  return r;
}

}  // namespace

Status PortalStore::InsertSift(const SiftRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("INSERT INTO sifts(" + std::string(kSiftColumns) +
                   ", request, result, groups, report) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?)"));
  BindJobColumns(s, row)
      .BindText(8, row.search_id)
      .Bind(9, static_cast<int64_t>(row.lines))
      .Bind(10, static_cast<int64_t>(row.observables))
      .BindText(11, row.request)
      .BindText(12, row.result)
      .BindBlob(13, {reinterpret_cast<const unsigned char*>(row.groups.data()), row.groups.size()})
      .BindText(14, row.report);
  return s.Run();
}

Status PortalStore::FinishSift(const std::string& id, const std::string& status,
                               const std::string& report) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db_->Prepare("UPDATE sifts SET status = ?, report = ? WHERE id = ?"));
  s.BindText(1, status).BindText(2, report).BindText(3, id);
  IOCGRID_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) return NotFoundError("no sift " + id);
  return Status();
}

Result<SiftRow> PortalStore::GetSift(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, SelectById(*db_,
                              "SELECT " + std::string(kSiftColumns) +
                                  ", request, result, groups, report FROM sifts WHERE id = ?",
                              id, "sift"));
  SiftRow r = ReadSiftRow(s);
  r.request = std::string(s.Text(10));
  r.result = std::string(s.Text(11));
  auto blob = s.Blob(12);
  r.groups.assign(reinterpret_cast<const char*>(blob.data()), blob.size());
  r.report = std::string(s.Text(13));
  return r;
}

Result<std::vector<SiftRow>> PortalStore::ListSifts() {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(
      *db_, "SELECT " + std::string(kSiftColumns) + " FROM sifts ORDER BY created DESC, rowid DESC",
      &ReadSiftRow);
}

Result<EvaluationCharge> PortalStore::ChargeEvaluations(const std::string& user, int64_t day,
                                                        uint64_t points, uint64_t cap) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement get,
      db_->Prepare("SELECT points FROM private_evaluations WHERE \"user\" = ? AND day = ?"));
  get.BindText(1, user).Bind(2, day);
  IOCGRID_ASSIGN_OR_RETURN(bool found, get.Step());
  EvaluationCharge out;
  out.used = found ? static_cast<uint64_t>(get.Int(0)) : 0;
  if (out.used + points > cap) return out;  // refused: nothing written
  IOCGRID_ASSIGN_OR_RETURN(
      Statement put,
      db_->Prepare("INSERT INTO private_evaluations(\"user\", day, points) VALUES(?, ?, ?) ON "
                   "CONFLICT(\"user\", day) DO UPDATE SET points = private_evaluations.points + "
                   "excluded.points"));
  put.BindText(1, user).Bind(2, day).Bind(3, static_cast<int64_t>(points));
  IOCGRID_RETURN_IF_ERROR(put.Run());
  // Older days are no longer counted against anyone.
  IOCGRID_ASSIGN_OR_RETURN(Statement old,
                           db_->Prepare("DELETE FROM private_evaluations WHERE day < ?"));
  old.Bind(1, day - 1);
  IOCGRID_RETURN_IF_ERROR(old.Run());
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  out.charged = true;
  out.used += points;
  return out;
}

}  // namespace iocgrid::portal
