#include "node/internal/search_params.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "store/number.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;
using store::ParseDecimal;

// The last second of 9999-12-31: beyond it a unix time is a mistake, not a date.
constexpr int64_t kMaxUnixSeconds = 253402300799;
// OR/AND/NOT objects nest one level in MISP; a little slack, then a clear error (issue 8: deep
// nesting recursed until the stack overflowed).
constexpr int kMaxTermNesting = 4;

std::string Quoted(const char* name) { return std::string("'") + name + "'"; }

std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  // Unsigned first: nlohmann's is_number_integer() is true for unsigned values too.
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number_float()) return std::to_string(v.get<double>());
  return {};
}

// Collects terms into filters while counting them against the request's budget.
class TermSink {
 public:
  explicit TermSink(size_t max_terms) : left_(max_terms), max_(max_terms) {}

  Status Add(TermFilter* f, std::string s, bool negate_allowed) {
    if (s.empty()) return Status();
    if (left_ == 0) {
      return ResourceExhaustedError("more than " + std::to_string(max_) +
                                    " values in one search; split the request into smaller ones");
    }
    --left_;
    if (negate_allowed && s[0] == '!') {
      s.erase(0, 1);
      if (!s.empty()) f->none.push_back(std::move(s));
      return Status();
    }
    f->any.push_back(std::move(s));
    return Status();
  }

 private:
  size_t left_;
  size_t max_;
};

// "a||b" splits into a list; "a&&b&&!c" is OR [a, b] and NOT [c] (MISP: && means OR here).
Status AddStringTerms(TermSink& sink, TermFilter* f, std::string_view v) {
  std::string_view sep = v.find("||") != std::string_view::npos ? "||" : "&&";
  while (true) {
    size_t pos = v.find(sep);
    IOCGRID_RETURN_IF_ERROR(sink.Add(f, std::string(v.substr(0, pos)), true));
    if (pos == std::string_view::npos) break;
    v.remove_prefix(pos + 2);
  }
  return Status();
}

Status ParseTerms(const json& v, const char* name, TermSink& sink, TermFilter* f, int nesting) {
  if (v.is_null()) return Status();
  if (v.is_string()) return AddStringTerms(sink, f, v.get_ref<const std::string&>());
  if (v.is_number() || v.is_boolean()) return sink.Add(f, ScalarText(v), false);
  if (v.is_array()) {
    for (const json& item : v) {
      if (item.is_null()) continue;
      if (!(item.is_string() || item.is_number())) {
        return InvalidArgumentError(Quoted(name) + " list items must be strings");
      }
      IOCGRID_RETURN_IF_ERROR(sink.Add(f, ScalarText(item), true));
    }
    return Status();
  }
  if (v.is_object()) {
    if (nesting >= kMaxTermNesting) {
      return InvalidArgumentError(Quoted(name) + " nests OR/AND/NOT objects too deeply");
    }
    for (const auto& [key, list] : v.items()) {
      const bool is_not = EqualsIgnoreAsciiCase(key, "NOT");
      if (!is_not && !EqualsIgnoreAsciiCase(key, "OR") && !EqualsIgnoreAsciiCase(key, "AND")) {
        return InvalidArgumentError(Quoted(name) + " object keys must be OR, AND or NOT");
      }
      TermFilter part;
      IOCGRID_RETURN_IF_ERROR(ParseTerms(list, name, sink, &part, nesting + 1));
      auto& positive = is_not ? f->none : f->any;
      for (auto& s : part.any) positive.push_back(std::move(s));
      for (auto& s : part.none) f->none.push_back(std::move(s));
    }
    return Status();
  }
  return InvalidArgumentError(Quoted(name) + " must be a string, a list or an object");
}

Result<int64_t> NamedTime(const json& v, const char* name, int64_t now) {
  if (!(v.is_string() || v.is_number())) {
    return InvalidArgumentError(Quoted(name) + " must be a time (a number or a string)");
  }
  auto t = ResolveTime(ScalarText(v), now);
  if (!t.ok()) return t.status().WithContext(Quoted(name));
  return t;
}

