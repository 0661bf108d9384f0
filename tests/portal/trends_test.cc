// Alliance sightings and trends below HTTP (issue 12): the store's aggregates in a real SQLite
// file, k-anonymity at k-1 and k organisations (and the parts suppressed around a suppressed
// one), the rising test on constructed series with a known answer, the Poisson tail against
// values computed by hand, the batch parser's hostile inputs, and the actor tags.
#include "portal/internal/trends.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "portal/internal/alliance_request.h"
#include "portal/internal/distinct_sketch.h"
#include "portal/portal_store.h"
#include "tests/common/temp_dir.h"
#include "tests/common/test_database.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

constexpr int64_t kToday = 20000;  // 2024-10-04
constexpr int64_t kNow = kToday * 86400 + 3600;

AllianceSighting Saw(const std::string& value, int64_t day, const std::string& cls = "threat",
                     uint64_t count = 1, const std::string& type = "ip-src") {
  AllianceSighting s;
  s.value = value;
  s.type = type;
  s.cls = cls;
  s.day = day;
  s.first_seen = day * 86400;
  s.last_seen = day * 86400 + 60;
  s.count = count;
  s.members = {"honeypot"};
  return s;
}

class TrendStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = test::PostgresMissing(); !why.empty()) GTEST_SKIP() << why;
    auto s = PortalStore::Open(dir_.path(), Clock::Manual(kNow), test::TestDatabase());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Record(const std::string& batch, const std::string& org, const std::string& sector,
              const std::vector<AllianceSighting>& rows) {
    Status st = store_->RecordAllianceSightings(batch, org, sector, rows);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  json Sectors(int64_t days, int64_t bucket, int64_t k) {
    TrendWindow w{kToday - days + 1, kToday, days, bucket};
    auto d = store_->SectorDays(w.from, w.to);
    auto o = store_->SectorOrgs(w.from, w.to);
    std::vector<SectorDistinctRow> distinct;
    if (bucket > 1) distinct = *store_->SectorDistinct(w.from, w.to, bucket);
    return SectorTrends(w, *d, *o, distinct, k);
  }

  test::TempDir dir_{"iocgrid-trends"};
  std::unique_ptr<PortalStore> store_;
};

TEST_F(TrendStoreTest, ACellIsSuppressedBelowKOrganisationsAndShownAtK) {
  // Finance: two organisations (k-1 for k = 3); energy: three (k).
  Record("b1", "bank-a", "finance", {Saw("203.0.113.5", kToday)});
  Record("b2", "bank-b", "finance", {Saw("203.0.113.5", kToday), Saw("198.51.100.9", kToday)});
  Record("b3", "power-a", "energy", {Saw("203.0.113.5", kToday, "threat", 4)});
  Record("b4", "power-b", "energy", {Saw("203.0.113.5", kToday, "threat", 2)});
  Record("b5", "power-c", "energy", {Saw("192.0.2.77", kToday, "noise", 5)});
  json t = Sectors(7, 1, 3);
  ASSERT_EQ(t["cells"].size(), 2u) << t.dump();
  json energy = t["cells"][0], finance = t["cells"][1];
  EXPECT_EQ(energy["sector"], "energy");
  EXPECT_EQ(energy["bucket"], "2024-10-04");
  EXPECT_EQ(energy["suppressed"], false);
  EXPECT_EQ(energy["organisations"], 3);
  EXPECT_EQ(energy["observables"], 2);  // 203.0.113.5 once for the sector, and 192.0.2.77
  EXPECT_EQ(energy["sightings"], 11);
  // By class: threat from two organisations, noise from one: both under k, and together three.
  EXPECT_EQ(energy["by_class"]["threat"], json({{"suppressed", true}}));
  EXPECT_EQ(energy["by_class"]["noise"], json({{"suppressed", true}}));
  EXPECT_EQ(finance, json({{"sector", "finance"}, {"bucket", "2024-10-04"}, {"suppressed", true}}));
  // No organisation's name anywhere in the answer.
  for (const char* org : {"bank-a", "bank-b", "power-a", "power-b", "power-c"}) {
    EXPECT_EQ(t.dump().find(org), std::string::npos) << org;
  }
  // With k = 2 both are shown, and finance's two parts too.
  json k2 = Sectors(7, 1, 2);
  EXPECT_EQ(k2["cells"][1]["suppressed"], false);
  EXPECT_EQ(k2["cells"][1]["organisations"], 2);
  EXPECT_EQ(k2["cells"][1]["by_type"]["ip-src"]["observables"], 2);
}

