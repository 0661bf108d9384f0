// A mutex, its scoped lock and a condition variable with Clang's thread-safety annotations, so
// that "guarded by" is checked by the compiler instead of written in comments (the
// Style.ThreadSafety test builds every source with clang -Wthread-safety -Werror). On GCC the
// annotations compile to nothing. After abseil's absl::Mutex, whose bookworm version cannot be
// used (STYLE.md section 5), reduced to what the project needs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define IOCGRID_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define IOCGRID_THREAD_ANNOTATION(x)
#endif

#define IOCGRID_CAPABILITY(x) IOCGRID_THREAD_ANNOTATION(capability(x))
#define IOCGRID_SCOPED_CAPABILITY IOCGRID_THREAD_ANNOTATION(scoped_lockable)
#define IOCGRID_GUARDED_BY(x) IOCGRID_THREAD_ANNOTATION(guarded_by(x))
#define IOCGRID_PT_GUARDED_BY(x) IOCGRID_THREAD_ANNOTATION(pt_guarded_by(x))
#define IOCGRID_REQUIRES(...) IOCGRID_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define IOCGRID_EXCLUDES(...) IOCGRID_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define IOCGRID_ACQUIRE(...) IOCGRID_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define IOCGRID_RELEASE(...) IOCGRID_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define IOCGRID_NO_THREAD_SAFETY_ANALYSIS IOCGRID_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace iocgrid {

class IOCGRID_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() IOCGRID_ACQUIRE() { mu_.lock(); }
  void Unlock() IOCGRID_RELEASE() { mu_.unlock(); }
  // Takes the mutex only when it is free; true when taken (the caller then calls Unlock).
  bool TryLock() IOCGRID_THREAD_ANNOTATION(try_acquire_capability(true)) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class IOCGRID_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) IOCGRID_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() IOCGRID_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Waits are written as loops over the guarded condition (`while (!done_) cv_.Wait(mu_);`),
// so the analysis sees every read of guarded state under the lock.
class CondVar {
 public:
  // Atomically releases `mu`, waits for a notification (or a spurious wake-up), and takes
  // `mu` again.
  void Wait(Mutex& mu) IOCGRID_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // The same with a time limit; false when it passed.
  template <class Rep, class Period>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout) IOCGRID_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace iocgrid
