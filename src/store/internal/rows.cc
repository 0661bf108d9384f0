#include "store/internal/rows.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/indicator_type.h"
#include "store/internal/query_builder.h"
#include "store/internal/uuid.h"
#include "store/number.h"

namespace iocgrid::store::internal {
namespace {

std::vector<int64_t> DistinctEventIds(std::span<const AttributeRecord> attributes) {
  std::vector<int64_t> ids;
  ids.reserve(attributes.size());
  for (const AttributeRecord& a : attributes) ids.push_back(a.event_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Above this many attributes, tags are fetched per event rather than per attribute id, so a
// whole large event costs one indexed scan instead of a huge id list.
constexpr size_t kPerEventThreshold = 4096;

Tag ReadTag(const Statement& stmt, int first) {
  Tag tag;
  tag.id = stmt.Int(first);
  tag.name = std::string(stmt.Text(first + 1));
  tag.colour = std::string(stmt.Text(first + 2));
  tag.exportable = stmt.Int(first + 3) != 0;
  tag.local = stmt.Int(first + 4) != 0;
  return tag;
}

}  // namespace

std::string JoinValue(std::string_view value1, std::string_view value2) {
  std::string value(value1);
  if (!value2.empty()) {
    value += '|';
    value += value2;
  }
  return value;
}

AttributeRecord ReadAttribute(const Statement& stmt, int first) {
  AttributeRecord a;
  int c = first;
  a.id = stmt.Int(c++);
  a.uuid = std::string(stmt.Text(c++));
  a.event_id = stmt.Int(c++);
  a.object_id = stmt.IsNull(c) ? 0 : stmt.Int(c);
  ++c;
  a.object_relation = std::string(stmt.Text(c++));
  a.type = core::TypeFromName(stmt.Text(c++)).value_or(core::IndicatorType::kOther);
  a.category = std::string(stmt.Text(c++));
  a.value1 = std::string(stmt.Text(c++));
  a.value2 = std::string(stmt.Text(c++));
  a.value = JoinValue(a.value1, a.value2);
  a.to_ids = stmt.Int(c++) != 0;
  a.distribution = static_cast<int>(stmt.Int(c++));
  a.comment = std::string(stmt.Text(c++));
  a.timestamp = stmt.Int(c++);
  if (!stmt.IsNull(c)) a.first_seen_us = stmt.Int(c);
  ++c;
  if (!stmt.IsNull(c)) a.last_seen_us = stmt.Int(c);
  ++c;
  a.deleted = stmt.Int(c++) != 0;
  a.import_sightings = static_cast<uint32_t>(stmt.Int(c++));
  return a;
}

EventInfo ReadEventInfo(const Statement& stmt) {
  EventInfo e;
  int c = 0;
  e.id = stmt.Int(c++);
  e.uuid = std::string(stmt.Text(c++));
  e.info = std::string(stmt.Text(c++));
  e.date = std::string(stmt.Text(c++));
  e.org_id = stmt.Int(c++);
  e.orgc_id = stmt.Int(c++);
  e.org_name = std::string(stmt.Text(c++));
  e.org_uuid = std::string(stmt.Text(c++));
  e.orgc_name = std::string(stmt.Text(c++));
  e.orgc_uuid = std::string(stmt.Text(c++));
  e.threat_level_id = static_cast<int>(stmt.Int(c++));
  e.analysis = static_cast<int>(stmt.Int(c++));
  e.distribution = static_cast<int>(stmt.Int(c++));
  e.published = stmt.Int(c++) != 0;
  e.timestamp = stmt.Int(c++);
  e.publish_timestamp = stmt.Int(c++);
  e.deleted = stmt.Int(c++) != 0;
  e.source = std::string(stmt.Text(c++));
  e.attribute_count = stmt.Int(c++);
  e.sighting_timestamp = stmt.Int(c++);
  return e;
}

Status AttachAttributeTags(Connection& connection, std::span<AttributeRecord> attributes,
                           bool include_event_tags) {
  if (attributes.empty()) return Status::Ok();
  std::unordered_map<int64_t, size_t> index;
  index.reserve(attributes.size());
  std::vector<int64_t> ids;
  ids.reserve(attributes.size());
  for (size_t i = 0; i < attributes.size(); ++i) {
    index.emplace(attributes[i].id, i);
    ids.push_back(attributes[i].id);
  }
  const std::vector<int64_t> event_ids = DistinctEventIds(attributes);
  const bool per_event = attributes.size() > kPerEventThreshold;
  const std::string sql =
      per_event ? "SELECT at.attribute_id, t.id, t.name, t.colour, t.exportable, at.local "
                  "FROM attributes a JOIN attribute_tags at ON at.attribute_id = a.id "
                  "JOIN tags t ON t.id = at.tag_id "
                  "WHERE a.event_id IN (SELECT value FROM json_each(?1)) ORDER BY t.name"
                : "SELECT at.attribute_id, t.id, t.name, t.colour, t.exportable, at.local "
                  "FROM attribute_tags at JOIN tags t ON t.id = at.tag_id "
                  "WHERE at.attribute_id IN (SELECT value FROM json_each(?1)) ORDER BY t.name";
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
    stmt.BindText(1, JsonIntArray(per_event ? event_ids : ids));
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      auto it = index.find(stmt.Int(0));
      if (it != index.end()) attributes[it->second].tags.push_back(ReadTag(stmt, 1));
    }
  }
  if (!include_event_tags) return Status::Ok();
  std::vector<EventInfo> events(event_ids.size());
  for (size_t i = 0; i < event_ids.size(); ++i) events[i].id = event_ids[i];
  IOCGRID_RETURN_IF_ERROR(AttachEventTags(connection, events));
  for (AttributeRecord& a : attributes) {
    auto it = std::lower_bound(event_ids.begin(), event_ids.end(), a.event_id);
    for (const Tag& tag : events[static_cast<size_t>(it - event_ids.begin())].tags) {
      Tag inherited = tag;
      inherited.inherited = true;
      a.tags.push_back(std::move(inherited));
    }
  }
  return Status::Ok();
}

namespace {

// The most sightings listed inside one attribute (MISP lists them all; a hot attribute with
// millions would make one answer unbounded). The counts stay exact.
constexpr size_t kMaxListedSightings = 1000;

// Each attribute's `Sighting` list, with the sighting's organisation.
Status AttachSightingLists(Connection& connection, std::span<AttributeRecord> attributes,
                           const std::unordered_map<int64_t, size_t>& index,
                           const std::vector<int64_t>& ids) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      connection.Prepare("SELECT s.attribute_id, s.id, s.uuid, s.org_id, s.date_sighting, "
                         "s.source, s.type, COALESCE(o.name, ''), COALESCE(o.uuid, '') FROM "
                         "sightings s LEFT JOIN organisations o ON o.id = s.org_id WHERE "
                         "s.attribute_id IN (SELECT value FROM json_each(?1)) ORDER BY s.id"));
  stmt.BindText(1, JsonIntArray(ids));
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = index.find(stmt.Int(0));
    if (it == index.end()) continue;
    std::vector<AttributeSighting>& list = attributes[it->second].sighting_list;
    if (list.size() >= kMaxListedSightings) continue;
    AttributeSighting s;
    s.id = stmt.Int(1);
    s.uuid = std::string(stmt.Text(2));
    s.org_id = stmt.Int(3);
    s.date_sighting = stmt.Int(4);
    s.source = std::string(stmt.Text(5));
    s.type = static_cast<int>(stmt.Int(6));
    s.org_name = std::string(stmt.Text(7));
    s.org_uuid = std::string(stmt.Text(8));
    list.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

Status AttachSightings(Connection& connection, std::span<AttributeRecord> attributes) {
  if (attributes.empty()) return Status::Ok();
  std::unordered_map<int64_t, size_t> index;
  std::vector<int64_t> ids;
  for (size_t i = 0; i < attributes.size(); ++i) {
    index.emplace(attributes[i].id, i);
    ids.push_back(attributes[i].id);
    SightingCounts counts;
    counts.sightings = attributes[i].import_sightings;
    attributes[i].sightings = counts;
  }
  const bool per_event = attributes.size() > kPerEventThreshold;
  const std::string sql =
      per_event ? "SELECT attribute_id, type, count(*), max(date_sighting) FROM sightings "
                  "WHERE event_id IN (SELECT value FROM json_each(?1)) GROUP BY attribute_id, type"
                : "SELECT attribute_id, type, count(*), max(date_sighting) FROM sightings "
                  "WHERE attribute_id IN (SELECT value FROM json_each(?1)) "
                  "GROUP BY attribute_id, type";
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  stmt.BindText(1, JsonIntArray(per_event ? DistinctEventIds(attributes) : ids));
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = index.find(stmt.Int(0));
    if (it == index.end()) continue;
    SightingCounts& counts = *attributes[it->second].sightings;
    const auto count = static_cast<uint64_t>(stmt.Int(2));
    switch (stmt.Int(1)) {
      case 0:
        counts.sightings += count;
        break;
      case 1:
        counts.false_positives += count;
        break;
      default:
        counts.expirations += count;
        break;
    }
    counts.last_seen = std::max(counts.last_seen, stmt.Int(3));
  }
  return AttachSightingLists(connection, attributes, index, ids);
}

