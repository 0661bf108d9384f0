#include "sift/report.h"

#include <algorithm>
#include <cstdint>

namespace iocgrid::sift {

Hit UndisclosedHit(uint64_t held_by, const ClassRules& rules) {
  Hit hit;
  hit.member = "(" + std::to_string(held_by) + " member(s), undisclosed)";
  hit.relation = "exact";
  hit.cls = MemberClass(rules, "");
  return hit;
}

Class MemberClass(const ClassRules& rules, std::string_view data_kind) {
  auto fallback = rules.ClassOfKind(rules.default_member_kind);
  Class default_class = fallback.ok() ? *fallback : Class::kThreat;
  if (data_kind.empty()) return default_class;
  auto c = rules.ClassOfKind(data_kind);
  return c.ok() ? *c : default_class;
}

Tally Classify(const ClassRules& rules, std::span<const Observable> observables,
               std::span<const std::vector<Hit>> hits) {
  Tally t;
  t.classes.assign(observables.size(), Class::kUnknown);
  std::vector<Class> hit_classes;
  for (size_t i = 0; i < observables.size(); ++i) {
    hit_classes.clear();
    if (i < hits.size()) {
      for (const Hit& h : hits[i]) hit_classes.push_back(h.cls);
    }
    const Class cls = rules.Decide(hit_classes);
    t.classes[i] = cls;
    const Observable& o = observables[i];
    ClassStats& c = t.by_class[static_cast<size_t>(cls)];
    ++c.observables;
    if ((o.fields & FieldBit(Field::kClient)) == 0) continue;
    ++t.clients;
    ++c.clients;
    t.client_lines += o.lines;
    c.client_lines += o.lines;
    if (o.alerts > 0) {
      if (cls == Class::kThreat) ++t.cells.alerted_threat;
      if (cls == Class::kNoise) ++t.cells.alerted_noise;
      if (cls == Class::kUnknown) ++t.cells.alerted_unknown;
    } else if (cls == Class::kThreat || cls == Class::kAnonymizer) {
      ++t.cells.not_alerted_threat_or_anonymizer;
    }
  }
  return t;
}

void CountLines(std::span<const uint32_t> ids, uint64_t lines, Tally* tally) {
  std::array<bool, kClassCount> seen{};
  for (uint32_t id : ids) {
    if (id < tally->classes.size()) seen[static_cast<size_t>(tally->classes[id])] = true;
  }
  for (size_t c = 0; c < seen.size(); ++c) {
    if (seen[c]) tally->by_class[c].lines += lines;
  }
}

std::vector<uint32_t> ReportOrder(std::span<const Observable> obs, std::span<const Class> cls) {
  // The order compares class, lines and value, but through a key of 24 bytes per observable
  // (class and lines in one word, the value's first 8 bytes big-endian in another) so that the
  // sort reads a compact array instead of following 10^5 indices into the observables; most
  // observables of a busy log share their line count, and their values nearly always differ in
  // the first 8 bytes. Ties of both words are decided by the full rule.
  struct Key {
    uint64_t rank;    // class, then lines descending (saturated at 2^56 - 1)
    uint64_t prefix;  // the value's first 8 bytes, zero-padded, most significant first
    uint32_t index;
  };
  constexpr uint64_t kLinesMax = (uint64_t{1} << 56) - 1;
  std::vector<Key> keys(obs.size());
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const Observable& o = obs[i];
    uint64_t prefix = 0;
    for (size_t b = 0; b < 8; ++b) {
      prefix = prefix << 8 | (b < o.value.size() ? static_cast<unsigned char>(o.value[b]) : 0);
    }
    keys[i] = {
        uint64_t{static_cast<uint8_t>(cls[i])} << 56 | (kLinesMax - std::min(o.lines, kLinesMax)),
        prefix, i};
  }
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    // Below the saturation the ranks' equal lines are the observables' lines: the prefix may
    // decide. At it (lines >= 2^56 - 1, both), the full rule compares the lines first.
    const bool saturated = (a.rank & kLinesMax) == 0;
    if (!saturated && a.prefix != b.prefix) return a.prefix < b.prefix;
    const Observable& x = obs[a.index];
    const Observable& y = obs[b.index];
    if (x.lines != y.lines) return x.lines > y.lines;
    if (x.value != y.value) return x.value < y.value;
    return a.index < b.index;
  });
  std::vector<uint32_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].index;
  return order;
}

}  // namespace iocgrid::sift
