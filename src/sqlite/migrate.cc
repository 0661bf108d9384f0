#include "sqlite/migrate.h"

#include <string>

namespace iocgrid::sqlite {

Status NewerSchemaError(std::string_view where, std::string_view kind, int64_t version,
                        int64_t latest) {
  return Status(StatusCode::kUnimplemented,
                std::string(where) + " has " + std::string(kind) + " schema version " +
                    std::to_string(version) + ", but this iocgrid knows versions up to " +
                    std::to_string(latest) +
                    "; use a newer iocgrid (downgrades are not supported)");
}

int LatestVersion(const Schema& schema) {
  return schema.migrations.empty() ? 0 : schema.migrations.back().version;
}

Status Migrate(Connection& connection, std::string_view path, const Schema& schema) {
  IOCGRID_ASSIGN_OR_RETURN(int64_t application_id, connection.QueryInt("PRAGMA application_id"));
  IOCGRID_ASSIGN_OR_RETURN(int64_t version, connection.QueryInt("PRAGMA user_version"));
  const int latest = LatestVersion(schema);
  const std::string kind(schema.kind);
  if (application_id != 0 && application_id != schema.application_id) {
    return InvalidArgumentError(std::string(path) + " is not an iocgrid " + kind +
                                " (application_id " + std::to_string(application_id) + ")");
  }
  if (version > latest) return NewerSchemaError(path, kind, version, latest);
  if (application_id == 0 && version == 0) {
    // A file that is not empty but not ours either (no application_id, tables present).
    IOCGRID_ASSIGN_OR_RETURN(int64_t tables,
                             connection.QueryInt("SELECT count(*) FROM sqlite_schema"));
    bool unversioned = false;
    if (tables != 0 && !schema.unversioned_table.empty()) {
      IOCGRID_ASSIGN_OR_RETURN(unversioned, connection.HasTable(schema.unversioned_table));
    }
    if (tables != 0 && !unversioned) {
      return InvalidArgumentError(std::string(path) + " is a SQLite database but not an iocgrid " +
                                  kind);
    }
  }
  for (const Migration& migration : schema.migrations) {
    if (migration.version <= version) continue;
    Transaction tx(connection);
    IOCGRID_RETURN_IF_ERROR(tx.Begin());
    // Re-read inside the write lock: another process may have migrated meanwhile.
    IOCGRID_ASSIGN_OR_RETURN(int64_t current, connection.QueryInt("PRAGMA user_version"));
    if (current >= migration.version) continue;
    Status applied =
        migration.apply != nullptr ? migration.apply(connection) : connection.Exec(migration.sql);
    if (!applied.ok()) {
      return applied.WithContext(kind + " migration to version " +
                                 std::to_string(migration.version));
    }
    IOCGRID_RETURN_IF_ERROR(
        connection.Exec("PRAGMA application_id = " + std::to_string(schema.application_id)));
    IOCGRID_RETURN_IF_ERROR(
        connection.Exec("PRAGMA user_version = " + std::to_string(migration.version)));
    IOCGRID_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::Ok();
}

}  // namespace iocgrid::sqlite
