#include <algorithm>
#include <bitset>
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
    current = snap;
  }
  if (psi) WakePsi();
  // Kept for the next start by the background thread (the newest snapshot only): a write
  // request returns once its data is matchable, not once gigabytes are on disk.
  if (options.persist_index) {
    {
      MutexLock lock(bg_mu);
      persist_pending = std::move(snap);
    }
    bg_cv.SignalAll();
  }
  return Status();
}

void Node::Impl::PersistPending() {
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(bg_mu);
    snap = std::move(persist_pending);
    persist_pending.reset();
  }
  if (!snap) return;
  // A failure costs the next start a rebuild only.
  if (Status persisted = PersistSnapshot(*snap); !persisted.ok()) {
    std::fprintf(stderr, "iocgrid node: keeping the index for the next start: %s\n",
                 persisted.ToString().c_str());
  }
}

std::string Node::Impl::SnapshotPath() const { return options.data_dir + "/index.snapshot"; }

Status Node::Impl::PersistSnapshot(const IndexSnapshot& snap) {
  const json meta = {{"data_generation", snap.data_generation},
                     {"psi", snap.psi},
                     {"v4", snap.ip_prefix_lengths.v4.to_string()},
                     {"v6", snap.ip_prefix_lengths.v6.to_string()}};
  return snap.index->SaveToFile(SnapshotPath(), meta.dump(), snap.attribute_ids);
}

namespace {

// A bitset's to_string() back, or false (bitset's own constructor throws on other text).
template <size_t N>
bool BitsFrom(const json& j, std::bitset<N>* out) {
  if (!j.is_string()) return false;
  const std::string text = j.get<std::string>();
  if (text.size() != N || text.find_first_not_of("01") != std::string::npos) return false;
  *out = std::bitset<N>(text);
  return true;
}

}  // namespace

Result<bool> Node::Impl::LoadPersistedSnapshot() {
  if (!options.persist_index) return false;
  MutexLock rebuild_lock(rebuild_mu);
  auto snap = std::make_shared<IndexSnapshot>();
  snap->psi = psi_on.load();
  // As Rebuild: the queue's high water before the generation the file must match, so that the
  // precompute re-tags from it only changes it holds.
  if (snap->psi) {
    IOCGRID_ASSIGN_OR_RETURN(snap->psi_dirty_upto, store->PsiDirtyHighWater());
  }
  snap->generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(snap->data_generation, store->DataGeneration());
  std::string meta_text;
  auto index = index::MatchIndex::LoadFromFile(SnapshotPath(), &meta_text, &snap->attribute_ids);
  if (!index.ok()) {
    if (index.status().code() != StatusCode::kNotFound) {
      std::fprintf(stderr, "iocgrid node: not using the kept index (%s); rebuilding it\n",
                   std::string(index.status().message()).c_str());
    }
    return false;
  }
  const json meta = json::parse(meta_text, nullptr, false);
  if (!meta.is_object() || !meta.contains("data_generation") ||
      !meta["data_generation"].is_number_unsigned() || !meta.contains("psi") ||
      !meta["psi"].is_boolean() || !meta.contains("v4") ||
      !BitsFrom(meta["v4"], &snap->ip_prefix_lengths.v4) || !meta.contains("v6") ||
      !BitsFrom(meta["v6"], &snap->ip_prefix_lengths.v6)) {
    std::fprintf(stderr, "iocgrid node: the kept index has unusable metadata; rebuilding it\n");
    return false;
  }
  // Written for other data (a write since, by any process) or another private-search state.
  if (meta["data_generation"].get<uint64_t>() != snap->data_generation ||
      meta["psi"].get<bool>() != snap->psi) {
    return false;
  }
  snap->index = std::move(*index);
  snap->from_file = true;
  MutexLock lock(snapshot_mu);
  current = std::move(snap);
  return true;
}

void Node::Impl::StartBackground() {
  bg_thread = std::thread([this] { BackgroundLoop(); });
}

void Node::Impl::BackgroundLoop() {
  bg_mu.Lock();
  while (true) {
    while (!bg_requested && !bg_stop && !persist_pending) bg_cv.Wait(bg_mu);
    const bool rebuild = bg_requested && !bg_stop;
    bg_requested = false;
    const bool stop = bg_stop;
    bg_mu.Unlock();
    if (rebuild) {
      Status st = Rebuild();
      if (!st.ok()) {
        std::fprintf(stderr, "iocgrid node: index rebuild: %s\n", st.ToString().c_str());
      }
    }
    // Also on the way out: the last write's index is kept for the next start.
    PersistPending();
    bg_mu.Lock();
    if (stop) break;
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
