// Helpers shared by the benchmarks that drive a server over loopback HTTP (node, portal): the
// libcurl request into a std::string and the latency percentile.
//
// Thread-safety: pure functions.
#pragma once

#include <curl/curl.h>

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

// Performs the request set up on `curl` (TCP_NODELAY), its body into *out (cleared first):
// the HTTP status, or -1 on a transport error.
inline long PerformInto(CURL* curl, std::string* out) {
  out->clear();
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  if (curl_easy_perform(curl) != CURLE_OK) return -1;
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
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
