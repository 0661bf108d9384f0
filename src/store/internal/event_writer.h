// EventWriter: writes ingest events into the store inside the caller's transaction. Shared by
// the Store's write methods (store_write.cc). Its methods live in files named by job:
// event_writer.cc (one event: which row, its fields, the attribute loop, the diff against a
// stored event), attribute_rows.cc (attribute and object rows), tag_rows.cc (tags and orgs).
//
// Thread-safety: used by one thread, on the writer connection inside RunWrite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "core/event.h"
#include "sqlite/connection.h"
#include "store/internal/store_state.h"
#include "store/internal/uuid_set.h"
#include "store/options.h"
#include "store/records.h"

namespace iocgrid::store::internal {

// One attribute ready for SQL. Views point into the core::Attribute or static type tables.
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

// Fills everything but uuid, object_id and timestamp defaults from `a`; counts unparsable
// first/last_seen in `stats` when given.
void FillRow(const core::Attribute& a, AttrRow* row, ImportStats* stats);

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
using StoredAttrs = std::unordered_map<UuidKey, StoredAttr, UuidKeyHash>;

// True when writing `r` over `s` would change nothing.
bool SameContent(const StoredAttr& s, const AttrRow& r);

struct StoredEvent {
  int64_t id = 0;
  std::string uuid, info, date, source;
  int64_t org_id = 0, orgc_id = 0;
  int threat_level_id = 4, analysis = 0, distribution = 0;
  bool published = false;
  int64_t timestamp = 0, publish_timestamp = 0;
  bool deleted = false;
};

enum class WriteMode : uint8_t {
  kImport,  // create or update by uuid (derived when missing)
  kAdd,     // create only (random uuid when missing)
  kEdit,    // update a given event
};

// Writes events inside one transaction. Caches tag and org ids for the transaction.
class EventWriter {
 public:
  EventWriter(Connection& c, StoreState& state, const ImportOptions& options, ImportStats* stats)
      : c_(c), state_(state), options_(options), stats_(stats), now_(state.options.clock.Now()) {}

  // Returns the event id.
  Result<int64_t> Write(const core::Event& event, WriteMode mode, int64_t target_id);
  // The uuid an import (kImport) of `event` would create, or none when it names a stored event
  // (or a uuid that is unusable: the write then reports the error).
  Result<std::optional<std::string>> NewEventUuid(const core::Event& event);

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
  // The uuid an event is stored under: its own, else random (kAdd) or derived from its source
  // and info, so that re-importing the same list finds the same event.
  Result<std::string> TargetUuid(const core::Event& event, WriteMode mode) const;
  // The event being written: its stored row (none when new), uuid and id.
  struct Target {
    std::optional<StoredEvent> stored;
    std::string uuid;
    int64_t id = 0;
    std::string context;  // "event <uuid>", for messages
  };
  // The event row's values after defaults and validation.
  struct Fields {
    std::string info, date;
    int64_t owner = 0, orgc = 0, publish_timestamp = 0;
    int distribution = 0;
    std::vector<std::string> tags;
  };
  // Objects of the event: consecutive attributes naming the same object form one object (the
  // ingest model carries no object identity), with a uuid derived from the event's and position.
  struct Objects {
    std::unordered_map<UuidKey, std::pair<int64_t, bool>, UuidKeyHash> stored;  // id, deleted
    std::vector<int64_t> used;
    size_t ordinal = 0;
    int64_t id = 0;
    std::string_view name;
  };
  struct Counts {
    uint64_t added = 0, updated = 0, unchanged = 0, removed = 0;
  };

  // event_writer.cc: the steps of Write.
  Result<Target> ResolveTarget(const core::Event& event, WriteMode mode, int64_t target_id);
  Result<Fields> ResolveFields(const core::Event& event, const Target& target);
  Result<int64_t> InsertEventRow(const core::Event& event, const Target& target,
                                 const Fields& fields);
  // Binds ?2-?12 of the INSERT and the UPDATE of an events row: the columns both write.
  void BindEventColumns(Statement& s, const core::Event& event, const Fields& fields,
                        std::string_view source) const;
  Status WriteAttributes(const core::Event& event, const Target& target, Counts* counts);
  Result<int64_t> ObjectFor(const core::Event& event, size_t i, const Target& target,
                            int64_t default_timestamp, Objects* objects);
  Status WriteAttribute(AttrRow& row, const Target& target, int64_t default_timestamp,
                        StoredAttrs* stored_attrs, UuidSet* seen, Counts* counts);
  Status RemoveMissing(StoredAttrs& stored_attrs, Objects& objects, Counts* counts);
  Status UpdateEventRow(const core::Event& event, const Target& target, const Fields& fields,
                        bool rows_changed);
  Result<std::optional<StoredEvent>> FindEvent(std::string_view uuid, int64_t id);

  // tag_rows.cc
  Result<bool> SyncEventTags(int64_t event_id, const std::vector<std::string>& tags, bool fresh);

  // attribute_rows.cc
  Status LoadStoredAttributes(int64_t event_id, StoredAttrs* out);
  Status LoadStoredObjects(int64_t event_id, Objects* objects);

  void Progress();

  Connection& c_;
  StoreState& state_;  // its inserted-attribute runs (NoteInsertedAttribute)
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

}  // namespace iocgrid::store::internal
