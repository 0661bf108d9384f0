#include "sqlite/checkpoints.h"

#include <sqlite3.h>

#include <utility>

#include "sqlite/connection.h"

namespace iocgrid::sqlite {

Result<std::unique_ptr<BackgroundCheckpoints>> BackgroundCheckpoints::Start(
    const std::string& path) {
  IOCGRID_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c,
                           Connection::Open(path, Connection::Mode::kReadWrite, 0));
  // This connection only checkpoints: it never commits, and needs no hook of its own. A
  // connection opens the file (and finds its WAL) on first use: a checkpoint before that is
  // a no-op.
  sqlite3_wal_autocheckpoint(c->db(), 0);
  IOCGRID_RETURN_IF_ERROR(c->QueryInt("PRAGMA schema_version").status());
  return std::unique_ptr<BackgroundCheckpoints>(new BackgroundCheckpoints(std::move(c)));
}

BackgroundCheckpoints::BackgroundCheckpoints(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)), thread_([this] { Run(); }) {}

BackgroundCheckpoints::~BackgroundCheckpoints() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void BackgroundCheckpoints::Due() {
  {
    MutexLock lock(mu_);
    due_ = true;
  }
  cv_.Signal();
}

int64_t BackgroundCheckpoints::runs() const {
  MutexLock lock(mu_);
  return runs_;
}

void BackgroundCheckpoints::Run() {
  while (true) {
    {
      MutexLock lock(mu_);
      while (!due_ && !stop_) cv_.Wait(mu_);
      if (stop_) return;
      due_ = false;
    }
    // PASSIVE: copies what no reader still needs, never waits for a lock. A failure (an I/O
    // error) leaves the frames in the WAL, where the writer's backstop checkpoint (and every
    // reader) still finds them; nothing is lost, so the thread tries again when next due.
    sqlite3_wal_checkpoint_v2(connection_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    MutexLock lock(mu_);
    ++runs_;
  }
}

}  // namespace iocgrid::sqlite
