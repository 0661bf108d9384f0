// The audit log: one row per audited request, appended before the work and updated after it,
// in its own file (Store::kAuditFileName) on its own connection: one statement each, so
// autocommit; the store file's writer is not involved.
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::Statement;

namespace {

std::string AuditValues(const std::vector<std::string>& values) {
  std::string joined;
  for (const std::string& v : values) {
    if (!joined.empty()) joined += '\n';
    joined += v;
  }
  return joined;
}

}  // namespace

Result<int64_t> Store::AppendAudit(const AuditEntry& entry) {
  if (entry.action.empty()) return InvalidArgumentError("audit entry without action");
  const int64_t now = entry.time != 0 ? entry.time : state_->options.clock.Now();
  const bool keep_values = state_->options.audit_values && !entry.values.empty();
  const std::string values = keep_values ? AuditValues(entry.values) : std::string();
  int64_t id = 0;
  MutexLock lock(state_->audit_mu);
  Connection& c = *state_->audit;
  Status st = [&]() -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO audit_log (time, user_id, key_id, org_id, action, endpoint, remote, "
                  "value_count, status, query_values) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                  "?10)"));
    insert.Bind(1, now)
        .Bind(2, entry.user_id)
        .Bind(3, entry.key_id)
        .Bind(4, entry.org_id)
        .BindText(5, entry.action)
        .BindText(6, entry.endpoint)
        .BindText(7, entry.remote)
        .Bind(8, static_cast<int64_t>(entry.value_count))
        .Bind(9, entry.status);
    if (keep_values) {
      insert.BindText(10, values);
    } else {
      insert.BindNull(10);
    }
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    id = c.LastInsertRowid();
    return Status();
  }();
  IOCGRID_RETURN_IF_ERROR(st);
  return id;
}

Status Store::UpdateAudit(int64_t id, int status, uint64_t value_count,
                          const std::vector<std::string>& values) {
  const bool keep_values = state_->options.audit_values && !values.empty();
  const std::string joined = keep_values ? AuditValues(values) : std::string();
  MutexLock lock(state_->audit_mu);
  Connection& c = *state_->audit;
  IOCGRID_ASSIGN_OR_RETURN(
      Statement update,
      c.Prepare("UPDATE audit_log SET status = ?2, value_count = ?3, query_values = ?4 "
                "WHERE id = ?1"));
  update.Bind(1, id).Bind(2, status).Bind(3, static_cast<int64_t>(value_count));
  if (keep_values) {
    update.BindText(4, joined);
  } else {
    update.BindNull(4);
  }
  IOCGRID_RETURN_IF_ERROR(update.Run());
  if (c.Changes() == 0) return NotFoundError("no audit row " + std::to_string(id));
  return Status();
}

}  // namespace iocgrid::store
