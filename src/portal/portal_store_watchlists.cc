// PortalStore's watchlists (issue 11): the standing searches, their runs, and the webhook
// deliveries waiting, done or given up (portal_store.h; the schema is migration 5 in
// portal_store.cc).
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portal/internal/store_select.h"
#include "portal/portal_store.h"
#include "sql/database.h"

namespace iocgrid::portal {

using internal::SelectById;
using internal::SelectRows;
using sql::Statement;

namespace {

constexpr std::string_view kWatchlistColumns =
    "id, owner, name, request, webhook, secret, interval_s, created, updated, last_run, hits";

WatchlistRow ReadWatchlist(const Statement& s) {
  WatchlistRow r;
  r.id = std::string(s.Text(0));
  r.owner = std::string(s.Text(1));
  r.name = std::string(s.Text(2));
  r.request = std::string(s.Text(3));
  r.webhook = std::string(s.Text(4));
  r.secret = std::string(s.Text(5));
  r.interval_s = s.Int(6);
  r.created = s.Int(7);
  r.updated = s.Int(8);
  r.last_run = s.Int(9);
  r.hits = std::string(s.Text(10));
  return r;
}

constexpr std::string_view kRunColumns =
    "id, watchlist_id, started, finished, reason, status, hits, new_hits, removed_hits, members";

WatchRunRow ReadRun(const Statement& s) {
  WatchRunRow r;
  r.id = s.Int(0);
  r.watchlist_id = std::string(s.Text(1));
  r.started = s.Int(2);
  r.finished = s.Int(3);
  r.reason = std::string(s.Text(4));
  r.status = std::string(s.Text(5));
  r.hits = static_cast<uint64_t>(s.Int(6));
  r.new_hits = std::string(s.Text(7));
  r.removed_hits = std::string(s.Text(8));
  r.members = std::string(s.Text(9));
  return r;
}

constexpr std::string_view kDeliveryColumns =
    "id, watchlist_id, run_id, url, body, state, attempts, next_at, last_status, last_error, log";

DeliveryRow ReadDelivery(const Statement& s) {
  DeliveryRow r;
  r.id = s.Int(0);
  r.watchlist_id = std::string(s.Text(1));
  r.run_id = s.Int(2);
  r.url = std::string(s.Text(3));
  r.body = std::string(s.Text(4));
  r.state = std::string(s.Text(5));
  r.attempts = static_cast<int>(s.Int(6));
  r.next_at = s.Int(7);
  r.last_status = static_cast<int>(s.Int(8));
  r.last_error = std::string(s.Text(9));
  r.log = std::string(s.Text(10));
  return r;
}

}  // namespace

Status PortalStore::InsertWatchlist(const WatchlistRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db_->Prepare("INSERT INTO watchlists(" + std::string(kWatchlistColumns) +
                                        ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.BindText(1, row.id)
      .BindText(2, row.owner)
      .BindText(3, row.name)
      .BindText(4, row.request)
      .BindText(5, row.webhook)
      .BindText(6, row.secret)
      .Bind(7, row.interval_s)
      .Bind(8, row.created)
      .Bind(9, row.updated)
      .Bind(10, row.last_run)
      .BindText(11, row.hits);
  return s.Run();
}

Status PortalStore::UpdateWatchlist(const WatchlistRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db_->Prepare("UPDATE watchlists SET name = ?, request = ?, webhook = ?, "
                                        "secret = ?, interval_s = ?, updated = ? WHERE id = ?"));
  s.BindText(1, row.name)
      .BindText(2, row.request)
      .BindText(3, row.webhook)
      .BindText(4, row.secret)
      .Bind(5, row.interval_s)
      .Bind(6, row.updated)
      .BindText(7, row.id);
  IOCGRID_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) return NotFoundError("no watchlist " + row.id);
  return Status();
}

Result<WatchlistRow> PortalStore::GetWatchlist(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      SelectById(*db_, "SELECT " + std::string(kWatchlistColumns) + " FROM watchlists WHERE id = ?",
                 id, "watchlist"));
  return ReadWatchlist(s);
}

Result<std::vector<WatchlistRow>> PortalStore::ListWatchlists() {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(
      *db_, "SELECT " + std::string(kWatchlistColumns) + " FROM watchlists ORDER BY created, id",
      &ReadWatchlist);
}

Status PortalStore::DeleteWatchlist(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  for (const char* sql : {"DELETE FROM watchlist_runs WHERE watchlist_id = ?",
                          "DELETE FROM webhook_deliveries WHERE watchlist_id = ?",
                          "DELETE FROM watchlists WHERE id = ?"}) {
    IOCGRID_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    s.BindText(1, id);
    IOCGRID_RETURN_IF_ERROR(s.Run());
  }
  if (db_->Changes() == 0) return NotFoundError("no watchlist " + id);
  return tx.Commit();
}

Result<std::optional<int64_t>> PortalStore::ClaimWatchRun(const std::string& id, int64_t seen,
                                                          int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t claim = std::max(now, seen + 1);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement up,
      db_->Prepare("UPDATE watchlists SET last_run = ? WHERE id = ? AND last_run = ?"));
  up.Bind(1, claim).BindText(2, id).Bind(3, seen);
  IOCGRID_RETURN_IF_ERROR(up.Run());
  if (db_->Changes() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(claim);
}

