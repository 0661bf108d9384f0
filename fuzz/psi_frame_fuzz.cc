// libFuzzer target for the private-search frames (issue 10, psi/wire.h): psi::ParseFrame with the
// default limits and with small ones. Properties: no crash, no hang, no allocation beyond the
// input's size; an accepted frame re-encodes to exactly the input (the encoding is canonical:
// reserved bytes zero, no trailing bytes, lengths that add up), its item count is within the
// limits, and parsing it as another kind fails.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "psi/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::psi::FrameKind;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  iocgrid::psi::FrameLimits small;
  small.max_items = 4;
  small.max_label_bytes = 64;
  small.max_bucket_bits = 8;
  for (const iocgrid::psi::FrameLimits& limits : {iocgrid::psi::FrameLimits{}, small}) {
    auto frame = iocgrid::psi::ParseFrame(bytes, limits);
    if (!frame.ok()) continue;
    if (iocgrid::psi::EncodeFrame(*frame) != bytes) {
      iocgrid::fuzz::Fail("psi frame does not re-encode to its input",
                          iocgrid::psi::FrameKindName(frame->kind));
    }
    if (frame->size() > limits.max_items) {
      iocgrid::fuzz::Fail("psi frame over its item limit", std::to_string(frame->size()));
    }
    FrameKind other = frame->kind == FrameKind::kPoints ? FrameKind::kTags : FrameKind::kPoints;
    if (iocgrid::psi::ParseFrameOf(other, bytes, limits).ok()) {
      iocgrid::fuzz::Fail("psi frame parsed as another kind", "");
    }
  }
  return 0;
}
