// libFuzzer target for MISP restSearch parameters (issue 8): a request body through the node's
// steps (fuzz/node_body.h), then node::ParseSearchParams with a fixed clock, and the events/index
// filters as node.cc builds them ({"value": <filter>}).
// Properties: no crash (deep nesting included), no exception, no hang; a parsed page is >= 1.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "fuzz/node_body.h"
#include "node/internal/search_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  constexpr int64_t kNow = 1700000000;  // fixed, so that a crash replays the same way
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = fuzz::NodeBody(text);
  if (!body) return 0;
  auto params = node::ParseSearchParams(*body, kNow);
  if (params.ok() && params->page == 0) fuzz::Fail("restSearch page 0", text);
  // events/index: each of these filters is parsed as a restSearch "value".
  if (body->is_object()) {
    for (const char* name : {"eventid", "org", "tags", "eventinfo"}) {
      if (!body->contains(name)) continue;
      nlohmann::json sub = {{"value", (*body)[name]}};
      (void)node::ParseSearchParams(sub, kNow);
    }
  }
  return 0;
}
