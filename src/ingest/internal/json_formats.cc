// MISP warninglists and MISP event JSON, read with simdjson On Demand (error codes only, so no
// simdjson exception can escape). On Demand gives every value's position in the input, which
// turns into the line numbers of issues and attributes.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/json_depth.h"
#include "core/indicator.h"
#include "core/indicator_type.h"
#include "ingest/internal/formats.h"
#include "ingest/internal/text_util.h"
#include "ingest/internal/values.h"

namespace iocgrid::ingest::internal {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// The parsed input: the padded copy simdjson reads, and line numbers for its offsets.
class JsonInput {
 public:
  explicit JsonInput(std::string_view content) : padded_(content), lines_(content) {}

  const simdjson::padded_string& padded() const { return padded_; }

  // The 1-based line where `value` starts.
  uint32_t LineOf(od::value& value) const {
    const std::string_view token = value.raw_json_token();
    return LineAt(token.data());
  }
  uint32_t LineAt(const char* position) const {
    if (position < padded_.data() || position > padded_.data() + padded_.size()) return 0;
    return lines_.LineOf(static_cast<size_t>(position - padded_.data()));
  }

 private:
  simdjson::padded_string padded_;
  LineIndex lines_;
};

// "invalid JSON near line 12: <simdjson message>" as kInvalidArgument.
Status JsonError(const JsonInput& input, od::document& doc, error_code error) {
  std::string message = "invalid JSON";
  const char* position = nullptr;
  if (doc.current_location().get(position) == simdjson::SUCCESS) {
    const uint32_t line = input.LineAt(position);
    if (line > 0) message += " near line " + std::to_string(line);
  }
  message += ": ";
  message += simdjson::error_message(error);
  return InvalidArgumentError(message);
}

// The text of a string, number or boolean value ("1511184352" and 1511184352 alike; true and
// false as "1" and "0"; null as ""). Arrays and objects are INCORRECT_TYPE.
error_code GetScalarText(od::value& value, std::string* out) {
  od::json_type type;
  if (error_code error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::string: {
      std::string_view text;
      if (error_code error = value.get_string().get(text)) return error;
      out->assign(text);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      double number = 0;
      std::string_view raw = TrimAscii(value.raw_json_token());
      if (error_code error = value.get_double().get(number)) return error;
      out->assign(raw);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (error_code error = value.get_bool().get(flag)) return error;
      out->assign(flag ? "1" : "0");
      return simdjson::SUCCESS;
    }
    case od::json_type::null:
      out->clear();
      return simdjson::SUCCESS;
    default:
      return simdjson::INCORRECT_TYPE;
  }
}

std::optional<int64_t> ToInt64(std::string_view text) {
  text = TrimAscii(text);
  int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

// ---------------------------------------------------------------------------------------------
// Warninglists

struct ListEntry {
  std::string_view value;  // points into the parser's string buffer
  uint32_t line = 0;
  bool is_string = true;  // false: reported (in line order) and skipped
};

// What the matching_attributes of a "string" list say about its entries.
struct StringListHints {
  std::vector<core::IndicatorType> types;  // non-composite hint types, in the list's order
  bool host = false;                       // hostname or domain listed
  bool only_hashes = false;                // every hint type is a hash type
};

StringListHints MakeHints(const std::vector<std::string>& matching_attributes) {
  StringListHints hints;
  for (const std::string& name : matching_attributes) {
    std::optional<core::IndicatorType> type = core::TypeFromName(name);
    if (!type.has_value()) continue;
    if (core::IsComposite(*type)) continue;
    const core::MatchFamily family = core::FamilyOf(*type);
    // Only families with a strict syntax: a url or "other" type would accept anything.
    if (family == core::MatchFamily::kUrl || family == core::MatchFamily::kOther) continue;
    if (family == core::MatchFamily::kHost) hints.host = true;
    hints.types.push_back(*type);
  }
  hints.only_hashes = !hints.types.empty();
  for (core::IndicatorType type : hints.types) {
    hints.only_hashes = hints.only_hashes && core::FamilyOf(type) == core::MatchFamily::kHash;
  }
  return hints;
}

bool FamilyHinted(const StringListHints& hints, core::MatchFamily family) {
  for (core::IndicatorType type : hints.types) {
    if (core::FamilyOf(type) == family) return true;
  }
  return false;
}

// A "string" warninglist entry: guessed, then steered by the list's matching_attributes.
Result<core::Indicator> ParseStringEntry(std::string_view raw, const StringListHints& hints) {
  std::string_view value = TrimAscii(raw);
  // ".google.com" style suffix entries: the name without its leading dot.
  if (value.size() > 1 && value.front() == '.') value.remove_prefix(1);
  Result<core::Indicator> guessed = core::GuessIndicator(value);
  if (guessed.ok()) {
    const core::MatchFamily family = core::FamilyOf(guessed->type);
    if (hints.types.empty() || FamilyHinted(hints, family)) return guessed;
  }
  if (hints.host) {
    Result<core::Indicator> host = ParseHostValue(value);
    if (host.ok()) return host;
  }
  for (core::IndicatorType type : hints.types) {
    if (core::FamilyOf(type) == core::MatchFamily::kHost) continue;  // done above
    Result<core::Indicator> typed = core::ParseIndicator(type, value);
    if (typed.ok()) return typed;
  }
  // A valid indicator of another family is kept, except in lists that only name hash types
  // (there "3::", the ssdeep of empty input, must not become an IPv6 address).
  if (guessed.ok() && hints.only_hashes) {
    return InvalidArgumentError("not a value of the list's types (" +
                                std::string(core::TypeName(hints.types.front())) + "...)");
  }
  return guessed;
}

// The fields of a warninglist document that the import reads; the others are left alone.
struct WarninglistFields {
  std::string name;
  std::string list_type;
  bool has_list = false;
  std::vector<ListEntry> entries;
  std::vector<std::string> matching_attributes;
};

Status ReadWarninglistFields(const JsonInput& input, od::document& doc, WarninglistFields* out) {
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return InvalidArgumentError("not a MISP warninglist: the top level is not a JSON object");
  }
  for (auto field_result : root) {
    od::field field;
    std::string_view key;
    if (error_code error = std::move(field_result).get(field)) return JsonError(input, doc, error);
    if (error_code error = field.unescaped_key().get(key)) return JsonError(input, doc, error);
    od::value value = field.value();
    if (key == "name" || key == "type") {
      std::string text;
      if (error_code error = GetScalarText(value, &text)) return JsonError(input, doc, error);
      (key == "name" ? out->name : out->list_type) = std::move(text);
    } else if (key == "list" || key == "matching_attributes") {
      od::array array;
      if (error_code error = value.get_array().get(array)) return JsonError(input, doc, error);
      if (key == "list") out->has_list = true;
      for (auto element_result : array) {
        od::value element;
        if (error_code error = std::move(element_result).get(element))
          return JsonError(input, doc, error);
        const uint32_t line = input.LineOf(element);
        od::json_type type;
        if (error_code error = element.type().get(type)) return JsonError(input, doc, error);
        if (type != od::json_type::string) {
          if (key == "list") out->entries.push_back({{}, line, false});
          continue;
        }
        std::string_view text;
        if (error_code error = element.get_string().get(text)) {
          return JsonError(input, doc, error);
        }
        if (key == "list") {
          out->entries.push_back({text, line, true});
        } else {
          out->matching_attributes.emplace_back(text);
        }
      }
    }
  }
  return Status::Ok();
}

Status ParseWarninglistDocument(const LoadContext& context, const JsonInput& input,
                                od::document& doc) {
  WarninglistFields fields;
  IOCGRID_RETURN_IF_ERROR(ReadWarninglistFields(input, doc, &fields));
  const std::string& name = fields.name;
  std::string& list_type = fields.list_type;
  const std::vector<ListEntry>& entries = fields.entries;
  const bool has_list = fields.has_list;
  if (!has_list) return InvalidArgumentError("not a MISP warninglist: no \"list\" array");
  if (list_type.empty()) list_type = "string";  // MISP's default list type

  Event event;
  event.info = name.empty() ? context.FileName() : name;
  event.source = std::string(context.path());
  if (list_type == "substring" || list_type == "regex" ||
      (list_type != "cidr" && list_type != "hostname" && list_type != "string")) {
    context.SkipMany(entries.size(), 0,
                     "warninglist '" + event.info + "' has type '" + list_type +
                         "', which cannot be matched exactly; list skipped (" +
                         std::to_string(entries.size()) + " entries)");
    return Status::Ok();
  }
  const StringListHints hints = MakeHints(fields.matching_attributes);
  event.attributes.reserve(entries.size());
  for (const ListEntry& entry : entries) {
    if (!entry.is_string) {
      context.Skip(entry.line, "skipped list entry: not a JSON string");
      continue;
    }
    Result<core::Indicator> indicator =
        list_type == "cidr"       ? core::ParseIndicator(core::IndicatorType::kIpDst, entry.value)
        : list_type == "hostname" ? ParseHostValue(entry.value)
                                  : ParseStringEntry(entry.value, hints);
    if (!indicator.ok()) {
      context.Skip(entry.line, SkipMessage(entry.value, indicator.status()));
      continue;
    }
    Attribute attribute;
    attribute.indicator = std::move(indicator).value();
    attribute.line = entry.line;
    context.Add(&event, std::move(attribute));
  }
  context.Emit(std::move(event));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// MISP events

// A MISP distribution level 0-5. Fails closed: anything else reads as 0 (organisation only),
// so that a mirror never shares what it could not read.
int Distribution(std::string_view text) {
  const std::optional<int64_t> n = ToInt64(text);
  return n && *n >= 0 && *n <= 5 ? static_cast<int>(*n) : 0;
}

// An object's distribution applied to one of its attributes: one inheriting (5) takes the
// object's; an object restricted to the organisation (0) or a sharing group (4) restricts it;
// between community levels (1-3) the narrower wins.
void InheritDistribution(int object, const std::string& object_group, Attribute* a) {
  if (object == 5 || a->distribution == 0) return;
  if (a->distribution == 5 || object == 0 || object == 4) {
    a->distribution = object;
    a->sharing_group_id = object == 4 ? object_group : std::string();
  } else if (a->distribution != 4) {
    a->distribution = std::min(a->distribution, object);
  }
}

// An attribute as read, before its value is parsed (fields come in any order).
struct RawAttribute {
  std::string type;
  std::string value;
  std::string category;
  std::string uuid;
  std::string comment;
  std::string first_seen;
  std::string last_seen;
  std::string object_relation;
  std::optional<bool> to_ids;
  int64_t timestamp = 0;
  std::vector<std::string> tags;
  bool deleted = false;
  int distribution = 5;
  std::string sharing_group_id;
  uint32_t sightings = 0;
  uint32_t line = 0;

  // The string member read from the MISP key `key`, or nullptr.
  std::string* TextField(std::string_view key) {
    static constexpr std::pair<std::string_view, std::string RawAttribute::*> kTextFields[] = {
        {"type", &RawAttribute::type},
        {"value", &RawAttribute::value},
        {"category", &RawAttribute::category},
        {"uuid", &RawAttribute::uuid},
        {"comment", &RawAttribute::comment},
        {"first_seen", &RawAttribute::first_seen},
        {"last_seen", &RawAttribute::last_seen},
        {"object_relation", &RawAttribute::object_relation},
        {"sharing_group_id", &RawAttribute::sharing_group_id},
    };
    for (const auto& [name, member] : kTextFields) {
      if (key == name) return &(this->*member);
    }
    return nullptr;
  }
};

class EventReader {
 public:
  EventReader(const LoadContext& context, const JsonInput& input, od::document& doc)
      : context_(context), input_(input), doc_(doc) {}

  // Reads {"Event": {...}}, a bare event or (when `top_level`) a feed manifest or
  // {"response": [...]}. Sets *recognized when the object held anything of an event.
  Status ReadContainer(od::object object, bool top_level, std::vector<Event>* events,
                       bool* recognized, bool* manifest);

  Status ReadEventObject(od::object object, Event* event);

  // The events of a list ({"response": [...]} or a top-level array); entries that are not
  // events are skipped as issues about a `what` ("response entry", "list entry").
  Status ReadEventList(od::array array, std::string_view what, std::vector<Event>* events);

 private:
  // One field of an event object; *known is set for event keys.
  Status EventField(std::string_view key, od::value& value, Event* event, bool* known);
  Status ReadAttributes(od::value& value, std::vector<Attribute>* out);
  Status ReadObjects(od::value& value, std::vector<Attribute>* out);
  Status ReadTags(od::value& value, std::vector<std::string>* out);
  // {"name": ...} (Orgc), or another field ({"uuid": ...} of a SharingGroup).
  Status ReadName(od::value& value, std::string* out, std::string_view field = "name");
  // Adds the sightings (type 0 or none) of a Sighting array to *out.
  Status CountSightings(od::value& value, uint32_t* out);
  Status Text(od::value& value, std::string* out) {
    if (error_code error = GetScalarText(value, out)) return Fail(error);
    return Status::Ok();
  }
  Status Fail(error_code error) { return JsonError(input_, doc_, error); }
  // A value that should be an array; anything else is skipped as an issue about `key`.
  bool ArrayOrSkip(od::value& value, std::string_view key, od::array* array) {
    if (value.get_array().get(*array) == simdjson::SUCCESS) return true;
    context_.Skip(input_.LineOf(value), "skipped \"" + std::string(key) + "\": not a JSON array");
    return false;
  }
  // Calls `fn(object, line)`, which returns a Status, for each element of `array` that is a JSON
  // object; other elements are skipped as issues about a `what`.
  template <typename Fn>
  Status ForEachObject(od::array array, std::string_view what, Fn&& fn) {
    for (auto element_result : array) {
      od::value element;
      if (error_code error = std::move(element_result).get(element)) return Fail(error);
      const uint32_t line = input_.LineOf(element);
      od::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) {
        context_.Skip(line, "skipped " + std::string(what) + ": not a JSON object");
        continue;
      }
      IOCGRID_RETURN_IF_ERROR(fn(object, line));
    }
    return Status::Ok();
  }
  // One field of an object being iterated: its unescaped key and its value.
  Status Field(simdjson::simdjson_result<od::field> field_result, std::string_view* key,
               od::value* value) {
    od::field field;
    if (error_code error = std::move(field_result).get(field)) return Fail(error);
    if (error_code error = field.unescaped_key().get(*key)) return Fail(error);
    *value = field.value();
    return Status::Ok();
  }
  void Finish(RawAttribute&& raw, std::vector<Attribute>* out);

  const LoadContext& context_;
  const JsonInput& input_;
  od::document& doc_;
};

Status EventReader::ReadContainer(od::object object, bool top_level, std::vector<Event>* events,
                                  bool* recognized, bool* manifest) {
  Event bare;
  bool bare_known = false;
  bool first = true;
  for (auto field_result : object) {
    std::string_view key;
    od::value value;
    IOCGRID_RETURN_IF_ERROR(Field(std::move(field_result), &key, &value));
    if (top_level && first && LooksLikeUuid(key)) {
      od::json_type type;
      if (value.type().get(type) == simdjson::SUCCESS && type == od::json_type::object) {
        *manifest = true;
        return Status::Ok();
      }
    }
    first = false;
    if (key == "Event") {
      od::object event_object;
      if (error_code error = value.get_object().get(event_object)) return Fail(error);
      Event event;
      IOCGRID_RETURN_IF_ERROR(ReadEventObject(event_object, &event));
      events->push_back(std::move(event));
      *recognized = true;
    } else if (top_level && key == "response") {
      od::array array;
      if (error_code error = value.get_array().get(array)) return Fail(error);
      *recognized = true;
      IOCGRID_RETURN_IF_ERROR(ReadEventList(array, "response entry", events));
    } else {
      bool known = false;
      IOCGRID_RETURN_IF_ERROR(EventField(key, value, &bare, &known));
      bare_known = bare_known || known;
    }
  }
  if (bare_known) {
    events->push_back(std::move(bare));
    *recognized = true;
  }
  return Status::Ok();
}

Status EventReader::ReadEventList(od::array array, std::string_view what,
                                  std::vector<Event>* events) {
  return ForEachObject(array, what, [&](od::object object, uint32_t line) -> Status {
    bool recognized = false;
    bool unused_manifest = false;
    IOCGRID_RETURN_IF_ERROR(ReadContainer(object, false, events, &recognized, &unused_manifest));
    if (!recognized) context_.Skip(line, "skipped " + std::string(what) + ": not a MISP event");
    return Status::Ok();
  });
}

Status EventReader::ReadEventObject(od::object object, Event* event) {
  for (auto field_result : object) {
    std::string_view key;
    od::value value;
    IOCGRID_RETURN_IF_ERROR(Field(std::move(field_result), &key, &value));
    bool known = false;
    IOCGRID_RETURN_IF_ERROR(EventField(key, value, event, &known));
  }
  return Status::Ok();
}

Status EventReader::EventField(std::string_view key, od::value& value, Event* event, bool* known) {
  *known = true;
  std::string text;
  if (key == "uuid") return Text(value, &event->uuid);
  if (key == "info") return Text(value, &event->info);
  if (key == "date") return Text(value, &event->date);
  if (key == "Orgc") return ReadName(value, &event->org);
  if (key == "Tag") return ReadTags(value, &event->tags);
  if (key == "Attribute") return ReadAttributes(value, &event->attributes);
  if (key == "Object") return ReadObjects(value, &event->attributes);
  if (key == "timestamp" || key == "threat_level_id" || key == "analysis" ||
      key == "distribution") {
    IOCGRID_RETURN_IF_ERROR(Text(value, &text));
    const std::optional<int64_t> number = ToInt64(text);
    if (!number.has_value()) return Status::Ok();  // unknown: keep the default
    if (key == "timestamp") {
      event->timestamp = *number;
    } else if (key == "threat_level_id") {
      event->threat_level_id = static_cast<int>(*number);
    } else if (key == "analysis") {
      event->analysis = static_cast<int>(*number);
    } else {
      event->distribution = static_cast<int>(*number);
    }
    return Status::Ok();
  }
  if (key == "published") {
    IOCGRID_RETURN_IF_ERROR(Text(value, &text));
    event->published = ParseBool(text).value_or(false);
    return Status::Ok();
  }
  if (key == "sharing_group_id") return Text(value, &event->sharing_group_id);
  if (key == "SharingGroup") return ReadName(value, &event->sharing_group_uuid, "uuid");
  *known = false;
  return Status::Ok();
}

Status EventReader::CountSightings(od::value& value, uint32_t* out) {
  od::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return Status::Ok();
  for (auto element_result : array) {
    od::value element;
    if (error_code error = std::move(element_result).get(element)) return Fail(error);
    // MISP's sighting types: 0 a sighting, 1 a false positive, 2 an expiration.
    std::string type;
    IOCGRID_RETURN_IF_ERROR(ReadName(element, &type, "type"));
    if ((type.empty() || type == "0") && *out < UINT32_MAX) ++*out;
  }
  return Status::Ok();
}

Status EventReader::ReadName(od::value& value, std::string* out, std::string_view field) {
  od::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Status::Ok();
  for (auto field_result : object) {
    std::string_view key;
    od::value field_value;
    IOCGRID_RETURN_IF_ERROR(Field(std::move(field_result), &key, &field_value));
    if (key == field) return Text(field_value, out);
  }
  return Status::Ok();
}

Status EventReader::ReadTags(od::value& value, std::vector<std::string>* out) {
  od::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return Status::Ok();
  for (auto element_result : array) {
    od::value element;
    if (error_code error = std::move(element_result).get(element)) return Fail(error);
    od::json_type type;
    if (error_code error = element.type().get(type)) return Fail(error);
    std::string name;
    if (type == od::json_type::object) {
      IOCGRID_RETURN_IF_ERROR(ReadName(element, &name));
    } else if (type == od::json_type::string) {
      IOCGRID_RETURN_IF_ERROR(Text(element, &name));
    }
    if (!name.empty()) out->push_back(std::move(name));
  }
  return Status::Ok();
}

Status EventReader::ReadAttributes(od::value& value, std::vector<Attribute>* out) {
  od::array array;
  if (!ArrayOrSkip(value, "Attribute", &array)) return Status::Ok();
  return ForEachObject(array, "attribute", [&](od::object object, uint32_t line) -> Status {
    RawAttribute raw;
    raw.line = line;
    for (auto field_result : object) {
      std::string_view key;
      od::value field_value;
      IOCGRID_RETURN_IF_ERROR(Field(std::move(field_result), &key, &field_value));
      std::string text;
      // "data" (base64 of attachments and malware samples) is never read.
      if (std::string* target = raw.TextField(key)) {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, target));
      } else if (key == "to_ids") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        raw.to_ids = ParseBool(text);
      } else if (key == "deleted") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        raw.deleted = ParseBool(text).value_or(false);
      } else if (key == "timestamp") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        raw.timestamp = ToInt64(text).value_or(0);
      } else if (key == "Tag") {
        IOCGRID_RETURN_IF_ERROR(ReadTags(field_value, &raw.tags));
      } else if (key == "distribution") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        raw.distribution = Distribution(text);
      } else if (key == "Sighting") {
        IOCGRID_RETURN_IF_ERROR(CountSightings(field_value, &raw.sightings));
      }
    }
    Finish(std::move(raw), out);
    return Status::Ok();
  });
}

