// Helpers shared by the benchmarks that drive a server over loopback HTTP (node, portal): the
// libcurl write callback into a std::string and the latency percentile.
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace iocgrid::bench {

// A CURLOPT_WRITEFUNCTION appending to the std::string that CURLOPT_WRITEDATA points to.
inline size_t AppendToString(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// The p-quantile (0..1, nearest rank) of `v`; 0 for none.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace iocgrid::bench
