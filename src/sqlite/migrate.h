// Forward-only schema migrations for an iocgrid SQLite file (docs/store-schema.md). A schema is
// an ordered list of migrations; migration N takes PRAGMA user_version N-1 to N inside one
// transaction and stamps the schema's application_id. A released migration is never edited,
// only followed by a new one, and a file newer than this binary is refused.
//
// Thread-safety: call on the owner's writing connection only.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "sqlite/connection.h"

namespace iocgrid::sqlite {

struct Migration {
  int version = 0;
  // SQL text run as is (may hold several statements), or, when `apply` is set, ignored.
  std::string_view sql;
  // For a step that depends on what is there (files from before versioning).
  Status (*apply)(Connection& connection) = nullptr;
};

struct Schema {
  // Names the file in messages: "store" gives "... has store schema version 3 ...".
  std::string_view kind;
  // PRAGMA application_id stamped on the file; another non-zero id is refused.
  int32_t application_id = 0;
  std::span<const Migration> migrations;
  // A file with neither application_id nor user_version but with tables is refused as "not an
  // iocgrid <kind>", unless it has this table: then it is a file from before versioning, taken
  // as version 0 (its migrations must accept what such files hold). Empty: always refused.
  std::string_view unversioned_table;
};

// The refusal of a database (`where`) whose `kind` schema `version` is newer than `latest`, the
// newest this binary knows: kUnimplemented naming both. Also the PostgreSQL side's (sql/).
Status NewerSchemaError(std::string_view where, std::string_view kind, int64_t version,
                        int64_t latest);

// The highest version `schema`'s migrations reach.
int LatestVersion(const Schema& schema);

// Brings the database to LatestVersion(schema). Errors: kUnimplemented when the file's
// user_version is newer (the message names both versions and `path`), kInvalidArgument when
// the file belongs to another application.
Status Migrate(Connection& connection, std::string_view path, const Schema& schema);

}  // namespace iocgrid::sqlite
