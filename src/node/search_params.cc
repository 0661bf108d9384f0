#include "node/search_params.h"

#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number_float()) return std::to_string(v.get<double>());
  return {};
}

void AddTerm(TermFilter* f, std::string s, bool negate_allowed) {
  if (s.empty()) return;
  if (negate_allowed && s[0] == '!') {
    s.erase(0, 1);
    if (!s.empty()) f->none.push_back(std::move(s));
    return;
  }
  f->any.push_back(std::move(s));
}

// "a||b" splits into a list; "a&&b&&!c" is OR [a, b] and NOT [c] (MISP: && means OR here).
void AddStringTerms(TermFilter* f, const std::string& s) {
  std::string_view v = s;
  std::string_view sep = v.find("||") != std::string_view::npos ? "||" : "&&";
  while (true) {
    size_t pos = v.find(sep);
    AddTerm(f, std::string(v.substr(0, pos)), true);
    if (pos == std::string_view::npos) break;
    v.remove_prefix(pos + 2);
  }
}

Status ParseTerms(const json& v, const char* name, TermFilter* f) {
  if (v.is_null()) return Status();
  if (v.is_string()) {
    AddStringTerms(f, v.get<std::string>());
    return Status();
  }
  if (v.is_number() || v.is_boolean()) {
    AddTerm(f, ScalarText(v), false);
    return Status();
  }
  if (v.is_array()) {
    for (const json& item : v) {
      if (item.is_null()) continue;
      if (!(item.is_string() || item.is_number())) {
        return InvalidArgumentError(std::string("'") + name + "' list items must be strings");
      }
      AddTerm(f, ScalarText(item), true);
    }
    return Status();
  }
  if (v.is_object()) {
    for (const auto& [key, list] : v.items()) {
      std::string k = key;
      for (char& c : k) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      TermFilter part;
      IOCGRID_RETURN_IF_ERROR(ParseTerms(list, name, &part));
      if (k == "OR" || k == "AND") {
        for (auto& s : part.any) f->any.push_back(std::move(s));
        for (auto& s : part.none) f->none.push_back(std::move(s));
      } else if (k == "NOT") {
        for (auto& s : part.any) f->none.push_back(std::move(s));
        for (auto& s : part.none) f->none.push_back(std::move(s));
      } else {
        return InvalidArgumentError(std::string("'") + name + "' object keys must be OR, AND or NOT");
      }
    }
    return Status();
  }
  return InvalidArgumentError(std::string("'") + name + "' must be a string, a list or an object");
}

Status ParseRange(const json& v, const char* name, int64_t now, TimeRange* r) {
  if (v.is_null()) return Status();
  if (v.is_array()) {
    if (v.size() != 2) return InvalidArgumentError(std::string("'") + name + "' range needs 2 values");
    int64_t a = ResolveTime(ScalarText(v[0]), now), b = ResolveTime(ScalarText(v[1]), now);
    r->from = std::min(a, b);
    r->to = std::max(a, b);
    return Status();
  }
  if (v.is_string() || v.is_number()) {
    std::string s = ScalarText(v);
    if (s.empty() || s == "0" || s == "null" || s == "false") return Status();
    r->from = ResolveTime(s, now);
    return Status();
  }
  return InvalidArgumentError(std::string("'") + name + "' must be a time or a [from, to] list");
}

std::optional<std::string> DateParam(const json& v, int64_t now) {
  if (v.is_null()) return std::nullopt;
  std::string s = ScalarText(v);
  if (s.empty() || s == "0" || s == "false") return std::nullopt;
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') return s;
  bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    // A unix time is converted to its date, as MISP does for from/to.
    time_t t = static_cast<time_t>(std::strtoll(s.c_str(), nullptr, 10));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
    return std::string(buf);
  }
  (void)now;
  return s;  // compared as a string, as MISP does for from/to (MISP issue #9972)
}

bool Flag(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return false;
  return LooseBool(*it).value_or(false);
}

uint32_t UInt(const json& v) {
  std::string s = ScalarText(v);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) return 0;
  return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 10));
}

}  // namespace

std::optional<bool> LooseBool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "1" || s == "true" || s == "True") return true;
    if (s == "0" || s == "false" || s == "False" || s.empty()) return false;
  }
  return std::nullopt;
}

int64_t ResolveTime(const std::string& text, int64_t now) {
  std::string s = text;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty()) return now + 1;
  if (s.find_first_not_of("0123456789") == std::string::npos && s.size() <= 12) {
    return std::strtoll(s.c_str(), nullptr, 10);
  }
  char unit = s.back();
  std::string number = s.substr(0, s.size() - 1);
  if (!number.empty() && number.find_first_not_of("0123456789") == std::string::npos &&
      number.size() <= 9) {
    int64_t n = std::strtoll(number.c_str(), nullptr, 10);
    switch (unit) {
      case 's': return now - n;
      case 'm': return now - n * 60;
      case 'h': return now - n * 3600;
      case 'd': return now - n * 86400;
      case 'w': return now - n * 7 * 86400;
      default: break;
    }
  }
  std::tm tm{};
  const char* formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"};
  for (const char* f : formats) {
    std::tm t{};
    const char* end = strptime(s.c_str(), f, &t);
    if (end != nullptr && (*end == '\0' || *end == '.' || *end == 'Z' || *end == '+')) {
      tm = t;
      return static_cast<int64_t>(timegm(&tm));
    }
  }
  return now + 1;  // unparsable: matches nothing (MISP AppModel::resolveTimeDelta)
}

