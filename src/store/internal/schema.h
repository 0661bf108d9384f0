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

// The highest version the migrations below reach.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion() through sqlite::Migrate. Errors: kUnimplemented
// when the file's user_version is newer (the message names both versions and `path`),
// kInvalidArgument when the file belongs to another application.
Status Migrate(sqlite::Connection& connection, std::string_view path);

}  // namespace iocgrid::store::internal
