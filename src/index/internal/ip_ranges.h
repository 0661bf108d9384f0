// IpRanges: the stored IP networks and addresses of one address family (IPv4 or IPv6), for
// in-range matching (internal to index/).
//
// Networks: every distinct stored network (start, prefix) once, sorted by (start, prefix
// ascending), with the entries that hold it as a posting list, and a parent link to the smallest
// stored network strictly containing it. Prefix networks are laminar (two are nested or
// disjoint), so the networks containing an address are exactly the parent chain of the last
// network whose start is <= the address, minus the chain's first links that end before it.
// IPv4 adds a 65536-word directory on the top 16 bits of the start, so finding that network is a
// short binary search inside one bucket.
// Addresses (/32, /128): a sorted array with the entry per element, so a queried network finds
// the stored addresses inside it with two binary searches.
//
// Thread-safety: Add*/Finish are single-threaded; after Finish the const methods are safe from
// any thread.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/huge_pages.h"

namespace iocgrid::index::internal {

// An IPv6 address as two host-order halves; orders as the 128-bit number.
struct Ip6 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend auto operator<=>(const Ip6&, const Ip6&) = default;
};

// Full prefix length of the address type.
template <typename A>
inline constexpr unsigned kAddressBits = sizeof(A) == 4 ? 32 : 128;

// The last address of the network (start, prefix). REQUIRES: prefix <= address bits.
inline uint32_t HostMask(unsigned prefix) {
  return prefix >= 32 ? 0 : static_cast<uint32_t>(~uint64_t{0} >> (prefix + 32));
}
inline uint32_t NetworkLast(uint32_t start, unsigned prefix) { return start | HostMask(prefix); }
inline Ip6 NetworkLast(Ip6 start, unsigned prefix) {
  if (prefix == 0) return {~uint64_t{0}, ~uint64_t{0}};
  if (prefix < 64) return {start.hi | (~uint64_t{0} >> prefix), ~uint64_t{0}};
  if (prefix == 64) return {start.hi, ~uint64_t{0}};
  if (prefix < 128) return {start.hi, start.lo | (~uint64_t{0} >> (prefix - 64))};
  return start;
}
// `addr` with the bits after `prefix` cleared.
inline uint32_t NetworkStart(uint32_t addr, unsigned prefix) { return addr & ~HostMask(prefix); }
inline Ip6 NetworkStart(Ip6 addr, unsigned prefix) {
  if (prefix == 0) return {};
  if (prefix < 64) return {addr.hi & ~(~uint64_t{0} >> prefix), 0};
  if (prefix == 64) return {addr.hi, 0};
  if (prefix < 128) return {addr.hi, addr.lo & ~(~uint64_t{0} >> (prefix - 64))};
  return addr;
}

template <typename A>
class IpRanges {
 public:
  static constexpr uint32_t kNone = ~uint32_t{0};

  // REQUIRES: `start` has its host bits cleared and prefix < kAddressBits<A>.
  void AddNetwork(A start, uint8_t prefix, uint32_t entry) {
    build_nets_.push_back({start, entry, prefix});
  }
  void AddAddress(A addr, uint32_t entry) { build_addrs_.push_back({addr, entry}); }
  // Sorts and links; frees the build buffers. Call once.
  void Finish();

  size_t network_count() const { return starts_.size(); }
  size_t address_count() const { return addrs_.size(); }

  // Calls f(entry) for every stored network that contains `addr` and has a prefix length
  // <= max_prefix, innermost first; f returns false to stop. Returns false if stopped.
  template <typename F>
  bool ForEachContaining(A addr, unsigned max_prefix, F&& f) const {
    size_t count = CountStartsAtMost(addr);
    if (count == 0) return true;
    uint32_t i = static_cast<uint32_t>(count - 1);
    while (i != kNone && NetworkLast(starts_[i], prefixes_[i]) < addr) i = parents_[i];
    for (; i != kNone; i = parents_[i]) {
      if (prefixes_[i] > max_prefix) continue;
      if (!Emit(i, f)) return false;
    }
    return true;
  }

  // Calls f(entry) for every stored network whose start lies in [first, last] and whose prefix
  // length is >= min_prefix; f returns false to stop. Returns false if stopped.
  template <typename F>
  bool ForEachNetworkStartingIn(A first, A last, unsigned min_prefix, F&& f) const {
    auto it = std::lower_bound(starts_.begin(), starts_.end(), first);
    for (auto i = static_cast<size_t>(it - starts_.begin());
         i < starts_.size() && !(last < starts_[i]); ++i) {
      if (prefixes_[i] < min_prefix) continue;
      if (!Emit(static_cast<uint32_t>(i), f)) return false;
    }
    return true;
  }

