// Uuids as 128-bit keys, and a flat hash set of them, for the write path's cheap sets and maps
// over hundreds of thousands of attributes (re-import diffs, bulk-load repeat detection).
//
// Thread-safety: plain values; a UuidSet is used by one thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"

namespace iocgrid::store::internal {

// A uuid as 128 bits.
struct UuidKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const UuidKey&, const UuidKey&) = default;
};

struct UuidKeyHash {
  size_t operator()(const UuidKey& key) const {
    // Random uuids are already uniform; the multiply spreads structured (derived) ones.
    return (key.hi ^ key.lo) * 0x9e3779b97f4a7c15ULL;
  }
};

// REQUIRES: a valid 8-4-4-4-12 uuid (either case).
inline UuidKey KeyOf(std::string_view uuid) {
  UuidKey key;
  int nibbles = 0;
  for (char c : uuid) {
    if (c == '-') continue;
    const auto v = static_cast<uint64_t>(AsciiHexValue(c));
    if (nibbles < 16) {
      key.hi = (key.hi << 4) | v;
    } else {
      key.lo = (key.lo << 4) | v;
    }
    ++nibbles;
  }
  return key;
}

// An open-addressing set of uuids: one flat array, no allocation per insert (std::unordered_set
// allocated a node per attribute, a measurable share of big imports).
class UuidSet {
 public:
  void reserve(size_t n) {
    size_t want = 16;
    while (want < 2 * n) want <<= 1;
    if (want > slots_.size()) Rehash(want);
  }
  // Returns {_, true} when `key` was not in the set (and is now).
  std::pair<const UuidKey*, bool> insert(const UuidKey& key) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, slots_.size() * 2));
    const size_t mask = slots_.size() - 1;
    for (size_t i = UuidKeyHash()(key) & mask;; i = (i + 1) & mask) {
      if (!used_[i]) {
        used_[i] = 1;
        slots_[i] = key;
        ++size_;
        return {&slots_[i], true};
      }
      if (slots_[i] == key) return {&slots_[i], false};
    }
  }

 private:
  void Rehash(size_t capacity) {
    std::vector<UuidKey> old_slots(capacity);
    std::vector<uint8_t> old_used(capacity, 0);
    old_slots.swap(slots_);
    old_used.swap(used_);
    size_ = 0;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (old_used[i]) insert(old_slots[i]);
    }
  }

  std::vector<UuidKey> slots_;
  std::vector<uint8_t> used_;
  size_t size_ = 0;
};

}  // namespace iocgrid::store::internal
