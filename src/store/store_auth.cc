// Organisations, users and API keys.
//
// Keys are sqlite/api_key.h's (shared with the portal): the store keeps SHA-256(key) and, as
// MISP's advanced authkeys do, the first and last 4 characters in clear to find the candidate
// rows. The hash comparison is constant-time. The clear key exists only in CreateKey's result
// and the caller's request; it is never stored or logged.
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "common/ascii.h"
#include "sqlite/api_key.h"
#include "sqlite/connection.h"
#include "store/internal/rows.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::Statement;

namespace {

constexpr size_t kKeyLength = sqlite::kApiKeyLength;
// last_used is refreshed at most this often, so authentication stays a read.
constexpr int64_t kLastUsedGranularitySeconds = 60;

bool IsKeyShaped(std::string_view key) {
  if (key.size() != kKeyLength) return false;
  return std::all_of(key.begin(), key.end(), IsAsciiAlnum);
}

constexpr std::string_view kUserColumns = "u.id, u.email, u.org_id, u.role, u.disabled, u.created";

User ReadUser(const Statement& stmt, int first) {
  User user;
  user.id = stmt.Int(first);
  user.email = std::string(stmt.Text(first + 1));
  user.org_id = stmt.Int(first + 2);
  ParseRole(stmt.Text(first + 3), &user.role);
  user.disabled = stmt.Int(first + 4) != 0;
  user.created = stmt.Int(first + 5);
  return user;
}

}  // namespace

Result<Organisation> Store::EnsureOrganisation(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("empty organisation name");
  const int64_t now = state_->options.clock.Now();
  Status status = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    return internal::EnsureOrgId(c, name, now).status();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return GetOrganisation(name);
}

Result<Organisation> Store::GetOrganisation(std::string_view id_name_or_uuid) {
  IOCGRID_ASSIGN_OR_RETURN(internal::ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT " + std::string(internal::kOrgColumns) +
                      " FROM organisations o WHERE o.name = ?1 OR o.uuid = lower(?1) OR "
                      "CAST(o.id AS TEXT) = ?1 ORDER BY o.id LIMIT 1"));
  stmt.BindText(1, id_name_or_uuid);
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return NotFoundError("organisation '" + std::string(id_name_or_uuid.substr(0, 64)) +
                         "' not found");
  }
  return internal::ReadOrganisation(stmt, 0);
}

Result<User> Store::EnsureUser(std::string_view email, std::string_view org_name, Role role) {
  if (email.empty()) return InvalidArgumentError("empty user email");
  if (org_name.empty()) return InvalidArgumentError("empty organisation name");
  const int64_t now = state_->options.clock.Now();
  User user;
  Status status = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t org_id, internal::EnsureOrgId(c, org_name, now));
    {
      IOCGRID_ASSIGN_OR_RETURN(
          Statement insert,
          c.Prepare("INSERT INTO users (email, org_id, role, created) VALUES (?1, ?2, ?3, ?4) "
                    "ON CONFLICT (email) DO UPDATE SET role = excluded.role"));
      insert.BindText(1, email).Bind(2, org_id).BindText(3, RoleName(role)).Bind(4, now);
      IOCGRID_RETURN_IF_ERROR(insert.Run());
    }
    IOCGRID_ASSIGN_OR_RETURN(Statement find, c.Prepare("SELECT " + std::string(kUserColumns) +
                                                       " FROM users u WHERE u.email = ?1"));
    find.BindText(1, email);
    IOCGRID_ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) return InternalError("user vanished after insert");
    user = ReadUser(find, 0);
    return Status::Ok();
  });
  IOCGRID_RETURN_IF_ERROR(status);
  return user;
}

Result<NewApiKey> Store::CreateKey(int64_t user_id, const KeyOptions& options) {
  NewApiKey created;
  created.key = sqlite::NewApiKey();
  const std::string hash = sqlite::Sha256(created.key);
  const int64_t now = state_->options.clock.Now();
  Status status = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    {
      IOCGRID_ASSIGN_OR_RETURN(Statement user, c.Prepare("SELECT 1 FROM users WHERE id = ?1"));
      user.Bind(1, user_id);
      IOCGRID_ASSIGN_OR_RETURN(bool row, user.Step());
      if (!row) return NotFoundError("user " + std::to_string(user_id) + " not found");
    }
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO api_keys (user_id, key_start, key_end, key_hash, comment, "
                  "created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    insert.Bind(1, user_id)
        .BindText(2, std::string_view(created.key).substr(0, 4))
        .BindText(3, std::string_view(created.key).substr(kKeyLength - 4))
        .BindBlob(4, {reinterpret_cast<const unsigned char*>(hash.data()), hash.size()})
        .BindText(5, options.comment)
        .Bind(6, now)
        .Bind(7, options.expires);
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    created.key_id = c.LastInsertRowid();
    return Status::Ok();
  });
  if (!status.ok()) {
    sqlite::Wipe(created.key);
    return status;
  }
  return created;
}

