// libFuzzer target for the portal's stored distinct-value sketches (sector_sketches, issue 12):
// portal::internal::DistinctSketch::Decode on any bytes.
// Properties: no crash, no exception, no hang; a decoded sketch encodes back to the same bytes,
// merging it into itself changes nothing, and merging it into an exact sketch of one value
// counts at least as many as either.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "portal/internal/distinct_sketch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::portal::internal::DistinctSketch;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto sketch = DistinctSketch::Decode(bytes);
  if (!sketch.ok()) return 0;
  if (sketch->Encode() != bytes) iocgrid::fuzz::Fail("sketch", "encodes to other bytes");
  DistinctSketch twice = *sketch;
  twice.Merge(*sketch);
  if (twice.Encode() != bytes) iocgrid::fuzz::Fail("sketch", "merging itself changed it");
  DistinctSketch one;
  one.Add(DistinctSketch::Hash("ip-src", "192.0.2.1"));
  one.Merge(*sketch);
  if (one.Count() + 1 < sketch->Count()) iocgrid::fuzz::Fail("sketch", "a union counts less");
  return 0;
}
