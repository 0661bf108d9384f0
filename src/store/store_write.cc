// Writes of events and attributes: imports, event adds, edits, deletes and publishing, and
// attribute adds and deletes. Each public write is one transaction on the writer connection
// (internal::RunWrite), so it lands whole or not at all; docs/store-schema.md explains why a
// kill -9 cannot leave half of one behind. The rows themselves are written by
// internal::EventWriter (internal/event_writer.h); sightings are in store_sightings.cc, the
// audit log in store_audit.cc.
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/event_writer.h"
#include "store/internal/rows.h"
#include "store/internal/store_state.h"
#include "store/internal/uuid.h"
#include "store/internal/uuid_set.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::AttrRow;
using internal::Connection;
using internal::EventWriter;
using internal::KeyOf;
using internal::Statement;
using internal::UuidSet;

namespace {

Status SetMeta(Connection& c, std::string_view key, std::string_view value) {
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           c.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  stmt.BindText(1, key).BindText(2, value);
  return stmt.Run();
}

// Marks an event changed by an API edit: MISP unpublishes on attribute changes and bumps the
// event timestamp.
Status TouchEvent(Connection& c, int64_t event_id, int64_t now, bool unpublish) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      c.Prepare(unpublish ? "UPDATE events SET timestamp = ?2, published = 0 WHERE id = ?1"
                          : "UPDATE events SET timestamp = ?2 WHERE id = ?1"));
  stmt.Bind(1, event_id).Bind(2, now);
  return stmt.Run();
}

// Bulk loads into a (nearly) empty attributes table are faster when the secondary indexes are
// built once, by sorting, after the rows are in, than maintained row by row. The indexes are
// dropped and re-created from their own stored DDL inside the import's transaction, so a crash
// or an error rolls the drop back with everything else, and readers keep seeing the old schema
// and data until the commit. That includes the attributes_uuid UNIQUE index: meanwhile the
// writer detects repeated uuids with an in-memory set of every uuid in the table, and
// re-creating the index re-checks uniqueness.
//
// An import of new events only (a mirror's first sweep, a node filled event by event) takes
// this path while the table holds fewer than kBulkExistingFactor times the incoming rows:
// rebuilding the indexes over what is there costs less than inserting each row into random-keyed
// B-trees (uuid, value) larger than the page cache (BM_ImportIntoGrowingStore). Not when the
// import updates a stored event: its attributes are looked up by event, through an index that
// would be gone.
constexpr uint64_t kBulkThreshold = 50'000;
constexpr uint64_t kBulkExistingFactor = 4;

// Whether every event of an import is new: none is stored, none repeats another's uuid.
Result<bool> ImportsNewEventsOnly(EventWriter& writer, std::span<const core::Event> events) {
  std::unordered_set<std::string> uuids;
  for (const core::Event& event : events) {
    IOCGRID_ASSIGN_OR_RETURN(std::optional<std::string> uuid, writer.NewEventUuid(event));
    if (!uuid || !uuids.insert(std::move(*uuid)).second) return false;
  }
  return true;
}

// The dropped indexes' DDL (none when the import does not take the bulk path), and the rows the
// table held.
struct BulkLoad {
  std::vector<std::string> ddl;
  uint64_t existing = 0;
};

Result<BulkLoad> DropAttributeIndexesForBulkLoad(Connection& c, EventWriter& writer,
                                                 std::span<const core::Event> events,
                                                 uint64_t incoming) {
  BulkLoad bulk;
  if (incoming < kBulkThreshold) return bulk;
  IOCGRID_ASSIGN_OR_RETURN(int64_t existing,
                           c.QueryInt("SELECT coalesce(max(id), 0) FROM attributes"));
  bulk.existing = static_cast<uint64_t>(existing);
  if (bulk.existing >= kBulkExistingFactor * incoming) return bulk;
  if (bulk.existing >= incoming) {
    IOCGRID_ASSIGN_OR_RETURN(bool new_events_only, ImportsNewEventsOnly(writer, events));
    if (!new_events_only) return bulk;
  }
  std::vector<std::string> names;
  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.PrepareOnce("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND "
                      "tbl_name = 'attributes' AND sql IS NOT NULL ORDER BY name"));
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      names.emplace_back(stmt.Text(0));
      bulk.ddl.emplace_back(stmt.Text(1));
    }
  }
  for (const std::string& name : names) {
    // Index names come from our own schema, not from input.
    IOCGRID_RETURN_IF_ERROR(c.Exec("DROP INDEX \"" + name + "\""));
  }
  return bulk;
}

}  // namespace

