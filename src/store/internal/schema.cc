#include "store/internal/schema.h"

#include <string_view>

#include "sqlite/migrate.h"

namespace iocgrid::store::internal {
namespace {

// Version 1: the initial schema. Every column is described in docs/store-schema.md; keep both
// in step. Booleans are INTEGER 0/1, times unix seconds unless named *_us.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE organisations (
  id      INTEGER PRIMARY KEY,
  uuid    TEXT NOT NULL UNIQUE,
  name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  local   INTEGER NOT NULL DEFAULT 1,
  created INTEGER NOT NULL
);

CREATE TABLE users (
  id       INTEGER PRIMARY KEY,
  email    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  org_id   INTEGER NOT NULL REFERENCES organisations(id),
  role     TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  disabled INTEGER NOT NULL DEFAULT 0,
  created  INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE api_keys (
  id        INTEGER PRIMARY KEY,
  user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key_start TEXT NOT NULL,
  key_end   TEXT NOT NULL,
  key_hash  BLOB NOT NULL,
  comment   TEXT NOT NULL DEFAULT '',
  created   INTEGER NOT NULL,
  expires   INTEGER NOT NULL DEFAULT 0,
  revoked   INTEGER NOT NULL DEFAULT 0,
  last_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_lookup ON api_keys(key_start, key_end);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE events (
  id                INTEGER PRIMARY KEY,
  uuid              TEXT NOT NULL UNIQUE,
  info              TEXT NOT NULL,
  date              TEXT NOT NULL,
  org_id            INTEGER NOT NULL REFERENCES organisations(id),
  orgc_id           INTEGER NOT NULL REFERENCES organisations(id),
  threat_level_id   INTEGER NOT NULL DEFAULT 4 CHECK (threat_level_id BETWEEN 1 AND 4),
  analysis          INTEGER NOT NULL DEFAULT 0 CHECK (analysis BETWEEN 0 AND 2),
  distribution      INTEGER NOT NULL DEFAULT 0 CHECK (distribution BETWEEN 0 AND 4),
  published         INTEGER NOT NULL DEFAULT 0,
  timestamp         INTEGER NOT NULL,
  publish_timestamp INTEGER NOT NULL DEFAULT 0,
  deleted           INTEGER NOT NULL DEFAULT 0,
  source            TEXT NOT NULL DEFAULT '',
  imported_at       INTEGER NOT NULL
);
CREATE INDEX events_orgc ON events(orgc_id);
CREATE INDEX events_org ON events(org_id);
CREATE INDEX events_date ON events(date);
CREATE INDEX events_timestamp ON events(timestamp);

CREATE TABLE objects (
  id            INTEGER PRIMARY KEY,
  uuid          TEXT NOT NULL UNIQUE,
  event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  meta_category TEXT NOT NULL DEFAULT '',
  comment       TEXT NOT NULL DEFAULT '',
  distribution  INTEGER NOT NULL DEFAULT 5 CHECK (distribution BETWEEN 0 AND 5),
  timestamp     INTEGER NOT NULL,
  deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX objects_event ON objects(event_id);

CREATE TABLE attributes (
  id               INTEGER PRIMARY KEY,
  uuid             TEXT NOT NULL,
  event_id         INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  object_id        INTEGER REFERENCES objects(id) ON DELETE CASCADE,
  object_relation  TEXT,
  type             TEXT NOT NULL,
  category         TEXT NOT NULL,
  value1           TEXT NOT NULL COLLATE NOCASE,
  value2           TEXT COLLATE NOCASE,
  match_value      TEXT GENERATED ALWAYS AS
                     (CASE WHEN value2 IS NULL THEN value1 ELSE value1 || '|' || value2 END)
                     VIRTUAL,
  to_ids           INTEGER NOT NULL DEFAULT 0,
  distribution     INTEGER NOT NULL DEFAULT 5 CHECK (distribution BETWEEN 0 AND 5),
  comment          TEXT NOT NULL DEFAULT '',
  timestamp        INTEGER NOT NULL,
  first_seen       INTEGER,
  last_seen        INTEGER,
  deleted          INTEGER NOT NULL DEFAULT 0,
  import_sightings INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX attributes_uuid ON attributes(uuid);
CREATE INDEX attributes_value1 ON attributes(value1);
CREATE INDEX attributes_value2 ON attributes(value2) WHERE value2 IS NOT NULL;
CREATE INDEX attributes_event ON attributes(event_id);
CREATE INDEX attributes_object ON attributes(object_id) WHERE object_id IS NOT NULL;
CREATE INDEX attributes_type ON attributes(type);
CREATE INDEX attributes_timestamp ON attributes(timestamp);

CREATE TABLE tags (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  colour     TEXT NOT NULL,
  exportable INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE event_tags (
  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  tag_id   INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  local    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX event_tags_tag ON event_tags(tag_id);

CREATE TABLE attribute_tags (
  attribute_id INTEGER NOT NULL REFERENCES attributes(id) ON DELETE CASCADE,
  tag_id       INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  local        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (attribute_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX attribute_tags_tag ON attribute_tags(tag_id);

CREATE TABLE sightings (
  id            INTEGER PRIMARY KEY,
  uuid          TEXT NOT NULL UNIQUE,
  attribute_id  INTEGER NOT NULL REFERENCES attributes(id) ON DELETE CASCADE,
  event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  org_id        INTEGER NOT NULL REFERENCES organisations(id),
  date_sighting INTEGER NOT NULL,
  source        TEXT NOT NULL DEFAULT '',
  type          INTEGER NOT NULL DEFAULT 0 CHECK (type BETWEEN 0 AND 2)
);
CREATE INDEX sightings_attribute ON sightings(attribute_id);
CREATE INDEX sightings_event ON sightings(event_id);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  user_id     INTEGER NOT NULL DEFAULT 0,
  key_id      INTEGER NOT NULL DEFAULT 0,
  org_id      INTEGER NOT NULL DEFAULT 0,
  action      TEXT NOT NULL,
  endpoint    TEXT NOT NULL DEFAULT '',
  remote      TEXT NOT NULL DEFAULT '',
  value_count INTEGER NOT NULL DEFAULT 0,
  status      INTEGER NOT NULL DEFAULT 0,
  query_values TEXT
);
CREATE INDEX audit_log_time ON audit_log(time);
)sql";

// Version 2 (issue 10): private search. The node's OPRF keys, one row per distinct key string
// of its data (tag, OPRF output, sealed label, the generation of its last change), the
// attributes whose tags are stale, and the daily evaluation quota per querying organisation.
// The triggers mark an attribute stale whenever it, its tags or its event's disclosed fields
// change, from any process (a running node or `node import`), but only once private search is
// on (a key exists): a node that never serves it pays one empty-table probe per row written.
// The old value is kept for updates and deletes, so that the keys it had can be re-labelled.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE psi_keys (
  epoch   INTEGER PRIMARY KEY,
  secret  BLOB NOT NULL,
  created INTEGER NOT NULL
);

CREATE TABLE psi_tags (
  id         INTEGER PRIMARY KEY,
  epoch      INTEGER NOT NULL,
  key        BLOB NOT NULL,
  below      INTEGER NOT NULL,
  tag        BLOB NOT NULL,
  prf        BLOB NOT NULL,
  label      BLOB,
  live       INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  UNIQUE (epoch, key)
);
CREATE INDEX psi_tags_changes ON psi_tags(epoch, below, generation, id);
CREATE INDEX psi_tags_tag ON psi_tags(epoch, tag);

CREATE TABLE psi_dirty (
  seq          INTEGER PRIMARY KEY,
  attribute_id INTEGER NOT NULL,
  old_type     TEXT,
  old_value    TEXT
);

CREATE TABLE psi_quota (
  org_id INTEGER NOT NULL,
  day    INTEGER NOT NULL,
  used   INTEGER NOT NULL,
  PRIMARY KEY (org_id, day)
) WITHOUT ROWID;

CREATE TRIGGER psi_attribute_insert AFTER INSERT ON attributes
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id) VALUES (NEW.id);
END;

CREATE TRIGGER psi_attribute_update AFTER UPDATE ON attributes
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id, old_type, old_value)
  VALUES (NEW.id, OLD.type, OLD.match_value);
END;

CREATE TRIGGER psi_attribute_delete AFTER DELETE ON attributes
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id, old_type, old_value)
  VALUES (OLD.id, OLD.type, OLD.match_value);
END;

CREATE TRIGGER psi_event_update AFTER UPDATE OF info, date, orgc_id, threat_level_id, published,
  deleted ON events
WHEN EXISTS (SELECT 1 FROM psi_keys) AND (OLD.info IS NOT NEW.info OR OLD.date IS NOT NEW.date
  OR OLD.orgc_id IS NOT NEW.orgc_id OR OLD.threat_level_id IS NOT NEW.threat_level_id
  OR OLD.published IS NOT NEW.published OR OLD.deleted IS NOT NEW.deleted)
BEGIN
  INSERT INTO psi_dirty (attribute_id) SELECT id FROM attributes WHERE event_id = NEW.id;
END;

CREATE TRIGGER psi_attribute_tag_insert AFTER INSERT ON attribute_tags
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id) VALUES (NEW.attribute_id);
END;

CREATE TRIGGER psi_attribute_tag_delete AFTER DELETE ON attribute_tags
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id) VALUES (OLD.attribute_id);
END;

CREATE TRIGGER psi_event_tag_insert AFTER INSERT ON event_tags
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id) SELECT id FROM attributes WHERE event_id = NEW.event_id;
END;

