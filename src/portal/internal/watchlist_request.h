// The bodies of POST /api/v1/watchlists and PATCH /api/v1/watchlists/{id} (docs/portal-api.md):
// the watchlist's own fields, checked here, and the search it stands for (indicators, csv or
// text, members, relations, since, until, label, tlp, time_gap_days), left for the search
// request parser. Bounded, typed checks; an unknown field or a value that cannot be used is a
// kInvalidArgument naming the field.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::portal::internal {

struct WatchlistFields {
  std::optional<std::string> name;     // 1-200 bytes of text
  std::optional<std::string> webhook;  // an http(s) URL; "" removes it (PATCH)
  std::optional<std::string> secret;   // 16-256 bytes
  std::optional<int64_t> interval_s;   // from "interval": "15m" or seconds
  // The search fields, as given (an object; empty when none was given).
  nlohmann::json search = nlohmann::json::object();
  // A watchlist of the alliance's rising trends instead of a search (docs/trends.md):
  // {"window": "7d", "sectors": [...], "types": [...]}, normalized (every key present; empty
  // lists mean every sector or type). Never together with search fields.
  std::optional<nlohmann::json> rising;
};

inline constexpr size_t kMaxWatchlistNameBytes = 200;
inline constexpr size_t kMaxWebhookBytes = 2048;

// `patch`: every field optional (PATCH); otherwise `name` is required. A webhook needs a
// secret (given now, or kept from before: the caller checks that for PATCH). Errors:
// kInvalidArgument naming the field.
Result<WatchlistFields> ParseWatchlistRequest(std::string_view body, bool patch);

// Checks a webhook URL: http:// or https://, a host, no user:password, no fragment, at most
// kMaxWebhookBytes. Errors: kInvalidArgument.
Status CheckWebhookUrl(std::string_view url);

// Whether a (checked) webhook URL points into the portal's own network, where an analyst must
// not make the portal send requests: a loopback, private, link-local or documentation address,
// a local name (localhost, *.local, *.internal, a single label such as 2130706433), or a host
// that is neither a usable address nor a public name. A public name that resolves to such an
// address is not caught here.
bool WebhookIsInternal(std::string_view url);

}  // namespace iocgrid::portal::internal
