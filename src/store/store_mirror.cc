// The store's side of a MISP mirror (issue 14; docs/mirror.md): the source timestamp of every
// mirrored event and the mirror's state row. node/mirror.cc fetches and decides; events
// themselves are written by ImportEvents and DeleteEvent like any other.
#include <span>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::ReaderLease;
using internal::Statement;

Result<std::vector<MirroredVersion>> Store::MirroredEventVersions(
    std::span<const std::string> uuids) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  std::vector<MirroredVersion> out;
  out.reserve(uuids.size());
  for (const std::string& uuid : uuids) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        reader->Prepare("SELECT timestamp, sighting_timestamp FROM mirror_events WHERE uuid = ?1"));
    stmt.BindText(1, uuid);
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    out.push_back(row ? MirroredVersion{stmt.Int(0), stmt.Int(1)} : MirroredVersion{});
  }
  return out;
}

Status Store::RecordMirroredEvents(std::span<const MirroredEventRecord> records) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    for (const MirroredEventRecord& r : records) {
      IOCGRID_ASSIGN_OR_RETURN(
          Statement upsert,
          c.Prepare("INSERT INTO mirror_events (uuid, timestamp, sighting_timestamp, kept) VALUES "
                    "(?1, ?2, ?3, ?4) ON CONFLICT (uuid) DO UPDATE SET timestamp = "
                    "excluded.timestamp, sighting_timestamp = excluded.sighting_timestamp, kept = "
                    "excluded.kept"));
      upsert.BindText(1, r.uuid)
          .Bind(2, r.version.timestamp)
          .Bind(3, r.version.sighting_timestamp)
          .Bind(4, r.kept ? 1 : 0);
      IOCGRID_RETURN_IF_ERROR(upsert.Run());
    }
    return Status();
  });
}

Status Store::ForgetMirroredEvent(std::string_view uuid) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(Statement del, c.Prepare("DELETE FROM mirror_events WHERE uuid = ?1"));
    del.BindText(1, uuid);
    return del.Run();
  });
}

Result<std::vector<std::string>> Store::MirroredEventUuids() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           reader->Prepare("SELECT uuid FROM mirror_events ORDER BY uuid"));
  std::vector<std::string> out;
  IOCGRID_RETURN_IF_ERROR(
      stmt.ForEachRow([&](const Statement& row) { out.emplace_back(row.Text(0)); }));
  return out;
}

Result<MirrorState> Store::GetMirrorState() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  MirrorState s;
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT source, since, last_attempt, last_success, last_full, error FROM "
                      "mirror_state WHERE id = 1"));
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row) {
    s.source = std::string(stmt.Text(0));
    s.since = stmt.Int(1);
    s.last_attempt = stmt.Int(2);
    s.last_success = stmt.Int(3);
    s.last_full = stmt.Int(4);
    s.error = std::string(stmt.Text(5));
  }
  stmt.Reset();
  IOCGRID_ASSIGN_OR_RETURN(
      Statement counts, reader->Prepare("SELECT kept, COUNT(*) FROM mirror_events GROUP BY kept"));
  IOCGRID_RETURN_IF_ERROR(counts.ForEachRow([&](const Statement& r) {
    (r.Int(0) != 0 ? s.events : s.filtered) = static_cast<uint64_t>(r.Int(1));
  }));
  return s;
}

Status Store::SetMirrorState(const MirrorState& s) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement upsert,
        c.Prepare("INSERT INTO mirror_state (id, source, since, last_attempt, last_success, "
                  "last_full, error) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO "
                  "UPDATE SET source = excluded.source, since = excluded.since, last_attempt = "
                  "excluded.last_attempt, last_success = excluded.last_success, last_full = "
                  "excluded.last_full, error = excluded.error"));
    upsert.BindText(1, s.source)
        .Bind(2, s.since)
        .Bind(3, s.last_attempt)
        .Bind(4, s.last_success)
        .Bind(5, s.last_full)
        .BindText(6, s.error);
    return upsert.Run();
  });
}

}  // namespace iocgrid::store
