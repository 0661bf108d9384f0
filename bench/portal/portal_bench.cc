// The portal end to end over real HTTP on loopback (issue 4 "The demo and the speed"): an analyst
// POSTs 1,000 (or 10^5) IoCs to /api/v1/searches; the portal fans them out to three members of
// 10^6 indicators each; the clock stops when the complete result document is in the client's
// hands. Goal: 1,000 IoCs x 3 iocgrid members <= 20 ms p50. Also: 10^5 IoCs, and the same with
// the third member reached only through the MISP connector (batched POST /attributes/restSearch,
// 100 values per request, up to 4 in flight; docs/federation.md), which is expected to be slower.
//
// Everything runs in one process, like tests/portal/portal_api_test.cc: three real nodes (each a
// Store built once per process in a temporary directory with one big ImportEvents, a Node and an
// HttpServer on 127.0.0.1 port 0) and the portal with its own HttpServer. The portal is configured
// with four members: "anonymity", "honeypot", "third" (kind iocgrid) and "third-misp" (kind misp:
// the same node as "third", asked through /attributes/restSearch); each search names the three it
// asks in "members".
//
// One iteration (timed with steady_clock, reported as manual time):
//   1. POST /api/v1/searches                      -> 201 {"id"}        (keep-alive handle A)
//   2. GET  /api/v1/searches/{id}/events           SSE read until the stream ends after
//                                                  "event: done"      (keep-alive handle B)
//   3. GET  /api/v1/searches/{id}                  -> the complete document (handle A)
// then, untimed, the search is checked (status done, every member done), its document fetched
// once more (doc_again_ms: nothing persisting alongside) and DELETEd so the portal's in-memory
// job map stays small.
// Counters: p50/p99/max of the whole iteration; p50 of each step (post_ms and sse_done_ms from
// t0, doc_ms from the end of the SSE stream); the federation's own per-member elapsed_ms p50
// (fed_<member>_ms, from the document); the document size and the hits of the last search.
//
// Stored data, per member (a different random set per member, fixed seeds): 60% IPv4 addresses,
// 20% CIDRs /16../28 inside 11.0.0.0-42.255.255.255, 10% domains, 10% md5. Queries (untyped
// strings, typed by the portal like MISP's freetext import): 70% IPv4, 20% domains, 10% md5;
// about 1% hit some member (an exact stored IP, an IP inside a stored CIDR, a subdomain of a
// stored domain, a stored md5); the misses are outside the CIDR block, unknown domains and md5s.
#include <curl/curl.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/common/http_bench.h"
#include "bench/common/member_data.h"
#include "benchmark/benchmark.h"
#include "core/event.h"
#include "core/indicator.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "portal/portal.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::portal {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int64_t kStored = 1'000'000;  // indicators per member
constexpr int kMembers = 3;
const char* const kMemberNames[kMembers] = {"anonymity", "honeypot", "third"};
constexpr const char* kMispMember = "third-misp";

using bench::Dataset;

struct Member {
  Dataset data;
  std::unique_ptr<node::Node> node;
  std::unique_ptr<net::HttpServer> server;
  std::string key;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

// Three member nodes, the portal and its server, built on first use.
struct Fixture {
  std::string dir;
  Member members[kMembers];
  std::unique_ptr<Portal> portal;
  std::unique_ptr<net::HttpServer> server;
  std::string key;  // an analyst's portal key
  std::string base_url;
  double cidr_cache_seconds = -1;  // the MISP member's CIDR cache load, once

  Fixture() {
    dir = ::iocgrid::test::MakeTempDir("iocgrid-portalbench");
    for (int i = 0; i < kMembers; ++i) StartMember(i);
    PortalConfig config;
    config.data = dir + "/portal";
    // Generous budgets: the bench measures, it must not cut the slow variant short.
    config.search_timeout = 300s;
    for (int i = 0; i < kMembers; ++i) {
      config.members.push_back(
          MemberConfigFor(kMemberNames[i], federation::MemberKind::kIocgrid, members[i]));
    }
    config.members.push_back(
        MemberConfigFor(kMispMember, federation::MemberKind::kMisp, members[2]));
    auto p = Portal::Open(config);
    if (!p.ok()) {
      std::fprintf(stderr, "Portal::Open: %s\n", p.status().ToString().c_str());
      std::abort();
    }
    portal = std::move(*p);
    auto k = portal->store().CreateUserKey("alice", Role::kAnalyst);
    if (!k.ok()) std::abort();
    key = *k;
    Portal* raw = portal.get();
    auto started = net::HttpServer::Start(net::ServerOptions{},
                                          [raw](net::Request& r) { return raw->Handle(r); });
    if (!started.ok()) std::abort();
    server = std::move(*started);
    base_url = "http://127.0.0.1:" + std::to_string(server->port());
  }

