// Test helper: one HTTP/1.1 exchange over a raw loopback socket, with the request written
// exactly as given (like curl --path-as-is), for paths and heads a client library would fix.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace iocgrid::testutil {

// A socket listening on 127.0.0.1 on a port the kernel picks (written to *port), or -1. What
// it accepts is up to the caller: nothing (a member that hangs in the kernel's backlog), a
// relay, a raw server.
inline int ListenLoopback(uint16_t* port, int backlog = 64) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, backlog) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A TCP connection to 127.0.0.1:port, or -1.
inline int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Writes all of `s` (or until the peer stops taking it). MSG_NOSIGNAL: a server that closes
// early must not kill the test with SIGPIPE.
inline void SendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Everything the peer sends until it closes, or until a read waits `timeout_s` seconds.
inline std::string ReadUntilClosed(int fd, int timeout_s) {
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Sends `request` (a whole request, head and body) and returns everything the server sends
// until it closes, or an empty string when nothing listens.
inline std::string RawExchange(uint16_t port, const std::string& request, int timeout_s = 10) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  SendAll(fd, request);
  std::string out = ReadUntilClosed(fd, timeout_s);
  close(fd);
  return out;
}

// A GET of `target` as written, closing after the answer.
inline std::string RawGet(uint16_t port, const std::string& target) {
  return RawExchange(port, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

}  // namespace iocgrid::testutil
