// Reads. Each runs on a pooled reader connection inside one read transaction, so it sees one
// consistent commit and never waits for the writer (WAL).
#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/indicator_type.h"
#include "sqlite/connection.h"
#include "store/internal/query_builder.h"
#include "store/internal/rows.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::ReaderLease;
using internal::Statement;

namespace {

std::string Limit(uint32_t limit, uint32_t page) {
  if (limit == 0) return {};
  // A page past the end is an empty page; SQLite's OFFSET is a signed 64-bit integer.
  const uint64_t offset =
      std::min<uint64_t>(static_cast<uint64_t>(std::max<uint32_t>(page, 1) - 1) * limit, INT64_MAX);
  return " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
}

Result<std::vector<AttributeRecord>> QueryAttributes(
    Connection& c, const std::string& sql, const std::vector<internal::BindValue>& binds) {
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
  internal::BindAll(stmt, binds);
  std::vector<AttributeRecord> rows;
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    rows.push_back(internal::ReadAttribute(stmt, 0));
  }
  return rows;
}

Result<AttributeSearchResult> Complete(Connection& c, std::vector<AttributeRecord> rows,
                                       bool include_event_tags, bool include_sightings) {
  AttributeSearchResult result;
  result.attributes = std::move(rows);
  IOCGRID_RETURN_IF_ERROR(internal::AttachAttributeTags(c, result.attributes, include_event_tags));
  if (include_sightings) IOCGRID_RETURN_IF_ERROR(internal::AttachSightings(c, result.attributes));
  std::vector<int64_t> event_ids;
  event_ids.reserve(result.attributes.size());
  for (const AttributeRecord& a : result.attributes) event_ids.push_back(a.event_id);
  IOCGRID_ASSIGN_OR_RETURN(result.events,
                           internal::LoadEvents(c, std::move(event_ids), /*with_count=*/false));
  return result;
}

}  // namespace

Result<EventRecord> Store::GetEvent(std::string_view id_or_uuid, const GetEventOptions& options) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  Connection& c = *reader;
  IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "events", id_or_uuid));
  IOCGRID_ASSIGN_OR_RETURN(std::vector<EventInfo> events,
                           internal::LoadEvents(c, {id}, /*with_count=*/true));
  if (events.empty() || (events[0].deleted && !options.include_deleted)) {
    return NotFoundError("Invalid event");
  }
  EventRecord record;
  record.event = std::move(events[0]);

  const std::string deleted = options.include_deleted ? "" : " AND a.deleted = 0";
  IOCGRID_ASSIGN_OR_RETURN(
      std::vector<AttributeRecord> attributes,
      QueryAttributes(c,
                      "SELECT " + std::string(internal::kAttributeColumns) +
                          " FROM attributes a WHERE a.event_id = ?1" + deleted + " ORDER BY a.id",
                      {id}));
  IOCGRID_RETURN_IF_ERROR(internal::AttachAttributeTags(c, attributes, false));
  if (options.include_sightings) IOCGRID_RETURN_IF_ERROR(internal::AttachSightings(c, attributes));

  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare(std::string("SELECT id, uuid, name, meta_category, comment, distribution, "
                              "timestamp, deleted FROM objects WHERE event_id = ?1") +
                  (options.include_deleted ? "" : " AND deleted = 0") + " ORDER BY id"));
    stmt.Bind(1, id);
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ObjectRecord o;
      o.id = stmt.Int(0);
      o.uuid = std::string(stmt.Text(1));
      o.event_id = id;
      o.name = std::string(stmt.Text(2));
      o.meta_category = std::string(stmt.Text(3));
      o.comment = std::string(stmt.Text(4));
      o.distribution = static_cast<int>(stmt.Int(5));
      o.timestamp = stmt.Int(6);
      o.deleted = stmt.Int(7) != 0;
      record.objects.push_back(std::move(o));
    }
  }
  std::unordered_map<int64_t, size_t> object_index;
  for (size_t i = 0; i < record.objects.size(); ++i) object_index.emplace(record.objects[i].id, i);
  for (AttributeRecord& a : attributes) {
    if (a.object_id != 0) {
      auto it = object_index.find(a.object_id);
      // An attribute of a soft-deleted object is hidden with it.
      if (it != object_index.end()) record.objects[it->second].attributes.push_back(std::move(a));
    } else {
      record.attributes.push_back(std::move(a));
    }
  }
  return record;
}

