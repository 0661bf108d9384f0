// EventWriter::Write: one ingest event into the store, in steps. Which event (new, or stored
// under its uuid or id), its fields, its row, its tags, the attribute loop (objects, uuids,
// insert or diff), the removal of what a re-import no longer carries, and the event row update.
#include "store/internal/event_writer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/time.h"
#include "store/internal/tags.h"
#include "store/internal/uuid.h"
#include "store/time_format.h"

namespace iocgrid::store::internal {
namespace {

constexpr uint64_t kProgressEvery = 10'000;

std::string ObjectUuid(std::string_view event_uuid, size_t ordinal, std::string_view name) {
  std::string seed = "object\x1f";
  seed += event_uuid;
  seed += '\x1f';
  seed += std::to_string(ordinal);
  seed += '\x1f';
  seed += name;
  return NameUuid(seed);
}

std::string DerivedAttributeUuid(std::string_view event_uuid, size_t object_ordinal,
                                 const AttrRow& row, std::string_view value) {
  std::string seed = "attribute\x1f";
  seed += event_uuid;
  seed += '\x1f';
  if (object_ordinal != 0) seed += std::to_string(object_ordinal);
  seed += '\x1f';
  seed += row.relation;
  seed += '\x1f';
  seed += row.type;
  seed += '\x1f';
  seed += value;
  return NameUuid(seed);
}

}  // namespace

void EventWriter::Progress() {
  if (++done_ % kProgressEvery == 0 && options_.progress) options_.progress(done_);
}

Result<int64_t> EventWriter::Write(const core::Event& event, WriteMode mode, int64_t target_id) {
  IOCGRID_ASSIGN_OR_RETURN(Target target, ResolveTarget(event, mode, target_id));
  IOCGRID_ASSIGN_OR_RETURN(Fields fields, ResolveFields(event, target));
  if (target.stored) {
    target.id = target.stored->id;
  } else {
    IOCGRID_ASSIGN_OR_RETURN(target.id, InsertEventRow(event, target, fields));
    ++stats_->events_added;
  }
  IOCGRID_ASSIGN_OR_RETURN(bool tags_changed,
                           SyncEventTags(target.id, fields.tags, !target.stored));
  Counts counts;
  IOCGRID_RETURN_IF_ERROR(WriteAttributes(event, target, &counts));
  stats_->attributes_added += counts.added;
  stats_->attributes_updated += counts.updated;
  stats_->attributes_unchanged += counts.unchanged;
  stats_->attributes_removed += counts.removed;
  if (target.stored) {
    const bool rows_changed = tags_changed || counts.added + counts.updated + counts.removed > 0;
    IOCGRID_RETURN_IF_ERROR(UpdateEventRow(event, target, fields, rows_changed));
  }
  stats_->event_ids.push_back(target.id);
  return target.id;
}

Result<std::string> EventWriter::TargetUuid(const core::Event& event, WriteMode mode) const {
  if (!event.uuid.empty()) return CanonicalUuid(event.uuid);
  if (mode == WriteMode::kAdd) return RandomUuid();
  return NameUuid("event\x1f" + event.source + "\x1f" + event.info);
}

Result<std::optional<std::string>> EventWriter::NewEventUuid(const core::Event& event) {
  Result<std::string> uuid = TargetUuid(event, WriteMode::kImport);
  if (!uuid.ok()) return std::optional<std::string>();
  IOCGRID_ASSIGN_OR_RETURN(std::optional<StoredEvent> stored, FindEvent(*uuid, 0));
  if (stored) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*uuid));
}

Result<EventWriter::Target> EventWriter::ResolveTarget(const core::Event& event, WriteMode mode,
                                                       int64_t target_id) {
  Target target;
  if (mode == WriteMode::kEdit) {
    IOCGRID_ASSIGN_OR_RETURN(target.stored, FindEvent({}, target_id));
    if (!target.stored) return NotFoundError("event " + std::to_string(target_id) + " not found");
    target.uuid = target.stored->uuid;
  } else {
    IOCGRID_ASSIGN_OR_RETURN(target.uuid, TargetUuid(event, mode));
    IOCGRID_ASSIGN_OR_RETURN(target.stored, FindEvent(target.uuid, 0));
    if (target.stored && mode == WriteMode::kAdd) {
      return AlreadyExistsError(
          "Event already exists, if you would like to edit it, use the url in the location "
          "header. (uuid " +
          target.uuid + ")");
    }
  }
  target.context = "event " + target.uuid;
  return target;
}

