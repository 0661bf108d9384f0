// Transparent huge pages for large arrays: the index's tables, sift's observable tables, a file
// read whole. Each first touch of a 4 KiB page is a page fault (on a virtual machine, a third of
// `iocgrid match`'s time before), and each random lookup in a multi-MB table also costs a TLB
// miss. 2 MiB pages cut both 512-fold where the kernel allows THP "madvise" or "always";
// elsewhere the advice does nothing and the memory is correct, just slower.
//
// AdviseHugePages: advise the 2 MiB-aligned interior of any buffer.
// HugePageAllocator / HugeVector: a std::allocator whose allocations of 2 MiB or more are
// 2 MiB-aligned and advised; smaller ones use the ordinary heap.
//
// Thread-safety: stateless; system calls on the caller's own memory.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace iocgrid {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

inline void AdviseHugePages(void* data, size_t size) {
#ifdef MADV_HUGEPAGE
  // The aligned range is found by offsets from `data`, so no pointer is made from an integer.
  constexpr uintptr_t kHuge = kHugePageBytes;
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t last = (begin + size) & ~(kHuge - 1);
  if (last > first)
    madvise(static_cast<char*>(data) + (first - begin), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)size;
#endif
}

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

}  // namespace iocgrid