Result<std::vector<ApiKeyInfo>> Store::ListKeys() {
  IOCGRID_ASSIGN_OR_RETURN(internal::ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT k.id, k.user_id, u.email, o.name, u.role, k.key_start, k.key_end, "
                      "k.comment, k.created, k.expires, k.revoked, k.last_used "
                      "FROM api_keys k JOIN users u ON u.id = k.user_id "
                      "JOIN organisations o ON o.id = u.org_id ORDER BY k.id DESC"));
  std::vector<ApiKeyInfo> keys;
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ApiKeyInfo key;
    key.id = stmt.Int(0);
    key.user_id = stmt.Int(1);
    key.user_email = std::string(stmt.Text(2));
    key.org_name = std::string(stmt.Text(3));
    ParseRole(stmt.Text(4), &key.role);
    key.key_start = std::string(stmt.Text(5));
    key.key_end = std::string(stmt.Text(6));
    key.comment = std::string(stmt.Text(7));
    key.created = stmt.Int(8);
    key.expires = stmt.Int(9);
    key.revoked = stmt.Int(10);
    key.last_used = stmt.Int(11);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status Store::RevokeKey(int64_t key_id) {
  const int64_t now = state_->options.clock.Now();
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement update,
        c.Prepare("UPDATE api_keys SET revoked = CASE WHEN revoked = 0 THEN ?2 ELSE revoked END "
                  "WHERE id = ?1"));
    update.Bind(1, key_id).Bind(2, now);
    IOCGRID_RETURN_IF_ERROR(update.Run());
    if (c.Changes() == 0) return NotFoundError("key " + std::to_string(key_id) + " not found");
    return Status::Ok();
  });
}

Result<AuthContext> Store::AuthenticateKey(std::string_view key) {
  if (!IsKeyShaped(key)) return PermissionDeniedError("malformed API key");
  std::string digest = sqlite::Sha256(key);
  const int64_t now = state_->options.clock.Now();

  AuthContext context;
  int64_t revoked = 0;
  int64_t last_used = 0;
  bool found = false;
  {
    IOCGRID_ASSIGN_OR_RETURN(internal::ReaderLease reader, state_->AcquireReader());
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        reader->Prepare("SELECT k.id, k.key_hash, k.expires, k.revoked, k.last_used, " +
                        std::string(kUserColumns) + ", " + std::string(internal::kOrgColumns) +
                        " FROM api_keys k JOIN users u ON u.id = k.user_id "
                        "JOIN organisations o ON o.id = u.org_id "
                        "WHERE k.key_start = ?1 AND k.key_end = ?2"));
    stmt.BindText(1, key.substr(0, 4)).BindText(2, key.substr(kKeyLength - 4));
    while (true) {
      IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      // Every candidate is compared, so timing does not reveal which one matched.
      if (sqlite::HashEquals(stmt.Blob(1), digest)) {
        found = true;
        context.key_id = stmt.Int(0);
        context.key_expires = stmt.Int(2);
        revoked = stmt.Int(3);
        last_used = stmt.Int(4);
        context.user = ReadUser(stmt, 5);
        context.org = internal::ReadOrganisation(stmt, 11);
      }
    }
  }
  sqlite::Wipe(digest);
  if (!found) return PermissionDeniedError("unknown API key");
  if (revoked != 0) return PermissionDeniedError("API key revoked");
  if (context.key_expires != 0 && context.key_expires <= now) {
    return PermissionDeniedError("Auth key is expired");
  }
  if (context.user.disabled) return PermissionDeniedError("user account disabled");

  if (now - last_used >= kLastUsedGranularitySeconds) {
    // Best effort and never waiting: while an import holds the writer, the stamp is skipped
    // rather than stalling the request.
    if (state_->write_mu.TryLock()) {
      Result<Statement> update =
          state_->writer->Prepare("UPDATE api_keys SET last_used = ?2 WHERE id = ?1");
      if (update.ok()) {
        update->Bind(1, context.key_id).Bind(2, now);
        // A failed stamp (e.g. another process holds the lock) must not fail authentication.
        update->Run().IgnoreError();
      }
      state_->write_mu.Unlock();
    }
  }
  return context;
}

}  // namespace iocgrid::store
