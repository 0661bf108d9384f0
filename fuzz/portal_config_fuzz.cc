// libFuzzer target for the portal's TOML config (issue 8): portal::ParseConfig (toml++ and the
// validation of every key) with relative paths resolved under a fixed folder that holds nothing.
// The node has no config file (flags only), so this is the project's one config parser.
// Properties: no crash, no exception, no hang; an accepted config has members with names and
// URLs and positive limits.
// Inputs that could name a device or /proc file are skipped ("dev", "proc", or a \u escape that
// could spell them): key_file is read as given (a trusted admin's file), and /dev/stdin,
// /dev/zero or /proc/kmsg would block or exhaust the run, not find a parser bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "portal/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view skip : {"dev", "proc", "\\u", "\\U"}) {
    if (text.find(skip) != std::string_view::npos) return 0;
  }
  auto config = portal::ParseConfig(text, "/nonexistent/iocgrid-fuzz");
  if (!config.ok()) return 0;
  for (const auto& m : config->members) {
    if (m.name.empty() || m.url.empty()) fuzz::Fail("member without name or url", text);
  }
  if (config->max_indicators == 0 || config->max_running_searches == 0) {
    fuzz::Fail("config accepted with a zero limit", text);
  }
  return 0;
}
