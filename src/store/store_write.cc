// Writes: imports, event and attribute edits, deletes, sightings and the audit log. Each public
// write is one transaction on the writer connection (internal::RunWrite), so it lands whole or
// not at all; docs/store-schema.md explains why a kill -9 cannot leave half of one behind.
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/indicator.h"
#include "core/indicator_type.h"
#include "sqlite/api_key.h"
#include "sqlite/connection.h"
#include "store/internal/query_builder.h"
#include "store/internal/rows.h"
#include "store/internal/store_state.h"
#include "store/internal/uuid.h"
#include "store/store.h"
#include "store/time_format.h"

namespace iocgrid::store {

using internal::Connection;
using internal::Statement;

namespace {

constexpr uint64_t kProgressEvery = 10'000;

// A uuid as 128 bits, for cheap sets and maps over hundreds of thousands of attributes.
struct UuidKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const UuidKey&, const UuidKey&) = default;
};

struct UuidKeyHash {
  size_t operator()(const UuidKey& key) const {
    // Random uuids are already uniform; the multiply spreads structured (derived) ones.
    return (key.hi ^ key.lo) * 0x9e3779b97f4a7c15ULL;
  }
};

// An open-addressing set of uuids: one flat array, no allocation per insert (std::unordered_set
// allocated a node per attribute, a measurable share of big imports).
class UuidSet {
 public:
  void reserve(size_t n) {
    size_t want = 16;
    while (want < 2 * n) want <<= 1;
    if (want > slots_.size()) Rehash(want);
  }
  // Returns {_, true} when `key` was not in the set (and is now).
  std::pair<const UuidKey*, bool> insert(const UuidKey& key) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, slots_.size() * 2));
    const size_t mask = slots_.size() - 1;
    for (size_t i = UuidKeyHash()(key) & mask;; i = (i + 1) & mask) {
      if (!used_[i]) {
        used_[i] = 1;
        slots_[i] = key;
        ++size_;
        return {&slots_[i], true};
      }
      if (slots_[i] == key) return {&slots_[i], false};
    }
  }

 private:
  void Rehash(size_t capacity) {
    std::vector<UuidKey> old_slots(capacity);
    std::vector<uint8_t> old_used(capacity, 0);
    old_slots.swap(slots_);
    old_used.swap(used_);
    size_ = 0;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (old_used[i]) insert(old_slots[i]);
    }
  }

  std::vector<UuidKey> slots_;
  std::vector<uint8_t> used_;
  size_t size_ = 0;
};

// REQUIRES: a valid 8-4-4-4-12 uuid (either case).
UuidKey KeyOf(std::string_view uuid) {
  UuidKey key;
  int nibbles = 0;
  for (char c : uuid) {
    if (c == '-') continue;
    const uint64_t v = c <= '9'   ? static_cast<uint64_t>(c - '0')
                       : c <= 'F' ? static_cast<uint64_t>(c - 'A' + 10)
                                  : static_cast<uint64_t>(c - 'a' + 10);
    if (nibbles < 16) {
      key.hi = (key.hi << 4) | v;
    } else {
      key.lo = (key.lo << 4) | v;
    }
    ++nibbles;
  }
  return key;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Tag names deduplicated case-insensitively (as the NOCASE tags.name column), first spelling
// kept, sorted case-insensitively.
std::vector<std::string> NormalizeTags(const std::vector<std::string>& a,
                                       const std::vector<std::string>* b = nullptr) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto add = [&](const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      if (name.empty()) continue;
      if (seen.insert(LowerAscii(name)).second) out.push_back(name);
    }
  };
  add(a);
  if (b != nullptr) add(*b);
  std::sort(out.begin(), out.end(), [](const std::string& x, const std::string& y) {
    return LowerAscii(x) < LowerAscii(y);
  });
  return out;
}

