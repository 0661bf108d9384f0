// The rows the store hands out: organisations, users, API keys, events, objects, attributes, tags,
// sightings, audit entries and statistics. Field meanings follow MISP (docs/store-schema.md maps
// each to its column); ids are the store's integer row ids, uuids are lower-case canonical text.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/indicator_type.h"

namespace iocgrid::store {

enum class Role : uint8_t { kAdmin, kUser };

// "admin" / "user".
std::string_view RoleName(Role role);
// Inverse of RoleName (exact, lower-case); false when unknown.
bool ParseRole(std::string_view name, Role* out);

struct Organisation {
  int64_t id = 0;
  std::string uuid;
  std::string name;
  bool local = true;
  int64_t created = 0;  // unix seconds
};

struct User {
  int64_t id = 0;
  std::string email;
  int64_t org_id = 0;
  Role role = Role::kUser;
  bool disabled = false;
  int64_t created = 0;
};

// Returned once by Store::CreateKey; the clear key is never stored and cannot be read back.
struct NewApiKey {
  int64_t key_id = 0;
  std::string key;  // 40 characters [A-Za-z0-9]
};

// A key as listed: never the key itself, only MISP's first-4/last-4 hint.
struct ApiKeyInfo {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string user_email;
  std::string org_name;
  Role role = Role::kUser;
  std::string key_start;  // first 4 characters
  std::string key_end;    // last 4 characters
  std::string comment;
  int64_t created = 0;
  int64_t expires = 0;    // unix seconds; 0 = never
  int64_t revoked = 0;    // unix seconds when revoked; 0 = live
  int64_t last_used = 0;  // unix seconds; 0 = never
};

// Who a valid key belongs to.
struct AuthContext {
  int64_t key_id = 0;
  int64_t key_expires = 0;  // 0 = never
  User user;
  Organisation org;
};

struct Tag {
  int64_t id = 0;
  std::string name;
  std::string colour;  // "#rrggbb", derived from the name when the source gave none
  bool exportable = true;
  bool local = false;
  bool inherited = false;  // set on an attribute's copy of its event's tag (includeEventTags)
};

// Sighting counts of one attribute. `sightings` includes the count the source carried
// (e.g. IPsum's number of lists, kept as `import_sightings`).
struct SightingCounts {
  uint64_t sightings = 0;        // type 0, plus import_sightings
  uint64_t false_positives = 0;  // type 1
  uint64_t expirations = 0;      // type 2
  int64_t last_seen = 0;         // newest date_sighting; 0 = none
};

// One sighting as MISP lists it inside an attribute (`Sighting` list): the sighting and its
// organisation.
struct AttributeSighting {
  int64_t id = 0;
  std::string uuid;
  int64_t org_id = 0;
  int64_t date_sighting = 0;
  std::string source;
  int type = 0;
  std::string org_name;
  std::string org_uuid;
};

struct AttributeRecord {
  int64_t id = 0;
  std::string uuid;
  int64_t event_id = 0;
  int64_t object_id = 0;        // 0 = not in an object (MISP's "0")
  std::string object_relation;  // empty = none (MISP null)
  core::IndicatorType type = core::IndicatorType::kOther;
  std::string category;
  std::string value1;  // left half of a composite, or the whole value
  std::string value2;  // right half of a composite, else empty
  std::string value;   // value1, or value1|value2 for composites (MISP's virtual field)
  bool to_ids = false;
  int distribution = 5;  // 0..5, 5 = inherit the event's
  std::string comment;
  int64_t timestamp = 0;                 // unix seconds
  std::optional<int64_t> first_seen_us;  // unix microseconds
  std::optional<int64_t> last_seen_us;
  bool deleted = false;
  uint32_t import_sightings = 0;                 // the sighting count the source carried
  std::vector<Tag> tags;                         // own tags, then (when asked) inherited event tags
  std::optional<SightingCounts> sightings;       // when asked for
  std::vector<AttributeSighting> sighting_list;  // when asked for, oldest first (at most 1,000)
};

struct ObjectRecord {
  int64_t id = 0;
  std::string uuid;
  int64_t event_id = 0;
  std::string name;
  std::string meta_category;
  std::string comment;
  int distribution = 5;
  int64_t timestamp = 0;
  bool deleted = false;
  std::vector<AttributeRecord> attributes;
};

// An event's own columns plus its organisations and tags (no attributes).
struct EventInfo {
  int64_t id = 0;
  std::string uuid;
  std::string info;
  std::string date;     // YYYY-MM-DD
  int64_t org_id = 0;   // owner (the node's org for imports)
  int64_t orgc_id = 0;  // creator
  std::string org_name;
  std::string org_uuid;
  std::string orgc_name;
  std::string orgc_uuid;
  int threat_level_id = 4;
  int analysis = 0;
  int distribution = 0;
  bool published = false;
  int64_t timestamp = 0;
  int64_t publish_timestamp = 0;
  bool deleted = false;
  std::string source;              // the file or feed it was imported from; empty for API adds
  int64_t attribute_count = 0;     // live attributes; GetEvent/ListEvents only (0 in search rows)
  int64_t sighting_timestamp = 0;  // newest sighting's time; GetEvent/ListEvents only
  std::vector<Tag> tags;
};

struct EventRecord {
  EventInfo event;
  std::vector<AttributeRecord> attributes;  // attributes outside objects
  std::vector<ObjectRecord> objects;
};

// The result of an attribute search: the page of attributes plus, once each, the events they
// belong to (sorted by id; find an attribute's with FindEvent).
struct AttributeSearchResult {
  std::vector<AttributeRecord> attributes;
  std::vector<EventInfo> events;

