#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/json_depth.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "net/http_error.h"
#include "net/router.h"
#include "node/internal/describe_types.h"
#include "node/internal/grid.h"
#include "node/internal/misp_dto.h"
#include "node/internal/node_impl.h"
#include "node/internal/search_params.h"
#include "psi/keys.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

Status Node::Impl::Rebuild() {
  MutexLock rebuild_lock(rebuild_mu);
  uint64_t generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(uint64_t data_generation, store->DataGeneration());
  const bool psi = psi_on.load();
  {
    MutexLock lock(snapshot_mu);
    if (current && current->generation == generation &&
        current->data_generation == data_generation && current->psi == psi) {
      return Status();
    }
  }
  auto snap = std::make_shared<IndexSnapshot>();
  snap->generation = generation;
  snap->data_generation = data_generation;
  snap->psi = psi;
  // Read before the attributes: every queued change up to here is in the scan below, so the
  // precompute may re-tag it from this snapshot (psi_precompute.cc).
  if (psi) {
    IOCGRID_ASSIGN_OR_RETURN(snap->psi_dirty_upto, store->PsiDirtyHighWater());
  }
  index::MatchIndex::Builder builder;
  core::Indicator indicator;
  Status st = store->ForEachLiveAttribute([&](const store::LiveAttribute& a) {
    indicator.type = a.type;
    indicator.value.assign(a.value);
    if (psi) psi::CollectPrefixLengths(indicator, &snap->ip_prefix_lengths);
    IOCGRID_RETURN_IF_ERROR(
        builder.Add(indicator, static_cast<index::RecordId>(snap->attribute_ids.size())));
    snap->attribute_ids.push_back(a.id);
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  snap->index = builder.Build();
  {
    MutexLock lock(snapshot_mu);
    current = std::move(snap);
  }
  if (psi) WakePsi();
  return Status();
}

void Node::Impl::StartBackground() {
  bg_thread = std::thread([this] { BackgroundLoop(); });
}

void Node::Impl::BackgroundLoop() {
  bg_mu.Lock();
  while (true) {
    while (!bg_requested && !bg_stop) bg_cv.Wait(bg_mu);
    if (bg_stop) break;
    bg_requested = false;
    bg_mu.Unlock();
    Status st = Rebuild();
    if (!st.ok()) std::fprintf(stderr, "iocgrid node: index rebuild: %s\n", st.ToString().c_str());
    bg_mu.Lock();
  }
  bg_mu.Unlock();
}

void Node::Impl::StopBackground() {
  {
    MutexLock lock(bg_mu);
    bg_stop = true;
  }
  bg_cv.SignalAll();
  if (bg_thread.joinable()) bg_thread.join();
}

void Node::Impl::RefreshIfStale(const IndexSnapshot& snap) {
  auto data_generation = store->DataGeneration();
  if (!data_generation.ok() || *data_generation == snap.data_generation) return;
  MutexLock lock(bg_mu);
  bg_requested = true;
  bg_cv.SignalAll();
}

}  // namespace iocgrid::node
