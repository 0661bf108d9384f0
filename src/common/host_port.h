// "HOST:PORT" as given in configs and flags (--listen, member URLs' authorities): one parser for
// every server, so that a port out of range is an error everywhere instead of wrapping
// (70000 must not become 4464).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid {

struct HostPort {
  std::string host;  // without brackets for IPv6 ("::1")
  uint16_t port = 0;
};

// Accepts "host:port", "1.2.3.4:port" and "[v6]:port"; the port is decimal 0-65535 (0 lets
// the system choose, for tests). Errors: kInvalidArgument naming the problem.
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace iocgrid