void EventReader::Finish(RawAttribute&& raw, std::vector<Attribute>* out) {
  if (raw.deleted) return;  // soft-deleted in MISP: not an indicator any more
  if (raw.type.empty()) {
    context_.Skip(raw.line, "skipped attribute: no \"type\"");
    return;
  }
  const std::optional<core::IndicatorType> type = core::TypeFromName(raw.type);
  if (!type.has_value()) {
    context_.Skip(raw.line,
                  "skipped attribute: unknown MISP type '" + Abbreviate(raw.type, 40) + "'");
    return;
  }
  if (TrimAscii(raw.value).empty()) {
    context_.Skip(raw.line, "skipped " + raw.type + " attribute: empty value");
    return;
  }
  Result<core::Indicator> indicator = core::ParseIndicator(*type, raw.value);
  if (!indicator.ok()) {
    context_.Skip(raw.line, SkipMessage(raw.value, indicator.status()));
    return;
  }
  Attribute attribute;
  attribute.indicator = std::move(indicator).value();
  attribute.category = std::move(raw.category);
  attribute.to_ids = raw.to_ids.value_or(core::DefaultToIds(*type));
  attribute.uuid = std::move(raw.uuid);
  attribute.comment = std::move(raw.comment);
  attribute.tags = std::move(raw.tags);
  attribute.timestamp = raw.timestamp;
  attribute.first_seen = std::move(raw.first_seen);
  attribute.last_seen = std::move(raw.last_seen);
  attribute.object_relation = std::move(raw.object_relation);
  attribute.distribution = raw.distribution;
  attribute.sharing_group_id = std::move(raw.sharing_group_id);
  attribute.sighting_count = raw.sightings;
  attribute.line = raw.line;
  out->push_back(std::move(attribute));
}

