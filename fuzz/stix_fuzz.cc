// libFuzzer target for STIX 2.1 bundles (issue 8): ingest::LoadContent as stix (indicator
// patterns of simple comparisons, observables), and format detection on the same bytes.
// Properties: no crash, no hang; emitted attributes are normalized; stats match the events.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::ingest::InputFormat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  iocgrid::fuzz::LoadAndCheck("bundle.json", text, InputFormat::kStix);
  iocgrid::fuzz::LoadAndCheck("bundle.json", text, InputFormat::kAuto);
  return 0;
}
