// Members of the alliance as the portal sees them: how to reach each one
// (iocgrid node or plain MISP), what it discloses, and what one search brought
// back from it.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/match_index.h"
#include "net/http_client.h"

namespace iocgrid::federation {

enum class MemberKind : uint8_t { kIocgrid, kMisp };
// DESIGN.md "Disclosure": full context, existence only (member + relation), counts only, or
// private search (issue 10, docs/private-search.md): the member learns nothing of the query and
// the portal gets only the hits, with the context the member's labels carry.
enum class Disclosure : uint8_t { kFull, kExistence, kCount, kPrivate };
// How a private member's tags reach the querier (docs/private-search.md "Retrieval modes"):
// the whole tag set, synced once and then by data generation, or only the buckets of the
// queried tags (reveals a few bits of each tag's hash).
enum class PsiMode : uint8_t { kFullSet, kBucketed };

std::string_view MemberKindName(MemberKind kind);  // "iocgrid", "misp"
bool ParseMemberKind(std::string_view name, MemberKind* out);
// The relations a member of this kind can be asked for: all of them for an iocgrid node; for
// plain MISP, exact and component (restSearch's value match) and in-range (the connector's
// CIDR cache).
index::RelationMask SupportedRelations(MemberKind kind);

std::string_view DisclosureName(Disclosure disclosure);  // "full", "existence", "count", "private"
bool ParseDisclosure(std::string_view name, Disclosure* out);
std::string_view PsiModeName(PsiMode mode);  // "full-set", "bucketed"
bool ParsePsiMode(std::string_view name, PsiMode* out);

struct MemberConfig {
  std::string name;  // unique, [a-z0-9_-]
  std::string display_name;
  std::string sector;
  MemberKind kind = MemberKind::kIocgrid;
  std::string url;  // base URL, e.g. https://node-a.example:8443
  std::string key;  // resolved API key (inline, key_file or key_env in the config)
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string proxy;
  bool verify_tls = true;
  std::chrono::milliseconds timeout{5000};  // per member per search: DNS+connect+TLS+transfer
  int max_concurrent = 4;                   // requests in flight to this member
  size_t batch_size = 100;                  // values per MISP restSearch request
  size_t page_limit = 1000;                 // MISP restSearch `limit` per value request; a full
                                            // page is followed by the next `page`
  size_t cidr_page_limit = 10000;           // `limit` per page of the MISP CIDR cache fetch
  // One answer is held in memory until parsed: the cap bounds what a broken or hostile member
  // can make the portal hold (max_concurrent answers per member per search).
  size_t max_response_bytes = 64 * 1024 * 1024;
  bool enabled = true;
  Disclosure disclosure = Disclosure::kFull;
  PsiMode psi_mode = PsiMode::kFullSet;  // disclosure kPrivate only
  // The kind of data the member holds, for sifting (issue 9, docs/sift.md): honeypot, scanner,
  // anonymizer, proxy, vpn, tor, cloud, threat, ioc, benign, warninglist; empty = not declared.
  std::string data_kind;
  // Sightings analysts send back from their searches' hits (issue 11): whether this member
  // takes them at all, and whether it is told who sent them (the `source`).
  bool accept_sightings = true;
  bool hide_sighting_source = false;
};

// A request to `member` at `path` (appended to its URL) carrying its key, TLS settings, proxy
// and answer cap, with JSON headers; connect_timeout is the member's timeout, the overall
// deadline is the caller's. The one mapping from a member's config to a request (the
// federation's connectors and the portal's private-search relay).
net::ClientRequest MemberRequest(const MemberConfig& member, std::string method,
                                 std::string_view path, std::string body);
// Makes `request` send and accept binary frames (private search) instead of JSON.
void SetOctetStream(net::ClientRequest* request);

// One hit reported by a member, as much as its disclosure allows (the portal
// applies disclosure; connectors fill what the member sent).
struct MemberHit {
  uint32_t query = 0;  // position in SearchRequest::indicators
  index::Relation relation = index::Relation::kExact;
  std::string matched;  // the member's value
  std::string type;     // MISP type name
  std::string category;
  bool to_ids = false;
  std::string comment;
  std::string attribute_uuid;
  std::string event_uuid;
  std::string event_info;
  std::string event_date;  // YYYY-MM-DD
  std::string org;
  std::vector<std::string> tags;
  std::string first_seen;  // ISO-8601 or empty
  std::string last_seen;
  int64_t timestamp = 0;  // unix seconds, 0 = unknown
  uint64_t sightings = 0;
};

enum class MemberStatus : uint8_t {
  kQueued,
  kRunning,
  kDone,
  kFailed,
  kTimedOut,
  kSkipped,  // kSkipped: circuit breaker open or disabled
};
std::string_view MemberStatusName(MemberStatus status);  // "queued", "running", "done", ...

struct MemberReply {
  std::string member;
  MemberStatus status = MemberStatus::kQueued;
  std::string error;  // why it failed / was skipped
  int64_t elapsed_ms = 0;
  uint64_t requests = 0;              // HTTP requests made (batches, pages, retries)
  index::RelationMask relations = 0;  // relations this member could be asked for
  std::vector<MemberHit> hits;
  // Queries (indexes into the request) this member's answer may be short for: a private
  // member's in-range inside a queried network wider than the range budget.
  std::vector<uint32_t> incomplete;
};

// What `portal members check` shows.
struct MemberProbe {
  std::string member;
  bool ok = false;
  std::string error;
  std::string version;  // getVersion
  int64_t latency_ms = 0;
  uint64_t attributes = 0;  // grid/v1/stats when the member is an iocgrid node
  std::string first_date;
  std::string last_date;
  // Private members: their private-search state ("full-set, key epoch 1, 1234 tags, ready").
  std::string privacy;
  // A node mirroring a MISP: "mirror of URL, 42 s behind" (or its last error).
  std::string mirror;
};

// A member's circuit breaker as the federation holds it now (the portal's members page).
enum class BreakerState : uint8_t {
  kClosed,    // searches ask the member
  kOpen,      // searches skip the member until retry_in_ms has passed
  kHalfOpen,  // the next search (or the one running now) is the trial
};
std::string_view BreakerStateName(BreakerState state);  // "closed", "open", "half_open"

struct MemberBreaker {
  std::string member;
  BreakerState state = BreakerState::kClosed;
  int consecutive_failures = 0;
  int64_t retry_in_ms = 0;  // kOpen: until the next trial is let through; else 0
};

}  // namespace iocgrid::federation