Result<SearchParams> ParseSearchParams(const json& body, int64_t now) {
  if (!body.is_object()) return InvalidArgumentError("the filter parameters must be a JSON object");
  SearchParams p;
  auto get = [&](const char* name) -> const json& {
    static const json kNull;
    auto it = body.find(name);
    return it == body.end() ? kNull : *it;
  };
  if (const json& rf = get("returnFormat"); !rf.is_null()) {
    if (!rf.is_string()) return InvalidArgumentError("'returnFormat' must be a string");
    p.return_format = rf.get<std::string>();
    if (p.return_format == "download") p.return_format = "json";
  }
  struct TermParam {
    const char* name;
    TermFilter* target;
  };
  const TermParam terms[] = {
      {"value", &p.value},       {"value1", &p.value1},       {"value2", &p.value2},
      {"type", &p.type},         {"category", &p.category},   {"org", &p.org},
      {"tags", &p.tags},         {"tag", &p.tags},            {"eventid", &p.eventid},
      {"uuid", &p.uuid},         {"eventinfo", &p.eventinfo}, {"object_relation", &p.object_relation},
      {"threat_level_id", &p.threat_level_id},
  };
  for (const TermParam& t : terms) IOCGRID_RETURN_IF_ERROR(ParseTerms(get(t.name), t.name, t.target));
  // MISP adds "email" when email-src or email-dst is searched by type.
  auto widen = [](std::vector<std::string>& list) {
    bool has = false, email = false;
    for (const auto& s : list) {
      has |= s == "email-src" || s == "email-dst";
      email |= s == "email";
    }
    if (has && !email) list.push_back("email");
  };
  widen(p.type.any);
  widen(p.type.none);

  if (const json& v = get("to_ids"); !v.is_null()) {
    if (v.is_string() && v.get<std::string>() == "exclude") {
      p.to_ids = false;
    } else if (auto b = LooseBool(v)) {
      p.to_ids = *b;
    } else if (!v.is_array()) {
      return InvalidArgumentError("'to_ids' must be 0, 1 or \"exclude\"");
    }
  }
  if (const json& v = get("published"); !v.is_null()) {
    if (v.is_array()) {
      for (const json& item : v) {
        if (auto b = LooseBool(item)) p.published.push_back(*b);
      }
    } else if (auto b = LooseBool(v)) {
      p.published.push_back(*b);
    } else {
      return InvalidArgumentError("'published' must be a boolean or a list of booleans");
    }
  }
  if (const json& v = get("deleted"); !v.is_null()) {
    if (v.is_array()) {
      p.deleted = v.size() >= 2 ? 2 : (v.size() == 1 && LooseBool(v[0]).value_or(false) ? 1 : 0);
    } else if (v.is_string() && v.get<std::string>() == "only") {
      p.deleted = 1;
    } else {
      p.deleted = LooseBool(v).value_or(false) ? 1 : 0;
    }
  }
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("timestamp"), "timestamp", now, &p.attribute_timestamp));
  IOCGRID_RETURN_IF_ERROR(
      ParseRange(get("attribute_timestamp"), "attribute_timestamp", now, &p.attribute_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("event_timestamp"), "event_timestamp", now, &p.event_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("publish_timestamp"), "publish_timestamp", now, &p.publish_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("last"), "last", now, &p.publish_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("first_seen"), "first_seen", now, &p.first_seen));
  IOCGRID_RETURN_IF_ERROR(ParseRange(get("last_seen"), "last_seen", now, &p.last_seen));
  // first_seen alone is ">= t"; last_seen alone is "<= t".
  if (p.last_seen.from && !p.last_seen.to && !get("last_seen").is_array()) {
    p.last_seen.to = p.last_seen.from;
    p.last_seen.from.reset();
  }
  p.date_from = DateParam(get("from"), now);
  p.date_to = DateParam(get("to"), now);
  if (const json& v = get("date"); !v.is_null()) {
    TimeRange r;
    IOCGRID_RETURN_IF_ERROR(ParseRange(v, "date", now, &r));
    if (r.from) p.date_from = DateParam(json(*r.from), now);
    if (r.to) p.date_to = DateParam(json(*r.to), now);
  }
  for (const char* name : {"searchall", "quickFilter"}) {
    if (const json& v = get(name); v.is_string()) p.searchall = v.get<std::string>();
  }
  if (const json& v = get("limit"); !v.is_null()) p.limit = UInt(v);
  if (const json& v = get("page"); !v.is_null()) p.page = std::max<uint32_t>(1, UInt(v));
  p.include_event_tags = Flag(body, "includeEventTags") || Flag(body, "includeAllTags");
  p.include_event_uuid = Flag(body, "includeEventUuid") || Flag(body, "includeAttributeUuid");
  p.include_context = Flag(body, "includeContext");
  p.include_sightings = Flag(body, "includeSightings");
  p.metadata = Flag(body, "metadata");
  p.headerless = Flag(body, "headerless");
  if (const json& v = get("requested_attributes"); v.is_array()) {
    for (const json& item : v) {
      if (item.is_string()) p.requested_attributes.push_back(item.get<std::string>());
    }
  }
  if (const json& v = get("order"); v.is_string()) p.order = v.get<std::string>();
  return p;
}

}  // namespace iocgrid::node
