// The report of a sift (issue 9): per observable, the hits that matched it and the class they
// decide; per class, observables, clients and lines; and the four alert cells. One home for
// this arithmetic, shared by `iocgrid sift` (app/sift_command.cc) and the portal's
// POST /api/v1/sifts (portal/internal/sift_job.cc), so both report the same numbers.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sift/rules.h"
#include "sift/sifter.h"

namespace iocgrid::sift {

// One match of an observable: a portal member's hit (`member`) or a local data file's
// (`source`), with the class its data's kind gives.
struct Hit {
  std::string member;  // portal member, or empty for a local source
  std::string source;  // local file
  std::string relation;
  std::string matched;
  std::string name;  // list or event name
  Class cls = Class::kUnknown;
};

// The pseudo-hit of a value held only by members that disclose counts (a portal search's
// `held_by` > 0 without hit rows): "(k member(s), undisclosed)", relation exact, class of
// rules.default_member_kind (which kind of data holds it is not disclosed).
Hit UndisclosedHit(uint64_t held_by, const ClassRules& rules);

// The class a portal member's hits get from its declared data_kind: defaults.member when it
// declares none or one no rule knows.
Class MemberClass(const ClassRules& rules, std::string_view data_kind);

struct ClassStats {
  uint64_t observables = 0;
  uint64_t lines = 0;  // lines holding at least one observable of the class
  uint64_t clients = 0;
  uint64_t client_lines = 0;
};

// Counted in clients (observables seen in the client field).
struct AlertCells {
  uint64_t alerted_threat = 0;
  uint64_t alerted_noise = 0;
  uint64_t alerted_unknown = 0;
  uint64_t not_alerted_threat_or_anonymizer = 0;  // what the WAF let through
};

struct Tally {
  std::vector<Class> classes;  // per observable
  std::array<ClassStats, kClassCount> by_class{};
  AlertCells cells;
  uint64_t clients = 0;
  uint64_t client_lines = 0;
};

// Classes (rules.Decide over each observable's hits; hits[i] belongs to observables[i]),
// observables and clients per class, and the alert cells. Line counts per class come from
// CountLines. REQUIRES: hits.size() == observables.size().
Tally Classify(const ClassRules& rules, std::span<const Observable> observables,
               std::span<const std::vector<Hit>> hits);

// Adds `lines` lines holding the observables `ids` (a line group, as
// Sifter::ForEachLineGroup yields them) to the line counts of their classes.
void CountLines(std::span<const uint32_t> ids, uint64_t lines, Tally* tally);

// Observables ordered for output: by class (threat first), then most lines first, then value.
std::vector<uint32_t> ReportOrder(std::span<const Observable> observables,
                                  std::span<const Class> classes);

}  // namespace iocgrid::sift
