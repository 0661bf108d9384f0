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
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "portal/portal_store.h"
#include "sql/database.h"

namespace iocgrid::portal {

using sql::Database;
using sql::Statement;

namespace {

// How long a trends question that reads the rows themselves (not the per-day totals) may hold
// the store: an analyst's multi-day buckets over a large alliance must not stall every search.
constexpr std::chrono::milliseconds kRowQueryBudget{2000};

// A row-reading question that ran out of kRowQueryBudget: what to ask instead (`instead`).
Status TooLarge(const Status& s, std::string_view what, std::string_view instead) {
  if (s.code() != StatusCode::kDeadlineExceeded) return s;
  return DeadlineExceededError(std::string(what) +
                               " reads more sightings than the portal answers within 2 s; ask "
                               "for a shorter window, or " +
                               std::string(instead) + ".");
}

int64_t Signed(uint64_t n) {
  return static_cast<int64_t>(std::min<uint64_t>(n, uint64_t{1} << 62));
}

// A batch is recorded set-wise: its sightings go into a temporary table, one cheap insert
// each, and a few INSERT ... SELECT statements fold them into the tables, so that the work per
// sighting is SQLite's, not a round of prepared statements (38k/s that way, against the
// issue's goal of 100k/s).
constexpr std::string_view kBatchTables =
    "CREATE TEMP TABLE IF NOT EXISTS batch_in(type TEXT NOT NULL, value TEXT NOT NULL, "
    "members TEXT, class TEXT NOT NULL, day BIGINT NOT NULL, count BIGINT NOT NULL, "
    "alerted BIGINT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);"
    "CREATE TEMP TABLE IF NOT EXISTS batch_actors(actor TEXT NOT NULL, type TEXT NOT NULL, "
    "value TEXT NOT NULL, day BIGINT NOT NULL, count BIGINT NOT NULL);"
    // One row per observable and day, with the cell it is counted in: the organisation's row
    // of that day when there is one (it keeps the sector and class it was counted under
    // first), and for a new row whether the sector already counts the observable that day.
    "CREATE TEMP TABLE IF NOT EXISTS batch_rows(value_id BIGINT NOT NULL, day BIGINT NOT "
    "NULL, type TEXT NOT NULL, class TEXT NOT NULL, count BIGINT NOT NULL, alerted BIGINT NOT "
    "NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, old_sector TEXT, old_type "
    "TEXT, old_class TEXT, seen BIGINT NOT NULL DEFAULT 0, PRIMARY KEY(value_id, day));"
    "DELETE FROM batch_in; DELETE FROM batch_actors; DELETE FROM batch_rows;";

// The sighting whose members list a value keeps: the last seen one (the later in the batch on a
// tie). Only that row stages its members, so one row per value updates alliance_values
// (PostgreSQL refuses an upsert that touches a row twice).
std::vector<bool> MembersKept(const std::vector<AllianceSighting>& sightings) {
  std::unordered_map<std::string, size_t> last;  // type NUL value -> index
  last.reserve(sightings.size());
  for (size_t i = 0; i < sightings.size(); ++i) {
    const AllianceSighting& s = sightings[i];
    auto [it, added] = last.try_emplace(s.type + '\0' + s.value, i);
    if (!added && sightings[it->second].last_seen <= s.last_seen) it->second = i;
  }
  std::vector<bool> kept(sightings.size(), false);
  for (const auto& [key, i] : last) kept[i] = true;
  return kept;
}

Status StageBatch(Database& db, const std::vector<AllianceSighting>& sightings) {
  IOCGRID_RETURN_IF_ERROR(db.Exec(kBatchTables));
  const std::vector<bool> kept = MembersKept(sightings);
  for (size_t i = 0; i < sightings.size(); ++i) {
    const AllianceSighting& s = sightings[i];
    IOCGRID_ASSIGN_OR_RETURN(Statement in,
                             db.Prepare("INSERT INTO batch_in VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    in.BindText(1, s.type).BindText(2, s.value);
    if (kept[i]) {
      in.BindText(3, nlohmann::json(s.members).dump());
    } else {
      in.BindNull(3);
    }
    in.BindText(4, s.cls).Bind(5, s.day).Bind(6, Signed(s.count)).Bind(7, Signed(s.alerted));
    in.Bind(8, s.first_seen).Bind(9, s.last_seen);
    IOCGRID_RETURN_IF_ERROR(in.Run());
    for (const std::string& actor : s.actors) {
      IOCGRID_ASSIGN_OR_RETURN(Statement a,
                               db.Prepare("INSERT INTO batch_actors VALUES(?, ?, ?, ?, ?)"));
      a.BindText(1, actor).BindText(2, s.type).BindText(3, s.value).Bind(4, s.day);
      a.Bind(5, Signed(s.count));
      IOCGRID_RETURN_IF_ERROR(a.Run());
    }
  }
  // The values (members as last seen), then the batch per value and day.
  return db.Exec(
      "INSERT INTO alliance_values(type, value, members) SELECT type, value, max(members) FROM "
      "batch_in GROUP BY type, value ON CONFLICT(type, value) DO UPDATE SET members = "
      "excluded.members WHERE alliance_values.members <> excluded.members;"
      "INSERT INTO batch_rows(value_id, day, type, class, count, alerted, first_seen, last_seen) "
      "SELECT v.id, b.day, min(b.type), min(b.class), sum(b.count), sum(b.alerted), "
      "min(b.first_seen), max(b.last_seen) FROM batch_in b JOIN alliance_values v ON v.type = "
      "b.type AND v.value = b.value GROUP BY v.id, b.day;");
}

// Where each staged row is counted (batch_rows' old_* and seen), then the cells' numbers and
// contributors: a new row adds an observable to its cell unless the sector has it that day.
Status CountCells(Database& db, const std::string& org, const std::string& sector) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement old,
      db.Prepare("UPDATE batch_rows SET (old_sector, old_type, old_class) = (SELECT a.sector, "
                 "a.type, a.class FROM alliance_sightings a WHERE a.day = batch_rows.day AND "
                 "a.org = ?1 AND a.value_id = batch_rows.value_id)"));
  old.BindText(1, org);
  IOCGRID_RETURN_IF_ERROR(old.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement seen,
      // INDEXED BY: without statistics the planner takes the primary key's day prefix and
      // reads the whole day.
      db.Prepare(
          std::string("UPDATE batch_rows SET seen = CASE WHEN EXISTS (SELECT 1 FROM "
                      "alliance_sightings a ") +
          (db.dialect() == sql::Dialect::kSqlite ? "INDEXED BY alliance_sightings_value " : "") +
          "WHERE a.value_id = batch_rows.value_id AND a.day = batch_rows.day AND a.sector "
          "= ?1 AND a.class = batch_rows.class) THEN 1 ELSE 0 END WHERE old_sector IS "
          "NULL"));
  seen.BindText(1, sector);
  IOCGRID_RETURN_IF_ERROR(seen.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement cells,
      db.Prepare("INSERT INTO sector_daily(day, sector, type, class, observables, sightings, "
                 "alerted) SELECT day, coalesce(old_sector, ?1), coalesce(old_type, type), "
                 "coalesce(old_class, class), sum(CASE WHEN old_sector IS NULL AND seen = 0 THEN 1 "
                 "ELSE 0 END), sum(count), sum(alerted) FROM batch_rows GROUP BY 1, 2, 3, 4 ON "
                 "CONFLICT(day, sector, type, class) DO UPDATE SET observables = "
                 "sector_daily.observables + excluded.observables, sightings = "
                 "sector_daily.sightings + excluded.sightings, alerted = sector_daily.alerted + "
                 "excluded.alerted"));
  cells.BindText(1, sector);
  IOCGRID_RETURN_IF_ERROR(cells.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement orgs,
      db.Prepare("INSERT INTO sector_orgs(day, sector, type, class, org) SELECT DISTINCT day, "
                 "coalesce(old_sector, ?1), coalesce(old_type, type), coalesce(old_class, class), "
                 "?2 FROM batch_rows WHERE true ON CONFLICT DO NOTHING"));
  orgs.BindText(1, sector).BindText(2, org);
  return orgs.Run();
}

// The staged rows into alliance_sightings (added to the organisation's row of the day when
// there is one), the organisations per value (alliance_values.orgs counts one more for a value
// new to the organisation), the actors.
Status FoldBatch(Database& db, const std::string& org, const std::string& sector) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement rows,
      db.Prepare("INSERT INTO alliance_sightings(day, org, value_id, sector, type, class, count, "
                 "alerted, first_seen, last_seen) SELECT day, ?1, value_id, ?2, type, class, "
                 "count, alerted, first_seen, last_seen FROM batch_rows WHERE true "
                 "ON CONFLICT(day, org, value_id) DO UPDATE SET count = alliance_sightings.count + "
                 "excluded.count, alerted = alliance_sightings.alerted + excluded.alerted, "
                 "first_seen = CASE WHEN excluded.first_seen < alliance_sightings.first_seen "
                 "THEN excluded.first_seen ELSE alliance_sightings.first_seen END, last_seen = "
                 "CASE WHEN excluded.last_seen > alliance_sightings.last_seen THEN "
                 "excluded.last_seen ELSE alliance_sightings.last_seen END"));
  rows.BindText(1, org).BindText(2, sector);
  IOCGRID_RETURN_IF_ERROR(rows.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement count,
      db.Prepare("UPDATE alliance_values SET orgs = orgs + 1 WHERE id IN (SELECT value_id FROM "
                 "batch_rows b WHERE NOT EXISTS (SELECT 1 FROM value_orgs o WHERE o.value_id = "
                 "b.value_id AND o.org = ?1))"));
  count.BindText(1, org);
  IOCGRID_RETURN_IF_ERROR(count.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement spans,
      db.Prepare("INSERT INTO value_orgs(value_id, org, first_day, last_day) SELECT value_id, "
                 "?1, min(day), max(day) FROM batch_rows GROUP BY value_id ON CONFLICT(value_id, "
                 "org) DO UPDATE SET first_day = CASE WHEN excluded.first_day < "
                 "value_orgs.first_day THEN excluded.first_day ELSE value_orgs.first_day END, "
                 "last_day = CASE WHEN excluded.last_day > value_orgs.last_day THEN "
                 "excluded.last_day ELSE value_orgs.last_day END"));
  spans.BindText(1, org);
  IOCGRID_RETURN_IF_ERROR(spans.Run());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement actors,
      db.Prepare("INSERT INTO actor_daily(actor, day, value_id, org, sightings) SELECT a.actor, "
                 "a.day, v.id, ?1, sum(a.count) FROM batch_actors a JOIN alliance_values v ON "
                 "v.type = a.type AND v.value = a.value GROUP BY a.actor, a.day, v.id ON "
                 "CONFLICT(actor, day, value_id, org) DO UPDATE SET sightings = "
                 "actor_daily.sightings + excluded.sightings"));
  actors.BindText(1, org);
  return actors.Run();
}

