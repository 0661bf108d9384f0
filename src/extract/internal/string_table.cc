#include "extract/internal/string_table.h"

#include <cstring>

namespace iocgrid::extract::internal {

uint64_t HashBytes(std::string_view s) {
  // A multiply-xorshift mix over 8-byte words (in the manner of wyhash/murmur
  // finalizers): keys are host names and hex digests, 5 to 130 bytes.
  constexpr uint64_t kMul1 = 0xff51afd7ed558ccdULL;
  constexpr uint64_t kMul2 = 0xc4ceb9fe1a85ec53ULL;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * kMul2);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul1;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul2;
    h ^= h >> 29;
  }
  h *= kMul1;
  h ^= h >> 32;
  return h;
}

void StringTable::Add(std::string_view key, uint32_t flags) {
  if (flags == 0) return;
  if ((used_ + 1) * 2 > slots_.size()) Rehash(slots_.empty() ? 64 : slots_.size() * 2);
  uint64_t hash = HashBytes(key);
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.flags == 0) {
      s.hash = hash;
      s.offset = static_cast<uint32_t>(keys_.size());
      s.length = static_cast<uint32_t>(key.size());
      s.flags = flags;
      keys_.append(key);
      ++used_;
      return;
    }
    if (s.hash == hash && std::string_view(keys_).substr(s.offset, s.length) == key) {
      s.flags |= flags;
      return;
    }
  }
}

uint32_t StringTable::Find(std::string_view key, uint64_t hash) const {
  if (slots_.empty()) return 0;
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.flags == 0) return 0;
    if (s.hash == hash && s.length == key.size() &&
        std::memcmp(keys_.data() + s.offset, key.data(), key.size()) == 0) {
      return s.flags;
    }
  }
}

void StringTable::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.flags == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].flags != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace iocgrid::extract::internal