Result<EventWriter::Fields> EventWriter::ResolveFields(const core::Event& event,
                                                       const Target& target) {
  const std::optional<StoredEvent>& stored = target.stored;
  Fields fields;
  fields.distribution = options_.distribution.value_or(event.distribution);
  if (fields.distribution < 0 || fields.distribution > 4) {
    return InvalidArgumentError(target.context + ": distribution must be 0..4, got " +
                                std::to_string(fields.distribution));
  }
  if (event.threat_level_id < 1 || event.threat_level_id > 4) {
    return InvalidArgumentError(target.context + ": threat_level_id must be 1..4, got " +
                                std::to_string(event.threat_level_id));
  }
  if (event.analysis < 0 || event.analysis > 2) {
    return InvalidArgumentError(target.context + ": analysis must be 0..2, got " +
                                std::to_string(event.analysis));
  }
  fields.info = event.info;
  if (fields.info.empty()) fields.info = stored ? stored->info : options_.event_info;
  if (fields.info.empty()) fields.info = event.source;
  fields.date = event.date;
  if (fields.date.empty()) fields.date = stored ? stored->date : FormatIsoDate(now_);
  IOCGRID_ASSIGN_OR_RETURN(fields.owner,
                           OrgId(options_.org.empty() ? state_.options.local_org : options_.org));
  fields.orgc = fields.owner;
  if (!event.org.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(fields.orgc, OrgId(event.org));
  } else if (stored) {
    fields.orgc = stored->orgc_id;
  }
  fields.publish_timestamp = stored ? stored->publish_timestamp : 0;
  if (event.published && (!stored || !stored->published)) {
    fields.publish_timestamp = event.timestamp != 0 ? event.timestamp : now_;
  }
  fields.tags = NormalizeTags(event.tags, &options_.extra_tags);
  return fields;
}

void EventWriter::BindEventColumns(Statement& s, const core::Event& event, const Fields& fields,
                                   std::string_view source) const {
  s.BindText(2, fields.info)
      .BindText(3, fields.date)
      .Bind(4, fields.orgc)
      .Bind(5, event.threat_level_id)
      .Bind(6, event.analysis)
      .Bind(7, fields.distribution)
      .Bind(8, event.published ? 1 : 0)
      .Bind(9, fields.publish_timestamp)
      .Bind(10, event.timestamp != 0 ? event.timestamp : now_)
      .BindText(11, source)
      .Bind(12, now_);
}

Result<int64_t> EventWriter::InsertEventRow(const core::Event& event, const Target& target,
                                            const Fields& fields) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement insert,
      c_.Prepare("INSERT INTO events (uuid, info, date, orgc_id, threat_level_id, analysis, "
                 "distribution, published, publish_timestamp, timestamp, source, imported_at, "
                 "org_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  insert.BindText(1, target.uuid).Bind(13, fields.owner);
  BindEventColumns(insert, event, fields, event.source);
  IOCGRID_RETURN_IF_ERROR(insert.Run());
  return c_.LastInsertRowid();
}

