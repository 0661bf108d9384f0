#include "portal/internal/alliance_request.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/json_depth.h"
#include "common/time.h"
#include "core/indicator.h"
#include "sift/sifter.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr uint64_t kMaxCount = uint64_t{1} << 40;

Status ItemError(size_t n, std::string_view field, std::string_view what) {
  std::string where = "sightings[" + std::to_string(n) + "]";
  if (!field.empty()) where += "." + std::string(field);
  return InvalidArgumentError(where + " " + std::string(what));
}

Result<int64_t> ReadTime(const json& v, size_t n, std::string_view field) {
  if (v.is_string()) {
    auto t = ParseIsoDateTime(v.get_ref<const std::string&>());
    if (!t.ok())
      return ItemError(n, field,
                       "is not an ISO 8601 date-time: " + std::string(t.status().message()));
    return *t;
  }
  if (v.is_number_unsigned() && v.get<uint64_t>() <= kMaxUnixSeconds) {
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  return ItemError(n, field, "must be an ISO 8601 date-time or unix seconds (0 to 253402300799).");
}

Result<uint64_t> ReadCount(const json& v, size_t n, std::string_view field, uint64_t min) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() < min || v.get<uint64_t>() > kMaxCount) {
    return ItemError(n, field, "must be a whole number from " + std::to_string(min) + " to 2^40.");
  }
  return v.get<uint64_t>();
}

// The observable: typed or guessed, one public address, name, URL, e-mail or digest.
Status ReadValue(const json& item, size_t n, ReportedSighting* out, bool* internal) {
  auto value = item.find("value");
  if (value == item.end() || !value->is_string() || value->get_ref<const std::string&>().empty() ||
      value->get_ref<const std::string&>().size() > 2048) {
    return ItemError(n, "value", "is required: the observable as text (at most 2048 bytes).");
  }
  const std::string& raw = value->get_ref<const std::string&>();
  Result<core::Indicator> ind = InvalidArgumentError("no value");
  if (auto type = item.find("type"); type != item.end()) {
    if (!type->is_string()) return ItemError(n, "type", "must be a MISP type name.");
    ind = core::ParseIndicator(type->get_ref<const std::string&>(), raw);
  } else {
    ind = core::GuessIndicator(raw);
  }
  if (!ind.ok())
    return ItemError(n, "value", "cannot be used: " + std::string(ind.status().message()));
  const core::MatchFamily family = core::FamilyOf(ind->type);
  const bool composite = core::TypeName(ind->type).find('|') != std::string_view::npos;
  if (composite || family == core::MatchFamily::kOther ||
      (family == core::MatchFamily::kIp && ind->value.find('/') != std::string::npos)) {
    return ItemError(n, "type",
                     "must name one address, domain, host name, URL, e-mail address or digest "
                     "(got " +
                         std::string(core::TypeName(ind->type)) + ").");
  }
  *internal = false;
  if (family == core::MatchFamily::kIp || family == core::MatchFamily::kHost ||
      family == core::MatchFamily::kUrl) {
    const sift::ValueKind kind = family == core::MatchFamily::kIp     ? sift::ValueKind::kIp
                                 : family == core::MatchFamily::kHost ? sift::ValueKind::kHost
                                                                      : sift::ValueKind::kUrl;
    auto checked = sift::NormalizeObservable(kind, sift::Field::kClient, ind->value, internal);
    if (!checked.ok() && !*internal) {
      return ItemError(n, "value", "cannot be used: " + std::string(checked.status().message()));
    }
  }
  out->type = ind->type;
  out->value = std::move(ind->value);
  return Status::Ok();
}

