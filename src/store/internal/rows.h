// Column lists and row readers shared by the store's read and write paths, so each record type
// is read from SQL in exactly one place.
//
// Thread-safety: functions on a connection used by one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sqlite/connection.h"
#include "store/records.h"

namespace iocgrid::store::internal {

// The store names the shared SQLite layer's types as its own.
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Integers as a JSON array, bound as one parameter and read back with json_each: one statement
// for any number of ids.
template <typename Range>
std::string JsonNumberArray(const Range& numbers) {
  std::string out = "[";
  for (const auto& n : numbers) {
    if (out.size() > 1) out += ',';
    out += std::to_string(n);
  }
  return out + "]";
}

// SELECT list for AttributeRecord over `attributes a` (17 columns).
inline constexpr std::string_view kAttributeColumns =
    "a.id, a.uuid, a.event_id, a.object_id, a.object_relation, a.type, a.category, a.value1, "
    "a.value2, a.to_ids, a.distribution, a.comment, a.timestamp, a.first_seen, a.last_seen, "
    "a.deleted, a.import_sightings";
inline constexpr int kAttributeColumnCount = 17;

// SELECT list and FROM for EventInfo (without tags and with the live attribute count).
#define IOCGRID_STORE_EVENT_COLUMNS_                                                             \
  "SELECT e.id, e.uuid, e.info, e.date, e.org_id, e.orgc_id, o.name, o.uuid, oc.name, oc.uuid, " \
  "e.threat_level_id, e.analysis, e.distribution, e.published, e.timestamp, "                    \
  "e.publish_timestamp, e.deleted, e.source, "
#define IOCGRID_STORE_EVENT_FROM_                           \
  " FROM events e JOIN organisations o ON o.id = e.org_id " \
  "JOIN organisations oc ON oc.id = e.orgc_id"
// The last columns: the live attribute count and the newest sighting's time (MISP's
// sighting_timestamp, which a mirror compares: sightings leave the event timestamp alone).
inline constexpr std::string_view kEventSelect = IOCGRID_STORE_EVENT_COLUMNS_
    "(SELECT count(*) FROM attributes x WHERE x.event_id = e.id AND x.deleted = 0), "
    "(SELECT COALESCE(MAX(s.date_sighting), 0) FROM sightings s WHERE s.event_id = "
    "e.id)" IOCGRID_STORE_EVENT_FROM_;
// The same without the count and sighting time (they read 0): for attribute search rows.
inline constexpr std::string_view kEventSelectNoCount =
    IOCGRID_STORE_EVENT_COLUMNS_ "0, 0" IOCGRID_STORE_EVENT_FROM_;
#undef IOCGRID_STORE_EVENT_COLUMNS_
#undef IOCGRID_STORE_EVENT_FROM_

// Reads kAttributeColumns starting at column `first`.
AttributeRecord ReadAttribute(const Statement& stmt, int first);
// Reads a kEventSelect row.
EventInfo ReadEventInfo(const Statement& stmt);

// The rebuilt MISP value: value1, or value1|value2.
std::string JoinValue(std::string_view value1, std::string_view value2);

// Attaches tags to attributes (own tags; then, if asked, their events' tags as inherited).
Status AttachAttributeTags(Connection& connection, std::span<AttributeRecord> attributes,
                           bool include_event_tags);
// Attaches SightingCounts to attributes.
Status AttachSightings(Connection& connection, std::span<AttributeRecord> attributes);
// Attaches tags to events.
Status AttachEventTags(Connection& connection, std::span<EventInfo> events);
// Loads the events with these ids (sorted by id, tags attached). `with_count` fills
// attribute_count, which costs a scan of each event's attribute index entries.
Result<std::vector<EventInfo>> LoadEvents(Connection& connection, std::vector<int64_t> ids,
                                          bool with_count);

// Resolves an id-or-uuid reference to a row id of `table` ("events" or "attributes").
// Errors: kNotFound.
Result<int64_t> ResolveRef(Connection& connection, std::string_view table,
                           std::string_view id_or_uuid);

// SELECT list for Organisation over `organisations o` (5 columns) and its reader.
inline constexpr std::string_view kOrgColumns = "o.id, o.uuid, o.name, o.local, o.created";
Organisation ReadOrganisation(const Statement& stmt, int first);

// The id of the organisation named `name` (case-insensitive), inserting it when missing.
// REQUIRES: a write transaction on `connection`.
Result<int64_t> EnsureOrgId(Connection& connection, std::string_view name, int64_t now);

}  // namespace iocgrid::store::internal