Status AttachEventTags(Connection& connection, std::span<EventInfo> events) {
  if (events.empty()) return Status::Ok();
  std::unordered_map<int64_t, size_t> index;
  std::vector<int64_t> ids;
  for (size_t i = 0; i < events.size(); ++i) {
    index.emplace(events[i].id, i);
    ids.push_back(events[i].id);
  }
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      connection.Prepare("SELECT et.event_id, t.id, t.name, t.colour, t.exportable, et.local "
                         "FROM event_tags et JOIN tags t ON t.id = et.tag_id "
                         "WHERE et.event_id IN (SELECT value FROM json_each(?1)) ORDER BY t.name"));
  stmt.BindText(1, JsonIntArray(ids));
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = index.find(stmt.Int(0));
    if (it != index.end()) events[it->second].tags.push_back(ReadTag(stmt, 1));
  }
  return Status::Ok();
}

Result<std::vector<EventInfo>> LoadEvents(Connection& connection, std::vector<int64_t> ids,
                                          bool with_count) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<EventInfo> events;
  if (ids.empty()) return events;
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      connection.Prepare(std::string(with_count ? kEventSelect : kEventSelectNoCount) +
                         " WHERE e.id IN (SELECT value FROM json_each(?1)) ORDER BY e.id"));
  stmt.BindText(1, JsonIntArray(ids));
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    events.push_back(ReadEventInfo(stmt));
  }
  IOCGRID_RETURN_IF_ERROR(AttachEventTags(connection, events));
  return events;
}