  static federation::MemberConfig MemberConfigFor(std::string name, federation::MemberKind kind,
                                                  const Member& m) {
    federation::MemberConfig c;
    c.name = std::move(name);
    c.display_name = c.name;
    c.kind = kind;
    c.url = m.url();
    c.key = m.key;
    c.timeout = 300s;
    return c;  // batch_size 100, max_concurrent 4, page_limit 1000: the defaults
  }

  void StartMember(int i) {
    Member& m = members[i];
    const std::string mdir = dir + "/" + kMemberNames[i];
    std::filesystem::create_directories(mdir);
    double import_s = 0, open_s = 0;
    {
      bench::EventSpec spec;
      spec.seed = 1000 + static_cast<uint64_t>(i);
      spec.uuid = "5f4d3c2b-0000-4000-8000-0000000000" + std::to_string(10 + i);
      spec.info = std::string("portal bench: ") + kMemberNames[i];
      spec.org = std::string("BENCH-") + kMemberNames[i];
      spec.domain_prefix = std::string(1, static_cast<char>('a' + i));
      spec.attributes = kStored;
      const core::Event event = bench::BuildMemberEvent(spec, &m.data);
      auto store = store::Store::Open(mdir, {});
      if (!store.ok()) std::abort();
      const auto t0 = Clock::now();
      auto stats = (*store)->ImportEvents({&event, 1}, {});
      import_s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!stats.ok() || stats->attributes_added != static_cast<uint64_t>(kStored)) {
        std::fprintf(stderr, "import failed: %s\n", stats.status().ToString().c_str());
        std::abort();
      }
    }
    node::NodeOptions options;
    options.data_dir = mdir;
    const auto t0 = Clock::now();
    auto opened = node::Node::Open(options);
    open_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!opened.ok()) std::abort();
    m.node = std::move(*opened);
    auto user = m.node->store().EnsureUser("portal@alliance.test", "Alliance", store::Role::kAdmin);
    if (!user.ok()) std::abort();
    auto k = m.node->store().CreateKey(user->id, store::KeyOptions{});
    if (!k.ok()) std::abort();
    m.key = k->key;
    node::Node* raw = m.node.get();
    auto started = net::HttpServer::Start(net::ServerOptions{},
                                          [raw](net::Request& r) { return raw->Handle(r); });
    if (!started.ok()) std::abort();
    m.server = std::move(*started);
    std::fprintf(stderr,
                 "portal bench: member %s: %lld indicators imported in %.2f s, Node::Open %.2f s\n",
                 kMemberNames[i], static_cast<long long>(kStored), import_s, open_s);
  }

  // The first search asking the MISP member for in-range would load its CIDR cache (every
  // network attribute of the member, paged restSearch by type); do it once, untimed, and report it.
  void WarmMispCidrCache() {
    if (cidr_cache_seconds >= 0) return;
    const auto t0 = Clock::now();
    Status st = portal->federation().RefreshCidrCache(kMispMember);
    cidr_cache_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "portal bench: %s CIDR cache loaded in %.2f s (%s)\n", kMispMember,
                 cidr_cache_seconds, st.ToString().c_str());
    if (!st.ok()) std::abort();
  }

  ~Fixture() {
    server.reset();
    portal.reset();
    for (auto& m : members) {
      m.server.reset();
      m.node.reset();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& GetFixture() {
  static Fixture* fixture = new Fixture();
  static const bool registered = [] {
    std::atexit([] { delete &GetFixture(); });
    return true;
  }();
  (void)registered;
  return *fixture;
}

// An address inside a stored CIDR "a.b.c.d/p".
// n query values, about `hit_fraction` of them hitting one of the members.
std::vector<std::string> Queries(const Fixture& f, size_t n, double hit_fraction, uint64_t seed) {
  std::vector<const Dataset*> sets;
  for (const Member& m : f.members) sets.push_back(&m.data);
  return bench::Queries(sets, n, hit_fraction, seed);
}

// A keep-alive libcurl easy handle: consecutive requests reuse its connection.
class Client {
 public:
  explicit Client(const std::string& key) : curl_(curl_easy_init()) {
    headers_ = curl_slist_append(headers_, ("Authorization: " + key).c_str());
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Expect:");
  }
  ~Client() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  // Returns the HTTP status (-1 on a transport error); the body in *out. For an SSE stream the
  // call returns when the server ends the stream (after "event: done").
  long Call(const char* method, const std::string& url, const std::string* body, std::string* out) {
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (body != nullptr) {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else if (std::string_view(method) != "GET") {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
    }
    return bench::PerformInto(curl_, out);
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

// A parser callback that drops the document's "indicators" list (the bulk of it).
bool SkipIndicators(int depth, json::parse_event_t event, json& parsed) {
  return !(depth == 1 && event == json::parse_event_t::key && parsed == "indicators");
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// One search of state.range(0) IoCs end to end; `misp` replaces "third" with "third-misp".
void RunSearches(benchmark::State& state, bool misp) {
  Fixture& f = GetFixture();
  if (misp) f.WarmMispCidrCache();
  const size_t n = static_cast<size_t>(state.range(0));
  const auto values = Queries(f, n, 0.01, 7 + n);
  json body = {
      {"indicators", values},
      {"members", {kMemberNames[0], kMemberNames[1], misp ? kMispMember : kMemberNames[2]}},
      {"label", "portal bench"}};
  const std::string post_body = body.dump();
  const std::string searches = f.base_url + "/api/v1/searches";
  Client api(f.key), sse(f.key);
  std::string created, events, doc, scratch;
  std::vector<double> total, post, done, fetched, again;
  std::map<std::string, std::vector<double>> member_ms;
  json last;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    long st = api.Call("POST", searches, &post_body, &created);
    const auto t1 = Clock::now();
    if (st != 201) {
      state.SkipWithError(
          ("POST status " + std::to_string(st) + ": " + created.substr(0, 200)).c_str());
      break;
    }
    const json id_doc = json::parse(created, nullptr, false);
    const std::string id = id_doc.is_object() ? id_doc.value("id", "") : "";
    const std::string url = searches + "/" + id;
    st = sse.Call("GET", url + "/events", nullptr, &events);
    const auto t2 = Clock::now();
    if (st != 200 || events.find("event: done") == std::string::npos) {
      state.SkipWithError(
          ("SSE status " + std::to_string(st) + ": " + events.substr(0, 200)).c_str());
      break;
    }
    st = api.Call("GET", url, nullptr, &doc);
    const auto t3 = Clock::now();
    if (st != 200) {
      state.SkipWithError(("GET status " + std::to_string(st) + ": " + doc.substr(0, 200)).c_str());
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(t3 - t0).count());
    total.push_back(Ms(t0, t3));
    post.push_back(Ms(t0, t1));
    done.push_back(Ms(t0, t2));
    fetched.push_back(Ms(t2, t3));
    // Untimed: check the result and drop the search.
    // The per-indicator rows are skipped (the bench checks statuses, not hits, per iteration).
    last = json::parse(doc, SkipIndicators, false);
    if (!last.is_object() || last.value("status", "") != "done") {
      state.SkipWithError(("search not done: " + doc.substr(0, 200)).c_str());
      break;
    }
    for (const auto& m : last["members"]) {
      if (m.value("status", "") != "done") {
        state.SkipWithError(("member " + m.value("member", "") + " " + m.value("status", "") +
                             ": " + m.value("error", ""))
                                .c_str());
        break;
      }
      member_ms[m.value("member", "")].push_back(
          static_cast<double>(m.value("elapsed_ms", int64_t{0})));
    }
    // The same document once more, now that the portal has finished persisting the search: the
    // difference to doc_ms is what the first fetch spent waiting for Portal::Impl::Finish.
    const auto t4 = Clock::now();
    api.Call("GET", url, nullptr, &scratch);
    again.push_back(Ms(t4, Clock::now()));
    api.Call("DELETE", url, nullptr, &scratch);
  }
  state.counters["p50_ms"] = bench::Percentile(total, 0.50);
  state.counters["p99_ms"] = bench::Percentile(total, 0.99);
  state.counters["max_ms"] = bench::Percentile(total, 1.0);
  state.counters["post_ms"] = bench::Percentile(post, 0.50);
  state.counters["sse_done_ms"] = bench::Percentile(done, 0.50);
  state.counters["doc_ms"] = bench::Percentile(fetched, 0.50);
  state.counters["doc_again_ms"] = bench::Percentile(again, 0.50);  // untimed
  for (const auto& [name, v] : member_ms)
    state.counters["fed_" + name + "_ms"] = bench::Percentile(v, 0.50);
  state.counters["doc_kb"] = static_cast<double>(doc.size()) / 1024;
  if (last.is_object() && last.contains("summary")) {
    state.counters["matched"] = last["summary"].value("matched", 0);
    state.counters["hits"] = last["summary"].value("hits", 0);
  }
  if (misp) state.counters["cidr_cache_s"] = f.cidr_cache_seconds;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}

// 1,000 (or 10^5) IoCs across three iocgrid members (one POST /grid/v1/match each).
void BM_PortalSearch(benchmark::State& state) { RunSearches(state, /*misp=*/false); }
BENCHMARK(BM_PortalSearch)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_PortalSearch)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

// The same with the third member asked through the MISP connector.
void BM_PortalSearchMispMember(benchmark::State& state) { RunSearches(state, /*misp=*/true); }
BENCHMARK(BM_PortalSearchMispMember)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);
BENCHMARK(BM_PortalSearchMispMember)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
}  // namespace iocgrid::portal
