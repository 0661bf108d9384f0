// Member node end to end over real HTTP on loopback (issue 3 "Speed"): POST /attributes/restSearch
// with 1,000 values and POST /grid/v1/match with 1,000 and 10^6 indicators against a store of
// 10^6 attributes. Goals: restSearch <= 5 ms p50; grid match >= 1 million indicators/s per core.
//
// The store is built once per process (one big event through ImportEvents) in a temporary
// directory shared by every benchmark of the run, and a Node with an HttpServer on 127.0.0.1
// port 0 serves it. The client is a keep-alive libcurl handle reused across iterations, so a
// request pays no connect. Each iteration's wall time is reported as manual time; p50/p99 (ms)
// are counters over the iterations.
//
// Stored data, like a member's: 60% IPv4 addresses, 20% CIDRs /16../28 (prefix uniform, inside
// 11.0.0.0-42.255.255.255), 10% domains, 10% md5. Queries: about 1% hit (exact IPs, IPs inside
// stored CIDRs, subdomains of stored domains, stored md5s); the rest are addresses outside the
// CIDR block, unknown domains and unknown md5s.
#include <curl/curl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/http_bench.h"
#include "bench/common/member_data.h"
#include "benchmark/benchmark.h"
#include "core/event.h"
#include "core/indicator.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::node {
namespace {

// The attribute count in environment variable `name` (1 to 10^9), or `unset` when it is not
// set; anything else ends the benchmark with a message.
int64_t EnvCount(const char* name, int64_t unset) {
  const char* text = std::getenv(name);
  if (text == nullptr) return unset;
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || n <= 0 || n > 1'000'000'000) {
    std::fprintf(stderr, "%s: '%s' is not an attribute count\n", name, text);
    std::exit(2);
  }
  return n;
}

// Attributes stored: 10^6, or IOCGRID_BENCH_NODE_SIZE (e.g. 10^7 for the scale figures of
// docs/performance.md; the import then takes minutes).
const int64_t kStored = EnvCount("IOCGRID_BENCH_NODE_SIZE", 1'000'000);

