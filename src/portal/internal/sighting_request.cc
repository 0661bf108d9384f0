#include "portal/internal/sighting_request.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/json_depth.h"
#include "common/utf8.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

Status FieldError(std::string_view field, std::string_view what) {
  return InvalidArgumentError("'" + std::string(field) + "' " + std::string(what));
}

Status ReadPick(const json& item, size_t n, std::set<std::pair<uint32_t, std::string>>* seen,
                SightingPick* pick) {
  const std::string field = "hits[" + std::to_string(n) + "]";
  if (!item.is_object() || item.size() != 2 || !item.contains("i") || !item.contains("member")) {
    return FieldError(field, "must be an object {\"i\": N, \"member\": NAME}.");
  }
  const json& i = item["i"];
  if (!i.is_number_integer() ||
      (i.is_number_unsigned() ? i.get<uint64_t>() > UINT32_MAX : i.get<int64_t>() < 0)) {
    return FieldError(field + ".i", "must be an indicator's position in the search (0 or more).");
  }
  const json& member = item["member"];
  if (!member.is_string() || member.get_ref<const std::string&>().empty() ||
      member.get_ref<const std::string&>().size() > 64) {
    return FieldError(field + ".member", "must be a member's name.");
  }
  pick->i = static_cast<uint32_t>(i.get<uint64_t>());
  pick->member = member.get<std::string>();
  if (!seen->emplace(pick->i, pick->member).second) {
    return FieldError(field, "names the same hit twice.");
  }
  return Status::Ok();
}

Status ReadHits(const json& hits, ParsedSightings* out) {
  if (hits.is_string()) {
    if (hits.get_ref<const std::string&>() != "all") {
      return FieldError("hits", "must be \"all\" or a list of {\"i\", \"member\"}.");
    }
    out->all = true;
    return Status::Ok();
  }
  if (!hits.is_array() || hits.empty()) {
    return FieldError("hits", "must be \"all\" or a non-empty list of {\"i\", \"member\"}.");
  }
  if (hits.size() > kMaxSightingPicks) {
    return FieldError("hits", "lists more than " + std::to_string(kMaxSightingPicks) +
                                  " hits; send them in parts.");
  }
  std::set<std::pair<uint32_t, std::string>> seen;
  out->picks.resize(hits.size());
  for (size_t n = 0; n < hits.size(); ++n) {
    IOCGRID_RETURN_IF_ERROR(ReadPick(hits[n], n, &seen, &out->picks[n]));
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedSightings> ParseSightingRequest(std::string_view body) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(body));
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError(
        "The sightings request must be a JSON object {\"type\", \"hits\", \"source\"} (see "
        "docs/portal-api.md).");
  }
  static constexpr std::array<std::string_view, 3> kFields = {"type", "hits", "source"};
  for (const auto& [k, v] : doc.items()) {
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end()) {
      return InvalidArgumentError("Unknown field '" + k.substr(0, 64) +
                                  "' (see docs/portal-api.md).");
    }
  }
  ParsedSightings out;
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string() ||
      !federation::ParseSightingType(type->get_ref<const std::string&>(), &out.type)) {
    return FieldError("type", "must be \"true-positive\" or \"false-positive\".");
  }
  auto hits = doc.find("hits");
  if (hits == doc.end()) return FieldError("hits", "is required: \"all\" or a list.");
  IOCGRID_RETURN_IF_ERROR(ReadHits(*hits, &out));
  if (auto source = doc.find("source"); source != doc.end()) {
    if (!source->is_string()) return FieldError("source", "must be a string.");
    const std::string& s = source->get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxSightingSourceBytes || !IsValidUtf8(s) ||
        std::any_of(s.begin(), s.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20; })) {
      return FieldError("source", "must be 1-255 bytes of text without control characters.");
    }
    out.source = s;
  }
  return out;
}

}  // namespace iocgrid::portal::internal
