// ExactTable: the hashed part of the match index (internal to index/). It maps 64-bit key hashes
// to 32-bit references (the caller's entry and key kind), and answers "which references were
// added under this hash" with about two cache misses.
//
// Layout: the keys are bucketed by the top `bits_` bits of their hash (a counting sort, one pass)
// into `slots_`, one 64-bit word per key: the low 32 bits of the hash and the reference. `dir_`
// holds each bucket's first slot (2^bits_ + 1 words, bits_ = floor(log2(keys)), so buckets hold
// one or two keys on average and the directory costs at most 4 bytes per key). A lookup reads
// dir_[b], dir_[b + 1] and the bucket's slots, and reports references whose low 32 hash bits
// match: bits_ + 32 bits of the hash are compared, and the caller verifies the value bytes.
//
// Thread-safety: Add/Finish are single-threaded; after Finish, ForEach is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/huge_pages.h"

namespace iocgrid::index::internal {

// Hints the CPU to fetch the line of `p`. The empty volatile asm keeps the hint alive: GCC
// otherwise deletes a loop whose only effect is __builtin_prefetch (seen with GCC 12 -O2).
inline void PrefetchLine(const void* p) {
  __builtin_prefetch(p);
  asm volatile("" : : "r"(p));
}

class ExactTable {
 public:
  void Reserve(size_t keys);
  void Add(uint64_t hash, uint32_t ref) {
    build_hashes_.push_back(hash);
    build_refs_.push_back(ref);
  }
  // Builds the lookup structure and frees the build buffers. Call once.
  void Finish();

  // Calls f(ref) for each reference added with a hash equal to `hash` in its top bits_ and low
  // 32 bits, in insertion order. REQUIRES: Finish() was called.
  template <typename F>
  void ForEach(uint64_t hash, F&& f) const {
    if (slots_.empty()) return;
    size_t bucket = static_cast<size_t>(hash >> shift_);
    uint32_t begin = dir_[bucket];
    uint32_t end = dir_[bucket + 1];
    auto low = static_cast<uint32_t>(hash);
    for (uint32_t i = begin; i < end; ++i) {
      uint64_t slot = slots_[i];
      if (static_cast<uint32_t>(slot) == low) f(static_cast<uint32_t>(slot >> 32));
    }
  }

  // Software pipelining for batches: stage 0 hints the CPU to fetch the directory words of
  // `hash`'s bucket; stage 1 (a few queries later, when they have arrived) its first slot.
  void PrefetchDirectory(uint64_t hash) const {
    if (!dir_.empty()) PrefetchLine(&dir_[static_cast<size_t>(hash >> shift_)]);
  }
  void PrefetchSlots(uint64_t hash) const {
    if (!slots_.empty()) PrefetchLine(&slots_[dir_[static_cast<size_t>(hash >> shift_)]]);
  }

  size_t size() const { return slots_.size(); }
  size_t MemoryUsage() const;

  // Calls f(ref) for every stored reference.
  template <typename F>
  void ForEachRef(F&& f) const {
    for (uint64_t slot : slots_) f(static_cast<uint32_t>(slot >> 32));
  }

  // The built table to and from a persisted index (binary_io.h). Load checks the shape: a
  // directory of 2^bits + 1 ascending offsets ending at the slot count.
  template <typename W>
  void Save(W& w) const {
    w.U64(shift_);
    w.Array(dir_);
    w.Array(slots_);
  }
  template <typename R>
  bool Load(R& r) {
    uint64_t shift = 0;
    if (!r.U64(&shift) || shift < 1 || shift > 63 || !r.Array(&dir_) || !r.Array(&slots_)) {
      return false;
    }
    shift_ = static_cast<unsigned>(shift);
    if (slots_.empty()) return dir_.empty() || dir_.back() == 0;
    if (dir_.size() != (size_t{1} << (64 - shift_)) + 1 || dir_.back() != slots_.size()) {
      return false;
    }
    for (size_t i = 1; i < dir_.size(); ++i) {
      if (dir_[i] < dir_[i - 1]) return false;
    }
    return true;
  }

 private:
  HugeVector<uint64_t> build_hashes_;
  HugeVector<uint32_t> build_refs_;
  unsigned shift_ = 63;  // 64 - bits_
  HugeVector<uint32_t> dir_;
  HugeVector<uint64_t> slots_;
};

}  // namespace iocgrid::index::internal
