// MatchIndex benchmarks (goals in docs/index.md): build rate, exact lookups on a 10-million
// indicator index, in-range lookups against 1 million CIDRs, subdomain lookups, and the index's
// memory per entry beyond the values' bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/indicator.h"
#include "index/match_index.h"

namespace iocgrid::index {
namespace {

using core::Indicator;
using core::IndicatorType;

// splitmix64: a fixed, fast sequence so every run measures the same data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

std::string Hex(uint64_t a, uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

std::string Ipv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

std::string Domain(uint64_t r) {
  static const char* const kTlds[] = {"com", "net", "org", "example", "info", "io", "ru", "cn"};
  return "d" + std::to_string(r % 100000000) + "-" + std::to_string((r >> 32) % 1000) + "." +
         kTlds[(r >> 40) % 8];
}

// Normalized-by-construction mixed indicators: 40% md5, 30% domains, 30% IPv4 addresses.
Indicator MixedIndicator(Rng& rng) {
  uint64_t r = rng.Next();
  switch (r % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return {IndicatorType::kMd5, Hex(rng.Next(), rng.Next())};
    case 4:
    case 5:
    case 6:
      return {IndicatorType::kDomain, Domain(rng.Next())};
    default:
      return {IndicatorType::kIpDst, Ipv4(static_cast<uint32_t>(rng.Next()))};
  }
}

const std::vector<Indicator>& MixedData(size_t n) {
  static std::vector<Indicator> data;
  if (data.size() < n) {
    Rng rng(42);
    data.clear();
    data.reserve(n);
    for (size_t i = 0; i < n; ++i) data.push_back(MixedIndicator(rng));
  }
  return data;
}

std::shared_ptr<const MatchIndex> BuildFrom(const std::vector<Indicator>& data, size_t n) {
  MatchIndex::Builder builder;
  builder.Reserve(n, n * 24);
  for (size_t i = 0; i < n; ++i)
    if (!builder.Add(data[i], static_cast<RecordId>(i)).ok()) std::abort();
  return builder.Build();
}

void ReportMemory(benchmark::State& state, const MatchIndex& index) {
  state.counters["index_bytes_per_entry"] =
      static_cast<double>(index.MemoryUsage()) / static_cast<double>(index.size());
  state.counters["value_bytes_per_entry"] =
      static_cast<double>(index.ValueBytes()) / static_cast<double>(index.size());
}

// One Match a benchmark iteration, cycling through `queries` (a power-of-two count): items are
// queries, with the mean hits a query and the index's memory as counters.
void RunLookups(benchmark::State& state, const MatchIndex& index,
                const std::vector<Indicator>& queries, const MatchOptions& options) {
  std::vector<Hit> hits;
  hits.reserve(1024);
  size_t i = 0;
  size_t total = 0;
  for (auto _ : state) {
    index.Match(queries[i], static_cast<uint32_t>(i), options, &hits);
    i = (i + 1) & (queries.size() - 1);
    total += hits.size();
    hits.clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["hits_per_query"] =
      static_cast<double>(total) / static_cast<double>(state.iterations());
  ReportMemory(state, index);
}

constexpr size_t kBig = 10'000'000;

void BM_Build(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<Indicator>& data = MixedData(n);
  std::shared_ptr<const MatchIndex> index;
  for (auto _ : state) {
    index = BuildFrom(data, n);
    benchmark::DoNotOptimize(index.get());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  ReportMemory(state, *index);
}
BENCHMARK(BM_Build)->Arg(1'000'000)->Arg(kBig)->Unit(benchmark::kMillisecond);

// Restart without a rebuild (issue 14): the built index kept on disk and read back, as a node
// does at start (the record map is the node's attribute ids). Items are entries; the file's
// size per entry is a counter. The file goes to $IOCGRID_BENCH_DIR (default /tmp); the page
// cache is warm, as after the write (a cold start reads at the disk's speed instead).
std::string KeptIndexPath() {
  const char* dir = std::getenv("IOCGRID_BENCH_DIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/iocgrid-bench-index.snapshot";
}

void BM_SaveKeptIndex(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto index = BuildFrom(MixedData(n), n);
  std::vector<int64_t> records(n);
  for (size_t i = 0; i < n; ++i) records[i] = static_cast<int64_t>(i) + 1;
  for (auto _ : state) {
    if (!index->SaveToFile(KeptIndexPath(), "{}", records).ok()) std::abort();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_SaveKeptIndex)->Arg(1'000'000)->Arg(kBig)->Unit(benchmark::kMillisecond);

void BM_LoadKeptIndex(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  {
    const auto index = BuildFrom(MixedData(n), n);
    std::vector<int64_t> records(n, 1);
    if (!index->SaveToFile(KeptIndexPath(), "{}", records).ok()) std::abort();
  }
  std::shared_ptr<const MatchIndex> loaded;
  for (auto _ : state) {
    std::string meta;
    std::vector<int64_t> records;
    auto index = MatchIndex::LoadFromFile(KeptIndexPath(), &meta, &records);
    if (!index.ok()) std::abort();
    loaded = std::move(*index);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  std::error_code ec;
  state.counters["file_bytes_per_entry"] =
      static_cast<double>(std::filesystem::file_size(KeptIndexPath(), ec)) / static_cast<double>(n);
  ReportMemory(state, *loaded);
  std::filesystem::remove(KeptIndexPath(), ec);
}
BENCHMARK(BM_LoadKeptIndex)->Arg(1'000'000)->Arg(kBig)->Unit(benchmark::kMillisecond);

// Queries: half are stored values, half are fresh values of the same shapes.
std::vector<Indicator> MixedQueries(const std::vector<Indicator>& stored, size_t n) {
  Rng rng(7);
  std::vector<Indicator> queries;
  queries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      queries.push_back(stored[rng.Next() % stored.size()]);
    } else {
      queries.push_back(MixedIndicator(rng));
    }
  }
  return queries;
}

// Arg 0: all relations (so IP queries also search ranges and domains their parents);
// arg 1: exact only.
void BM_ExactLookup(benchmark::State& state) {
  static std::shared_ptr<const MatchIndex> index = BuildFrom(MixedData(kBig), kBig);
  static const std::vector<Indicator> queries = MixedQueries(MixedData(kBig), 1 << 20);
  MatchOptions options;
  if (state.range(0) == 1) options.relations = RelationBit(Relation::kExact);
  RunLookups(state, *index, queries, options);
}
BENCHMARK(BM_ExactLookup)->Arg(0)->Arg(1);

// The same through MatchAll in batches of 1024 queries (the node's bulk path), which pipelines
// the cache misses of consecutive queries. Args: relations as above, index size.
void BM_ExactLookupBatch(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(1));
  static std::shared_ptr<const MatchIndex> big = BuildFrom(MixedData(kBig), kBig);
  static const std::vector<Indicator> big_queries = MixedQueries(MixedData(kBig), 1 << 20);
  std::shared_ptr<const MatchIndex> index = big;
  const std::vector<Indicator>* query_list = &big_queries;
  std::vector<Indicator> small_queries;
  if (size != kBig) {
    std::vector<Indicator> data(MixedData(kBig).begin(),
                                MixedData(kBig).begin() + static_cast<ptrdiff_t>(size));
    index = BuildFrom(data, size);
    small_queries = MixedQueries(data, 1 << 20);
    query_list = &small_queries;
  }
  const std::vector<Indicator>& queries = *query_list;
  MatchOptions options;
  if (state.range(0) == 1) options.relations = RelationBit(Relation::kExact);
  constexpr size_t kBatch = 1024;
  size_t i = 0;
  size_t total = 0;
  for (auto _ : state) {
    std::vector<Hit> hits =
        index->MatchAll(std::span<const Indicator>(queries).subspan(i, kBatch), options);
    i = (i + kBatch) & (queries.size() - 1);
    total += hits.size();
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["hits_per_query"] =
      static_cast<double>(total) / static_cast<double>(state.iterations() * kBatch);
}
BENCHMARK(BM_ExactLookupBatch)
    ->Args({0, kBig})
    ->Args({1, kBig})
    ->Args({1, 10'000});  // cache-resident: the cost without memory stalls

void BM_InRangeLookup(benchmark::State& state) {
  constexpr size_t kRanges = 1'000'000;
  static std::shared_ptr<const MatchIndex> index = [] {
    Rng rng(3);
    MatchIndex::Builder builder;
    for (size_t i = 0; i < kRanges; ++i) {
      uint64_t r = rng.Next();
      // /16 ... /28, placed at random: a query lies in about two of them, as with address
      // block registries and cloud range lists.
      unsigned prefix = 16 + static_cast<unsigned>(r % 13);
      auto ip = static_cast<uint32_t>(r >> 32) & ~((uint32_t{1} << (32 - prefix)) - 1);
      if (!builder
               .Add({IndicatorType::kIpDst, Ipv4(ip) + "/" + std::to_string(prefix)},
                    static_cast<RecordId>(i))
               .ok())
        std::abort();
    }
    return builder.Build();
  }();
  static const std::vector<Indicator> queries = [] {
    Rng rng(11);
    std::vector<Indicator> q;
    for (size_t i = 0; i < (1 << 20); ++i) {
      q.push_back({IndicatorType::kIpSrc, Ipv4(static_cast<uint32_t>(rng.Next()))});
    }
    return q;
  }();
  RunLookups(state, *index, queries, {});
}
BENCHMARK(BM_InRangeLookup);

void BM_SubdomainLookup(benchmark::State& state) {
  constexpr size_t kDomains = 1'000'000;
  static std::vector<std::string> domains;
  static std::shared_ptr<const MatchIndex> index = [] {
    Rng rng(5);
    MatchIndex::Builder builder;
    for (size_t i = 0; i < kDomains; ++i) {
      domains.push_back(Domain(rng.Next()));
      if (!builder.Add({IndicatorType::kDomain, domains.back()}, static_cast<RecordId>(i)).ok())
        std::abort();
    }
    return builder.Build();
  }();
  // Host names two labels below a stored domain (half) or below an unknown one.
  static const std::vector<Indicator> queries = [] {
    Rng rng(13);
    std::vector<Indicator> q;
    for (size_t i = 0; i < (1 << 20); ++i) {
      std::string base = i % 2 == 0 ? domains[rng.Next() % domains.size()] : Domain(rng.Next());
      q.push_back({IndicatorType::kHostname, "www.cdn" + std::to_string(i % 97) + "." + base});
    }
    return q;
  }();
  RunLookups(state, *index, queries, {});
}
BENCHMARK(BM_SubdomainLookup);

}  // namespace
}  // namespace iocgrid::index

BENCHMARK_MAIN();
