#include "portal/internal/search_request.h"

#include <algorithm>
#include <array>

#include "common/json_depth.h"
#include "common/time.h"
#include "core/indicator.h"
#include "extract/extractor.h"
#include "ingest/query_reader.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxLabelBytes = 512;
constexpr int kMaxTimeGapDays = 36500;
constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z

Status FieldError(std::string_view field, std::string_view what) {
  return InvalidArgumentError("'" + std::string(field) + "' " + std::string(what));
}

void AddIndicator(const std::string& raw, const std::string& type, const std::string& date,
                  SearchInput* in) {
  auto parsed = type.empty() ? core::GuessIndicator(raw) : core::ParseIndicator(type, raw);
  if (!parsed.ok() && !type.empty()) {
    // A typed value may still be defanged ("evil[.]example" typed as domain).
    bool changed = false;
    std::string refanged = core::Refang(raw, &changed);
    if (changed) parsed = core::ParseIndicator(type, refanged);
  }
  if (!parsed.ok()) {
    in->invalid.emplace_back(raw, std::string(parsed.status().message()));
    return;
  }
  in->raw.push_back(raw);
  in->indicators.push_back(std::move(*parsed));
  in->dates.push_back(date);
}

Status TooMany(size_t n, size_t max) {
  return ResourceExhaustedError("Too many indicators (" + std::to_string(n) + " > " +
                                std::to_string(max) + "); split the search.");
}

Status ParseIndicatorList(const json& list, const SearchRequestLimits& limits, SearchInput* in) {
  if (!list.is_array()) return FieldError("indicators", "must be a list.");
  if (list.size() > limits.max_indicators) return TooMany(list.size(), limits.max_indicators);
  for (const json& item : list) {
    if (item.is_string()) {
      AddIndicator(item.get_ref<const std::string&>(), "", "", in);
      continue;
    }
    if (!item.is_object()) {
      return FieldError("indicators", "must hold strings or objects with a \"value\".");
    }
    std::string fields[3];  // value, type, date
    static constexpr std::array<const char*, 3> kNames = {"value", "type", "date"};
    for (const auto& [k, v] : item.items()) {
      auto at = std::find(kNames.begin(), kNames.end(), k);
      if (at == kNames.end()) return FieldError("indicators", "items have no field '" + k + "'.");
      if (!v.is_string())
        return FieldError("indicators", "item field '" + k + "' must be a string.");
      fields[at - kNames.begin()] = v.get_ref<const std::string&>();
    }
    if (fields[0].empty()) return FieldError("indicators", "items need a non-empty \"value\".");
    if (!fields[2].empty() && !ParseIsoDateTime(fields[2]).ok()) {
      return FieldError("indicators", "item date '" + fields[2] + "' is not YYYY-MM-DD.");
    }
    AddIndicator(fields[0], fields[1], fields[2], in);
  }
  return Status();
}

Result<int64_t> ParseTime(const json& v, std::string_view field, int64_t now) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(kMaxUnixSeconds)
                               : (v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxUnixSeconds)) {
      return FieldError(field, "is out of range (unix seconds from 0 to year 9999).");
    }
    return v.get<int64_t>();
  }
  if (v.is_string()) {
    auto t = ParseTimeBound(v.get_ref<const std::string&>(), now);
    if (!t.ok()) return FieldError(field, t.status().message());
    return *t;
  }
  return FieldError(field,
                    "must be a date string such as \"2024-03-01\" or \"30d\", or unix "
                    "seconds.");
}

// The indicators, from exactly one of 'indicators' (a list), 'csv' or 'text' (extracted; the
// benign ones left out), at most limits.max_indicators.
Status ReadInput(const json& doc, const extract::Extractor& extractor,
                 const SearchRequestLimits& limits, SearchInput* input) {
  int sources = doc.contains("indicators") + doc.contains("csv") + doc.contains("text");
  if (sources == 0) {
    return InvalidArgumentError("Give the indicators as 'indicators' (a list), 'csv' or 'text'.");
  }
  if (sources > 1) return InvalidArgumentError("Give only one of 'indicators', 'csv' and 'text'.");
  SearchInput& in = *input;
  if (auto it = doc.find("indicators"); it != doc.end()) {
    IOCGRID_RETURN_IF_ERROR(ParseIndicatorList(*it, limits, &in));
  } else if (auto csv = doc.find("csv"); csv != doc.end()) {
    if (!csv->is_string()) return FieldError("csv", "must be a string.");
    ingest::QueryFile q = ingest::ParseQueries("csv", csv->get_ref<const std::string&>());
    if (q.items.size() > limits.max_indicators)
      return TooMany(q.items.size(), limits.max_indicators);
    for (auto& item : q.items) {
      in.raw.push_back(item.raw);
      in.indicators.push_back(std::move(item.indicator));
      in.dates.push_back(item.date);
    }
    for (const auto& issue : q.issues) {
      in.invalid.emplace_back("line " + std::to_string(issue.line), issue.message);
    }
  } else {
    const json& text = doc["text"];
    if (!text.is_string()) return FieldError("text", "must be a string.");
    for (auto& found : extractor.Extract(text.get_ref<const std::string&>())) {
      if (!found.benign_reason.empty()) continue;
      in.raw.push_back(found.indicator.value);
      in.indicators.push_back(std::move(found.indicator));
      in.dates.emplace_back();
    }
  }
  if (in.indicators.size() > limits.max_indicators) {
    return TooMany(in.indicators.size(), limits.max_indicators);
  }
  if (in.indicators.empty() && in.invalid.empty()) {
    return InvalidArgumentError("No indicators in the request.");
  }
  return Status();
}

