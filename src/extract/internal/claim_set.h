// Claims: each scanner marks the bytes it takes, and later (less specific) scanners skip tokens
// overlapping stronger claims (docs/extract.md, "Scanners").
//
// Thread-safety: one ClaimSet per Extract() call (it lives in the call's Workspace).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace iocgrid::extract::internal {

// The kinds nest: a query for URL claims, for URL or path claims, for URL, path or e-mail claims,
// or for any claim. So a byte's claim is one level, the strongest kind covering it, and the set
// keeps one bit array per level ("level >= k"): a quarter of the memory of a byte per position,
// and word-wide range queries.
enum ClaimLevel : uint8_t {
  kClaimAny = 0,  // file names, hosts, hashes and the rest
  kClaimEmail = 1,
  kClaimPath = 2,
  kClaimUrl = 3,
};
constexpr int kClaimLevels = 4;

// Claim() and Claimed() run for every token of every scanner, and the library is built without
// link-time optimization: they are defined here so that each scanner's file can inline them.
class ClaimSet {
 public:
  // Empties the set and sizes it for `size` positions. The pages it has go to a spare list and
  // are zeroed when claimed again, so that a reused set costs nothing where nothing is claimed.
  void Reset(size_t size);

  // The memory the set holds.
  size_t RetainedBytes() const;

  // Marks [start, end) with `level` (and so every weaker level).
  void Claim(size_t start, size_t end, ClaimLevel level) {
    end = std::min(end, size_);
    if (start >= end) return;
    for (int l = 0; l <= level; ++l) SetRange(pages_[l], start, end);
  }

  // Whether a byte of [start, end) holds a claim of `level` or stronger.
  bool Claimed(size_t start, size_t end, ClaimLevel level) const {
    end = std::min(end, size_);
    if (start >= end) return false;
    const Pages& pages = pages_[level];
    size_t first = start / 64;
    size_t last = (end - 1) / 64;
    uint64_t head = ~uint64_t{0} << (start % 64);
    uint64_t tail = ~uint64_t{0} >> (63 - (end - 1) % 64);
    if (first == last) return (Word(pages, first) & head & tail) != 0;
    if ((Word(pages, first) & head) != 0 || (Word(pages, last) & tail) != 0) return true;
    for (size_t w = first + 1; w < last; ++w) {
      if (Word(pages, w) != 0) return true;
    }
    return false;
  }

 private:
  // Bits in pages of 4096 positions, allocated on first claim: the stronger
  // levels (URLs, paths, e-mail) are sparse in any text, and prose leaves every
  // level nearly empty.
  static constexpr size_t kPageWords = 64;
  static constexpr size_t kPageBits = kPageWords * 64;
  using Page = std::unique_ptr<uint64_t[]>;
  using Pages = std::vector<Page>;

  static uint64_t Word(const Pages& pages, size_t w) {
    const Page& page = pages[w / kPageWords];
    return page ? page[w % kPageWords] : 0;
  }
  uint64_t& MutableWord(Pages& pages, size_t w) {
    Page& page = pages[w / kPageWords];
    if (!page) page = NewPage();
    return page[w % kPageWords];
  }
  // A zeroed page: a spare one when there is one.
  Page NewPage();
  void SetRange(Pages& pages, size_t start, size_t end) {
    size_t first = start / 64;
    size_t last = (end - 1) / 64;
    uint64_t head = ~uint64_t{0} << (start % 64);
    uint64_t tail = ~uint64_t{0} >> (63 - (end - 1) % 64);
    if (first == last) {
      MutableWord(pages, first) |= head & tail;
      return;
    }
    MutableWord(pages, first) |= head;
    for (size_t w = first + 1; w < last; ++w) MutableWord(pages, w) = ~uint64_t{0};
    MutableWord(pages, last) |= tail;
  }

  size_t size_ = 0;
  Pages pages_[kClaimLevels];
  Pages spare_;  // zeroed on reuse
};

}  // namespace iocgrid::extract::internal
