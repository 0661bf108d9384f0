// Filters for Store::SearchAttributes and Store::ListEvents, shaped after MISP's restSearch
// (misp-api.md section 2.2): each list filter has an OR list (any may match) and a NOT list (none
// may match); empty lists filter nothing. The node parses MISP's JSON into these; the store turns
// them into one SQL statement with bound parameters only.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iocgrid::store {

struct ListFilter {
  std::vector<std::string> any;   // OR
  std::vector<std::string> none;  // NOT

  bool empty() const { return any.empty() && none.empty(); }
};

// Inclusive range; an unset end is open.
struct TimeRange {
  std::optional<int64_t> from;
  std::optional<int64_t> to;

  bool empty() const { return !from && !to; }
};

enum class DeletedFilter : uint8_t { kExclude, kOnly, kBoth };

// Sort fields allowed by MISP's `order` ("Attribute.timestamp desc").
enum class AttributeOrder : uint8_t {
  kId,
  kEventId,
  kObjectId,
  kType,
  kCategory,
  kValue,
  kDistribution,
  kTimestamp,
  kObjectRelation,
  kEventPublishTimestamp,
};

struct AttributeQuery {
  // Exact, case-insensitive (ASCII) match on value1 OR value2 (either half of a composite).
  // A value starting or ending with '%' is a LIKE pattern instead (MISP's wildcard rule).
  ListFilter value;
  ListFilter value1;  // same, on one column only
  ListFilter value2;
  ListFilter type;  // MISP type names; "email-src"/"email-dst" also match "email"
  ListFilter category;
  // Tag names (case-insensitive, '%' wildcard anywhere); OR matches the attribute's own tag or
  // a tag of its event; NOT excludes attributes holding the tag either way.
  ListFilter tags;
  ListFilter event;  // event ids or uuids
  ListFilter uuid;   // attribute uuids
  ListFilter org;    // creator org: id, name or uuid (unknown names match nothing)
  ListFilter object_relation;
  std::optional<std::string> eventinfo;  // LIKE pattern on Event.info ('%' wildcards)
  std::optional<bool> to_ids;
  std::optional<bool> published;
  std::optional<int> threat_level_id;
  DeletedFilter deleted = DeletedFilter::kExclude;  // soft-deleted attributes
  TimeRange timestamp;                              // Attribute.timestamp (unix seconds)
  TimeRange event_timestamp;                        // Event.timestamp
  TimeRange publish_timestamp;                      // Event.publish_timestamp (MISP `last`)
  TimeRange first_seen_us;                          // Attribute.first_seen (unix microseconds)
  TimeRange last_seen_us;
  std::optional<std::string> date_from;  // Event.date >= (YYYY-MM-DD, compared as text)
  std::optional<std::string> date_to;    // Event.date <=
  bool include_deleted_events = false;   // rows of soft-deleted events too

  // Paging: limit 0 = all rows; page is 1-based (page 3, limit 100 = rows 201..300).
  uint32_t limit = 0;
  uint32_t page = 1;
  AttributeOrder order = AttributeOrder::kId;
  bool descending = false;

  // What to attach to each row.
  bool include_event_tags = false;  // event tags appended to the row's tags, inherited = true
  bool include_sightings = false;   // SightingCounts per row
};

// Filters for the event index (MISP /events/index). Attribute-level filters select events
// holding at least one matching live attribute.
struct EventQuery {
  ListFilter event;                      // ids or uuids
  ListFilter org;                        // creator org: id, name or uuid
  ListFilter tags;                       // event tags, '%' wildcard
  ListFilter value;                      // events with an attribute whose value matches (as above)
  std::optional<std::string> eventinfo;  // LIKE pattern
  std::optional<bool> published;
  std::optional<int> threat_level_id;
  std::optional<int> analysis;
  std::optional<int> distribution;
  std::optional<std::string> date_from;
  std::optional<std::string> date_to;
  TimeRange timestamp;
  TimeRange publish_timestamp;
  bool include_deleted = false;
  uint32_t limit = 0;
  uint32_t page = 1;
  bool descending = false;  // by id
};

}  // namespace iocgrid::store
