// IndexSnapshot's matching over an immutable base and the two delta layers of the writes since
// (node.h; docs/index.md "Live writes"). Record ids and entries are numbered base first, then
// the older layer, then the newer.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "index/match_index.h"
#include "node/node.h"

namespace iocgrid::node {

namespace {

bool Restates(const DeltaLayer& layer, int64_t attribute_id) {
  return std::binary_search(layer.changed.begin(), layer.changed.end(), attribute_id);
}

// The options for a layer some of whose entries newer layers hide: a per-query cap counts only
// what is left, so the layer is asked for as many more as could be hidden.
index::MatchOptions WidenedFor(const index::MatchOptions& options, size_t hidden_at_most) {
  index::MatchOptions widened = options;
  if (widened.max_hits_per_query != 0) {
    const uint64_t more = uint64_t{widened.max_hits_per_query} + hidden_at_most;
    widened.max_hits_per_query = static_cast<uint32_t>(std::min<uint64_t>(more, UINT32_MAX));
  }
  return widened;
}

// The three layers of a snapshot with a delta, oldest first, as the matching below walks them.
struct Layers {
  std::array<const index::MatchIndex*, 3> index{};
  std::array<uint32_t, 3> record_offset{};
  std::array<uint32_t, 3> entry_offset{};

  explicit Layers(const IndexSnapshot& snap) {
    const std::array<const DeltaLayer*, 2> delta{snap.delta->older.get(), snap.delta->newer.get()};
    index = {snap.index.get(), delta[0]->index.get(), delta[1]->index.get()};
    record_offset = {0, static_cast<uint32_t>(snap.base_ids->size()),
                     static_cast<uint32_t>(snap.base_ids->size() + delta[0]->attribute_ids.size())};
    entry_offset = {0, static_cast<uint32_t>(snap.index->size()),
                    static_cast<uint32_t>(snap.index->size() + delta[0]->entries())};
  }
};

// Whether layer `layer`'s hit on `attribute` is hidden by a newer layer.
bool Hidden(const IndexDelta& delta, int layer, int64_t attribute) {
  if (layer == 0 && Restates(*delta.older, attribute)) return true;
  return layer < 2 && Restates(*delta.newer, attribute);
}

size_t HiddenAtMost(const IndexDelta& delta, int layer) {
  return (layer == 0 ? delta.older->changed.size() : 0) +
         (layer < 2 ? delta.newer->changed.size() : 0);
}

// Layer `l`'s hits renumbered as the snapshot's records and entries, without those a newer layer
// hides.
void ToSnapshotNumbers(const IndexSnapshot& snap, const Layers& layers, int l,
                       std::vector<index::Hit>* hits) {
  std::erase_if(*hits, [&](index::Hit& h) {
    h.record += layers.record_offset[l];
    h.entry += layers.entry_offset[l];
    return Hidden(*snap.delta, l, snap.AttributeOf(h.record));
  });
}

// Appends one query's hits from every layer, strongest relation first (a stable sort keeps the
// layers' order within a relation), at most `cap` (0 = all). Returns false when the cap cut them.
bool AppendMerged(std::span<const std::span<const index::Hit>> parts, uint32_t cap,
                  std::vector<index::Hit>* out) {
  const size_t first = out->size();
  size_t nonempty = 0;
  for (auto part : parts) {
    out->insert(out->end(), part.begin(), part.end());
    nonempty += part.empty() ? 0 : 1;
  }
  if (nonempty > 1) {
    std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                     [](const index::Hit& a, const index::Hit& b) {
                       return static_cast<int>(a.relation) < static_cast<int>(b.relation);
                     });
  }
  if (cap != 0 && out->size() - first > cap) {
    out->resize(first + cap);
    return false;
  }
  return true;
}

}  // namespace

