// The querier's side of one private search against one member (docs/private-search.md
// "Protocol"), as a state machine over the frames of wire.h; the caller moves the frames (HTTP,
// a relay) and decides relations over the decrypted entries (MatchIndex, one semantics).
//
//   Querier q(queries, declaration, epoch, options);    // keys expanded (keys.h)
//   for (Frame& f : q.Blind()) answers.push_back(POST /grid/v1/psi/evaluate f);
//   q.AcceptEvaluations(answers);                       // tags and label keys
//   full-set: member_has = the member's synced tag set; bucketed: q.BucketRequest(...) and the
//   tags the member answers;
//   for (Frame& f : q.LabelRequests(member_has)) q.AcceptLabels(POST /grid/v1/psi/labels f);
//   q.contents()[i]                                     // label plaintexts for query i
//
// A wrong or hostile member (a bad point, a count or epoch that does not match, a label that
// authenticates under none of the keys with its tag, a label for a tag never asked) makes an
// Accept* call fail: the caller marks the member failed; nothing it sent becomes a hit.
//
// Thread-safety: one Querier per search and thread. It holds the blinding secrets (1/r), wiped
// on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "psi/keys.h"
#include "psi/oprf.h"
#include "psi/wire.h"

namespace iocgrid::psi {

struct QuerierOptions {
  QueryKeyOptions keys;
  // As the member's info says (its limits).
  size_t max_points_per_frame = 65536;
  size_t max_labels_per_frame = 4096;
  // Bucketed mode: the tag bits revealed per key (docs/private-search.md "What each party learns").
  unsigned bucket_bits = 16;
};

class Querier {
 public:
  // Expands `queries` (normalized indicators) against the member's declaration.
  Querier(std::span<const core::Indicator> queries, const RangeDeclaration& declaration,
          uint32_t epoch, const QuerierOptions& options);
  Querier(const Querier&) = delete;
  Querier& operator=(const Querier&) = delete;

  // Positions of the queries whose range expansion exceeded the budget (their in-range hits
  // inside a wide network may be missing: report them as incomplete).
  const std::vector<size_t>& incomplete() const { return incomplete_; }
  // OPRF evaluations this search costs the member's quota.
  size_t key_count() const { return keys_.size(); }
  // True when some query is a network, so below tags matter (full-set mode downloads them).
  bool needs_below() const { return needs_below_; }

  // Round 1: fresh blindings of every key, in points frames of at most max_points_per_frame.
  std::vector<Frame> Blind();
  // The member's answers to Blind()'s frames, in order. Errors: kInvalidArgument when the
  // frames, their epoch or their point counts do not match, or a point is invalid.
  Status AcceptEvaluations(std::span<const Frame> answers);

  // Bucketed mode, after AcceptEvaluations: the buckets of the keys of one class (below or
  // not); an empty frame when the class has none.
  Frame BucketRequest(bool below) const;

  // Round 2: labels frames for the distinct tags the member has (`member_has`: its synced full
  // set, or the tags of the buckets it answered), at most max_labels_per_frame each.
  std::vector<Frame> LabelRequests(const std::function<bool(const Tag&)>& member_has) const;
  // One labels answer. Errors: kInvalidArgument for another epoch or a tag never asked,
  // kDataLoss for a tag none of whose labels authenticates under our keys with that tag. A
  // failed answer adds nothing to contents().
  Status AcceptLabels(const Frame& labels);

  // The opened labels of each query (JSON text, node/internal/psi_precompute.cc's format),
  // indexed like the queries given to the constructor.
  const std::vector<std::vector<std::string>>& contents() const { return contents_; }

 private:
  struct Key {
    size_t query = 0;
    std::string input;
    bool below = false;
    SecretScalar inverse;
    OprfOutput output;
  };

  uint32_t epoch_;
  QuerierOptions options_;
  std::vector<Key> keys_;
  std::vector<size_t> incomplete_;
  bool needs_below_ = false;
  bool evaluated_ = false;
  // Tag bytes -> keys with that tag (several queries may ask one key).
  std::unordered_multimap<std::string, size_t> by_tag_;
  std::vector<std::vector<std::string>> contents_;
};

}  // namespace iocgrid::psi
