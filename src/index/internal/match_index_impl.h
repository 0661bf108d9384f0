// MatchIndex's representation, shared by the files that build it (match_index_build.cc) and
// query it (match_index.cc); internal to index/, which alone includes it.
//
// Layout and algorithms: docs/index.md. In short: the values sit in one arena; each entry is 16
// bytes; every matchable part of an entry (the value, each composite half, a URL's host) is one
// key in a hashed table whose hits are always verified against the arena; IP networks and
// addresses also go into sorted per-family structures for in-range matching.
//
// Thread-safety: as MatchIndex (built by one thread, then read-only).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"
#include "core/indicator.h"
#include "core/indicator_type.h"
#include "core/ip.h"
#include "index/internal/exact_table.h"
#include "index/internal/hash.h"
#include "index/internal/ip_ranges.h"
#include "index/match_index.h"

namespace iocgrid::index {

using core::IndicatorType;
using core::MatchFamily;
using internal::Ip6;

// ---- Entries ----------------------------------------------------------------------------

// One stored indicator in 16 bytes. `word` packs the value's arena offset (40 bits, 1 TiB),
// the type (8 bits) and, for a composite, the length of its left half (16 bits; kNoSplit for
// plain values and for composites whose halves are not indexed, see Add).
struct Entry {
  uint64_t word;
  uint32_t len;
  RecordId record;
};
static_assert(sizeof(Entry) == 16);

constexpr unsigned kTypeShift = 40;
constexpr unsigned kSplitShift = 48;
constexpr uint64_t kOffsetMask = (uint64_t{1} << kTypeShift) - 1;
constexpr uint32_t kNoSplit = 0xFFFF;
// References in the exact table are entry << 2 | key kind, so entries are limited to 2^30.
static_assert(MatchIndex::kMaxEntries < (size_t{1} << 30));

inline uint64_t EntryOffset(const Entry& e) { return e.word & kOffsetMask; }
inline IndicatorType EntryType(const Entry& e) {
  return static_cast<IndicatorType>((e.word >> kTypeShift) & 0xFF);
}
inline uint32_t EntrySplit(const Entry& e) { return static_cast<uint32_t>(e.word >> kSplitShift); }

// What a key in the exact table stands for.
enum KeyKind : uint32_t {
  kWholeKey = 0,    // the whole value (a plain value, or a composite under its shape tag)
  kLeftKey = 1,     // a composite's left half
  kRightKey = 2,    // a composite's right half
  kUrlHostKey = 3,  // a URL's host, in the Host or Ip family
};

inline uint32_t MakeRef(uint32_t entry, KeyKind kind) { return (entry << 2) | kind; }

// What the query side looked up.
enum class QueryKind : uint8_t {
  kWhole,           // a plain query's value
  kCompositeWhole,  // a composite query's value, under its shape tag
  kHalf,            // one half of a composite query
  kUrlHost,         // the host name of a queried URL
  kParent,          // a proper parent domain of a queried host name
};

// ---- Tags: the family part of a key ----------------------------------------------------

// Values compare only within one family (indicator_type.h). Family kOther is further split by
// type: an opaque "port" 443 must not equal an "AS" 443. Composite values compare whole only
// with composites of the same shape (the pair of their halves' tags): ip-src|port equals
// ip-dst|port, never hostname|port.
constexpr uint32_t FamilyTag(MatchFamily family) { return 1 + static_cast<uint32_t>(family); }
constexpr uint32_t kIpTag = FamilyTag(MatchFamily::kIp);
constexpr uint32_t kHostTag = FamilyTag(MatchFamily::kHost);
constexpr uint32_t kHashTag = FamilyTag(MatchFamily::kHash);

inline uint32_t TypeTag(IndicatorType type) {
  MatchFamily family = core::FamilyOf(type);
  return family == MatchFamily::kOther ? 0x100u | static_cast<uint32_t>(type) : FamilyTag(family);
}

struct TypeInfo {
  bool composite = false;
  MatchFamily family = MatchFamily::kOther;  // core::FamilyOf(type), kept for the query path
  uint32_t whole_tag = 0;
  // Composites only:
  uint32_t left_tag = 0;
  uint32_t right_tag = 0;
  MatchFamily left_family = MatchFamily::kOther;
  MatchFamily right_family = MatchFamily::kOther;
  // A half that identifies nothing alone (a port) gets no key of its own: "1.2.3.4|443" must not
  // hit every other "x|443". It still counts in the whole value.
  bool left_indexed = false;
  bool right_indexed = false;
};

using TypeTable = std::array<TypeInfo, 256>;

inline TypeTable MakeTypeTable() {
  TypeTable table{};
  for (IndicatorType type : core::AllIndicatorTypes()) {
    TypeInfo& info = table[static_cast<size_t>(type)];
    info.family = core::FamilyOf(type);
    if (!core::IsComposite(type)) {
      info.whole_tag = TypeTag(type);
      continue;
    }
    auto [left, right] = core::CompositeParts(type);
    info.composite = true;
    info.left_tag = TypeTag(left);
    info.right_tag = TypeTag(right);
    info.left_family = core::FamilyOf(left);
    info.right_family = core::FamilyOf(right);
    info.left_indexed = left != IndicatorType::kPort;
    info.right_indexed = right != IndicatorType::kPort;
    info.whole_tag = 0x40000u | (info.left_tag << 9) | info.right_tag;
  }
  return table;
}

inline const TypeTable& Types() {
  static const TypeTable kTable = MakeTypeTable();
  return kTable;
}

inline uint64_t KeyHash(uint32_t tag, std::string_view value) {
  return internal::Hash64(tag, value);
}

// ---- IP text --------------------------------------------------------------------------

struct ParsedIp {
  bool v6 = false;
  uint8_t prefix = 32;
  uint32_t v4 = 0;
  Ip6 a6;

