// PortalStore's alliance sightings (issue 12; docs/trends.md): the rows organisations reported
// and the per-day aggregates the trends endpoints read, kept in step in one transaction per
// batch. The schema is migration 7 in portal_store.cc.
//
// Why aggregates: a trends answer must not scan every sighting of the window. sector_daily
// holds, per day, sector, type and class, the distinct observables and the sighting counts;
// sector_orgs which organisations contributed to each of those cells (for k-anonymity);
// value_orgs the first and last day each organisation saw each observable (for scanners);
// alliance_values.orgs how many organisations ever saw it, so that scanners start from the
// observables most organisations reported; and sector_sketches the distinct observables of each
// sector_daily cell as a mergeable sketch, for buckets of several days.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "portal/internal/distinct_sketch.h"
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
    // One row per observable and day (DayRows), with its value's id once known.
    "CREATE TEMP TABLE IF NOT EXISTS batch_in(type TEXT NOT NULL, value TEXT NOT NULL, "
    "members TEXT, class TEXT NOT NULL, day BIGINT NOT NULL, count BIGINT NOT NULL, "
    "alerted BIGINT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, "
    "value_id BIGINT);"
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

// "INSERT INTO table VALUES(?, ...), ..." for `rows` rows of `columns` values (`table` may
// name its columns).
std::string MultiRowInsert(std::string_view table, int columns, size_t rows) {
  std::string row = "(?";
  for (int c = 1; c < columns; ++c) row += ", ?";
  row += ")";
  std::string sql = "INSERT INTO " + std::string(table) + " VALUES" + row;
  for (size_t r = 1; r < rows; ++r) sql += ", " + row;
  return sql;
}

// The batch per observable and day, as it is folded in: the smallest class name, counts summed
// (capped as Signed caps one), first and last seen widened. A value's members list comes from
// its last seen sighting (the later in the batch on a tie), staged on that sighting's row only,
// so that one row per value updates alliance_values (PostgreSQL refuses an upsert that touches
// a row twice). Reports repeat observables (one line per event), so this is what the SQL works
// on: fewer rows, and no GROUP BY.
struct DayRow {
  const AllianceSighting* first = nullptr;  // type, value and day
  std::string_view cls;
  uint64_t count = 0, alerted = 0;
  int64_t first_seen = 0, last_seen = 0;
  const AllianceSighting* members = nullptr;  // whose members this row stages, if any
};

std::vector<DayRow> DayRows(const std::vector<AllianceSighting>& sightings) {
  constexpr uint64_t kCap = uint64_t{1} << 62;
  std::unordered_map<std::string, size_t> at;  // type NUL value NUL day -> row
  struct Latest {
    const AllianceSighting* sighting;
    size_t row;
  };
  std::unordered_map<std::string, Latest> latest;  // type NUL value -> its last seen sighting
  at.reserve(sightings.size());
  latest.reserve(sightings.size());
  std::vector<DayRow> rows;
  for (const AllianceSighting& s : sightings) {
    std::string value_key = s.type + '\0' + s.value;
    auto [it, added] = at.try_emplace(value_key + '\0' + std::to_string(s.day), rows.size());
    if (added) {
      rows.push_back({&s, s.cls, 0, 0, s.first_seen, s.last_seen, nullptr});
    }
    DayRow& r = rows[it->second];
    r.cls = std::min(r.cls, std::string_view(s.cls));
    r.count = std::min(kCap, r.count + std::min(kCap, s.count));
    r.alerted = std::min(kCap, r.alerted + std::min(kCap, s.alerted));
    r.first_seen = std::min(r.first_seen, s.first_seen);
    r.last_seen = std::max(r.last_seen, s.last_seen);
    auto [last, first] = latest.try_emplace(std::move(value_key), Latest{&s, it->second});
    if (!first && last->second.sighting->last_seen <= s.last_seen) last->second = {&s, it->second};
  }
  for (const auto& [key, l] : latest) rows[l.row].members = l.sighting;
  return rows;
}

