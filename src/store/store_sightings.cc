// Sightings: one per live attribute matched by id/uuid or by value, in one transaction.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/query_builder.h"
#include "store/internal/rows.h"
#include "store/internal/store_state.h"
#include "store/internal/uuid.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::Statement;

namespace {

// (attribute id, event id) of every live attribute a sighting request names.
using Targets = std::vector<std::pair<int64_t, int64_t>>;

Result<Targets> FindTargets(Connection& c, const SightingRequest& request) {
  Targets targets;
  auto collect = [&](Statement& stmt) -> Status {
    return stmt.ForEachRow(
        [&](const Statement& row) { targets.emplace_back(row.Int(0), row.Int(1)); });
  };
  if (!request.attribute.empty()) {
    Result<int64_t> id = internal::ResolveRef(c, "attributes", request.attribute);
    if (id.ok()) {
      IOCGRID_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("SELECT a.id, a.event_id FROM attributes a JOIN events e ON e.id = "
                    "a.event_id WHERE a.id = ?1 AND a.deleted = 0 AND e.deleted = 0"));
      stmt.Bind(1, *id);
      IOCGRID_RETURN_IF_ERROR(collect(stmt));
    }
  } else {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("SELECT a.id, a.event_id FROM attributes a JOIN events e ON e.id = "
                  "a.event_id WHERE (a.value1 IN (SELECT value FROM json_each(?1)) OR "
                  "a.value2 IN (SELECT value FROM json_each(?1))) AND a.deleted = 0 AND "
                  "e.deleted = 0 ORDER BY a.id"));
    stmt.BindText(1, internal::JsonStringArray(request.values));
    IOCGRID_RETURN_IF_ERROR(collect(stmt));
  }
  return targets;
}

// Inserts `s` (uuid and id filled in here); an expiration (type 2) first replaces the org's
// earlier expiration of the attribute.
Status InsertSighting(Connection& c, Sighting* s) {
  if (s->type == 2) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement clear,
        c.Prepare("DELETE FROM sightings WHERE attribute_id = ?1 AND org_id = ?2 AND "
                  "type = 2"));
    clear.Bind(1, s->attribute_id).Bind(2, s->org_id);
    IOCGRID_RETURN_IF_ERROR(clear.Run());
  }
  s->uuid = internal::RandomUuid();
  IOCGRID_ASSIGN_OR_RETURN(
      Statement insert,
      c.Prepare("INSERT INTO sightings (uuid, attribute_id, event_id, org_id, date_sighting, "
                "source, type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  insert.BindText(1, s->uuid)
      .Bind(2, s->attribute_id)
      .Bind(3, s->event_id)
      .Bind(4, s->org_id)
      .Bind(5, s->date_sighting)
      .BindText(6, s->source)
      .Bind(7, s->type);
  IOCGRID_RETURN_IF_ERROR(insert.Run());
  s->id = c.LastInsertRowid();
  return Status::Ok();
}

}  // namespace