// IOCGRID_BENCH_NODE_DIR: a directory that keeps the store between runs (it is filled on the
// first run and reused by the next ones with the same IOCGRID_BENCH_NODE_SIZE), so that the
// requests of a 10^8 node can be measured and profiled again without its 73-minute import.
// Unset: a temporary directory, removed at exit.
const char* KeptDir() {
  const char* dir = std::getenv("IOCGRID_BENCH_NODE_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

using bench::Dataset;
using bench::Queries;

// The node, its server and the stored values, built on first use.
struct Fixture {
  std::string dir;
  Dataset data;
  std::unique_ptr<Node> node;
  std::unique_ptr<net::HttpServer> server;
  std::string key;
  std::string base_url;
  double import_seconds = 0;
  double open_seconds = 0;
  double reopen_seconds = 0;

  Fixture() {
    const std::string kept_marker =
        KeptDir() != nullptr ? std::string(KeptDir()) + "/bench-store-size" : "";
    dir = KeptDir() != nullptr ? KeptDir() : ::iocgrid::test::MakeTempDir("iocgrid-nodebench");
    const int64_t kPerEvent = std::max<int64_t>(10'000'000, (kStored + 3) / 4);
    if (KeptDir() != nullptr && std::filesystem::exists(kept_marker)) {
      // A kept store: its size must be this run's, and only the query values are rebuilt.
      FILE* f = std::fopen(kept_marker.c_str(), "r");
      long long size = 0;
      int prefix = 0;
      if (f == nullptr || std::fscanf(f, "%lld %d", &size, &prefix) != 2 || size != kStored ||
          prefix != bench::CidrMinPrefix(kStored)) {
        std::fprintf(stderr,
                     "node bench: %s holds a store of %lld attributes (CIDRs from /%d), not "
                     "%lld (from /%d); give another IOCGRID_BENCH_NODE_DIR\n",
                     dir.c_str(), size, prefix, static_cast<long long>(kStored),
                     bench::CidrMinPrefix(kStored));
        std::exit(2);
      }
      std::fclose(f);
      bench::EventSpec spec;
      spec.seed = 42;
      spec.attributes = std::min(kPerEvent, kStored);
      spec.cidr_min_prefix = bench::CidrMinPrefix(kStored);
      bench::BuildMemberEvent(spec, &data, /*values_only=*/true);
    } else {
      // Events of 10^7 attributes, or a quarter of the store when that is more (one event of
      // 10^8 would not fit in memory before its import): every import then brings at least a
      // third of what is stored and takes the store's bulk path (indexes rebuilt, not grown row
      // by row), as a node filled from a few large exports does. The stored values of the first
      // event are kept for the queries' hits.
      //
      // A kept store whose fill was interrupted (no size marker yet) is completed from the
      // first part it lacks, in events of at most IOCGRID_BENCH_NODE_EVENT attributes when
      // that is set (less memory than a part, at the cost of the bulk path).
      std::filesystem::create_directories(dir);
      auto store = store::Store::Open(dir, {});
      if (!store.ok()) std::abort();
      int64_t have = 0;
      if (KeptDir() != nullptr) {
        auto stats = (*store)->Stats();
        if (!stats.ok()) std::abort();
        have = static_cast<int64_t>(stats->attributes);
        if (have % kPerEvent != 0 || have > kStored) {
          std::fprintf(stderr,
                       "node bench: %s holds %lld attributes, not whole parts of %lld; give "
                       "another IOCGRID_BENCH_NODE_DIR\n",
                       dir.c_str(), static_cast<long long>(have),
                       static_cast<long long>(kPerEvent));
          std::exit(2);
        }
        if (have > 0) {
          std::fprintf(stderr, "node bench store: completing %s from %lld attributes\n",
                       dir.c_str(), static_cast<long long>(have));
          bench::EventSpec first;
          first.seed = 42;
          first.attributes = std::min(kPerEvent, kStored);
          first.cidr_min_prefix = bench::CidrMinPrefix(kStored);
          bench::BuildMemberEvent(first, &data, /*values_only=*/true);
        }
      }
      const int64_t max_event = EnvCount("IOCGRID_BENCH_NODE_EVENT", 0);
      for (int64_t done = have, part = have / kPerEvent; done < kStored;
           done += kPerEvent, ++part) {
        const int64_t part_size = std::min(kPerEvent, kStored - done);
        // Part 0 is one event: its values are the queries' hits.
        const int64_t piece = part > 0 && max_event > 0 ? max_event : part_size;
        for (int64_t at = 0, sub = 0; at < part_size; at += piece, ++sub) {
          bench::EventSpec spec;
          char uuid[48];
          std::snprintf(uuid, sizeof uuid, "5f4d3c2b-0000-4000-8000-%012llx",
                        static_cast<unsigned long long>(0xbeef + part + 0x10000 * sub));
          spec.uuid = uuid;
          spec.seed = 42 + static_cast<uint64_t>(part) + 1000 * static_cast<uint64_t>(sub);
          spec.info = "node bench: part " + std::to_string(part);
          if (sub > 0) spec.info += "." + std::to_string(sub);
          spec.org = "BENCH";
          spec.attributes = std::min(piece, part_size - at);
          spec.cidr_min_prefix = bench::CidrMinPrefix(kStored);
          // Only the first part's values are kept (as queries); the others' would hold ~1 GB
          // a part beside the event at 10^8.
          const core::Event event = bench::BuildMemberEvent(spec, part == 0 ? &data : nullptr);
          const auto t0 = std::chrono::steady_clock::now();
          auto stats = (*store)->ImportEvents({&event, 1}, {});
          import_seconds +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          if (!stats.ok() || stats->attributes_added != static_cast<uint64_t>(spec.attributes)) {
            std::fprintf(stderr, "import failed: %s\n", stats.status().ToString().c_str());
            std::abort();
          }
          if (kStored > kPerEvent) {
            std::fprintf(stderr, "node bench store: %lld of %lld attributes imported, %.0f s\n",
                         static_cast<long long>(done + at + spec.attributes),
                         static_cast<long long>(kStored), import_seconds);
          }
        }
      }
      if (KeptDir() != nullptr) {
        FILE* f = std::fopen(kept_marker.c_str(), "w");
        if (f == nullptr) std::abort();
        std::fprintf(f, "%lld %d\n", static_cast<long long>(kStored),
                     bench::CidrMinPrefix(kStored));
        std::fclose(f);
      }
    }
    NodeOptions options;
    options.data_dir = dir;
    const auto t0 = std::chrono::steady_clock::now();
    auto opened = Node::Open(options);
    open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!opened.ok()) std::abort();
    node = std::move(*opened);
    // A restart: closing keeps the index in DATA/index.snapshot (the background thread writes
    // it), and the next open reads it instead of scanning the store.
    node.reset();
    const auto t1 = std::chrono::steady_clock::now();
    opened = Node::Open(options);
    reopen_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    if (!opened.ok() || !(*opened)->snapshot()->from_file) {
      std::fprintf(stderr, "node bench: the restart did not use the kept index\n");
      std::abort();
    }
    node = std::move(*opened);
    auto user = node->store().EnsureUser("bench@alliance.test", "Alliance", store::Role::kAdmin);
    if (!user.ok()) std::abort();
    auto k = node->store().CreateKey(user->id, store::KeyOptions{});
    if (!k.ok()) std::abort();
    key = k->key;
    Node* raw = node.get();
    auto started = net::HttpServer::Start(net::ServerOptions{},
                                          [raw](net::Request& r) { return raw->Handle(r); });
    if (!started.ok()) std::abort();
    server = std::move(*started);
    base_url = "http://127.0.0.1:" + std::to_string(server->port());
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::fprintf(stderr,
                 "node bench store: %lld attributes imported in %.2f s, Node::Open %.2f s "
                 "(scan and build), %.2f s on restart (kept index); peak RSS %.2f GB\n",
                 static_cast<long long>(kStored), import_seconds, open_seconds, reopen_seconds,
                 static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0));
  }

  ~Fixture() {
    server.reset();
    node.reset();
    std::error_code ec;
    if (KeptDir() == nullptr) std::filesystem::remove_all(dir, ec);
  }
};

