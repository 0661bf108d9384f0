// PortalStore's alliance sightings (issue 12; docs/trends.md): the rows organisations reported
// and the per-day aggregates the trends endpoints read, kept in step in one transaction per
// batch. The schema is migration 7 in portal_store.cc.
//
// Why aggregates: a trends answer must not scan every sighting of the window. sector_daily
// holds, per day, sector, type and class, the distinct observables and the sighting counts;
// sector_orgs which organisations contributed to each of those cells (for k-anonymity);
// value_orgs the first and last day each organisation saw each observable (for scanners); and
// alliance_values.orgs how many organisations ever saw it, so that scanners start from the
// observables more than one organisation reported.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "portal/portal_store.h"
#include "sqlite/connection.h"

namespace iocgrid::portal {

using sqlite::Connection;
using sqlite::Statement;

namespace {

int64_t Signed(uint64_t n) {
  return static_cast<int64_t>(std::min<uint64_t>(n, uint64_t{1} << 62));
}

// The id of the observable (type, value), created when new; its members are the latest seen.
Result<int64_t> ValueId(Connection& db, const AllianceSighting& s) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement up, db.Prepare("INSERT INTO alliance_values(type, value, members) VALUES(?, ?, ?) "
                               "ON CONFLICT(type, value) DO UPDATE SET members = excluded.members "
                               "RETURNING id"));
  up.BindText(1, s.type).BindText(2, s.value).BindText(3, nlohmann::json(s.members).dump());
  IOCGRID_ASSIGN_OR_RETURN(bool row, up.Step());
  if (!row) return InternalError("alliance_values: no id returned");
  int64_t id = up.Int(0);
  while (true) {  // finish the statement so that its lease ends clean
    IOCGRID_ASSIGN_OR_RETURN(bool more, up.Step());
    if (!more) break;
  }
  return id;
}

// The organisation's existing row of that day for the value: adds to it. False when none.
Result<bool> AddToExisting(Connection& db, const std::string& org, int64_t id,
                           const AllianceSighting& s) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement up,
      db.Prepare("UPDATE alliance_sightings SET count = count + ?4, alerted = alerted + ?5, "
                 "first_seen = min(first_seen, ?6), last_seen = max(last_seen, ?7) "
                 "WHERE day = ?1 AND org = ?2 AND value_id = ?3 RETURNING sector, type, class"));
  up.Bind(1, s.day).BindText(2, org).Bind(3, id).Bind(4, Signed(s.count));
  up.Bind(5, Signed(s.alerted)).Bind(6, s.first_seen).Bind(7, s.last_seen);
  IOCGRID_ASSIGN_OR_RETURN(bool row, up.Step());
  if (!row) return false;
  std::string sector(up.Text(0)), type(up.Text(1)), cls(up.Text(2));
  IOCGRID_RETURN_IF_ERROR(up.Run());
  // The cell the row was counted in first keeps it (its class may differ today).
  IOCGRID_ASSIGN_OR_RETURN(
      Statement cell,
      db.Prepare("UPDATE sector_daily SET sightings = sightings + ?5, alerted = alerted + ?6 "
                 "WHERE day = ?1 AND sector = ?2 AND type = ?3 AND class = ?4"));
  cell.Bind(1, s.day).BindText(2, sector).BindText(3, type).BindText(4, cls);
  cell.Bind(5, Signed(s.count)).Bind(6, Signed(s.alerted));
  IOCGRID_RETURN_IF_ERROR(cell.Run());
  return true;
}

