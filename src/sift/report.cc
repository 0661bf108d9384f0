#include "sift/report.h"

#include <algorithm>

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
  std::vector<uint32_t> order(obs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (cls[a] != cls[b]) return cls[a] < cls[b];
    if (obs[a].lines != obs[b].lines) return obs[a].lines > obs[b].lines;
    return obs[a].value < obs[b].value;
  });
  return order;
}

}  // namespace iocgrid::sift
