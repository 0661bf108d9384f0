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

namespace {

// One scan of the store's live attributes into a base index.
struct Base {
  std::shared_ptr<const index::MatchIndex> index;
  std::shared_ptr<const std::vector<int64_t>> ids;
  psi::PrefixLengths prefix_lengths;
};

Result<Base> ScanBase(store::Store& store, bool psi) {
  auto ids = std::make_shared<std::vector<int64_t>>();
  Base base;
  index::MatchIndex::Builder builder;
  core::Indicator indicator;
  Status scanned = store.ForEachLiveAttribute([&](const store::LiveAttribute& a) {
    indicator.type = a.type;
    indicator.value.assign(a.value);
    if (psi) psi::CollectPrefixLengths(indicator, &base.prefix_lengths);
    IOCGRID_RETURN_IF_ERROR(builder.Add(indicator, static_cast<index::RecordId>(ids->size())));
    ids->push_back(a.id);
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(scanned);
  base.index = builder.Build();
  base.ids = std::move(ids);
  return base;
}

// An attribute's entry in a delta layer.
struct Entry {
  int64_t id;
  core::Indicator indicator;
};

// The live rows of `ids` now.
Result<std::vector<Entry>> LiveEntries(store::Store& store, std::span<const int64_t> ids, bool psi,
                                       psi::PrefixLengths* prefix_lengths) {
  std::vector<Entry> out;
  Status read = store.ForEachLiveAttributeIn(ids, [&](const store::LiveAttribute& a) {
    Entry e{a.id, core::Indicator{}};
    e.indicator.type = a.type;
    e.indicator.value.assign(a.value);
    if (psi) psi::CollectPrefixLengths(e.indicator, prefix_lengths);
    out.push_back(std::move(e));
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(read);
  return out;
}

std::vector<Entry> EntriesOf(const DeltaLayer& layer) {
  std::vector<Entry> out;
  out.reserve(layer.entries());
  for (uint32_t e = 0; e < layer.entries(); ++e) {
    out.push_back(Entry{
        layer.attribute_ids[layer.index->entry_record(e)],
        core::Indicator{layer.index->entry_type(e), std::string(layer.index->entry_value(e))}});
  }
  return out;
}

std::vector<int64_t> Union(std::span<const int64_t> a, std::span<const int64_t> b) {
  std::vector<int64_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// A layer restating `changed`: `old`'s entries of attributes not in `replaced` (sorted), and
// `added` (in attribute order), merged so that record order stays attribute order.
Result<std::shared_ptr<const DeltaLayer>> MakeLayer(const DeltaLayer* old,
                                                    std::span<const int64_t> replaced,
                                                    const std::vector<Entry>& added,
                                                    std::vector<int64_t> changed) {
  auto layer = std::make_shared<DeltaLayer>();
  layer->changed = std::move(changed);
  index::MatchIndex::Builder builder;
  auto add = [&](int64_t id, const core::Indicator& indicator) -> Status {
    IOCGRID_RETURN_IF_ERROR(
        builder.Add(indicator, static_cast<index::RecordId>(layer->attribute_ids.size())));
    layer->attribute_ids.push_back(id);
    return Status();
  };
  size_t f = 0;
  core::Indicator kept;
  if (old != nullptr && old->index) {
    for (uint32_t e = 0; e < old->entries(); ++e) {
      const int64_t id = old->attribute_ids[old->index->entry_record(e)];
      if (std::binary_search(replaced.begin(), replaced.end(), id)) continue;
      for (; f < added.size() && added[f].id < id; ++f) {
        IOCGRID_RETURN_IF_ERROR(add(added[f].id, added[f].indicator));
      }
      kept.type = old->index->entry_type(e);
      kept.value.assign(old->index->entry_value(e));
      IOCGRID_RETURN_IF_ERROR(add(id, kept));
    }
  }
  for (; f < added.size(); ++f) IOCGRID_RETURN_IF_ERROR(add(added[f].id, added[f].indicator));
  if (builder.size() > 0) layer->index = builder.Build();
  return std::shared_ptr<const DeltaLayer>(std::move(layer));
}

// `old` (null: none yet) with the attributes in `changes` (sorted) restated as they are now: the
// newer layer is rebuilt, and folded into the older once it restates `fold_at`, so that a write
// costs the small layer and the large one is rebuilt once per `fold_at` writes.
Result<std::shared_ptr<const IndexDelta>> NextDelta(store::Store& store, const IndexDelta* old,
                                                    std::span<const int64_t> changes,
                                                    size_t fold_at, bool psi,
                                                    psi::PrefixLengths* prefix_lengths) {
  static const auto kEmpty = std::make_shared<const DeltaLayer>();
  IOCGRID_ASSIGN_OR_RETURN(std::vector<Entry> fresh,
                           LiveEntries(store, changes, psi, prefix_lengths));
  auto delta = std::make_shared<IndexDelta>();
  delta->older = old != nullptr ? old->older : kEmpty;
  const DeltaLayer* newer = old != nullptr ? old->newer.get() : nullptr;
  IOCGRID_ASSIGN_OR_RETURN(
      delta->newer,
      MakeLayer(newer, changes, fresh,
                newer != nullptr ? Union(newer->changed, changes)
                                 : std::vector<int64_t>(changes.begin(), changes.end())));
  if (delta->newer->changed.size() >= fold_at) {
    IOCGRID_ASSIGN_OR_RETURN(
        delta->older, MakeLayer(delta->older.get(), delta->newer->changed, EntriesOf(*delta->newer),
                                Union(delta->older->changed, delta->newer->changed)));
    delta->newer = kEmpty;
  }
  return std::shared_ptr<const IndexDelta>(std::move(delta));
}

}  // namespace

Status Node::Impl::Refresh() {
  MutexLock rebuild_lock(rebuild_mu);
  return RefreshLocked();
}

Status Node::Impl::RefreshLocked() {
  // Read before the changes: the snapshot made holds at least what these name.
  const uint64_t generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(uint64_t data_generation, store->DataGeneration());
  const bool psi = psi_on.load();
  std::shared_ptr<const IndexSnapshot> old;
  {
    MutexLock lock(snapshot_mu);
    old = current;
  }
  if (old && old->generation == generation && old->data_generation == data_generation &&
      old->psi == psi) {
    return Status();
  }
  if (!old || old->psi != psi) return RebuildLocked();
  auto snap = std::make_shared<IndexSnapshot>(*old);
  snap->generation = generation;
  snap->data_generation = data_generation;
  // As in a rebuild: the stale-attribute queue's high water before the data it bounds.
  if (psi) {
    IOCGRID_ASSIGN_OR_RETURN(snap->psi_dirty_upto, store->PsiDirtyHighWater());
  }
  IOCGRID_ASSIGN_OR_RETURN(store::IndexChanges changes,
                           store->ReadIndexChanges(old->change_seq, options.index_delta_max));
  // Too much for a delta (a bulk import), or the log no longer reaches back to the snapshot.
  if (changes.overflow || changes.gap) return RebuildLocked();
  if (!changes.attribute_ids.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(snap->delta,
                             NextDelta(*store, old->delta.get(), changes.attribute_ids,
                                       options.index_fold_at, psi, &snap->ip_prefix_lengths));
  }
  snap->change_seq = changes.upto;
  const bool merge = snap->changed_since_base() >= options.index_merge_at;
  {
    MutexLock lock(snapshot_mu);
    current = std::move(snap);
  }
  if (psi) WakePsi();
  if (merge) {
    MutexLock lock(bg_mu);
    merge_requested = true;
    bg_cv.SignalAll();
  }
  return Status();
}

Status Node::Impl::RebuildLocked() {
  auto snap = std::make_shared<IndexSnapshot>();
  snap->generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(snap->data_generation, store->DataGeneration());
  snap->psi = psi_on.load();
  // Read before the attributes: every queued change up to here is in the scan below, so the
  // precompute may re-tag it from this snapshot (psi_precompute.cc), and the delta of later
  // writes starts after the change log's high water.
  if (snap->psi) {
    IOCGRID_ASSIGN_OR_RETURN(snap->psi_dirty_upto, store->PsiDirtyHighWater());
  }
  IOCGRID_ASSIGN_OR_RETURN(snap->base_seq, store->IndexChangeHighWater());
  snap->change_seq = snap->base_seq;
  IOCGRID_ASSIGN_OR_RETURN(Base base, ScanBase(*store, snap->psi));
  snap->index = std::move(base.index);
  snap->base_ids = std::move(base.ids);
  snap->ip_prefix_lengths = base.prefix_lengths;
  InstallBase(std::move(snap));
  return Status();
}

void Node::Impl::InstallBase(std::shared_ptr<const IndexSnapshot> snap) {
  {
    MutexLock lock(snapshot_mu);
    current = snap;
  }
  merges.fetch_add(1, std::memory_order_relaxed);
  if (snap->psi) WakePsi();
  // Kept for the next start by the background thread (the newest base only), which then trims
  // the change log up to it; a write request returns once its data is matchable, not once
  // gigabytes are on disk.
  MutexLock lock(bg_mu);
  base_pending = std::move(snap);
  bg_cv.SignalAll();
}

Status Node::Impl::Merge() {
  MutexLock merge_lock(merge_mu);
  const bool psi = psi_on.load();
  // The scan runs without rebuild_mu: writes keep landing in the old base's delta meanwhile.
  IOCGRID_ASSIGN_OR_RETURN(int64_t seq, store->IndexChangeHighWater());
  IOCGRID_ASSIGN_OR_RETURN(Base base, ScanBase(*store, psi));
  MutexLock rebuild_lock(rebuild_mu);
  std::shared_ptr<const IndexSnapshot> old;
  {
    MutexLock lock(snapshot_mu);
    old = current;
  }
  // A rebuild since the scan began has a base at least as new.
  if (!old || old->psi != psi || old->base_seq >= seq) return Status();
  auto snap = std::make_shared<IndexSnapshot>();
  snap->psi = psi;
  snap->generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(snap->data_generation, store->DataGeneration());
  if (psi) {
    IOCGRID_ASSIGN_OR_RETURN(snap->psi_dirty_upto, store->PsiDirtyHighWater());
  }
  snap->index = std::move(base.index);
  snap->base_ids = std::move(base.ids);
  snap->ip_prefix_lengths = base.prefix_lengths;
  snap->base_seq = seq;
  // The writes during the scan: a delta on the new base (the scan may hold some of them
  // already; a delta entry replaces the base's either way).
  IOCGRID_ASSIGN_OR_RETURN(store::IndexChanges changes,
                           store->ReadIndexChanges(seq, options.index_delta_max));
  if (changes.overflow || changes.gap) return RebuildLocked();
  if (!changes.attribute_ids.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(
        snap->delta, NextDelta(*store, nullptr, changes.attribute_ids, options.index_fold_at, psi,
                               &snap->ip_prefix_lengths));
  }
  snap->change_seq = changes.upto;
  InstallBase(std::move(snap));
  return Status();
}

void Node::Impl::PersistPending() {
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(bg_mu);
    snap = std::move(base_pending);
    base_pending.reset();
  }
  if (!snap) return;
  if (options.persist_index) {
    // A failure costs the next start a rebuild only; the change log is then kept.
    if (Status persisted = PersistSnapshot(*snap); !persisted.ok()) {
      std::fprintf(stderr, "iocgrid node: keeping the index for the next start: %s\n",
                   persisted.ToString().c_str());
      return;
    }
  }
  // What the base (and the kept file) holds is no longer needed from the log.
  if (Status trimmed = store->TrimIndexChanges(snap->base_seq); !trimmed.ok()) {
    std::fprintf(stderr, "iocgrid node: trimming the index change log: %s\n",
                 trimmed.ToString().c_str());
  }
}

std::string Node::Impl::SnapshotPath() const { return options.data_dir + "/index.snapshot"; }

Status Node::Impl::PersistSnapshot(const IndexSnapshot& snap) {
  const json meta = {{"base_seq", snap.base_seq},
                     {"psi", snap.psi},
                     {"v4", snap.ip_prefix_lengths.v4.to_string()},
                     {"v6", snap.ip_prefix_lengths.v6.to_string()}};
  return snap.index->SaveToFile(SnapshotPath(), meta.dump(), *snap.base_ids);
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
  std::string meta_text;
  auto ids = std::make_shared<std::vector<int64_t>>();
  auto index = index::MatchIndex::LoadFromFile(SnapshotPath(), &meta_text, ids.get());
  if (!index.ok()) {
    if (index.status().code() != StatusCode::kNotFound) {
      std::fprintf(stderr, "iocgrid node: not using the kept index (%s); rebuilding it\n",
                   std::string(index.status().message()).c_str());
    }
    return false;
  }
  const json meta = json::parse(meta_text, nullptr, false);
  if (!meta.is_object() || !meta.contains("base_seq") || !meta["base_seq"].is_number_integer() ||
      meta["base_seq"].get<int64_t>() < 0 || !meta.contains("psi") || !meta["psi"].is_boolean() ||
      !meta.contains("v4") || !BitsFrom(meta["v4"], &snap->ip_prefix_lengths.v4) ||
      !meta.contains("v6") || !BitsFrom(meta["v6"], &snap->ip_prefix_lengths.v6)) {
    // Also a file from before the change log (schema 5), which named a data generation.
    std::fprintf(stderr, "iocgrid node: the kept index has unusable metadata; rebuilding it\n");
    return false;
  }
  // Written under another private-search state: its prefix lengths are not this one's.
  if (meta["psi"].get<bool>() != snap->psi) return false;
  snap->index = std::move(*index);
  snap->base_ids = std::move(ids);
  snap->base_seq = meta["base_seq"].get<int64_t>();
  snap->change_seq = snap->base_seq;
  snap->from_file = true;
  // Stale on purpose: the refresh below reads the change log from the file's sequence number,
  // as a delta, or rebuilds when the log no longer reaches back that far or holds too much.
  snap->data_generation = UINT64_MAX;
  {
    MutexLock lock(snapshot_mu);
    current = std::move(snap);
  }
  IOCGRID_RETURN_IF_ERROR(RefreshLocked());
  return true;
}

void Node::Impl::StartBackground() {
  bg_thread = std::thread([this] { BackgroundLoop(); });
}

void Node::Impl::BackgroundLoop() {
  bg_mu.Lock();
  while (true) {
    while (!bg_requested && !merge_requested && !bg_stop && !base_pending) bg_cv.Wait(bg_mu);
    const bool refresh = bg_requested && !bg_stop;
    const bool merge = merge_requested && !bg_stop;
    bg_requested = false;
    merge_requested = false;
    const bool stop = bg_stop;
    bg_mu.Unlock();
    if (refresh) {
      if (Status st = Refresh(); !st.ok()) {
        std::fprintf(stderr, "iocgrid node: index refresh: %s\n", st.ToString().c_str());
      }
    }
    if (merge) {
      if (Status st = Merge(); !st.ok()) {
        std::fprintf(stderr, "iocgrid node: index merge: %s\n", st.ToString().c_str());
      }
    }
    // Also on the way out: the last base is kept for the next start.
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