Status StageBatch(Database& db, const std::vector<AllianceSighting>& sightings) {
  IOCGRID_RETURN_IF_ERROR(db.Exec(kBatchTables));
  const std::vector<DayRow> day_rows = DayRows(sightings);
  // kRows rows a statement (a round trip each on a server), then the rest one by one: two
  // statement texts, prepared once.
  constexpr size_t kRows = 64;
  constexpr int kColumns = 9;
  const std::string columns =
      "batch_in(type, value, members, class, day, count, alerted, first_seen, last_seen)";
  for (size_t start = 0; start < day_rows.size();) {
    const size_t rows = day_rows.size() - start >= kRows ? kRows : 1;
    IOCGRID_ASSIGN_OR_RETURN(Statement in, db.Prepare(MultiRowInsert(columns, kColumns, rows)));
    for (size_t r = 0; r < rows; ++r) {
      const DayRow& d = day_rows[start + r];
      const int at = static_cast<int>(r) * kColumns;
      in.BindText(at + 1, d.first->type).BindText(at + 2, d.first->value);
      if (d.members != nullptr) {
        in.BindText(at + 3, nlohmann::json(d.members->members).dump());
      } else {
        in.BindNull(at + 3);
      }
      in.BindText(at + 4, d.cls).Bind(at + 5, d.first->day).Bind(at + 6, Signed(d.count));
      in.Bind(at + 7, Signed(d.alerted)).Bind(at + 8, d.first_seen).Bind(at + 9, d.last_seen);
    }
    IOCGRID_RETURN_IF_ERROR(in.Run());
    start += rows;
  }
  for (const AllianceSighting& s : sightings) {
    for (const std::string& actor : s.actors) {
      IOCGRID_ASSIGN_OR_RETURN(Statement a,
                               db.Prepare("INSERT INTO batch_actors VALUES(?, ?, ?, ?, ?)"));
      a.BindText(1, actor).BindText(2, s.type).BindText(3, s.value).Bind(4, s.day);
      a.Bind(5, Signed(s.count));
      IOCGRID_RETURN_IF_ERROR(a.Run());
    }
  }
  // Each value looked up once: the ids of those already known, then the new values (with the
  // members chosen) and their ids, then the members of known values where they changed, then
  // the rows with their ids.
  return db.Exec(
      "UPDATE batch_in SET value_id = (SELECT v.id FROM alliance_values v WHERE v.type = "
      "batch_in.type AND v.value = batch_in.value);"
      "INSERT INTO alliance_values(type, value, members) SELECT type, value, max(members) FROM "
      "batch_in WHERE value_id IS NULL GROUP BY type, value;"
      "UPDATE batch_in SET value_id = (SELECT v.id FROM alliance_values v WHERE v.type = "
      "batch_in.type AND v.value = batch_in.value) WHERE value_id IS NULL;"
      "UPDATE alliance_values SET members = b.members FROM batch_in b WHERE b.members IS NOT NULL "
      "AND alliance_values.id = b.value_id AND alliance_values.members <> b.members;"
      "INSERT INTO batch_rows(value_id, day, type, class, count, alerted, first_seen, last_seen) "
      "SELECT value_id, day, type, class, count, alerted, first_seen, last_seen FROM batch_in;");
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

using internal::DistinctSketch;
using SketchKey = std::tuple<int64_t, std::string, std::string, std::string>;  // day ... class

// Merges `cells` into the stored sketches of the same cells (read, merged, written back).
Status AddToSketches(Database& db, const std::map<SketchKey, DistinctSketch>& cells) {
  for (const auto& [key, added] : cells) {
    const auto& [day, sector, type, cls] = key;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement read, db.Prepare("SELECT sketch FROM sector_sketches WHERE day = ? AND sector = "
                                   "? AND type = ? AND class = ?"));
    read.Bind(1, day).BindText(2, sector).BindText(3, type).BindText(4, cls);
    DistinctSketch sketch;
    IOCGRID_ASSIGN_OR_RETURN(bool found, read.Step());
    if (found) {
      auto blob = read.Blob(0);
      IOCGRID_ASSIGN_OR_RETURN(
          sketch,
          DistinctSketch::Decode({reinterpret_cast<const char*>(blob.data()), blob.size()}));
    }
    IOCGRID_RETURN_IF_ERROR(read.Run());  // finishes the statement
    sketch.Merge(added);
    const std::string bytes = sketch.Encode();
    IOCGRID_ASSIGN_OR_RETURN(
        Statement write,
        db.Prepare("INSERT INTO sector_sketches(day, sector, type, class, sketch) VALUES(?, ?, ?, "
                   "?, ?) ON CONFLICT(day, sector, type, class) DO UPDATE SET sketch = "
                   "excluded.sketch"));
    write.Bind(1, day).BindText(2, sector).BindText(3, type).BindText(4, cls);
    write.BindBlob(5, {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
    IOCGRID_RETURN_IF_ERROR(write.Run());
  }
  return Status::Ok();
}

// The staged rows new to their cell (an organisation's existing row of the day is in its cell's
// sketch already) into the sketches.
Status SketchBatch(Database& db, const std::string& sector) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT b.day, b.type, b.class, v.type, v.value FROM batch_rows b "
                              "JOIN alliance_values v ON v.id = b.value_id WHERE b.old_sector IS "
                              "NULL"));
  std::map<SketchKey, DistinctSketch> cells;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    cells[{r.Int(0), sector, std::string(r.Text(1)), std::string(r.Text(2))}].Add(
        DistinctSketch::Hash(r.Text(3), r.Text(4)));
  }));
  return AddToSketches(db, cells);
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
      db.Prepare("INSERT INTO value_orgs(value_id, org, first_day, last_day, shared) SELECT "
                 "b.value_id, ?1, min(b.day), max(b.day), max(CASE WHEN v.orgs >= 2 THEN 1 ELSE 0 "
                 "END) FROM batch_rows b JOIN alliance_values v ON v.id = b.value_id GROUP BY "
                 "b.value_id ON CONFLICT(value_id, org) DO UPDATE SET first_day = CASE WHEN "
                 "excluded.first_day < value_orgs.first_day THEN excluded.first_day ELSE "
                 "value_orgs.first_day END, last_day = CASE WHEN excluded.last_day > "
                 "value_orgs.last_day THEN excluded.last_day ELSE value_orgs.last_day END"));
  spans.BindText(1, org);
  IOCGRID_RETURN_IF_ERROR(spans.Run());
  // A new span is shared when its value has two organisations now (a span already there was
  // marked when its value reached two). A value this organisation is the second to see: the
  // first one's span joins the index too.
  // (CROSS JOIN: from the batch's rows, not from every value two organisations saw.)
  IOCGRID_RETURN_IF_ERROR(
      db.Exec("UPDATE value_orgs SET shared = 1 WHERE shared = 0 AND value_id IN (SELECT v.id "
              "FROM batch_rows b CROSS JOIN alliance_values v WHERE v.id = b.value_id AND v.orgs "
              "= 2)"));
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

