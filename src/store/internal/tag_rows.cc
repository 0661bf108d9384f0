// Tags and organisations of the write path: ids by name (cached for the transaction, created
// when missing) and an event's tag links.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "store/internal/event_writer.h"
#include "store/internal/rows.h"
#include "store/internal/tags.h"

namespace iocgrid::store::internal {

Result<int64_t> EventWriter::TagId(std::string_view name) {
  std::string key = AsciiLower(name);
  if (auto it = tag_ids_.find(key); it != tag_ids_.end()) return it->second;
  int64_t id = 0;
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement find, c_.Prepare("SELECT id FROM tags WHERE name = ?1"));
    find.BindText(1, name);
    IOCGRID_ASSIGN_OR_RETURN(bool row, find.Step());
    if (row) id = find.Int(0);
  }
  if (id == 0) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c_.Prepare("INSERT INTO tags (name, colour, exportable) VALUES (?1, ?2, 1)"));
    insert.BindText(1, name).BindText(2, TagColour(name));
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    id = c_.LastInsertRowid();
  }
  tag_ids_.emplace(std::move(key), id);
  return id;
}

Result<int64_t> EventWriter::OrgId(std::string_view name) {
  std::string key = AsciiLower(name);
  if (auto it = org_ids_.find(key); it != org_ids_.end()) return it->second;
  IOCGRID_ASSIGN_OR_RETURN(int64_t id, EnsureOrgId(c_, name, now_));
  org_ids_.emplace(std::move(key), id);
  return id;
}

Result<bool> EventWriter::SyncEventTags(int64_t event_id, const std::vector<std::string>& tags,
                                        bool fresh) {
  std::vector<int64_t> wanted;
  for (const std::string& name : tags) {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, TagId(name));
    wanted.push_back(id);
  }
  std::sort(wanted.begin(), wanted.end());
  std::vector<int64_t> current;
  if (!fresh) {
    IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                             c_.Prepare("SELECT tag_id FROM event_tags WHERE event_id = ?1"));
    stmt.Bind(1, event_id);
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      current.push_back(stmt.Int(0));
    }
    std::sort(current.begin(), current.end());
  }
  bool changed = false;
  for (int64_t id : wanted) {
    if (std::binary_search(current.begin(), current.end(), id)) continue;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c_.Prepare("INSERT OR IGNORE INTO event_tags (event_id, tag_id) VALUES (?1, ?2)"));
    insert.Bind(1, event_id).Bind(2, id);
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    changed = true;
  }
  if (options_.delete_missing) {
    for (int64_t id : current) {
      if (std::binary_search(wanted.begin(), wanted.end(), id)) continue;
      IOCGRID_ASSIGN_OR_RETURN(
          Statement remove,
          c_.Prepare("DELETE FROM event_tags WHERE event_id = ?1 AND tag_id = ?2"));
      remove.Bind(1, event_id).Bind(2, id);
      IOCGRID_RETURN_IF_ERROR(remove.Run());
      changed = true;
    }
  }
  return changed;
}

}  // namespace iocgrid::store::internal
