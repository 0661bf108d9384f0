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

net::Response Node::Impl::GridMatch(net::Request& req, Call& call) {
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(snapshot_mu);
    snap = current;
  }
  RefreshIfStale(*snap);
  GridContext ctx{store.get(), std::move(snap), options.max_match_values, options.match_chunk,
                  options.store.clock.Now()};
  uint64_t count = 0;
  std::vector<std::string> audited;
  net::Response r =
      HandleGridMatch(req, ctx, &count, options.store.audit_values ? &audited : nullptr);
  call.Note(count, std::move(audited));
  return r;
}

net::Response Node::Impl::GridStats(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto stats = store->Stats();
  if (!stats.ok()) return StatusError(stats.status(), req);
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(snapshot_mu);
    snap = current;
  }
  // The data generation the grid API answers from (the index snapshot's): it moves once a
  // write, by this process or an import beside it, is searchable, so that a watchlist re-run on
  // it (issue 11) finds the new data. A stale snapshot is rebuilt in the background.
  const uint64_t generation = snap ? snap->data_generation : 0;
  if (snap) RefreshIfStale(*snap);
  json by_type = json::object();
  for (const auto& [type, n] : stats->attributes_by_type) by_type[type] = n;
  json body = {{"events", stats->events},
               {"attributes", stats->attributes},
               {"objects", stats->objects},
               {"sightings", stats->sightings},
               {"attributes_by_type", by_type},
               {"first_timestamp", stats->first_timestamp},
               {"last_timestamp", stats->last_timestamp},
               {"first_date", stats->first_date},
               {"last_date", stats->last_date},
               {"last_import", stats->last_import},
               {"index_entries", snap ? snap->size() : 0},
               {"index_bytes", snap ? snap->MemoryUsage() : 0},
               {"index_from_file", snap && snap->from_file},
               // Live writes (docs/index.md): the delta beside the base, and bases built.
               {"index_delta",
                {{"entries", snap ? snap->delta_size() : 0},
                 {"changed", snap ? snap->changed_since_base() : 0},
                 {"bases_built", merges.load(std::memory_order_relaxed)}}},
               {"relations", {"exact", "component", "url-host", "subdomain", "in-range"}},
               {"org", auth.org.name},
               {"generation", generation}};
  // A node mirroring a MISP (node/mirror.h): how far behind it may be. Everything the MISP
  // changed before last_success is here; lag_seconds counts from it.
  auto mirror = store->GetMirrorState();
  if (!mirror.ok()) return StatusError(mirror.status(), req);
  if (!mirror->source.empty()) {
    const int64_t now = options.store.clock.Now();
    body["mirror"] = {
        {"source", mirror->source},
        {"last_success", mirror->last_success},
        {"last_attempt", mirror->last_attempt},
        {"last_full", mirror->last_full},
        {"lag_seconds",
         mirror->last_success > 0 ? std::max<int64_t>(0, now - mirror->last_success) : -1},
        {"events", mirror->events},
        {"filtered", mirror->filtered},
        {"error", mirror->error}};
  }
  call.Note(0);
  return JsonResponse(body.dump());
}

}  // namespace iocgrid::node