// Distinct observables per bucket: the union of the bucket's day sketches per cell.
Result<std::vector<SectorDistinctRow>> SectorDistinctRows(Database& db, int64_t from, int64_t to,
                                                          int64_t bucket_days) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT day, sector, type, class, sketch FROM sector_sketches WHERE "
                              "day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  const int64_t bucket = std::max<int64_t>(bucket_days, 1);
  std::map<SketchKey, DistinctSketch> merged;  // (bucket, sector, type, class)
  sql::QueryBudget budget(db, kRowQueryBudget);
  Status st = s.ForEachRow([&](const Statement& r) -> Status {
    auto blob = r.Blob(4);
    IOCGRID_ASSIGN_OR_RETURN(
        DistinctSketch day,
        DistinctSketch::Decode({reinterpret_cast<const char*>(blob.data()), blob.size()}));
    merged[{(r.Int(0) - from) / bucket, std::string(r.Text(1)), std::string(r.Text(2)),
            std::string(r.Text(3))}]
        .Merge(day);
    return Status::Ok();
  });
  if (!st.ok())
    return TooLarge(st, "Buckets of several days", "bucket=1d (answered from the per-day totals)");
  std::vector<SectorDistinctRow> out;
  out.reserve(merged.size());
  for (const auto& [key, sketch] : merged) {
    const auto& [index, sector, type, cls] = key;
    out.push_back({index, sector, type, cls, sketch.Count()});
  }
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
  IOCGRID_RETURN_IF_ERROR(SketchBatch(*db_, sector));
  IOCGRID_RETURN_IF_ERROR(FoldBatch(*db_, org, sector));
  return tx.Commit();
}