TEST_F(TrendStoreTest, ASuppressedPartIsNotLeftDerivableFromTheTotal) {
  // Threat from four organisations, noise from one: hiding noise alone would leave it as the
  // total minus threat, so threat is hidden too.
  for (const char* org : {"a", "b", "c", "d"}) {
    Record(std::string("t-") + org, org, "finance", {Saw("203.0.113.5", kToday)});
  }
  Record("n-e", "e", "finance", {Saw("192.0.2.1", kToday, "noise", 9)});
  json cell = Sectors(1, 1, 3)["cells"][0];
  EXPECT_EQ(cell["organisations"], 5);
  EXPECT_EQ(cell["by_class"]["noise"]["suppressed"], true);
  EXPECT_EQ(cell["by_class"]["threat"]["suppressed"], true);
  // Both parts hidden come from five organisations: enough.
}

TEST_F(TrendStoreTest, BucketsOfSeveralDaysCountDistinctObservables) {
  for (const char* org : {"a", "b", "c"}) {
    Record(std::string("x-") + org, org, "health",
           {Saw("203.0.113.5", kToday), Saw("203.0.113.5", kToday - 1)});
  }
  json daily = Sectors(2, 1, 3);
  ASSERT_EQ(daily["cells"].size(), 2u);
  EXPECT_EQ(daily["cells"][0]["observables"], 1);
  json both = Sectors(2, 2, 3);
  ASSERT_EQ(both["cells"].size(), 1u);
  EXPECT_EQ(both["cells"][0]["observables"], 1);  // the same address on both days
  EXPECT_EQ(both["cells"][0]["sightings"], 6);
}

TEST_F(TrendStoreTest, ScannersAreSeenByAtLeastMinOrgsAndNeverNamed) {
  Record("a", "org-a", "finance", {Saw("203.0.113.5", kToday), Saw("198.51.100.1", kToday)});
  Record("b", "org-b", "energy", {Saw("203.0.113.5", kToday - 2, "noise")});
  Record("c", "org-c", "energy", {Saw("203.0.113.5", kToday - 30)});  // outside 7 days
  auto rows = store_->Scanners(kToday - 6, kToday, 2, 100);
  ASSERT_TRUE(rows.ok());
  TrendWindow w{kToday - 6, kToday, 7, 1};
  json s = ScannerTrends(w, *rows, 2);
  ASSERT_EQ(s["scanners"].size(), 1u) << s.dump();
  const json& x = s["scanners"][0];
  EXPECT_EQ(x["value"], "203.0.113.5");
  EXPECT_EQ(x["organisations"], 2);
  EXPECT_EQ(x["sectors"], 2);
  EXPECT_EQ(x["classes"], json({"noise", "threat"}));
  EXPECT_EQ(x["members"], json({"honeypot"}));
  EXPECT_EQ(s.dump().find("org-"), std::string::npos);
  auto three = store_->Scanners(kToday - 6, kToday, 3, 100);
  EXPECT_TRUE(three->empty());
  auto month = store_->Scanners(kToday - 40, kToday, 3, 100);
  EXPECT_EQ(month->size(), 1u);
}

