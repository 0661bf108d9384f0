// Attribute and object rows of the write path: building an attribute row from the ingest model,
// reading a stored event's attributes and objects for the diff, and their INSERT/UPDATEs.
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/indicator.h"
#include "core/indicator_type.h"
#include "store/internal/event_writer.h"
#include "store/internal/tags.h"
#include "store/time_format.h"

namespace iocgrid::store::internal {

void FillRow(const core::Attribute& a, AttrRow* row, ImportStats* stats) {
  core::Component parts[2];
  const int n = core::Components(a.indicator, parts);
  row->value1 = parts[0].value;
  row->value2 = n == 2 ? parts[1].value : std::string_view();
  if (n == 1 && core::IsComposite(a.indicator.type)) row->value1 = a.indicator.value;
  row->type = core::TypeName(a.indicator.type);
  row->category =
      a.category.empty() ? core::DefaultCategory(a.indicator.type) : std::string_view(a.category);
  row->relation = a.object_relation;
  row->comment = a.comment;
  row->to_ids = a.to_ids;
  row->timestamp = a.timestamp;
  row->import_sightings = a.sighting_count;
  auto seen = [&](const std::string& text, std::optional<int64_t>* out) {
    if (text.empty()) return;
    Result<int64_t> us = ParseIsoTime(text);
    if (us.ok()) {
      *out = *us;
    } else if (stats != nullptr) {
      ++stats->invalid_seen;
    }
  };
  seen(a.first_seen, &row->first_seen);
  seen(a.last_seen, &row->last_seen);
  row->tags = NormalizeTags(a.tags);
}

bool SameContent(const StoredAttr& s, const AttrRow& r) {
  return s.object_id == r.object_id && s.relation == r.relation && s.type == r.type &&
         s.category == r.category && s.value1 == r.value1 && s.value2 == r.value2 &&
         s.comment == r.comment && s.to_ids == r.to_ids && s.first_seen == r.first_seen &&
         s.last_seen == r.last_seen && !s.deleted && s.import_sightings == r.import_sightings &&
         (r.timestamp == 0 || r.timestamp == s.timestamp) && SameTags(s.tags, r.tags);
}

Status EventWriter::LoadStoredAttributes(int64_t event_id, StoredAttrs* out) {
  std::unordered_map<int64_t, StoredAttr*> by_id;
  {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        c_.Prepare("SELECT id, uuid, object_id, object_relation, type, category, value1, value2, "
                   "comment, to_ids, timestamp, first_seen, last_seen, deleted, import_sightings "
                   "FROM attributes WHERE event_id = ?1"));
    stmt.Bind(1, event_id);
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      StoredAttr s;
      s.id = stmt.Int(0);
      s.object_id = stmt.IsNull(2) ? 0 : stmt.Int(2);
      s.relation = std::string(stmt.Text(3));
      s.type = std::string(stmt.Text(4));
      s.category = std::string(stmt.Text(5));
      s.value1 = std::string(stmt.Text(6));
      s.value2 = std::string(stmt.Text(7));
      s.comment = std::string(stmt.Text(8));
      s.to_ids = stmt.Int(9) != 0;
      s.timestamp = stmt.Int(10);
      if (!stmt.IsNull(11)) s.first_seen = stmt.Int(11);
      if (!stmt.IsNull(12)) s.last_seen = stmt.Int(12);
      s.deleted = stmt.Int(13) != 0;
      s.import_sightings = stmt.Int(14);
      auto [it, inserted] = out->emplace(KeyOf(stmt.Text(1)), std::move(s));
      by_id.emplace(it->second.id, &it->second);
    }
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement tags,
                           c_.Prepare("SELECT at.attribute_id, t.name FROM attributes a "
                                      "JOIN attribute_tags at ON at.attribute_id = a.id "
                                      "JOIN tags t ON t.id = at.tag_id WHERE a.event_id = ?1"));
  tags.Bind(1, event_id);
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    if (auto it = by_id.find(tags.Int(0)); it != by_id.end()) {
      it->second->tags.emplace_back(tags.Text(1));
    }
  }
  for (auto& [id, stored] : by_id) stored->tags = NormalizeTags(stored->tags);
  return Status::Ok();
}

Status EventWriter::LoadStoredObjects(int64_t event_id, Objects* objects) {
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           c_.Prepare("SELECT id, uuid, deleted FROM objects WHERE event_id = ?1"));
  stmt.Bind(1, event_id);
  return stmt.ForEachRow([&](const Statement& row) {
    objects->stored.emplace(KeyOf(row.Text(1)), std::make_pair(row.Int(0), row.Int(2) != 0));
  });
}

