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
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "benchmark/benchmark.h"
#include "core/indicator.h"
#include "ingest/event.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"

namespace iocgrid::node {
namespace {

constexpr int64_t kStored = 1'000'000;

std::string Ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." +
         std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

std::string Hex(std::mt19937_64& rng, int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(static_cast<size_t>(chars));
  for (int i = 0; i < chars; i += 16) {
    uint64_t r = rng();
    for (int k = 0; k < 16 && i + k < chars; ++k, r >>= 4) s += kHex[r & 0xf];
  }
  return s;
}

// Stored CIDRs lie in 11.0.0.0 .. 42.255.255.255 (32 /8s), so an address there is covered by
// about 4 of them on average (a /16 and a /24 inside it, as feeds overlap); query misses come
// from outside that block.
constexpr uint32_t kCidrOctets = 32;

// A public-looking address (first octet 1..223, not 10 or 127); `outside_cidrs` keeps it out
// of the stored CIDRs' block.
uint32_t PublicIp(std::mt19937_64& rng, bool outside_cidrs = false) {
  while (true) {
    const uint32_t v = static_cast<uint32_t>(rng());
    const uint32_t a = v >> 24;
    if (a == 0 || a == 10 || a == 127 || a >= 224) continue;
    if (outside_cidrs && a >= 11 && a < 11 + kCidrOctets) continue;
    return v;
  }
}

struct Dataset {
  std::vector<std::string> ips, cidrs, domains, md5s;  // stored values
};

ingest::Event BuildEvent(Dataset* data) {
  std::mt19937_64 rng(42);
  ingest::Event event;
  event.uuid = "5f4d3c2b-0000-4000-8000-00000000beef";
  event.info = "node bench: 10^6 attributes";
  event.date = "2024-01-31";
  event.org = "BENCH";
  event.timestamp = 1706700000;
  event.tags = {"tlp:amber"};
  event.attributes.reserve(kStored);
  for (int64_t i = 0; i < kStored; ++i) {
    const int64_t bucket = i % 10;
    std::string type, value;
    if (bucket < 6) {
      type = "ip-dst";
      value = Ip(PublicIp(rng));
      data->ips.push_back(value);
    } else if (bucket < 8) {
      const int prefix = 16 + static_cast<int>(rng() % 13);  // /16../28
      const uint32_t base = ((11u + static_cast<uint32_t>(rng() % kCidrOctets)) << 24) |
                            (static_cast<uint32_t>(rng()) & 0x00ffffffu);
      const uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
      type = "ip-dst";
      value = Ip(base & mask) + "/" + std::to_string(prefix);
      data->cidrs.push_back(value);
    } else if (bucket == 8) {
      type = "domain";
      value = "h" + Hex(rng, 10) + ".bad-" + std::to_string(i % 5000) + ".example";
      data->domains.push_back(value);
    } else {
      type = "md5";
      value = Hex(rng, 32);
      data->md5s.push_back(value);
    }
    auto parsed = core::ParseIndicator(type, value);
    if (!parsed.ok()) std::abort();
    ingest::Attribute a;
    a.indicator = std::move(*parsed);
    a.to_ids = true;
    a.timestamp = 1706700000 + i % 86400;
    a.uuid = Hex(rng, 8) + "-" + Hex(rng, 4) + "-4" + Hex(rng, 3) + "-8" + Hex(rng, 3) + "-" +
             Hex(rng, 12);
    event.attributes.push_back(std::move(a));
  }
  return event;
}

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

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "iocgrid-nodebench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
    {
      const ingest::Event event = BuildEvent(&data);
      auto store = store::Store::Open(dir, {});
      if (!store.ok()) std::abort();
      const auto t0 = std::chrono::steady_clock::now();
      auto stats = (*store)->ImportEvents({&event, 1}, {});
      import_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!stats.ok() || stats->attributes_added != static_cast<uint64_t>(kStored)) {
        std::fprintf(stderr, "import failed: %s\n", stats.status().ToString().c_str());
        std::abort();
      }
    }
    NodeOptions options;
    options.data_dir = dir;
    const auto t0 = std::chrono::steady_clock::now();
    auto opened = Node::Open(options);
    open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!opened.ok()) std::abort();
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
    std::fprintf(stderr, "node bench store: %lld attributes imported in %.2f s, Node::Open %.2f s\n",
                 static_cast<long long>(kStored), import_seconds, open_seconds);
  }

  ~Fixture() {
    server.reset();
    node.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
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

// n query values, a fraction `hit_fraction` of them hitting stored data.
std::vector<std::string> Queries(const Dataset& data, size_t n, double hit_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(n);
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t kind = rng() % 10;
    if (u(rng) < hit_fraction) {
      if (kind < 4) {
        out.push_back(data.ips[rng() % data.ips.size()]);
      } else if (kind < 7) {
        // An address inside a stored CIDR.
        const std::string& c = data.cidrs[rng() % data.cidrs.size()];
        const size_t slash = c.find('/');
        const int prefix = std::stoi(c.substr(slash + 1));
        uint32_t base = 0;
        for (int part = 0, pos = 0; part < 4; ++part) {
          const size_t dot = c.find_first_of("./", static_cast<size_t>(pos));
          base = (base << 8) | static_cast<uint32_t>(std::stoi(c.substr(static_cast<size_t>(pos), dot - static_cast<size_t>(pos))));
          pos = static_cast<int>(dot) + 1;
        }
        out.push_back(Ip(base | (static_cast<uint32_t>(rng()) & ((1u << (32 - prefix)) - 1))));
      } else if (kind < 9) {
        out.push_back("www." + data.domains[rng() % data.domains.size()]);
      } else {
        out.push_back(data.md5s[rng() % data.md5s.size()]);
      }
    } else if (kind < 7) {
      out.push_back(Ip(PublicIp(rng, /*outside_cidrs=*/true)));
    } else if (kind < 9) {
      out.push_back("x" + Hex(rng, 8) + ".clean-" + std::to_string(rng() % 1000) + ".test");
    } else {
      out.push_back(Hex(rng, 32));
    }
  }
  return out;
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

size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
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
    for (curl_slist* h = headers_; h != nullptr; h = h->next) headers = curl_slist_append(headers, h->data);
    out->clear();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) return -1;
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
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

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