Status ParseRange(const json& v, const char* name, int64_t now, TimeRange* r) {
  if (v.is_null()) return Status();
  if (v.is_array()) {
    if (v.size() != 2) return InvalidArgumentError(Quoted(name) + " range needs 2 values");
    IOCGRID_ASSIGN_OR_RETURN(int64_t a, NamedTime(v[0], name, now));
    IOCGRID_ASSIGN_OR_RETURN(int64_t b, NamedTime(v[1], name, now));
    r->from = std::min(a, b);
    r->to = std::max(a, b);
    return Status();
  }
  if (v.is_string() || v.is_number()) {
    std::string s = ScalarText(v);
    if (s.empty() || s == "0" || s == "null" || s == "false") return Status();
    IOCGRID_ASSIGN_OR_RETURN(int64_t t, NamedTime(v, name, now));
    r->from = t;
    return Status();
  }
  return InvalidArgumentError(Quoted(name) + " must be a time or a [from, to] list");
}

Result<std::optional<std::string>> DateParam(const json& v, const char* name) {
  if (v.is_null()) return std::optional<std::string>();
  if (!(v.is_string() || v.is_number_integer())) {
    return InvalidArgumentError(Quoted(name) + " must be a date (YYYY-MM-DD) or unix seconds");
  }
  std::string s = ScalarText(v);
  if (s.empty() || s == "0" || s == "false") return std::optional<std::string>();
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') return std::optional<std::string>(s);
  if (s.find_first_not_of("0123456789") == std::string::npos) {
    // A unix time is converted to its date, as MISP does for from/to.
    auto seconds = ParseDecimal<int64_t>(s);
    if (!seconds || *seconds > kMaxUnixSeconds) {
      return InvalidArgumentError(Quoted(name) + " is out of range (unix seconds up to year 9999)");
    }
    time_t t = static_cast<time_t>(*seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
    return std::optional<std::string>(buf);
  }
  return std::optional<std::string>(s);  // compared as a string, as MISP does (MISP #9972)
}

// A whole number >= 1, as a JSON integer or a string of digits; values beyond uint32 saturate
// (a page that large is past the end: an empty page).
Result<uint32_t> PositiveInt(const json& v, const char* name) {
  std::optional<uint64_t> n;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>() < 0 ? 0 : static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
      n = ParseDecimal<uint64_t>(s).value_or(UINT64_MAX);
    }
  }
  if (!n || *n == 0)
    return InvalidArgumentError(Quoted(name) + " must be a whole number of 1 or more");
  return static_cast<uint32_t>(std::min<uint64_t>(*n, UINT32_MAX));
}

Result<bool> Flag(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return false;
  auto b = LooseBool(*it);
  if (!b) return InvalidArgumentError(Quoted(name) + " must be 0, 1, true or false");
  return *b;
}

Result<bool> AnyFlag(const json& body, const char* a, const char* b) {
  IOCGRID_ASSIGN_OR_RETURN(bool x, Flag(body, a));
  IOCGRID_ASSIGN_OR_RETURN(bool y, Flag(body, b));
  return x || y;
}

}  // namespace

std::optional<bool> LooseBool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "1" || s == "true" || s == "True") return true;
    if (s == "0" || s == "false" || s == "False" || s.empty()) return false;
  }
  return std::nullopt;
}

Result<int64_t> ResolveTime(std::string_view text, int64_t now) {
  std::string s(text);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty()) return now + 1;
  if (s.find_first_not_of("0123456789") == std::string::npos) {
    auto seconds = ParseDecimal<int64_t>(s);
    if (!seconds || *seconds > kMaxUnixSeconds) {
      return InvalidArgumentError("unix time " + s.substr(0, 24) + " is out of range");
    }
    return *seconds;
  }
  char unit = s.back();
  std::string_view number = std::string_view(s).substr(0, s.size() - 1);
  if (!number.empty() && number.find_first_not_of("0123456789") == std::string_view::npos &&
      std::string_view("smhdw").find(unit) != std::string_view::npos) {
    auto n = ParseDecimal<int64_t>(number);
    if (!n || *n > 999999999) {
      return InvalidArgumentError("relative time " + s.substr(0, 24) + " is out of range");
    }
    switch (unit) {
      case 's':
        return now - *n;
      case 'm':
        return now - *n * 60;
      case 'h':
        return now - *n * 3600;
      case 'd':
        return now - *n * 86400;
      default:
        return now - *n * 7 * 86400;
    }
  }
  const char* formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"};
  for (const char* f : formats) {
    std::tm t{};
    const char* end = strptime(s.c_str(), f, &t);
    if (end != nullptr && (*end == '\0' || *end == '.' || *end == 'Z' || *end == '+')) {
      return static_cast<int64_t>(timegm(&t));
    }
  }
  return now + 1;  // unparsable: matches nothing (MISP AppModel::resolveTimeDelta)
}

