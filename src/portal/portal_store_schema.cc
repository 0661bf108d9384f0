// The portal store's schema on both engines (internal/store_schema.h): the SQLite file's
// forward-only migrations and the PostgreSQL server's, one numbering from version 7 on
// (docs/store-schema.md, docs/portal-database.md).
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "portal/internal/store_schema.h"
#include "sql/database.h"
#include "sqlite/connection.h"
#include "sqlite/migrate.h"

namespace iocgrid::portal::internal {

namespace {

using sqlite::Connection;

// PRAGMA application_id of portal stores ("IOCP"; the node's store is "IOCG").
constexpr int32_t kPortalApplicationId = 0x494f4350;

// Version 1: the file as the portal wrote it before it had a version (hence IF NOT EXISTS: such
// files are adopted as version 0 and hold these tables already).
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL
  REFERENCES users(id), key_hash BLOB NOT NULL UNIQUE, key_start TEXT NOT NULL,
  key_end TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS searches(id TEXT PRIMARY KEY, owner TEXT NOT NULL,
  label TEXT NOT NULL, tlp TEXT NOT NULL, shared INTEGER NOT NULL, created INTEGER NOT NULL,
  status TEXT NOT NULL, indicators INTEGER NOT NULL, hits INTEGER NOT NULL,
  document TEXT NOT NULL DEFAULT '', events TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS searches_created ON searches(created);
)sql";

// Version 2: the scope a search applied (JSON) for the history. Unversioned files written by a
// portal that already added the column keep theirs.
Status AddSearchScope(Connection& c) {
  IOCGRID_ASSIGN_OR_RETURN(bool has_scope, c.HasColumn("searches", "scope"));
  if (has_scope) return Status::Ok();
  return c.Exec("ALTER TABLE searches ADD COLUMN scope TEXT NOT NULL DEFAULT '{}'");
}

// Version 3: sifts (issue 9). What a log upload left: observables with their counts, line
// groups as observable ids, the summary; and the final report once the search ended. The log
// itself is never stored. (IF NOT EXISTS: a file stamped back to version 0, as the upgrade tests
// do, holds the table already.)
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS sifts(id TEXT PRIMARY KEY, owner TEXT NOT NULL, label TEXT NOT NULL,
  tlp TEXT NOT NULL, shared INTEGER NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL,
  search_id TEXT NOT NULL, lines INTEGER NOT NULL, observables INTEGER NOT NULL,
  request TEXT NOT NULL, result TEXT NOT NULL, groups BLOB NOT NULL,
  report TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS sifts_created ON sifts(created);
)sql";

// Version 4 (issue 11): users' organisations, and the sightings analysts sent back to members
// from a search (one row per hit and member, with the member's answer).
Status AddOrgsAndSightings(Connection& c) {
  IOCGRID_ASSIGN_OR_RETURN(bool has_org, c.HasColumn("users", "org"));
  if (!has_org) {
    IOCGRID_RETURN_IF_ERROR(c.Exec("ALTER TABLE users ADD COLUMN org TEXT NOT NULL DEFAULT ''"));
  }
  return c.Exec(
      "CREATE TABLE IF NOT EXISTS search_sightings(id INTEGER PRIMARY KEY, search_id TEXT NOT "
      "NULL, created INTEGER NOT NULL, user TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT "
      "NULL, member TEXT NOT NULL, i INTEGER NOT NULL, value TEXT NOT NULL, outcome TEXT NOT "
      "NULL, reason TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS search_sightings_search ON search_sightings(search_id);");
}

// Version 5 (issue 11): watchlists (standing searches), their runs, and webhook deliveries
// (the payload kept until delivered or given up, so a restart resumes them).
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE IF NOT EXISTS watchlists(id TEXT PRIMARY KEY, owner TEXT NOT NULL,
  name TEXT NOT NULL, request TEXT NOT NULL, webhook TEXT NOT NULL, secret TEXT NOT NULL,
  interval_s INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
  last_run INTEGER NOT NULL DEFAULT 0, hits TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS watchlist_runs(id INTEGER PRIMARY KEY, watchlist_id TEXT NOT NULL,
  started INTEGER NOT NULL, finished INTEGER NOT NULL, reason TEXT NOT NULL,
  status TEXT NOT NULL, hits INTEGER NOT NULL, new_hits TEXT NOT NULL,
  removed_hits TEXT NOT NULL, members TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS watchlist_runs_list ON watchlist_runs(watchlist_id, id);
CREATE TABLE IF NOT EXISTS webhook_deliveries(id INTEGER PRIMARY KEY,
  watchlist_id TEXT NOT NULL, run_id INTEGER NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  log TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS webhook_deliveries_list ON webhook_deliveries(watchlist_id, id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries(state, next_at);
)sql";

// Version 6 (issue 10): blinded points each user sent to private members per UTC day, so that
// a restart does not hand out a fresh day's share.
constexpr std::string_view kSchemaV6 = R"sql(
CREATE TABLE IF NOT EXISTS private_evaluations(user TEXT NOT NULL, day INTEGER NOT NULL,
  points INTEGER NOT NULL, PRIMARY KEY(user, day));
)sql";

// Version 7 (issue 12): alliance sightings, one row per organisation, UTC day and observable,
// and the per-day aggregates trends read (sector_daily, sector_orgs, value_orgs, actor_daily),
// kept in step by PortalStore::RecordAllianceSightings (portal_store_trends.cc).
constexpr std::string_view kSchemaV7 = R"sql(
CREATE TABLE IF NOT EXISTS alliance_values(id INTEGER PRIMARY KEY, type TEXT NOT NULL,
  value TEXT NOT NULL, orgs INTEGER NOT NULL DEFAULT 0, members TEXT NOT NULL DEFAULT '[]',
  UNIQUE(type, value));
CREATE INDEX IF NOT EXISTS alliance_values_orgs ON alliance_values(orgs) WHERE orgs >= 2;
CREATE TABLE IF NOT EXISTS alliance_sightings(day INTEGER NOT NULL, org TEXT NOT NULL,
  value_id INTEGER NOT NULL, sector TEXT NOT NULL, type TEXT NOT NULL, class TEXT NOT NULL,
  count INTEGER NOT NULL, alerted INTEGER NOT NULL, first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL, PRIMARY KEY(day, org, value_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alliance_sightings_value ON alliance_sightings(value_id, day, sector);
CREATE TABLE IF NOT EXISTS sector_daily(day INTEGER NOT NULL, sector TEXT NOT NULL,
  type TEXT NOT NULL, class TEXT NOT NULL, observables INTEGER NOT NULL,
  sightings INTEGER NOT NULL, alerted INTEGER NOT NULL,
  PRIMARY KEY(day, sector, type, class)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sector_orgs(day INTEGER NOT NULL, sector TEXT NOT NULL,
  type TEXT NOT NULL, class TEXT NOT NULL, org TEXT NOT NULL,
  PRIMARY KEY(day, sector, type, class, org)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS value_orgs(value_id INTEGER NOT NULL, org TEXT NOT NULL,
  first_day INTEGER NOT NULL, last_day INTEGER NOT NULL, PRIMARY KEY(value_id, org))
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actor_daily(actor TEXT NOT NULL, day INTEGER NOT NULL,
  value_id INTEGER NOT NULL, org TEXT NOT NULL, sightings INTEGER NOT NULL,
  PRIMARY KEY(actor, day, value_id, org)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS actor_daily_day ON actor_daily(day);
CREATE TABLE IF NOT EXISTS alliance_batches(id TEXT PRIMARY KEY, org TEXT NOT NULL,
  created INTEGER NOT NULL, sightings INTEGER NOT NULL);
)sql";

// Version 8 (issue 12, trends over 10^7 sightings): a distinct-value sketch per day, sector,
// type and class (portal/internal/distinct_sketch.h), which buckets of several days merge
// instead of counting the rows; built from the rows on first open (BuildSketchesIfMissing).
// Scanners rank values by how many organisations saw them (orgs DESC, id).
constexpr std::string_view kSchemaV8 = R"sql(
CREATE TABLE IF NOT EXISTS sector_sketches(day INTEGER NOT NULL, sector TEXT NOT NULL,
  type TEXT NOT NULL, class TEXT NOT NULL, sketch BLOB NOT NULL,
  PRIMARY KEY(day, sector, type, class)) WITHOUT ROWID;
DROP INDEX IF EXISTS alliance_values_orgs;
CREATE INDEX IF NOT EXISTS alliance_values_rank ON alliance_values(orgs DESC, id) WHERE orgs >= 2;
)sql";

// Version 9 (issue 12, scanners over 10^7 sightings): each organisation's last day per value
// next to the value, so that counting the organisations that saw a value within a window reads
// only the spans reaching into it, not every organisation that ever saw the value. Only values
// more than one organisation saw are scanner candidates, so only their spans are indexed
// (`shared`): most sightings are one organisation's own, and their updates skip the index.
// `shared` is the index's last column so that the index covers the count: SQLite reads the
// table to check a partial index's own condition otherwise (twice as slow in the bench).
// (A file stamped back to version 0, as the upgrade tests do, holds the column already.)
constexpr std::string_view kSharedSpans = R"sql(
UPDATE value_orgs SET shared = 1 WHERE value_id IN (SELECT id FROM alliance_values WHERE orgs >= 2);
CREATE INDEX IF NOT EXISTS value_orgs_recent ON value_orgs(value_id, last_day, first_day, shared)
  WHERE shared = 1;
)sql";

// Adds the `shared` flag (0) to `table` unless the file has it already, then runs `sql`.
Status AddSharedFlagThen(Connection& c, const std::string& table, std::string_view sql) {
  IOCGRID_ASSIGN_OR_RETURN(bool has_shared, c.HasColumn(table, "shared"));
  if (!has_shared) {
    IOCGRID_RETURN_IF_ERROR(
        c.Exec("ALTER TABLE " + table + " ADD COLUMN shared INTEGER NOT NULL DEFAULT 0"));
  }
  return c.Exec(sql);
}

Status AddSharedSpans(Connection& c) { return AddSharedFlagThen(c, "value_orgs", kSharedSpans); }

// Version 10 (issue 12, ingest >= 100k sightings/s): alliance_sightings_value, one entry per
// row keyed by value, took a write at a random place per row (the value ids of a batch are
// spread over the whole index), and with it most of the pages a batch dirtied. The questions
// it answered ask by day and sector (does the sector count a value that day: the batch's day
// and sector lead, so a batch's entries land side by side), and, for scanners, by value for
// values more than one organisation saw: rows are marked `shared` when their value reaches
// two organisations (RecordAllianceSightings), and only those are indexed by value.
constexpr std::string_view kSharedRows = R"sql(
UPDATE alliance_sightings SET shared = 1 WHERE value_id IN (SELECT id FROM alliance_values
  WHERE orgs >= 2);
DROP INDEX IF EXISTS alliance_sightings_value;
CREATE INDEX IF NOT EXISTS alliance_sightings_cell ON alliance_sightings(day, sector, value_id);
CREATE INDEX IF NOT EXISTS alliance_sightings_shared ON alliance_sightings(value_id, day)
  WHERE shared = 1;
)sql";

Status AddSharedRows(Connection& c) {
  return AddSharedFlagThen(c, "alliance_sightings", kSharedRows);
}

// Version 11 (issue 12, ingest >= 100k sightings/s): the question alliance_sightings_cell
// answered, whether the sector counts a value that day and class already, is asked only of
// values another organisation saw, and their rows are shared (the fold marks the first
// organisation's rows before asking: ReadSpans): the shared rows' index answers it once it carries
// the sector and the class, and every row no longer pays an entry in a second index (a third of
// the rows' write time, and the question's reads, in the bench).
constexpr std::string_view kSharedCells = R"sql(
DROP INDEX IF EXISTS alliance_sightings_cell;
DROP INDEX IF EXISTS alliance_sightings_shared;
CREATE INDEX IF NOT EXISTS alliance_sightings_shared ON alliance_sightings(value_id, day, sector,
  class) WHERE shared = 1;
)sql";

// Version 12 (issue 12, ingest >= 100k sightings/s): a report is staged in one append (its
// sightings encoded by portal/internal/staged_sightings.h) and folded with the others staged
// since the last fold, in one transaction: most pages a fold dirties (the values', the spans',
// the shared rows' indexes) are shared by the reports, and written to the WAL once.
constexpr std::string_view kPendingBatches = R"sql(
CREATE TABLE IF NOT EXISTS alliance_pending(seq INTEGER PRIMARY KEY, batch_id TEXT NOT NULL,
  org TEXT NOT NULL, sector TEXT NOT NULL, sightings INTEGER NOT NULL, body BLOB NOT NULL);
)sql";

constexpr sqlite::Migration kMigrations[] = {
    {.version = 1, .sql = kSchemaV1, .apply = nullptr},
    {.version = 2, .sql = "", .apply = AddSearchScope},
    {.version = 3, .sql = kSchemaV3, .apply = nullptr},
    {.version = 4, .sql = "", .apply = AddOrgsAndSightings},
    {.version = 5, .sql = kSchemaV5, .apply = nullptr},
    {.version = 6, .sql = kSchemaV6, .apply = nullptr},
    {.version = 7, .sql = kSchemaV7, .apply = nullptr},
    {.version = 8, .sql = kSchemaV8, .apply = nullptr},
    {.version = 9, .sql = "", .apply = AddSharedSpans},
    {.version = 10, .sql = "", .apply = AddSharedRows},
    {.version = 11, .sql = kSharedCells, .apply = nullptr},
    {.version = 12, .sql = kPendingBatches, .apply = nullptr},
};

constexpr sqlite::Schema kSchema{.kind = "portal store",
                                 .application_id = kPortalApplicationId,
                                 .migrations = kMigrations,
                                 .unversioned_table = "searches"};

// The same schema on PostgreSQL, as version 7 in one step (no server ever held an older one);
// migrations after 7 go into both lists. Types are PostgreSQL's (64-bit integers, BYTEA);
// searches and sifts carry a `rowid` column so that "ORDER BY created DESC, rowid DESC" keeps
// the insertion order on both engines.
constexpr std::string_view kPostgresSchemaV7 = R"sql(
CREATE TABLE users(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, created BIGINT NOT NULL,
  org TEXT NOT NULL DEFAULT '');
CREATE TABLE api_keys(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id), key_hash BYTEA NOT NULL UNIQUE,
  key_start TEXT NOT NULL, key_end TEXT NOT NULL, created BIGINT NOT NULL,
  revoked BIGINT NOT NULL DEFAULT 0);
CREATE TABLE searches(rowid BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT PRIMARY KEY,
  owner TEXT NOT NULL, label TEXT NOT NULL, tlp TEXT NOT NULL, shared BIGINT NOT NULL,
  created BIGINT NOT NULL, status TEXT NOT NULL, indicators BIGINT NOT NULL,
  hits BIGINT NOT NULL, document TEXT NOT NULL DEFAULT '', events TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT '{}');
CREATE INDEX searches_created ON searches(created);
CREATE TABLE sifts(rowid BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT PRIMARY KEY,
  owner TEXT NOT NULL, label TEXT NOT NULL, tlp TEXT NOT NULL, shared BIGINT NOT NULL,
  created BIGINT NOT NULL, status TEXT NOT NULL, search_id TEXT NOT NULL,
  lines BIGINT NOT NULL, observables BIGINT NOT NULL, request TEXT NOT NULL,
  result TEXT NOT NULL, groups BYTEA NOT NULL, report TEXT NOT NULL DEFAULT '');
CREATE INDEX sifts_created ON sifts(created);
CREATE TABLE search_sightings(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  search_id TEXT NOT NULL, created BIGINT NOT NULL, "user" TEXT NOT NULL, type TEXT NOT NULL,
  source TEXT NOT NULL, member TEXT NOT NULL, i BIGINT NOT NULL, value TEXT NOT NULL,
  outcome TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX search_sightings_search ON search_sightings(search_id);
CREATE TABLE watchlists(id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
  request TEXT NOT NULL, webhook TEXT NOT NULL, secret TEXT NOT NULL,
  interval_s BIGINT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL,
  last_run BIGINT NOT NULL DEFAULT 0, hits TEXT NOT NULL DEFAULT '[]');
CREATE TABLE watchlist_runs(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  watchlist_id TEXT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL,
  reason TEXT NOT NULL, status TEXT NOT NULL, hits BIGINT NOT NULL, new_hits TEXT NOT NULL,
  removed_hits TEXT NOT NULL, members TEXT NOT NULL);
CREATE INDEX watchlist_runs_list ON watchlist_runs(watchlist_id, id);
CREATE TABLE webhook_deliveries(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  watchlist_id TEXT NOT NULL, run_id BIGINT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
  state TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,
  last_status BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  log TEXT NOT NULL DEFAULT '[]');
CREATE INDEX webhook_deliveries_list ON webhook_deliveries(watchlist_id, id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_at);
CREATE TABLE private_evaluations("user" TEXT NOT NULL, day BIGINT NOT NULL,
  points BIGINT NOT NULL, PRIMARY KEY("user", day));
CREATE TABLE alliance_values(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  type TEXT NOT NULL, value TEXT NOT NULL, orgs BIGINT NOT NULL DEFAULT 0,
  members TEXT NOT NULL DEFAULT '[]', UNIQUE(type, value));
CREATE INDEX alliance_values_orgs ON alliance_values(orgs) WHERE orgs >= 2;
CREATE TABLE alliance_sightings(day BIGINT NOT NULL, org TEXT NOT NULL,
  value_id BIGINT NOT NULL, sector TEXT NOT NULL, type TEXT NOT NULL, class TEXT NOT NULL,
  count BIGINT NOT NULL, alerted BIGINT NOT NULL, first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL, PRIMARY KEY(day, org, value_id));
CREATE INDEX alliance_sightings_value ON alliance_sightings(value_id, day, sector);
CREATE TABLE sector_daily(day BIGINT NOT NULL, sector TEXT NOT NULL, type TEXT NOT NULL,
  class TEXT NOT NULL, observables BIGINT NOT NULL, sightings BIGINT NOT NULL,
  alerted BIGINT NOT NULL, PRIMARY KEY(day, sector, type, class));
CREATE TABLE sector_orgs(day BIGINT NOT NULL, sector TEXT NOT NULL, type TEXT NOT NULL,
  class TEXT NOT NULL, org TEXT NOT NULL, PRIMARY KEY(day, sector, type, class, org));
CREATE TABLE value_orgs(value_id BIGINT NOT NULL, org TEXT NOT NULL, first_day BIGINT NOT NULL,
  last_day BIGINT NOT NULL, PRIMARY KEY(value_id, org));
CREATE TABLE actor_daily(actor TEXT NOT NULL, day BIGINT NOT NULL, value_id BIGINT NOT NULL,
  org TEXT NOT NULL, sightings BIGINT NOT NULL, PRIMARY KEY(actor, day, value_id, org));
CREATE INDEX actor_daily_day ON actor_daily(day);
CREATE TABLE alliance_batches(id TEXT PRIMARY KEY, org TEXT NOT NULL, created BIGINT NOT NULL,
  sightings BIGINT NOT NULL);
)sql";

constexpr std::string_view kPostgresSchemaV8 = R"sql(
CREATE TABLE sector_sketches(day BIGINT NOT NULL, sector TEXT NOT NULL, type TEXT NOT NULL,
  class TEXT NOT NULL, sketch BYTEA NOT NULL, PRIMARY KEY(day, sector, type, class));
DROP INDEX alliance_values_orgs;
CREATE INDEX alliance_values_rank ON alliance_values(orgs DESC, id) WHERE orgs >= 2;
)sql";

constexpr std::string_view kPostgresSchemaV9 = R"sql(
ALTER TABLE value_orgs ADD COLUMN shared BIGINT NOT NULL DEFAULT 0;
UPDATE value_orgs SET shared = 1 WHERE value_id IN (SELECT id FROM alliance_values WHERE orgs >= 2);
CREATE INDEX value_orgs_recent ON value_orgs(value_id, last_day, first_day, shared)
  WHERE shared = 1;
)sql";