Status EventReader::ReadObjects(od::value& value, std::vector<Attribute>* out) {
  od::array array;
  if (!ArrayOrSkip(value, "Object", &array)) return Status::Ok();
  return ForEachObject(array, "object", [&](od::object object, uint32_t /*line*/) -> Status {
    std::string name;
    bool deleted = false;
    int distribution = 5;
    std::string sharing_group_id;
    std::vector<Attribute> attributes;
    for (auto field_result : object) {
      std::string_view key;
      od::value field_value;
      IOCGRID_RETURN_IF_ERROR(Field(std::move(field_result), &key, &field_value));
      if (key == "name") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &name));
      } else if (key == "distribution") {
        std::string text;
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        distribution = Distribution(text);
      } else if (key == "sharing_group_id") {
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &sharing_group_id));
      } else if (key == "deleted") {
        std::string text;
        IOCGRID_RETURN_IF_ERROR(Text(field_value, &text));
        deleted = ParseBool(text).value_or(false);
      } else if (key == "Attribute") {
        IOCGRID_RETURN_IF_ERROR(ReadAttributes(field_value, &attributes));
      }
    }
    if (deleted) return Status::Ok();
    for (Attribute& attribute : attributes) {
      attribute.object_name = name;
      InheritDistribution(distribution, sharing_group_id, &attribute);
      out->push_back(std::move(attribute));
    }
    return Status::Ok();
  });
}

