// Checkpoints of a WAL database on a thread of their own (Connection::CheckpointInBackground).
//
// SQLite's automatic checkpoint runs inside the commit that takes the WAL past
// wal_autocheckpoint: the writer copies every page the WAL holds back into the database file
// and syncs it before its commit returns. For the portal's alliance sightings, whose batches
// dirty pages all over the value indexes, that was a fifth of the time a batch of 10^4
// sightings took. Here a second connection copies them while the writer goes on (a PASSIVE
// checkpoint never blocks a writer), and the writer checkpoints itself only past a backstop,
// when the WAL outgrew what the thread could keep up with (the WAL restarts only once every
// frame is back in the database, and a writer that starts its next transaction while the
// thread copies the last one keeps appending).
//
// Thread-safety: Committed may be called from any thread; the rest belongs to the owner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/result.h"

namespace iocgrid::sqlite {

class Connection;

class BackgroundCheckpoints {
 public:
  // Opens a connection of its own to the database file at `path` and starts the thread.
  static Result<std::unique_ptr<BackgroundCheckpoints>> Start(const std::string& path);
  ~BackgroundCheckpoints();  // stops the thread (a checkpoint under way finishes first)
  BackgroundCheckpoints(const BackgroundCheckpoints&) = delete;
  BackgroundCheckpoints& operator=(const BackgroundCheckpoints&) = delete;

  // A commit left the WAL due for a checkpoint: wakes the thread.
  void Due();
  // Checkpoints run so far (for tests: a checkpoint, unlike the file sizes it changes, is
  // observable without racing the thread).
  int64_t runs() const;

 private:
  explicit BackgroundCheckpoints(std::unique_ptr<Connection> connection);
  void Run();

  std::unique_ptr<Connection> connection_;  // used by the thread only
  mutable Mutex mu_;
  CondVar cv_;
  bool due_ IOCGRID_GUARDED_BY(mu_) = false;
  bool stop_ IOCGRID_GUARDED_BY(mu_) = false;
  int64_t runs_ IOCGRID_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace iocgrid::sqlite