// Buckets of several days merge the days' sketches: exact while a cell holds up to
// DistinctSketch::kMaxExact values, within the HyperLogLog's error beyond; checked against the
// distinct values the test reported.
TEST_F(TrendStoreTest, BucketsOfSeveralDaysMatchTheValuesReported) {
  std::mt19937_64 rng(3);
  // (bucket, sector, class) -> values; a value's class is fixed, so each org's row keeps it.
  std::map<std::tuple<int64_t, std::string, std::string>, std::set<std::string>> truth;
  const char* const kClasses[] = {"threat", "noise", "unknown"};
  int batch = 0;
  for (int org = 0; org < 6; ++org) {
    const std::string sector = org < 3 ? "finance" : "energy";
    for (int64_t day = kToday - 7; day <= kToday; ++day) {
      std::vector<AllianceSighting> rows;
      // finance: a few hundred values a day (exact); energy: a wide tail (estimated).
      const int n = sector == "finance" ? 150 : 1'000;
      for (int i = 0; i < n; ++i) {
        const uint32_t v = static_cast<uint32_t>(rng() % (sector == "finance" ? 600 : 200'000));
        const std::string value = "45." + std::to_string(v >> 16) + "." +
                                  std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
        const std::string cls = kClasses[v % 3];
        rows.push_back(Saw(value, day, cls));
        truth[{(day - (kToday - 7)) / 4, sector, cls}].insert(value);
      }
      Record("r" + std::to_string(batch++), "org-" + std::to_string(org), sector, rows);
    }
  }
  auto rows = store_->SectorDistinct(kToday - 7, kToday, 4);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), truth.size());
  for (const SectorDistinctRow& r : *rows) {
    const auto& values = truth.at({r.bucket, r.sector, r.cls});
    if (values.size() <= DistinctSketch::kMaxExact) {
      EXPECT_EQ(r.observables, values.size()) << r.sector << " " << r.cls;
    } else {
      EXPECT_NEAR(static_cast<double>(r.observables), static_cast<double>(values.size()),
                  0.03 * static_cast<double>(values.size()))
          << r.sector << " " << r.cls;
    }
  }
}

// Scanners rank values by the organisations whose days with them meet the window (most first,
// then most organisations overall); the ranking is checked against counting every value.
TEST_F(TrendStoreTest, ScannersRankLikeCountingEveryValue) {
  std::mt19937_64 rng(9);
  // value -> org -> (first day, last day) as reported
  std::map<std::string, std::map<int, std::pair<int64_t, int64_t>>> spans;
  int batch = 0;
  for (int org = 0; org < 12; ++org) {
    for (int64_t day = kToday - 20; day <= kToday; day += 2) {
      std::vector<AllianceSighting> rows;
      for (int i = 0; i < 40; ++i) {
        // Value v is seen by about v % 12 organisations: a spread of counts with ties.
        const int v = static_cast<int>(rng() % 400);
        if (static_cast<int>(rng() % 12) > v % 12) continue;
        const std::string value =
            "198.51." + std::to_string(v / 256) + "." + std::to_string(v % 256);
        rows.push_back(Saw(value, day, "noise"));
        auto [it, added] = spans[value].try_emplace(org, day, day);
        it->second.first = std::min(it->second.first, day);
        it->second.second = std::max(it->second.second, day);
      }
      if (rows.empty()) continue;
      Record("s" + std::to_string(batch++), "org-" + std::to_string(org),
             "sector-" + std::to_string(org % 4), rows);
    }
  }
  for (auto [from, min_orgs, limit] : {std::tuple<int64_t, uint64_t, size_t>{kToday - 6, 2, 10},
                                       {kToday - 6, 5, 100},
                                       {kToday - 20, 3, 25},
                                       {kToday - 1, 2, 1000}}) {
    // The expected (n, orgs overall) sequence and, per value, its n.
    std::vector<std::pair<uint64_t, uint64_t>> expected;
    std::map<std::string, uint64_t> n_of;
    for (const auto& [value, orgs] : spans) {
      uint64_t n = 0;
      for (const auto& [org, span] : orgs) n += span.second >= from && span.first <= kToday;
      n_of[value] = n;
      if (n >= min_orgs) expected.emplace_back(n, orgs.size());
    }
    std::sort(expected.rbegin(), expected.rend());
    if (expected.size() > limit) expected.resize(limit);
    auto got = store_->Scanners(from, kToday, min_orgs, limit);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    // Spans here are whole reports, so the window's rows hold every organisation counted.
    ASSERT_EQ(got->size(), expected.size()) << from << " " << min_orgs;
    for (size_t i = 0; i < got->size(); ++i) {
      const ScannerRow& row = (*got)[i];
      EXPECT_EQ(row.orgs.size(), expected[i].first) << i;
      EXPECT_EQ(n_of.at(row.value), expected[i].first) << row.value;
      EXPECT_EQ(spans.at(row.value).size(), expected[i].second) << row.value;
    }
  }
}

