#include "index/internal/exact_table.h"

#include <bit>

#include "common/check.h"

namespace iocgrid::index::internal {

void ExactTable::Reserve(size_t keys) {
  build_hashes_.reserve(keys);
  build_refs_.reserve(keys);
}

void ExactTable::Finish() {
  size_t n = build_hashes_.size();
  // Slot positions are 32-bit; the entry limit (2^30) with at most 4 keys per entry keeps the
  // key count below 2^32.
  IOCGRID_CHECK(n < (uint64_t{1} << 32));
  // bits = floor(log2(n)), at least 1 (shift 63) and at most 30 (a 4 GiB directory would not
  // pay for itself).
  unsigned bits = n < 2 ? 1u : static_cast<unsigned>(std::bit_width(n) - 1);
  if (bits > 30) bits = 30;
  shift_ = 64 - bits;
  size_t buckets = size_t{1} << bits;

  // Counting sort by bucket: one histogram pass, one scatter pass. Order inside a bucket does
  // not matter for lookups, so no further sorting is needed.
  dir_.assign(buckets + 1, 0);
  for (uint64_t h : build_hashes_) ++dir_[static_cast<size_t>(h >> shift_) + 1];
  for (size_t b = 0; b < buckets; ++b) dir_[b + 1] += dir_[b];
  HugeVector<uint32_t> cursor(dir_.begin(), dir_.end() - 1);
  slots_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    uint64_t h = build_hashes_[i];
    uint32_t pos = cursor[static_cast<size_t>(h >> shift_)]++;
    slots_[pos] = (uint64_t{build_refs_[i]} << 32) | static_cast<uint32_t>(h);
  }
  HugeVector<uint64_t>().swap(build_hashes_);
  HugeVector<uint32_t>().swap(build_refs_);
  if (n == 0) {
    dir_.clear();
    dir_.shrink_to_fit();
  }
}

size_t ExactTable::MemoryUsage() const {
  return dir_.capacity() * sizeof(uint32_t) + slots_.capacity() * sizeof(uint64_t) +
         build_hashes_.capacity() * sizeof(uint64_t) + build_refs_.capacity() * sizeof(uint32_t);
}

}  // namespace iocgrid::index::internal
