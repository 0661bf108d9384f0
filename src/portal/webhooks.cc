// The webhook deliverer (issue 11; docs/portal-api.md "Watchlists"): a thread that works off
// the store's queue of deliveries the watcher recorded, POSTs each signed event to its
// watchlist's webhook, and retries with backoff. Each attempt is claimed in the store first, so
// that portal instances sharing a database attempt a delivery once.
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/time.h"
#include "net/http_client.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/watchlist_request.h"

namespace iocgrid::portal {

namespace {

using json = nlohmann::json;

// "sha256=" and the hex HMAC-SHA256 of `body` under `secret` (X-Iocgrid-Signature).
std::string Signature(const std::string& secret, const std::string& body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("sha256=") + hex;
}

}  // namespace

void Portal::Impl::DeliverLoop() {
  while (true) {
    {
      MutexLock lock(watch_mu);
      if (watch_stop) return;
      deliver_cv.WaitFor(watch_mu, std::chrono::milliseconds(100));
      if (watch_stop) return;
    }
    auto due = store->DueDeliveries(UnixNowMs());
    if (!due.ok()) continue;
    for (DeliveryRow& d : *due) {
      // One attempt at a time across the instances sharing the database; one that dies
      // mid-attempt leaves the delivery to be tried again after the attempt's time is up.
      const int64_t until = UnixNowMs() + config.watch.webhook_timeout_ms + 60'000;
      auto claimed = store->ClaimDelivery(d.id, d.next_at, until);
      if (!claimed.ok() || !*claimed) continue;
      AttemptDelivery(std::move(d));
      MutexLock lock(watch_mu);
      if (watch_stop) return;
    }
  }
}

void Portal::Impl::AttemptDelivery(DeliveryRow d) {
  auto row = store->GetWatchlist(d.watchlist_id);
  ++d.attempts;
  json log = json::parse(d.log, nullptr, false);
  if (!log.is_array()) log = json::array();
  int status = 0;
  std::string error;
  bool blocked = false;
  if (!row.ok()) {
    error = "the watchlist was deleted";
  } else if (!config.watch.allow_internal_webhooks && internal::WebhookIsInternal(d.url)) {
    blocked = true;  // the config changed since the watchlist was made: no retry will help
    error = "the webhook points into the portal's own network (webhook_allow_internal is off)";
  } else {
    // The event the body carries: watchlist.hits, or watchlist.rising for rising trends.
    const json body = json::parse(d.body, nullptr, false);
    const std::string event =
        body.is_object() ? body.value("event", "watchlist.hits") : "watchlist.hits";
    net::ClientRequest request;
    request.method = "POST";
    request.url = d.url;
    request.body = d.body;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", "iocgrid-portal"},
                       {"X-Iocgrid-Event", event},
                       {"X-Iocgrid-Delivery", std::to_string(d.id)},
                       {"X-Iocgrid-Signature", Signature(row->secret, d.body)}};
    request.timeout = std::chrono::milliseconds(config.watch.webhook_timeout_ms);
    request.connect_timeout = request.timeout;
    request.max_response_bytes = 64 * 1024;
    Result<net::ClientResponse> answer = net::Fetch(request);
    if (!answer.ok()) {
      error = std::string(answer.status().message());
    } else {
      status = answer->status;
      if (status < 200 || status > 299)
        error = "the receiver answered HTTP " + std::to_string(status);
    }
  }
  log.push_back(
      {{"at", UnixNowMs() / 1000}, {"attempt", d.attempts}, {"status", status}, {"error", error}});
  d.log = log.dump(-1, ' ', false, json::error_handler_t::replace);
  d.last_status = status;
  d.last_error = error;
  if (error.empty()) {
    d.state = "delivered";
  } else if (!row.ok() || blocked || d.attempts >= config.watch.webhook_attempts) {
    d.state = "failed";
  } else {
    d.next_at = UnixNowMs() +
                config.watch.webhook_backoff_ms * (int64_t{1} << std::min(d.attempts - 1, 20));
  }
  (void)store->UpdateDelivery(d);
}

}  // namespace iocgrid::portal