Result<ImportStats> Store::ImportEvents(std::span<const core::Event> events,
                                        const ImportOptions& options) {
  ImportStats stats;
  uint64_t incoming = 0;
  for (const core::Event& event : events) incoming += event.attributes.size();
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    BulkLoad bulk;
    {
      EventWriter writer(c, *state_, options, &stats);
      IOCGRID_ASSIGN_OR_RETURN(bulk, DropAttributeIndexesForBulkLoad(c, writer, events, incoming));
      // Without the attributes_uuid index, repeats are found in memory: a hash set insert is
      // much cheaper than a random B-tree insert, and the index is rebuilt by one sort below.
      UuidSet bulk_uuids;
      if (!bulk.ddl.empty()) {
        bulk_uuids.reserve(bulk.existing + incoming + incoming / 8);
        IOCGRID_ASSIGN_OR_RETURN(Statement stmt, c.PrepareOnce("SELECT uuid FROM attributes"));
        while (true) {
          IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          bulk_uuids.insert(KeyOf(stmt.Text(0)));
        }
        writer.set_bulk_uuids(&bulk_uuids);
      }
      for (const core::Event& event : events) {
        Result<int64_t> id = writer.Write(event, internal::WriteMode::kImport, 0);
        if (!id.ok()) {
          return id.status().WithContext(event.source.empty() ? "import" : event.source);
        }
      }
    }
    for (const std::string& ddl : bulk.ddl) IOCGRID_RETURN_IF_ERROR(c.Exec(ddl));
    return SetMeta(c, "last_import", std::to_string(state_->options.clock.Now()));
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return stats;
}

Result<int64_t> Store::AddEvent(const core::Event& event, const ImportOptions& options) {
  ImportStats stats;
  int64_t id = 0;
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    EventWriter writer(c, *state_, options, &stats);
    IOCGRID_ASSIGN_OR_RETURN(id, writer.Write(event, internal::WriteMode::kAdd, 0));
    return Status::Ok();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return id;
}

Result<ImportStats> Store::EditEvent(std::string_view id_or_uuid, const core::Event& event,
                                     const ImportOptions& options) {
  ImportStats stats;
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "events", id_or_uuid));
    EventWriter writer(c, *state_, options, &stats);
    return writer.Write(event, internal::WriteMode::kEdit, id).status();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return stats;
}

Status Store::DeleteEvent(std::string_view id_or_uuid, bool hard) {
  const int64_t now = state_->options.clock.Now();
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "events", id_or_uuid));
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare(hard ? "DELETE FROM events WHERE id = ?1"
                       : "UPDATE events SET deleted = 1, timestamp = ?2 WHERE id = ?1"));
    stmt.Bind(1, id);
    if (!hard) stmt.Bind(2, now);
    return stmt.Run();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return Status::Ok();
}

Status Store::PublishEvent(std::string_view id_or_uuid) {
  const int64_t now = state_->options.clock.Now();
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "events", id_or_uuid));
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("UPDATE events SET published = 1, publish_timestamp = ?2 WHERE id = ?1"));
    stmt.Bind(1, id).Bind(2, now);
    return stmt.Run();
  });
}