Result<std::vector<SectorDayRow>> SectorDaysRows(Database& db, int64_t from, int64_t to) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT day, sector, type, class, observables, sightings, alerted "
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

Result<std::vector<SectorOrgRow>> SectorOrgsRows(Database& db, int64_t from, int64_t to) {
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT day, sector, type, class, org FROM sector_orgs "
                                      "WHERE day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  std::vector<SectorOrgRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   std::string(r.Text(4))});
  }));
  return out;
}

Result<std::vector<SectorDistinctRow>> SectorDistinctRows(Database& db, int64_t from, int64_t to,
                                                          int64_t bucket_days) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("SELECT (day - ?1) / ?3, sector, type, class, COUNT(DISTINCT value_id) FROM "
                 "alliance_sightings WHERE day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3, 4"));
  s.Bind(1, from).Bind(2, to).Bind(3, std::max<int64_t>(bucket_days, 1));
  std::vector<SectorDistinctRow> out;
  sql::QueryBudget budget(db, kRowQueryBudget);
  Status st = s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   static_cast<uint64_t>(r.Int(4))});
  });
  if (!st.ok())
    return TooLarge(st, "Buckets of several days", "bucket=1d (answered from the per-day totals)");
  return out;
}

}  // namespace

Status PortalStore::RecordAllianceSightings(const std::string& batch_id, const std::string& org,
                                            const std::string& sector,
                                            const std::vector<AllianceSighting>& sightings) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(Statement batch,
                           db_->Prepare("INSERT INTO alliance_batches(id, org, created, sightings) "
                                        "VALUES(?, ?, ?, ?)"));
  batch.BindText(1, batch_id).BindText(2, org).Bind(3, clock_.Now());
  batch.Bind(4, static_cast<int64_t>(sightings.size()));
  IOCGRID_RETURN_IF_ERROR(batch.Run());  // kAlreadyExists: recorded before
  IOCGRID_RETURN_IF_ERROR(StageBatch(*db_, sightings));
  IOCGRID_RETURN_IF_ERROR(CountCells(*db_, org, sector));
  IOCGRID_RETURN_IF_ERROR(FoldBatch(*db_, org, sector));
  return tx.Commit();
}

