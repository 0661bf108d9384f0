#include "extract/internal/claim_set.h"

#include <cstring>

namespace iocgrid::extract::internal {

void ClaimSet::Reset(size_t size) {
  size_ = size;
  for (auto& pages : pages_) {
    for (Page& page : pages) {
      if (page) spare_.push_back(std::move(page));
    }
    pages.clear();
    pages.resize((size + kPageBits - 1) / kPageBits);
  }
}

size_t ClaimSet::RetainedBytes() const {
  size_t bytes = spare_.capacity() * sizeof(Page) + spare_.size() * kPageWords * sizeof(uint64_t);
  for (const auto& pages : pages_) {
    bytes += pages.capacity() * sizeof(Page);
    for (const Page& page : pages) bytes += page ? kPageWords * sizeof(uint64_t) : 0;
  }
  return bytes;
}

ClaimSet::Page ClaimSet::NewPage() {
  if (spare_.empty()) return std::make_unique<uint64_t[]>(kPageWords);  // zeroed
  Page page = std::move(spare_.back());
  spare_.pop_back();
  std::memset(page.get(), 0, kPageWords * sizeof(uint64_t));
  return page;
}

}  // namespace iocgrid::extract::internal
