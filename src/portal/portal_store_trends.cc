// PortalStore's trends questions over the alliance sightings (issue 12; docs/trends.md): the
// per-day aggregates, the day sketches, scanners and actors. RecordAllianceSightings
// (portal_store_ingest.cc) keeps the rows and the aggregates in step, one transaction per
// batch; the schema is in portal_store_schema.cc.
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
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "portal/internal/distinct_sketch.h"
#include "portal/internal/store_select.h"
#include "portal/portal_store.h"
#include "sql/database.h"

namespace iocgrid::portal {

using internal::Params;
using internal::Signed;
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

using internal::DistinctSketch;
using SketchKey = std::tuple<int64_t, std::string, std::string, std::string>;  // day ... class

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

Result<std::vector<SectorDayRow>> PortalStore::SectorDays(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
  return SectorDaysRows(*db_, from, to);
}

Result<std::vector<SectorOrgRow>> PortalStore::SectorOrgs(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
  return SectorOrgsRows(*db_, from, to);
}

Result<std::vector<SectorDistinctRow>> PortalStore::SectorDistinct(int64_t from, int64_t to,
                                                                   int64_t bucket_days) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
  return SectorDistinctRows(*db_, from, to, bucket_days);
}

Result<SectorTrendData> PortalStore::SectorTrendRows(int64_t days_from, int64_t from, int64_t to,
                                                     int64_t bucket_days) {
  // One snapshot, so that numbers and contributors agree: the mutex keeps this instance's
  // writers out, the transaction another instance's (on PostgreSQL).
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
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
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
  sql::QueryBudget budget(*db_, kRowQueryBudget);
  auto ranked = RankScanners(*db_, from, to, Signed(min_orgs), limit);
  if (!ranked.ok()) return TooLarge(ranked.status(), "This scanners question", "a higher min_orgs");
  // The chosen values' rows of the window (alliance_sightings_shared: every row of a value two
  // organisations saw is shared), kParts ids a statement.
  constexpr size_t kParts = 32;
  const bool sqlite = db_->dialect() == sql::Dialect::kSqlite;
  std::string sql =
      "SELECT v.id, v.value, v.type, v.members, a.org, a.sector, a.class, a.first_seen, "
      "a.last_seen, a.count, a.alerted FROM alliance_values v JOIN alliance_sightings a " +
      std::string(sqlite ? "INDEXED BY alliance_sightings_shared " : "") +
      "ON a.value_id = v.id AND a.shared = 1 AND a.day BETWEEN ?1 AND ?2 WHERE v.id IN (" +
      Params(3, kParts) + ")";
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
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
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
