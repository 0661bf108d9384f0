// `iocgrid node mirror` and `node serve --mirror` (issue 14; docs/mirror.md): the flags that
// configure a MISP mirror (node/mirror.h), the one-sweep command, and the background loop a
// serving node runs.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/file_lock.h"
#include "common/mutex.h"
#include "common/result.h"
#include "node/mirror.h"
#include "store/store.h"

namespace iocgrid::app {

struct MirrorFlags {
  std::string url;
  std::string key;
  std::string key_file;
  int min_distribution = 1;
  std::vector<std::string> sharing_groups;
  std::string ca_file;
  std::string client_cert;
  std::string client_key;
  bool insecure = false;
  std::string proxy;
  uint32_t page_size = 500;
  uint32_t concurrency = 4;
  std::string timeout = "2m";
  // node serve only: how often to sweep, and to list everything (deletions).
  std::string interval = "5m";
  std::string full_interval = "1h";
};

// Adds the flags to `cmd`. `prefix` "" for `node mirror` (--misp URL, --key ...), "mirror-" for
// `node serve` (--mirror URL, --mirror-key ...).
void AddMirrorFlags(CLI::App* cmd, MirrorFlags* flags, bool serve);

// The options the flags give. Errors: kInvalidArgument naming the flag (a key file that cannot
// be read, a bad duration, ValidateMirrorOptions').
Result<node::MirrorOptions> MirrorOptionsFrom(const MirrorFlags& flags, bool serve);

// What `node serve --mirror` sweeps and how often.
struct MirrorSchedule {
  node::MirrorOptions options;
  int64_t interval_s = 300;
  int64_t full_interval_s = 3600;
};

// serve's mirror flags: nullopt without --mirror. Errors: kInvalidArgument naming the flag
// (mirror flags without --mirror among them).
Result<std::optional<MirrorSchedule>> ServeMirrorFrom(const MirrorFlags& flags);

// `node mirror`: one sweep into DATA, with progress on a terminal; exit 0 or 2.
int RunMirror(const std::string& data_dir, const MirrorFlags& flags, bool full, bool quiet);

// The background sweeps of `node serve --mirror`: one now, then every interval (a full one
// every full_interval). Errors are logged and retried at the next interval; Stop waits for a
// sweep under way to end its current request.
// The lock that keeps one mirror sweep at a time on a data directory (DATA/mirror.lock), for
// `node mirror` and `node serve --mirror`. Errors: kAlreadyExists naming what holds it.
Result<FileLock> LockMirror(const std::string& data_dir);

class MirrorLoop {
 public:
  // `landed`, when given, runs after each window of events is written (the serving node
  // brings its index up to it, so mirrored data is matchable as it lands).
  MirrorLoop(store::Store* store, MirrorSchedule schedule, std::function<void()> landed = {});
  ~MirrorLoop();
  MirrorLoop(const MirrorLoop&) = delete;
  MirrorLoop& operator=(const MirrorLoop&) = delete;
  void Stop();

 private:
  void Run();

  store::Store* store_;
  MirrorSchedule schedule_;
  std::function<void()> landed_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ IOCGRID_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_{false};  // read by a sweep between its requests
  std::thread thread_;
};

}  // namespace iocgrid::app