constexpr std::string_view kPostgresSchemaV10 = R"sql(
ALTER TABLE alliance_sightings ADD COLUMN shared BIGINT NOT NULL DEFAULT 0;
UPDATE alliance_sightings SET shared = 1 WHERE value_id IN (SELECT id FROM alliance_values
  WHERE orgs >= 2);
DROP INDEX alliance_sightings_value;
CREATE INDEX alliance_sightings_cell ON alliance_sightings(day, sector, value_id);
CREATE INDEX alliance_sightings_shared ON alliance_sightings(value_id, day) WHERE shared = 1;
)sql";

constexpr std::string_view kPostgresSchemaV12 = R"sql(
CREATE TABLE alliance_pending(seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  batch_id TEXT NOT NULL, org TEXT NOT NULL, sector TEXT NOT NULL, sightings BIGINT NOT NULL,
  body BYTEA NOT NULL);
)sql";

constexpr sql::Migration kPostgresMigrations[] = {
    {.version = 7, .sql = kPostgresSchemaV7}, {.version = 8, .sql = kPostgresSchemaV8},
    {.version = 9, .sql = kPostgresSchemaV9}, {.version = 10, .sql = kPostgresSchemaV10},
    {.version = 11, .sql = kSharedCells},     {.version = 12, .sql = kPostgresSchemaV12}};
static_assert(std::size(kPostgresMigrations) > 0 &&
                  std::end(kPostgresMigrations)[-1].version == std::end(kMigrations)[-1].version,
              "both engines' schemas end at the same version");

}  // namespace

const sqlite::Schema& SqliteSchema() { return kSchema; }

std::span<const sql::Migration> PostgresMigrations() { return kPostgresMigrations; }

}  // namespace iocgrid::portal::internal
