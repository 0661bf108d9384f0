// libFuzzer target for MISP feeds and warninglists (issue 8): a feed's manifest.json and
// hashes.csv (recognized and skipped by format detection), warninglist list.json (string, cidr,
// hostname, substring and regex lists), each through ingest::LoadContent.
// Properties: no crash, no hang; emitted attributes are normalized; stats match the events.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::ingest::InputFormat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  iocgrid::fuzz::LoadAndCheck("list.json", text, InputFormat::kWarninglist);
  // Detection decides between manifest, warninglist, event, STIX and the text formats.
  iocgrid::fuzz::LoadAndCheck("manifest.json", text, InputFormat::kAuto);
  iocgrid::fuzz::LoadAndCheck("hashes.csv", text, InputFormat::kAuto);
  return 0;
}