Result<int64_t> ResolveRef(Connection& connection, std::string_view table,
                           std::string_view id_or_uuid) {
  const std::optional<int64_t> id =
      id_or_uuid.size() <= 18 &&
              id_or_uuid.find_first_not_of("0123456789") == std::string_view::npos
          ? ParseDecimal<int64_t>(id_or_uuid)
          : std::nullopt;
  const bool numeric = id.has_value();
  std::string sql = "SELECT id FROM " + std::string(table) +
                    (numeric ? " WHERE id = ?1" : " WHERE uuid = lower(?1)");
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  if (numeric) {
    stmt.Bind(1, *id);
  } else {
    stmt.BindText(1, id_or_uuid);
  }
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  std::string what = table == "events" ? "event" : "attribute";
  if (!row)
    return NotFoundError(what + " '" + std::string(id_or_uuid.substr(0, 64)) + "' not found");
  return stmt.Int(0);
}

Organisation ReadOrganisation(const Statement& stmt, int first) {
  Organisation org;
  org.id = stmt.Int(first);
  org.uuid = std::string(stmt.Text(first + 1));
  org.name = std::string(stmt.Text(first + 2));
  org.local = stmt.Int(first + 3) != 0;
  org.created = stmt.Int(first + 4);
  return org;
}

Result<int64_t> EnsureOrgId(Connection& connection, std::string_view name, int64_t now) {
  if (name.empty()) return InvalidArgumentError("empty organisation name");
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement find,
                             connection.Prepare("SELECT id FROM organisations WHERE name = ?1"));
    find.BindText(1, name);
    IOCGRID_ASSIGN_OR_RETURN(bool row, find.Step());
    if (row) return find.Int(0);
  }
  IOCGRID_ASSIGN_OR_RETURN(
      Statement insert, connection.Prepare("INSERT INTO organisations (uuid, name, local, created) "
                                           "VALUES (?1, ?2, 1, ?3)"));
  insert.BindText(1, RandomUuid()).BindText(2, name).Bind(3, now);
  IOCGRID_RETURN_IF_ERROR(insert.Run());
  return connection.LastInsertRowid();
}

}  // namespace iocgrid::store::internal