Fixture& GetFixture() {
  static Fixture* fixture = new Fixture();  // lives for the process; removed at exit below
  static const bool registered = [] {
    std::atexit([] { delete &GetFixture(); });
    return true;
  }();
  (void)registered;
  return *fixture;
}

std::string JsonArray(const std::vector<std::string>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ',';
    s += '"';
    s += values[i];
    s += '"';
  }
  s += ']';
  return s;
}

// A keep-alive client: one CURL handle, so consecutive requests reuse the connection.
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  // POSTs body to url; returns the status, the response in *out.
  long Post(const std::string& url, const std::string& body, const std::string& key,
            const char* content_type, std::string* out) {
    if (headers_ == nullptr) {
      headers_ = curl_slist_append(headers_, ("Authorization: " + key).c_str());
      headers_ = curl_slist_append(headers_, "Accept: application/json");
      headers_ = curl_slist_append(headers_, "Expect:");
    }
    curl_slist* headers = curl_slist_append(nullptr, content_type);
    for (curl_slist* h = headers_; h != nullptr; h = h->next)
      headers = curl_slist_append(headers, h->data);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    const long status = bench::PerformInto(curl_, out);
    curl_slist_free_all(headers);
    return status;
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void SetLatencyCounters(benchmark::State& state, const std::vector<double>& seconds) {
  state.counters["p50_ms"] = bench::Percentile(seconds, 0.50) * 1e3;
  state.counters["p99_ms"] = bench::Percentile(seconds, 0.99) * 1e3;
  state.counters["max_ms"] = bench::Percentile(seconds, 1.0) * 1e3;
}

// POST /attributes/restSearch {"returnFormat":"json","value":[1,000 values]}: 1% hit, the
// value filter being MISP's exact, case-insensitive match on either half.
void BM_RestSearch1000Values(benchmark::State& state) {
  Fixture& f = GetFixture();
  const auto values = Queries({&f.data}, static_cast<size_t>(state.range(0)), 0.01, 7);
  const std::string body = R"({"returnFormat":"json","value":)" + JsonArray(values) + "}";
  const std::string url = f.base_url + "/attributes/restSearch";
  Client client;
  std::string response;
  std::vector<double> seconds;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const long status = client.Post(url, body, f.key, "Content-Type: application/json", &response);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (status != 200) {
      state.SkipWithError(
          ("restSearch status " + std::to_string(status) + ": " + response.substr(0, 200)).c_str());
      break;
    }
    state.SetIterationTime(s);
    seconds.push_back(s);
  }
  size_t rows = 0;
  for (size_t pos = 0; (pos = response.find("\"uuid\"", pos)) != std::string::npos; ++pos) ++rows;
  state.counters["response_kb"] = static_cast<double>(response.size()) / 1024;
  SetLatencyCounters(state, seconds);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RestSearch1000Values)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

