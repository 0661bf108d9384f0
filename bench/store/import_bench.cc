// Store import throughput (issue 3 goal: >= 200,000 attributes/s for a large event into an
// empty store) and search latency for a 1,000-value restSearch-style query.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/common/member_data.h"
#include "benchmark/benchmark.h"
#include "core/event.h"
#include "store/store.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::store {
namespace {

std::string MakeTempDir() { return test::MakeTempDir("iocgrid-bench"); }

// A MISP-like event: ip-dst, domain and md5 attributes with uuids, plus a few composites.
core::Event LargeEvent(int64_t count, bool with_uuids) {
  core::Event event;
  event.uuid = "5f4d3c2b-0000-4000-8000-000000000001";
  event.info = "bench";
  event.date = "2024-01-31";
  event.org = "BENCH";
  event.timestamp = 1706700000;
  event.attributes.reserve(static_cast<size_t>(count));
  char uuid[40];
  for (int64_t i = 0; i < count; ++i) {
    core::Attribute a;
    switch (i % 4) {
      case 0:
      case 1:
        a.indicator.type = core::IndicatorType::kIpDst;
        a.indicator.value = std::to_string(10 + (i >> 24) % 200) + "." +
                            std::to_string((i >> 16) & 0xff) + "." +
                            std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff);
        break;
      case 2:
        a.indicator.type = core::IndicatorType::kDomain;
        a.indicator.value = "host" + std::to_string(i) + ".evil.example";
        break;
      default:
        a.indicator.type = core::IndicatorType::kDomainIp;
        a.indicator.value = "d" + std::to_string(i) + ".example|192.0.2." + std::to_string(i % 250);
        break;
    }
    if (with_uuids) {
      std::snprintf(uuid, sizeof uuid, "%08llx-1111-4000-8000-%012llx",
                    static_cast<unsigned long long>(i * 2654435761ULL % 0xffffffffULL),
                    static_cast<unsigned long long>(i));
      a.uuid = uuid;
    }
    a.to_ids = true;
    a.timestamp = 1706700000;
    event.attributes.push_back(std::move(a));
  }
  return event;
}

void BM_ImportLargeEventIntoEmptyStore(benchmark::State& state) {
  const core::Event event = LargeEvent(state.range(0), state.range(1) != 0);
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = MakeTempDir();
    auto store = Store::Open(dir, {});
    if (!store.ok()) state.SkipWithError(store.status().ToString().c_str());
    state.ResumeTiming();
    auto stats = (*store)->ImportEvents({&event, 1}, {});
    if (!stats.ok()) state.SkipWithError(stats.status().ToString().c_str());
    benchmark::DoNotOptimize(stats);
    state.PauseTiming();
    store->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ImportLargeEventIntoEmptyStore)
    ->Args({100'000, 1})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

// A store growing to range(0) attributes of random values (the node benchmark's member data:
// IPs, CIDRs, domains, md5s, random uuids), imported in events of range(1), with the writer's
// page cache at range(2) MiB. Counters: the rate over the whole import and over its last event,
// when the random-keyed indexes (uuid, value) are largest. Issue 14's nodes of 10^7..10^8 are
// built this way by an initial import or a mirror's first sweep.
void BM_ImportIntoGrowingStore(benchmark::State& state) {
  const int64_t total = state.range(0);
  const int64_t per_event = state.range(1);
  StoreOptions options;
  options.writer_cache_kib = static_cast<int>(state.range(2) * 1024);
  for (auto _ : state) {
    const std::string dir = MakeTempDir();
    auto store = Store::Open(dir, options);
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      break;
    }
    double seconds = 0, last_seconds = 0;
    for (int64_t done = 0, part = 0; done < total; done += per_event, ++part) {
      bench::EventSpec spec;
      char uuid[48];
      std::snprintf(uuid, sizeof uuid, "5f4d3c2b-0000-4000-8000-%012llx",
                    static_cast<unsigned long long>(part));
      spec.uuid = uuid;
      spec.seed = 7 + static_cast<uint64_t>(part);
      spec.org = "BENCH";
      spec.attributes = std::min(per_event, total - done);
      bench::Dataset scratch;
      const core::Event event = bench::BuildMemberEvent(spec, &scratch);
      const auto t0 = std::chrono::steady_clock::now();
      auto stats = (*store)->ImportEvents({&event, 1}, {});
      last_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      seconds += last_seconds;
      if (!stats.ok()) {
        state.SkipWithError(stats.status().ToString().c_str());
        break;
      }
    }
    state.SetIterationTime(seconds);
    state.counters["attributes_per_s"] = static_cast<double>(total) / seconds;
    state.counters["last_event_per_s"] =
        static_cast<double>(std::min(per_event, total)) / last_seconds;
    store->reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_ImportIntoGrowingStore)
    ->Args({4'000'000, 1'000'000, 64})
    ->Args({4'000'000, 1'000'000, 512})
    ->UseManualTime()
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

void BM_ReimportUnchangedEvent(benchmark::State& state) {
  const core::Event event = LargeEvent(state.range(0), true);
  const std::string dir = MakeTempDir();
  auto store = Store::Open(dir, {});
  if (!store.ok() || !(*store)->ImportEvents({&event, 1}, {}).ok()) {
    state.SkipWithError("setup failed");
  }
  for (auto _ : state) {
    auto stats = (*store)->ImportEvents({&event, 1}, {});
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReimportUnchangedEvent)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Search1000Values(benchmark::State& state) {
  const core::Event event = LargeEvent(state.range(0), false);
  const std::string dir = MakeTempDir();
  auto store = Store::Open(dir, {});
  if (!store.ok() || !(*store)->ImportEvents({&event, 1}, {}).ok()) {
    state.SkipWithError("setup failed");
  }
  AttributeQuery query;
  for (int i = 0; i < 1000; ++i) {
    // Half hit (every 7th stored attribute), half miss.
    const auto& a = event.attributes[static_cast<size_t>(i * 7) % event.attributes.size()];
    query.value.any.push_back(i % 2 == 0 ? a.indicator.value.substr(0, a.indicator.value.find('|'))
                                         : "198.18.0." + std::to_string(i));
  }
  size_t rows = 0;
  for (auto _ : state) {
    auto result = (*store)->SearchAttributes(query);
    rows = result.ok() ? result->attributes.size() : 0;
    benchmark::DoNotOptimize(result);
  }
  state.counters["rows"] = static_cast<double>(rows);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Search1000Values)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StreamLiveAttributes(benchmark::State& state) {
  const core::Event event = LargeEvent(state.range(0), false);
  const std::string dir = MakeTempDir();
  auto store = Store::Open(dir, {});
  if (!store.ok() || !(*store)->ImportEvents({&event, 1}, {}).ok()) {
    state.SkipWithError("setup failed");
  }
  for (auto _ : state) {
    uint64_t n = 0;
    Status status = (*store)->ForEachLiveAttribute([&](const LiveAttribute& a) {
      n += a.value.size();
      return Status::Ok();
    });
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StreamLiveAttributes)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace iocgrid::store

BENCHMARK_MAIN();
