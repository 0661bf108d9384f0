// The private-search relay (issue 10, `iocgrid search --private`; docs/private-search.md
// "Blinding on the analyst's machine"): the analyst's CLI runs the querier and the portal only
// forwards its frames to a private member and the member's answers back. What passes through
// are blinded points, tags and sealed labels: the portal learns neither the queried values nor
// the hits. It keeps a count per analyst of what it relayed, never a frame.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_client.h"
#include "portal/internal/portal_impl.h"
#include "psi/wire.h"

namespace iocgrid::portal {

using internal::Error;

namespace {

// The member endpoints the relay forwards, each with its one method (docs/private-search.md
// "Node API"); nothing else under /grid/ is reachable through the portal.
struct RelayedOp {
  std::string_view op;
  std::string_view method;
};
constexpr std::array<RelayedOp, 5> kRelayedOps = {{{"info", "GET"},
                                                   {"evaluate", "POST"},
                                                   {"tags", "GET"},
                                                   {"buckets", "POST"},
                                                   {"labels", "POST"}}};

// The member's answer headers a querier needs: its quota state and when to retry.
constexpr std::array<std::string_view, 4> kRelayedHeaders = {
    "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset", "retry-after"};

}  // namespace

std::optional<net::Response> Portal::Impl::ChargeEvaluations(const net::Request& req,
                                                             const PortalUser& user) {
  // The member counts the portal as one querier: the portal shares that quota out per user.
  // A body that is no points frame counts nothing here; the member answers it with its 400.
  auto frame = psi::ParseFrameOf(psi::FrameKind::kPoints, req.body, psi::FrameLimits{});
  const uint64_t points = frame.ok() ? frame->points.size() : 0;
  const int64_t now = config.clock.Now();
  const int64_t day = now / 86400;
  const uint64_t cap = config.private_evaluations_per_user_day;
  // Counted in the portal's store, so that a restart does not hand out a fresh day's share.
  auto charge = store->ChargeEvaluations(user.name, day, points, cap);
  if (!charge.ok()) {
    return Error(503,
                 "The portal cannot count private-search evaluations now: " +
                     std::string(charge.status().message()),
                 req);
  }
  if (!charge->charged) {
    net::Response refused = Error(
        429,
        "This private search needs " + std::to_string(points) + " evaluations; you have used " +
            std::to_string(charge->used) + " of your " + std::to_string(cap) +
            " for today (UTC). Search fewer values, or ask an admin to raise "
            "private_evaluations_per_user_day.",
        req);
    refused.headers.emplace_back("Retry-After", std::to_string((day + 1) * 86400 - now));
    return refused;
  }
  return std::nullopt;
}

net::Response Portal::Impl::PrivateRelay(net::Request& req, const PortalUser& user) {
  const std::string& name = req.params["member"];
  const std::string& op = req.params["op"];
  const RelayedOp* relayed = nullptr;
  for (const RelayedOp& r : kRelayedOps) {
    if (r.op == op) relayed = &r;
  }
  if (relayed == nullptr) {
    return Error(404, "Unknown private-search endpoint: info, evaluate, tags, buckets, labels.",
                 req);
  }
  if (req.method != relayed->method) {
    return Error(405, "Use " + std::string(relayed->method) + " for " + op + ".", req);
  }
  const federation::MemberConfig* member = nullptr;
  for (const federation::MemberConfig& m : config.members) {
    if (m.name == name) member = &m;
  }
  if (!member || !member->enabled) return Error(404, "Invalid member", req);
  if (member->disclosure != federation::Disclosure::kPrivate) {
    return Error(400,
                 "Member '" + name + "' does not answer private searches (its disclosure is " +
                     std::string(federation::DisclosureName(member->disclosure)) +
                     "): search it without --private.",
                 req);
  }
  if (op == "evaluate") {
    if (std::optional<net::Response> refused = ChargeEvaluations(req, user)) return *refused;
  }
  net::ClientRequest out = federation::MemberRequest(
      *member, req.method, "/grid/v1/psi/" + op + (req.query.empty() ? "" : "?" + req.query),
      req.body);
  federation::SetOctetStream(&out);
  out.timeout = member->timeout;  // one request: the member's timeout is its deadline too
  auto answer = net::Fetch(out);
  {
    MutexLock lock(relay_mu);
    RelayCount& count = relayed_counts[user.name];
    ++count.requests;
    count.bytes += req.body.size() + (answer.ok() ? answer->body.size() : 0);
  }
  if (!answer.ok()) {
    return Error(502, "Member '" + name + "' did not answer: " + answer.status().ToString(), req);
  }
  net::Response resp;
  resp.status = answer->status;
  resp.body = std::move(answer->body);
  const std::string type = answer->Header("content-type");
  resp.content_type = type.empty() ? "application/octet-stream" : type;
  for (std::string_view h : kRelayedHeaders) {
    std::string v = answer->Header(std::string(h));
    if (!v.empty()) resp.headers.emplace_back(std::string(h), std::move(v));
  }
  return resp;
}

}  // namespace iocgrid::portal