Status EventWriter::WriteAttributes(const core::Event& event, const Target& target,
                                    Counts* counts) {
  Objects objects;
  StoredAttrs stored_attrs;
  if (target.stored) {
    IOCGRID_RETURN_IF_ERROR(LoadStoredObjects(target.id, &objects));
    IOCGRID_RETURN_IF_ERROR(LoadStoredAttributes(target.id, &stored_attrs));
  }
  UuidSet seen;
  seen.reserve(event.attributes.size());
  const int64_t default_timestamp = event.timestamp != 0 ? event.timestamp : now_;
  AttrRow row;
  for (size_t i = 0; i < event.attributes.size(); ++i) {
    const core::Attribute& a = event.attributes[i];
    row = AttrRow();
    FillRow(a, &row, stats_);
    IOCGRID_ASSIGN_OR_RETURN(row.object_id,
                             ObjectFor(event, i, target, default_timestamp, &objects));
    if (!a.uuid.empty()) {
      IOCGRID_ASSIGN_OR_RETURN(row.uuid, CanonicalUuid(a.uuid));
    } else {
      row.uuid = DerivedAttributeUuid(target.uuid, a.object_name.empty() ? 0 : objects.ordinal, row,
                                      a.indicator.value);
      row.derived_uuid = true;
    }
    IOCGRID_RETURN_IF_ERROR(
        WriteAttribute(row, target, default_timestamp, &stored_attrs, &seen, counts));
    Progress();
  }
  if (target.stored && options_.delete_missing) {
    IOCGRID_RETURN_IF_ERROR(RemoveMissing(stored_attrs, objects, counts));
  }
  return Status::Ok();
}

Result<int64_t> EventWriter::ObjectFor(const core::Event& event, size_t i, const Target& target,
                                       int64_t default_timestamp, Objects* objects) {
  const core::Attribute& a = event.attributes[i];
  if (a.object_name.empty()) {
    objects->id = 0;
    objects->name = {};
    return 0;
  }
  const bool same_object = objects->id != 0 && a.object_name == objects->name &&
                           !(i > 0 && event.attributes[i - 1].object_name.empty());
  if (same_object) return objects->id;
  ++objects->ordinal;
  objects->name = a.object_name;
  const std::string object_uuid = ObjectUuid(target.uuid, objects->ordinal, objects->name);
  auto it = objects->stored.find(KeyOf(object_uuid));
  if (it != objects->stored.end()) {
    objects->id = it->second.first;
    if (it->second.second) {
      IOCGRID_ASSIGN_OR_RETURN(Statement undelete,
                               c_.Prepare("UPDATE objects SET deleted = 0 WHERE id = ?1"));
      undelete.Bind(1, objects->id);
      IOCGRID_RETURN_IF_ERROR(undelete.Run());
      it->second.second = false;
    }
  } else {
    IOCGRID_ASSIGN_OR_RETURN(
        objects->id, InsertObject(target.id, object_uuid, objects->name, default_timestamp));
  }
  objects->used.push_back(objects->id);
  return objects->id;
}

Status EventWriter::WriteAttribute(AttrRow& row, const Target& target, int64_t default_timestamp,
                                   StoredAttrs* stored_attrs, UuidSet* seen, Counts* counts) {
  if (!target.stored) {
    // A new event: the uuid UNIQUE index finds repeats, so no in-memory set is needed. A
    // repeated derived uuid is a repeated value (stored once); a repeated explicit uuid is in
    // this batch twice or owned by another event, and fails the batch.
    if (row.timestamp == 0) row.timestamp = default_timestamp;
    Result<int64_t> id = InsertAttribute(target.id, row, 5);
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kAlreadyExists && row.derived_uuid) {
        ++stats_->duplicates;
        return Status::Ok();
      }
      return id.status().WithContext(target.context);
    }
    ++counts->added;
    return Status::Ok();
  }
  const UuidKey key = KeyOf(row.uuid);
  if (!seen->insert(key).second) {
    if (row.derived_uuid) {
      ++stats_->duplicates;
      return Status::Ok();
    }
    return AlreadyExistsError(target.context + ": attribute uuid " + row.uuid + " appears twice");
  }
  auto existing = stored_attrs->find(key);
  if (existing == stored_attrs->end()) {
    if (row.timestamp == 0) row.timestamp = default_timestamp;
    IOCGRID_RETURN_IF_ERROR(
        InsertAttribute(target.id, row, 5).status().WithContext(target.context));
    ++counts->added;
    return Status::Ok();
  }
  StoredAttr& s = existing->second;
  s.seen = true;
  if (SameContent(s, row)) {
    ++counts->unchanged;
    return Status::Ok();
  }
  const int64_t timestamp = row.timestamp != 0 ? row.timestamp : now_;
  IOCGRID_RETURN_IF_ERROR(UpdateAttribute(s.id, row, timestamp, !SameTags(s.tags, row.tags)));
  ++counts->updated;
  return Status::Ok();
}