std::vector<index::Hit> IndexSnapshot::MatchAll(std::span<const core::Indicator> queries,
                                                const index::MatchOptions& options) const {
  if (!delta) return index->MatchAll(queries, options);
  const Layers layers(*this);
  std::array<std::vector<index::Hit>, 3> hits;
  for (int l = 0; l < 3; ++l) {
    if (layers.index[l] == nullptr) continue;
    hits[l] = layers.index[l]->MatchAll(queries, WidenedFor(options, HiddenAtMost(*delta, l)));
    ToSnapshotNumbers(*this, layers, l, &hits[l]);
  }
  std::vector<index::Hit> out;
  out.reserve(hits[0].size() + hits[1].size() + hits[2].size());
  std::array<size_t, 3> at{};
  while (true) {
    uint32_t q = UINT32_MAX;
    for (int l = 0; l < 3; ++l) {
      if (at[l] < hits[l].size()) q = std::min(q, hits[l][at[l]].query);
    }
    if (q == UINT32_MAX) break;
    std::array<std::span<const index::Hit>, 3> parts;
    for (int l = 0; l < 3; ++l) {
      size_t end = at[l];
      while (end < hits[l].size() && hits[l][end].query == q) ++end;
      parts[l] = std::span<const index::Hit>(hits[l]).subspan(at[l], end - at[l]);
      at[l] = end;
    }
    AppendMerged(parts, options.max_hits_per_query, &out);
  }
  return out;
}

bool IndexSnapshot::Match(const core::Indicator& query, const index::MatchOptions& options,
                          std::vector<index::Hit>* out) const {
  if (!delta) return index->Match(query, 0, options, out);
  const Layers layers(*this);
  std::array<std::vector<index::Hit>, 3> hits;
  bool complete = true;
  for (int l = 0; l < 3; ++l) {
    if (layers.index[l] == nullptr) continue;
    complete =
        layers.index[l]->Match(query, 0, WidenedFor(options, HiddenAtMost(*delta, l)), &hits[l]) &&
        complete;
    ToSnapshotNumbers(*this, layers, l, &hits[l]);
  }
  const std::array<std::span<const index::Hit>, 3> parts{hits[0], hits[1], hits[2]};
  return AppendMerged(parts, options.max_hits_per_query, out) && complete;
}

int64_t IndexSnapshot::AttributeOf(index::RecordId record) const {
  if (record < base_ids->size()) return (*base_ids)[record];
  size_t r = record - base_ids->size();
  if (r < delta->older->attribute_ids.size()) return delta->older->attribute_ids[r];
  return delta->newer->attribute_ids[r - delta->older->attribute_ids.size()];
}

core::IndicatorType IndexSnapshot::entry_type(uint32_t entry) const {
  if (entry < index->size()) return index->entry_type(entry);
  size_t e = entry - index->size();
  if (e < delta->older->entries()) return delta->older->index->entry_type(static_cast<uint32_t>(e));
  return delta->newer->index->entry_type(static_cast<uint32_t>(e - delta->older->entries()));
}

std::string_view IndexSnapshot::entry_value(uint32_t entry) const {
  if (entry < index->size()) return index->entry_value(entry);
  size_t e = entry - index->size();
  if (e < delta->older->entries()) {
    return delta->older->index->entry_value(static_cast<uint32_t>(e));
  }
  return delta->newer->index->entry_value(static_cast<uint32_t>(e - delta->older->entries()));
}

size_t IndexSnapshot::size() const { return index->size() + delta_size(); }

size_t IndexSnapshot::MemoryUsage() const {
  size_t bytes = index->MemoryUsage() + index->ValueBytes() + base_ids->size() * sizeof(int64_t);
  if (delta) {
    for (const DeltaLayer* layer : {delta->older.get(), delta->newer.get()}) {
      bytes += (layer->changed.size() + layer->attribute_ids.size()) * sizeof(int64_t);
      if (layer->index) bytes += layer->index->MemoryUsage() + layer->index->ValueBytes();
    }
  }
  return bytes;
}

}  // namespace iocgrid::node
