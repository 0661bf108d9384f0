// Dispatcher: concurrent outbound HTTP(S) on one libcurl multi handle driven by
// its own thread (STYLE.md section 8), for the portal's fan-out to members. The
// thread loops on curl_multi_poll and is woken by curl_multi_wakeup when work
// is submitted from elsewhere.
//
// Every transfer gets NOSIGNAL, CONNECTTIMEOUT_MS, TIMEOUT_MS (the request's
// timeout, which covers DNS + connect + TLS + transfer), protocols http and
// https only, no redirects, a response size cap enforced in the write callback,
// TLS verification unless the request turns it off, and the request's CA file,
// client certificate/key and proxy. Connections are reused through the multi
// handle's connection cache; total and per-host connections are capped.
//
// Besides transfers the thread runs posted tasks and timers, so that callers
// (the federation) can keep all their state on this one thread and need no
// locks for it.
//
// Completion contract: the completion of every Submit runs exactly once, on the
// dispatcher thread: with the response (any HTTP status), or with an error
// status: kDeadlineExceeded (timeout), kUnavailable (connect failure, reset,
// TLS failure, cancelled, dispatcher stopped), kResourceExhausted (response
// over max_response_bytes), kInvalidArgument (bad URL or scheme). Completions
// and tasks must not block: they stall every other transfer.
//
// Thread-safety: Submit, Cancel, Post and PostAt may be called from any thread,
// including from completions and tasks. The destructor must not be called from
// the dispatcher thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/result.h"
#include "net/http_client.h"

namespace iocgrid::net {

struct DispatcherOptions {
  size_t max_total_connections = 64;   // CURLMOPT_MAX_TOTAL_CONNECTIONS; more transfers wait
  size_t max_host_connections = 0;     // CURLMOPT_MAX_HOST_CONNECTIONS; 0 = no per-host cap
  size_t max_cached_connections = 64;  // idle connections kept for reuse (CURLMOPT_MAXCONNECTS)
};

class Dispatcher {
 public:
  using TransferId = uint64_t;
  using Completion = std::function<void(Result<ClientResponse> response)>;
  using Task = std::function<void()>;

  // Creates the multi handle and starts the thread. Calls GlobalInit(). Errors:
  // kInternal when curl cannot create the multi handle.
  static Result<std::unique_ptr<Dispatcher>> Start(const DispatcherOptions& options);

  // Stops the thread: transfers still running complete with kUnavailable
  // "dispatcher stopped"; tasks and timers not yet due are dropped without
  // running. REQUIRES: not on the dispatcher thread.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues a transfer; returns at once with an id for Cancel. A request.timeout
  // <= 0 completes at once with kDeadlineExceeded. After the destructor has
  // begun, completes at once (on the calling thread) with kUnavailable
  // "dispatcher stopped".
  TransferId Submit(ClientRequest request, Completion done);

  // Aborts a transfer; its completion runs with kUnavailable "cancelled" unless
  // it has already run (then this does nothing). Ids of finished transfers are
  // never reused.
  void Cancel(TransferId id);

  // Runs `task` on the dispatcher thread, soon / not before `when`.
  void Post(Task task);
  void PostAt(std::chrono::steady_clock::time_point when, Task task);

  // True on the dispatcher thread (for DCHECKs and for refusing blocking calls
  // there).
  bool OnDispatcherThread() const;

  // Transfers submitted so far (tests count requests with it).
  uint64_t transfers_submitted() const;

  // Opaque; defined in dispatcher.cc.
  struct Impl;

 private:
  explicit Dispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace iocgrid::net