TEST_F(TrendStoreTest, ARepeatedBatchIsRecordedOnceAndReportsAddUp) {
  Record("same", "org-a", "finance", {Saw("203.0.113.5", kToday, "threat", 3)});
  EXPECT_EQ(store_
                ->RecordAllianceSightings("same", "org-a", "finance",
                                          {Saw("203.0.113.5", kToday, "threat", 3)})
                .code(),
            StatusCode::kAlreadyExists);
  Record("again", "org-a", "finance", {Saw("203.0.113.5", kToday, "threat", 2)});
  auto days = store_->SectorDays(kToday, kToday);
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].observables, 1u);
  EXPECT_EQ((*days)[0].sightings, 5u);
}

// A report that repeats an observable (one line per alert) is folded per observable and day:
// counted once in its cell under the smallest class name, its counts summed, its first and
// last seen widened, and the members of its last seen sighting kept for the value.
TEST_F(TrendStoreTest, RepeatsWithinABatchAreFoldedPerObservableAndDay) {
  AllianceSighting a = Saw("203.0.113.5", kToday, "unknown", 2);
  AllianceSighting b = Saw("203.0.113.5", kToday, "noise", 3);
  b.first_seen -= 100;
  b.last_seen += 100;
  b.members = {"honeypot", "threat-intel"};
  AllianceSighting c = Saw("203.0.113.5", kToday - 1, "threat", 5);
  for (const char* org : {"a", "b"}) Record(std::string("r-") + org, org, "energy", {a, b, c});
  auto today = store_->SectorDays(kToday, kToday);
  ASSERT_EQ(today->size(), 1u);
  EXPECT_EQ((*today)[0].cls, "noise");  // "noise" < "unknown"
  EXPECT_EQ((*today)[0].observables, 1u);
  EXPECT_EQ((*today)[0].sightings, 10u);  // 2 + 3 from each organisation
  auto yesterday = store_->SectorDays(kToday - 1, kToday - 1);
  ASSERT_EQ(yesterday->size(), 1u);
  EXPECT_EQ((*yesterday)[0].cls, "threat");
  auto scanners = store_->Scanners(kToday - 6, kToday, 2, 10);
  ASSERT_EQ(scanners->size(), 1u);
  const ScannerRow& row = (*scanners)[0];
  EXPECT_EQ(row.sightings, 20u);
  EXPECT_EQ(row.first_seen, c.first_seen);  // the day before
  EXPECT_EQ(row.last_seen, b.last_seen);    // widened by b
  EXPECT_EQ(row.members, R"(["honeypot","threat-intel"])");
  auto two_days = store_->SectorDistinct(kToday - 1, kToday, 2);
  ASSERT_EQ(two_days->size(), 2u);  // one class a day
  for (const SectorDistinctRow& r : *two_days) EXPECT_EQ(r.observables, 1u);
}

