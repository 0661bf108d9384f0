// The index change log (issue 14; docs/index.md "Live writes"): runs of attribute ids whose
// indexed form changed, from the writer's inserts (LogInsertedRuns, at commit) and the schema's
// triggers (schema.cc, version 5); a serving node reads the changes after its index's sequence
// number to build a delta, and trims what its kept index covers.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::ReaderLease;
using internal::Statement;

namespace {

constexpr const char* kTrimmedKey = "index_changes_trimmed";

}  // namespace

namespace internal {

Status LogInsertedRuns(StoreState& state, Connection& c) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement insert, c.Prepare("INSERT INTO index_changes (first_id, last_id) VALUES (?1, ?2)"));
  for (const auto& [first, last] : state.inserted_runs) {
    insert.Bind(1, first).Bind(2, last);
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    insert.Reset();
  }
  state.inserted_runs.clear();
  return Status::Ok();
}

}  // namespace internal

Result<int64_t> Store::IndexChangeHighWater() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  // sqlite_sequence holds the highest number AUTOINCREMENT has given, even once the rows are
  // trimmed; it has no row before the first change.
  return reader->QueryInt(
      "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'index_changes'), 0)");
}

Result<IndexChanges> Store::ReadIndexChanges(int64_t after_seq, size_t limit) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IndexChanges out;
  out.upto = after_seq;
  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement trimmed,
        reader->Prepare("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1"));
    trimmed.BindText(1, kTrimmedKey);
    IOCGRID_ASSIGN_OR_RETURN(bool row, trimmed.Step());
    if (row && trimmed.Int(0) > after_seq) {
      out.gap = true;
      return out;
    }
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           reader->Prepare("SELECT seq, first_id, last_id FROM index_changes "
                                           "WHERE seq > ?1 ORDER BY seq"));
  stmt.Bind(1, after_seq);
  // A change is a run of ids; `limit` counts ids, and a change is taken whole or not at all.
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const int64_t first = stmt.Int(1);
    const int64_t last = stmt.Int(2);
    const uint64_t ids = static_cast<uint64_t>(last) - static_cast<uint64_t>(first) + 1;
    if (last < first || ids > limit - out.attribute_ids.size()) {
      out.overflow = true;
      break;
    }
    for (int64_t id = first; id <= last; ++id) out.attribute_ids.push_back(id);
    out.upto = stmt.Int(0);
  }
  std::sort(out.attribute_ids.begin(), out.attribute_ids.end());
  out.attribute_ids.erase(std::unique(out.attribute_ids.begin(), out.attribute_ids.end()),
                          out.attribute_ids.end());
  return out;
}

Status Store::TrimIndexChanges(int64_t upto) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(Statement del, c.Prepare("DELETE FROM index_changes WHERE seq <= ?1"));
    del.Bind(1, upto);
    IOCGRID_RETURN_IF_ERROR(del.Run());
    IOCGRID_ASSIGN_OR_RETURN(
        Statement meta,
        c.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE "
                  "SET value = CAST(MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) "
                  "AS TEXT)"));
    meta.BindText(1, kTrimmedKey).BindText(2, std::to_string(upto));
    return meta.Run();
  });
}

}  // namespace iocgrid::store
