// Private search against a real node over loopback HTTP (issue 10; figures in
// docs/private-search.md): the node's precompute from first use to ready (store reads, OPRF,
// labels, store writes), per core and on two threads; the full tag set's download; and 1,000
// queries online through psi::Querier (evaluate, labels; bucketed mode adds the bucket request)
// for exact-only queries and for IPv4 queries with in-range. Member data as the other node
// benchmarks (bench/common/member_data.h); queries about half hits.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/member_data.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "psi/querier.h"
#include "psi/wire.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

// A node over `n` member values with its server; the store is built on construction.
struct PsiNode {
  std::string dir;
  bench::Dataset data;
  std::unique_ptr<Node> node;
  std::unique_ptr<net::HttpServer> server;
  std::string key;

  PsiNode(int64_t n, int threads) {
    dir = ::iocgrid::test::MakeTempDir("iocgrid-psibench");
    bench::EventSpec spec;
    spec.uuid = "5f4d3c2b-0000-4000-8000-00000000b0b0";
    spec.info = "psi bench";
    spec.attributes = n;
    const core::Event event = bench::BuildMemberEvent(spec, &data);
    {
      auto store = store::Store::Open(dir, {});
      if (!store.ok() || !(*store)->ImportEvents({&event, 1}, {}).ok()) std::abort();
    }
    NodeOptions options;
    options.data_dir = dir;
    options.psi.precompute_threads = threads;
    options.psi.poll = std::chrono::milliseconds(50);
    auto opened = Node::Open(options);
    if (!opened.ok()) std::abort();
    node = std::move(*opened);
    auto user = node->store().EnsureUser("bench@alliance.test", "Alliance", store::Role::kUser);
    auto k = node->store().CreateKey(user->id, store::KeyOptions{});
    if (!k.ok()) std::abort();
    key = k->key;
    Node* raw = node.get();
    net::ServerOptions server_options;
    server_options.worker_threads = 2;
    auto started =
        net::HttpServer::Start(server_options, [raw](net::Request& r) { return raw->Handle(r); });
    if (!started.ok()) std::abort();
    server = std::move(*started);
  }
  ~PsiNode() {
    server.reset();
    node.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  net::ClientResponse Call(const std::string& method, const std::string& path,
                           const std::string& body = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(server->port()) + path;
    req.body = body;
    req.headers = {{"Authorization", key}};
    req.max_response_bytes = size_t{1} << 30;
    auto r = net::Fetch(req);
    if (!r.ok()) std::abort();
    return *r;
  }

  json Info() { return json::parse(Call("GET", "/grid/v1/psi/info").body); }

  // Blocks until the precompute has drained its queue.
  void WaitReady() {
    while (!Info().value("ready", false))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  psi::Frame Frame(const net::ClientResponse& r, psi::FrameKind kind) {
    psi::FrameLimits limits;
    limits.max_items = size_t{1} << 24;
    auto f = psi::ParseFrameOf(kind, r.body, limits);
    if (r.status != 200 || !f.ok()) std::abort();
    return *f;
  }
};

psi::PrefixLengths LengthsFrom(const json& j) {
  psi::PrefixLengths out;
  for (unsigned v : j["v4"]) out.v4.set(v);
  for (unsigned v : j["v6"]) out.v6.set(v);
  return out;
}

// First use to ready: items are stored values; arg 1 = precompute threads.
void BM_NodePsiPrecompute(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    PsiNode n(state.range(0), static_cast<int>(state.range(1)));
    state.ResumeTiming();
    n.Info();  // creates the key: every attribute queued
    n.WaitReady();
    state.PauseTiming();
    json info = n.Info();
    state.counters["tags"] = info["tags"].get<double>();
    state.counters["below_tags"] = info["below_tags"].get<double>();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_NodePsiPrecompute)
    ->Args({20000, 1})
    ->Args({20000, 2})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

constexpr int64_t kOnlineMember = 100000;

PsiNode& OnlineNode() {
  static PsiNode* n = [] {
    auto* node = new PsiNode(kOnlineMember, 2);
    node->Info();
    node->WaitReady();
    return node;
  }();
  return *n;
}

// The full set of value tags, paged as a querier syncs it; bytes and tags per member value.
void BM_NodePsiFullSetDownload(benchmark::State& state) {
  PsiNode& n = OnlineNode();
  size_t bytes = 0;
  size_t tags = 0;
  for (auto _ : state) {
    bytes = 0;
    tags = 0;
    uint64_t gen = 0;
    uint64_t id = 0;
    while (true) {
      auto r = n.Call("GET", "/grid/v1/psi/tags?full=1&after_generation=" + std::to_string(gen) +
                                 "&after_id=" + std::to_string(id));
      psi::Frame f = n.Frame(r, psi::FrameKind::kTags);
      bytes += r.body.size();
      tags += f.tags.size();
      gen = f.cursor_generation;
      id = f.cursor_id;
      if (f.param == 0) break;
    }
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["tags_per_value"] = static_cast<double>(tags) / kOnlineMember;
  state.counters["MB_at_1e6_values"] = static_cast<double>(bytes) / 1e6 * 1e6 / kOnlineMember;
}
BENCHMARK(BM_NodePsiFullSetDownload)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// 1,000 queries online. arg 0: 0 = md5 (exact), 1 = IPv4 addresses (in-range); arg 1: 0 =
// full-set mode (the synced set is in memory), 1 = bucketed (16 bits).
void BM_NodePsiOnline1000(benchmark::State& state) {
  PsiNode& n = OnlineNode();
  const bool ipv4 = state.range(0) == 1;
  const bool bucketed = state.range(1) == 1;
  std::mt19937_64 rng(11);
  std::vector<core::Indicator> queries;
  while (queries.size() < 1000) {
    std::string v;
    const bool hit = rng() % 2 == 0;
    if (ipv4) {
      v = hit ? bench::IpInside(n.data.cidrs[rng() % n.data.cidrs.size()], rng)
              : bench::Ip(bench::PublicIp(rng, true));
    } else {
      v = hit ? n.data.md5s[rng() % n.data.md5s.size()] : bench::Hex(rng, 32);
    }
    queries.push_back(*core::GuessIndicator(v));
  }
  const json info = n.Info();
  const uint32_t epoch = info["epoch"];
  const psi::RangeDeclaration declaration{LengthsFrom(info["ranges"]), LengthsFrom(info["below"])};
  std::set<psi::Tag> full;
  if (!bucketed) {
    psi::Frame f =
        n.Frame(n.Call("GET", "/grid/v1/psi/tags?full=1&limit=262144"), psi::FrameKind::kTags);
    full.insert(f.tags.begin(), f.tags.end());
  }
  size_t wire = 0;
  size_t keys = 0;
  size_t matched = 0;
  for (auto _ : state) {
    wire = 0;
    psi::Querier q(queries, declaration, epoch, psi::QuerierOptions{});
    std::vector<psi::Frame> answers;
    for (const psi::Frame& f : q.Blind()) {
      std::string body = psi::EncodeFrame(f);
      auto r = n.Call("POST", "/grid/v1/psi/evaluate", body);
      wire += body.size() + r.body.size();
      answers.push_back(n.Frame(r, psi::FrameKind::kPoints));
    }
    if (!q.AcceptEvaluations(answers).ok()) std::abort();
    std::set<psi::Tag> got;
    if (bucketed) {
      std::string body = psi::EncodeFrame(q.BucketRequest(false));
      auto r = n.Call("POST", "/grid/v1/psi/buckets", body);
      wire += body.size() + r.body.size();
      psi::Frame f = n.Frame(r, psi::FrameKind::kTags);
      got.insert(f.tags.begin(), f.tags.end());
    }
    const std::set<psi::Tag>& member = bucketed ? got : full;
    for (const psi::Frame& f :
         q.LabelRequests([&](const psi::Tag& t) { return member.count(t) > 0; })) {
      std::string body = psi::EncodeFrame(f);
      auto r = n.Call("POST", "/grid/v1/psi/labels", body);
      wire += body.size() + r.body.size();
      if (!q.AcceptLabels(n.Frame(r, psi::FrameKind::kLabels)).ok()) std::abort();
    }
    keys = q.key_count();
    matched = 0;
    for (const auto& c : q.contents()) matched += !c.empty();
  }
  state.counters["keys_per_ioc"] = static_cast<double>(keys) / 1000.0;
  state.counters["wire_bytes_per_ioc"] = static_cast<double>(wire) / 1000.0;
  state.counters["queries_with_labels"] = static_cast<double>(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_NodePsiOnline1000)
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace iocgrid::node

BENCHMARK_MAIN();