// The per-day cells against a model of every report: organisations of three sectors report
// a small pool of values over several days, in several batches a day (so that a batch meets
// the organisation's own rows of the day, which keep the class they were counted under, and
// other organisations' rows of the value), with random classes, types, counts and repeats.
// A row's cell is fixed when the organisation first reports the value that day (the smallest
// class of that batch); a cell counts the distinct values with a row in it, the sightings and
// alerts of every report folded into its rows, and the organisations with a row in it.
TEST_F(TrendStoreTest, SectorCellsMatchAModelOfEveryReport) {
  std::mt19937_64 rng(17);
  const char* const kClasses[] = {"anonymizer", "noise", "threat", "unknown"};
  const char* const kTypes[] = {"ip-src", "domain"};
  using Cell = std::tuple<int64_t, std::string, std::string, std::string>;  // day sector type class
  struct Truth {
    std::set<std::string> values, orgs;
    uint64_t sightings = 0, alerted = 0;
  };
  std::map<Cell, Truth> truth;
  std::map<std::tuple<std::string, int64_t, std::string, std::string>, Cell> row_cell;
  int batch = 0;
  for (int64_t day = kToday - 4; day <= kToday; ++day) {
    for (int round = 0; round < 3; ++round) {
      for (int org = 0; org < 7; ++org) {
        const std::string name = "org-" + std::to_string(org);
        const std::string sector = "sector-" + std::to_string(org % 3);
        // 0 to 200 sightings (more than a statement's 64 values, and fewer), drawn from 150
        // values of two types, with repeats; short values, and long ones that share their first
        // 16 bytes or end around the 16th (the batch is sorted by its values' first 16 bytes).
        std::vector<AllianceSighting> rows(rng() % 201);
        for (AllianceSighting& s : rows) {
          const int v = static_cast<int>(rng() % 150);
          const char* const kHeads[] = {"v", "sixteen-bytes-ab", "sixteen-bytes-"};
          s = Saw(kHeads[v % 3] + std::to_string(v), day, kClasses[rng() % 4], 1 + rng() % 5,
                  kTypes[v % 2]);
          s.alerted = rng() % 3;
        }
        if (rows.empty()) continue;
        // Cells of the rows new to the organisation today: the batch's smallest class.
        std::map<std::pair<std::string, std::string>, std::string> smallest;
        for (const AllianceSighting& s : rows) {
          auto [it, added] = smallest.try_emplace({s.type, s.value}, s.cls);
          it->second = std::min(it->second, s.cls);
        }
        for (const auto& [key, cls] : smallest) {
          const Cell cell{day, sector, key.first, cls};
          auto [it, added] = row_cell.try_emplace({name, day, key.first, key.second}, cell);
          truth[it->second].values.insert(key.first + " " + key.second);
          truth[it->second].orgs.insert(name);
        }
        for (const AllianceSighting& s : rows) {
          Truth& t = truth[row_cell.at({name, day, s.type, s.value})];
          t.sightings += s.count;
          t.alerted += s.alerted;
        }
        Record("m" + std::to_string(batch++), name, sector, rows);
      }
    }
  }
  auto days = store_->SectorDays(kToday - 4, kToday);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), truth.size());
  for (const SectorDayRow& r : *days) {
    const Truth& t = truth.at({r.day, r.sector, r.type, r.cls});
    EXPECT_EQ(r.observables, t.values.size()) << r.day << " " << r.sector << " " << r.cls;
    EXPECT_EQ(r.sightings, t.sightings) << r.day << " " << r.sector << " " << r.cls;
    EXPECT_EQ(r.alerted, t.alerted) << r.day << " " << r.sector << " " << r.cls;
  }
  auto orgs = store_->SectorOrgs(kToday - 4, kToday);
  ASSERT_TRUE(orgs.ok()) << orgs.status().ToString();
  std::map<Cell, std::set<std::string>> got_orgs;
  for (const SectorOrgRow& r : *orgs) got_orgs[{r.day, r.sector, r.type, r.cls}].insert(r.org);
  ASSERT_EQ(got_orgs.size(), truth.size());
  for (const auto& [cell, t] : truth) EXPECT_EQ(got_orgs.at(cell), t.orgs);
}

