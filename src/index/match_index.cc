#include "index/match_index.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "common/huge_pages.h"
#include "core/indicator_type.h"
#include "core/ip.h"
#include "index/internal/binary_io.h"
#include "index/internal/exact_table.h"
#include "index/internal/hash.h"
#include "index/internal/index_file.h"
#include "index/internal/ip_ranges.h"

// Layout and algorithms: docs/index.md. In short: the values sit in one arena; each entry is 16
// bytes; every matchable part of an entry (the value, each composite half, a URL's host) is one
// key in a hashed table whose hits are always verified against the arena; IP networks and
// addresses also go into sorted per-family structures for in-range matching.

namespace iocgrid::index {
namespace {

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

uint32_t TypeTag(IndicatorType type) {
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

TypeTable MakeTypeTable() {
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

const TypeTable& Types() {
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
bool ParseIpText(std::string_view text, ParsedIp* out) {
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

bool SameIp(const ParsedIp& a, const ParsedIp& b) {
  return a.v6 == b.v6 && a.prefix == b.prefix && (a.v6 ? a.a6 == b.a6 : a.v4 == b.v4);
}

// Relations that hold when a query part of kind `query` equals a stored key of kind `stored`.
// Writes up to two, strongest first, and returns the count.
int RelationsFor(QueryKind query, KeyKind stored, uint32_t tag, Relation out[2]) {
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

}  // namespace

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

void MatchIndex::Impl::AddIp(std::string_view text, uint32_t entry) {
  ParsedIp ip;
  // Values come normalized (REQUIRES of Add); a value that is no IP has nothing to range-match.
  if (!ParseIpText(text, &ip)) return;
  if (ip.v6) {
    if (ip.is_address()) {
      v6.AddAddress(ip.a6, entry);
    } else {
      v6.AddNetwork(internal::NetworkStart(ip.a6, ip.prefix), ip.prefix, entry);
    }
  } else if (ip.is_address()) {
    v4.AddAddress(ip.v4, entry);
  } else {
    v4.AddNetwork(internal::NetworkStart(ip.v4, ip.prefix), ip.prefix, entry);
  }
}

// kResourceExhausted when one more entry with a value of `value_size` bytes does not fit.
Status MatchIndex::Impl::CheckRoom(size_t value_size, size_t max_entries) const {
  if (entries.size() >= max_entries) {
    return ResourceExhaustedError("the match index is full: it holds at most " +
                                  std::to_string(max_entries) +
                                  " indicators; split the data over several nodes or data files");
  }
  if (value_size > std::numeric_limits<uint32_t>::max() ||
      arena.size() + value_size > kOffsetMask) {
    return ResourceExhaustedError(
        "the match index is full: its values may take at most 1 TiB; split the data over "
        "several nodes or data files");
  }
  return Status::Ok();
}

Status MatchIndex::Impl::Add(const core::Indicator& indicator, RecordId record,
                             size_t max_entries) {
  IOCGRID_RETURN_IF_ERROR(CheckRoom(indicator.value.size(), max_entries));
  const uint64_t offset = arena.size();
  const auto entry = static_cast<uint32_t>(entries.size());
  const TypeInfo& info = (*types)[static_cast<size_t>(indicator.type)];
  const std::string_view value = indicator.value;

  core::Component parts[2];
  uint32_t split = kNoSplit;
  if (info.composite && core::Components(indicator, parts) == 2) {
    // Halves are indexed only when they tile the value as "left|right" (as core::Components
    // makes them) and the left one fits the 16-bit split field, so that verification can find
    // them again from the entry alone.
    size_t left_len = parts[0].value.size();
    if (parts[0].value.data() == value.data() && left_len < kNoSplit &&
        parts[1].value.data() == value.data() + left_len + 1 &&
        left_len + 1 + parts[1].value.size() == value.size()) {
      split = static_cast<uint32_t>(left_len);
    }
  }
  entries.push_back(Entry{offset | (uint64_t{static_cast<uint8_t>(indicator.type)} << kTypeShift) |
                              (uint64_t{split} << kSplitShift),
                          static_cast<uint32_t>(value.size()), record});
  arena.insert(arena.end(), value.begin(), value.end());

  exact.Add(KeyHash(info.whole_tag, value), MakeRef(entry, kWholeKey));
  if (info.composite) {
    if (split == kNoSplit) return Status::Ok();
    std::string_view left = value.substr(0, split);
    std::string_view right = value.substr(split + 1);
    if (info.left_indexed) {
      exact.Add(KeyHash(info.left_tag, left), MakeRef(entry, kLeftKey));
      if (info.left_family == MatchFamily::kIp) AddIp(left, entry);
    }
    if (info.right_indexed) {
      exact.Add(KeyHash(info.right_tag, right), MakeRef(entry, kRightKey));
      if (info.right_family == MatchFamily::kIp) AddIp(right, entry);
    }
    return Status::Ok();
  }
  switch (core::FamilyOf(indicator.type)) {
    case MatchFamily::kIp:
      AddIp(value, entry);
      break;
    case MatchFamily::kUrl: {
      std::string_view host = core::UrlHost(value);
      if (host.empty()) break;
      ParsedIp ip;
      if (ParseIpText(host, &ip)) {
        if (!ip.is_address()) break;
        // The key is the canonical address text, which is what an IP query carries.
        core::IpNetwork net;
        net.v6 = ip.v6;
        net.prefix = ip.prefix;
        if (ip.v6) {
          for (int i = 0; i < 8; ++i) {
            net.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(ip.a6.hi >> (56 - 8 * i));
            net.bytes[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(ip.a6.lo >> (56 - 8 * i));
          }
          exact.Add(KeyHash(kIpTag, core::FormatIpNetwork(net)), MakeRef(entry, kUrlHostKey));
        } else {
          // A strict dotted quad is already canonical.
          exact.Add(KeyHash(kIpTag, host), MakeRef(entry, kUrlHostKey));
        }
      } else {
        exact.Add(KeyHash(kHostTag, host), MakeRef(entry, kUrlHostKey));
      }
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

bool MatchIndex::Impl::VerifyKey(uint32_t entry, KeyKind kind, uint32_t tag,
                                 std::string_view value) const {
  const Entry& e = entries[entry];
  const TypeInfo& info = (*types)[static_cast<size_t>(EntryType(e))];
  std::string_view stored = Value(e);
  switch (kind) {
    case kWholeKey:
      return info.whole_tag == tag && stored == value;
    case kLeftKey:
      return info.left_tag == tag && stored.substr(0, EntrySplit(e)) == value;
    case kRightKey:
      return info.right_tag == tag && stored.substr(EntrySplit(e) + 1) == value;
    case kUrlHostKey: {
      std::string_view host = core::UrlHost(stored);
      if (tag == kHostTag) {
        ParsedIp ignored;
        return host == value && !ParseIpText(host, &ignored);
      }
      if (tag != kIpTag) return false;
      ParsedIp a;
      ParsedIp b;
      return ParseIpText(host, &a) && ParseIpText(value, &b) && SameIp(a, b);
    }
  }
  return false;
}

void MatchIndex::Impl::LookupKey(Query& q, uint64_t hash, uint32_t tag, std::string_view value,
                                 QueryKind kind) const {
  exact.ForEach(hash, [&](uint32_t ref) {
    uint32_t entry = ref >> 2;
    auto key_kind = static_cast<KeyKind>(ref & 3);
    if (!VerifyKey(entry, key_kind, tag, value)) return;
    Relation relations[2];
    int n = RelationsFor(kind, key_kind, tag, relations);
    for (int i = 0; i < n; ++i) Emit(q, entry, relations[i]);
  });
}

void MatchIndex::Impl::MatchHostParents(Query& q, std::string_view host) const {
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    std::string_view parent = host.substr(dot + 1);
    if (parent.empty()) break;
    LookupKey(q, kHostTag, parent, QueryKind::kParent);
  }
}

void MatchIndex::Impl::MatchPart(Query& q, IndicatorType type, uint32_t tag, MatchFamily family,
                                 std::string_view value, QueryKind kind, uint64_t hash) const {
  const bool keys = (q.mask & kKeyRelations) != 0;
  const bool subdomain = (q.mask & RelationBit(Relation::kSubdomain)) != 0;
  if (keys) LookupKey(q, hash, tag, value, kind);
  switch (family) {
    case MatchFamily::kHost:
      if (subdomain) MatchHostParents(q, value);
      break;
    case MatchFamily::kIp:
      // Only in-range needs the number. Against stored addresses alone, a queried address
      // (normalized text without '/') finds nothing there that its key lookup did not, unless
      // the mask wants equal addresses as in-range.
      if ((q.mask & RelationBit(Relation::kInRange)) == 0) break;
      if (v4.network_count() == 0 && v6.network_count() == 0 &&
          (q.mask & kKeyRelations) == kKeyRelations && !IsNetworkText(value)) {
        break;
      }
      if (ParseIpText(value, &q.ip)) q.has_ip = true;
      break;
    case MatchFamily::kUrl: {
      if (type != IndicatorType::kUrl && type != IndicatorType::kLink) break;
      std::string_view host = core::UrlHost(value);
      if (host.empty()) break;
      if (ParseIpText(host, &q.ip)) {
        if (!q.ip.is_address()) break;
        q.has_ip = true;
        q.ip_from_url = true;
        if ((q.mask & RelationBit(Relation::kUrlHost)) != 0) MatchUrlHostIp(q);
      } else {
        if ((q.mask & RelationBit(Relation::kUrlHost)) != 0) {
          LookupKey(q, kHostTag, host, QueryKind::kUrlHost);
        }
        if (subdomain) MatchHostParents(q, host);
      }
      break;
    }
    default:
      break;
  }
}

// A queried URL whose host is an IP: the stored IPs equal to it (plain or composite halves) are
// url-host hits. They are found in the address arrays rather than by text, so that any spelling
// of an IPv6 host matches.
void MatchIndex::Impl::MatchUrlHostIp(Query& q) const {
  auto emit = [&](uint32_t entry) {
    Emit(q, entry, Relation::kUrlHost);
    return true;
  };
  if (q.ip.v6) {
    v6.ForEachAddressIn(q.ip.a6, q.ip.a6, emit);
  } else {
    v4.ForEachAddressIn(q.ip.v4, q.ip.v4, emit);
  }
}

// In-range hits of q.ip, excluding entries already hit more strongly (out[base, strong_end),
// sorted by entry). With a limit, keeps only the smallest entries that fit (a max-heap on
// out[strong_end...]). Returns false if candidates were dropped for the limit.
bool MatchIndex::Impl::MatchRanges(Query& q, size_t base, size_t strong_end, uint32_t limit) const {
  // A stored address equal to the queried one is in range too, but normally a stronger relation
  // (exact, component or url-host) holds for the pair; look only when the mask excludes one.
  const bool equal_addresses = (q.mask & kKeyRelations) != kKeyRelations;
  const ParsedIp& ip = q.ip;
  // An address, in a family with no stored networks, has nothing more to find (most list
  // queries against lists of addresses).
  if (ip.is_address() && !equal_addresses &&
      (ip.v6 ? v6.network_count() : v4.network_count()) == 0) {
    return true;
  }
  std::vector<Hit>& out = *q.out;
  const size_t strong = strong_end - base;
  constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  const size_t room = limit == 0 ? kUnlimited : (limit > strong ? limit - strong : 0);
  bool dropped = false;
  auto visit = [&](uint32_t entry) -> bool {
    if (strong != 0) {
      Hit probe{};
      probe.entry = entry;
      if (std::binary_search(out.begin() + static_cast<ptrdiff_t>(base),
                             out.begin() + static_cast<ptrdiff_t>(strong_end), probe, HitByEntry)) {
        return true;
      }
    }
    Hit hit{q.query_no, entry, entries[entry].record, Relation::kInRange};
    if (room == kUnlimited) {
      out.push_back(hit);
      return true;
    }
    if (room == 0) {
      dropped = true;
      return false;
    }
    auto heap_begin = out.begin() + static_cast<ptrdiff_t>(strong_end);
    if (out.size() - strong_end < room) {
      out.push_back(hit);
      std::push_heap(out.begin() + static_cast<ptrdiff_t>(strong_end), out.end(), HitByEntry);
      return true;
    }
    dropped = true;
    if (entry < heap_begin->entry) {
      std::pop_heap(heap_begin, out.end(), HitByEntry);
      out.back() = hit;
      std::push_heap(heap_begin, out.end(), HitByEntry);
    }
    return true;
  };

  if (ip.v6) {
    Ip6 first = ip.a6;
    Ip6 last = internal::NetworkLast(first, ip.prefix);
    bool go = v6.ForEachContaining(first, ip.prefix, visit);
    if (go && !ip.is_address())
      go = v6.ForEachNetworkStartingIn(first, last, ip.prefix + 1u, visit);
    if (go && (!ip.is_address() || equal_addresses)) v6.ForEachAddressIn(first, last, visit);
  } else {
    uint32_t first = ip.v4;
    uint32_t last = internal::NetworkLast(first, ip.prefix);
    bool go = v4.ForEachContaining(first, ip.prefix, visit);
    if (go && !ip.is_address())
      go = v4.ForEachNetworkStartingIn(first, last, ip.prefix + 1u, visit);
    if (go && (!ip.is_address() || equal_addresses)) v4.ForEachAddressIn(first, last, visit);
  }
  auto range_begin = out.begin() + static_cast<ptrdiff_t>(strong_end);
  if (room == kUnlimited) {
    std::sort(range_begin, out.end(), HitByEntry);
  } else {
    std::sort_heap(range_begin, out.end(), HitByEntry);
  }
  return !dropped;
}

bool MatchIndex::Impl::Match(const core::Indicator& query, uint32_t query_no,
                             const MatchOptions& options, std::vector<Hit>* out,
                             uint64_t first_hash) const {
  Query q;
  q.query_no = query_no;
  q.mask = static_cast<RelationMask>(options.relations & kAllRelations);
  q.out = out;
  if (q.mask == 0) return true;
  const size_t base = out->size();
  const TypeInfo& info = (*types)[static_cast<size_t>(query.type)];

  // 1. Everything but in-range: key lookups (exact, component, url-host) and parent domains.
  if (info.composite) {
    if ((q.mask & RelationBit(Relation::kExact)) != 0) {
      LookupKey(q, first_hash, info.whole_tag, query.value, QueryKind::kCompositeWhole);
    }
    core::Component parts[2];
    if (core::Components(query, parts) == 2) {
      if (info.left_indexed) {
        MatchPart(q, parts[0].type, info.left_tag, info.left_family, parts[0].value,
                  QueryKind::kHalf, KeyHash(info.left_tag, parts[0].value));
      }
      if (info.right_indexed) {
        MatchPart(q, parts[1].type, info.right_tag, info.right_family, parts[1].value,
                  QueryKind::kHalf, KeyHash(info.right_tag, parts[1].value));
      }
    }
  } else {
    MatchPart(q, query.type, info.whole_tag, info.family, query.value, QueryKind::kWhole,
              first_hash);
  }

  // One hit per entry, the strongest relation.
  auto first = out->begin() + static_cast<ptrdiff_t>(base);
  if (out->size() - base > 1) {
    std::sort(first, out->end(), HitByEntryThenRelation);
    auto last = std::unique(first, out->end(),
                            [](const Hit& a, const Hit& b) { return a.entry == b.entry; });
    out->erase(last, out->end());
  }
  const size_t strong_end = out->size();

  // 2. In-range, for entries not hit above.
  const uint32_t limit = options.max_hits_per_query;
  bool complete = true;
  if (q.has_ip && (q.mask & RelationBit(Relation::kInRange)) != 0) {
    complete = MatchRanges(q, base, strong_end, limit);
  }

  // 3. Strongest relation first, then entry order (the in-range tail is already in order).
  std::sort(out->begin() + static_cast<ptrdiff_t>(base),
            out->begin() + static_cast<ptrdiff_t>(strong_end), HitByRelationThenEntry);
  if (limit != 0 && out->size() - base > limit) {
    out->resize(base + limit);
    complete = false;
  }
  return complete;
}

// ---- Public surface ---------------------------------------------------------------------------

MatchIndex::MatchIndex() = default;
MatchIndex::~MatchIndex() = default;

bool MatchIndex::Match(const core::Indicator& query, uint32_t query_no, const MatchOptions& options,
                       std::vector<Hit>* out) const {
  return impl_->Match(query, query_no, options, out, impl_->FirstKeyHash(query));
}

std::vector<Hit> MatchIndex::MatchAll(std::span<const core::Indicator> queries,
                                      const MatchOptions& options) const {
  return impl_->MatchAll(queries, options);
}

// A lookup in a big index is a chain of dependent cache misses (directory, slots, entry,
// value). Matching queries one by one leaves the CPU waiting on each; here the chain of query
// i + 12 starts while query i is matched: its directory words are prefetched 12 queries ahead,
// its slots 8 ahead, its entries 4 ahead and its values 2 ahead, each stage reading only lines
// the previous stage has brought in. Only the first key of each query is pipelined; it is the
// only one for most queries.
std::vector<Hit> MatchIndex::Impl::MatchAll(std::span<const core::Indicator> queries,
                                            const MatchOptions& options) const {
  constexpr size_t kRing = 64;
  constexpr size_t kDirectoryAhead = 32;
  constexpr size_t kSlotsAhead = 24;
  constexpr size_t kEntriesAhead = 16;
  constexpr size_t kValuesAhead = 8;
  const size_t n = queries.size();
  std::array<uint64_t, kRing> hashes{};
  std::vector<Hit> hits;
  for (size_t i = 0; i < std::min(n, kDirectoryAhead); ++i) {
    hashes[i % kRing] = FirstKeyHash(queries[i]);
    exact.PrefetchDirectory(hashes[i % kRing]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kDirectoryAhead < n) {
      uint64_t hash = FirstKeyHash(queries[i + kDirectoryAhead]);
      hashes[(i + kDirectoryAhead) % kRing] = hash;
      exact.PrefetchDirectory(hash);
    }
    if (i + kSlotsAhead < n) exact.PrefetchSlots(hashes[(i + kSlotsAhead) % kRing]);
    if (i + kEntriesAhead < n) PrefetchEntries(hashes[(i + kEntriesAhead) % kRing]);
    if (i + kValuesAhead < n) PrefetchValues(hashes[(i + kValuesAhead) % kRing]);
    // The result only says whether max_hits_per_query cut a list; callers that care use Match.
    Match(queries[i], static_cast<uint32_t>(i), options, &hits, hashes[i % kRing]);
  }
  return hits;
}

size_t MatchIndex::size() const { return impl_->entries.size(); }

core::IndicatorType MatchIndex::entry_type(uint32_t entry) const {
  IOCGRID_DCHECK(entry < impl_->entries.size());
  return EntryType(impl_->entries[entry]);
}

std::string_view MatchIndex::entry_value(uint32_t entry) const {
  IOCGRID_DCHECK(entry < impl_->entries.size());
  return impl_->Value(impl_->entries[entry]);
}

RecordId MatchIndex::entry_record(uint32_t entry) const {
  IOCGRID_DCHECK(entry < impl_->entries.size());
  return impl_->entries[entry].record;
}

size_t MatchIndex::MemoryUsage() const {
  const Impl& m = *impl_;
  return sizeof(MatchIndex) + sizeof(Impl) + m.entries.capacity() * sizeof(Entry) +
         m.exact.MemoryUsage() + m.v4.MemoryUsage() + m.v6.MemoryUsage() +
         (m.arena.capacity() - m.arena.size());
}

size_t MatchIndex::ValueBytes() const { return impl_->arena.size(); }

// ---- Builder ----------------------------------------------------------------------------------

struct MatchIndex::Builder::Impl {
  MatchIndex::Impl data;
  size_t max_entries = kMaxEntries;
};

MatchIndex::Builder::Builder() : impl_(std::make_unique<Impl>()) {}
MatchIndex::Builder::~Builder() = default;
MatchIndex::Builder::Builder(Builder&&) noexcept = default;
MatchIndex::Builder& MatchIndex::Builder::operator=(Builder&&) noexcept = default;

void MatchIndex::Builder::Reserve(size_t indicators, size_t value_bytes) {
  impl_->data.entries.reserve(indicators);
  impl_->data.arena.reserve(value_bytes);
  // Most entries have one key; URLs two, composites three.
  impl_->data.exact.Reserve(indicators + indicators / 4);
}

Status MatchIndex::Builder::Add(const core::Indicator& indicator, RecordId record) {
  return impl_->data.Add(indicator, record, impl_->max_entries);
}

void MatchIndex::Builder::set_max_entries(size_t n) {
  impl_->max_entries = std::min(n, kMaxEntries);
}

size_t MatchIndex::Builder::size() const { return impl_->data.entries.size(); }

Status MatchIndex::SaveToFile(const std::string& path, std::string_view meta,
                              std::span<const int64_t> record_map) const {
  return internal::WriteIndexFile(path, meta, record_map,
                                  [&](internal::BinaryWriter& w) { impl_->Save(w); });
}

Result<std::shared_ptr<const MatchIndex>> MatchIndex::LoadFromFile(
    const std::string& path, std::string* meta, std::vector<int64_t>* record_map) {
  std::shared_ptr<MatchIndex> index(new MatchIndex());
  index->impl_ = std::make_unique<Impl>();
  IOCGRID_RETURN_IF_ERROR(internal::ReadIndexFile(
      path, meta, record_map,
      [&](internal::BinaryReader& r, size_t records) { return index->impl_->Load(r, records); }));
  return std::shared_ptr<const MatchIndex>(std::move(index));
}

std::shared_ptr<const MatchIndex> MatchIndex::Builder::Build() {
  // The constructor is private, so make_shared cannot reach it; the shared_ptr owns at once.
  std::shared_ptr<MatchIndex> index(new MatchIndex());
  auto data = std::make_unique<MatchIndex::Impl>(std::move(impl_->data));
  const size_t max_entries = impl_->max_entries;
  impl_ = std::make_unique<Impl>();
  impl_->max_entries = max_entries;
  data->exact.Finish();
  data->v4.Finish();
  data->v6.Finish();
  data->entries.shrink_to_fit();
  data->arena.shrink_to_fit();
  index->impl_ = std::move(data);
  return index;
}

}  // namespace iocgrid::index