  const EventInfo* FindEvent(int64_t event_id) const;
};

struct Sighting {
  int64_t id = 0;
  std::string uuid;
  int64_t attribute_id = 0;
  int64_t event_id = 0;
  int64_t org_id = 0;
  int64_t date_sighting = 0;  // unix seconds
  std::string source;
  int type = 0;  // 0 sighting, 1 false positive, 2 expiration
};

// A sighting with what sightings/restSearch shows beside it: the sighted attribute, its event
// and the sighting's organisation.
struct SightingRecord {
  Sighting sighting;
  std::string org_name;
  std::string org_uuid;
  std::string value;  // the attribute's value (value1|value2 for composites)
  std::string attribute_uuid;
  std::string attribute_type;
  std::string attribute_category;
  bool attribute_to_ids = false;
  std::string event_uuid;
  std::string event_info;
  int64_t event_org_id = 0;
  int64_t event_orgc_id = 0;
  std::string event_orgc_name;
};

struct AuditEntry {
  int64_t id = 0;       // set by the store
  int64_t time = 0;     // unix seconds; 0 = now
  int64_t user_id = 0;  // 0 = anonymous / failed authentication
  int64_t key_id = 0;
  int64_t org_id = 0;
  std::string action;        // e.g. "attributes/restSearch", "import", "keys/create"
  std::string endpoint;      // URL path or file, as the caller names it
  std::string remote;        // peer address, when any
  uint64_t value_count = 0;  // how many values the request carried
  int status = 0;            // HTTP status, or 0/1 for CLI actions
  // Queried values: stored only when StoreOptions::audit_values is set; read back only then.
  std::vector<std::string> values;
};

// One live attribute, as the match index needs it. `value` is the normalized indicator value
// (composites as "left|right") and is valid only during the callback.
struct LiveAttribute {
  int64_t id = 0;
  int64_t event_id = 0;
  core::IndicatorType type = core::IndicatorType::kOther;
  std::string_view value;
};

// What Store::ReadIndexChanges found after a sequence number.
struct IndexChanges {
  std::vector<int64_t> attribute_ids;  // distinct, sorted
  int64_t upto = 0;                    // the last change read (after_seq when none)
  bool overflow = false;               // more than `limit` ids changed: read to `upto` only
  bool gap = false;  // changes after after_seq were trimmed: a delta cannot be rebuilt from here
};

struct StoreStats {
  uint64_t events = 0;      // not deleted
  uint64_t attributes = 0;  // live: not deleted, in a live event
  uint64_t objects = 0;
  uint64_t sightings = 0;
  std::vector<std::pair<std::string, uint64_t>> attributes_by_type;  // sorted by type name
  int64_t first_timestamp = 0;  // oldest / newest live attribute timestamp; 0 when empty
  int64_t last_timestamp = 0;
  std::string first_date;  // oldest / newest live event date; empty when empty
  std::string last_date;
  int64_t last_import = 0;  // unix seconds of the last ImportEvents commit; 0 = never
};

// Counts of one import or edit. An attribute is "unchanged" when every stored field already
// equals the incoming one; "duplicates" are repeated values without a uuid in one event,
// stored once.
struct ImportStats {
  uint64_t events_added = 0;
  uint64_t events_updated = 0;
  uint64_t events_unchanged = 0;
  uint64_t attributes_added = 0;
  uint64_t attributes_updated = 0;
  uint64_t attributes_unchanged = 0;
  uint64_t attributes_removed = 0;  // soft-deleted because the re-imported event lacks them
  uint64_t duplicates = 0;
  uint64_t invalid_seen = 0;       // first_seen/last_seen that did not parse, stored as unknown
  std::vector<int64_t> event_ids;  // in input order
};

// ---- Private search (issue 10; docs/private-search.md "Member store") ----------------------

// Where an OPRF key is in its life (docs/private-search.md "Key rotation"): a rotation stores
// the next epoch's key as preparing while the node re-tags its data under it; the switch makes
// it active and the old one retired, which the node still answers for a grace period and then
// deletes with its tags.
enum class PsiKeyState { kPreparing, kActive, kRetired };

// One of the node's OPRF keys. `secret` is the serialised scalar (psi::OprfKey); never logged.
struct PsiKey {
  uint32_t epoch = 0;
  std::string secret;
  int64_t created = 0;  // unix seconds
  PsiKeyState state = PsiKeyState::kActive;
  int64_t changed = 0;      // unix seconds it reached `state`
  std::string retag_after;  // preparing: the last key string of the active epoch re-tagged
};

// The node's keys by state; at most one of each.
struct PsiKeys {
  std::optional<PsiKey> preparing;
  std::optional<PsiKey> active;
  std::optional<PsiKey> retired;
};

// An attribute whose keys need new tags or labels: its value before the change (empty when it
// was new or only its context changed).
struct PsiDirty {
  int64_t seq = 0;
  int64_t attribute_id = 0;
  std::string old_type;  // MISP type name
  std::string old_value;
};

// A key string's stored state: the tag, the OPRF output it came from, the sealed label.
struct PsiTagRow {
  std::string key;
  bool below = false;  // a below key (psi/keys.h): a separate download class
  std::string tag;     // psi::kTagBytes bytes
  std::string prf;     // psi::kPointBytes bytes
  std::string label;   // sealed; empty for a removed key
  bool live = true;    // false: the key no longer has entries (kept so that syncs see it go)
};

// Rows to apply under one epoch (Store::ApplyPsiChanges); a view of the caller's rows.
struct PsiEpochRows {
  uint32_t epoch = 0;
  std::span<const PsiTagRow> rows;
};

// One row of a tag listing (a full-set or change page).
struct PsiTagListing {
  int64_t id = 0;
  int64_t generation = 0;
  std::string tag;
  bool live = true;
};

// ---- MISP mirror (issue 14; docs/mirror.md) ---------------------------------------------------

// The version of a mirrored event the node holds: the source's event timestamp (-1: never
// mirrored) and sighting timestamp (MISP's events/index `sighting_timestamp`; 0 when unknown).
struct MirroredVersion {
  int64_t timestamp = -1;
  int64_t sighting_timestamp = 0;
};

// One mirrored event's record (Store::RecordMirroredEvents).
struct MirroredEventRecord {
  std::string uuid;  // lower case
  MirroredVersion version;
  bool kept = false;  // written to the store, or left out by distribution
};

// Where a node's mirror of a MISP stands. One per store: a node mirrors one MISP.
struct MirrorState {
  std::string source;        // the MISP's URL; empty before the first sweep
  int64_t since = 0;         // event timestamp up to which every change was mirrored
  int64_t last_attempt = 0;  // unix seconds a sweep last started
  int64_t last_success = 0;  // ... last finished without error
  int64_t last_full = 0;     // ... last finished a full listing (deletions found)
  std::string error;         // the last sweep's error, empty after a success
  uint64_t events = 0;       // events listed and kept (distribution allowed)
  uint64_t filtered = 0;     // events listed but not kept (distribution)
};

struct PsiStats {
  uint64_t generation = 0;  // bumped by every ApplyPsiChanges
  uint64_t tags = 0;        // live value and range keys
  uint64_t below_tags = 0;  // live below keys
  uint64_t pending = 0;     // attributes waiting for new tags or labels
};

}  // namespace iocgrid::store