TEST_F(TrendStoreTest, PurgeDeletesWhatIsPastRetention) {
  Record("old", "org-a", "finance", {Saw("203.0.113.5", kToday - 100)});
  Record("old-b", "org-b", "finance", {Saw("203.0.113.5", kToday - 100)});
  Record("new", "org-a", "finance", {Saw("198.51.100.1", kToday)});
  auto purged = store_->PurgeAllianceSightings(kToday - 89);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2u);
  EXPECT_TRUE(store_->SectorDays(0, kToday - 90)->empty());
  EXPECT_TRUE(store_->SectorOrgs(0, kToday - 90)->empty());
  EXPECT_TRUE(store_->Scanners(0, kToday, 2, 100)->empty());  // the two orgs' rows are gone
  EXPECT_EQ(store_->SectorDays(kToday, kToday)->size(), 1u);
}

// A value two organisations saw, purged back to one, then seen by another: scanners count the
// organisation left from before the purge and the new one, and only those.
TEST_F(TrendStoreTest, AValueSharedAgainAfterAPurgeCountsEveryOrganisationInTheWindow) {
  Record("a-old", "org-a", "finance", {Saw("203.0.113.5", kToday - 100)});
  Record("a-new", "org-a", "finance", {Saw("203.0.113.5", kToday - 3)});
  Record("b-old", "org-b", "finance", {Saw("203.0.113.5", kToday - 100)});
  ASSERT_EQ(store_->Scanners(kToday - 6, kToday, 2, 100)->size(), 0u);  // org-b: out of window
  ASSERT_EQ(store_->Scanners(kToday - 120, kToday, 2, 100)->size(), 1u);
  ASSERT_TRUE(store_->PurgeAllianceSightings(kToday - 89).ok());
  EXPECT_TRUE(store_->Scanners(kToday - 120, kToday, 2, 100)->empty());  // org-a alone now
  Record("c", "org-c", "energy", {Saw("203.0.113.5", kToday)});
  auto rows = store_->Scanners(kToday - 6, kToday, 2, 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].orgs.size(), 2u);
  EXPECT_EQ((*rows)[0].sectors.size(), 2u);
  EXPECT_EQ((*rows)[0].first_seen, (kToday - 3) * 86400);
}

TEST_F(TrendStoreTest, ActorsGroupTaggedIndicatorsWithKAnonymity) {
  auto tagged = [](const std::string& v, int64_t day) {
    AllianceSighting s = Saw(v, day);
    s.actors = {"BlackTech"};
    return s;
  };
  Record("a", "org-a", "finance", {tagged("203.0.113.5", kToday), tagged("198.51.100.1", kToday)});
  Record("b", "org-b", "energy", {tagged("203.0.113.5", kToday)});
  TrendWindow w{kToday - 29, kToday, 30, 1};
  json two = ActorTrends(w, *store_->Actors(w.from, w.to), 3);
  EXPECT_EQ(two["actors"], json::parse(R"([{"actor":"BlackTech","suppressed":true}])"));
  Record("c", "org-c", "energy", {tagged("203.0.113.5", kToday - 1)});
  json three = ActorTrends(w, *store_->Actors(w.from, w.to), 3);
  const json& a = three["actors"][0];
  EXPECT_EQ(a["suppressed"], false);
  EXPECT_EQ(a["organisations"], 3);
  EXPECT_EQ(a["indicators"], 2);
  // Only the address three organisations saw is listed; each day had fewer than three.
  EXPECT_EQ(a["infrastructure"],
            json::parse(R"([{"type":"ip-src","value":"203.0.113.5","organisations":3}])"));
  for (const json& d : a["days"]) EXPECT_EQ(d["suppressed"], true);
}

