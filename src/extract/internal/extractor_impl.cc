#include "extract/internal/extractor_impl.h"

namespace iocgrid::extract {
namespace internal {

void Workspace::Clear() {
  normalized.clear();
  edits.clear();
  edit_blocks.clear();
  refang_matches.clear();
  events.clear();
  for (auto& v : by_anchor) v.clear();
  hex_runs.clear();
  entries.clear();
  table.clear();
  values.clear();
  order.clear();
}

size_t Workspace::RetainedBytes() const {
  size_t bytes =
      normalized.capacity() + edits.capacity() * sizeof(Edit) +
      edit_blocks.capacity() * sizeof(uint64_t) + refang_matches.capacity() * sizeof(RefangMatch) +
      events.capacity() * sizeof(Event) + hex_runs.capacity() * sizeof(HexRun) +
      claims.RetainedBytes() + entries.capacity() * sizeof(Entry) +
      table.capacity() * sizeof(uint32_t) + values.capacity() + order.capacity() * sizeof(uint32_t);
  for (const auto& v : by_anchor) bytes += v.capacity() * sizeof(Pos);
  return bytes;
}

}  // namespace internal

using internal::HsScratch;
using internal::Workspace;

HsScratch Extractor::Impl::Borrow() const {
  {
    MutexLock lock(pool_mu);
    if (!pool.empty()) {
      HsScratch s = std::move(pool.back());
      pool.pop_back();
      return s;
    }
  }
  hs_scratch_t* s = nullptr;
  if (hs_clone_scratch(prototype.get(), &s) != HS_SUCCESS) return nullptr;
  return HsScratch(s);
}

void Extractor::Impl::Return(HsScratch s) const {
  MutexLock lock(pool_mu);
  if (pool.size() < 16) pool.push_back(std::move(s));
}

std::unique_ptr<Workspace> Extractor::Impl::BorrowWorkspace() const {
  {
    MutexLock lock(pool_mu);
    if (!workspaces.empty()) {
      std::unique_ptr<Workspace> ws = std::move(workspaces.back());
      workspaces.pop_back();
      pooled_bytes -= ws->RetainedBytes();
      return ws;
    }
  }
  return std::make_unique<Workspace>();
}

void Extractor::Impl::ReturnWorkspace(std::unique_ptr<Workspace> ws) const {
  ws->Clear();
  size_t bytes = ws->RetainedBytes();
  MutexLock lock(pool_mu);
  if (pooled_bytes + bytes <= kMaxPooledBytes && workspaces.size() < 16) {
    pooled_bytes += bytes;
    workspaces.push_back(std::move(ws));
  }
  // Otherwise `ws` is freed here, outside the budget.
}

}  // namespace iocgrid::extract
