// The portal store's schema (portal_store_schema.cc): the migrations PortalStore::Open applies
// to the SQLite file and to a PostgreSQL server.
#pragma once

#include <span>

#include "sql/database.h"
#include "sqlite/migrate.h"

namespace iocgrid::portal::internal {

const sqlite::Schema& SqliteSchema();
std::span<const sql::Migration> PostgresMigrations();

}  // namespace iocgrid::portal::internal
