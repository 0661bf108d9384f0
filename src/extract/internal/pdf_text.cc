// PDF reports to text through poppler's pdftotext (see document_text.h, PdfToText).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "extract/internal/document_text.h"

extern char** environ;

namespace iocgrid::extract::internal {
namespace {

constexpr auto kPdfTimeout = std::chrono::seconds(60);

Result<std::string> FindPdftotext() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    if (colon == std::string::npos) colon = dirs.size();
    std::string candidate = dirs.substr(pos, colon - pos) + "/pdftotext";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = colon + 1;
  }
  return Status(StatusCode::kUnavailable,
                "PDF input needs pdftotext (Debian package poppler-utils), which is not installed");
}

}  // namespace

// Runs `pdftotext -enc UTF-8 -layout FILE -` with a deadline and an output cap.
Result<std::string> PdfToText(const std::string& file) {
  IOCGRID_ASSIGN_OR_RETURN(std::string tool, FindPdftotext());
  int fds[2];
  if (::pipe(fds) != 0) return InternalError(std::string("pipe: ") + std::strerror(errno));
  FdCloser read_end{fds[0]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string a0 = tool, a1 = "-q", a2 = "-enc", a3 = "UTF-8", a4 = "-layout", a6 = "-";
  std::string a5 = file;
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(),
                  a4.data(), a5.data(), a6.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) return InternalError(std::string("cannot run pdftotext: ") + std::strerror(rc));
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + kPdfTimeout;
  bool failed = false;
  std::string why;
  char buf[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      failed = true;
      why = "pdftotext timed out";
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = ::read(read_end.fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > kMaxDocumentBytes) {
      failed = true;
      why = "pdftotext output larger than 64 MiB";
      break;
    }
  }
  if (failed) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (failed) return DataLossError(why);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return DataLossError("pdftotext could not read the PDF (exit status " +
                         std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) + ")");
  }
  return out;
}

bool IsPdf(std::string_view bytes) {
  return bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

}  // namespace iocgrid::extract::internal