Result<AttributeRecord> Store::GetAttribute(std::string_view id_or_uuid) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(*reader, "attributes", id_or_uuid));
  IOCGRID_ASSIGN_OR_RETURN(std::vector<AttributeRecord> rows,
                           QueryAttributes(*reader,
                                           "SELECT " + std::string(internal::kAttributeColumns) +
                                               " FROM attributes a WHERE a.id = ?1",
                                           {id}));
  if (rows.empty()) return NotFoundError("attribute not found");
  IOCGRID_RETURN_IF_ERROR(internal::AttachAttributeTags(*reader, rows, false));
  IOCGRID_RETURN_IF_ERROR(internal::AttachSightings(*reader, rows));
  return std::move(rows[0]);
}

Result<AttributeSearchResult> Store::SearchAttributes(const AttributeQuery& query) {
  internal::SqlFilter filter = internal::BuildAttributeFilter(query);
  const std::string sql =
      "SELECT " + std::string(internal::kAttributeColumns) +
      " FROM attributes a JOIN events e ON e.id = a.event_id WHERE " + filter.where + " " +
      internal::AttributeOrderBy(query.order, query.descending) + Limit(query.limit, query.page);
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(std::vector<AttributeRecord> rows,
                           QueryAttributes(*reader, sql, filter.binds));
  return Complete(*reader, std::move(rows), query.include_event_tags, query.include_sightings);
}

Result<uint64_t> Store::CountAttributes(const AttributeQuery& query) {
  internal::SqlFilter filter = internal::BuildAttributeFilter(query);
  const std::string sql =
      "SELECT count(*) FROM attributes a JOIN events e ON e.id = a.event_id WHERE " + filter.where;
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, reader->Prepare(sql));
  internal::BindAll(stmt, filter.binds);
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<uint64_t>(stmt.Int(0)) : 0;
}

Result<std::vector<EventInfo>> Store::ListEvents(const EventQuery& query) {
  internal::SqlFilter filter = internal::BuildEventFilter(query);
  const std::string sql = std::string(internal::kEventSelect) + " WHERE " + filter.where +
                          (query.descending ? " ORDER BY e.id DESC" : " ORDER BY e.id ASC") +
                          Limit(query.limit, query.page);
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt, reader->Prepare(sql));
  internal::BindAll(stmt, filter.binds);
  std::vector<EventInfo> events;
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    events.push_back(internal::ReadEventInfo(stmt));
  }
  IOCGRID_RETURN_IF_ERROR(internal::AttachEventTags(*reader, events));
  return events;
}

Result<AttributeSearchResult> Store::GetAttributes(std::span<const int64_t> ids,
                                                   bool include_event_tags) {
  const std::string json = internal::JsonNumberArray(ids);
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      std::vector<AttributeRecord> rows,
      QueryAttributes(*reader,
                      "SELECT " + std::string(internal::kAttributeColumns) +
                          " FROM attributes a WHERE a.id IN (SELECT value FROM json_each(?1)) "
                          "ORDER BY a.id",
                      {json}));
  return Complete(*reader, std::move(rows), include_event_tags, /*include_sightings=*/true);
}

namespace {

// The row loop of ForEachLiveAttribute(In): columns id, event_id, type, value1, value2.
Status EachLive(Statement& stmt, const std::function<Status(const LiveAttribute&)>& fn) {
  std::string value;
  // Type names repeat; resolving each distinct name once keeps the scan cheap.
  std::unordered_map<std::string, core::IndicatorType> types;
  LiveAttribute live;
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    live.id = stmt.Int(0);
    live.event_id = stmt.Int(1);
    std::string_view type_name = stmt.Text(2);
    auto it = types.find(std::string(type_name));
    if (it == types.end()) {
      it = types
               .emplace(std::string(type_name),
                        core::TypeFromName(type_name).value_or(core::IndicatorType::kOther))
               .first;
    }
    live.type = it->second;
    std::string_view value1 = stmt.Text(3);
    if (stmt.IsNull(4)) {
      live.value = value1;
    } else {
      value.assign(value1);
      value += '|';
      value += stmt.Text(4);
      live.value = value;
    }
    IOCGRID_RETURN_IF_ERROR(fn(live));
  }
  return Status::Ok();
}

}  // namespace

Status Store::ForEachLiveAttribute(const std::function<Status(const LiveAttribute&)>& fn) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT a.id, a.event_id, a.type, a.value1, a.value2 FROM attributes a "
                      "JOIN events e ON e.id = a.event_id "
                      "WHERE a.deleted = 0 AND e.deleted = 0 ORDER BY a.id"));
  return EachLive(stmt, fn);
}