bool SameTags(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// A stable colour per tag name, as MISP gives tags a colour; "#rrggbb".
std::string TagColour(std::string_view name) {
  const std::string digest = sqlite::Sha256(LowerAscii(name));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string colour = "#";
  for (int i = 0; i < 3; ++i) {
    const auto byte = static_cast<unsigned char>(digest[static_cast<size_t>(i)]);
    colour += kHex[byte >> 4];
    colour += kHex[byte & 0x0f];
  }
  return colour;
}

// One attribute ready for SQL. Views point into the ingest::Attribute or static type tables.
struct AttrRow {
  std::string uuid;
  bool derived_uuid = false;
  int64_t object_id = 0;  // 0 = none (NULL)
  std::string_view relation;
  std::string_view type;
  std::string_view category;
  std::string_view value1;
  std::string_view value2;  // empty = NULL
  std::string_view comment;
  bool to_ids = false;
  int64_t timestamp = 0;  // 0 = unknown (the caller decides)
  std::optional<int64_t> first_seen;
  std::optional<int64_t> last_seen;
  int64_t import_sightings = 0;
  std::vector<std::string> tags;  // NormalizeTags
};

// Fills everything but uuid, object_id and timestamp defaults from `a`.
void FillRow(const ingest::Attribute& a, AttrRow* row, ImportStats* stats) {
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

// A stored attribute of an event being re-imported, for the diff.
struct StoredAttr {
  int64_t id = 0;
  int64_t object_id = 0;
  std::string relation, type, category, value1, value2, comment;
  bool to_ids = false;
  int64_t timestamp = 0;
  std::optional<int64_t> first_seen, last_seen;
  bool deleted = false;
  int64_t import_sightings = 0;
  std::vector<std::string> tags;
  bool seen = false;
};

bool SameContent(const StoredAttr& s, const AttrRow& r) {
  return s.object_id == r.object_id && s.relation == r.relation && s.type == r.type &&
         s.category == r.category && s.value1 == r.value1 && s.value2 == r.value2 &&
         s.comment == r.comment && s.to_ids == r.to_ids && s.first_seen == r.first_seen &&
         s.last_seen == r.last_seen && !s.deleted && s.import_sightings == r.import_sightings &&
         (r.timestamp == 0 || r.timestamp == s.timestamp) && SameTags(s.tags, r.tags);
}

struct StoredEvent {
  int64_t id = 0;
  std::string uuid, info, date, source;
  int64_t org_id = 0, orgc_id = 0;
  int threat_level_id = 4, analysis = 0, distribution = 0;
  bool published = false;
  int64_t timestamp = 0, publish_timestamp = 0;
  bool deleted = false;
};

enum class Mode : uint8_t {
  kImport,  // create or update by uuid (derived when missing)
  kAdd,     // create only (random uuid when missing)
  kEdit,    // update a given event
};

// Writes events inside one transaction. Caches tag and org ids for the transaction.
class EventWriter {
 public:
  EventWriter(Connection& c, const internal::StoreState& state, const ImportOptions& options,
              ImportStats* stats)
      : c_(c), state_(state), options_(options), stats_(stats), now_(state.Now()) {}

  // Returns the event id.
  Result<int64_t> Write(const ingest::Event& event, Mode mode, int64_t target_id);

  Result<int64_t> TagId(std::string_view name);
  Result<int64_t> OrgId(std::string_view name);
  // Bulk load without the attributes_uuid index (ImportEvents); `uuids` outlives the writer.
  void set_bulk_uuids(UuidSet* uuids) { bulk_uuids_ = uuids; }
  int64_t now() const { return now_; }

  // INSERT of one attribute; kAlreadyExists names the uuid when it is taken.
  Result<int64_t> InsertAttribute(int64_t event_id, const AttrRow& row, int distribution);
  Status UpdateAttribute(int64_t id, const AttrRow& row, int64_t timestamp, bool relink_tags);
  Status LinkAttributeTags(int64_t attribute_id, const std::vector<std::string>& tags);
  Result<int64_t> InsertObject(int64_t event_id, const std::string& uuid, std::string_view name,
                               int64_t timestamp);

 private:
  Result<std::optional<StoredEvent>> FindEvent(std::string_view uuid, int64_t id);
  Result<bool> SyncEventTags(int64_t event_id, const std::vector<std::string>& tags, bool fresh);
  Status LoadStoredAttributes(int64_t event_id,
                              std::unordered_map<UuidKey, StoredAttr, UuidKeyHash>* out);
  void Progress() {
    if (++done_ % kProgressEvery == 0 && options_.progress) options_.progress(done_);
  }

  Connection& c_;
  const internal::StoreState& state_;
  const ImportOptions& options_;
  ImportStats* stats_;
  int64_t now_;
  uint64_t done_ = 0;
  std::unordered_map<std::string, int64_t> tag_ids_;
  std::unordered_map<std::string, int64_t> org_ids_;
  std::optional<Statement> insert_attribute_;
  // Set during a bulk load, when the attributes_uuid UNIQUE index is dropped: every attribute
  // uuid in the table, so InsertAttribute detects repeats as the index would.
  UuidSet* bulk_uuids_ = nullptr;
};

Result<int64_t> EventWriter::TagId(std::string_view name) {
  std::string key = LowerAscii(name);
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
  std::string key = LowerAscii(name);
  if (auto it = org_ids_.find(key); it != org_ids_.end()) return it->second;
  IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::EnsureOrgId(c_, name, now_));
  org_ids_.emplace(std::move(key), id);
  return id;
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

Status EventWriter::LoadStoredAttributes(
    int64_t event_id, std::unordered_map<UuidKey, StoredAttr, UuidKeyHash>* out) {
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
  if (row.first_seen) {
    insert.Bind(13, *row.first_seen);
  } else {
    insert.BindNull(13);
  }
  if (row.last_seen) {
    insert.Bind(14, *row.last_seen);
  } else {
    insert.BindNull(14);
  }
  insert.Bind(15, row.import_sightings);
  Status status = insert.Run();
  insert.Reset();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("attribute uuid " + row.uuid +
                              " is given twice or already exists in another event");
  }
  IOCGRID_RETURN_IF_ERROR(status);
  const int64_t id = c_.LastInsertRowid();
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
  if (row.first_seen) {
    update.Bind(11, *row.first_seen);
  } else {
    update.BindNull(11);
  }
  if (row.last_seen) {
    update.Bind(12, *row.last_seen);
  } else {
    update.BindNull(12);
  }
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

std::string ObjectUuid(std::string_view event_uuid, size_t ordinal, std::string_view name) {
  std::string seed = "object\x1f";
  seed += event_uuid;
  seed += '\x1f';
  seed += std::to_string(ordinal);
  seed += '\x1f';
  seed += name;
  return internal::NameUuid(seed);
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
  return internal::NameUuid(seed);
}

Result<int64_t> EventWriter::Write(const ingest::Event& event, Mode mode, int64_t target_id) {
  // ---- Which event, and its uuid.
  std::optional<StoredEvent> stored;
  std::string uuid;
  if (mode == Mode::kEdit) {
    IOCGRID_ASSIGN_OR_RETURN(stored, FindEvent({}, target_id));
    if (!stored) return NotFoundError("event " + std::to_string(target_id) + " not found");
    uuid = stored->uuid;
  } else {
    if (!event.uuid.empty()) {
      IOCGRID_ASSIGN_OR_RETURN(uuid, internal::CanonicalUuid(event.uuid));
    } else if (mode == Mode::kAdd) {
      uuid = internal::RandomUuid();
    } else {
      // Deterministic, so re-importing the same list finds the same event.
      uuid = internal::NameUuid("event\x1f" + event.source + "\x1f" + event.info);
    }
    IOCGRID_ASSIGN_OR_RETURN(stored, FindEvent(uuid, 0));
    if (stored && mode == Mode::kAdd) {
      return AlreadyExistsError(
          "Event already exists, if you would like to edit it, use the url in the location "
          "header. (uuid " +
          uuid + ")");
    }
  }
  const std::string context = "event " + uuid;

  // ---- Event fields.
  const int distribution = options_.distribution.value_or(event.distribution);
  if (distribution < 0 || distribution > 4) {
    return InvalidArgumentError(context + ": distribution must be 0..4, got " +
                                std::to_string(distribution));
  }
  if (event.threat_level_id < 1 || event.threat_level_id > 4) {
    return InvalidArgumentError(context + ": threat_level_id must be 1..4, got " +
                                std::to_string(event.threat_level_id));
  }
  if (event.analysis < 0 || event.analysis > 2) {
    return InvalidArgumentError(context + ": analysis must be 0..2, got " +
                                std::to_string(event.analysis));
  }
  std::string info = event.info;
  if (info.empty()) info = stored ? stored->info : options_.event_info;
  if (info.empty()) info = event.source;
  std::string date = event.date;
  if (date.empty()) date = stored ? stored->date : FormatDate(now_);
  IOCGRID_ASSIGN_OR_RETURN(int64_t owner,
                           OrgId(options_.org.empty() ? state_.options.local_org : options_.org));
  int64_t orgc = owner;
  if (!event.org.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(orgc, OrgId(event.org));
  } else if (stored) {
    orgc = stored->orgc_id;
  }
  int64_t publish_timestamp = stored ? stored->publish_timestamp : 0;
  if (event.published && (!stored || !stored->published)) {
    publish_timestamp = event.timestamp != 0 ? event.timestamp : now_;
  }
  const std::vector<std::string> tags = NormalizeTags(event.tags, &options_.extra_tags);

  int64_t event_id = 0;
  if (!stored) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c_.Prepare("INSERT INTO events (uuid, info, date, org_id, orgc_id, threat_level_id, "
                   "analysis, distribution, published, timestamp, publish_timestamp, source, "
                   "imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    insert.BindText(1, uuid)
        .BindText(2, info)
        .BindText(3, date)
        .Bind(4, owner)
        .Bind(5, orgc)
        .Bind(6, event.threat_level_id)
        .Bind(7, event.analysis)
        .Bind(8, distribution)
        .Bind(9, event.published ? 1 : 0)
        .Bind(10, event.timestamp != 0 ? event.timestamp : now_)
        .Bind(11, publish_timestamp)
        .BindText(12, event.source)
        .Bind(13, now_);
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    event_id = c_.LastInsertRowid();
    ++stats_->events_added;
  } else {
    event_id = stored->id;
  }
  IOCGRID_ASSIGN_OR_RETURN(bool tags_changed, SyncEventTags(event_id, tags, !stored));

  // ---- Objects: consecutive attributes naming the same object form one object (the ingest
  // model carries no object identity), with a uuid derived from the event uuid and position.
  std::unordered_map<UuidKey, std::pair<int64_t, bool>, UuidKeyHash> stored_objects;
  if (stored) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt, c_.Prepare("SELECT id, uuid, deleted FROM objects WHERE event_id = ?1"));
    stmt.Bind(1, event_id);
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      stored_objects.emplace(KeyOf(stmt.Text(1)), std::make_pair(stmt.Int(0), stmt.Int(2) != 0));
    }
  }
  std::vector<int64_t> used_objects;

  // ---- Attributes.
  std::unordered_map<UuidKey, StoredAttr, UuidKeyHash> stored_attrs;
  if (stored) IOCGRID_RETURN_IF_ERROR(LoadStoredAttributes(event_id, &stored_attrs));
  UuidSet seen;
  seen.reserve(event.attributes.size());
  const int64_t default_timestamp = event.timestamp != 0 ? event.timestamp : now_;
  uint64_t added = 0, updated = 0, unchanged = 0, removed = 0;
  size_t object_ordinal = 0;
  int64_t object_id = 0;
  std::string_view object_name;
  AttrRow row;
  for (size_t i = 0; i < event.attributes.size(); ++i) {
    const ingest::Attribute& a = event.attributes[i];
    row = AttrRow();
    FillRow(a, &row, stats_);

    if (a.object_name.empty()) {
      object_id = 0;
      object_name = {};
    } else if (object_id == 0 || a.object_name != object_name ||
               (i > 0 && event.attributes[i - 1].object_name.empty())) {
      ++object_ordinal;
      object_name = a.object_name;
      const std::string object_uuid = ObjectUuid(uuid, object_ordinal, object_name);
      auto it = stored_objects.find(KeyOf(object_uuid));
      if (it != stored_objects.end()) {
        object_id = it->second.first;
        if (it->second.second) {
          IOCGRID_ASSIGN_OR_RETURN(Statement undelete,
                                   c_.Prepare("UPDATE objects SET deleted = 0 WHERE id = ?1"));
          undelete.Bind(1, object_id);
          IOCGRID_RETURN_IF_ERROR(undelete.Run());
          it->second.second = false;
        }
      } else {
        IOCGRID_ASSIGN_OR_RETURN(
            object_id, InsertObject(event_id, object_uuid, object_name, default_timestamp));
      }
      used_objects.push_back(object_id);
    }
    row.object_id = object_id;

    if (!a.uuid.empty()) {
      IOCGRID_ASSIGN_OR_RETURN(row.uuid, internal::CanonicalUuid(a.uuid));
    } else {
      row.uuid = DerivedAttributeUuid(uuid, a.object_name.empty() ? 0 : object_ordinal, row,
                                      a.indicator.value);
      row.derived_uuid = true;
    }
    if (!stored) {
      // A new event: the uuid UNIQUE index finds repeats, so no in-memory set is needed. A
      // repeated derived uuid is a repeated value (stored once); a repeated explicit uuid is in
      // this batch twice or owned by another event, and fails the batch.
      if (row.timestamp == 0) row.timestamp = default_timestamp;
      Result<int64_t> id = InsertAttribute(event_id, row, 5);
      if (!id.ok()) {
        if (id.status().code() == StatusCode::kAlreadyExists && row.derived_uuid) {
          ++stats_->duplicates;
          Progress();
          continue;
        }
        return id.status().WithContext(context);
      }
      ++added;
      Progress();
      continue;
    }
    const UuidKey key = KeyOf(row.uuid);
    if (!seen.insert(key).second) {
      if (row.derived_uuid) {
        ++stats_->duplicates;
        Progress();
        continue;
      }
      return AlreadyExistsError(context + ": attribute uuid " + row.uuid + " appears twice");
    }

    auto existing = stored_attrs.find(key);
    if (existing == stored_attrs.end()) {
      if (row.timestamp == 0) row.timestamp = default_timestamp;
      IOCGRID_RETURN_IF_ERROR(InsertAttribute(event_id, row, 5).status().WithContext(context));
      ++added;
    } else {
      StoredAttr& s = existing->second;
      s.seen = true;
      if (SameContent(s, row)) {
        ++unchanged;
      } else {
        const int64_t timestamp = row.timestamp != 0 ? row.timestamp : now_;
        IOCGRID_RETURN_IF_ERROR(UpdateAttribute(s.id, row, timestamp, !SameTags(s.tags, row.tags)));
        ++updated;
      }
    }
    Progress();
  }

  if (stored && options_.delete_missing) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement remove,
        c_.Prepare("UPDATE attributes SET deleted = 1, timestamp = ?2 WHERE id = ?1"));
    for (auto& [key, s] : stored_attrs) {
      if (s.seen || s.deleted) continue;
      remove.Bind(1, s.id).Bind(2, now_);
      IOCGRID_RETURN_IF_ERROR(remove.Run());
      remove.Reset();
      ++removed;
    }
    std::sort(used_objects.begin(), used_objects.end());
    for (auto& [key, object] : stored_objects) {
      if (object.second ||
          std::binary_search(used_objects.begin(), used_objects.end(), object.first)) {
        continue;
      }
      IOCGRID_ASSIGN_OR_RETURN(Statement drop,
                               c_.Prepare("UPDATE objects SET deleted = 1 WHERE id = ?1"));
      drop.Bind(1, object.first);
      IOCGRID_RETURN_IF_ERROR(drop.Run());
    }
  }
  stats_->attributes_added += added;
  stats_->attributes_updated += updated;
  stats_->attributes_unchanged += unchanged;
  stats_->attributes_removed += removed;

  // ---- Update a known event's row when anything changed.
  if (stored) {
    const bool fields_changed =
        stored->info != info || stored->date != date || stored->orgc_id != orgc ||
        stored->threat_level_id != event.threat_level_id || stored->analysis != event.analysis ||
        stored->distribution != distribution || stored->published != event.published ||
        stored->publish_timestamp != publish_timestamp || stored->deleted ||
        (event.timestamp != 0 && stored->timestamp != event.timestamp) ||
        (!event.source.empty() && stored->source != event.source);
    const bool changed = fields_changed || tags_changed || added + updated + removed > 0;
    if (changed) {
      IOCGRID_ASSIGN_OR_RETURN(
          Statement update,
          c_.Prepare(
              "UPDATE events SET info = ?2, date = ?3, orgc_id = ?4, threat_level_id = ?5, "
              "analysis = ?6, distribution = ?7, published = ?8, publish_timestamp = ?9, "
              "timestamp = ?10, deleted = 0, source = ?11, imported_at = ?12 WHERE id = ?1"));
      update.Bind(1, event_id)
          .BindText(2, info)
          .BindText(3, date)
          .Bind(4, orgc)
          .Bind(5, event.threat_level_id)
          .Bind(6, event.analysis)
          .Bind(7, distribution)
          .Bind(8, event.published ? 1 : 0)
          .Bind(9, publish_timestamp)
          .Bind(10, event.timestamp != 0 ? event.timestamp : now_)
          .BindText(11, event.source.empty() ? stored->source : event.source)
          .Bind(12, now_);
      IOCGRID_RETURN_IF_ERROR(update.Run());
      ++stats_->events_updated;
    } else {
      ++stats_->events_unchanged;
    }
  }
  stats_->event_ids.push_back(event_id);
  return event_id;
}

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
constexpr uint64_t kBulkThreshold = 50'000;

