// Private search's member side (docs/private-search.md "Member store"): the OPRF key, created on
// first use, and the precompute that keeps a tag and a sealed label for every key string of the
// node's live data. The store's triggers queue each changed attribute (with its old value); a
// background thread drains the queue in batches: the keys each attribute had and has, the
// entries behind each key found through the index snapshot (ProbeForKey, then MemberKeys as the
// definition), one OPRF evaluation per new key (a changed label reuses the stored output), and
// one store transaction per batch.
#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "core/indicator.h"
#include "index/match_index.h"
#include "node/internal/grid.h"
#include "node/internal/node_impl.h"
#include "psi/keys.h"
#include "psi/oprf.h"

namespace iocgrid::node {

namespace {

std::string_view View(const std::array<uint8_t, psi::kTagBytes>& tag) {
  return {reinterpret_cast<const char*>(tag.data()), tag.size()};
}

// The keys that stale attributes had before their change and have now (deleted ones: none).
Result<std::vector<std::string>> StaleKeys(store::Store& store,
                                           const std::vector<store::PsiDirty>& dirty,
                                           const psi::RangeOptions& ranges) {
  std::vector<std::string> keys;
  std::vector<int64_t> ids;
  for (const store::PsiDirty& d : dirty) {
    ids.push_back(d.attribute_id);
    if (d.old_type.empty()) continue;
    std::optional<core::IndicatorType> type = core::TypeFromName(d.old_type);
    if (!type) continue;  // the store only holds MISP type names
    psi::MemberKeys(core::Indicator{*type, d.old_value}, ranges, &keys);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  IOCGRID_ASSIGN_OR_RETURN(store::AttributeSearchResult now,
                           store.GetAttributes(ids, /*include_event_tags=*/false));
  for (const store::AttributeRecord& a : now.attributes) {
    psi::MemberKeys(core::Indicator{a.type, a.value}, ranges, &keys);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// The live attributes behind one key in `snap`, at most `cap` of them (lowest ids), and how
// many there are in all.
struct KeyEntries {
  std::vector<int64_t> attribute_ids;
  size_t total = 0;
};

KeyEntries EntriesOf(const IndexSnapshot& snap, const std::string& key,
                     const psi::RangeOptions& ranges, size_t cap) {
  KeyEntries out;
  Result<psi::KeyProbe> probe = psi::ProbeForKey(key);
  if (!probe.ok()) return out;
  index::MatchOptions match;
  match.relations = 0;
  if (probe->equal) {
    match.relations |= index::RelationBit(index::Relation::kExact) |
                       index::RelationBit(index::Relation::kComponent) |
                       index::RelationBit(index::Relation::kUrlHost);
  }
  if (probe->in_range) match.relations |= index::RelationBit(index::Relation::kInRange);
  std::vector<index::Hit> hits;
  snap.Match(probe->query, match, &hits);
  // The probe finds a superset; MemberKeys decides, so a label lists exactly what the key tags.
  std::vector<std::string> keys;
  core::Indicator entry;
  for (const index::Hit& h : hits) {
    entry.type = snap.entry_type(h.entry);
    entry.value.assign(snap.entry_value(h.entry));
    keys.clear();
    psi::MemberKeys(entry, ranges, &keys);
    if (!std::binary_search(keys.begin(), keys.end(), key)) continue;
    out.attribute_ids.push_back(snap.AttributeOf(h.record));
  }
  std::sort(out.attribute_ids.begin(), out.attribute_ids.end());
  out.attribute_ids.erase(std::unique(out.attribute_ids.begin(), out.attribute_ids.end()),
                          out.attribute_ids.end());
  out.total = out.attribute_ids.size();
  if (out.attribute_ids.size() > cap) out.attribute_ids.resize(cap);
  return out;
}

// A key's label before sealing: {"v":1,"class":...,"total":n,"truncated":b,"hits":[...]},
// each hit as /grid/v1/match writes it, without its relation (the querier decides that).
std::string LabelContent(std::string_view key_class, const KeyEntries& entries,
                         const std::unordered_map<int64_t, const store::AttributeRecord*>& by_id,
                         const store::AttributeSearchResult& rows, bool full_context) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.FieldInt("v", 1);
  w.Field("class", key_class);
  w.FieldInt("total", static_cast<int64_t>(entries.total));
  w.Field("truncated", entries.total > entries.attribute_ids.size());
  w.Key("hits");
  w.BeginArray();
  for (int64_t id : entries.attribute_ids) {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second->deleted) continue;  // gone since the snapshot
    const store::AttributeRecord& a = *it->second;
    w.BeginObject();
    if (full_context) {
      WriteHitContext(w, a, rows.FindEvent(a.event_id));
    } else {
      w.Field("matched", a.value);
      w.Field("type", core::TypeName(a.type));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

// F(k, key) for each key of `todo`, on `threads` threads (the scalar multiplications are
// the precompute's whole cost).
void EvaluateAll(const psi::OprfKey& key, const std::vector<const std::string*>& todo,
                 std::vector<psi::Point>* out, int threads) {
  out->resize(todo.size());
  const size_t n = todo.size();
  const size_t workers =
      std::clamp<size_t>(static_cast<size_t>(std::max(threads, 1)), 1, std::max<size_t>(1, n / 64));
  auto run = [&](size_t first, size_t step) {
    for (size_t i = first; i < n; i += step) (*out)[i] = key.EvaluateInput(*todo[i]);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(run, t, workers);
  run(0, workers);
  for (std::thread& t : pool) t.join();
}

// The rows to store for `keys`: a removal for a published key without entries now, else the
// tag, the OPRF output (stored or, for keys new to the epoch, evaluated here) and the label.
std::vector<store::PsiTagRow> BuildRows(const psi::OprfKey& key, uint32_t epoch,
                                        const std::vector<std::string>& keys,
                                        const std::vector<KeyEntries>& entries,
                                        const std::vector<store::PsiTagRow>& existing,
                                        const store::AttributeSearchResult& records,
                                        const PsiOptions& o) {
  std::unordered_map<int64_t, const store::AttributeRecord*> by_id;
  for (const store::AttributeRecord& a : records.attributes) by_id[a.id] = &a;

  std::unordered_map<std::string_view, const store::PsiTagRow*> stored;
  for (const store::PsiTagRow& r : existing) stored[r.key] = &r;
  std::vector<const std::string*> todo;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = stored.find(keys[i]);
    if (!entries[i].attribute_ids.empty() &&
        (it == stored.end() || it->second->prf.size() != psi::kPointBytes)) {
      todo.push_back(&keys[i]);
    }
  }
  std::vector<psi::Point> fresh;
  EvaluateAll(key, todo, &fresh, o.precompute_threads);
  std::unordered_map<std::string_view, const psi::Point*> computed;
  for (size_t i = 0; i < todo.size(); ++i) computed[*todo[i]] = &fresh[i];

  std::vector<store::PsiTagRow> rows;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = stored.find(keys[i]);
    store::PsiTagRow row;
    row.key = keys[i];
    if (entries[i].attribute_ids.empty()) {
      if (it == stored.end() || !it->second->live) continue;  // nothing was published
      row.live = false;
      rows.push_back(std::move(row));
      continue;
    }
    psi::Point prf;
    if (auto c = computed.find(keys[i]); c != computed.end()) {
      prf = *c->second;
    } else {
      std::copy_n(it->second->prf.begin(), psi::kPointBytes, reinterpret_cast<char*>(prf.data()));
    }
    psi::OprfOutput out = psi::DeriveOutput(keys[i], prf);
    const std::string_view cls = psi::KeyClass(keys[i]);
    row.below = cls == "below";
    row.tag = std::string(View(out.tag));
    row.prf = std::string(reinterpret_cast<const char*>(prf.data()), prf.size());
    row.label =
        psi::SealLabel(out, epoch, LabelContent(cls, entries[i], by_id, records, o.label_context));
    rows.push_back(std::move(row));
  }
  return rows;
}

// What a batch of key strings is tagged from: each key's entries in the snapshot and the
// attributes (with their events) its label describes.
struct Tagging {
  std::vector<KeyEntries> entries;
  store::AttributeSearchResult records;
};

Result<Tagging> TaggingOf(store::Store& store, const IndexSnapshot& snap,
                          const std::vector<std::string>& keys, const PsiOptions& o) {
  Tagging t;
  t.entries.reserve(keys.size());
  std::vector<int64_t> ids;
  for (const std::string& k : keys) {
    t.entries.push_back(EntriesOf(snap, k, o.ranges, o.max_label_entries));
    ids.insert(ids.end(), t.entries.back().attribute_ids.begin(),
               t.entries.back().attribute_ids.end());
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  IOCGRID_ASSIGN_OR_RETURN(t.records, store.GetAttributes(ids, /*include_event_tags=*/true));
  return t;
}

}  // namespace

Status Node::Impl::LoadPsiKey() {
  IOCGRID_ASSIGN_OR_RETURN(store::PsiKeys stored, store->GetPsiKeys());
  auto load = [](const std::optional<store::PsiKey>& k) -> Result<std::optional<EpochKey>> {
    if (!k) return std::optional<EpochKey>();
    auto bytes = std::span(reinterpret_cast<const uint8_t*>(k->secret.data()), k->secret.size());
    Result<psi::OprfKey> key = psi::OprfKey::FromBytes(bytes);
    if (!key.ok()) {
      return DataLossError("stored private-search key " + std::to_string(k->epoch) + ": " +
                           key.status().ToString());
    }
    return std::optional<EpochKey>(EpochKey{std::move(*key), k->epoch, k->changed});
  };
  IOCGRID_ASSIGN_OR_RETURN(std::optional<EpochKey> active, load(stored.active));
  IOCGRID_ASSIGN_OR_RETURN(std::optional<EpochKey> next, load(stored.preparing));
  IOCGRID_ASSIGN_OR_RETURN(std::optional<EpochKey> prev, load(stored.retired));
  if (!active) return Status();
  MutexLock lock(psi_mu);
  psi_key = std::move(active->key);
  psi_epoch = active->epoch;
  psi_next = std::move(next);
  psi_prev = std::move(prev);
  psi_on.store(true);
  return Status();
}

std::optional<psi::OprfKey> Node::Impl::PsiKeyOf(uint32_t epoch) {
  const int64_t now = options.store.clock.Now();
  MutexLock lock(psi_mu);
  if (psi_key && epoch == psi_epoch) return *psi_key;
  if (psi_prev && epoch == psi_prev->epoch &&
      now < psi_prev->changed + options.psi.previous_key_grace.count()) {
    return psi_prev->key;
  }
  return std::nullopt;
}

std::vector<Node::Impl::EpochKey> Node::Impl::PsiEpochsKept() {
  std::vector<EpochKey> out;
  MutexLock lock(psi_mu);
  if (psi_key) out.push_back(EpochKey{*psi_key, psi_epoch, 0});
  if (psi_next) out.push_back(*psi_next);
  if (psi_prev) out.push_back(*psi_prev);
  return out;
}

Result<std::pair<psi::OprfKey, uint32_t>> Node::Impl::EnsurePsiKey() {
  {
    MutexLock lock(psi_mu);
    if (psi_key) return std::pair(*psi_key, psi_epoch);
  }
  // First use. Creating the key queues every attribute; a concurrent first request (or another
  // process) may win the race, and then its key is the one.
  psi::OprfKey fresh = psi::OprfKey::Generate();
  Result<store::PsiKey> created = store->CreatePsiKey(fresh.Serialize());
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
    return created.status();
  }
  IOCGRID_RETURN_IF_ERROR(LoadPsiKey());
  // A snapshot with the prefix lengths and the queue's high water, then the precompute.
  IOCGRID_RETURN_IF_ERROR(Refresh());
  MutexLock lock(psi_mu);
  if (!psi_key) return InternalError("private-search key missing after creation");
  return std::pair(*psi_key, psi_epoch);
}

void Node::Impl::StartPsi() {
  psi_thread = std::thread([this] { PsiLoop(); });
}

void Node::Impl::StopPsi() {
  {
    MutexLock lock(psi_loop_mu);
    psi_stop = true;
  }
  psi_cv.SignalAll();
  if (psi_thread.joinable()) psi_thread.join();
}

void Node::Impl::WakePsi() {
  {
    MutexLock lock(psi_loop_mu);
    psi_wake = true;
  }
  psi_cv.SignalAll();
}

void Node::Impl::PsiLoop() {
  psi_loop_mu.Lock();
  while (!psi_stop) {
    if (!psi_wake) psi_cv.WaitFor(psi_loop_mu, options.psi.poll);
    if (psi_stop) break;
    psi_wake = false;
    psi_loop_mu.Unlock();
    if (psi_on.load()) {
      std::shared_ptr<const IndexSnapshot> snap;
      {
        MutexLock lock(snapshot_mu);
        snap = current;
      }
      // Another process's writes: the background rebuild makes a snapshot that covers them,
      // and wakes this loop again.
      RefreshIfStale(*snap);
      // A rotation begun (or a key created) by another process.
      if (Status st = LoadPsiKey(); !st.ok()) {
        std::fprintf(stderr, "iocgrid node: private-search keys: %s\n", st.ToString().c_str());
      }
      // Batches of changed data (into every kept epoch) alternate with a rotation's re-tag
      // batches, so that writes keep reaching the tags while a rotation runs.
      bool more = true;
      while (more) {
        more = false;
        for (auto step : {&Impl::PsiRefreshBatch, &Impl::PsiRotationStep}) {
          Result<bool> r = (this->*step)();
          if (!r.ok()) {
            std::fprintf(stderr, "iocgrid node: private-search precompute: %s\n",
                         r.status().ToString().c_str());
            more = false;
            break;
          }
          more = more || *r;
        }
        MutexLock lock(psi_loop_mu);
        if (psi_stop) break;
      }
    }
    psi_loop_mu.Lock();
  }
  psi_loop_mu.Unlock();
}

Result<bool> Node::Impl::PsiRefreshBatch() {
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(snapshot_mu);
    snap = current;
  }
  if (!snap->psi) return false;
  IOCGRID_RETURN_IF_ERROR(EnsurePsiKey().status());
  const PsiOptions& o = options.psi;
  IOCGRID_ASSIGN_OR_RETURN(std::vector<store::PsiDirty> dirty,
                           store->ReadPsiDirty(snap->psi_dirty_upto, o.precompute_batch));
  if (dirty.empty()) return false;
  IOCGRID_ASSIGN_OR_RETURN(std::vector<std::string> keys, StaleKeys(*store, dirty, o.ranges));
  IOCGRID_ASSIGN_OR_RETURN(Tagging tagging, TaggingOf(*store, *snap, keys, o));
  // Every epoch kept (a rotation's preparing key, a retired key in its grace) gets the same
  // changes, in one transaction with the queue's progress.
  const std::vector<EpochKey> kept = PsiEpochsKept();
  std::vector<std::vector<store::PsiTagRow>> rows(kept.size());
  std::vector<store::PsiEpochRows> changes;
  for (size_t e = 0; e < kept.size(); ++e) {
    // Stored outputs are reused: only keys new to an epoch cost a scalar multiplication.
    IOCGRID_ASSIGN_OR_RETURN(std::vector<store::PsiTagRow> existing,
                             store->GetPsiTags(kept[e].epoch, keys));
    rows[e] =
        BuildRows(kept[e].key, kept[e].epoch, keys, tagging.entries, existing, tagging.records, o);
    changes.push_back(store::PsiEpochRows{kept[e].epoch, rows[e]});
  }
  IOCGRID_RETURN_IF_ERROR(store->ApplyPsiChanges(changes, dirty.back().seq));
  return true;
}

Result<bool> Node::Impl::PsiRotationStep() {
  std::optional<EpochKey> next;
  std::optional<EpochKey> prev;
  uint32_t active = 0;
  {
    MutexLock lock(psi_mu);
    next = psi_next;
    prev = psi_prev;
    active = psi_epoch;
  }
  const PsiOptions& o = options.psi;
  if (prev && options.store.clock.Now() >= prev->changed + o.previous_key_grace.count()) {
    IOCGRID_RETURN_IF_ERROR(store->DropPsiKey(prev->epoch));
    std::fprintf(stderr, "iocgrid node: private-search key epoch %u deleted with its tags\n",
                 prev->epoch);
    IOCGRID_RETURN_IF_ERROR(LoadPsiKey());
    return true;
  }
  if (!next) return false;
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(snapshot_mu);
    snap = current;
  }
  if (!snap->psi) return false;
  IOCGRID_ASSIGN_OR_RETURN(store::PsiKeys stored, store->GetPsiKeys());  // the cursor
  if (!stored.preparing || stored.preparing->epoch != next->epoch) {
    IOCGRID_RETURN_IF_ERROR(LoadPsiKey());
    return true;
  }
  IOCGRID_ASSIGN_OR_RETURN(
      std::vector<std::string> keys,
      store->ListPsiKeys(active, stored.preparing->retag_after, o.precompute_batch));
  if (keys.empty()) {
    // Every key string of the active epoch has its tag under the next key, and every change
    // since was applied to both: the switch.
    IOCGRID_RETURN_IF_ERROR(store->ActivatePsiKey(next->epoch));
    std::fprintf(stderr, "iocgrid node: private search switched to key epoch %u\n", next->epoch);
    IOCGRID_RETURN_IF_ERROR(LoadPsiKey());
    return true;
  }
  IOCGRID_ASSIGN_OR_RETURN(Tagging tagging, TaggingOf(*store, *snap, keys, o));
  IOCGRID_ASSIGN_OR_RETURN(std::vector<store::PsiTagRow> existing,
                           store->GetPsiTags(next->epoch, keys));
  const std::vector<store::PsiTagRow> rows =
      BuildRows(next->key, next->epoch, keys, tagging.entries, existing, tagging.records, o);
  const store::PsiEpochRows change{next->epoch, rows};
  IOCGRID_RETURN_IF_ERROR(store->ApplyPsiChanges(std::span(&change, 1), 0));
  IOCGRID_RETURN_IF_ERROR(store->SetPsiRetagCursor(next->epoch, keys.back()));
  return true;
}

}  // namespace iocgrid::node
