// The Store's private state: the writer connection behind its mutex, the reader pool and the
// options (the clock is options.clock). Shared by store*.cc only.
//
// Thread-safety: `writer` only under `write_mu`; `audit` under `audit_mu`; the pool under
// `pool_mu`; the rest is immutable after Open.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "sqlite/connection.h"
#include "store/options.h"

namespace iocgrid::store::internal {

// The store names the shared SQLite layer's types as its own.
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

struct StoreState;

// A reader connection borrowed from the pool; returned (or closed, when the pool is full) on
// destruction. Holds an open read transaction (a consistent snapshot) while alive.
class ReaderLease {
 public:
  ReaderLease(StoreState* state, std::unique_ptr<Connection> connection);
  ~ReaderLease();
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;

  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }

 private:
  StoreState* state_;  // must outlive the lease
  std::unique_ptr<Connection> connection_;
};

struct StoreState {
  std::string path;
  StoreOptions options;

  Mutex write_mu;
  std::unique_ptr<Connection> writer IOCGRID_GUARDED_BY(write_mu);

  // The audit log's file (Store::kAuditFileName), written and read on this connection only.
  Mutex audit_mu;
  std::unique_ptr<Connection> audit IOCGRID_GUARDED_BY(audit_mu);

  Mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> idle_readers IOCGRID_GUARDED_BY(pool_mu);

  // The attribute ids inserted by the write transaction in progress, as ascending runs
  // (only under write_mu): RunWrite logs them in the index change log before it commits, one
  // row per run. A trigger per inserted row halved the import rate (store_changes.cc).
  std::vector<std::pair<int64_t, int64_t>> inserted_runs;
  void NoteInsertedAttribute(int64_t id) {
    if (!inserted_runs.empty() && inserted_runs.back().second + 1 == id) {
      inserted_runs.back().second = id;
    } else {
      inserted_runs.emplace_back(id, id);
    }
  }

  // Statements started on the writer and every reader (Store::StatementsRun).
  mutable std::atomic<int64_t> statements_run{0};

  // Opens a reader connection with the store's pragmas.
  Result<std::unique_ptr<Connection>> OpenReader() const;
  // A pooled reader inside BEGIN (deferred): all its queries see one snapshot.
  Result<ReaderLease> AcquireReader();
};

// Runs `fn(Connection&) -> Status` in one BEGIN IMMEDIATE .. COMMIT transaction on the writer,
// holding write_mu; a non-OK status from `fn` rolls everything back.
// Writes StoreState::inserted_runs into index_changes and clears them (store_changes.cc).
// REQUIRES: state.write_mu, inside the write transaction.
Status LogInsertedRuns(StoreState& state, Connection& c);

template <typename Fn>
Status RunWrite(StoreState& state, Fn&& fn) {
  MutexLock lock(state.write_mu);
  state.inserted_runs.clear();  // what a rolled-back transaction noted
  Transaction tx(*state.writer);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_RETURN_IF_ERROR(fn(*state.writer));
  if (!state.inserted_runs.empty()) IOCGRID_RETURN_IF_ERROR(LogInsertedRuns(state, *state.writer));
  return tx.Commit();
}

// RunWrite for writes that change matchable data (events, attributes, tags, sightings): the
// same transaction also bumps meta 'data_generation', so that other processes holding an
// index of this store (a running node while `node import` writes) see that it is stale.
template <typename Fn>
Status RunDataWrite(StoreState& state, Fn&& fn) {
  return RunWrite(state, [&](Connection& c) -> Status {
    IOCGRID_RETURN_IF_ERROR(fn(c));
    return c.Exec(
        "INSERT INTO meta (key, value) VALUES ('data_generation', '1') ON CONFLICT (key) DO "
        "UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
  });
}

// RunDataWrite that, once committed, also bumps `generation` (the Store's in-process counter
// that this process's index snapshots compare against).
template <typename Fn>
Status RunDataWrite(StoreState& state, std::atomic<uint64_t>* generation, Fn&& fn) {
  IOCGRID_RETURN_IF_ERROR(RunDataWrite(state, std::forward<Fn>(fn)));
  generation->fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

}  // namespace iocgrid::store::internal