  // Calls f(entry) for every stored address in [first, last], in address order; f returns false
  // to stop. Returns false if stopped.
  template <typename F>
  bool ForEachAddressIn(A first, A last, F&& f) const {
    auto it = std::lower_bound(addrs_.begin(), addrs_.end(), first);
    for (auto i = static_cast<size_t>(it - addrs_.begin());
         i < addrs_.size() && !(last < addrs_[i]); ++i) {
      if (!f(addr_entries_[i])) return false;
    }
    return true;
  }

  size_t MemoryUsage() const {
    return starts_.capacity() * sizeof(A) + prefixes_.capacity() + parents_.capacity() * 4 +
           post_begin_.capacity() * 4 + postings_.capacity() * 4 + addrs_.capacity() * sizeof(A) +
           addr_entries_.capacity() * 4 + dir_.capacity() * 4 +
           build_nets_.capacity() * sizeof(NetItem) + build_addrs_.capacity() * sizeof(AddrItem);
  }

  // The built structure to and from a persisted index (binary_io.h). Load checks the shape:
  // parallel arrays of one length, postings offsets ascending to the postings count, every
  // entry below `entries`.
  template <typename W>
  void Save(W& w) const {
    w.Array(starts_);
    w.Array(prefixes_);
    w.Array(parents_);
    w.Array(post_begin_);
    w.Array(postings_);
    w.Array(addrs_);
    w.Array(addr_entries_);
    w.Array(dir_);
  }
  template <typename R>
  bool Load(R& r, size_t entries) {
    if (!r.Array(&starts_) || !r.Array(&prefixes_) || !r.Array(&parents_) ||
        !r.Array(&post_begin_) || !r.Array(&postings_) || !r.Array(&addrs_) ||
        !r.Array(&addr_entries_) || !r.Array(&dir_)) {
      return false;
    }
    const size_t nets = starts_.size();
    if (prefixes_.size() != nets || parents_.size() != nets ||
        addr_entries_.size() != addrs_.size()) {
      return false;
    }
    if (nets > 0 && (post_begin_.size() != nets + 1 || post_begin_.back() != postings_.size())) {
      return false;
    }
    for (size_t i = 1; i < post_begin_.size(); ++i) {
      if (post_begin_[i] < post_begin_[i - 1]) return false;
    }
    // A parent sorts before its networks (smaller start or shorter prefix): no cycles.
    for (size_t i = 0; i < nets; ++i) {
      if (parents_[i] != kNone && parents_[i] >= i) return false;
    }
    for (uint32_t e : postings_) {
      if (e >= entries) return false;
    }
    for (uint32_t e : addr_entries_) {
      if (e >= entries) return false;
    }
    if constexpr (sizeof(A) == 4) {
      if (!dir_.empty() && (dir_.size() != 65537 || dir_.back() != nets)) return false;
      for (size_t i = 1; i < dir_.size(); ++i) {
        if (dir_[i] < dir_[i - 1]) return false;
      }
    }
    return true;
  }

 private:
  // Sorts the build buffers stably by (start, prefix) and by address (radix sort for large
  // IPv4 sets), so entries stay ascending inside each posting list.
  void SortBuildItems();
  struct NetItem {
    A start;
    uint32_t entry;
    uint8_t prefix;
  };
  struct AddrItem {
    A addr;
    uint32_t entry;
  };

  template <typename F>
  bool Emit(uint32_t net, F& f) const {
    for (uint32_t p = post_begin_[net]; p < post_begin_[net + 1]; ++p) {
      if (!f(postings_[p])) return false;
    }
    return true;
  }

  // Number of networks whose start is <= addr.
  size_t CountStartsAtMost(A addr) const {
    if constexpr (sizeof(A) == 4) {
      if (dir_.empty()) return 0;
      size_t bucket = addr >> 16;
      auto begin = starts_.begin() + dir_[bucket];
      auto end = starts_.begin() + dir_[bucket + 1];
      return static_cast<size_t>(std::upper_bound(begin, end, addr) - starts_.begin());
    } else {
      return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), addr) -
                                 starts_.begin());
    }
  }

  std::vector<NetItem> build_nets_;
  std::vector<AddrItem> build_addrs_;

  HugeVector<A> starts_;               // distinct networks, sorted by (start, prefix)
  HugeVector<uint8_t> prefixes_;       // parallel to starts_
  HugeVector<uint32_t> parents_;       // smallest stored network strictly containing it, or kNone
  HugeVector<uint32_t> post_begin_;    // size networks + 1; postings_[post_begin_[i]...]
  HugeVector<uint32_t> postings_;      // entries, ascending within a network
  HugeVector<A> addrs_;                // stored addresses, sorted (repeats for repeated values)
  HugeVector<uint32_t> addr_entries_;  // parallel to addrs_, ascending within one address
  std::vector<uint32_t> dir_;  // IPv4 only: dir_[h] = number of starts < h << 16, h <= 65536
};

extern template class IpRanges<uint32_t>;
extern template class IpRanges<Ip6>;

}  // namespace iocgrid::index::internal