// A new row: the sector's day cell (one more observable unless another organisation of the
// sector reported it that day in the same class), the cell's organisations, value_orgs.
Status InsertNew(Connection& db, const std::string& org, const std::string& sector, int64_t id,
                 const AllianceSighting& s) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement seen,
      db.Prepare("SELECT 1 FROM alliance_sightings WHERE value_id = ? AND day = ? AND "
                 "sector = ? AND class = ? LIMIT 1"));
  seen.Bind(1, id).Bind(2, s.day).BindText(3, sector).BindText(4, s.cls);
  IOCGRID_ASSIGN_OR_RETURN(bool already, seen.Step());
  seen.Reset();
  IOCGRID_ASSIGN_OR_RETURN(
      Statement ins,
      db.Prepare("INSERT INTO alliance_sightings(day, org, value_id, sector, type, class, count, "
                 "alerted, first_seen, last_seen) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  ins.Bind(1, s.day).BindText(2, org).Bind(3, id).BindText(4, sector).BindText(5, s.type);
  ins.BindText(6, s.cls).Bind(7, Signed(s.count)).Bind(8, Signed(s.alerted));
  ins.Bind(9, s.first_seen).Bind(10, s.last_seen);
  IOCGRID_RETURN_IF_ERROR(ins.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement cell,
      db.Prepare("INSERT INTO sector_daily(day, sector, type, class, observables, sightings, "
                 "alerted) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET "
                 "observables = observables + ?5, sightings = sightings + ?6, "
                 "alerted = alerted + ?7"));
  cell.Bind(1, s.day).BindText(2, sector).BindText(3, s.type).BindText(4, s.cls);
  cell.Bind(5, already ? 0 : 1).Bind(6, Signed(s.count)).Bind(7, Signed(s.alerted));
  IOCGRID_RETURN_IF_ERROR(cell.Run());
  IOCGRID_ASSIGN_OR_RETURN(Statement orgs,
                           db.Prepare("INSERT OR IGNORE INTO sector_orgs(day, sector, type, class, "
                                      "org) VALUES(?, ?, ?, ?, ?)"));
  orgs.Bind(1, s.day).BindText(2, sector).BindText(3, s.type).BindText(4, s.cls);
  orgs.BindText(5, org);
  IOCGRID_RETURN_IF_ERROR(orgs.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement vo, db.Prepare("INSERT INTO value_orgs(value_id, org, first_day, last_day) "
                               "VALUES(?1, ?2, ?3, ?3) ON CONFLICT DO UPDATE SET "
                               "first_day = min(first_day, ?3), last_day = max(last_day, ?3)"));
  vo.Bind(1, id).BindText(2, org).Bind(3, s.day);
  IOCGRID_RETURN_IF_ERROR(vo.Run());
  IOCGRID_ASSIGN_OR_RETURN(Statement count,
                           db.Prepare("UPDATE alliance_values SET orgs = (SELECT COUNT(*) FROM "
                                      "value_orgs WHERE value_id = ?1) WHERE id = ?1"));
  count.Bind(1, id);
  return count.Run();
}

Status AddActors(Connection& db, const std::string& org, int64_t id, const AllianceSighting& s) {
  for (const std::string& actor : s.actors) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement a, db.Prepare("INSERT INTO actor_daily(actor, day, value_id, org, sightings) "
                                "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
                                "sightings = sightings + ?5"));
    a.BindText(1, actor).Bind(2, s.day).Bind(3, id).BindText(4, org).Bind(5, Signed(s.count));
    IOCGRID_RETURN_IF_ERROR(a.Run());
  }
  return Status::Ok();
}

}  // namespace

Status PortalStore::RecordAllianceSightings(const std::string& batch_id, const std::string& org,
                                            const std::string& sector,
                                            const std::vector<AllianceSighting>& sightings) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(Statement batch,
                           db_->Prepare("INSERT INTO alliance_batches(id, org, created, sightings) "
                                        "VALUES(?, ?, ?, ?)"));
  batch.BindText(1, batch_id).BindText(2, org).Bind(3, clock_.Now());
  batch.Bind(4, static_cast<int64_t>(sightings.size()));
  IOCGRID_RETURN_IF_ERROR(batch.Run());  // kAlreadyExists: recorded before
  for (const AllianceSighting& s : sightings) {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, ValueId(*db_, s));
    IOCGRID_ASSIGN_OR_RETURN(bool added, AddToExisting(*db_, org, id, s));
    if (!added) IOCGRID_RETURN_IF_ERROR(InsertNew(*db_, org, sector, id, s));
    IOCGRID_RETURN_IF_ERROR(AddActors(*db_, org, id, s));
  }
  return tx.Commit();
}

Result<uint64_t> PortalStore::PurgeAllianceSightings(int64_t first_kept_day) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  uint64_t deleted = 0;
  for (std::string_view table :
       {"alliance_sightings", "sector_daily", "sector_orgs", "actor_daily"}) {
    IOCGRID_ASSIGN_OR_RETURN(Statement del,
                             db_->Prepare("DELETE FROM " + std::string(table) + " WHERE day < ?"));
    del.Bind(1, first_kept_day);
    IOCGRID_RETURN_IF_ERROR(del.Run());
    if (table == "alliance_sightings") deleted = static_cast<uint64_t>(db_->Changes());
  }
  // What each organisation saw of each value, and how many saw it, from the rows kept.
  IOCGRID_ASSIGN_OR_RETURN(Statement bounds, db_->Prepare("DELETE FROM value_orgs WHERE 1"));
  IOCGRID_RETURN_IF_ERROR(bounds.Run());
  IOCGRID_RETURN_IF_ERROR(
      db_->Exec("INSERT INTO value_orgs(value_id, org, first_day, last_day) SELECT value_id, org, "
                "min(day), max(day) FROM alliance_sightings GROUP BY value_id, org;"
                "UPDATE alliance_values SET orgs = (SELECT COUNT(*) FROM value_orgs WHERE "
                "value_id = alliance_values.id);"
                "DELETE FROM alliance_values WHERE orgs = 0;"));
  IOCGRID_ASSIGN_OR_RETURN(Statement batches,
                           db_->Prepare("DELETE FROM alliance_batches WHERE created < ?"));
  batches.Bind(1, first_kept_day * 86400);
  IOCGRID_RETURN_IF_ERROR(batches.Run());
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return deleted;
}