// Which members, which relations and which time scope (relative times count from `now`).
Status ReadScope(const json& doc, int64_t now, ParsedSearch* out) {
  if (auto it = doc.find("members"); it != doc.end()) {
    if (!it->is_array()) return FieldError("members", "must be a list of member names.");
    for (const json& m : *it) {
      if (!m.is_string()) return FieldError("members", "must be a list of member names.");
      out->members.push_back(m.get<std::string>());
    }
  }
  if (auto it = doc.find("relations"); it != doc.end()) {
    if (!it->is_array()) return FieldError("relations", "must be a list.");
    index::RelationMask mask = 0;
    for (const json& r : *it) {
      index::Relation rel;
      if (!r.is_string() || !index::ParseRelation(r.get_ref<const std::string&>(), &rel)) {
        return FieldError("relations",
                          "holds the unknown relation " +
                              r.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 64) +
                              " (exact, component, url-host, subdomain, in-range).");
      }
      mask |= index::RelationBit(rel);
    }
    out->relations = mask;
  }
  for (const char* field : {"since", "until"}) {
    auto it = doc.find(field);
    if (it == doc.end() || it->is_null()) continue;
    IOCGRID_ASSIGN_OR_RETURN(int64_t t, ParseTime(*it, field, now));
    (field[0] == 's' ? out->since : out->until) = t;
  }
  if (out->since && out->until && *out->since > *out->until) {
    return InvalidArgumentError("'since' is after 'until'.");
  }
  return Status();
}

// The label, TLP, sharing and time-gap settings.
Status ReadLabels(const json& doc, ParsedSearch* out) {
  if (auto it = doc.find("label"); it != doc.end()) {
    if (!it->is_string()) return FieldError("label", "must be a string.");
    out->label = it->get<std::string>();
    if (out->label.size() > kMaxLabelBytes) {
      return FieldError("label", "is longer than " + std::to_string(kMaxLabelBytes) + " bytes.");
    }
  }
  if (auto it = doc.find("tlp"); it != doc.end()) {
    static constexpr std::array<std::string_view, 6> kTlp = {"clear", "white",        "green",
                                                             "amber", "amber+strict", "red"};
    if (!it->is_string() ||
        std::find(kTlp.begin(), kTlp.end(), it->get_ref<const std::string&>()) == kTlp.end()) {
      return FieldError("tlp", "must be one of clear, white, green, amber, amber+strict, red.");
    }
    out->tlp = it->get<std::string>();
  }
  if (auto it = doc.find("shared"); it != doc.end()) {
    if (!it->is_boolean()) return FieldError("shared", "must be true or false.");
    out->shared = it->get<bool>();
  }
  if (auto it = doc.find("time_gap_days"); it != doc.end()) {
    if (!it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<uint64_t>() > kMaxTimeGapDays) ||
        it->get<int64_t>() < 0 || it->get<int64_t>() > kMaxTimeGapDays) {
      return FieldError("time_gap_days", "must be a whole number of days from 0 to 36500.");
    }
    out->time_gap_days = static_cast<int>(it->get<int64_t>());
  }
  return Status();
}

// The request as stored: typed indicators with their dates, absolute scope.
json Normalized(const ParsedSearch& out) {
  const SearchInput& in = out.input;
  json n;
  json list = json::array();
  for (size_t i = 0; i < in.indicators.size(); ++i) {
    json item = {{"value", in.raw[i]}, {"type", core::TypeName(in.indicators[i].type)}};
    if (!in.dates[i].empty()) item["date"] = in.dates[i];
    list.push_back(std::move(item));
  }
  n["indicators"] = std::move(list);
  if (!out.members.empty()) n["members"] = out.members;
  if (out.relations) n["relations"] = RelationNames(*out.relations);
  if (out.since) n["since"] = FormatIsoDateTime(*out.since);
  if (out.until) n["until"] = FormatIsoDateTime(*out.until);
  n["label"] = out.label;
  n["tlp"] = out.tlp;
  n["shared"] = out.shared;
  n["time_gap_days"] = out.time_gap_days;
  return n;
}

}  // namespace

Result<ParsedSearch> ParseSearchRequest(std::string_view body, const extract::Extractor& extractor,
                                        const SearchRequestLimits& limits) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(body));
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError("The search must be a JSON object (see docs/portal-api.md).");
  }
  static constexpr std::array<std::string_view, 11> kFields = {
      "indicators", "csv",   "text", "members",       "relations", "since",
      "until",      "label", "tlp",  "time_gap_days", "shared"};
  for (const auto& [k, v] : doc.items()) {
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end()) {
      return InvalidArgumentError("Unknown field '" + k.substr(0, 64) +
                                  "' (see docs/portal-api.md).");
    }
  }
  ParsedSearch out;
  out.time_gap_days = limits.default_time_gap_days;
  IOCGRID_RETURN_IF_ERROR(ReadInput(doc, extractor, limits, &out.input));
  IOCGRID_RETURN_IF_ERROR(ReadScope(doc, limits.now, &out));
  IOCGRID_RETURN_IF_ERROR(ReadLabels(doc, &out));
  out.normalized = Normalized(out);
  return out;
}

}  // namespace iocgrid::portal::internal