TEST(PoissonTest, UpperTailMatchesValuesComputedByHand) {
  EXPECT_NEAR(PoissonUpperTail(1, 2.0), 1 - std::exp(-2.0), 1e-12);
  // 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24)
  EXPECT_NEAR(PoissonUpperTail(5, 1.0), 0.0036598468273437, 1e-12);
  EXPECT_EQ(PoissonUpperTail(0, 3.0), 1.0);
  EXPECT_NEAR(PoissonUpperTail(3, 10.0), 1 - std::exp(-10.0) * (1 + 10 + 50), 1e-12);
  // Far tail: P(X >= 100; 10) = e^-10 10^100 / 100! (1 + 10/101 + ...) = 5.3986e-63, not 0
  // from cancellation.
  EXPECT_NEAR(PoissonUpperTail(100, 10.0) / 5.39859e-63, 1.0, 1e-4);
}

std::vector<SectorDayRow> Series(const std::string& sector, const std::vector<uint64_t>& per_day) {
  std::vector<SectorDayRow> rows;
  for (size_t i = 0; i < per_day.size(); ++i) {
    rows.push_back(
        {kToday - static_cast<int64_t>(i), sector, "ip-src", "threat", per_day[i], per_day[i], 0});
  }
  return rows;
}

TEST(RisingTest, ASeriesFarAboveItsBaselineRisesAndAFlatOneDoesNot) {
  // 7-day windows; finance had 2 a day for four weeks and 20 a day this week; energy 5 a day
  // throughout.
  std::vector<uint64_t> finance(35, 2), energy(35, 5);
  for (int i = 0; i < 7; ++i) finance[static_cast<size_t>(i)] = 20;
  auto rows = Series("finance", finance);
  auto more = Series("energy", energy);
  rows.insert(rows.end(), more.begin(), more.end());
  std::vector<SectorOrgRow> orgs;
  for (const char* sector : {"finance", "energy"}) {
    for (const char* org : {"a", "b", "c"})
      orgs.push_back({kToday, sector, "ip-src", "threat", org});
  }
  TrendWindow w{kToday - 6, kToday, 7, 1};
  json r = RisingTrends(w, rows, orgs, 3);
  ASSERT_EQ(r["cells"].size(), 1u) << r.dump();
  EXPECT_EQ(r["cells"][0]["sector"], "finance");
  EXPECT_EQ(r["cells"][0]["observables"], 140);
  // Four weeks before at 2 a day: (56 + 1) / 4.
  EXPECT_NEAR(r["cells"][0]["baseline"].get<double>(), (28 * 2 + 1) / 4.0, 1e-9);
  EXPECT_LT(r["cells"][0]["p_value"].get<double>(), 1e-20);
  // With only two organisations this week, the rising cell is suppressed, counted, not named.
  orgs.erase(orgs.begin() + 2);
  json hidden = RisingTrends(w, rows, orgs, 3);
  EXPECT_TRUE(hidden["cells"].empty());
  EXPECT_EQ(hidden["suppressed"], 1);
}

TEST(TrendQueryTest, ParametersAreCheckedNeverDefaultedWhenGiven) {
  auto ok = ParseTrendQuery("window=30d&bucket=7d", "7d", {"window", "bucket"}, kToday);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->window.days, 30);
  EXPECT_EQ(ok->window.bucket, 7);
  EXPECT_EQ(ok->window.from, kToday - 29);
  for (const char* bad :
       {"window=12h", "window=0d", "window=400d", "bucket=31d&window=30d", "window=7d&window=8d",
        "min_orgs=1", "limit=99999999999999999999", "nope=1", "window=%ff"}) {
    auto r = ParseTrendQuery(bad, "30d", {"window", "bucket", "min_orgs", "limit"}, kToday);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SightingBatchTest, GoodBatchesInEveryForm) {
  SightingLimits lim;
  lim.now = kNow;
  auto list = ParseSightingBatch(
      R"([{"value":"185.220.101.7"},{"value":"evil-c2.net","type":"domain","count":3,)"
      R"("alerted":true,"first_seen":"2024-10-01","last_seen":1728000000},)"
      R"({"value":"10.0.0.1"}])",
      false, lim);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->received, 3u);
  EXPECT_EQ(list->internal, 1u);
  ASSERT_EQ(list->sightings.size(), 2u);
  EXPECT_EQ(list->sightings[0].last_seen, kNow);
  EXPECT_EQ(list->sightings[1].alerted, 3u);
  EXPECT_EQ(list->sightings[1].first_seen, 1727740800);
  auto obj =
      ParseSightingBatch(R"({"share":"public","sightings":[{"value":"91.203.5.77"}]})", false, lim);
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(obj->share, ShareMode::kPublic);
  auto nd = ParseSightingBatch("{\"value\":\"91.203.5.77\"}\n\n{\"value\":\"a.evil-c2.net\"}\n",
                               true, lim);
  ASSERT_TRUE(nd.ok());
  EXPECT_EQ(nd->sightings.size(), 2u);
}