Result<uint64_t> PortalStore::PurgeAllianceSightings(int64_t first_kept_day) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
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
  IOCGRID_ASSIGN_OR_RETURN(Statement bounds, db_->Prepare("DELETE FROM value_orgs WHERE true"));
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
  return SectorDaysRows(*db_, from, to);
}

Result<std::vector<SectorOrgRow>> PortalStore::SectorOrgs(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  return SectorOrgsRows(*db_, from, to);
}

Result<std::vector<SectorDistinctRow>> PortalStore::SectorDistinct(int64_t from, int64_t to,
                                                                   int64_t bucket_days) {
  std::lock_guard<std::mutex> lock(mu_);
  return SectorDistinctRows(*db_, from, to, bucket_days);
}

Result<SectorTrendData> PortalStore::SectorTrendRows(int64_t days_from, int64_t from, int64_t to,
                                                     int64_t bucket_days) {
  // One snapshot, so that numbers and contributors agree: the mutex keeps this instance's
  // writers out, the transaction another instance's (on PostgreSQL).
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin(Database::TransactionKind::kSnapshot));
  SectorTrendData d;
  IOCGRID_ASSIGN_OR_RETURN(d.days, SectorDaysRows(*db_, days_from, to));
  IOCGRID_ASSIGN_OR_RETURN(d.orgs, SectorOrgsRows(*db_, from, to));
  if (bucket_days > 1) {
    IOCGRID_ASSIGN_OR_RETURN(d.distinct, SectorDistinctRows(*db_, from, to, bucket_days));
  }
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return d;
}

Result<std::vector<ScannerRow>> PortalStore::Scanners(int64_t from, int64_t to, uint64_t min_orgs,
                                                      size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  // Candidates: values more than one organisation reported, active in the window; then their
  // rows of the window (alliance_sightings_value).
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare("WITH c AS (SELECT v.id AS id, COUNT(*) AS n FROM alliance_values v JOIN "
                   "value_orgs o ON o.value_id = v.id WHERE v.orgs >= ?3 AND v.orgs >= 2 AND "
                   "o.last_day >= ?1 AND o.first_day <= ?2 GROUP BY v.id HAVING COUNT(*) >= ?3 "
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
  sql::QueryBudget budget(*db_, kRowQueryBudget);
  Status st = s.ForEachRow([&](const Statement& r) {
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
  });
  if (!st.ok()) return TooLarge(st, "This scanners question", "a higher min_orgs");
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
