#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/json_depth.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "net/http_error.h"
#include "net/router.h"
#include "node/internal/describe_types.h"
#include "node/internal/grid.h"
#include "node/internal/misp_dto.h"
#include "node/internal/node_impl.h"
#include "node/internal/search_params.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

Result<store::AuthContext> Node::Impl::Authenticate(const net::Request& req) {
  std::string_view header = req.Header("x-misp-auth");
  if (header.empty()) header = req.Header("authorization");
  if (header.empty() || header.rfind("Basic", 0) == 0) return PermissionDeniedError(kAuthFailed);
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view key = rest.substr(0, comma);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (key.size() == 40) {
      auto auth = store->AuthenticateKey(key);
      if (auth.ok()) return auth;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return PermissionDeniedError(kAuthFailed);
}

std::vector<std::string> Node::Impl::AuditedValues(const std::vector<std::string>& any,
                                                   const std::vector<std::string>& none) const {
  if (!options.store.audit_values) return {};
  std::vector<std::string> out = any;
  for (const std::string& v : none) out.push_back("!" + v);
  return out;
}

store::AuditEntry Node::Impl::AuditRow(const net::Request& req, const store::AuthContext* auth,
                                       int status) const {
  store::AuditEntry e;
  if (auth) {
    e.user_id = auth->user.id;
    e.key_id = auth->key_id;
    e.org_id = auth->org.id;
  }
  e.action = req.method;
  e.endpoint = req.path;
  e.remote = req.remote_address;
  e.status = status;
  return e;
}

net::Response Node::Impl::RunAudited(net::Request& req, store::AuthContext auth, AuthedHandler h,
                                     bool json_body) {
  // The row is written before the body is parsed or any work is done (status 0 = running), so
  // every request leaves a row even if it never ends; a node that cannot audit refuses the
  // request rather than serve it unaudited (issue 8: the log failed open).
  auto row = store->AppendAudit(AuditRow(req, &auth, 0));
  if (!row.ok()) {
    std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
    return Error(503,
                 "The audit log cannot be written (" + std::string(row.status().message()) +
                     "); the request was refused.",
                 req);
  }
  Call call(std::move(auth));
  net::Response r;
  // nlohmann's parser and the code walking its DOM recurse per level: 15,000 levels killed the
  // node (issue 8). Checked without recursion before any handler parses.
  if (Status depth = json_body ? CheckJsonDepth(req.body) : Status(); !depth.ok()) {
    r = Error(400, std::string(depth.message()) + "; the request was refused.", req);
  } else {
    r = (this->*h)(req, call);
  }
  Status st = store->UpdateAudit(*row, r.status, call.value_count, call.values);
  // The work is done by now; a failure here leaves the row with status 0 and is logged.
  if (!st.ok()) std::fprintf(stderr, "iocgrid node: audit: %s\n", st.ToString().c_str());
  return r;
}

void Node::Impl::Add(std::vector<std::string> methods, std::string_view pattern, AuthedHandler h,
                     bool admin_only, bool json_body) {
  router.Add(std::move(methods), pattern, [this, h, admin_only, json_body](net::Request& req) {
    auto auth = Authenticate(req);
    if (!auth.ok() || (admin_only && auth->user.role != store::Role::kAdmin)) {
      // A refused request does nothing, so its row is best effort.
      auto row = store->AppendAudit(AuditRow(req, auth.ok() ? &*auth : nullptr, 403));
      if (!row.ok())
        std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
      if (auth.ok()) return Error(403, "You do not have permission to do that.", req);
      bool ajax = req.Header("x-requested-with") == "XMLHttpRequest";
      return Error(403, ajax ? "Authentication failed." : kAuthFailed, req);
    }
    {
      MutexLock lock(keys_mu);
      int& n = in_flight_by_key[auth->key_id];
      if (n >= options.max_concurrent_per_key) {
        net::Response r = Error(429, "Rate limit exceeded.", req);
        r.headers.emplace_back("X-Rate-Limit-Limit",
                               std::to_string(options.max_concurrent_per_key));
        r.headers.emplace_back("X-Rate-Limit-Remaining", "0");
        r.headers.emplace_back("X-Rate-Limit-Reset", "1");
        return r;
      }
      ++n;
    }
    // Released however the handler ends: a throw (caught by the server) must not leave the key
    // counted as busy for ever.
    struct Release {
      Impl* impl;
      int64_t key;
      ~Release() {
        MutexLock lock(impl->keys_mu);
        --impl->in_flight_by_key[key];
      }
    } release{this, auth->key_id};
    return RunAudited(req, std::move(*auth), h, json_body);
  });
}

}  // namespace iocgrid::node