// POST /grid/v1/match: a JSON array for 1,000 indicators, NDJSON (bare lines) for 10^6; the
// response is streamed NDJSON (hits only, then a "done" line). The 1,000-indicator requests
// cycle through 512 different query lists, as an alliance's searches differ: the same list
// every time would find its hits' store pages in the reader's cache from the second request on.
void BM_GridMatch(benchmark::State& state) {
  Fixture& f = GetFixture();
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<std::string> bodies;
  const char* content_type;
  if (n <= 10000) {
    constexpr uint64_t kLists = 512;
    for (uint64_t k = 0; k < kLists; ++k) {
      bodies.push_back(JsonArray(Queries({&f.data}, n, 0.01, 11 + n + k * 7919)));
    }
    content_type = "Content-Type: application/json";
  } else {
    std::string body;
    for (const auto& v : Queries({&f.data}, n, 0.01, 11 + n)) {
      body += v;
      body += '\n';
    }
    bodies.push_back(std::move(body));
    content_type = "Content-Type: application/x-ndjson";
  }
  const std::string url = f.base_url + "/grid/v1/match";
  Client client;
  std::string response;
  std::vector<double> seconds;
  double cpu_seconds = 0;
  size_t matched = 0, hits = 0, response_bytes = 0;
  for (auto _ : state) {
    const std::string& body = bodies[seconds.size() % bodies.size()];
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    const long status = client.Post(url, body, f.key, content_type, &response);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu_seconds += ProcessCpuSeconds() - cpu0;
    if (status != 200 || response.find("\"done\":true") == std::string::npos) {
      state.SkipWithError(
          ("grid match status " + std::to_string(status) + ": " + response.substr(0, 200)).c_str());
      break;
    }
    state.SetIterationTime(s);
    seconds.push_back(s);
    // Matched indicators (a line each, then "done") and hits (an object with its relation
    // each; an address inside stored ranges has one per range).
    matched += static_cast<size_t>(std::count(response.begin(), response.end(), '\n')) - 1;
    for (size_t at = response.find("\"relation\""); at != std::string::npos;
         at = response.find("\"relation\"", at + 1)) {
      ++hits;
    }
    response_bytes += response.size();
  }
  // The node's own time for the (last) request (MatchStream start to the "done" line).
  if (size_t at = response.rfind("\"elapsed_us\":"); at != std::string::npos) {
    state.counters["server_ms"] = std::stod(response.substr(at + 13, 20)) / 1e3;
  }
  const double requests = static_cast<double>(std::max<size_t>(seconds.size(), 1));
  state.counters["matched"] = static_cast<double>(matched) / requests;
  state.counters["hits"] = static_cast<double>(hits) / requests;
  state.counters["response_kb"] = static_cast<double>(response_bytes) / requests / 1024;
  state.counters["body_mb"] = static_cast<double>(bodies[0].size()) / 1e6;
  SetLatencyCounters(state, seconds);
  // CPU of the whole process (client, server I/O thread and worker) per request: indicators per
  // CPU-second is the "per core" rate.
  if (!seconds.empty()) {
    state.counters["cpu_ms"] = cpu_seconds / static_cast<double>(seconds.size()) * 1e3;
    state.counters["per_cpu_s"] =
        static_cast<double>(n) * static_cast<double>(seconds.size()) / cpu_seconds;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_GridMatch)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_GridMatch)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// Live writes (issue 14: "sustained 1,000 attribute writes/s while serving grid matches keeps