// Starts On Demand over `input` (made from `content`). Nesting is bounded before parsing: the
// readers walk nested containers (issue 8).
Status StartDocument(std::string_view content, const JsonInput& input, od::parser* parser,
                     od::document* doc) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(content));
  if (error_code error = parser->iterate(input.padded()).get(*doc)) {
    return InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  return Status::Ok();
}

}  // namespace

Status LoadWarninglist(const LoadContext& context, std::string_view content) {
  JsonInput input(content);
  od::parser parser;
  od::document doc;
  IOCGRID_RETURN_IF_ERROR(StartDocument(content, input, &parser, &doc));
  return ParseWarninglistDocument(context, input, doc);
}

Status LoadMispEvents(const LoadContext& context, std::string_view content) {
  JsonInput input(content);
  od::parser parser;
  od::document doc;
  IOCGRID_RETURN_IF_ERROR(StartDocument(content, input, &parser, &doc));
  od::json_type type;
  if (error_code error = doc.type().get(type)) return JsonError(input, doc, error);
  EventReader reader(context, input, doc);
  std::vector<Event> events;
  bool recognized = false;
  bool manifest = false;
  if (type == od::json_type::object) {
    od::object root;
    if (error_code error = doc.get_object().get(root)) return JsonError(input, doc, error);
    IOCGRID_RETURN_IF_ERROR(reader.ReadContainer(root, true, &events, &recognized, &manifest));
    // A feed's manifest.json lists events; it is not one. Skipped without an issue.
    if (manifest) return Status::Ok();
  } else if (type == od::json_type::array) {
    od::array root;
    if (error_code error = doc.get_array().get(root)) return JsonError(input, doc, error);
    recognized = true;  // a list of events, possibly empty
    IOCGRID_RETURN_IF_ERROR(reader.ReadEventList(root, "list entry", &events));
  } else {
    return InvalidArgumentError("not a MISP event: the top level is not a JSON object or array");
  }
  if (!recognized) {
    return InvalidArgumentError(
        "not a MISP event: no \"Event\", \"response\", \"Attribute\" or \"info\" key");
  }
  for (Event& event : events) {
    event.source = std::string(context.path());
    context.Emit(std::move(event));
  }
  return Status::Ok();
}

bool LooksLikeWarninglist(std::string_view json) {
  json = TrimAscii(StripBom(json));
  if (json.empty() || json.front() != '{') return false;
  int depth = 0;
  bool has_list = false;
  bool has_other = false;
  size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      const size_t start = ++i;
      while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
      if (i >= json.size()) break;
      const std::string_view text = json.substr(start, i - start);
      ++i;
      if (depth == 1) {
        size_t next = i;
        while (next < json.size() && IsAsciiSpace(json[next])) ++next;
        if (next < json.size() && json[next] == ':') {
          if (text == "list") {
            has_list = true;
          } else if (text == "name" || text == "type" || text == "matching_attributes" ||
                     text == "description") {
            has_other = true;
          } else if (text == "Event" || text == "Attribute" || text == "response") {
            return false;
          }
          if (has_list && has_other) return true;
        }
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
    ++i;
  }
  return false;
}

}  // namespace iocgrid::ingest::internal
