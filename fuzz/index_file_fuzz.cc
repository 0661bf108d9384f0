// libFuzzer target for the kept index (index::MatchIndex::LoadFromFile, issue 14): a node reads
// DATA/index.snapshot at start, and a damaged file must be refused, never crash it or answer out
// of bounds. The input is written to a file and loaded.
// Properties: no crash, no exception, no hang; an index that loads answers a fixed set of
// queries (every relation) with hits on known records, and every entry's value is readable.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/indicator.h"
#include "fuzz/fuzz_checks.h"
#include "index/match_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/iocgrid-index-fuzz-" + std::to_string(getpid());
  static const std::vector<iocgrid::core::Indicator> queries = [] {
    std::vector<iocgrid::core::Indicator> q;
    for (const char* s : {"198.51.100.7", "10.0.0.0/8", "2001:db8::1", "a.evil.example",
                          "http://evil.example/x", "d41d8cd98f00b204e9800998ecf8427e"}) {
      auto p = iocgrid::core::GuessIndicator(s);
      if (p.ok()) q.push_back(*p);
    }
    return q;
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  std::string meta;
  std::vector<int64_t> records;
  auto index = iocgrid::index::MatchIndex::LoadFromFile(path, &meta, &records);
  if (!index.ok()) return 0;
  for (const iocgrid::index::Hit& h : (*index)->MatchAll(queries)) {
    if (h.record >= records.size()) iocgrid::fuzz::Fail("index_file", "a hit's record is unknown");
  }
  // Every entry's value is read (ASan would see one outside the arena).
  unsigned sum = 0;
  for (uint32_t e = 0; e < (*index)->size(); ++e) {
    for (char c : (*index)->entry_value(e)) sum += static_cast<unsigned char>(c);
  }
  if ((*index)->size() == 0 && sum != 0)
    iocgrid::fuzz::Fail("index_file", "values without entries");
  return 0;
}
