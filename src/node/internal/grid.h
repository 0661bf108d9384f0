// The grid match API (docs/node-api.md): POST /grid/v1/match with up to millions of indicators,
// full match semantics, per-indicator hits with context, a streamed NDJSON answer.
//
// Thread-safety: HandleGridMatch may run concurrently; the snapshot is immutable and the store
// is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "net/http.h"
#include "node/node.h"
#include "store/store.h"

namespace iocgrid::node {

struct GridContext {
  store::Store* store;  // must outlive the response stream
  std::shared_ptr<const IndexSnapshot> snapshot;
  size_t max_values;
  size_t chunk;
  int64_t now;  // unix seconds of the request (the node's clock): "since": "30d" counts from it
};

// Writes one hit's context into an open JSON object, everything but its relation: the attribute
// ("matched", "type", ..., "sightings"), its event (when `e` is not null) and its tags. The one
// shape of a hit, shared by grid match answers and private-search labels (psi_labels.cc).
void WriteHitContext(JsonWriter& w, const store::AttributeRecord& a, const store::EventInfo* e);

// Parses the request and returns a streaming response; *value_count gets the number of
// indicators received and, when not null, *audit_values a copy of them (--audit-values). Bad
// requests return a MISP-style error at once. The body's capacity may grow (parsing in place).
net::Response HandleGridMatch(net::Request& request, const GridContext& context,
                              uint64_t* value_count, std::vector<std::string>* audit_values);

}  // namespace iocgrid::node
