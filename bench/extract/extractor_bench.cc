// Extraction throughput (issue 5 goal: >= 200 MB/s per core) on a large mixed corpus: the
// shared F_reports concatenated until the corpus reaches the requested size.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "extract/extractor.h"

namespace iocgrid::extract {
namespace {

const std::string& Reports() {
  static const std::string text = [] {
    std::vector<std::filesystem::path> files;
    for (const auto& e :
         std::filesystem::directory_iterator(IOCGRID_SHARED_DATA_DIR "/F_reports")) {
      files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream buf;
      buf << in.rdbuf();
      all += buf.str();
      all += '\n';
    }
    return all;
  }();
  return text;
}

std::string Corpus(size_t bytes) {
  std::string out;
  out.reserve(bytes + Reports().size());
  while (out.size() < bytes) out += Reports();
  return out;
}

const Extractor& Shared() {
  static const std::unique_ptr<Extractor> e = std::move(*Extractor::Create(ExtractOptions{}));
  return *e;
}

// Extracts from `corpus` once an iteration; bytes processed are the corpus'.
void RunExtract(benchmark::State& state, const std::string& corpus) {
  const Extractor& e = Shared();
  for (auto _ : state) {
    auto found = e.Extract(corpus);
    benchmark::DoNotOptimize(found);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(corpus.size()));
}

void BM_ExtractMixedReports(benchmark::State& state) {
  std::string corpus = Corpus(static_cast<size_t>(state.range(0)));
  RunExtract(state, corpus);
}
BENCHMARK(BM_ExtractMixedReports)->Arg(1 << 20)->Arg(32 << 20)->Unit(benchmark::kMillisecond);

// Prose without indicators: the cost of the scan itself.
void BM_ExtractProse(benchmark::State& state) {
  std::string sentence =
      "The actor moved laterally over several weeks, and the analysts (see section 4.2) found "
      "no further activity after the remediation; e.g. the version 2.1 agent was removed.\n";
  std::string corpus;
  while (corpus.size() < static_cast<size_t>(state.range(0))) corpus += sentence;
  RunExtract(state, corpus);
}
BENCHMARK(BM_ExtractProse)->Arg(32 << 20)->Unit(benchmark::kMillisecond);

void BM_CreateExtractor(benchmark::State& state) {
  for (auto _ : state) {
    auto e = Extractor::Create(ExtractOptions{});
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_CreateExtractor)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace iocgrid::extract

BENCHMARK_MAIN();
