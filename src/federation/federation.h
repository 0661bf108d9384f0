// Federation: concurrent fan-out of one search to every member, with per-member
// deadlines, retries with backoff on connection errors and 5xx (never on 4xx),
// a response size cap, a circuit breaker per member, and partial results: every
// member yields exactly one MemberReply, and one member's failure never spoils
// the others' hits (STYLE.md sections 5 and 8).
//
// Connectors: iocgrid members get the whole batch in one POST /grid/v1/match
// (NDJSON answer, full relations). Plain MISP members get batched POST
// /attributes/restSearch (batch_size values per request, up to max_concurrent
// in parallel, limit/page paging, returnFormat json): exact and component
// relations from MISP's value match, and in-range computed locally against a
// cache of that member's CIDR attributes (fetched with restSearch by type and
// refreshed incrementally by timestamp on a schedule and on demand).
// MemberReply::relations says which relations a member could be asked for.
//
// All outbound HTTP goes through one libcurl multi handle on the federation's
// own thread.
//
// Thread-safety: all public methods are thread-safe. Callbacks run on the
// federation thread and must not block.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "federation/member.h"

namespace iocgrid::federation {

struct FederationOptions {
  int retries = 2;                                     // extra attempts per request
  std::chrono::milliseconds retry_backoff{100};        // doubled per attempt
  int breaker_failures = 3;                            // consecutive failed searches to open
  std::chrono::milliseconds breaker_open_for{30000};   // then one trial search is let through
  std::chrono::minutes cidr_cache_refresh{15};         // MISP members' CIDR cache
  std::chrono::milliseconds cidr_page_timeout{60000};  // per page of a CIDR cache fetch
  size_t max_total_connections = 64;
  // Private members: the most tags the portal keeps in memory for one member (its full set, or
  // one search's bucket answers); a member that sends more fails with a reason (a hostile or
  // very large member cannot exhaust the portal's memory). About 60 bytes a tag.
  size_t max_private_tags = size_t{1} << 23;
};

struct SearchRequest {
  std::vector<core::Indicator> indicators;  // normalized
  std::vector<std::string> members;         // empty = every enabled member
  index::RelationMask relations = index::kAllRelations;
  std::optional<int64_t> since;  // unix seconds, member data time scope
  std::optional<int64_t> until;
  std::chrono::steady_clock::time_point
      deadline;  // whole search; members get min(timeout, deadline - now)
};

struct SearchCallbacks {
  // A member changed status (queued -> running, ...).
  std::function<void(const std::string& member, MemberStatus status)> on_status;
  // Exactly once per member, with its final reply (hits included).
  std::function<void(MemberReply reply)> on_reply;
  // Once, after every member replied.
  std::function<void()> on_done;
};

namespace internal {
class FederationImpl;
struct SearchState;
}  // namespace internal

// One running search, as returned by Federation::Search.
class SearchHandle {
 public:
  ~SearchHandle();
  SearchHandle(const SearchHandle&) = delete;
  SearchHandle& operator=(const SearchHandle&) = delete;
  // Stops outstanding requests; members not yet done reply kFailed "cancelled".
  void Cancel();
  // Blocks until on_done has run.
  void Wait();

 private:
  friend class internal::FederationImpl;
  SearchHandle(internal::FederationImpl* federation, std::shared_ptr<internal::SearchState> state);
  internal::FederationImpl* federation_;  // must outlive Cancel calls on unfinished searches
  std::shared_ptr<internal::SearchState> state_;
};

class Federation {
 public:
  // Errors: kInvalidArgument for duplicate or invalid member configs.
  static Result<std::unique_ptr<Federation>> Create(std::vector<MemberConfig> members,
                                                    const FederationOptions& options);
  ~Federation();
  Federation(const Federation&) = delete;
  Federation& operator=(const Federation&) = delete;

  // Starts a search; returns at once. Callbacks must stay valid until on_done.
  std::unique_ptr<SearchHandle> Search(SearchRequest request, SearchCallbacks callbacks);

  // Probes one member (getVersion, and grid/v1/stats for iocgrid nodes).
  // Blocking.
  MemberProbe Probe(const std::string& member);

  std::vector<MemberConfig> members() const;
  // Every member's circuit breaker, in config order. Blocking (read on the federation thread);
  // empty when called from a federation callback.
  std::vector<MemberBreaker> Breakers();
  // Refreshes a MISP member's CIDR cache now (blocking). Errors: kNotFound, the
  // member's.
  Status RefreshCidrCache(const std::string& member);

 private:
  explicit Federation(std::unique_ptr<internal::FederationImpl> impl);
  std::unique_ptr<internal::FederationImpl> impl_;
};

}  // namespace iocgrid::federation
