// The model of member data: MISP events with their attributes. Every loader in ingest/
// (warninglist, MISP event JSON, CSV/TSV, plain list, IPsum, STIX) produces Events, the match
// CLI indexes their attributes, the node's store persists them and its API reads them. It lives
// in core so that store depends on core, not on the importers (DESIGN.md's target graph).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/indicator.h"

namespace iocgrid::core {

struct Attribute {
  Indicator indicator;   // normalized
  std::string category;  // MISP category; empty means the type's default
  bool to_ids = false;
  std::string uuid;  // MISP attribute uuid, empty when the source has none
  std::string comment;
  std::vector<std::string> tags;
  int64_t timestamp = 0;   // unix seconds; 0 when unknown
  std::string first_seen;  // ISO-8601 as given, empty when unknown
  std::string last_seen;
  std::string object_name;  // MISP object the attribute belongs to, empty for none
  std::string object_relation;
  uint32_t sighting_count = 0;  // e.g. the IPsum count of blacklists, a MISP Sighting[] count
  uint32_t line = 0;            // 1-based line in the source file; 0 when unknown
  // MISP distribution 0-4, or 5 (inherit from the object or the event), as the source gave it;
  // with sharing_group_id for 4. A MISP mirror filters on it; the store keeps its own.
  int distribution = 5;
  std::string sharing_group_id;
};

struct Event {
  std::string uuid;  // empty when the source has none (lists, CSV)
  std::string info;  // event info, or the warninglist / file name
  std::string date;  // YYYY-MM-DD, empty when unknown
  std::string org;   // creator organisation name, empty when unknown
  std::vector<std::string> tags;
  int64_t timestamp = 0;
  int threat_level_id = 4;  // MISP: 1 high .. 4 undefined
  int analysis = 0;
  int distribution = 0;
  std::string sharing_group_id;    // MISP sharing_group_id, for distribution 4
  std::string sharing_group_uuid;  // its SharingGroup.uuid when the source names it
  bool published = false;
  std::string source;                 // the file it came from
  std::vector<Attribute> attributes;  // object attributes included, with object_name set
};

}  // namespace iocgrid::core