CREATE TRIGGER psi_event_tag_delete AFTER DELETE ON event_tags
WHEN EXISTS (SELECT 1 FROM psi_keys)
BEGIN
  INSERT INTO psi_dirty (attribute_id) SELECT id FROM attributes WHERE event_id = OLD.event_id;
END;
)sql";

// Version 3 (issue 10, key rotation): a key's state (preparing, active, retired), when it got
// there, and a preparing key's re-tag cursor (the last key string of the active epoch done), so
// that a rotation resumes where it stopped after a restart. Existing keys are active.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE psi_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
  CHECK (state IN ('preparing', 'active', 'retired'));
ALTER TABLE psi_keys ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE psi_keys ADD COLUMN retag_after BLOB NOT NULL DEFAULT x'';
UPDATE psi_keys SET changed = created;
)sql";

// Version 4 (issue 14): a node mirroring a MISP (node/mirror.h). The source timestamp and
// sighting timestamp of each mirrored event (kept = 0: listed but filtered out by distribution,
// so not fetched again until it changes) and the mirror's single state row.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE mirror_events (
  uuid               TEXT PRIMARY KEY,
  timestamp          INTEGER NOT NULL,
  sighting_timestamp INTEGER NOT NULL,
  kept               INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE mirror_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  source       TEXT NOT NULL,
  since        INTEGER NOT NULL,
  last_attempt INTEGER NOT NULL,
  last_success INTEGER NOT NULL,
  last_full    INTEGER NOT NULL,
  error        TEXT NOT NULL
);
)sql";

