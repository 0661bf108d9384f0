#include "net/dispatcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "net/internal/curl_easy.h"

namespace iocgrid::net {
namespace {

struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

using Clock = std::chrono::steady_clock;

// One transfer: owns its easy handle and everything curl points into (body,
// headers, buffers), so it must stay at one address while curl runs it (it
// lives in a unique_ptr).
struct Transfer {
  Dispatcher::TransferId id = 0;
  ClientRequest request;
  Dispatcher::Completion done;
  ClientResponse response;
  internal::ResponseSink sink;
  internal::EasyHandle easy;
  internal::HeaderList headers;
  char error[CURL_ERROR_SIZE] = {};
};

// Runs a completion or task; an exception must not kill the dispatcher thread
// (STYLE.md 5).
template <typename Fn>
void RunGuarded(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception&) {
    // Callers never throw on purpose; a stray std exception (bad_alloc) is
    // dropped here so the other transfers keep running.
  } catch (...) {
  }
}

}  // namespace

struct Dispatcher::Impl {
  DispatcherOptions options;
  std::unique_ptr<CURLM, MultiDeleter> multi;
  std::thread thread;
  std::atomic<std::thread::id> thread_id{};
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> submitted{0};

  Mutex mu;
  bool stopping IOCGRID_GUARDED_BY(mu) = false;
  std::vector<std::unique_ptr<Transfer>> incoming IOCGRID_GUARDED_BY(mu);
  std::vector<TransferId> cancels IOCGRID_GUARDED_BY(mu);
  std::multimap<Clock::time_point, Task> timers IOCGRID_GUARDED_BY(mu);  // Post uses "now"

  // Dispatcher thread only.
  std::unordered_map<TransferId, std::unique_ptr<Transfer>> active;

  void Wake() IOCGRID_REQUIRES(mu) { curl_multi_wakeup(multi.get()); }  // see ~Dispatcher
  void Loop();
  void AddTransfer(std::unique_ptr<Transfer> t);
  void Finish(std::unique_ptr<Transfer> t, CURLcode rc);
  static void Complete(Transfer& t, Result<ClientResponse> result) {
    Completion done = std::move(t.done);
    if (done) RunGuarded([&] { done(std::move(result)); });
  }
};

Result<std::unique_ptr<Dispatcher>> Dispatcher::Start(const DispatcherOptions& options) {
  GlobalInit();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->multi.reset(curl_multi_init());
  if (!impl->multi) return InternalError("curl_multi_init failed");
  CURLM* m = impl->multi.get();
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(options.max_total_connections));
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(options.max_host_connections));
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(options.max_cached_connections));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->thread_id.store(std::this_thread::get_id());
    raw->Loop();
  });
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(impl)));
}

