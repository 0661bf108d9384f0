// Node: a member's server. It owns the member's Store and an in-memory MatchIndex snapshot of
// its live attributes, and answers a MISP-compatible REST subset (misp-api.md; docs/node-api.md)
// plus the grid API (/grid/v1/match, /grid/v1/stats) and private search (/grid/v1/psi/...).
//
// The index is built from the store at Open (or read back from DATA/index.snapshot). Writes do
// not rebuild it: the store's index change log (Store::ReadIndexChanges) names the attributes
// each write touched, and the node puts their current values into a small delta index beside
// the immutable base, hiding their base entries; a background merge builds a new base once the
// delta has grown (docs/index.md "Live writes"). Readers keep using the previous immutable
// snapshot until the new one is swapped in, so they never wait. A write request returns only
// once the index reflects it. Data written by another process (`iocgrid node import` while the
// node serves) is noticed at the next grid request and picked up in the background; until
// then, matches use the previous snapshot.
//
// Thread-safety: Handle() is called concurrently by the HTTP server's workers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "index/match_index.h"
#include "net/http.h"
#include "psi/keys.h"
#include "store/options.h"
#include "store/store.h"

namespace iocgrid::node {

// Private search (issue 10; docs/private-search.md): the node answers /grid/v1/psi/* with no
// set-up step, creating its OPRF key on first use and keeping tags and labels current in the
// background.
struct PsiOptions {
  // OPRF evaluations per querying organisation (the API key's) per UTC day before 429.
  uint64_t evaluations_per_org_per_day = 2000000;
  // Items per request: blinded points to evaluate, tags whose labels are asked, bucket numbers.
  size_t max_points_per_request = 65536;
  size_t max_labels_per_request = 4096;
  size_t max_buckets_per_request = 65536;
  // Tags per page of a full or incremental tag download, and per bucket answer.
  size_t max_tags_per_page = 262144;
  size_t max_bucket_tags = 1048576;
  // Attributes described in one key's label at most (a wide below key may cover many).
  size_t max_label_entries = 1000;
  // Labels carry the hit's full context (as /grid/v1/match); false: only value and type.
  bool label_context = true;
  // Threads evaluating the OPRF during the precompute, and stale attributes per batch.
  int precompute_threads = 1;
  size_t precompute_batch = 2048;
  // How the member tags its IPs (psi/keys.h); changing it needs a re-tag.
  psi::RangeOptions ranges;
  // How often the precompute looks for data written by other processes (`node import`) and for
  // a key rotation begun by `iocgrid node psi rotate`.
  std::chrono::milliseconds poll{2000};
  // After a rotation's switch, how long the old key still answers (searches begun before the
  // switch finish on it); then it is deleted with its tags.
  std::chrono::seconds previous_key_grace{600};
};

struct NodeOptions {
  std::string data_dir;
  // The store's options. Its clock (store.clock) is the node's too: what restSearch "last" and
  // grid match "since" count back from, and what key expiry and audit rows use. One clock, so
  // the node and its store never disagree about now.
  store::StoreOptions store;
  // MISP version this node answers to getVersion (PyMISP parses it as a.b.c).
  std::string misp_version = "2.5.1";
  // Values accepted in one restSearch `value` filter and in one grid match request.
  size_t max_search_values = 100000;
  size_t max_match_values = 2000000;
  // Concurrent requests per API key before 429 "Rate limit exceeded.".
  int max_concurrent_per_key = 16;
  // Grid match: indicators matched and written per streamed chunk.
  size_t match_chunk = 4096;
  // Keep the built index in DATA/index.snapshot, so that a restart serves without rebuilding
  // it from the store (a stale or damaged file is rebuilt, never trusted).
  bool persist_index = true;
  // Live writes (docs/index.md "Live writes"): a background merge into a new base starts once
  // this many attributes changed since the base; more than index_delta_max changes read at
  // once (a bulk import by another process) rebuild the index instead of a delta.
  size_t index_merge_at = 50000;
  size_t index_delta_max = 1000000;
  // The delta's newer layer is folded into its older one once it restates this many.
  size_t index_fold_at = 4096;
  PsiOptions psi;
};

// One layer of the writes since an index snapshot's base (docs/index.md "Live writes").
struct DeltaLayer {
  // The attributes this layer restates, sorted: their entries in the base and in older layers
  // are hidden.
  std::vector<int64_t> changed;
  // The current entries of those still live (null when none); record i stands for
  // attribute_ids[i], in attribute order.
  std::shared_ptr<const index::MatchIndex> index;
  std::vector<int64_t> attribute_ids;
  size_t entries() const { return index ? index->size() : 0; }
};

// The writes since the base, in two layers so that a write costs the small one: each refresh
// rebuilds `newer` only; once it restates NodeOptions::index_fold_at attributes it is folded
// into `older`, which grows until a merge builds a new base.
struct IndexDelta {
  std::shared_ptr<const DeltaLayer> older;  // never null
  std::shared_ptr<const DeltaLayer> newer;  // never null
};

// What the node matches against: an immutable base index, the delta beside it, and what they
// reflect. Shared, never modified once published.
struct IndexSnapshot {
  std::shared_ptr<const index::MatchIndex> index;  // the base
  // Base record id -> attribute id; shared by every snapshot on this base.
  std::shared_ptr<const std::vector<int64_t>> base_ids;
  std::shared_ptr<const IndexDelta> delta;  // null: nothing written since the base
  int64_t base_seq = 0;          // index change log: the base holds every change up to this
  int64_t change_seq = 0;        // base and delta together hold every change up to this
  uint64_t generation = 0;       // store generation it reflects (this process's writes)
  uint64_t data_generation = 0;  // the file's data generation (any process's writes)
  // Private search, once its key exists: the prefix lengths of the live IP values (for the
  // declared range lengths), and the stale-attribute sequence read before the attributes, so
  // that this snapshot re-tags only changes it contains.
  bool psi = false;
  psi::PrefixLengths ip_prefix_lengths;
  int64_t psi_dirty_upto = 0;
  bool from_file = false;  // the base was read from DATA/index.snapshot at start, not rebuilt