// Version 5 (issue 14): the index change log. Every change to what the match index holds (an
// attribute added, its type or value changed, deleted or undeleted; an event deleted or
// undeleted, soft or hard) logs the attribute ids concerned as a run [first_id, last_id], from
// any process, so that a serving node applies writes as a small delta beside its immutable
// index instead of rebuilding it (docs/index.md "Live writes"). Inserted attributes are logged
// by the store's writer as runs of consecutive ids at commit (LogInsertedRuns: a trigger per
// inserted row halved the import rate); the rarer changes by the triggers below, one row each.
// The node trims what its kept index covers. Both queues get AUTOINCREMENT: a sequence number is
// never reused once a queue has emptied, so that a bound read before a snapshot
// (PsiDirtyHighWater, IndexChangeHighWater) never covers a later change. psi_dirty is rebuilt for
// that; its triggers refer to it by name and are kept (the migration runs with
// legacy_alter_table, which renames without re-checking them).
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE psi_dirty_v5 (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  attribute_id INTEGER NOT NULL,
  old_type     TEXT,
  old_value    TEXT
);
INSERT INTO psi_dirty_v5 (seq, attribute_id, old_type, old_value)
  SELECT seq, attribute_id, old_type, old_value FROM psi_dirty;
DROP TABLE psi_dirty;
ALTER TABLE psi_dirty_v5 RENAME TO psi_dirty;

CREATE TABLE index_changes (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  first_id INTEGER NOT NULL,
  last_id  INTEGER NOT NULL CHECK (last_id >= first_id)
);

CREATE TRIGGER index_attribute_update AFTER UPDATE OF type, value1, value2, deleted, event_id
  ON attributes
WHEN OLD.type IS NOT NEW.type OR OLD.value1 IS NOT NEW.value1 COLLATE BINARY
  OR OLD.value2 IS NOT NEW.value2 COLLATE BINARY OR OLD.deleted IS NOT NEW.deleted
  OR OLD.event_id IS NOT NEW.event_id
BEGIN
  INSERT INTO index_changes (first_id, last_id) VALUES (NEW.id, NEW.id);
END;

CREATE TRIGGER index_attribute_delete AFTER DELETE ON attributes
BEGIN
  INSERT INTO index_changes (first_id, last_id) VALUES (OLD.id, OLD.id);
END;

CREATE TRIGGER index_event_update AFTER UPDATE OF deleted ON events
WHEN OLD.deleted IS NOT NEW.deleted
BEGIN
  INSERT INTO index_changes (first_id, last_id) SELECT id, id FROM attributes WHERE event_id = NEW.id;
END;

CREATE TRIGGER index_event_delete BEFORE DELETE ON events
BEGIN
  INSERT INTO index_changes (first_id, last_id) SELECT id, id FROM attributes WHERE event_id = OLD.id;
