// Test helper: runs the real iocgrid binary as a child process and captures its output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::e2e {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs IOCGRID_BINARY with `args`, feeding `stdin_text` on standard input. Blocks until exit.
ProcessResult RunIocgrid(const std::vector<std::string>& args, const std::string& stdin_text = "");

// A one-line answer (a key, an id) without its line end and blanks.
inline std::string Line(std::string_view out) { return std::string(TrimAscii(out)); }

// `iocgrid node keys create --data DATA --org ORG`: the new key (check its size, 40).
inline std::string CreateNodeKey(const std::string& data, const std::string& org) {
  return Line(RunIocgrid({"node", "keys", "create", "--data", data, "--org", org}).out);
}

// `iocgrid ARGS...` in the background: the constructor waits for the "listening on URL" line
// on standard error (up to 30 s); the destructor sends SIGTERM and waits.
class Background {
 public:
  explicit Background(std::vector<std::string> args);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  const std::string& url() const { return url_; }
  const std::string& log() const { return log_; }
  int pid() const { return pid_; }
  // Sends `signal` and waits for the exit; returns the wait status.
  int Stop(int signal);
  // Reads standard error until the process exits; everything it wrote is in log().
  void DrainLog();

 private:
  int pid_ = -1;
  int fd_ = -1;
  std::string url_;
  std::string log_;
};

// A fresh empty directory under the system temp dir, removed by the destructor.
using TempDir = ::iocgrid::test::TempDir;

}  // namespace iocgrid::e2e