// p99 <= 50 ms", read-your-writes): eight writer threads POST one attribute per request to
// /attributes/add at 1,000 requests/s in all (paced; they fall behind when the node cannot
// keep up, and writes_per_s says so) while the benchmark loop runs 1,000-indicator grid matches,
// 100 a second. Each write lands in the delta beside the 10^6 base (no rebuild) and is checked
// matchable as soon as its request returns, on some writes. Arg 1 also merges the delta into a new
// base every 3 s from another thread, as the background does past index_merge_at.
void BM_GridMatchDuringWrites(benchmark::State& state) {
  Fixture& f = GetFixture();
  const bool merging = state.range(0) != 0;
  const auto values = Queries({&f.data}, 1000, 0.01, 29);
  const std::string body = JsonArray(values);
  const std::string url = f.base_url + "/grid/v1/match";
  Client setup;
  std::string created;
  if (setup.Post(f.base_url + "/events/add", R"({"info":"live writes","distribution":3})", f.key,
                 "Content-Type: application/json", &created) != 200) {
    state.SkipWithError(("events/add: " + created.substr(0, 200)).c_str());
    return;
  }
  const size_t at = created.find("\"id\":\"");
  const std::string event_id = created.substr(at + 6, created.find('"', at + 6) - at - 6);
  static int run = 0;
  ++run;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> written{0};
  std::atomic<int64_t> unseen{0};
  // Eight writer connections (clients of one member, or a mirror's) sharing the pace.
  constexpr int kWriters = 8;
  std::vector<std::vector<double>> write_seconds(kWriters);
  std::vector<std::thread> writers;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Client client;
      Client check;
      std::string response;
      for (int64_t i = w; !stop.load(); i += kWriters) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(1000 * i));
        const std::string value = "w" + std::to_string(run) + "-" + std::to_string(i) + ".example";
        const auto t0 = std::chrono::steady_clock::now();
        const long status = client.Post(f.base_url + "/attributes/add/" + event_id,
                                        R"({"type":"domain","value":")" + value + R"("})", f.key,
                                        "Content-Type: application/json", &response);
        write_seconds[static_cast<size_t>(w)].push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (status != 200) {
          std::fprintf(stderr, "attributes/add %ld: %s\n", status, response.substr(0, 200).c_str());
          break;
        }
        written.fetch_add(1);
        if (i % 100 == w) {  // read-your-writes: matchable once the write returned
          check.Post(url, "[\"" + value + "\"]", f.key, "Content-Type: application/json",
                     &response);
          if (response.find("\"relation\":\"exact\"") == std::string::npos) unseen.fetch_add(1);
        }
      }
    });
  }
  std::thread merger([&] {
    while (merging && !stop.load()) {
      for (int k = 0; k < 30 && !stop.load(); ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!stop.load() && !f.node->MergeIndex().ok()) std::abort();
    }
  });
  Client client;
  std::string response;
  std::vector<double> seconds;
  const auto began = std::chrono::steady_clock::now();
  int64_t searches = 0;
  for (auto _ : state) {
    // 100 searches/s: a busy portal's load, leaving the writers room (an unpaced loop would
    // take a whole core by itself on this 2-core machine).
    std::this_thread::sleep_until(began + std::chrono::milliseconds(10 * searches++));
    const auto t0 = std::chrono::steady_clock::now();
    const long status = client.Post(url, body, f.key, "Content-Type: application/json", &response);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (status != 200) {
      state.SkipWithError(("grid match " + std::to_string(status)).c_str());
      break;
    }
    state.SetIterationTime(s);
    seconds.push_back(s);
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  stop.store(true);
  for (auto& w : writers) w.join();
  merger.join();
  std::vector<double> all_writes;
  for (const auto& w : write_seconds) all_writes.insert(all_writes.end(), w.begin(), w.end());
  SetLatencyCounters(state, seconds);
  state.counters["writes_per_s"] = static_cast<double>(written.load()) / wall;
  state.counters["write_p50_ms"] = bench::Percentile(all_writes, 0.50) * 1e3;
  state.counters["write_p99_ms"] = bench::Percentile(all_writes, 0.99) * 1e3;
  state.counters["unseen_writes"] = static_cast<double>(unseen.load());
  auto snap = f.node->snapshot();
  state.counters["delta_entries"] = static_cast<double>(snap->delta_size());
}
BENCHMARK(BM_GridMatchDuringWrites)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(15.0);

}  // namespace
}  // namespace iocgrid::node