Result<std::vector<std::string>> DropAttributeIndexesForBulkLoad(Connection& c, uint64_t incoming) {
  std::vector<std::string> ddl;
  if (incoming < kBulkThreshold) return ddl;
  IOCGRID_ASSIGN_OR_RETURN(int64_t existing,
                           c.QueryInt("SELECT coalesce(max(id), 0) FROM attributes"));
  if (static_cast<uint64_t>(existing) >= incoming) return ddl;
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
      ddl.emplace_back(stmt.Text(1));
    }
  }
  for (const std::string& name : names) {
    // Index names come from our own schema, not from input.
    IOCGRID_RETURN_IF_ERROR(c.Exec("DROP INDEX \"" + name + "\""));
  }
  return ddl;
}

}  // namespace

Result<ImportStats> Store::ImportEvents(std::span<const ingest::Event> events,
                                        const ImportOptions& options) {
  ImportStats stats;
  uint64_t incoming = 0;
  for (const ingest::Event& event : events) incoming += event.attributes.size();
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(std::vector<std::string> dropped,
                             DropAttributeIndexesForBulkLoad(c, incoming));
    {
      EventWriter writer(c, *state_, options, &stats);
      // Without the attributes_uuid index, repeats are found in memory: a hash set insert is
      // much cheaper than a random B-tree insert, and the index is rebuilt by one sort below.
      UuidSet bulk_uuids;
      if (!dropped.empty()) {
        bulk_uuids.reserve(incoming + incoming / 8);
        IOCGRID_ASSIGN_OR_RETURN(Statement stmt, c.PrepareOnce("SELECT uuid FROM attributes"));
        while (true) {
          IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          bulk_uuids.insert(KeyOf(stmt.Text(0)));
        }
        writer.set_bulk_uuids(&bulk_uuids);
      }
      for (const ingest::Event& event : events) {
        Result<int64_t> id = writer.Write(event, Mode::kImport, 0);
        if (!id.ok()) {
          return id.status().WithContext(event.source.empty() ? "import" : event.source);
        }
      }
    }
    for (const std::string& ddl : dropped) IOCGRID_RETURN_IF_ERROR(c.Exec(ddl));
    return SetMeta(c, "last_import", std::to_string(state_->Now()));
  });
  IOCGRID_RETURN_IF_ERROR(status);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return stats;
}

