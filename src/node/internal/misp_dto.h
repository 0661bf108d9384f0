// MISP JSON shapes at the node's edge (STYLE.md section 7: DTOs live at the edges): rendering
// store rows as MISP renders them (string ids, boolean flags, the Event block inside each
// restSearch attribute, Tag lists), and reading MISP event/attribute JSON from clients.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "common/result.h"
#include "core/event.h"
#include "store/records.h"

namespace iocgrid::node {

// One element of attributes/restSearch's "Attribute" list (misp-api.md section 2.6).
void WriteSearchAttribute(JsonWriter& w, const store::AttributeRecord& a,
                          const store::EventInfo* event, bool include_event_uuid,
                          bool include_context);

// The {"Event": {...}} body of events/view (section 3.2); `metadata` leaves out attributes and
// objects.
void WriteEvent(JsonWriter& w, const store::EventRecord& e, bool metadata);

// One event row of events/index (section 3.4).
void WriteEventIndexRow(JsonWriter& w, const store::EventInfo& e);

// A full attribute as inside an event (section 3.2).
void WriteAttribute(JsonWriter& w, const store::AttributeRecord& a);

void WriteTags(JsonWriter& w, const std::vector<store::Tag>& tags);

// The fields MISP gives every Sighting (id, attribute_id, event_id, org_id, date_sighting,
// uuid, source, type) into an object the caller opened; and an `Organisation` object.
void WriteSightingFields(JsonWriter& w, const store::Sighting& s);
void WriteOrganisation(JsonWriter& w, int64_t id, std::string_view uuid, std::string_view name);

// "2024-01-31T12:00:00.000000+00:00" or null.
void WriteSeen(JsonWriter& w, const std::optional<int64_t>& unix_us);

// Reads an event as PyMISP sends it to events/add and events/edit: {"Event": {...}} or bare,
// with Attribute[], Object[] (each with Attribute[]) and Tag[]. Every attribute's value is
// parsed and normalized per its type. Errors: kInvalidArgument naming the first bad field
// (e.g. "Attribute 3 (ip-dst): not an IP address").
Result<core::Event> ParseEventJson(const nlohmann::json& body, bool require_info);

// Checks what ParseEventJson would take for a malformed request rather than invalid data: the
// event is an object, Attribute and Object (and each object's Attribute) are lists, and every
// timestamp is unix seconds up to the year 9999. Errors: kInvalidArgument naming the field
// (the node answers 400; data errors from ParseEventJson are MISP's 403 saveFail).
Status CheckEventShape(const nlohmann::json& body);

// Reads one attribute as sent to attributes/add. Errors: kInvalidArgument.
Result<core::Attribute> ParseAttributeJson(const nlohmann::json& body);

}  // namespace iocgrid::node