Status ReadItem(const json& item, size_t n, const SightingLimits& limits, SightingBatch* batch) {
  if (!item.is_object()) return ItemError(n, "", "must be an object {\"value\", ...}.");
  static constexpr std::array<std::string_view, 6> kFields = {"value",     "type",  "first_seen",
                                                              "last_seen", "count", "alerted"};
  for (const auto& [k, v] : item.items()) {
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end()) {
      return ItemError(n, k.substr(0, 64),
                       "is not a sighting field (value, type, first_seen, "
                       "last_seen, count, alerted).");
    }
  }
  ReportedSighting s;
  bool internal = false;
  IOCGRID_RETURN_IF_ERROR(ReadValue(item, n, &s, &internal));
  s.last_seen = limits.now;
  if (auto v = item.find("last_seen"); v != item.end()) {
    IOCGRID_ASSIGN_OR_RETURN(s.last_seen, ReadTime(*v, n, "last_seen"));
  }
  s.first_seen = s.last_seen;
  if (auto v = item.find("first_seen"); v != item.end()) {
    IOCGRID_ASSIGN_OR_RETURN(s.first_seen, ReadTime(*v, n, "first_seen"));
  }
  if (s.first_seen > s.last_seen) return ItemError(n, "first_seen", "is after last_seen.");
  if (s.last_seen > limits.now + limits.max_future_s) {
    return ItemError(n, "last_seen", "is in the future; check the reporter's clock.");
  }
  if (auto v = item.find("count"); v != item.end()) {
    IOCGRID_ASSIGN_OR_RETURN(s.count, ReadCount(*v, n, "count", 1));
  }
  if (auto v = item.find("alerted"); v != item.end()) {
    if (v->is_boolean()) {
      s.alerted = v->get<bool>() ? s.count : 0;
    } else {
      IOCGRID_ASSIGN_OR_RETURN(s.alerted, ReadCount(*v, n, "alerted", 0));
      if (s.alerted > s.count) return ItemError(n, "alerted", "is more than count.");
    }
  }
  ++batch->received;
  if (internal) {
    ++batch->internal;
    return Status::Ok();
  }
  batch->sightings.push_back(std::move(s));
  return Status::Ok();
}

Status TooMany(size_t max) {
  return ResourceExhaustedError("The batch holds more than " + std::to_string(max) +
                                " sightings (the portal's max_indicators); send it in parts.");
}

Result<SightingBatch> ParseNdjson(std::string_view body, const SightingLimits& limits) {
  SightingBatch batch;
  size_t n = 0;
  while (!body.empty()) {
    size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (n == limits.max_sightings) return TooMany(limits.max_sightings);
    IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(line));
    json item = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (item.is_discarded()) return ItemError(n, "", "is not a JSON object on one line.");
    IOCGRID_RETURN_IF_ERROR(ReadItem(item, n, limits, &batch));
    ++n;
  }
  if (n == 0) return InvalidArgumentError("The batch holds no sightings.");
  return batch;
}

}  // namespace

std::string_view ShareModeName(ShareMode mode) {
  return mode == ShareMode::kPublic ? "public" : "matched";
}

Result<ShareMode> ParseShareMode(std::string_view text) {
  if (text == "matched") return ShareMode::kMatched;
  if (text == "public") return ShareMode::kPublic;
  return InvalidArgumentError(
      "'share' must be \"matched\" (only observables some member holds) or \"public\" (every "
      "public address and name, for scanner detection).");
}

Result<SightingBatch> ParseSightingBatch(std::string_view body, bool ndjson,
                                         const SightingLimits& limits) {
  if (ndjson) return ParseNdjson(body, limits);
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(body));
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  SightingBatch batch;
  const json* list = &doc;
  if (doc.is_object()) {
    for (const auto& [k, v] : doc.items()) {
      if (k != "share" && k != "sightings") {
        return InvalidArgumentError("Unknown field '" + k.substr(0, 64) +
                                    "' (the batch has \"share\" and \"sightings\").");
      }
    }
    if (auto share = doc.find("share"); share != doc.end()) {
      if (!share->is_string()) return ParseShareMode("").status();
      IOCGRID_ASSIGN_OR_RETURN(batch.share, ParseShareMode(share->get_ref<const std::string&>()));
      batch.share_given = true;
    }
    auto it = doc.find("sightings");
    if (it == doc.end()) return InvalidArgumentError("'sightings' is required: a list.");
    list = &*it;
  }
  if (!list->is_array()) {
    return InvalidArgumentError(
        "The batch must be a JSON list of sightings, an object {\"share\", \"sightings\"}, or "
        "NDJSON sent as Content-Type: application/x-ndjson (see docs/trends.md).");
  }
  if (list->empty()) return InvalidArgumentError("The batch holds no sightings.");
  if (list->size() > limits.max_sightings) return TooMany(limits.max_sightings);
  for (size_t n = 0; n < list->size(); ++n) {
    IOCGRID_RETURN_IF_ERROR(ReadItem((*list)[n], n, limits, &batch));
  }
  return batch;
}

}  // namespace iocgrid::portal::internal