TEST(SightingBatchTest, HostileBatchesAreClearErrors) {
  SightingLimits lim;
  lim.now = kNow;
  lim.max_sightings = 3;
  const std::vector<std::string> bad = {
      "",
      "{}",
      "[]",
      "[1]",
      R"([{"value":""}])",
      R"([{"value":"203.0.113.5","extra":1}])",
      R"([{"value":"203.0.113.0/24"}])",
      R"([{"value":"CVE-2021-44228"}])",
      R"([{"value":"203.0.113.5","count":0}])",
      R"([{"value":"203.0.113.5","count":-1}])",
      R"([{"value":"203.0.113.5","count":1.5}])",
      R"([{"value":"203.0.113.5","count":123456789012345678901}])",
      R"([{"value":"203.0.113.5","alerted":5,"count":2}])",
      R"([{"value":"203.0.113.5","last_seen":"2099-01-01"}])",
      R"([{"value":"203.0.113.5","first_seen":"2024-10-04T10:00:00Z","last_seen":"2024-10-01"}])",
      R"([{"value":"203.0.113.5","last_seen":"yesterday"}])",
      R"([{"value":"203.0.113.5","type":7}])",
      R"({"share":"everyone","sightings":[{"value":"203.0.113.5"}]})",
      R"({"sightings":[{"value":"203.0.113.5"}],"other":1})",
      "[" + std::string(30000, '[') + std::string(30000, ']') + "]",
      std::string("[{\"value\":\"\xff\xfe\"}]"),
      R"([{"value":"1.1.1.1"},{"value":"1.1.1.2"},{"value":"1.1.1.3"},{"value":"1.1.1.4"}])"};
  for (const std::string& body : bad) {
    auto r = ParseSightingBatch(body, false, lim);
    EXPECT_FALSE(r.ok()) << body.substr(0, 80);
    EXPECT_FALSE(r.status().message().empty());
  }
  EXPECT_FALSE(ParseSightingBatch("{\"value\":\"203.0.113.5\"}\nnot json\n", true, lim).ok());
  auto named =
      ParseSightingBatch(R"([{"value":"203.0.113.5"},{"value":"x","count":0}])", false, lim);
  EXPECT_NE(named.status().message().find("sightings[1]"), std::string_view::npos)
      << named.status().message();
}

TEST(ActorTagTest, GalaxyAndPlainFormsNameTheActor) {
  EXPECT_EQ(ActorOfTag("misp-galaxy:threat-actor=\"BlackTech\""), "BlackTech");
  EXPECT_EQ(ActorOfTag("misp-galaxy:mitre-intrusion-set=\"APT10 - G0045\""), "APT10 - G0045");
  EXPECT_EQ(ActorOfTag("threat-actor:\"Lazarus Group\""), "Lazarus Group");
  EXPECT_EQ(ActorOfTag("tlp:amber"), "");
  EXPECT_EQ(ActorOfTag("misp-galaxy:threat-actor=\"\""), "");
}

}  // namespace
}  // namespace iocgrid::portal::internal
