// The fast value path (core/fast_value.h) on arbitrary bytes: whenever it takes a value, the
// generic guessing path must give the same type and value, and the value must be normalized.
// Also ParseIpv4, which both paths share (SSSE3 where the CPU has it), against its portable
// loop: the same answer and the same address for every input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/fast_value.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  uint32_t simd = 0;
  uint32_t portable = 0;
  const bool simd_ok = core::ParseIpv4(raw, &simd);
  if (simd_ok != core::ParseIpv4Portable(raw, &portable) || (simd_ok && simd != portable)) {
    fuzz::Fail("ParseIpv4 and its portable loop disagree", raw);
  }
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
