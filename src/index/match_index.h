// MatchIndex: an immutable in-memory index over normalized indicators that answers, for each
// query indicator, every stored indicator it hits and how (the relation). This is the one match
// semantics of DESIGN.md, used by `iocgrid match`, the node's grid API and log sifting.
//
// Relations, strongest first; a (query, stored entry) pair is reported once, with the strongest:
//   exact      same family and same normalized value (plain types, or both halves of two
//              composites of the same shape); and equal digests across hash types and the hash
//              half of filename|<hash> (md5 "abc" hits filename|md5 "x.exe|abc").
//   component  one half of a composite equals the other side's value or half (query 1.2.3.4
//              hits domain|ip "evil.example|1.2.3.4" and ip-dst|port "1.2.3.4|443").
//   url-host   a queried URL's host (name or IP) equals a stored domain/hostname/IP, or a stored
//              URL's host equals a queried domain/hostname/IP.
//   subdomain  a queried host name (or the host of a queried URL) is a proper subdomain of a
//              stored domain/hostname ("a.evil.example" hits "evil.example").
//   in-range   a queried IP (or the IP half of a composite, or a URL's IP host) lies in a stored
//              CIDR; or a queried CIDR contains a stored IP, or overlaps a stored CIDR (contains
//              it or lies inside it). IPv4 and IPv6 are separate spaces (IPv4-mapped IPv6 is
//              normalized to IPv4 by core before it gets here).
// Clarifications (docs/index.md has the full rules): family kOther compares per type (a port
// 443 never equals an AS 443); composites compare whole only with composites of the same shape
// (ip-src|port equals ip-dst|port); a port half identifies nothing alone and gets no component
// match; two URLs are related only when equal; a stored URL's host takes part in url-host only
// (not subdomain or in-range).
//
// Thread-safety: a built MatchIndex is immutable; any number of threads may call its const
// methods concurrently. A Builder is single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "core/indicator.h"

namespace iocgrid::index {

// The caller's id for a stored indicator (a row, a line, an attribute): opaque to the index.
using RecordId = uint32_t;

enum class Relation : uint8_t { kExact = 0, kComponent, kUrlHost, kSubdomain, kInRange };
inline constexpr int kRelationCount = 5;

// "exact", "component", "url-host", "subdomain", "in-range".
std::string_view RelationName(Relation relation);
// Inverse of RelationName; false when unknown.
bool ParseRelation(std::string_view name, Relation* out);

// A set of relations, as a bit mask (bit i = Relation(i)).
using RelationMask = uint8_t;
inline constexpr RelationMask kAllRelations = (1u << kRelationCount) - 1;
inline constexpr RelationMask RelationBit(Relation r) {
  return static_cast<RelationMask>(1u << static_cast<unsigned>(r));
}
// Adds the relation named `name` to *mask; InvalidArgument naming it and the five known ones
// when it is none of them (the one message of the CLI's --relations and the grid API).
Status AddRelation(std::string_view name, RelationMask* mask);

struct Hit {
  uint32_t query = 0;  // position of the query in the batch given to Match/MatchAll
  uint32_t entry = 0;  // stored entry, for MatchIndex::entry_*() accessors
  RecordId record = 0;
  Relation relation = Relation::kExact;

  friend bool operator==(const Hit&, const Hit&) = default;
};

struct MatchOptions {
  // Only these relations are reported (a pair hit by a stronger but excluded relation is
  // reported with the strongest included one that also holds).
  RelationMask relations = kAllRelations;
  // At most this many hits per query (0 = no limit); a query like 0.0.0.0/0 can hit millions.
  uint32_t max_hits_per_query = 0;
};

class MatchIndex {
 public:
  // The most entries one index holds (2^30 - 1).
  static constexpr size_t kMaxEntries = (size_t{1} << 30) - 1;

  class Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;

    // Optional capacity hints.
    void Reserve(size_t indicators, size_t value_bytes);
    // Adds one stored indicator. REQUIRES: `indicator` came from core::ParseIndicator or
    // GuessIndicator (normalized). The same value may be added many times with other records.
    // Errors: kResourceExhausted, with nothing added, when the index is full: kMaxEntries
    // entries (references into the exact table are entry << 2 | key kind, 32 bits), or 2^40
    // bytes of values (the entry's offset field).
    Status Add(const core::Indicator& indicator, RecordId record);
    // Lowers the entry limit below kMaxEntries (to test what callers do with a full index).
    void set_max_entries(size_t n);
    size_t size() const;
    // Builds the immutable index; the builder is left empty.
    std::shared_ptr<const MatchIndex> Build();

   private:
    friend class MatchIndex;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  ~MatchIndex();
  MatchIndex(const MatchIndex&) = delete;
  MatchIndex& operator=(const MatchIndex&) = delete;

  // Appends to *out every hit of `query` (a normalized indicator), with Hit::query = query_no.
  // Hits of one query come grouped by relation strength, then in entry order.
  // Returns false when max_hits_per_query cut the list short.
  bool Match(const core::Indicator& query, uint32_t query_no, const MatchOptions& options,
             std::vector<Hit>* out) const;

  // Matches a batch; Hit::query is the position in `queries`. Faster per query than calling
  // Match in a loop: it overlaps the memory accesses of consecutive queries. Whether
  // max_hits_per_query cut a list is not reported; call Match when that matters.
  std::vector<Hit> MatchAll(std::span<const core::Indicator> queries,
                            const MatchOptions& options = {}) const;

  // Number of stored entries (Add calls).
  size_t size() const;
  // The stored entry's type, normalized value and record. REQUIRES: entry < size().
  core::IndicatorType entry_type(uint32_t entry) const;
  std::string_view entry_value(uint32_t entry) const;
  RecordId entry_record(uint32_t entry) const;

  // Persisting (index_file.cc; docs/performance.md "Restart without a rebuild"): the built
  // index written to `path` with the caller's `meta` bytes and record map (what each RecordId
  // stands for; the node's attribute ids), through a temporary file renamed into place and
  // synced, so that a reader sees a whole file or none. The layout is this build's (host byte
  // order, the structures themselves, a format version) with a checksum over every byte.
  // Errors: kUnavailable (the file cannot be written; the old one stays).
  Status SaveToFile(const std::string& path, std::string_view meta,
                    std::span<const int64_t> record_map) const;
  // Reads a file SaveToFile wrote: the index, and the meta and record map saved with it.
  // Errors: kNotFound (no file), kDataLoss (torn, damaged, another format version or byte
  // order, or a structure out of shape; the message says which).
  static Result<std::shared_ptr<const MatchIndex>> LoadFromFile(const std::string& path,
                                                                std::string* meta,
                                                                std::vector<int64_t>* record_map);

  // Bytes held by the index structures, not counting the stored values' own bytes.
  size_t MemoryUsage() const;
  // Bytes of the stored values.
  size_t ValueBytes() const;

 private:
  MatchIndex();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iocgrid::index