  // MatchIndex's MatchAll and Match over base and delta: base hits on a changed attribute are
  // dropped, delta hits follow with record ids after the base's (AttributeOf) and entries after
  // the base's (entry_type, entry_value); a query's hits come grouped by relation strength.
  std::vector<index::Hit> MatchAll(std::span<const core::Indicator> queries,
                                   const index::MatchOptions& options = {}) const;
  bool Match(const core::Indicator& query, const index::MatchOptions& options,
             std::vector<index::Hit>* out) const;
  int64_t AttributeOf(index::RecordId record) const;
  core::IndicatorType entry_type(uint32_t entry) const;
  std::string_view entry_value(uint32_t entry) const;
  // Entries in base and delta (hidden base entries included) and the bytes they hold.
  size_t size() const;
  size_t delta_size() const {
    return delta ? delta->older->entries() + delta->newer->entries() : 0;
  }
  // Attributes restated since the base (one changed in both layers counts twice).
  size_t changed_since_base() const {
    return delta ? delta->older->changed.size() + delta->newer->changed.size() : 0;
  }
  size_t MemoryUsage() const;
};

class Node {
 public:
  // Opens the store in options.data_dir and builds the index. Errors: the store's.
  static Result<std::unique_ptr<Node>> Open(const NodeOptions& options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Answers one HTTP request (never throws; errors are MISP-style bodies).
  net::Response Handle(net::Request& request);
  // For net::ServerOptions::admit: every node route needs a valid key, checked on the request
  // head before its body is read (a refused request is audited, best effort, and answered 403).
  // A private-search request's body limit is lowered to its largest frame (PsiOptions).
  std::optional<net::Response> Admit(const net::Request& head, size_t* body_limit);

  store::Store& store();
  // The current index snapshot (never null after Open).
  std::shared_ptr<const IndexSnapshot> snapshot() const;
  // Brings the index up to date with the store, as a delta or a rebuild, and waits for it.
  Status RefreshIndex();
  // Merges the delta into a new base now (the background does it past index_merge_at), and
  // waits for it; writes meanwhile land in the delta of the old base and then of the new one.
  Status MergeIndex();

  // Opaque to users; defined in node.cc.
  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace iocgrid::node
