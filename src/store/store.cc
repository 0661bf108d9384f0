// Store opening, connection setup and the reader pool. Writes are in store_write.cc, keys and
// users in store_auth.cc, reads in store_read.cc.
#include "store/store.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "sqlite/api_key.h"
#include "sqlite/connection.h"
#include "store/internal/schema.h"
#include "store/internal/store_state.h"
#include "store/internal/uuid.h"

namespace iocgrid::store {

bool IsDiskFull(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find("(SQLITE_FULL)") != std::string_view::npos;
}

using internal::Connection;
using internal::ReaderLease;
using internal::StoreState;

namespace internal {
namespace {

// Pragmas every connection gets, with its page cache in KiB (readers' and the writer's differ).
// foreign_keys is set by Connection::Open.
Status ApplyConnectionPragmas(Connection& connection, const StoreOptions& options, int cache_kib) {
  IOCGRID_RETURN_IF_ERROR(
      connection.Exec("PRAGMA cache_size = -" + std::to_string(std::max(cache_kib, 64))));
  IOCGRID_RETURN_IF_ERROR(connection.Exec("PRAGMA temp_store = MEMORY"));
  if (options.max_size_kib > 0) {
    // SQLite refuses to grow the file past this with SQLITE_FULL, as a full disk does.
    IOCGRID_ASSIGN_OR_RETURN(int64_t page_size, connection.QueryInt("PRAGMA page_size"));
    const int64_t pages =
        std::max<int64_t>(1, options.max_size_kib * 1024 / std::max<int64_t>(page_size, 512));
    IOCGRID_RETURN_IF_ERROR(connection.Exec("PRAGMA max_page_count = " + std::to_string(pages)));
  }
  return Status::Ok();
}

// The audit file's connection: WAL and the store's durability, its own small page cache.
Result<std::unique_ptr<Connection>> OpenAuditFile(const std::string& path,
                                                  const StoreOptions& options) {
  IOCGRID_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> audit,
      Connection::Open(path, Connection::Mode::kReadWriteCreate, options.busy_timeout_ms));
  Result<int64_t> probe = audit->QueryInt("PRAGMA schema_version");
  if (!probe.ok()) return probe.status().WithContext("audit log " + path);
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement wal, audit->PrepareOnce("PRAGMA journal_mode = WAL"));
    IOCGRID_ASSIGN_OR_RETURN(bool wal_row, wal.Step());
    if (!wal_row || wal.Text(0) != "wal") {
      return UnavailableError("audit log " + path + ": cannot switch to WAL journal mode");
    }
  }
  IOCGRID_RETURN_IF_ERROR(
      audit->Exec(options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  IOCGRID_RETURN_IF_ERROR(ApplyConnectionPragmas(*audit, options, 2048));
  IOCGRID_RETURN_IF_ERROR(MigrateAudit(*audit, path));
  return audit;
}

}  // namespace

ReaderLease::ReaderLease(StoreState* state, std::unique_ptr<Connection> connection)
    : state_(state), connection_(std::move(connection)) {}

ReaderLease::~ReaderLease() {
  if (connection_ == nullptr) return;  // moved from
  if (connection_->InTransaction()) {
    // Ends the read snapshot. A failure here leaves the connection unusable, so drop it.
    if (!connection_->Exec("COMMIT").ok()) return;
  }
  MutexLock lock(state_->pool_mu);
  if (state_->idle_readers.size() <
      static_cast<size_t>(std::max(state_->options.max_idle_readers, 0))) {
    state_->idle_readers.push_back(std::move(connection_));
  }
}

Result<std::unique_ptr<Connection>> StoreState::OpenReader() const {
  IOCGRID_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> connection,
      Connection::Open(path, Connection::Mode::kReadWrite, options.busy_timeout_ms));
  IOCGRID_RETURN_IF_ERROR(ApplyConnectionPragmas(*connection, options, options.cache_kib));
  // Readers never write, so a bug cannot turn a read path into a second writer.
  IOCGRID_RETURN_IF_ERROR(connection->Exec("PRAGMA query_only = ON"));
  connection->CountStatementsInto(&statements_run);
  return connection;
}

Result<ReaderLease> StoreState::AcquireReader() {
  std::unique_ptr<Connection> connection;
  {
    MutexLock lock(pool_mu);
    if (!idle_readers.empty()) {
      connection = std::move(idle_readers.back());
      idle_readers.pop_back();
    }
  }
  if (connection == nullptr) {
    IOCGRID_ASSIGN_OR_RETURN(connection, OpenReader());
  }
  // A deferred BEGIN takes its WAL snapshot at the first read, so every query of one read
  // operation sees the same commit.
  IOCGRID_RETURN_IF_ERROR(connection->Exec("BEGIN"));
  return ReaderLease(this, std::move(connection));
}

}  // namespace internal

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "user"; }

