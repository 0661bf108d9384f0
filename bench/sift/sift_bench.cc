// Log sifting throughput (issue 9 goals: >= 10^6 Apache combined lines/s per core, >= 300k EVE
// lines/s), on synthetic logs shaped like real ones: 10^4 distinct clients, realistic request
// lines and user agents; EVE as a sensor writes it (flow, http, dns, tls, alert events).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "sift/log_parser.h"
#include "sift/sifter.h"

namespace iocgrid::sift {
namespace {

std::string Ip(std::mt19937_64& rng, uint32_t clients) {
  uint32_t v = 0x51000000u + static_cast<uint32_t>(rng() % clients) * 7919u;
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." +
         std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

const std::string& CombinedLog() {
  static const std::string log = [] {
    std::mt19937_64 rng(1);
    static const char* kPaths[] = {"/",
                                   "/index.html",
                                   "/wp-login.php",
                                   "/static/app.js?v=3",
                                   "/api/v1/items/12345",
                                   "/images/logo-large.png"};
    static const char* kAgents[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/119.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.4.0"};
    std::string out;
    for (int i = 0; i < 200000; ++i) {
      int sec = i % 60, min = (i / 60) % 60, hour = (i / 3600) % 24;
      char ts[64];
      std::snprintf(ts, sizeof ts, "[15/Dec/2023:%02d:%02d:%02d +0100]", hour, min, sec);
      out += Ip(rng, 10000) + " - - " + ts + " \"GET " + kPaths[rng() % 6] + " HTTP/1.1\" 200 " +
             std::to_string(rng() % 50000) + " \"https://www.example.org/\" \"" +
             kAgents[rng() % 3] + "\"\n";
    }
    return out;
  }();
  return log;
}

const std::string& EveLog() {
  static const std::string log = [] {
    std::mt19937_64 rng(2);
    std::string out;
    for (int i = 0; i < 100000; ++i) {
      std::string src = Ip(rng, 10000), dst = Ip(rng, 2000);
      std::string head =
          R"({"timestamp":"2024-12-17T19:17:54.565494-0500","flow_id":739928877279099,"in_iface":"eth0","event_type":")";
      std::string addr = R"(","src_ip":")" + src + R"(","src_port":55551,"dest_ip":")" + dst +
                         R"(","dest_port":443,"proto":"TCP",)";
      switch (rng() % 5) {
        case 0:
          out +=
              head + "flow" + addr +
              R"("app_proto":"tls","flow":{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":1530,"bytes_toclient":5120,"start":"2024-12-17T19:17:54.565494-0500","end":"2024-12-17T19:17:55.565494-0500","age":1,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}})";
          break;
        case 1:
          out +=
              head + "http" + addr + R"("tx_id":0,"http":{"hostname":"www.site)" +
              std::to_string(rng() % 500) + R"(.example.net","url":"/index.php?id=)" +
              std::to_string(rng() % 1000) +
              R"j(","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":5120}})j";
          break;
        case 2:
          out +=
              head + "dns" + addr +
              R"("dns":{"version":2,"type":"answer","id":3304,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"cdn)" +
              std::to_string(rng() % 500) +
              R"(.example.net","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"cdn.example.net","rrtype":"A","ttl":300,"rdata":")" +
              dst + R"("}],"grouped":{"A":[")" + dst + R"("]}}})";
          break;
        case 3:
          out +=
              head + "tls" + addr +
              R"("tls":{"subject":"CN=www.example.net","issuerdn":"C=US, O=Let's Encrypt, CN=R3","serial":"04:2B","fingerprint":"aa:bb:cc","sni":"www.site)" +
              std::to_string(rng() % 500) +
              R"(.example.net","version":"TLS 1.3","notbefore":"2024-01-01T00:00:00","notafter":"2024-04-01T00:00:00","ja3":{"hash":"e7d705a3286e19ea42f587b344ee6865"}}})";
          break;
        default:
          out +=
              head + "alert" + addr +
              R"("tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":2024897,"rev":2,"signature":"ET USER_AGENTS Go HTTP Client User-Agent","category":"Unknown Traffic","severity":3},"app_proto":"http","flow":{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":400,"bytes_toclient":300,"start":"2024-12-17T19:17:54.565494-0500"}})";
      }
      out += '\n';
    }
    return out;
  }();
  return log;
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

void SiftBench(benchmark::State& state, const std::string& log, LogFormat format) {
  for (auto _ : state) {
    SiftOptions o;
    o.format = format;
    Sifter s(o);
    benchmark::DoNotOptimize(s.AddContent("bench", log));
    benchmark::DoNotOptimize(s.observables().size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * Lines(log)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.size()));
}

// The whole sifter: line split, parse, raw-value cache, distinct observables, line groups.
void BM_SiftCombined(benchmark::State& state) {
  SiftBench(state, CombinedLog(), LogFormat::kCombined);
}
void BM_SiftEve(benchmark::State& state) { SiftBench(state, EveLog(), LogFormat::kEve); }

// The parser alone, line by line.
void ParseBench(benchmark::State& state, const std::string& log, LogFormat format) {
  auto parser = LineParser::Create(format, ParserOptions{});
  ParsedLine out;
  for (auto _ : state) {
    size_t pos = 0;
    while (pos < log.size()) {
      size_t nl = log.find('\n', pos);
      benchmark::DoNotOptimize(parser->Parse(std::string_view(log).substr(pos, nl - pos), &out));
      pos = nl + 1;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * Lines(log)));
}
void BM_ParseCombined(benchmark::State& state) {
  ParseBench(state, CombinedLog(), LogFormat::kCombined);
}
void BM_ParseEve(benchmark::State& state) { ParseBench(state, EveLog(), LogFormat::kEve); }

BENCHMARK(BM_SiftCombined)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SiftEve)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseCombined)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseEve)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace iocgrid::sift

BENCHMARK_MAIN();
