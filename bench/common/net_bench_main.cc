// main() of the benchmarks that use net/ (libcurl and Asio): net's global setup comes first.
#include "benchmark/benchmark.h"
#include "net/http_client.h"

int main(int argc, char** argv) {
  iocgrid::net::GlobalInit();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