Result<std::vector<SectorDayRow>> PortalStore::SectorDays(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("SELECT day, sector, type, class, observables, sightings, alerted "
                                "FROM sector_daily WHERE day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  std::vector<SectorDayRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   static_cast<uint64_t>(r.Int(4)), static_cast<uint64_t>(r.Int(5)),
                   static_cast<uint64_t>(r.Int(6))});
  }));
  return out;
}

Result<std::vector<SectorOrgRow>> PortalStore::SectorOrgs(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db_->Prepare("SELECT day, sector, type, class, org FROM sector_orgs "
                                        "WHERE day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  std::vector<SectorOrgRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   std::string(r.Text(4))});
  }));
  return out;
}

Result<std::vector<SectorDistinctRow>> PortalStore::SectorDistinct(int64_t from, int64_t to,
                                                                   int64_t bucket_days) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("SELECT (day - ?1) / ?3, sector, type, class, COUNT(DISTINCT value_id) FROM "
                   "alliance_sightings WHERE day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3, 4"));
  s.Bind(1, from).Bind(2, to).Bind(3, std::max<int64_t>(bucket_days, 1));
  std::vector<SectorDistinctRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   static_cast<uint64_t>(r.Int(4))});
  }));
  return out;
}

Result<std::vector<ScannerRow>> PortalStore::Scanners(int64_t from, int64_t to, uint64_t min_orgs,
                                                      size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  // Candidates: values more than one organisation reported, active in the window; then their
  // rows of the window (alliance_sightings_value).
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("WITH c AS (SELECT v.id AS id, COUNT(*) AS n FROM alliance_values v JOIN "
                   "value_orgs o ON o.value_id = v.id WHERE v.orgs >= max(?3, 2) AND "
                   "o.last_day >= ?1 AND o.first_day <= ?2 GROUP BY v.id HAVING n >= ?3 "
                   "ORDER BY n DESC, v.id LIMIT ?4) "
                   "SELECT v.value, v.type, v.members, a.org, a.sector, a.class, a.first_seen, "
                   "a.last_seen, a.count, a.alerted FROM c JOIN alliance_values v ON v.id = c.id "
                   "JOIN alliance_sightings a ON a.value_id = c.id AND a.day BETWEEN ?1 AND ?2 "
                   "ORDER BY c.n DESC, c.id"));
  s.Bind(1, from).Bind(2, to).Bind(3, Signed(min_orgs)).Bind(4, Signed(limit));
  std::vector<ScannerRow> out;
  auto add = [](std::vector<std::string>* set, std::string_view v) {
    if (std::find(set->begin(), set->end(), v) == set->end()) set->emplace_back(v);
  };
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    if (out.empty() || out.back().value != r.Text(0) || out.back().type != r.Text(1)) {
      out.push_back({});
      out.back().value = std::string(r.Text(0));
      out.back().type = std::string(r.Text(1));
      out.back().members = std::string(r.Text(2));
      out.back().first_seen = r.Int(6);
    }
    ScannerRow& row = out.back();
    add(&row.orgs, r.Text(3));
    add(&row.sectors, r.Text(4));
    add(&row.classes, r.Text(5));
    row.first_seen = std::min(row.first_seen, r.Int(6));
    row.last_seen = std::max(row.last_seen, r.Int(7));
    row.sightings += static_cast<uint64_t>(r.Int(8));
    row.alerted += static_cast<uint64_t>(r.Int(9));
  }));
  // value_orgs counts days, the window's rows may hold fewer organisations at its edges.
  std::erase_if(out, [&](const ScannerRow& r) { return r.orgs.size() < min_orgs; });
  return out;
}

Result<std::vector<ActorRow>> PortalStore::Actors(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("SELECT a.actor, a.day, v.value, v.type, a.org, a.sightings FROM "
                                "actor_daily a JOIN alliance_values v ON v.id = a.value_id "
                                "WHERE a.day BETWEEN ? AND ? ORDER BY a.actor, a.day"));
  s.Bind(1, from).Bind(2, to);
  std::vector<ActorRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({std::string(r.Text(0)), r.Int(1), std::string(r.Text(2)), std::string(r.Text(3)),
                   std::string(r.Text(4)), static_cast<uint64_t>(r.Int(5))});
  }));
  return out;
}

}  // namespace iocgrid::portal