Status EventWriter::RemoveMissing(StoredAttrs& stored_attrs, Objects& objects, Counts* counts) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement remove,
      c_.Prepare("UPDATE attributes SET deleted = 1, timestamp = ?2 WHERE id = ?1"));
  for (auto& [key, s] : stored_attrs) {
    if (s.seen || s.deleted) continue;
    remove.Bind(1, s.id).Bind(2, now_);
    IOCGRID_RETURN_IF_ERROR(remove.Run());
    remove.Reset();
    ++counts->removed;
  }
  std::sort(objects.used.begin(), objects.used.end());
  for (auto& [key, object] : objects.stored) {
    if (object.second ||
        std::binary_search(objects.used.begin(), objects.used.end(), object.first)) {
      continue;
    }
    IOCGRID_ASSIGN_OR_RETURN(Statement drop,
                             c_.Prepare("UPDATE objects SET deleted = 1 WHERE id = ?1"));
    drop.Bind(1, object.first);
    IOCGRID_RETURN_IF_ERROR(drop.Run());
  }
  return Status::Ok();
}

Status EventWriter::UpdateEventRow(const core::Event& event, const Target& target,
                                   const Fields& fields, bool rows_changed) {
  const StoredEvent& stored = *target.stored;
  const bool fields_changed =
      stored.info != fields.info || stored.date != fields.date || stored.orgc_id != fields.orgc ||
      stored.threat_level_id != event.threat_level_id || stored.analysis != event.analysis ||
      stored.distribution != fields.distribution || stored.published != event.published ||
      stored.publish_timestamp != fields.publish_timestamp || stored.deleted ||
      (event.timestamp != 0 && stored.timestamp != event.timestamp) ||
      (!event.source.empty() && stored.source != event.source);
  if (!fields_changed && !rows_changed) {
    ++stats_->events_unchanged;
    return Status::Ok();
  }
  IOCGRID_ASSIGN_OR_RETURN(
      Statement update,
      c_.Prepare("UPDATE events SET info = ?2, date = ?3, orgc_id = ?4, threat_level_id = ?5, "
                 "analysis = ?6, distribution = ?7, published = ?8, publish_timestamp = ?9, "
                 "timestamp = ?10, deleted = 0, source = ?11, imported_at = ?12 WHERE id = ?1"));
  update.Bind(1, target.id);
  BindEventColumns(update, event, fields, event.source.empty() ? stored.source : event.source);
  IOCGRID_RETURN_IF_ERROR(update.Run());
  ++stats_->events_updated;
  return Status::Ok();
}

Result<std::optional<StoredEvent>> EventWriter::FindEvent(std::string_view uuid, int64_t id) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      c_.Prepare(id != 0 ? "SELECT id, uuid, info, date, org_id, orgc_id, threat_level_id, "
                           "analysis, distribution, published, timestamp, publish_timestamp, "
                           "deleted, source FROM events WHERE id = ?1"
                         : "SELECT id, uuid, info, date, org_id, orgc_id, threat_level_id, "
                           "analysis, distribution, published, timestamp, publish_timestamp, "
                           "deleted, source FROM events WHERE uuid = ?1"));
  if (id != 0) {
    stmt.Bind(1, id);
  } else {
    stmt.BindText(1, uuid);
  }
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<StoredEvent>();
  StoredEvent e;
  e.id = stmt.Int(0);
  e.uuid = std::string(stmt.Text(1));
  e.info = std::string(stmt.Text(2));
  e.date = std::string(stmt.Text(3));
  e.org_id = stmt.Int(4);
  e.orgc_id = stmt.Int(5);
  e.threat_level_id = static_cast<int>(stmt.Int(6));
  e.analysis = static_cast<int>(stmt.Int(7));
  e.distribution = static_cast<int>(stmt.Int(8));
  e.published = stmt.Int(9) != 0;
  e.timestamp = stmt.Int(10);
  e.publish_timestamp = stmt.Int(11);
  e.deleted = stmt.Int(12) != 0;
  e.source = std::string(stmt.Text(13));
  return std::optional<StoredEvent>(std::move(e));
}

}  // namespace iocgrid::store::internal