Result<int64_t> PortalStore::RecordWatchRun(const WatchRunRow& run, const std::string& hits,
                                            DeliveryRow* delivery, int64_t claim) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement up, db_->Prepare("UPDATE watchlists SET last_run = ?, hits = ? WHERE id = ? AND "
                                 "last_run = ?"));
  up.Bind(1, std::max(run.finished, claim)).BindText(2, hits).BindText(3, run.watchlist_id);
  up.Bind(4, claim);
  IOCGRID_RETURN_IF_ERROR(up.Run());
  if (db_->Changes() == 0) {
    IOCGRID_ASSIGN_OR_RETURN(Statement exists,
                             db_->Prepare("SELECT COUNT(*) FROM watchlists WHERE id = ?"));
    exists.BindText(1, run.watchlist_id);
    IOCGRID_ASSIGN_OR_RETURN(bool row, exists.Step());
    const bool gone = !row || exists.Int(0) == 0;
    IOCGRID_RETURN_IF_ERROR(exists.Run());
    if (gone) return NotFoundError("no watchlist " + run.watchlist_id);
    return AlreadyExistsError("watchlist " + run.watchlist_id +
                              " was claimed by another run while this one ran");
  }
  IOCGRID_ASSIGN_OR_RETURN(
      Statement ins, db_->Prepare("INSERT INTO watchlist_runs(watchlist_id, started, finished, "
                                  "reason, status, hits, new_hits, removed_hits, members) "
                                  "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"));
  ins.BindText(1, run.watchlist_id)
      .Bind(2, run.started)
      .Bind(3, run.finished)
      .BindText(4, run.reason)
      .BindText(5, run.status)
      .Bind(6, static_cast<int64_t>(run.hits))
      .BindText(7, run.new_hits)
      .BindText(8, run.removed_hits)
      .BindText(9, run.members);
  IOCGRID_ASSIGN_OR_RETURN(bool inserted, ins.Step());
  if (!inserted) return InternalError("portal store: no id for a new watch run");
  const int64_t run_id = ins.Int(0);
  IOCGRID_RETURN_IF_ERROR(ins.Run());  // done: SQLite commits no statement still running
  if (delivery != nullptr && !delivery->body.empty()) {
    delivery->run_id = run_id;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement d, db_->Prepare("INSERT INTO webhook_deliveries(watchlist_id, run_id, url, "
                                  "body, state, next_at) VALUES(?, ?, ?, ?, 'pending', ?) "
                                  "RETURNING id"));
    d.BindText(1, run.watchlist_id)
        .Bind(2, run_id)
        .BindText(3, delivery->url)
        .BindText(4, delivery->body)
        .Bind(5, delivery->next_at);
    IOCGRID_ASSIGN_OR_RETURN(bool delivered, d.Step());
    if (!delivered) return InternalError("portal store: no id for a new delivery");
    delivery->id = d.Int(0);
    IOCGRID_RETURN_IF_ERROR(d.Run());
    delivery->state = "pending";
  }
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return run_id;
}

Result<std::vector<WatchRunRow>> PortalStore::ListWatchRuns(const std::string& watchlist_id,
                                                            size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(*db_,
                    "SELECT " + std::string(kRunColumns) +
                        " FROM watchlist_runs WHERE watchlist_id = ? ORDER BY id DESC LIMIT " +
                        std::to_string(limit),
                    &ReadRun, watchlist_id);
}

Result<std::vector<DeliveryRow>> PortalStore::ListDeliveries(const std::string& watchlist_id,
                                                             size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(*db_,
                    "SELECT " + std::string(kDeliveryColumns) +
                        " FROM webhook_deliveries WHERE watchlist_id = ? ORDER BY id DESC LIMIT " +
                        std::to_string(limit),
                    &ReadDelivery, watchlist_id);
}

Result<std::vector<DeliveryRow>> PortalStore::DueDeliveries(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectRows(*db_,
                    "SELECT " + std::string(kDeliveryColumns) +
                        " FROM webhook_deliveries WHERE state = 'pending' AND next_at <= "
                        "CAST(? AS BIGINT) ORDER BY id",
                    &ReadDelivery, std::to_string(now_ms));
}

Result<bool> PortalStore::ClaimDelivery(int64_t id, int64_t seen, int64_t until) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("UPDATE webhook_deliveries SET next_at = ? WHERE id = ? AND state "
                                "= 'pending' AND next_at = ?"));
  s.Bind(1, until).Bind(2, id).Bind(3, seen);
  IOCGRID_RETURN_IF_ERROR(s.Run());
  return db_->Changes() == 1;
}

Status PortalStore::UpdateDelivery(const DeliveryRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, "
                   "last_status = ?, last_error = ?, log = ? WHERE id = ?"));
  s.BindText(1, row.state)
      .Bind(2, static_cast<int64_t>(row.attempts))
      .Bind(3, row.next_at)
      .Bind(4, static_cast<int64_t>(row.last_status))
      .BindText(5, row.last_error)
      .BindText(6, row.log)
      .Bind(7, row.id);
  return s.Run();
}

}  // namespace iocgrid::portal