Result<std::vector<Sighting>> Store::AddSighting(const SightingRequest& request) {
  if (request.type < 0 || request.type > 2) {
    return InvalidArgumentError(
        "Invalid type, must be 0 (sighting), 1 (false positive) or 2 "
        "(expiration)");
  }
  if (request.attribute.empty() && request.values.empty()) {
    return InvalidArgumentError("No valid attributes found.");
  }
  const int64_t now = state_->options.clock.Now();
  const int64_t when = request.timestamp != 0 ? request.timestamp : now;
  std::vector<Sighting> created;
  Status status = internal::RunDataWrite(*state_, &generation_, [&](Connection& c) -> Status {
    int64_t org_id = request.org_id;
    if (org_id == 0) {
      IOCGRID_ASSIGN_OR_RETURN(org_id, internal::EnsureOrgId(c, state_->options.local_org, now));
    }
    IOCGRID_ASSIGN_OR_RETURN(Targets targets, FindTargets(c, request));
    if (targets.empty()) {
      return NotFoundError(
          "Could not add the Sighting. Reason: No valid attributes found that match the "
          "criteria.");
    }
    for (const auto& [attribute_id, event_id] : targets) {
      Sighting sighting;
      sighting.attribute_id = attribute_id;
      sighting.event_id = event_id;
      sighting.org_id = org_id;
      sighting.date_sighting = when;
      sighting.source = request.source;
      sighting.type = request.type;
      IOCGRID_RETURN_IF_ERROR(InsertSighting(c, &sighting));
      created.push_back(std::move(sighting));
    }
    return Status::Ok();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return created;
}

Result<std::vector<SightingRecord>> Store::SearchSightings(const SightingQuery& q) {
  // One statement: an empty list (bound as "[]") does not filter.
  static constexpr std::string_view kSql =
      "SELECT s.id, s.uuid, s.attribute_id, s.event_id, s.org_id, s.date_sighting, s.source, "
      "s.type, COALESCE(o.name, ''), COALESCE(o.uuid, ''), a.match_value, a.uuid, a.type, "
      "a.category, a.to_ids, e.uuid, e.info, e.org_id, e.orgc_id, COALESCE(oc.name, '') "
      "FROM sightings s JOIN attributes a ON a.id = s.attribute_id "
      "JOIN events e ON e.id = s.event_id LEFT JOIN organisations o ON o.id = s.org_id "
      "LEFT JOIN organisations oc ON oc.id = e.orgc_id "
      "WHERE s.date_sighting BETWEEN ?1 AND ?2 "
      "AND (?3 = '[]' OR s.type IN (SELECT value FROM json_each(?3))) "
      "AND (?4 = '[]' OR s.source IN (SELECT value FROM json_each(?4))) "
      "AND ((?5 = '[]' AND ?6 = '[]') OR s.org_id IN (SELECT value FROM json_each(?5)) "
      "  OR o.uuid IN (SELECT lower(value) FROM json_each(?6))) "
      "AND ((?7 = '[]' AND ?8 = '[]') OR s.attribute_id IN (SELECT value FROM json_each(?7)) "
      "  OR a.uuid IN (SELECT lower(value) FROM json_each(?8))) "
      "AND ((?9 = '[]' AND ?10 = '[]') OR s.event_id IN (SELECT value FROM json_each(?9)) "
      "  OR e.uuid IN (SELECT lower(value) FROM json_each(?10))) "
      "ORDER BY s.date_sighting DESC, s.id DESC LIMIT ?11";
  IOCGRID_ASSIGN_OR_RETURN(internal::ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, reader->Prepare(kSql));
  stmt.Bind(1, q.from)
      .Bind(2, q.to)
      .BindText(3, internal::JsonNumberArray(q.types))
      .BindText(4, internal::JsonStringArray(q.sources))
      .BindText(5, internal::JsonNumberArray(q.org_ids))
      .BindText(6, internal::JsonStringArray(q.org_uuids))
      .BindText(7, internal::JsonNumberArray(q.attribute_ids))
      .BindText(8, internal::JsonStringArray(q.attribute_uuids))
      .BindText(9, internal::JsonNumberArray(q.event_ids))
      .BindText(10, internal::JsonStringArray(q.event_uuids))
      .Bind(11, static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
  std::vector<SightingRecord> out;
  IOCGRID_RETURN_IF_ERROR(stmt.ForEachRow([&](const Statement& row) {
    SightingRecord r;
    r.sighting.id = row.Int(0);
    r.sighting.uuid = std::string(row.Text(1));
    r.sighting.attribute_id = row.Int(2);
    r.sighting.event_id = row.Int(3);
    r.sighting.org_id = row.Int(4);
    r.sighting.date_sighting = row.Int(5);
    r.sighting.source = std::string(row.Text(6));
    r.sighting.type = static_cast<int>(row.Int(7));
    r.org_name = std::string(row.Text(8));
    r.org_uuid = std::string(row.Text(9));
    r.value = std::string(row.Text(10));
    r.attribute_uuid = std::string(row.Text(11));
    r.attribute_type = std::string(row.Text(12));
    r.attribute_category = std::string(row.Text(13));
    r.attribute_to_ids = row.Int(14) != 0;
    r.event_uuid = std::string(row.Text(15));
    r.event_info = std::string(row.Text(16));
    r.event_org_id = row.Int(17);
    r.event_orgc_id = row.Int(18);
    r.event_orgc_name = std::string(row.Text(19));
    out.push_back(std::move(r));
  }));
  return out;
}

}  // namespace iocgrid::store
