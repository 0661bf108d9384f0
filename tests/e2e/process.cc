#include "tests/e2e/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace iocgrid::e2e {

ProcessResult RunIocgrid(const std::vector<std::string>& args, const std::string& stdin_text) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      close(fd);
    std::vector<char*> argv;
    std::string bin = IOCGRID_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult result;
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    int n = poll(fds, in_fd >= 0 ? 3 : 2, 60000);
    if (n <= 0) break;
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == stdin_text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP)) {
        ssize_t r = read(fds[i].fd, buf, sizeof(buf));
        if (r > 0) {
          (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(r));
        } else {
          (i == 0 ? out_open : err_open) = false;
        }
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Background::Background(std::vector<std::string> args) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_ = fork();
  if (pid_ == 0) {
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    std::vector<char*> argv;
    std::string bin = IOCGRID_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(p[1]);
  fd_ = p[0];
  const std::regex listening("listening on (https?://[^ \n]+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 1000) <= 0) continue;
    if (read(fd_, &c, 1) != 1) break;
    log_ += c;
    std::smatch m;
    if (c == '\n' && std::regex_search(log_, m, listening)) {
      url_ = m[1];
      break;
    }
  }
}

Background::~Background() {
  if (pid_ > 0) Stop(SIGTERM);
  if (fd_ >= 0) close(fd_);
}

int Background::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  DrainLog();
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void Background::DrainLog() {
  char buf[4096];
  ssize_t n;
  while (fd_ >= 0 && (n = read(fd_, buf, sizeof(buf))) > 0)
    log_.append(buf, static_cast<size_t>(n));
}

}  // namespace iocgrid::e2e