  bool is_address() const { return prefix == (v6 ? 128 : 32); }
};

// Parses normalized IP or CIDR text. IPv4 addresses and networks take a fast path; the rest
// goes through core::ParseIpNetwork. False when the text is no IP.
inline bool ParseIpText(std::string_view text, ParsedIp* out) {
  uint32_t v4 = 0;
  if (core::ParseIpv4(text, &v4)) {
    *out = ParsedIp{false, 32, v4, {}};
    return true;
  }
  size_t slash = text.rfind('/');
  if (slash != std::string_view::npos && slash + 1 < text.size() && slash + 3 >= text.size() &&
      core::ParseIpv4(text.substr(0, slash), &v4)) {
    unsigned prefix = 0;
    bool digits = true;
    for (char c : text.substr(slash + 1)) {
      if (c < '0' || c > '9') digits = false;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    bool leading_zero = text[slash + 1] == '0' && slash + 2 < text.size();
    if (digits && !leading_zero && prefix <= 32) {
      *out = ParsedIp{false, static_cast<uint8_t>(prefix), internal::NetworkStart(v4, prefix), {}};
      return true;
    }
  }
  Result<core::IpNetwork> net = core::ParseIpNetwork(text);
  if (!net.ok()) return false;
  out->v6 = net->v6;
  out->prefix = net->prefix;
  if (net->v6) {
    out->a6 = Ip6{net->v6_hi(), net->v6_lo()};
    out->v4 = 0;
  } else {
    out->v4 = net->v4();
    out->a6 = {};
  }
  return true;
}

// Whether normalized IP text is a network: its "/prefix" (1-3 digits) ends it; an address has no
// '/' at all. Three compares instead of a search.
inline bool IsNetworkText(std::string_view text) {
  const size_t n = text.size();
  return n >= 4 && (text[n - 2] == '/' || text[n - 3] == '/' || text[n - 4] == '/');
}

inline bool SameIp(const ParsedIp& a, const ParsedIp& b) {
  return a.v6 == b.v6 && a.prefix == b.prefix && (a.v6 ? a.a6 == b.a6 : a.v4 == b.v4);
}

// Relations that hold when a query part of kind `query` equals a stored key of kind `stored`.
// Writes up to two, strongest first, and returns the count.
inline int RelationsFor(QueryKind query, KeyKind stored, uint32_t tag, Relation out[2]) {
  if (query == QueryKind::kParent) {
    if (stored == kUrlHostKey) return 0;
    out[0] = Relation::kSubdomain;
    return 1;
  }
  if (query == QueryKind::kUrlHost) {
    if (stored == kUrlHostKey) return 0;  // two URLs on one host: not a relation we report
    out[0] = Relation::kUrlHost;
    return 1;
  }
  if (stored == kUrlHostKey) {
    out[0] = Relation::kUrlHost;
    return 1;
  }
  if (stored == kWholeKey && query != QueryKind::kHalf) {
    out[0] = Relation::kExact;
    return 1;
  }
  // A half on at least one side. Digests are the same thing wherever they appear: exact, while
  // component also holds (for masks that exclude exact).
  if (tag == kHashTag) {
    out[0] = Relation::kExact;
    out[1] = Relation::kComponent;
    return 2;
  }
  out[0] = Relation::kComponent;
  return 1;
}

inline bool HitByEntryThenRelation(const Hit& a, const Hit& b) {
  return a.entry != b.entry ? a.entry < b.entry : a.relation < b.relation;
}
inline bool HitByRelationThenEntry(const Hit& a, const Hit& b) {
  return a.relation != b.relation ? a.relation < b.relation : a.entry < b.entry;
}
inline bool HitByEntry(const Hit& a, const Hit& b) { return a.entry < b.entry; }

constexpr RelationMask kKeyRelations = RelationBit(Relation::kExact) |
                                       RelationBit(Relation::kComponent) |
                                       RelationBit(Relation::kUrlHost);

// ---- The index ----------------------------------------------------------------------------

struct MatchIndex::Impl {
  // Types(), looked up once: the function-local static's guard showed in per-query profiles.
  const TypeTable* types = &Types();
  HugeVector<char> arena;
  HugeVector<Entry> entries;
  internal::ExactTable exact;
  internal::IpRanges<uint32_t> v4;
  internal::IpRanges<Ip6> v6;

  // --- persisting (index_file.cc) ---

  template <typename W>
  void Save(W& w) const {
    w.Array(arena);
    w.Array(entries);
    exact.Save(w);
    v4.Save(w);
    v6.Save(w);
  }
  // False when a section is missing or out of shape: every entry's value inside the arena,
  // a known type, a record below `records`, exact references to existing entries.
  template <typename R>
  bool Load(R& r, size_t records) {
    if (!r.Array(&arena) || !r.Array(&entries) || entries.size() > kMaxEntries || !exact.Load(r) ||
        !v4.Load(r, entries.size()) || !v6.Load(r, entries.size())) {
      return false;
    }
    for (const Entry& e : entries) {
      if (EntryOffset(e) > arena.size() || e.len > arena.size() - EntryOffset(e) ||
          ((e.word >> kTypeShift) & 0xFF) >= static_cast<uint64_t>(core::kIndicatorTypeCount) ||
          e.record >= records || (EntrySplit(e) != kNoSplit && EntrySplit(e) > e.len)) {
        return false;
      }
    }
    bool refs_ok = true;
    exact.ForEachRef([&](uint32_t ref) { refs_ok = refs_ok && (ref >> 2) < entries.size(); });
    return refs_ok;
  }

  std::string_view Value(const Entry& e) const { return {arena.data() + EntryOffset(e), e.len}; }

  // --- build side ---

  Status CheckRoom(size_t value_size, size_t max_entries) const;
  Status Add(const core::Indicator& indicator, RecordId record, size_t max_entries);
  void AddIp(std::string_view text, uint32_t entry);

  // --- query side ---

  // Per-call state of Match(); lives on the caller's stack.
  struct Query {
    uint32_t query_no = 0;
    RelationMask mask = 0;
    std::vector<Hit>* out = nullptr;
    // The query's IP part (at most one per query), for in-range.
    bool has_ip = false;
    bool ip_from_url = false;
    ParsedIp ip;
  };

  void Emit(Query& q, uint32_t entry, Relation relation) const {
    if ((q.mask & RelationBit(relation)) == 0) return;
    q.out->push_back(Hit{q.query_no, entry, entries[entry].record, relation});
  }
  bool VerifyKey(uint32_t entry, KeyKind kind, uint32_t tag, std::string_view value) const;
  // `hash` is KeyHash(tag, value), computed by the caller (MatchAll has it from prefetching).
  void LookupKey(Query& q, uint64_t hash, uint32_t tag, std::string_view value,
                 QueryKind kind) const;
  void LookupKey(Query& q, uint32_t tag, std::string_view value, QueryKind kind) const {
    LookupKey(q, KeyHash(tag, value), tag, value, kind);
  }
  void MatchHostParents(Query& q, std::string_view host) const;
  void MatchPart(Query& q, IndicatorType type, uint32_t tag, MatchFamily family,
                 std::string_view value, QueryKind kind, uint64_t hash) const;
  void MatchUrlHostIp(Query& q) const;
  bool MatchRanges(Query& q, size_t base, size_t strong_end, uint32_t limit) const;
  // `first_hash` is FirstKeyHash(query).
  bool Match(const core::Indicator& query, uint32_t query_no, const MatchOptions& options,
             std::vector<Hit>* out, uint64_t first_hash) const;

  // Batch pipelining (MatchAll): the hash of a query's first key lookup, and prefetches of the
  // entries and values its bucket refers to (the directory and slot stages are ExactTable's).
  uint64_t FirstKeyHash(const core::Indicator& query) const {
    return KeyHash((*types)[static_cast<size_t>(query.type)].whole_tag, query.value);
  }
  void PrefetchEntries(uint64_t hash) const {
    exact.ForEach(hash, [&](uint32_t ref) { internal::PrefetchLine(&entries[ref >> 2]); });
  }
  void PrefetchValues(uint64_t hash) const {
    exact.ForEach(hash, [&](uint32_t ref) {
      internal::PrefetchLine(arena.data() + EntryOffset(entries[ref >> 2]));
    });
  }
  std::vector<Hit> MatchAll(std::span<const core::Indicator> queries,
                            const MatchOptions& options) const;
};

}  // namespace iocgrid::index
