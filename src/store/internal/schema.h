// The store's schema as an ordered list of forward-only migrations (docs/store-schema.md).
// Migration N takes user_version N-1 to N inside one transaction; a released migration is
// never edited, only followed by a new one.
//
// Thread-safety: call on the writer connection only.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "sqlite/connection.h"

namespace iocgrid::store::internal {

// The store names the shared SQLite layer's types as its own.
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// PRAGMA application_id of iocgrid stores ("IOCG").
inline constexpr int32_t kApplicationId = 0x494f4347;

// PRAGMA application_id of a store's audit log file ("IOCA").
inline constexpr int32_t kAuditApplicationId = 0x494f4341;

// The highest version the migrations below reach.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion() through sqlite::Migrate. Errors: kUnimplemented
// when the file's user_version is newer (the message names both versions and `path`),
// kInvalidArgument when the file belongs to another application.
Status Migrate(sqlite::Connection& connection, std::string_view path);

// The audit log's own file (Store::kAuditFileName; docs/store-schema.md): Migrate for it.
Status MigrateAudit(sqlite::Connection& connection, std::string_view path);

// Copies the audit rows still in the store file at `store_path` (schema versions before 6)
// into the audit file `audit` is open on, keeping their ids; rows copied before (an open that
// stopped between this and the store's migration 6, which drops them) are skipped. A no-op
// when the store file has no audit_log table. Call before Migrate on the store.
Status CopyAuditRowsFromStore(sqlite::Connection& audit, const std::string& store_path);

}  // namespace iocgrid::store::internal
