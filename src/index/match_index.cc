#include "index/match_index.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "index/internal/binary_io.h"
#include "index/internal/index_file.h"
#include "index/internal/match_index_impl.h"

// The query side of the index (Match, MatchAll), its accessors and its files. The structures:
// internal/match_index_impl.h; building them: match_index_build.cc.

namespace iocgrid::index {

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

}  // namespace iocgrid::index