bool ParseRole(std::string_view name, Role* out) {
  if (name == "admin") {
    *out = Role::kAdmin;
    return true;
  }
  if (name == "user") {
    *out = Role::kUser;
    return true;
  }
  return false;
}

const EventInfo* AttributeSearchResult::FindEvent(int64_t event_id) const {
  auto it = std::lower_bound(events.begin(), events.end(), event_id,
                             [](const EventInfo& e, int64_t id) { return e.id < id; });
  return it != events.end() && it->id == event_id ? &*it : nullptr;
}

Store::Store(std::unique_ptr<StoreState> state) : state_(std::move(state)) {}

Store::~Store() = default;

const std::string& Store::path() const { return state_->path; }

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir,
                                           const StoreOptions& options) {
  if (!sqlite::InitCrypto()) return InternalError("libsodium initialization failed");
  if (data_dir.empty()) return InvalidArgumentError("store: empty data directory");
  namespace fs = std::filesystem;
  const std::string path = (fs::path(data_dir) / std::string(kFileName)).string();
  std::error_code ec;
  if (options.create_if_missing) {
    fs::create_directories(data_dir, ec);
    if (ec) {
      return PermissionDeniedError("cannot create data directory " + data_dir + ": " +
                                   ec.message());
    }
  } else if (!fs::exists(path, ec)) {
    return NotFoundError("no store at " + path);
  }

  auto state = std::make_unique<StoreState>();
  state->path = path;
  state->options = options;
  {
    // Nobody else sees the state yet; the lock is for the analysis (writer is guarded).
    MutexLock lock(state->write_mu);
    IOCGRID_ASSIGN_OR_RETURN(
        state->writer,
        Connection::Open(path,
                         options.create_if_missing ? Connection::Mode::kReadWriteCreate
                                                   : Connection::Mode::kReadWrite,
                         options.busy_timeout_ms));
    Connection& writer = *state->writer;
    writer.CountStatementsInto(&state->statements_run);
    // The first read tells a foreign file (NOTADB) apart before anything is written.
    Result<int64_t> probe = writer.QueryInt("PRAGMA schema_version");
    if (!probe.ok()) return probe.status().WithContext("store " + path);
    // A new file gets 16 KiB pages (SQLite's default is 4 KiB): fewer, fuller B-tree pages make a
    // bulk import about 13% cheaper in CPU (docs/performance.md). Only possible before the file has
    // any content; an existing store keeps its page size.
    if (*probe == 0) IOCGRID_RETURN_IF_ERROR(writer.Exec("PRAGMA page_size = 16384"));

    // WAL: readers never block the writer nor each other; a commit is one append to the log.
    {
      IOCGRID_ASSIGN_OR_RETURN(internal::Statement wal,
                               writer.PrepareOnce("PRAGMA journal_mode = WAL"));
      IOCGRID_ASSIGN_OR_RETURN(bool wal_row, wal.Step());
      if (!wal_row || wal.Text(0) != "wal") {
        return UnavailableError("store " + path + ": cannot switch to WAL journal mode");
      }
    }
    IOCGRID_RETURN_IF_ERROR(writer.Exec(options.sync_full ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL"));
    IOCGRID_RETURN_IF_ERROR(
        internal::ApplyConnectionPragmas(writer, options, options.writer_cache_kib));
    // Truncate the WAL back to 64 MiB after checkpoints, so one huge import does not leave a
    // huge -wal file behind.
    IOCGRID_RETURN_IF_ERROR(writer.Exec("PRAGMA journal_size_limit = 67108864"));
    // The audit file first: a store from before schema version 6 has its audit rows copied
    // there before the store's migration drops them. A file Migrate refuses (another
    // application's, a newer schema) is refused before an audit file is made beside it.
    IOCGRID_ASSIGN_OR_RETURN(int64_t application_id, writer.QueryInt("PRAGMA application_id"));
    IOCGRID_ASSIGN_OR_RETURN(int64_t version, writer.QueryInt("PRAGMA user_version"));
    if (*probe != 0 &&
        (application_id != internal::kApplicationId || version > internal::LatestSchemaVersion())) {
      IOCGRID_RETURN_IF_ERROR(internal::Migrate(writer, path));
      return InternalError("store " + path + ": unexpected application id or schema version");
    }
    {
      MutexLock audit_lock(state->audit_mu);
      const std::string audit_path = (fs::path(data_dir) / std::string(kAuditFileName)).string();
      IOCGRID_ASSIGN_OR_RETURN(state->audit, internal::OpenAuditFile(audit_path, options));
      // Only a store file from before version 6 can hold audit rows: the others skip the
      // attach and the read of its schema at every open.
      if (*probe != 0 && version < 6) {
        IOCGRID_RETURN_IF_ERROR(internal::CopyAuditRowsFromStore(*state->audit, path));
      }
    }
    IOCGRID_RETURN_IF_ERROR(internal::Migrate(writer, path));
  }
  return std::make_unique<Store>(std::move(state));
}

}  // namespace iocgrid::store