Dispatcher::Dispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Dispatcher::~Dispatcher() {
  {
    // Wake under the lock: a Submit that saw stopping == false has already
    // woken the thread, and no one touches the multi handle after this block
    // but the thread itself.
    MutexLock lock(impl_->mu);
    impl_->stopping = true;
    impl_->Wake();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

Dispatcher::TransferId Dispatcher::Submit(ClientRequest request, Completion done) {
  auto t = std::make_unique<Transfer>();
  t->id = impl_->next_id.fetch_add(1);
  t->request = std::move(request);
  t->done = std::move(done);
  TransferId id = t->id;
  impl_->submitted.fetch_add(1);
  if (t->request.timeout.count() <= 0) {
    // curl reads TIMEOUT_MS 0 as "no timeout"; a spent budget is a timeout
    // right away.
    Impl::Complete(*t, Status(StatusCode::kDeadlineExceeded, "no time left before the deadline"));
    return id;
  }
  {
    MutexLock lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->incoming.push_back(std::move(t));
      impl_->Wake();
      return id;
    }
  }
  Impl::Complete(*t, UnavailableError("dispatcher stopped"));
  return id;
}

void Dispatcher::Cancel(TransferId id) {
  MutexLock lock(impl_->mu);
  if (impl_->stopping) return;
  impl_->cancels.push_back(id);
  impl_->Wake();
}

void Dispatcher::Post(Task task) { PostAt(Clock::now(), std::move(task)); }

void Dispatcher::PostAt(Clock::time_point when, Task task) {
  MutexLock lock(impl_->mu);
  if (impl_->stopping) return;
  impl_->timers.emplace(when, std::move(task));
  impl_->Wake();
}

bool Dispatcher::OnDispatcherThread() const {
  return std::this_thread::get_id() == impl_->thread_id.load();
}

uint64_t Dispatcher::transfers_submitted() const { return impl_->submitted.load(); }

void Dispatcher::Impl::AddTransfer(std::unique_ptr<Transfer> t) {
  CURL* c = curl_easy_init();
  if (!c) {
    Complete(*t, InternalError("curl_easy_init failed"));
    return;
  }
  t->easy.reset(c);
  const ClientRequest& r = t->request;
  curl_easy_setopt(c, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
  t->sink = {&t->response, r.max_response_bytes};
  internal::SetRequestOptions(c, r, &t->sink);
  long timeout_ms = static_cast<long>(r.timeout.count());
  long connect_ms =
      std::min(timeout_ms, static_cast<long>(std::max<int64_t>(1, r.connect_timeout.count())));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  // No "Expect: 100-continue": curl would wait up to a second before sending a large body.
  if (Status st = internal::MakeHeaderList(r, /*no_expect=*/true, &t->headers); !st.ok()) {
    Complete(*t, std::move(st));
    return;
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers.get());
  CURLMcode mc = curl_multi_add_handle(multi.get(), c);
  if (mc != CURLM_OK) {
    Complete(*t, InternalError(std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)));
    return;
  }
  TransferId id = t->id;
  active.emplace(id, std::move(t));
}

void Dispatcher::Impl::Finish(std::unique_ptr<Transfer> t, CURLcode rc) {
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
    ClientResponse response = std::move(t->response);
    Complete(*t, std::move(response));
    return;
  }
  std::string what = t->error[0] ? std::string(t->error) : std::string(curl_easy_strerror(rc));
  if (t->sink.over_cap) {
    Complete(*t, ResourceExhaustedError(
                     "answer larger than " + std::to_string(t->request.max_response_bytes) +
                     " bytes; the transfer was stopped there (raise the member's "
                     "max_response_mb if such answers are expected)"));
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    Complete(*t, Status(StatusCode::kDeadlineExceeded, what));
  } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
    Complete(*t, InvalidArgumentError(what));
  } else {
    Complete(*t, UnavailableError(what));
  }
}

void Dispatcher::Impl::Loop() {
  for (;;) {
    std::vector<std::unique_ptr<Transfer>> adds;
    std::vector<TransferId> cancel_ids;
    std::vector<Task> due;
    Clock::time_point next_timer = Clock::time_point::max();
    bool stop = false;
    {
      MutexLock lock(mu);
      stop = stopping;
      adds.swap(incoming);
      cancel_ids.swap(cancels);
      Clock::time_point now = Clock::now();
      while (!timers.empty() && timers.begin()->first <= now) {
        due.push_back(std::move(timers.begin()->second));
        timers.erase(timers.begin());
      }
      if (!timers.empty()) next_timer = timers.begin()->first;
    }
    if (stop) {
      for (auto& t : adds) Complete(*t, UnavailableError("dispatcher stopped"));
      break;
    }
    for (auto& t : adds) AddTransfer(std::move(t));
    for (TransferId id : cancel_ids) {
      auto it = active.find(id);
      if (it == active.end()) continue;  // already completed
      std::unique_ptr<Transfer> t = std::move(it->second);
      active.erase(it);
      curl_multi_remove_handle(multi.get(), t->easy.get());
      Complete(*t, UnavailableError("cancelled"));
    }
    for (Task& task : due) RunGuarded(task);

    int running = 0;
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      auto* raw = reinterpret_cast<Transfer*>(priv);
      curl_multi_remove_handle(multi.get(), easy);
      auto it = active.find(raw->id);
      if (it == active.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      active.erase(it);
      Finish(std::move(t), rc);
    }

    // curl_multi_poll also returns at curl's own next timeout, or when woken.
    int wait_ms = 1000;
    if (next_timer != Clock::time_point::max()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(next_timer - Clock::now());
      wait_ms = static_cast<int>(std::clamp<int64_t>(until.count() + 1, 0, wait_ms));
    }
    curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr);
  }
  // Shutdown: every transfer still running gets its one completion.
  std::vector<std::unique_ptr<Transfer>> left;
  for (auto& [id, t] : active) left.push_back(std::move(t));
  active.clear();
  for (auto& t : left) {
    curl_multi_remove_handle(multi.get(), t->easy.get());
    Complete(*t, UnavailableError("dispatcher stopped"));
  }
  // Tasks not yet due are dropped outside the lock: their captures' destructors
  // may call Post.
  std::vector<std::unique_ptr<Transfer>> late;
  std::multimap<Clock::time_point, Task> dropped;
  {
    MutexLock lock(mu);
    late.swap(incoming);
    dropped.swap(timers);
  }
  for (auto& t : late) Complete(*t, UnavailableError("dispatcher stopped"));
}

}  // namespace iocgrid::net