Result<int64_t> Store::AddEvent(const ingest::Event& event, const ImportOptions& options) {
  ImportStats stats;
  int64_t id = 0;
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
    EventWriter writer(c, *state_, options, &stats);
    IOCGRID_ASSIGN_OR_RETURN(id, writer.Write(event, Mode::kAdd, 0));
    return Status::Ok();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return id;
}

Result<ImportStats> Store::EditEvent(std::string_view id_or_uuid, const ingest::Event& event,
                                     const ImportOptions& options) {
  ImportStats stats;
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t id, internal::ResolveRef(c, "events", id_or_uuid));
    EventWriter writer(c, *state_, options, &stats);
    return writer.Write(event, Mode::kEdit, id).status();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return stats;
}

Status Store::DeleteEvent(std::string_view id_or_uuid, bool hard) {
  const int64_t now = state_->Now();
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
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
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Status Store::PublishEvent(std::string_view id_or_uuid) {
  const int64_t now = state_->Now();
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
                                                  std::span<const ingest::Attribute> attributes,
                                                  const AddAttributeOptions& options) {
  std::vector<int64_t> ids;
  ImportOptions import_options;
  import_options.delete_missing = false;
  ImportStats stats;
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
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
      const ingest::Attribute& a = attributes[i];
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
      // MISP's uniqueness rule: same event, type, value and category.
      int64_t duplicate = 0;
      {
        IOCGRID_ASSIGN_OR_RETURN(
            Statement find,
            c.Prepare("SELECT id FROM attributes WHERE event_id = ?1 AND type = ?2 AND "
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
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return ids;
}

Status Store::DeleteAttribute(std::string_view id_or_uuid, bool hard) {
  const int64_t now = state_->Now();
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
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
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Result<std::vector<Sighting>> Store::AddSighting(const SightingRequest& request) {
  if (request.type < 0 || request.type > 2) {
    return InvalidArgumentError(
        "Invalid type, must be 0 (sighting), 1 (false positive) or 2 "
        "(expiration)");
  }
  if (request.attribute.empty() && request.values.empty()) {
    return InvalidArgumentError("No valid attributes found.");
  }
  const int64_t now = state_->Now();
  const int64_t when = request.timestamp != 0 ? request.timestamp : now;
  std::vector<Sighting> created;
  Status status = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
    int64_t org_id = request.org_id;
    if (org_id == 0) {
      IOCGRID_ASSIGN_OR_RETURN(org_id, internal::EnsureOrgId(c, state_->options.local_org, now));
    }
    // (attribute id, event id) of every live target.
    std::vector<std::pair<int64_t, int64_t>> targets;
    auto collect = [&](Statement& stmt) -> Status {
      while (true) {
        IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return Status::Ok();
        targets.emplace_back(stmt.Int(0), stmt.Int(1));
      }
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
    if (targets.empty()) {
      return NotFoundError(
          "Could not add the Sighting. Reason: No valid attributes found that match the "
          "criteria.");
    }
    for (const auto& [attribute_id, event_id] : targets) {
      if (request.type == 2) {
        IOCGRID_ASSIGN_OR_RETURN(
            Statement clear,
            c.Prepare("DELETE FROM sightings WHERE attribute_id = ?1 AND org_id = ?2 AND "
                      "type = 2"));
        clear.Bind(1, attribute_id).Bind(2, org_id);
        IOCGRID_RETURN_IF_ERROR(clear.Run());
      }
      Sighting s;
      s.uuid = internal::RandomUuid();
      s.attribute_id = attribute_id;
      s.event_id = event_id;
      s.org_id = org_id;
      s.date_sighting = when;
      s.source = request.source;
      s.type = request.type;
      IOCGRID_ASSIGN_OR_RETURN(
          Statement insert,
          c.Prepare("INSERT INTO sightings (uuid, attribute_id, event_id, org_id, date_sighting, "
                    "source, type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      insert.BindText(1, s.uuid)
          .Bind(2, s.attribute_id)
          .Bind(3, s.event_id)
          .Bind(4, s.org_id)
          .Bind(5, s.date_sighting)
          .BindText(6, s.source)
          .Bind(7, s.type);
      IOCGRID_RETURN_IF_ERROR(insert.Run());
      s.id = c.LastInsertRowid();
      created.push_back(std::move(s));
    }
    return Status::Ok();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return created;
}

namespace {

std::string AuditValues(const std::vector<std::string>& values) {
  std::string joined;
  for (const std::string& v : values) {
    if (!joined.empty()) joined += '\n';
    joined += v;
  }
  return joined;
}

}  // namespace

Result<int64_t> Store::AppendAudit(const AuditEntry& entry) {
  if (entry.action.empty()) return InvalidArgumentError("audit entry without action");
  const int64_t now = entry.time != 0 ? entry.time : state_->Now();
  const bool keep_values = state_->options.audit_values && !entry.values.empty();
  const std::string values = keep_values ? AuditValues(entry.values) : std::string();
  int64_t id = 0;
  Status st = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO audit_log (time, user_id, key_id, org_id, action, endpoint, remote, "
                  "value_count, status, query_values) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                  "?10)"));
    insert.Bind(1, now)
        .Bind(2, entry.user_id)
        .Bind(3, entry.key_id)
        .Bind(4, entry.org_id)
        .BindText(5, entry.action)
        .BindText(6, entry.endpoint)
        .BindText(7, entry.remote)
        .Bind(8, static_cast<int64_t>(entry.value_count))
        .Bind(9, entry.status);
    if (keep_values) {
      insert.BindText(10, values);
    } else {
      insert.BindNull(10);
    }
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    id = c.LastInsertRowid();
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  return id;
}

Status Store::UpdateAudit(int64_t id, int status, uint64_t value_count,
                          const std::vector<std::string>& values) {
  const bool keep_values = state_->options.audit_values && !values.empty();
  const std::string joined = keep_values ? AuditValues(values) : std::string();
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement update,
        c.Prepare("UPDATE audit_log SET status = ?2, value_count = ?3, query_values = ?4 "
                  "WHERE id = ?1"));
    update.Bind(1, id).Bind(2, status).Bind(3, static_cast<int64_t>(value_count));
    if (keep_values) {
      update.BindText(4, joined);
    } else {
      update.BindNull(4);
    }
    IOCGRID_RETURN_IF_ERROR(update.Run());
    if (c.Changes() == 0) return NotFoundError("no audit row " + std::to_string(id));
    return Status();
  });
}

}  // namespace iocgrid::store