Result<std::vector<int64_t>> Store::AddAttributes(std::string_view event_id_or_uuid,
                                                  std::span<const core::Attribute> attributes,
                                                  const AddAttributeOptions& options) {
  std::vector<int64_t> ids;
  ImportOptions import_options;
  import_options.delete_missing = false;
  ImportStats stats;
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t event_id, internal::ResolveRef(c, "events", event_id_or_uuid));
    {
      IOCGRID_ASSIGN_OR_RETURN(Statement live,
                               c.Prepare("SELECT deleted FROM events WHERE id = ?1"));
      live.Bind(1, event_id);
      IOCGRID_ASSIGN_OR_RETURN(bool row, live.Step());
      if (!row || live.Int(0) != 0) return NotFoundError("Invalid event.");
    }
    EventWriter writer(c, *state_, import_options, &stats);
    UuidSet seen;
    int64_t object_id = 0;
    std::string_view object_name;
    for (size_t i = 0; i < attributes.size(); ++i) {
      const core::Attribute& a = attributes[i];
      AttrRow row;
      FillRow(a, &row, nullptr);
      if (row.timestamp == 0) row.timestamp = writer.now();
      if (a.object_name.empty()) {
        object_id = 0;
      } else if (object_id == 0 || a.object_name != object_name ||
                 (i > 0 && attributes[i - 1].object_name.empty())) {
        object_name = a.object_name;
        IOCGRID_ASSIGN_OR_RETURN(object_id, writer.InsertObject(event_id, internal::RandomUuid(),
                                                                object_name, row.timestamp));
      }
      row.object_id = object_id;
      if (a.uuid.empty()) {
        row.uuid = internal::RandomUuid();
      } else {
        IOCGRID_ASSIGN_OR_RETURN(row.uuid, internal::CanonicalUuid(a.uuid));
      }
      if (!seen.insert(KeyOf(row.uuid)).second) {
        return AlreadyExistsError("attribute uuid " + row.uuid + " appears twice");
      }
      // MISP's uniqueness rule: same event, type, value and category. Looked up by value
      // (the unary + keeps SQLite off the event index, which it would otherwise pick without
      // statistics: a scan of the whole event per attribute added, 20,000 rows at 20,000).
      int64_t duplicate = 0;
      {
        IOCGRID_ASSIGN_OR_RETURN(
            Statement find,
            c.Prepare("SELECT id FROM attributes WHERE +event_id = ?1 AND type = ?2 AND "
                      "value1 = ?3 AND value2 IS ?4 AND category = ?5 AND deleted = 0 LIMIT 1"));
        find.Bind(1, event_id)
            .BindText(2, row.type)
            .BindText(3, row.value1)
            .BindTextOrNull(4, row.value2);
        find.BindText(5, row.category);
        IOCGRID_ASSIGN_OR_RETURN(bool row_found, find.Step());
        if (row_found) duplicate = find.Int(0);
      }
      if (duplicate != 0) {
        if (options.break_on_duplicate) {
          return AlreadyExistsError("A similar attribute already exists for this event.");
        }
        IOCGRID_RETURN_IF_ERROR(writer.UpdateAttribute(duplicate, row, row.timestamp, false));
        IOCGRID_RETURN_IF_ERROR(writer.LinkAttributeTags(duplicate, row.tags));
        ids.push_back(duplicate);
        continue;
      }
      IOCGRID_ASSIGN_OR_RETURN(int64_t id, writer.InsertAttribute(event_id, row, 5));
      ids.push_back(id);
    }
    return TouchEvent(c, event_id, writer.now(), /*unpublish=*/true);
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return ids;
}

Status Store::DeleteAttribute(std::string_view id_or_uuid, bool hard) {
  const int64_t now = state_->options.clock.Now();
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "attributes", id_or_uuid));
    int64_t event_id = 0;
    {
      IOCGRID_ASSIGN_OR_RETURN(Statement find,
                               c.Prepare("SELECT event_id FROM attributes WHERE id = ?1"));
      find.Bind(1, id);
      IOCGRID_ASSIGN_OR_RETURN(bool row, find.Step());
      if (row) event_id = find.Int(0);
    }
    {
      IOCGRID_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare(hard ? "DELETE FROM attributes WHERE id = ?1"
                         : "UPDATE attributes SET deleted = 1, timestamp = ?2 WHERE id = ?1"));
      stmt.Bind(1, id);
      if (!hard) stmt.Bind(2, now);
      IOCGRID_RETURN_IF_ERROR(stmt.Run());
    }
    return TouchEvent(c, event_id, now, /*unpublish=*/false);
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return Status::Ok();
}

}  // namespace iocgrid::store