Status Store::ForEachLiveAttributeIn(std::span<const int64_t> ids,
                                     const std::function<Status(const LiveAttribute&)>& fn) {
  if (ids.empty()) return Status::Ok();
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT a.id, a.event_id, a.type, a.value1, a.value2 FROM attributes a "
                      "JOIN events e ON e.id = a.event_id "
                      "WHERE a.id IN (SELECT value FROM json_each(?1)) "
                      "AND a.deleted = 0 AND e.deleted = 0 ORDER BY a.id"));
  stmt.BindText(1, internal::JsonNumberArray(ids));
  return EachLive(stmt, fn);
}

Result<StoreStats> Store::Stats() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  Connection& c = *reader;
  StoreStats stats;
  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("SELECT a.type, count(*), min(a.timestamp), max(a.timestamp) "
                  "FROM attributes a JOIN events e ON e.id = a.event_id "
                  "WHERE a.deleted = 0 AND e.deleted = 0 GROUP BY a.type ORDER BY a.type"));
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      const auto count = static_cast<uint64_t>(stmt.Int(1));
      stats.attributes_by_type.emplace_back(std::string(stmt.Text(0)), count);
      stats.attributes += count;
      const int64_t first = stmt.Int(2);
      const int64_t last = stmt.Int(3);
      if (stats.first_timestamp == 0 || first < stats.first_timestamp) {
        stats.first_timestamp = first;
      }
      stats.last_timestamp = std::max(stats.last_timestamp, last);
    }
  }
  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("SELECT count(*), coalesce(min(date), ''), coalesce(max(date), ''), "
                  "(SELECT count(*) FROM objects o JOIN events x ON x.id = o.event_id "
                  " WHERE o.deleted = 0 AND x.deleted = 0), "
                  "(SELECT count(*) FROM sightings), "
                  "(SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM meta "
                  " WHERE key = 'last_import') "
                  "FROM events WHERE deleted = 0"));
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      stats.events = static_cast<uint64_t>(stmt.Int(0));
      stats.first_date = std::string(stmt.Text(1));
      stats.last_date = std::string(stmt.Text(2));
      stats.objects = static_cast<uint64_t>(stmt.Int(3));
      stats.sightings = static_cast<uint64_t>(stmt.Int(4));
      stats.last_import = stmt.Int(5);
    }
  }
  return stats;
}

Result<std::vector<AuditEntry>> Store::ListAudit(uint32_t limit) {
  MutexLock lock(state_->audit_mu);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      state_->audit->Prepare("SELECT id, time, user_id, key_id, org_id, action, endpoint, remote, "
                             "value_count, status, query_values FROM audit_log ORDER BY id DESC" +
                             Limit(limit, 1)));
  std::vector<AuditEntry> entries;
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    AuditEntry e;
    e.id = stmt.Int(0);
    e.time = stmt.Int(1);
    e.user_id = stmt.Int(2);
    e.key_id = stmt.Int(3);
    e.org_id = stmt.Int(4);
    e.action = std::string(stmt.Text(5));
    e.endpoint = std::string(stmt.Text(6));
    e.remote = std::string(stmt.Text(7));
    e.value_count = static_cast<uint64_t>(stmt.Int(8));
    e.status = static_cast<int>(stmt.Int(9));
    if (state_->options.audit_values && !stmt.IsNull(10)) {
      std::string_view values = stmt.Text(10);
      size_t start = 0;
      while (start <= values.size()) {
        size_t end = values.find('\n', start);
        if (end == std::string_view::npos) end = values.size();
        e.values.emplace_back(values.substr(start, end - start));
        start = end + 1;
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

Result<uint64_t> Store::DataGeneration() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      int64_t v,
      reader->QueryInt("SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                       "'data_generation'), 0)"));
  return static_cast<uint64_t>(v);
}

int64_t Store::StatementsRun() const {
  return state_->statements_run.load(std::memory_order_relaxed);
}

Status Store::CheckIntegrity() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement stmt, reader->PrepareOnce("PRAGMA integrity_check"));
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row || stmt.Text(0) != "ok") {
      return DataLossError("integrity_check: " + std::string(row ? stmt.Text(0) : "no result"));
    }
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement fk, reader->PrepareOnce("PRAGMA foreign_key_check"));
  IOCGRID_ASSIGN_OR_RETURN(bool violation, fk.Step());
  if (violation) {
    return DataLossError("foreign_key_check: table " + std::string(fk.Text(0)) + " row " +
                         std::to_string(fk.Int(1)) + " references a missing " +
                         std::string(fk.Text(2)));
  }
  return Status::Ok();
}

}  // namespace iocgrid::store
