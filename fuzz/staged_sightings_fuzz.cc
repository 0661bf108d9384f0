// libFuzzer target for the portal's staged alliance sightings (alliance_pending.body, issue
// 12): portal::internal::DecodeStagedSightings on any bytes.
// Properties: no crash, no exception, no hang, no allocation beyond the input's size; a decoded
// batch encodes to bytes that decode to the same batch.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "portal/internal/staged_sightings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using iocgrid::portal::internal::DecodeStagedSightings;
  using iocgrid::portal::internal::EncodeStagedSightings;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = DecodeStagedSightings(bytes);
  if (!batch.ok()) return 0;
  const std::string again = EncodeStagedSightings(*batch);
  if (again.size() > bytes.size()) iocgrid::fuzz::Fail("staged", "encodes to more bytes");
  auto twice = DecodeStagedSightings(again);
  if (!twice.ok() || twice->size() != batch->size()) {
    iocgrid::fuzz::Fail("staged", "its encoding does not decode");
  }
  if (EncodeStagedSightings(*twice) != again) iocgrid::fuzz::Fail("staged", "not stable");
  return 0;
}
