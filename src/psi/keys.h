// The OPRF inputs ("keys") of private search: how a member's stored indicators and a querier's
// indicators expand into strings whose equality carries every relation of the one match
// semantics (index/match_index.h) — the same keys, prefixes and parents that MatchIndex looks
// up, turned into exact-equality tests that can run on tags.
//
// A member tags each stored indicator under:
//   - its value key: the normalized value under its match family ("ip", "host", "url", "email",
//     "hash"; family other under its type), or a composite under its shape;
//   - the value keys of a composite's indexed halves (never a port half);
//   - a URL's host (a name under "host", an IP address under "ip" in canonical text);
//   - for an IP value or IP half N of prefix length q, instead of its value key when q is not a
//     range length: its sub-networks of length r(q), the shortest range length >= q, so that an
//     address or network inside N (or equal to it) finds it through its own ancestor or first
//     sub-network of length r(q); and a "below" key for each below length L < q: the network of
//     length L containing N, so that a wide queried network finds N.
// A querier asks, for each query, the keys that MatchIndex would look up: its value key, each
// composite half, each proper parent domain of a host name, a URL's host and its parents; and
// for an IP (s, p): its ancestor of each declared range length L < p; when it is a network, its
// first sub-network of each range length in (p, p + 8], its sub-networks of each range length
// in (p, L*] and the below keys of its sub-networks of length L*, the shortest below length
// >= p (docs/private-search.md "In-range").
//
// Every pair MatchIndex reports shares at least one key (tests/psi/keys_test.cc checks this on
// the shared member data), so the member entries behind the shared tags are a superset of the
// hits. The querier then decides each relation with MatchIndex itself over those entries (they
// come in the labels), so private and plain search agree relation for relation. The extra
// candidates a key can bring (a URL stored on a parent domain, say) are entries the querier
// could learn anyway by asking that key alone.
//
// Thread-safety: pure functions on values.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"

namespace iocgrid::psi {

// A set of prefix lengths per address family.
struct PrefixLengths {
  std::bitset<33> v4;
  std::bitset<129> v6;

  friend bool operator==(const PrefixLengths&, const PrefixLengths&) = default;
};

// How a member tags its IP values (its node configuration; changing it needs a re-tag).
struct RangeOptions {
  // Range lengths: IPv4 /8 to /32 in steps of 4, IPv6 /16 to /128 in steps of 8. A network is
  // tagged at its sub-networks of the next range length, at most 2^8 keys; an address queries
  // one ancestor per range length.
  PrefixLengths lengths = DefaultRangeLengths();
  // Below lengths: IPv4 /16 and /24, IPv6 /32 to /64 in steps of 8 (each also a range length).
  // A stored IP gets one below key per below length shorter than it; a queried network asks at
  // most 2^8 below keys per length gap.
  PrefixLengths below = DefaultBelowLengths();

  static PrefixLengths DefaultRangeLengths();
  static PrefixLengths DefaultBelowLengths();
};

// A network is never split into more than 2^kMaxRoundingBits range keys: a stored prefix length
// further than that from the next range length becomes a range length of its own (declared).
inline constexpr unsigned kMaxRoundingBits = 8;

// What a member publishes so that queriers can expand their IPs: its range lengths (the
// configured ones, the below lengths, the full lengths, and any stored length further than
// kMaxRoundingBits from the next of those) and its below lengths.
struct RangeDeclaration {
  PrefixLengths lengths;
  PrefixLengths below;

  friend bool operator==(const RangeDeclaration&, const RangeDeclaration&) = default;
};

// Adds the prefix lengths of `stored`'s IP value or IP half (normalized) to *lengths.
void CollectPrefixLengths(const core::Indicator& stored, PrefixLengths* lengths);

// The declaration of a member whose stored IPs have the prefix lengths `stored`.
RangeDeclaration DeclareRanges(const PrefixLengths& stored, const RangeOptions& options);

// Appends the keys of one stored indicator (normalized) to *out, without duplicates among
// them.
void MemberKeys(const core::Indicator& stored, const RangeOptions& options,
                std::vector<std::string>* out);

struct QueryKeyOptions {
  // At most this many keys for the sub-networks of one queried network (each costs an OPRF
  // evaluation against the member's daily quota).
  size_t max_range_keys = 1024;
};

// Appends the keys to ask for `query` (normalized) against a member with `declaration`, without
// duplicates among them. Returns false when a queried network needed more than
// options.max_range_keys sub-network keys: those were left out, so in-range hits inside it may
// be missing (the caller reports the query as incomplete).
bool QueryKeys(const core::Indicator& query, const RangeDeclaration& declaration,
               const QueryKeyOptions& options, std::vector<std::string>* out);

// A query that finds, with MatchIndex semantics, every stored indicator holding `key` (and
// maybe more): the member uses it to find the entries behind a key when it builds the key's
// label, keeping those for which MemberKeys yields the key.
struct KeyProbe {
  core::Indicator query;
  bool equal = true;      // probe with exact, component and url-host
  bool in_range = false;  // probe with in-range
};

// Errors: kInvalidArgument for a string that no MemberKeys call produces.
Result<KeyProbe> ProbeForKey(std::string_view key);

// "ip", "host", ..., "pair", "below": the kind of key, for diagnostics and tests.
std::string_view KeyClass(std::string_view key);

}  // namespace iocgrid::psi