bool SearchParams::HasFilter() const {
  for (const TermFilter* f : {&value, &value1, &value2, &type, &category, &org, &tags, &eventid,
                              &uuid, &eventinfo, &object_relation, &threat_level_id}) {
    if (!f->empty()) return true;
  }
  for (const TimeRange* r :
       {&attribute_timestamp, &event_timestamp, &publish_timestamp, &first_seen, &last_seen}) {
    if (!r->empty()) return true;
  }
  return to_ids.has_value() || published.size() == 1 || deleted == 1 || date_from.has_value() ||
         date_to.has_value() || (searchall.has_value() && !searchall->empty());
}

namespace {

// body[name], or null when absent.
const json& Member(const json& body, const char* name) {
  static const json kNull;
  auto it = body.find(name);
  return it == body.end() ? kNull : *it;
}

// The term filters (value, type, tags, ...), at most max_terms values in all. Searching by
// email-src or email-dst also searches "email", as MISP does.
Status ParseTermParams(const json& body, size_t max_terms, SearchParams* p) {
  struct TermParam {
    const char* name;
    TermFilter* target;
  };
  const TermParam terms[] = {
      {"value", &p->value},
      {"value1", &p->value1},
      {"value2", &p->value2},
      {"type", &p->type},
      {"category", &p->category},
      {"org", &p->org},
      {"tags", &p->tags},
      {"tag", &p->tags},
      {"eventid", &p->eventid},
      {"uuid", &p->uuid},
      {"eventinfo", &p->eventinfo},
      {"object_relation", &p->object_relation},
      {"threat_level_id", &p->threat_level_id},
  };
  TermSink sink(max_terms);
  for (const TermParam& t : terms) {
    IOCGRID_RETURN_IF_ERROR(ParseTerms(Member(body, t.name), t.name, sink, t.target, 0));
  }
  // MISP adds "email" when email-src or email-dst is searched by type.
  auto widen = [](std::vector<std::string>& list) {
    bool has = false, email = false;
    for (const auto& s : list) {
      has |= s == "email-src" || s == "email-dst";
      email |= s == "email";
    }
    if (has && !email) list.push_back("email");
  };
  widen(p->type.any);
  widen(p->type.none);
  return Status();
}

// to_ids, published and deleted.
Status ParseStateParams(const json& body, SearchParams* p) {
  if (const json& v = Member(body, "to_ids"); !v.is_null()) {
    if (v.is_string() && v.get<std::string>() == "exclude") {
      p->to_ids = false;
    } else if (auto b = LooseBool(v)) {
      p->to_ids = *b;
    } else if (!v.is_array()) {
      return InvalidArgumentError("'to_ids' must be 0, 1 or \"exclude\"");
    }
  }
  if (const json& v = Member(body, "published"); !v.is_null()) {
    if (v.is_array()) {
      for (const json& item : v) {
        auto b = LooseBool(item);
        if (!b) return InvalidArgumentError("'published' must be a boolean or a list of booleans");
        p->published.push_back(*b);
      }
    } else if (auto b = LooseBool(v)) {
      p->published.push_back(*b);
    } else {
      return InvalidArgumentError("'published' must be a boolean or a list of booleans");
    }
  }
  if (const json& v = Member(body, "deleted"); !v.is_null()) {
    if (v.is_array()) {
      p->deleted = v.size() >= 2 ? 2 : (v.size() == 1 && LooseBool(v[0]).value_or(false) ? 1 : 0);
    } else if (v.is_string() && v.get<std::string>() == "only") {
      p->deleted = 1;
    } else if (auto b = LooseBool(v)) {
      p->deleted = *b ? 1 : 0;
    } else {
      return InvalidArgumentError("'deleted' must be 0, 1, \"only\" or a list");
    }
  }
  return Status();
}

// The time ranges and dates; relative times ("30d") count back from `now`.
Status ParseTimeParams(const json& body, int64_t now, SearchParams* p) {
  IOCGRID_RETURN_IF_ERROR(
      ParseRange(Member(body, "timestamp"), "timestamp", now, &p->attribute_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(Member(body, "attribute_timestamp"), "attribute_timestamp",
                                     now, &p->attribute_timestamp));
  IOCGRID_RETURN_IF_ERROR(
      ParseRange(Member(body, "event_timestamp"), "event_timestamp", now, &p->event_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(Member(body, "publish_timestamp"), "publish_timestamp", now,
                                     &p->publish_timestamp));
  IOCGRID_RETURN_IF_ERROR(ParseRange(Member(body, "last"), "last", now, &p->publish_timestamp));
  IOCGRID_RETURN_IF_ERROR(
      ParseRange(Member(body, "first_seen"), "first_seen", now, &p->first_seen));
  IOCGRID_RETURN_IF_ERROR(ParseRange(Member(body, "last_seen"), "last_seen", now, &p->last_seen));
  // first_seen alone is ">= t"; last_seen alone is "<= t".
  if (p->last_seen.from && !p->last_seen.to && !Member(body, "last_seen").is_array()) {
    p->last_seen.to = p->last_seen.from;
    p->last_seen.from.reset();
  }
  IOCGRID_ASSIGN_OR_RETURN(p->date_from, DateParam(Member(body, "from"), "from"));
  IOCGRID_ASSIGN_OR_RETURN(p->date_to, DateParam(Member(body, "to"), "to"));
  if (const json& v = Member(body, "date"); !v.is_null()) {
    TimeRange r;
    IOCGRID_RETURN_IF_ERROR(ParseRange(v, "date", now, &r));
    if (r.from) {
      IOCGRID_ASSIGN_OR_RETURN(p->date_from, DateParam(json(*r.from), "date"));
    }
    if (r.to) {
      IOCGRID_ASSIGN_OR_RETURN(p->date_to, DateParam(json(*r.to), "date"));
    }
  }
  return Status();
}

}  // namespace

Result<SearchParams> ParseSearchParams(const json& body, int64_t now, size_t max_terms) {
  if (!body.is_object()) return InvalidArgumentError("the filter parameters must be a JSON object");
  SearchParams p;
  if (const json& rf = Member(body, "returnFormat"); !rf.is_null()) {
    if (!rf.is_string()) return InvalidArgumentError("'returnFormat' must be a string");
    p.return_format = rf.get<std::string>();
    if (p.return_format == "download") p.return_format = "json";
  }
  IOCGRID_RETURN_IF_ERROR(ParseTermParams(body, max_terms, &p));
  IOCGRID_RETURN_IF_ERROR(ParseStateParams(body, &p));
  IOCGRID_RETURN_IF_ERROR(ParseTimeParams(body, now, &p));
  for (const char* name : {"searchall", "quickFilter"}) {
    const json& v = Member(body, name);
    if (v.is_null()) continue;
    if (!v.is_string()) return InvalidArgumentError(Quoted(name) + " must be a string");
    p.searchall = v.get<std::string>();
  }
  if (const json& v = Member(body, "limit"); !v.is_null()) {
    IOCGRID_ASSIGN_OR_RETURN(p.limit, PositiveInt(v, "limit"));
  }
  if (const json& v = Member(body, "page"); !v.is_null()) {
    IOCGRID_ASSIGN_OR_RETURN(p.page, PositiveInt(v, "page"));
  }
  IOCGRID_ASSIGN_OR_RETURN(p.include_event_tags,
                           AnyFlag(body, "includeEventTags", "includeAllTags"));
  IOCGRID_ASSIGN_OR_RETURN(p.include_event_uuid,
                           AnyFlag(body, "includeEventUuid", "includeAttributeUuid"));
  IOCGRID_ASSIGN_OR_RETURN(p.include_context, Flag(body, "includeContext"));
  IOCGRID_ASSIGN_OR_RETURN(p.include_sightings, Flag(body, "includeSightings"));
  IOCGRID_ASSIGN_OR_RETURN(p.metadata, Flag(body, "metadata"));
  IOCGRID_ASSIGN_OR_RETURN(p.headerless, Flag(body, "headerless"));
  if (const json& v = Member(body, "requested_attributes"); !v.is_null()) {
    if (!v.is_array())
      return InvalidArgumentError("'requested_attributes' must be a list of names");
    for (const json& item : v) {
      if (!item.is_string()) {
        return InvalidArgumentError("'requested_attributes' must be a list of names");
      }
      p.requested_attributes.push_back(item.get<std::string>());
    }
  }
  if (const json& v = Member(body, "order"); !v.is_null()) {
    if (!v.is_string())
      return InvalidArgumentError("'order' must be a string such as \"value desc\"");
    p.order = v.get<std::string>();
  }
  return p;
}

}  // namespace iocgrid::node
