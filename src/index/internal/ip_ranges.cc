#include "index/internal/ip_ranges.h"

#include <algorithm>
#include <utility>

namespace iocgrid::index::internal {
namespace {

// Stable LSD radix sort on an unsigned key of `key_bits` bits, 16 bits per pass; a pass whose
// digit is the same for every element is skipped. Stability keeps insertion (entry) order among
// equal keys, which the posting lists rely on.
template <typename T, typename KeyFn>
void RadixSort(std::vector<T>& items, unsigned key_bits, KeyFn key) {
  constexpr size_t kDigits = size_t{1} << 16;
  std::vector<T> scratch(items.size());
  std::vector<size_t> count(kDigits + 1);
  for (unsigned shift = 0; shift < key_bits; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (const T& item : items) ++count[((key(item) >> shift) & 0xFFFF) + 1];
    if (std::find(count.begin(), count.end(), items.size()) != count.end()) continue;
    for (size_t d = 0; d < kDigits; ++d) count[d + 1] += count[d];
    for (const T& item : items) scratch[count[(key(item) >> shift) & 0xFFFF]++] = item;
    items.swap(scratch);
  }
}

constexpr size_t kRadixThreshold = 1 << 14;

}  // namespace

template <typename A>
void IpRanges<A>::SortBuildItems() {
  if constexpr (sizeof(A) == 4) {
    if (build_nets_.size() >= kRadixThreshold) {
      RadixSort(build_nets_, 40,
                [](const NetItem& n) { return (uint64_t{n.start} << 8) | n.prefix; });
    } else {
      std::stable_sort(build_nets_.begin(), build_nets_.end(),
                       [](const NetItem& a, const NetItem& b) {
                         return a.start != b.start ? a.start < b.start : a.prefix < b.prefix;
                       });
    }
    if (build_addrs_.size() >= kRadixThreshold) {
      RadixSort(build_addrs_, 32, [](const AddrItem& a) { return uint64_t{a.addr}; });
    } else {
      std::stable_sort(build_addrs_.begin(), build_addrs_.end(),
                       [](const AddrItem& a, const AddrItem& b) { return a.addr < b.addr; });
    }
  } else {
    std::stable_sort(build_nets_.begin(), build_nets_.end(),
                     [](const NetItem& a, const NetItem& b) {
                       return a.start != b.start ? a.start < b.start : a.prefix < b.prefix;
                     });
    std::stable_sort(build_addrs_.begin(), build_addrs_.end(),
                     [](const AddrItem& a, const AddrItem& b) { return a.addr < b.addr; });
  }
}

template <typename A>
void IpRanges<A>::Finish() {
  // Items arrive in entry order; sorting stably by (start, prefix) keeps entries ascending
  // inside each network's posting list.
  SortBuildItems();

  // Distinct networks with posting lists.
  starts_.clear();
  prefixes_.clear();
  post_begin_.clear();
  postings_.clear();
  postings_.reserve(build_nets_.size());
  for (size_t i = 0; i < build_nets_.size(); ++i) {
    const NetItem& item = build_nets_[i];
    if (i == 0 || !(item.start == starts_.back()) || item.prefix != prefixes_.back()) {
      starts_.push_back(item.start);
      prefixes_.push_back(item.prefix);
      post_begin_.push_back(static_cast<uint32_t>(postings_.size()));
    }
    postings_.push_back(item.entry);
  }
  post_begin_.push_back(static_cast<uint32_t>(postings_.size()));
  starts_.shrink_to_fit();
  prefixes_.shrink_to_fit();
  post_begin_.shrink_to_fit();

  // Parent links. Walking in (start, prefix ascending) order, the stack holds the chain of
  // networks containing the current start, outermost at the bottom: pop those that end before
  // it; what remains on top is its smallest container.
  parents_.assign(starts_.size(), kNone);
  std::vector<uint32_t> stack;
  for (size_t i = 0; i < starts_.size(); ++i) {
    while (!stack.empty() &&
           NetworkLast(starts_[stack.back()], prefixes_[stack.back()]) < starts_[i]) {
      stack.pop_back();
    }
    if (!stack.empty()) parents_[i] = stack.back();
    stack.push_back(static_cast<uint32_t>(i));
  }

  addrs_.resize(build_addrs_.size());
  addr_entries_.resize(build_addrs_.size());
  for (size_t i = 0; i < build_addrs_.size(); ++i) {
    addrs_[i] = build_addrs_[i].addr;
    addr_entries_[i] = build_addrs_[i].entry;
  }
  std::vector<NetItem>().swap(build_nets_);
  std::vector<AddrItem>().swap(build_addrs_);

  if constexpr (sizeof(A) == 4) {
    dir_.clear();
    if (!starts_.empty()) {
      dir_.resize((size_t{1} << 16) + 1);
      size_t i = 0;
      for (size_t h = 0; h <= (size_t{1} << 16); ++h) {
        uint64_t bucket_start = uint64_t{h} << 16;
        while (i < starts_.size() && starts_[i] < bucket_start) ++i;
        dir_[h] = static_cast<uint32_t>(i);
      }
    }
  }
}

template class IpRanges<uint32_t>;
template class IpRanges<Ip6>;

}  // namespace iocgrid::index::internal
