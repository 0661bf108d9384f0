// HugePageAllocator: a std::allocator replacement for the index's large arrays (internal to
// index/). Allocations of 2 MiB or more are 2 MiB-aligned and advised to use transparent huge
// pages (MADV_HUGEPAGE), so that random lookups in a multi-GB index miss the TLB far less often
// (each 4 KiB page would cost a page walk on top of the cache miss). Smaller allocations use the
// ordinary heap. Where THP is disabled the advice is a no-op.
//
// Thread-safety: stateless; as std::allocator.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <vector>

namespace iocgrid::index::internal {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    void* p = ::operator new (Rounded(bytes), std::align_val_t{kHugePageBytes});
    // Advice only: failure leaves ordinary pages, which are correct, just slower.
    (void)::madvise(p, Rounded(bytes), MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }

  void deallocate(T* p, size_t n) noexcept {
    size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      ::operator delete(p);
    } else {
      ::operator delete (p, std::align_val_t{kHugePageBytes});
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static size_t Rounded(size_t bytes) {
    return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  }
};

template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace iocgrid::index::internal
