// The fast value path (core/fast_value.h) on arbitrary bytes: whenever it takes a value, the
// generic guessing path must give the same type and value, and the value must be normalized.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/fast_value.h"
#include "core/indicator.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  core::Indicator fast;
  if (!core::GuessPlainIndicator(raw, &fast)) return 0;
  auto generic = core::GuessIndicatorGeneric(raw);
  if (!generic.ok()) fuzz::Fail("fast path took a value the generic path refuses", raw);
  if (generic->type != fast.type || generic->value != fast.value) {
    fuzz::Fail("fast and generic paths disagree",
               std::string(raw) + " -> " + fast.value + " / " + generic->value);
  }
  fuzz::CheckNormalized(fast);
  return 0;
}