END;
)sql";

Status ApplyV5(sqlite::Connection& connection) {
  IOCGRID_RETURN_IF_ERROR(connection.Exec("PRAGMA legacy_alter_table = ON"));
  Status st = connection.Exec(kSchemaV5);
  Status off = connection.Exec("PRAGMA legacy_alter_table = OFF");
  IOCGRID_RETURN_IF_ERROR(st);
  return off;
}

// Version 6: the audit log moves to its own file (audit.db; kAuditSchemaV1 below), where
// CopyAuditRowsFromStore put its rows before this runs. A request's audit row is written
// before the request runs and updated after it: in the store file, those two commits made
// every reader connection drop its page cache before its next query, so that each grid match
// read the B-tree pages of its hits afresh (at 3·10^7 attributes, ~210 pages and half of the
// request's time).
constexpr std::string_view kSchemaV6 = R"sql(
DROP TABLE IF EXISTS audit_log;
)sql";

// The audit file's version 1: the store schema's audit_log as it was, columns and index.
constexpr std::string_view kAuditSchemaV1 = R"sql(
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  user_id     INTEGER NOT NULL DEFAULT 0,
  key_id      INTEGER NOT NULL DEFAULT 0,
  org_id      INTEGER NOT NULL DEFAULT 0,
  action      TEXT NOT NULL,
  endpoint    TEXT NOT NULL DEFAULT '',
  remote      TEXT NOT NULL DEFAULT '',
  value_count INTEGER NOT NULL DEFAULT 0,
  status      INTEGER NOT NULL DEFAULT 0,
  query_values TEXT
);
CREATE INDEX audit_log_time ON audit_log(time);
)sql";

constexpr sqlite::Migration kAuditMigrations[] = {
    {.version = 1, .sql = kAuditSchemaV1, .apply = nullptr},
};

constexpr sqlite::Schema kAuditSchema{.kind = "audit log",
                                      .application_id = kAuditApplicationId,
                                      .migrations = kAuditMigrations,
                                      .unversioned_table = ""};

constexpr sqlite::Migration kMigrations[] = {
    {.version = 1, .sql = kSchemaV1, .apply = nullptr},
    {.version = 2, .sql = kSchemaV2, .apply = nullptr},
    {.version = 3, .sql = kSchemaV3, .apply = nullptr},
    {.version = 4, .sql = kSchemaV4, .apply = nullptr},
    {.version = 5, .sql = kSchemaV5, .apply = ApplyV5},
    {.version = 6, .sql = kSchemaV6, .apply = nullptr},
};

// No store was ever written without a version, so an unversioned file with tables is refused.
constexpr sqlite::Schema kSchema{.kind = "store",
                                 .application_id = kApplicationId,
                                 .migrations = kMigrations,
                                 .unversioned_table = ""};

}  // namespace

int LatestSchemaVersion() { return sqlite::LatestVersion(kSchema); }

Status Migrate(sqlite::Connection& connection, std::string_view path) {
  return sqlite::Migrate(connection, path, kSchema);
}

Status MigrateAudit(sqlite::Connection& connection, std::string_view path) {
  return sqlite::Migrate(connection, path, kAuditSchema);
}

Status CopyAuditRowsFromStore(sqlite::Connection& audit, const std::string& store_path) {
  {
    IOCGRID_ASSIGN_OR_RETURN(Statement attach,
                             audit.PrepareOnce("ATTACH DATABASE ?1 AS store_file"));
    attach.BindText(1, store_path);
    IOCGRID_RETURN_IF_ERROR(attach.Run());
  }
  Status copied = [&]() -> Status {
    Transaction tx(audit);
    IOCGRID_RETURN_IF_ERROR(tx.Begin());
    // One read snapshot of the store file: the check and the copy see the same tables.
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t present,
        audit.QueryInt("SELECT count(*) FROM store_file.sqlite_schema WHERE type = 'table' AND "
                       "name = 'audit_log'"));
    if (present == 0) return tx.Commit();
    IOCGRID_RETURN_IF_ERROR(
        audit.Exec("INSERT OR IGNORE INTO main.audit_log (id, time, user_id, key_id, org_id, "
                   "action, endpoint, remote, value_count, status, query_values) SELECT id, time, "
                   "user_id, key_id, org_id, action, endpoint, remote, value_count, status, "
                   "query_values FROM store_file.audit_log"));
    return tx.Commit();
  }();
  Status detached = audit.Exec("DETACH DATABASE store_file");
  IOCGRID_RETURN_IF_ERROR(copied);
  return detached;
}

}  // namespace iocgrid::store::internal
