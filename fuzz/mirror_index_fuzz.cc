// libFuzzer target for a MISP mirror's reading of /events/index pages (node/mirror.h, issue 14):
// node::ParseMirrorIndex on any bytes, as a hostile or broken MISP could answer.
// Properties: no crash, no exception, no hang; every row it accepts has a 36-character lower-case
// uuid (safe to put in a URL path) and a timestamp of at most 18 digits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/ascii.h"
#include "fuzz/fuzz_checks.h"
#include "node/mirror.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto rows = iocgrid::node::ParseMirrorIndex(body);
  if (!rows.ok()) return 0;
  for (const iocgrid::node::MirrorIndexRow& row : *rows) {
    if (!iocgrid::LooksLikeUuid(row.uuid) || iocgrid::AsciiLower(row.uuid) != row.uuid) {
      iocgrid::fuzz::Fail("mirror_index", "a row's uuid is not a lower-case uuid");
    }
    if (row.timestamp < 0 || row.timestamp > 999'999'999'999'999'999) {
      iocgrid::fuzz::Fail("mirror_index", "a timestamp out of range");
    }
  }
  return 0;
}
