#include "node/internal/misp_dto.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/indicator.h"
#include "node/internal/search_params.h"
#include "store/number.h"
#include "store/time_format.h"

namespace iocgrid::node {

using json = nlohmann::json;

void WriteSeen(JsonWriter& w, const std::optional<int64_t>& unix_us) {
  if (unix_us) {
    w.String(store::FormatIsoMicros(*unix_us));
  } else {
    w.Null();
  }
}

void WriteTags(JsonWriter& w, const std::vector<store::Tag>& tags) {
  w.BeginArray();
  for (const store::Tag& t : tags) {
    w.BeginObject();
    w.FieldId("id", t.id);
    w.Field("name", t.name);
    w.Field("colour", t.colour);
    w.Field("exportable", t.exportable);
    w.FieldId("user_id", 0);
    w.Field("hide_tag", false);
    w.FieldNull("numerical_value");
    w.Field("is_galaxy", t.name.rfind("misp-galaxy:", 0) == 0);
    w.Field("is_custom_galaxy", false);
    w.Field("local_only", false);
    w.Field("local", t.local);
    if (t.inherited) w.FieldInt("inherited", 1);
    w.EndObject();
  }
  w.EndArray();
}

void WriteSightingFields(JsonWriter& w, const store::Sighting& s) {
  w.FieldId("id", s.id);
  w.FieldId("attribute_id", s.attribute_id);
  w.FieldId("event_id", s.event_id);
  w.FieldId("org_id", s.org_id);
  w.FieldId("date_sighting", s.date_sighting);
  w.Field("uuid", s.uuid);
  w.Field("source", s.source);
  w.FieldId("type", s.type);
}

void WriteOrganisation(JsonWriter& w, int64_t id, std::string_view uuid, std::string_view name) {
  w.Key("Organisation");
  w.BeginObject();
  w.FieldId("id", id);
  w.Field("uuid", uuid);
  w.Field("name", name);
  w.EndObject();
}

namespace {

void WriteAttributeCore(JsonWriter& w, const store::AttributeRecord& a) {
  w.FieldId("id", a.id);
  w.FieldId("event_id", a.event_id);
  w.FieldId("object_id", a.object_id);
  w.Key("object_relation");
  if (a.object_relation.empty()) {
    w.Null();
  } else {
    w.String(a.object_relation);
  }
  w.Field("category", a.category);
  w.Field("type", core::TypeName(a.type));
  w.Field("to_ids", a.to_ids);
  w.Field("uuid", a.uuid);
  w.FieldId("timestamp", a.timestamp);
  w.FieldId("distribution", a.distribution);
  w.FieldId("sharing_group_id", 0);
  w.Field("comment", a.comment);
  w.Field("deleted", a.deleted);
  w.Field("disable_correlation", false);
  w.Key("first_seen");
  WriteSeen(w, a.first_seen_us);
  w.Key("last_seen");
  WriteSeen(w, a.last_seen_us);
  w.Field("value", a.value);
}

// An Org/Orgc object; the event index (GET /events) has no "local" in it.
void WriteOrg(JsonWriter& w, int64_t id, const std::string& name, const std::string& uuid,
              bool with_local = true) {
  w.BeginObject();
  w.FieldId("id", id);
  w.Field("name", name);
  w.Field("uuid", uuid);
  if (with_local) w.Field("local", true);
  w.EndObject();
}

void WriteEventColumns(JsonWriter& w, const store::EventInfo& e) {
  w.FieldId("id", e.id);
  w.FieldId("orgc_id", e.orgc_id);
  w.FieldId("org_id", e.org_id);
  w.Field("date", e.date);
  w.FieldId("threat_level_id", e.threat_level_id);
  w.Field("info", e.info);
  w.Field("published", e.published);
  w.Field("uuid", e.uuid);
  w.FieldId("attribute_count", e.attribute_count);
  w.FieldId("analysis", e.analysis);
  w.FieldId("timestamp", e.timestamp);
  w.FieldId("distribution", e.distribution);
  w.Field("proposal_email_lock", false);
  w.Field("locked", false);
  w.FieldId("publish_timestamp", e.publish_timestamp);
  w.FieldId("sharing_group_id", 0);
  w.Field("disable_correlation", false);
  w.Field("extends_uuid", "");
  w.Field("protected", false);
}

void WriteSightingsIfAny(JsonWriter& w, const store::AttributeRecord& a) {
  if (!a.sightings) return;
  w.Key("Sighting_count");
  w.BeginObject();
  w.FieldInt("sightings", static_cast<int64_t>(a.sightings->sightings));
  w.FieldInt("false_positives", static_cast<int64_t>(a.sightings->false_positives));
  w.FieldInt("expirations", static_cast<int64_t>(a.sightings->expirations));
  w.EndObject();
  // MISP's list of the sightings themselves (as in events/view and includeSightings).
  w.Key("Sighting");
  w.BeginArray();
  for (const store::AttributeSighting& s : a.sighting_list) {
    w.BeginObject();
    WriteSightingFields(w, store::Sighting{.id = s.id,
                                           .uuid = s.uuid,
                                           .attribute_id = a.id,
                                           .event_id = a.event_id,
                                           .org_id = s.org_id,
                                           .date_sighting = s.date_sighting,
                                           .source = s.source,
                                           .type = s.type});
    w.Field("attribute_uuid", a.uuid);
    WriteOrganisation(w, s.org_id, s.org_uuid, s.org_name);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

void WriteAttribute(JsonWriter& w, const store::AttributeRecord& a) {
  w.BeginObject();
  WriteAttributeCore(w, a);
  if (!a.tags.empty()) {
    w.Key("Tag");
    WriteTags(w, a.tags);
  }
  WriteSightingsIfAny(w, a);
  w.EndObject();
}

void WriteSearchAttribute(JsonWriter& w, const store::AttributeRecord& a,
                          const store::EventInfo* event, bool include_event_uuid,
                          bool include_context) {
  w.BeginObject();
  WriteAttributeCore(w, a);
  if (include_event_uuid && event) w.Field("event_uuid", event->uuid);
  w.Key("Event");
  w.BeginObject();
  if (event) {
    if (include_context) {
      WriteEventColumns(w, *event);
      w.Key("Orgc");
      WriteOrg(w, event->orgc_id, event->orgc_name, event->orgc_uuid);
      w.Key("Tag");
      WriteTags(w, event->tags);
    } else {
      // The restSearch `fields` then the contain, in MISP's order (misp-api.md 2.6).
      w.FieldId("org_id", event->org_id);
      w.FieldId("distribution", event->distribution);
      w.FieldId("publish_timestamp", event->publish_timestamp);
      w.FieldId("id", event->id);
      w.Field("info", event->info);
      w.FieldId("orgc_id", event->orgc_id);
      w.Field("uuid", event->uuid);
    }
  }
  w.EndObject();
  if (!a.tags.empty()) {
    w.Key("Tag");
    WriteTags(w, a.tags);
  }
  WriteSightingsIfAny(w, a);
  w.EndObject();
}

void WriteEvent(JsonWriter& w, const store::EventRecord& record, bool metadata) {
  const store::EventInfo& e = record.event;
  w.BeginObject();
  w.Key("Event");
  w.BeginObject();
  WriteEventColumns(w, e);
  w.Key("Org");
  WriteOrg(w, e.org_id, e.org_name, e.org_uuid);
  w.Key("Orgc");
  WriteOrg(w, e.orgc_id, e.orgc_name, e.orgc_uuid);
  if (!metadata) {
    w.Key("Attribute");
    w.BeginArray();
    for (const auto& a : record.attributes) WriteAttribute(w, a);
    w.EndArray();
    w.Key("ShadowAttribute");
    w.Raw("[]");
    w.Key("RelatedEvent");
    w.Raw("[]");
    w.Key("Galaxy");
    w.Raw("[]");
    w.Key("Object");
    w.BeginArray();
    for (const auto& o : record.objects) {
      w.BeginObject();
      w.FieldId("id", o.id);
      w.Field("name", o.name);
      w.Field("meta-category", o.meta_category);
      w.Field("description", "");
      w.Field("template_uuid", "");
      w.FieldId("template_version", 1);
      w.FieldId("event_id", o.event_id);
      w.Field("uuid", o.uuid);
      w.FieldId("timestamp", o.timestamp);
      w.FieldId("distribution", o.distribution);
      w.FieldId("sharing_group_id", 0);
      w.Field("comment", o.comment);
      w.Field("deleted", o.deleted);
      w.FieldNull("first_seen");
      w.FieldNull("last_seen");
      w.Key("ObjectReference");
      w.Raw("[]");
      w.Key("Attribute");
      w.BeginArray();
      for (const auto& a : o.attributes) WriteAttribute(w, a);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("EventReport");
    w.Raw("[]");
    w.Key("CryptographicKey");
    w.Raw("[]");
  }
  if (!e.tags.empty()) {
    w.Key("Tag");
    WriteTags(w, e.tags);
  }
  w.EndObject();
  w.EndObject();
}

void WriteEventIndexRow(JsonWriter& w, const store::EventInfo& e) {
  w.BeginObject();
  WriteEventColumns(w, e);
  w.FieldId("sighting_timestamp", e.sighting_timestamp);
  w.Key("Org");
  WriteOrg(w, e.org_id, e.org_name, e.org_uuid, /*with_local=*/false);
  w.Key("Orgc");
  WriteOrg(w, e.orgc_id, e.orgc_name, e.orgc_uuid, /*with_local=*/false);
  w.Key("EventTag");
  w.BeginArray();
  for (const store::Tag& t : e.tags) {
    w.BeginObject();
    w.FieldId("event_id", e.id);
    w.FieldId("tag_id", t.id);
    w.Field("local", t.local);
    w.Key("Tag");
    w.BeginObject();
    w.FieldId("id", t.id);
    w.Field("name", t.name);
    w.Field("colour", t.colour);
    w.Field("is_galaxy", false);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

namespace {

std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  // Unsigned first: nlohmann's is_number_integer() is true for unsigned values too.
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  return {};
}

Result<int> SmallInt(const json& obj, const char* key, int fallback, int lo, int hi) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  std::optional<int> parsed = store::ParseDecimal<int>(Text(*it));
  if (!parsed) return InvalidArgumentError(std::string("'") + key + "' must be a number");
  const int v = *parsed;
  if (v < lo || v > hi) {
    return InvalidArgumentError(std::string("'") + key + "' must be between " + std::to_string(lo) +
                                " and " + std::to_string(hi));
  }
  return v;
}

std::vector<std::string> TagNames(const json& obj) {
  std::vector<std::string> out;
  auto it = obj.find("Tag");
  if (it == obj.end() || !it->is_array()) return out;
  for (const json& t : *it) {
    if (t.is_object() && t.contains("name") && t["name"].is_string()) {
      out.push_back(t["name"].get<std::string>());
    } else if (t.is_string()) {
      out.push_back(t.get<std::string>());
    }
  }
  return out;
}

// A unix time field: absent or null = 0 (the store stamps it); otherwise a JSON integer or a
// string of digits up to the year 9999. Errors: kInvalidArgument naming the field (20-digit
// input overflowed std::stoll into a 500, issue 8).
Result<int64_t> Timestamp(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  std::string t = Text(*it);
  if (t.empty() && it->is_string()) return 0;
  std::optional<int64_t> v = store::ParseDecimal<int64_t>(t);
  if (!v || *v < 0 || *v > 253402300799) {
    return InvalidArgumentError(std::string("'") + key +
                                "' must be unix seconds (up to year 9999)");
  }
  return *v;
}

// A list field: absent or null = empty; anything but a JSON list is an error (an object for
// "Attribute" made an empty event and answered 200, issue 8).
Result<const json*> ListField(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return &kEmpty;
  if (!it->is_array()) return InvalidArgumentError(std::string("'") + key + "' must be a list");
  return &*it;
}

}  // namespace

Result<core::Attribute> ParseAttributeJson(const json& in) {
  const json& body = (in.is_object() && in.contains("Attribute") && in["Attribute"].is_object())
                         ? in["Attribute"]
                         : in;
  if (!body.is_object()) return InvalidArgumentError("an attribute must be a JSON object");
  auto type_it = body.find("type");
  auto value_it = body.find("value");
  if (type_it == body.end() || !type_it->is_string()) {
    return InvalidArgumentError("'type' is required and must be a string");
  }
  if (value_it == body.end() || Text(*value_it).empty()) {
    return InvalidArgumentError("'value' is required");
  }
  auto type = core::TypeFromName(type_it->get<std::string>());
  if (!type) {
    return InvalidArgumentError("unknown attribute type '" + type_it->get<std::string>() + "'");
  }
  std::string raw = Text(*value_it);
  // malware-sample and attachment carry a file name (and md5) plus base64 data that a
  // cross-search node does not keep.
  if (*type == core::IndicatorType::kMalwareSample && raw.find('|') == std::string::npos) {
    return InvalidArgumentError("malware-sample value must be filename|md5");
  }
  auto indicator = core::ParseIndicator(*type, raw);
  if (!indicator.ok()) return indicator.status();
  core::Attribute a;
  a.indicator = std::move(*indicator);
  if (auto it = body.find("category"); it != body.end() && it->is_string()) {
    a.category = it->get<std::string>();
  }
  if (auto it = body.find("to_ids"); it != body.end()) {
    a.to_ids = LooseBool(*it).value_or(core::DefaultToIds(*type));
  } else {
    a.to_ids = core::DefaultToIds(*type);
  }
  if (auto it = body.find("uuid"); it != body.end() && it->is_string())
    a.uuid = it->get<std::string>();
  if (auto it = body.find("comment"); it != body.end() && it->is_string()) {
    a.comment = it->get<std::string>();
  }
  IOCGRID_ASSIGN_OR_RETURN(a.timestamp, Timestamp(body, "timestamp"));
  if (auto it = body.find("first_seen"); it != body.end() && it->is_string()) {
    a.first_seen = it->get<std::string>();
  }
  if (auto it = body.find("last_seen"); it != body.end() && it->is_string()) {
    a.last_seen = it->get<std::string>();
  }
  if (auto it = body.find("object_relation"); it != body.end() && it->is_string()) {
    a.object_relation = it->get<std::string>();
  }
  a.tags = TagNames(body);
  return a;
}

namespace {

const json& UnwrapEvent(const json& in) {
  const json* body = &in;
  for (const char* wrapper : {"request", "response", "Event"}) {
    if (body->is_object() && body->contains(wrapper) && (*body)[wrapper].is_object()) {
      body = &(*body)[wrapper];
    }
  }
  return *body;
}

Status CheckAttributeShape(const json& a) {
  const json& body =
      a.is_object() && a.contains("Attribute") && a["Attribute"].is_object() ? a["Attribute"] : a;
  if (!body.is_object()) return InvalidArgumentError("an attribute must be a JSON object");
  return Timestamp(body, "timestamp").status();
}

}  // namespace

Status CheckEventShape(const json& in) {
  const json& e = UnwrapEvent(in);
  if (!e.is_object()) return InvalidArgumentError("the event must be a JSON object");
  IOCGRID_RETURN_IF_ERROR(Timestamp(e, "timestamp").status());
  IOCGRID_ASSIGN_OR_RETURN(const json* attributes, ListField(e, "Attribute"));
  int n = 0;
  for (const json& a : *attributes) {
    ++n;
    IOCGRID_RETURN_IF_ERROR(CheckAttributeShape(a).WithContext("Attribute " + std::to_string(n)));
  }
  IOCGRID_ASSIGN_OR_RETURN(const json* objects, ListField(e, "Object"));
  int m = 0;
  for (const json& o : *objects) {
    ++m;
    const std::string where = "Object " + std::to_string(m);
    if (!o.is_object()) return InvalidArgumentError(where + " is not an object");
    auto attrs = ListField(o, "Attribute");
    if (!attrs.ok()) return attrs.status().WithContext(where);
    for (const json& a : **attrs)
      IOCGRID_RETURN_IF_ERROR(CheckAttributeShape(a).WithContext(where));
  }
  return Status();
}

Result<core::Event> ParseEventJson(const json& in, bool require_info) {
  const json& e = UnwrapEvent(in);
  if (!e.is_object()) return InvalidArgumentError("the event must be a JSON object");
  core::Event event;
  if (auto it = e.find("info"); it != e.end() && it->is_string())
    event.info = it->get<std::string>();
  if (require_info && event.info.empty()) return InvalidArgumentError("'info' is required");
  if (auto it = e.find("uuid"); it != e.end() && it->is_string())
    event.uuid = it->get<std::string>();
  if (auto it = e.find("date"); it != e.end() && it->is_string())
    event.date = it->get<std::string>();
  IOCGRID_ASSIGN_OR_RETURN(event.distribution, SmallInt(e, "distribution", 0, 0, 4));
  IOCGRID_ASSIGN_OR_RETURN(event.threat_level_id, SmallInt(e, "threat_level_id", 4, 1, 4));
  IOCGRID_ASSIGN_OR_RETURN(event.analysis, SmallInt(e, "analysis", 0, 0, 2));
  if (auto it = e.find("published"); it != e.end())
    event.published = LooseBool(*it).value_or(false);
  IOCGRID_ASSIGN_OR_RETURN(event.timestamp, Timestamp(e, "timestamp"));
  event.tags = TagNames(e);
  event.source = "api";
  int n = 0;
  IOCGRID_ASSIGN_OR_RETURN(const json* attributes, ListField(e, "Attribute"));
  IOCGRID_ASSIGN_OR_RETURN(const json* objects, ListField(e, "Object"));
  {
    for (const json& a : *attributes) {
      ++n;
      auto attr = ParseAttributeJson(a);
      if (!attr.ok()) return attr.status().WithContext("Attribute " + std::to_string(n));
      event.attributes.push_back(std::move(*attr));
    }
  }
  {
    int m = 0;
    for (const json& o : *objects) {
      ++m;
      if (!o.is_object())
        return InvalidArgumentError("Object " + std::to_string(m) + " is not an object");
      std::string name = o.contains("name") ? Text(o["name"]) : "";
      auto attrs = ListField(o, "Attribute");
      if (!attrs.ok()) return attrs.status().WithContext("Object " + std::to_string(m));
      for (const json& a : **attrs) {
        ++n;
        auto attr = ParseAttributeJson(a);
        if (!attr.ok()) {
          return attr.status().WithContext("Object " + std::to_string(m) + " attribute");
        }
        attr->object_name = name.empty() ? "object" : name;
        event.attributes.push_back(std::move(*attr));
      }
    }
  }
  return event;
}

}  // namespace iocgrid::node
