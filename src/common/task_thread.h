// One background thread running posted tasks in order: for CPU work that must not hold up an
// event loop (the federation's private-search cryptography). The destructor runs the tasks
// already posted, then joins.
//
// Thread-safety: Post may be called from any thread.
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "common/mutex.h"

namespace iocgrid {

class TaskThread {
 public:
  TaskThread();
  ~TaskThread();
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  void Post(std::function<void()> task);

 private:
  void Run();

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> tasks_ IOCGRID_GUARDED_BY(mu_);
  bool stop_ IOCGRID_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace iocgrid