Result<int64_t> EventWriter::InsertAttribute(int64_t event_id, const AttrRow& row,
                                             int distribution) {
  // The hottest statement of an import: leased once per writer, not looked up per row.
  if (!insert_attribute_) {
    IOCGRID_ASSIGN_OR_RETURN(
        insert_attribute_,
        c_.Prepare("INSERT INTO attributes (uuid, event_id, object_id, object_relation, type, "
                   "category, value1, value2, to_ids, distribution, comment, timestamp, "
                   "first_seen, last_seen, import_sightings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                   "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
  }
  if (bulk_uuids_ != nullptr && !bulk_uuids_->insert(KeyOf(row.uuid)).second) {
    return AlreadyExistsError("attribute uuid " + row.uuid +
                              " is given twice or already exists in another event");
  }
  Statement& insert = *insert_attribute_;
  // The row's views outlive the statement's step, so the text is bound without copying.
  insert.BindTextStatic(1, row.uuid).Bind(2, event_id);
  if (row.object_id != 0) {
    insert.Bind(3, row.object_id);
  } else {
    insert.BindNull(3);
  }
  if (row.relation.empty()) {
    insert.BindNull(4);
  } else {
    insert.BindTextStatic(4, row.relation);
  }
  insert.BindTextStatic(5, row.type).BindTextStatic(6, row.category).BindTextStatic(7, row.value1);
  if (row.value2.empty()) {
    insert.BindNull(8);
  } else {
    insert.BindTextStatic(8, row.value2);
  }
  insert.Bind(9, row.to_ids ? 1 : 0)
      .Bind(10, distribution)
      .BindTextStatic(11, row.comment)
      .Bind(12, row.timestamp);
  insert.BindOrNull(13, row.first_seen);
  insert.BindOrNull(14, row.last_seen);
  insert.Bind(15, row.import_sightings);
  Status status = insert.Run();
  insert.Reset();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("attribute uuid " + row.uuid +
                              " is given twice or already exists in another event");
  }
  IOCGRID_RETURN_IF_ERROR(status);
  const int64_t id = c_.LastInsertRowid();
  state_.NoteInsertedAttribute(id);  // for the index change log, at commit
  if (!row.tags.empty()) IOCGRID_RETURN_IF_ERROR(LinkAttributeTags(id, row.tags));
  return id;
}

Status EventWriter::UpdateAttribute(int64_t id, const AttrRow& row, int64_t timestamp,
                                    bool relink_tags) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement update,
      c_.Prepare("UPDATE attributes SET object_id = ?2, object_relation = ?3, type = ?4, "
                 "category = ?5, value1 = ?6, value2 = ?7, to_ids = ?8, comment = ?9, "
                 "timestamp = ?10, first_seen = ?11, last_seen = ?12, deleted = 0, "
                 "import_sightings = ?13 WHERE id = ?1"));
  update.Bind(1, id);
  if (row.object_id != 0) {
    update.Bind(2, row.object_id);
  } else {
    update.BindNull(2);
  }
  update.BindTextOrNull(3, row.relation)
      .BindText(4, row.type)
      .BindText(5, row.category)
      .BindText(6, row.value1)
      .BindTextOrNull(7, row.value2)
      .Bind(8, row.to_ids ? 1 : 0)
      .BindText(9, row.comment)
      .Bind(10, timestamp);
  update.BindOrNull(11, row.first_seen);
  update.BindOrNull(12, row.last_seen);
  update.Bind(13, row.import_sightings);
  IOCGRID_RETURN_IF_ERROR(update.Run());
  if (relink_tags) {
    {
      IOCGRID_ASSIGN_OR_RETURN(Statement clear,
                               c_.Prepare("DELETE FROM attribute_tags WHERE attribute_id = ?1"));
      clear.Bind(1, id);
      IOCGRID_RETURN_IF_ERROR(clear.Run());
    }
    IOCGRID_RETURN_IF_ERROR(LinkAttributeTags(id, row.tags));
  }
  return Status::Ok();
}

Status EventWriter::LinkAttributeTags(int64_t attribute_id, const std::vector<std::string>& tags) {
  for (const std::string& name : tags) {
    IOCGRID_ASSIGN_OR_RETURN(int64_t tag_id, TagId(name));
    IOCGRID_ASSIGN_OR_RETURN(
        Statement link,
        c_.Prepare("INSERT OR IGNORE INTO attribute_tags (attribute_id, tag_id) VALUES (?1, ?2)"));
    link.Bind(1, attribute_id).Bind(2, tag_id);
    IOCGRID_RETURN_IF_ERROR(link.Run());
  }
  return Status::Ok();
}

Result<int64_t> EventWriter::InsertObject(int64_t event_id, const std::string& uuid,
                                          std::string_view name, int64_t timestamp) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement insert,
      c_.Prepare("INSERT INTO objects (uuid, event_id, name, timestamp) VALUES (?1, ?2, ?3, ?4)"));
  insert.BindText(1, uuid).Bind(2, event_id).BindText(3, name).Bind(4, timestamp);
  Status status = insert.Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("object uuid " + uuid + " already exists in another event");
  }
  IOCGRID_RETURN_IF_ERROR(status);
  return c_.LastInsertRowid();
}

}  // namespace iocgrid::store::internal