void SetLatencyCounters(benchmark::State& state, const std::vector<double>& seconds) {
  state.counters["p50_ms"] = Percentile(seconds, 0.50) * 1e3;
  state.counters["p99_ms"] = Percentile(seconds, 0.99) * 1e3;
  state.counters["max_ms"] = Percentile(seconds, 1.0) * 1e3;
}

// POST /attributes/restSearch {"returnFormat":"json","value":[1,000 values]}: 1% hit, the
// value filter being MISP's exact, case-insensitive match on either half.
void BM_RestSearch1000Values(benchmark::State& state) {
  Fixture& f = GetFixture();
  const auto values = Queries(f.data, static_cast<size_t>(state.range(0)), 0.01, 7);
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
      state.SkipWithError(("restSearch status " + std::to_string(status) + ": " + response.substr(0, 200)).c_str());
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
// response is streamed NDJSON (hits only, then a "done" line).
void BM_GridMatch(benchmark::State& state) {
  Fixture& f = GetFixture();
  const size_t n = static_cast<size_t>(state.range(0));
  const auto values = Queries(f.data, n, 0.01, 11 + n);
  std::string body;
  const char* content_type;
  if (n <= 10000) {
    body = JsonArray(values);
    content_type = "Content-Type: application/json";
  } else {
    for (const auto& v : values) {
      body += v;
      body += '\n';
    }
    content_type = "Content-Type: application/x-ndjson";
  }
  const std::string url = f.base_url + "/grid/v1/match";
  Client client;
  std::string response;
  std::vector<double> seconds;
  double cpu_seconds = 0;
  for (auto _ : state) {
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    const long status = client.Post(url, body, f.key, content_type, &response);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu_seconds += ProcessCpuSeconds() - cpu0;
    if (status != 200 || response.find("\"done\":true") == std::string::npos) {
      state.SkipWithError(("grid match status " + std::to_string(status) + ": " + response.substr(0, 200)).c_str());
      break;
    }
    state.SetIterationTime(s);
    seconds.push_back(s);
  }
  const size_t matched = static_cast<size_t>(std::count(response.begin(), response.end(), '\n')) - 1;
  // The node's own time for the request (MatchStream start to the "done" line).
  if (size_t at = response.rfind("\"elapsed_us\":"); at != std::string::npos) {
    state.counters["server_ms"] = std::stod(response.substr(at + 13, 20)) / 1e3;
  }
  state.counters["matched"] = static_cast<double>(matched);
  state.counters["body_mb"] = static_cast<double>(body.size()) / 1e6;
  SetLatencyCounters(state, seconds);
  // CPU of the whole process (client, server I/O thread and worker) per request: indicators per
  // CPU-second is the "per core" rate.
  if (!seconds.empty()) {
    state.counters["cpu_ms"] = cpu_seconds / static_cast<double>(seconds.size()) * 1e3;
    state.counters["per_cpu_s"] = static_cast<double>(n) * static_cast<double>(seconds.size()) / cpu_seconds;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_GridMatch)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_GridMatch)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace iocgrid::node

int main(int argc, char** argv) {
  iocgrid::net::GlobalInit();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
