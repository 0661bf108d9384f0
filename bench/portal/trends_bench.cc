// Alliance sightings and trends (issue 12 goals: ingest >= 100k sightings/s into SQLite;
// `sectors` and `scanners` over 10^7 sightings answer in <= 200 ms).
//
// The alliance modelled: 100 organisations in 10 sectors, 90 days, observables drawn from a
// pool of 2·10^6 public IPv4 addresses with a heavy head (a few thousand scanners every
// organisation sees) and a long tail (each organisation's own). The 10^7-sighting store is
// built once per run in a temporary directory (about two minutes: it is itself the ingest
// figure at scale) and then queried the way the trends endpoints do: the store's aggregates
// and the k-anonymous answer.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/time.h"
#include "portal/internal/trends.h"
#include "portal/portal_store.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::portal {
namespace {

constexpr int64_t kToday = 20600;  // 2026-05-27
constexpr int64_t kDays = 90;
constexpr int kOrgs = 100;
constexpr int kSectors = 10;
constexpr int64_t kK = 3;

std::string Ip(uint32_t n) {
  n += 0x2d000000;  // 45.0.0.0 onwards: public
  return std::to_string(n >> 24) + "." + std::to_string((n >> 16) & 0xff) + "." +
         std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
}

const char* Class(uint32_t n) {
  static const char* const kClasses[] = {"noise", "noise", "threat", "anonymizer", "unknown"};
  return kClasses[n % 5];
}

// One organisation's batch of `day`: a third from the shared head (20,000 scanner addresses),
// the rest from its own slice of the tail.
std::vector<AllianceSighting> Batch(std::mt19937_64& rng, int org, int64_t day, size_t n) {
  std::vector<AllianceSighting> out;
  out.reserve(n);
  std::uniform_int_distribution<uint32_t> head(0, 19'999), tail(0, 19'999), count(1, 40);
  for (size_t i = 0; i < n; ++i) {
    uint32_t v = i % 3 == 0 ? head(rng) : 20'000 + static_cast<uint32_t>(org) * 20'000 + tail(rng);
    AllianceSighting s;
    s.value = Ip(v);
    s.type = "ip-src";
    s.cls = Class(v);
    s.day = day;
    s.first_seen = day * 86400 + 60;
    s.last_seen = day * 86400 + 3600;
    s.count = count(rng);
    s.alerted = s.count % 7 == 0 ? 1 : 0;
    if (v < 20'000) s.members = {"honeypot"};
    out.push_back(std::move(s));
  }
  return out;
}

std::string Org(int org) { return "org-" + std::to_string(org); }
std::string Sector(int org) { return "sector-" + std::to_string(org % kSectors); }

std::unique_ptr<PortalStore> OpenStore(const std::string& dir) {
  auto s = PortalStore::Open(dir, Clock::Manual(kToday * 86400 + 7200));
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open the store: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  return std::move(*s);
}

// Batches of range(0) sightings into an empty store, organisations and days in turn: 10^4, and
// 10^5 (the portal's default max_indicators, the largest report it takes). Sightings are drawn
// with repetition, as alert streams repeat their scanners: a batch of 10^4 holds about 13%
// repeats of an observable, one of 10^5 about 64%; `rows` counts the distinct (observable, day)
// rows per second, which is what the fold writes.
void BM_IngestSightings(benchmark::State& state) {
  test::TempDir dir("iocgrid-trends-bench");
  auto store = OpenStore(dir.path());
  const auto size = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(7);
  uint64_t batch = 0;
  double rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const int org = static_cast<int>(batch % kOrgs);
    auto sightings = Batch(rng, org, kToday - static_cast<int64_t>(batch / kOrgs) % kDays, size);
    std::set<std::string> distinct;
    for (const AllianceSighting& s : sightings) distinct.insert(s.value);
    rows += static_cast<double>(distinct.size());
    state.ResumeTiming();
    Status st = store->RecordAllianceSightings("b" + std::to_string(batch++), Org(org), Sector(org),
                                               sightings);
    // The last batch also folds what is still staged: the rate is of sightings folded.
    if (st.ok() && batch == state.max_iterations) st = store->FoldAllianceSightings();
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["rows"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IngestSightings)
    ->Arg(10'000)
    ->Iterations(100)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_IngestSightings)
    ->Arg(100'000)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The 10^7-sighting store, built on first use: each organisation reports 1,111 sightings a
// day for 90 days. IOCGRID_TRENDS_BENCH_STORE=DIR keeps it in DIR and reuses it when DIR holds
// one already (building it takes minutes; the queries are what changes between runs).
PortalStore& BigStore() {
  static const char* keep = std::getenv("IOCGRID_TRENDS_BENCH_STORE");
  static test::TempDir* dir = keep ? nullptr : new test::TempDir("iocgrid-trends-big");
  static PortalStore* store = [] {
    const std::string path = keep ? std::string(keep) : dir->path();
    const bool reuse = keep && std::filesystem::exists(std::filesystem::path(path) / "portal.db");
    PortalStore* s = OpenStore(path).release();
    if (reuse) {
      std::fprintf(stderr, "reusing the store in %s\n", path.c_str());
      return s;
    }
    std::mt19937_64 rng(11);
    const auto start = std::chrono::steady_clock::now();
    uint64_t total = 0, batch = 0;
    for (int64_t day = kToday - kDays + 1; day <= kToday; ++day) {
      for (int org = 0; org < kOrgs; ++org) {
        auto rows = Batch(rng, org, day, 1'111);
        total += rows.size();
        Status st = s->RecordAllianceSightings("big" + std::to_string(batch++), Org(org),
                                               Sector(org), rows);
        if (!st.ok()) {
          std::fprintf(stderr, "ingest: %s\n", st.ToString().c_str());
          std::abort();
        }
      }
    }
    if (Status st = s->FoldAllianceSightings(); !st.ok()) {
      std::fprintf(stderr, "ingest: %s\n", st.ToString().c_str());
      std::abort();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "built %llu sightings in %.1f s (%.0f/s, batches of 1,111)\n",
                 static_cast<unsigned long long>(total), secs, static_cast<double>(total) / secs);
    return s;
  }();
  return *store;
}

void BM_Sectors(benchmark::State& state) {
  PortalStore& store = BigStore();
  const int64_t days = state.range(0), bucket = state.range(1);
  internal::TrendWindow w{kToday - days + 1, kToday, days, bucket};
  size_t cells = 0;
  for (auto _ : state) {
    auto d = store.SectorDays(w.from, w.to);
    auto o = store.SectorOrgs(w.from, w.to);
    std::vector<SectorDistinctRow> distinct;
    if (bucket > 1) distinct = *store.SectorDistinct(w.from, w.to, bucket);
    auto answer = internal::SectorTrends(w, *d, *o, distinct, kK);
    cells = answer["cells"].size();
    benchmark::DoNotOptimize(answer);
  }
  state.counters["cells"] = static_cast<double>(cells);
}
BENCHMARK(BM_Sectors)
    ->Args({30, 1})
    ->Args({7, 1})
    ->Args({90, 7})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Scanners(benchmark::State& state) {
  PortalStore& store = BigStore();
  const int64_t days = state.range(0);
  internal::TrendWindow w{kToday - days + 1, kToday, days, 1};
  size_t found = 0;
  for (auto _ : state) {
    auto rows = store.Scanners(w.from, w.to, static_cast<uint64_t>(state.range(1)), 100);
    auto answer = internal::ScannerTrends(w, *rows, static_cast<uint64_t>(state.range(1)));
    found = answer["scanners"].size();
    benchmark::DoNotOptimize(answer);
  }
  state.counters["scanners"] = static_cast<double>(found);
}
BENCHMARK(BM_Scanners)->Args({7, 2})->Args({30, 10})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace iocgrid::portal

BENCHMARK_MAIN();
