#pragma once
// Peak resident memory (VmHWM of /proc/PID/status) for tests that bound what a request may
// cost. The one copy for node, portal and e2e tests.

#include <fstream>
#include <sstream>
#include <string>

namespace iocgrid::test {

// Clears this process's peak so the next reading starts from the current resident size.
inline void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// VmHWM in KiB of `pid` ("self" = this process); -1 when unreadable.
inline long PeakRssKib(const std::string& pid = "self") {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      long kib = -1;
      fields >> kib;
      return kib;
    }
  }
  return -1;
}

}  // namespace iocgrid::test
