#include "portal/internal/watchlist_request.h"

#include <algorithm>
#include <array>

#include "common/json_depth.h"
#include "common/time.h"
#include "common/utf8.h"
#include "core/indicator_type.h"
#include "portal/internal/trends.h"
#include "sift/sifter.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

Status FieldError(std::string_view field, std::string_view what) {
  return InvalidArgumentError("'" + std::string(field) + "' " + std::string(what));
}

bool IsText(const std::string& s) {
  return IsValidUtf8(s) && std::none_of(s.begin(), s.end(), [](char ch) {
           return static_cast<unsigned char>(ch) < 0x20;
         });
}

// The search fields a watchlist stands for (search_request.h parses them).
constexpr std::array<std::string_view, 10> kSearchFields = {
    "indicators", "csv",   "text",  "members", "relations",
    "since",      "until", "label", "tlp",     "time_gap_days"};

Status ReadInterval(const json& v, WatchlistFields* out) {
  if (v.is_string()) {
    auto seconds = ParseDuration(v.get_ref<const std::string&>());
    if (!seconds.ok()) return FieldError("interval", seconds.status().message());
    out->interval_s = *seconds;
    return Status::Ok();
  }
  if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 1) {
    return FieldError("interval", "must be at least 1 second.");
  }
  if (!v.is_number_integer() || v.get<uint64_t>() > 366u * 86400u || v.get<uint64_t>() < 1) {
    return FieldError("interval", "must be a duration such as \"15m\" or seconds (1 to 366 days).");
  }
  out->interval_s = v.get<int64_t>();
  return Status::Ok();
}

Status ReadOwnFields(const json& doc, WatchlistFields* out) {
  if (auto it = doc.find("name"); it != doc.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > kMaxWatchlistNameBytes ||
        !IsText(it->get_ref<const std::string&>())) {
      return FieldError("name", "must be 1-200 bytes of text without control characters.");
    }
    out->name = it->get<std::string>();
  }
  if (auto it = doc.find("webhook"); it != doc.end()) {
    if (!it->is_string()) return FieldError("webhook", "must be a URL string (\"\" removes it).");
    const std::string& url = it->get_ref<const std::string&>();
    if (!url.empty()) {
      if (Status st = CheckWebhookUrl(url); !st.ok()) return FieldError("webhook", st.message());
    }
    out->webhook = url;
  }
  if (auto it = doc.find("secret"); it != doc.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() < 16 ||
        it->get_ref<const std::string&>().size() > 256 ||
        !IsText(it->get_ref<const std::string&>())) {
      return FieldError("secret", "must be 16-256 bytes of text (the HMAC key of the webhook).");
    }
    out->secret = it->get<std::string>();
  }
  if (auto it = doc.find("interval"); it != doc.end()) {
    IOCGRID_RETURN_IF_ERROR(ReadInterval(*it, out));
  }
  return Status::Ok();
}

// "rising": {"window", "sectors", "types"}, each optional (7d; every sector; every type).
Status ReadRising(const json& v, WatchlistFields* out) {
  if (!v.is_object()) {
    return FieldError("rising", "must be an object: {\"window\", \"sectors\", \"types\"}.");
  }
  json spec = {{"window", "7d"}, {"sectors", json::array()}, {"types", json::array()}};
  for (const auto& [k, x] : v.items()) {
    if (k == "window") {
      if (!x.is_string() || !ParseTrendWindow("rising.window", x.get<std::string>(), 0).ok()) {
        return FieldError("rising.window",
                          "must be whole days or weeks, 1-366 days: \"7d\", \"2w\".");
      }
      spec["window"] = x;
    } else if (k == "sectors" || k == "types") {
      if (!x.is_array() || x.size() > 100) {
        return FieldError("rising." + k, "must be a list of at most 100 names.");
      }
      for (const json& n : x) {
        if (!n.is_string() || n.get_ref<const std::string&>().empty() ||
            n.get_ref<const std::string&>().size() > 200 || !IsText(n.get<std::string>())) {
          return FieldError("rising." + k, "must hold names of 1-200 bytes of text.");
        }
        if (k == "types" && !core::TypeFromName(n.get<std::string>())) {
          return FieldError("rising.types", "names '" + n.get<std::string>().substr(0, 64) +
                                                "', which is not a MISP attribute type.");
        }
      }
      spec[k] = x;
    } else {
      return InvalidArgumentError("Unknown field 'rising." + k.substr(0, 64) +
                                  "' (window, sectors, types).");
    }
  }
  out->rising = std::move(spec);
  return Status::Ok();
}

}  // namespace

Status CheckWebhookUrl(std::string_view url) {
  if (url.size() > kMaxWebhookBytes) return InvalidArgumentError("is longer than 2048 bytes.");
  if (std::any_of(url.begin(), url.end(), [](char ch) {
        return static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f;
      })) {
    return InvalidArgumentError("must be a URL without spaces or non-ASCII bytes.");
  }
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return InvalidArgumentError("must start with https:// (or http://).");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.front() == ':') return InvalidArgumentError("has no host.");
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("must not carry a user or password (the secret signs it).");
  }
  if (url.find('#') != std::string_view::npos) {
    return InvalidArgumentError("must not have a #fragment.");
  }
  return Status::Ok();
}

bool WebhookIsInternal(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  bool internal = false;
  auto host = sift::NormalizeObservable(sift::ValueKind::kHostOrIp, sift::Field::kHost, authority,
                                        &internal);
  return !host.ok() || internal;
}

Result<WatchlistFields> ParseWatchlistRequest(std::string_view body, bool patch) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(body));
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError("The watchlist must be a JSON object (see docs/portal-api.md).");
  }
  WatchlistFields out;
  for (auto& [k, v] : doc.items()) {
    const bool own =
        k == "name" || k == "webhook" || k == "secret" || k == "interval" || k == "rising";
    const bool search =
        std::find(kSearchFields.begin(), kSearchFields.end(), k) != kSearchFields.end();
    if (!own && !search) {
      return InvalidArgumentError("Unknown field '" + k.substr(0, 64) +
                                  "' (see docs/portal-api.md).");
    }
    if (search) out.search[k] = v;
  }
  IOCGRID_RETURN_IF_ERROR(ReadOwnFields(doc, &out));
  if (!patch && !out.name) return FieldError("name", "is required.");
  if (auto it = doc.find("rising"); it != doc.end()) {
    IOCGRID_RETURN_IF_ERROR(ReadRising(*it, &out));
    if (!out.search.empty()) {
      return InvalidArgumentError(
          "A watchlist follows either a search ('indicators', 'csv' or 'text') or the alliance's "
          "rising trends ('rising'), not both.");
    }
  }
  if (!patch && out.search.empty() && !out.rising) {
    return InvalidArgumentError(
        "A watchlist needs 'indicators', 'csv' or 'text' (a standing search), or 'rising' (the "
        "alliance's rising trends).");
  }
  if (out.webhook && !out.webhook->empty() && !out.secret && !patch) {
    return FieldError("secret", "is required with a webhook (it signs every delivery).");
  }
  return out;
}

}  // namespace iocgrid::portal::internal
