// Child process for crash_test.cc: writes to a store and is killed with SIGKILL by the parent.
//
//   iocgrid_store_crash_helper DIR FD big COUNT   one event of COUNT attributes in a single
//                                                 transaction; writes 'R' to FD from inside the
//                                                 transaction, then blocks there until killed.
//   iocgrid_store_crash_helper DIR FD many        events of 100 attributes each, one transaction
//                                                 per event, forever; writes 'R' after the first.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/store.h"
#include "store_test_util.h"

namespace {

using iocgrid::store::ImportOptions;
using iocgrid::store::Store;

void Signal(int fd) {
  const char ready = 'R';
  if (write(fd, &ready, 1) != 1) std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DIR FD big COUNT | many\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int fd = std::atoi(argv[2]);
  const std::string mode = argv[3];
  auto store = Store::Open(dir, {});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  if (mode == "big" && argc == 5) {
    const uint64_t count = std::strtoull(argv[4], nullptr, 10);
    iocgrid::core::Event event =
        iocgrid::store::testing::MakeEvent(iocgrid::store::testing::U(2), "killed mid-import",
                                           iocgrid::store::testing::ManyIps(count, 2, true));
    ImportOptions options;
    // Signal once most of the event has been written (pages have spilled to the WAL), then
    // park inside the open transaction until the parent's SIGKILL.
    options.progress = [&](uint64_t done) {
      if (done + 10'000 >= count) {
        Signal(fd);
        while (true) pause();
      }
    };
    auto stats = (*store)->ImportEvents({&event, 1}, options);
    std::fprintf(stderr, "import finished unexpectedly: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  if (mode == "many") {
    for (uint64_t i = 0;; ++i) {
      iocgrid::core::Event event = iocgrid::store::testing::MakeEvent(
          iocgrid::store::testing::U(i, 7), "batch " + std::to_string(i),
          iocgrid::store::testing::ManyIps(100, static_cast<uint32_t>(1000 + i), true));
      auto stats = (*store)->ImportEvents({&event, 1}, {});
      if (!stats.ok()) {
        std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
        return 1;
      }
      if (i == 0) Signal(fd);
    }
  }
  return 2;
}
