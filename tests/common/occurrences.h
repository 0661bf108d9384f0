// Which of many values occur in a large text (the private-search tests' "no value on the wire or
// in the node's files"): one pass over the text, not one search per value. Every window of
// kGram bytes is looked up among the values' first kGram bytes, and a candidate is compared in
// full, so the answer is exact; values shorter than kGram are not looked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iocgrid::test {

inline constexpr size_t kGram = 7;

// The window's kGram bytes as a number (the byte order does not matter, only that it is fixed).
inline uint64_t GramKey(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, kGram);
  return v;
}

inline std::set<std::string> Occurrences(std::string_view text,
                                         const std::vector<std::string>& values) {
  std::unordered_map<uint64_t, std::vector<std::string_view>> by_gram;
  std::vector<bool> maybe(size_t{1} << 20);  // a filter on the gram, so most windows end here
  auto slot = [](uint64_t key) { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 44); };
  for (const std::string& v : values) {
    if (v.size() < kGram) continue;
    const uint64_t key = GramKey(v.data());
    by_gram[key].push_back(v);
    maybe[slot(key)] = true;
  }
  std::set<std::string> found;
  for (size_t i = 0; i + kGram <= text.size(); ++i) {
    const uint64_t key = GramKey(text.data() + i);
    if (!maybe[slot(key)]) continue;
    auto it = by_gram.find(key);
    if (it == by_gram.end()) continue;
    for (std::string_view v : it->second) {
      if (text.substr(i, v.size()) == v) found.emplace(v);
    }
  }
  return found;
}

}  // namespace iocgrid::test
