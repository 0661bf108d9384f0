// Private-search benchmarks (issue 10; figures in docs/private-search.md): the member's precompute
// (key expansion, OPRF, tag, sealed label) per core, the size of a full tag set of 10^6 values,
// the member's evaluation per point, and the online cost of 1,000 queries (expansion, blinding,
// the member's evaluation, unblinding, tags) for exact-only queries and for IPv4 queries with
// in-range, with the wire bytes per query. One thread: every figure is per core.
//
// Member data: bench/common/member_data.h (60% IPv4 addresses, 20% CIDRs /16../28, 10% domains,
// 10% md5), the same as the node and portal benchmarks.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "bench/common/member_data.h"
#include "core/indicator.h"
#include "psi/keys.h"
#include "psi/oprf.h"
#include "psi/wire.h"

namespace iocgrid::psi {
namespace {

struct TagHash {
  size_t operator()(const Tag& t) const {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | t[static_cast<size_t>(i)];
    return static_cast<size_t>(v);
  }
};

struct Member {
  std::vector<core::Indicator> values;
  bench::Dataset data;
  RangeDeclaration declaration;
};

const Member& GetMember(size_t n) {
  static Member* member = nullptr;
  static size_t built = 0;
  if (member == nullptr || built != n) {
    if (!InitCrypto().ok()) std::abort();
    delete member;
    member = new Member();
    bench::EventSpec spec;
    spec.attributes = static_cast<int64_t>(n);
    core::Event event = bench::BuildMemberEvent(spec, &member->data);
    PrefixLengths lengths;
    for (core::Attribute& a : event.attributes) {
      CollectPrefixLengths(a.indicator, &lengths);
      member->values.push_back(std::move(a.indicator));
    }
    member->declaration = DeclareRanges(lengths, RangeOptions{});
    built = n;
  }
  return *member;
}

// Every key of the member's values, once (values share /16 and /24 below keys).
std::vector<std::string> DistinctKeys(const Member& m) {
  std::vector<std::string> keys;
  for (const core::Indicator& v : m.values) MemberKeys(v, RangeOptions{}, &keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// A label of the size a hit's context takes in JSON (one attribute with its event).
const std::string& SampleLabel() {
  static const std::string label(
      R"([{"part":"whole","type":"ip-dst","value":"203.0.113.7","category":"Network activity",)"
      R"("to_ids":true,"comment":"","attribute_uuid":"5c0ae9c0-6b8c-4e5e-8d1a-3a6b0f1c2d3e",)"
      R"("timestamp":1706700000,"first_seen":null,"last_seen":null,"sightings":0,"event":{"uuid":)"
      R"("4e5f6a7b-1c2d-4e3f-9a8b-7c6d5e4f3a2b","info":"Honeypot attackers","date":"2024-01-31",)"
      R"("org":"member-a","threat_level_id":4,"published":true},"tags":["tlp:amber"]}])");
  return label;
}

// The member's precompute: every key of `values` once (values share /16 below keys), each
// evaluated, tagged and given a sealed label. Items are stored values.
void BM_MemberPrecompute(benchmark::State& state) {
  const Member& m = GetMember(static_cast<size_t>(state.range(0)));
  const OprfKey key = OprfKey::Generate();
  size_t keys_done = 0;
  for (auto _ : state) {
    std::vector<std::string> keys = DistinctKeys(m);
    for (const std::string& k : keys) {
      OprfOutput out = DeriveOutput(k, key.EvaluateInput(k));
      std::string sealed = SealLabel(out, 1, SampleLabel());
      benchmark::DoNotOptimize(sealed.data());
    }
    keys_done += keys.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.counters["keys_per_value"] =
      static_cast<double>(keys_done) / static_cast<double>(state.iterations() * state.range(0));
  state.counters["keys_per_s"] =
      benchmark::Counter(static_cast<double>(keys_done), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MemberPrecompute)->Arg(4000)->Unit(benchmark::kMillisecond);

// The OPRF alone (H1, scalar multiplication, H2/H3), per key.
void BM_MemberEvaluateInput(benchmark::State& state) {
  if (!InitCrypto().ok()) std::abort();
  const OprfKey key = OprfKey::Generate();
  uint64_t i = 0;
  for (auto _ : state) {
    std::string input = "ip\0" + std::to_string(i++);
    OprfOutput out = DeriveOutput(input, key.EvaluateInput(input));
    benchmark::DoNotOptimize(out.tag.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MemberEvaluateInput);

// Key expansion of 10^6 values, and the full set's size: tags of value/range keys (what a
// querier without network queries downloads) and of below keys.
void BM_FullSetSize(benchmark::State& state) {
  const Member& m = GetMember(static_cast<size_t>(state.range(0)));
  size_t point = 0;
  size_t below = 0;
  for (auto _ : state) {
    std::vector<std::string> keys = DistinctKeys(m);
    below = static_cast<size_t>(std::count_if(
        keys.begin(), keys.end(), [](const std::string& k) { return KeyClass(k) == "below"; }));
    point = keys.size() - below;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  const double n = static_cast<double>(state.range(0));
  state.counters["tags_per_value"] = static_cast<double>(point) / n;
  state.counters["below_tags_per_value"] = static_cast<double>(below) / n;
  state.counters["full_set_MB"] = static_cast<double>(point * kTagBytes) / 1e6;
  state.counters["below_set_MB"] = static_cast<double>(below * kTagBytes) / 1e6;
}
BENCHMARK(BM_FullSetSize)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

// The member's answer to one blinded point (validation and scalar multiplication).
void BM_ServerEvaluate(benchmark::State& state) {
  if (!InitCrypto().ok()) std::abort();
  const OprfKey key = OprfKey::Generate();
  Blinded b = Blind("hash\0abc");
  for (auto _ : state) {
    Result<Point> p = key.Evaluate(b.point);
    benchmark::DoNotOptimize(p.ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ServerEvaluate);

// 1,000 queries online: arg 0 = exact-only (md5s), 1 = domains (parents too), 2 = IPv4 addresses
// with in-range (about half inside stored CIDRs). The member's tag set holds the tags of the
// values the queries hit, plus 10^6 random tags (a lookup costs nothing next to the OPRF).
void BM_Online1000(benchmark::State& state) {
  const Member& m = GetMember(200000);
  const int kind = static_cast<int>(state.range(0));
  std::mt19937_64 rng(7);
  std::vector<core::Indicator> queries;
  while (queries.size() < 1000) {
    std::string v;
    const bool hit = rng() % 2 == 0;
    if (kind == 0) {
      v = hit ? m.data.md5s[rng() % m.data.md5s.size()] : bench::Hex(rng, 32);
    } else if (kind == 1) {
      v = hit ? "www." + m.data.domains[rng() % m.data.domains.size()]
              : "x" + bench::Hex(rng, 8) + ".clean.test";
    } else {
      v = hit ? bench::IpInside(m.data.cidrs[rng() % m.data.cidrs.size()], rng)
              : bench::Ip(bench::PublicIp(rng, true));
    }
    auto parsed = core::GuessIndicator(v);
    if (parsed.ok()) queries.push_back(std::move(*parsed));
  }
  const OprfKey key = OprfKey::Generate();
  std::unordered_set<Tag, TagHash> member_tags;
  for (int i = 0; i < 1000000; ++i) {
    Tag t;
    for (auto& b : t) b = static_cast<uint8_t>(rng());
    member_tags.insert(t);
  }
  double client_s = 0;
  double server_s = 0;
  size_t total_keys = 0;
  size_t hits = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> keys;
    for (const core::Indicator& q : queries) {
      QueryKeys(q, m.declaration, QueryKeyOptions{}, &keys);
    }
    Frame request;
    request.kind = FrameKind::kPoints;
    std::vector<SecretScalar> inverses;
    inverses.reserve(keys.size());
    for (const std::string& k : keys) {
      Blinded b = Blind(k);
      request.points.push_back(b.point);
      inverses.push_back(b.inverse);
    }
    std::string request_bytes = EncodeFrame(request);
    auto t1 = std::chrono::steady_clock::now();
    Result<Frame> received = ParseFrameOf(FrameKind::kPoints, request_bytes, FrameLimits{});
    Frame answer;
    answer.kind = FrameKind::kPoints;
    for (const Point& p : received->points) answer.points.push_back(*key.Evaluate(p));
    std::string answer_bytes = EncodeFrame(answer);
    auto t2 = std::chrono::steady_clock::now();
    Result<Frame> evaluated = ParseFrameOf(FrameKind::kPoints, answer_bytes, FrameLimits{});
    for (size_t i = 0; i < keys.size(); ++i) {
      Result<Point> prf = Finalize(evaluated->points[i], inverses[i]);
      OprfOutput out = DeriveOutput(keys[i], *prf);
      hits += member_tags.count(out.tag);
    }
    auto t3 = std::chrono::steady_clock::now();
    client_s += std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count();
    server_s += std::chrono::duration<double>(t2 - t1).count();
    total_keys += keys.size();
    state.counters["wire_bytes_per_ioc"] =
        static_cast<double>(request_bytes.size() + answer_bytes.size()) / 1000.0;
  }
  benchmark::DoNotOptimize(hits);
  const double iterations = static_cast<double>(state.iterations());
  state.counters["keys_per_ioc"] = static_cast<double>(total_keys) / iterations / 1000.0;
  state.counters["client_ms"] = client_s / iterations * 1e3;
  state.counters["member_ms"] = server_s / iterations * 1e3;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_Online1000)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace iocgrid::psi

BENCHMARK_MAIN();
