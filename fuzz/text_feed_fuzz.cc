// libFuzzer target for the text feed formats (issue 8): CSV/TSV with a header naming the
// type/value columns, plain one-value-per-line lists (defanged values refanged, types guessed)
// and IPsum "ip<TAB>count" lists, each through ingest::LoadContent, plus format detection.
// Properties: no crash, no hang; emitted attributes are normalized; stats match the events.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::ingest::InputFormat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (InputFormat format :
       {InputFormat::kCsv, InputFormat::kPlain, InputFormat::kIpsum, InputFormat::kAuto}) {
    iocgrid::fuzz::LoadAndCheck("feed.txt", text, format);
  }
  return 0;
}