Status PortalStore::BuildSketchesIfMissing() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(
      int64_t missing,
      db_->QueryInt("SELECT CASE WHEN EXISTS (SELECT 1 FROM alliance_sightings) AND NOT EXISTS "
                    "(SELECT 1 FROM sector_sketches) THEN 1 ELSE 0 END"));
  if (missing == 0) return Status::Ok();
  // Each row is in the cell it was counted in (its own sector, type and class).
  IOCGRID_ASSIGN_OR_RETURN(
      Statement rows, db_->Prepare("SELECT a.day, a.sector, a.type, a.class, v.type, v.value FROM "
                                   "alliance_sightings a JOIN alliance_values v ON v.id = "
                                   "a.value_id"));
  std::map<SketchKey, DistinctSketch> cells;
  IOCGRID_RETURN_IF_ERROR(rows.ForEachRow([&](const Statement& r) {
    cells[{r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3))}].Add(
        DistinctSketch::Hash(r.Text(4), r.Text(5)));
  }));
  IOCGRID_RETURN_IF_ERROR(AddToSketches(*db_, cells));
  return tx.Commit();
}

Result<uint64_t> PortalStore::PurgeAllianceSightings(int64_t first_kept_day) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  uint64_t deleted = 0;
  for (std::string_view table :
       {"alliance_sightings", "sector_daily", "sector_orgs", "sector_sketches", "actor_daily"}) {
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
                "DELETE FROM alliance_values WHERE orgs = 0;"
                "UPDATE value_orgs SET shared = 1 WHERE value_id IN (SELECT id FROM "
                "alliance_values WHERE orgs >= 2);"));
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

namespace {

// A scanner candidate: `n` organisations saw it within the window (their first-to-last day
// spans meet it), `orgs` within the retention.
struct Ranked {
  int64_t id = 0, orgs = 0, n = 0;
};

// Answer order: most organisations in the window, then overall, then the oldest value.
bool RanksBefore(const Ranked& a, const Ranked& b) {
  return std::tie(b.n, b.orgs, a.id) < std::tie(a.n, a.orgs, b.id);
}

// The `limit` values most organisations saw within [from, to], best first. Values come in
// order of alliance_values.orgs (alliance_values_rank), which bounds their count in any window
// from above; a page at a time, each with its window count from value_orgs, until no value
// left can rank above the last one kept (threshold algorithm): a question about the head of the
// alliance reads a few pages, not every value more than one organisation saw.
Result<std::vector<Ranked>> RankScanners(Database& db, int64_t from, int64_t to, int64_t min_orgs,
                                         size_t limit) {
  constexpr int64_t kPage = 256;
  // The window count reads value_orgs_recent from the window's first day on (INDEXED BY: the
  // planner without statistics takes the primary key and reads every organisation's span). A
  // value with orgs >= 2 has every span shared.
  const std::string page_sql =
      std::string("SELECT c.id, c.orgs, (SELECT COUNT(*) FROM value_orgs o ") +
      (db.dialect() == sql::Dialect::kSqlite ? "INDEXED BY value_orgs_recent " : "") +
      "WHERE o.value_id = c.id AND o.shared = 1 AND o.last_day >= ?1 AND o.first_day <= ?2) "
      "FROM (SELECT id, orgs "
      "FROM alliance_values WHERE orgs >= 2 AND orgs >= ?3 AND (orgs < ?4 OR (orgs = ?4 AND id > "
      "?5)) ORDER BY orgs DESC, id LIMIT ?6) c ORDER BY c.orgs DESC, c.id";
  std::vector<Ranked> best;  // sorted by RanksBefore, at most `limit`
  Ranked last{-1, std::numeric_limits<int64_t>::max(), 0};
  for (bool more = true; more;) {
    IOCGRID_ASSIGN_OR_RETURN(Statement page, db.Prepare(page_sql));
    page.Bind(1, from).Bind(2, to).Bind(3, min_orgs).Bind(4, last.orgs).Bind(5, last.id);
    page.Bind(6, kPage);
    int64_t rows = 0;
    IOCGRID_RETURN_IF_ERROR(page.ForEachRow([&](const Statement& r) {
      ++rows;
      last = {r.Int(0), r.Int(1), r.Int(2)};
      // Every value from here on has orgs <= last.orgs, so at best n = orgs = last.orgs, which
      // ranks after a kept value of that n (more or as many organisations overall, smaller id).
      if (best.size() == limit && last.orgs <= best.back().n) more = false;
      if (!more || last.n < min_orgs) return;
      best.insert(std::upper_bound(best.begin(), best.end(), last, RanksBefore), last);
      if (best.size() > limit) best.pop_back();
    }));
    if (rows < kPage) more = false;
  }
  return best;
}

}  // namespace

