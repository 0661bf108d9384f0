// A node beside a member's MISP (issue 14; docs/mirror.md): the MISP's events copied into the
// node's store, incrementally and resumably, so that the node answers the portal with every
// relation (in-range, subdomain, url-host) and, where configured, privately — which a plain
// MISP member cannot.
//
// A sweep lists the MISP's events (POST /events/index, paged; only those changed since the last
// successful sweep unless `full`), fetches each event whose timestamp differs from the one the
// node holds (GET /events/view/UUID, soft-deleted attributes excluded by MISP), and writes it
// with ImportEvents (attributes the new copy lacks are removed, so edits and attribute
// deletions follow). A full sweep also removes events the MISP no longer lists. Distribution is
// honoured: only events (and attributes) at or above `min_distribution`, and sharing-group
// events only when their group is listed. Every event is recorded as it lands, so an
// interrupted sweep resumes where it stopped.
//
// Thread-safety: MirrorSweep may run beside a serving node on the same store (the store
// serialises writes); two sweeps of one store at once are not supported.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/event.h"
#include "store/store.h"

namespace iocgrid::node {

struct MirrorOptions {
  std::string url;  // the MISP's base URL, e.g. https://misp.example.org
  std::string key;  // an API key of a MISP user allowed to read the events to mirror
  // TLS and proxy as the portal's MISP connector: verification on unless turned off.
  bool verify_tls = true;
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string proxy;
  // Events and attributes mirrored: distribution >= this (1 this community, 2 connected
  // communities, 3 all communities); 0 (organisation only) is never mirrored.
  int min_distribution = 1;
  // Sharing groups (uuids) whose events (distribution 4) are mirrored.
  std::vector<std::string> sharing_groups;
  uint32_t page_size = 500;                    // events per index page
  uint32_t concurrency = 4;                    // event views downloaded at once (1-16)
  std::chrono::milliseconds timeout{120000};   // per request
  size_t max_event_bytes = size_t{512} << 20;  // largest event answer accepted
};

// Checks the options (URL scheme, key, levels, uuids). Errors: kInvalidArgument naming the
// option.
Status ValidateMirrorOptions(const MirrorOptions& options);

// Applies the distribution rules to one fetched event: false when the event may not leave the
// MISP (below the minimum, organisation only, or a sharing group not listed); otherwise true,
// with the attributes that may not leave it removed (an attribute inheriting follows the event;
// one in a sharing group only when it is the event's own listed group).
bool FilterForAlliance(core::Event* event, const MirrorOptions& options);

// One row of MISP's /events/index as the mirror reads it (minimal rows, or full ones, flat or
// wrapped in {"Event": ...}).
struct MirrorIndexRow {
  std::string uuid;  // lower case
  int64_t timestamp = 0;
  int64_t sighting_timestamp = 0;  // MISP's minimal rows carry it; 0 when absent
};

// One page of /events/index. Errors: kInvalidArgument (nested deeper than kMaxJsonDepth),
// kDataLoss naming the row without a uuid (8-4-4-4-12 hex) and a timestamp (at most 18 digits).
Result<std::vector<MirrorIndexRow>> ParseMirrorIndex(std::string_view body);

struct MirrorProgress {
  uint64_t listed = 0;   // index rows read so far
  uint64_t fetched = 0;  // events fetched so far
};

struct MirrorSweepStats {
  bool full = false;
  uint64_t listed = 0;      // index rows read
  uint64_t fetched = 0;     // events fetched (new or changed)
  uint64_t kept = 0;        // of those, written to the store
  uint64_t filtered = 0;    // of those, left out by distribution (a held copy is removed)
  uint64_t removed = 0;     // events gone from the MISP (or no longer allowed) removed here
  uint64_t attributes = 0;  // attributes written
  int64_t elapsed_ms = 0;
};

// One sweep of `options.url` into `store`. `full` lists every event (and removes those the MISP
// no longer has); otherwise only events changed since the last successful sweep. The store's
// MirrorState records the attempt, its success or error. Errors: kInvalidArgument (options),
// kAlreadyExists (the store holds events mirrored from another MISP), kPermissionDenied (the key is
// refused), kUnavailable / kDeadlineExceeded (the MISP cannot be reached or fails), kDataLoss (it
// answers something unusable, named), kResourceExhausted (an answer over its cap); the store's own.
// `stop`, when given, is read between requests: once true the sweep ends with kUnavailable
// "stopped" (what it wrote is kept, and the next sweep resumes).
Result<MirrorSweepStats> MirrorSweep(
    store::Store& store, const MirrorOptions& options, bool full,
    const std::function<void(const MirrorProgress&)>& progress = {},
    const std::atomic<bool>* stop = nullptr);

}  // namespace iocgrid::node