Result<std::vector<ScannerRow>> PortalStore::Scanners(int64_t from, int64_t to, uint64_t min_orgs,
                                                      size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::QueryBudget budget(*db_, kRowQueryBudget);
  auto ranked = RankScanners(*db_, from, to, Signed(min_orgs), limit);
  if (!ranked.ok()) return TooLarge(ranked.status(), "This scanners question", "a higher min_orgs");
  // The chosen values' rows of the window (alliance_sightings_value), kParts ids a statement.
  constexpr size_t kParts = 32;
  std::string sql =
      "SELECT v.id, v.value, v.type, v.members, a.org, a.sector, a.class, a.first_seen, "
      "a.last_seen, a.count, a.alerted FROM alliance_values v JOIN alliance_sightings a ON "
      "a.value_id = v.id AND a.day BETWEEN ?1 AND ?2 WHERE v.id IN (?3";
  for (size_t i = 1; i < kParts; ++i) sql += ", ?" + std::to_string(i + 3);
  sql += ")";
  std::vector<ScannerRow> out(ranked->size());
  std::unordered_map<int64_t, size_t> slot;  // value id -> index in out
  for (size_t i = 0; i < ranked->size(); ++i) slot[(*ranked)[i].id] = i;
  auto add = [](std::vector<std::string>* set, std::string_view v) {
    if (std::find(set->begin(), set->end(), v) == set->end()) set->emplace_back(v);
  };
  for (size_t start = 0; start < ranked->size(); start += kParts) {
    IOCGRID_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    s.Bind(1, from).Bind(2, to);
    for (size_t i = 0; i < kParts; ++i) {
      const size_t at = start + i;
      s.Bind(static_cast<int>(i + 3), at < ranked->size() ? (*ranked)[at].id : -1);
    }
    Status st = s.ForEachRow([&](const Statement& r) {
      ScannerRow& row = out[slot.at(r.Int(0))];
      if (row.value.empty()) {
        row.value = std::string(r.Text(1));
        row.type = std::string(r.Text(2));
        row.members = std::string(r.Text(3));
        row.first_seen = r.Int(7);
      }
      add(&row.orgs, r.Text(4));
      add(&row.sectors, r.Text(5));
      add(&row.classes, r.Text(6));
      row.first_seen = std::min(row.first_seen, r.Int(7));
      row.last_seen = std::max(row.last_seen, r.Int(8));
      row.sightings += static_cast<uint64_t>(r.Int(9));
      row.alerted += static_cast<uint64_t>(r.Int(10));
    });
    if (!st.ok()) return TooLarge(st, "This scanners question", "a higher min_orgs");
  }
  // value_orgs counts spans of days: the window's rows may hold fewer organisations at its
  // edges.
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
