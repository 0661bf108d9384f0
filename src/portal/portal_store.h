// PortalStore: the portal's own database — by default a SQLite file (DATA/portal.db, WAL), or
// a PostgreSQL server shared by several portal instances (`database = "postgresql://..."`;
// docs/portal-database.md): analysts and their API keys
// (SHA-256 only), searches with their final result document and event log, and sifts (their
// observables and report, never the log), so that a restart loses no finished search. Searches
// still running at a restart are marked interrupted.
//
// The database has a schema version with forward-only migrations (sqlite/migrate.h for the
// file, sql::MigratePostgres for a server); a file from before versioning is upgraded, a newer
// database refused. The SQL is written once for both engines (sql/database.h).
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex; the portal's
// writes are small).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace iocgrid::sql {
class Database;
}

namespace iocgrid::portal {

enum class Role : uint8_t { kAdmin, kAnalyst };
std::string_view RoleName(Role role);
bool ParseRole(std::string_view name, Role* out);

struct PortalUser {
  int64_t id = 0;
  std::string name;
  Role role = Role::kAnalyst;
  std::string org;  // the user's organisation (`users create --org`); empty = none given
};

struct KeyInfo {
  int64_t id = 0;
  std::string user;
  Role role = Role::kAnalyst;
  std::string key_start;
  std::string key_end;
  int64_t created = 0;
  int64_t revoked = 0;
  std::string org;
};

struct SearchRow {
  std::string id;
  std::string owner;
  std::string label;
  std::string tlp;
  bool shared = false;
  int64_t created = 0;
  std::string status;  // running, done, interrupted
  uint64_t indicators = 0;
  uint64_t hits = 0;
  std::string scope;     // JSON: the since/until the search applied ("{}" = unscoped)
  std::string document;  // the JSON document: the query at creation, hits as they arrive
  std::string events;    // the SSE event log
};

// A sift (POST /api/v1/sifts): what its upload left (never the log), its search, its report.
struct SiftRow {
  std::string id;
  std::string owner;
  std::string label;
  std::string tlp;
  bool shared = false;
  int64_t created = 0;
  std::string status;     // searching, done, interrupted
  std::string search_id;  // empty when nothing was public to search
  uint64_t lines = 0;
  uint64_t observables = 0;
  std::string request;  // JSON: the query parameters, normalized
  std::string result;   // JSON: summary counts, malformed examples, observables
  std::string groups;   // binary: the line groups (portal/internal/sift_job.h)
  std::string report;   // JSON: the final report, once the search ended
};

// One sighting an analyst sent back to a member from a search's hit
// (POST /api/v1/searches/{id}/sightings), with the member's answer.
struct SentSighting {
  std::string search_id;
  int64_t created = 0;  // unix seconds
  std::string user;
  std::string type;    // true-positive, false-positive
  std::string source;  // what the member was told (empty when hidden)
  std::string member;
  uint32_t i = 0;       // the indicator's position in the search
  std::string value;    // the member's value the sighting named
  std::string outcome;  // sent, refused, failed
  std::string reason;   // why, when not sent
};

// A standing search (POST /api/v1/watchlists): its normalized search request, where its new hits
// go, how often it runs, and the hits of its last run.
struct WatchlistRow {
  std::string id;
  std::string owner;
  std::string name;
  std::string request;  // JSON: the normalized search request (portal/internal/search_request.h)
  std::string webhook;  // empty = none
  std::string secret;   // the webhook's HMAC key; never shown again
  int64_t interval_s = 0;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t last_run = 0;     // unix seconds; 0 = never ran
  std::string hits = "[]";  // JSON: the last run's hits
};

struct WatchRunRow {
  int64_t id = 0;
  std::string watchlist_id;
  int64_t started = 0;
  int64_t finished = 0;
  std::string reason;  // created, interval, data-changed, patched
  std::string status;  // done, interrupted
  uint64_t hits = 0;
  std::string new_hits = "[]";      // JSON
  std::string removed_hits = "[]";  // JSON
  std::string members = "[]";       // JSON: each member's status in the run
};

// A webhook delivery: pending until the receiver answers 2xx (delivered) or the attempts run
// out (failed); `log` keeps every attempt.
struct DeliveryRow {
  int64_t id = 0;
  std::string watchlist_id;
  int64_t run_id = 0;
  std::string url;
  std::string body;
  std::string state;  // pending, delivered, failed
  int attempts = 0;
  int64_t next_at = 0;  // unix milliseconds of the next attempt
  int last_status = 0;
  std::string last_error;
  std::string log = "[]";  // JSON: [{"at", "status", "error"}]
};

// What charging a user's private-search evaluations gave.
struct EvaluationCharge {
  bool charged = false;  // false: over the cap, nothing counted
  uint64_t used = 0;     // the user's points that day, after the charge when charged
};

// Alliance sightings (issue 12; docs/trends.md): what one organisation saw of one observable,
// as recorded from a sightings batch or a shared sift, with the class and member hits the
// alliance gave it. `day` is the UTC day (unix seconds / 86400) of last_seen.
struct AllianceSighting {
  std::string value;
  std::string type;  // MISP type name
  std::string cls;   // sift class name: threat, noise, anonymizer, benign, unknown
  int64_t day = 0;
  int64_t first_seen = 0;  // unix seconds
  int64_t last_seen = 0;
  uint64_t count = 0;
  uint64_t alerted = 0;
  std::vector<std::string> members;  // members holding it (the names the search showed)
  std::vector<std::string> actors;   // threat actors its hits were tagged with
};

// The pre-aggregated rows trends are computed from (days are UTC day numbers).
struct SectorDayRow {
  int64_t day = 0;
  std::string sector, type, cls;
  uint64_t observables = 0;  // distinct in the sector that day
  uint64_t sightings = 0;
  uint64_t alerted = 0;
};
struct SectorOrgRow {
  int64_t day = 0;
  std::string sector, type, cls, org;
};
// Distinct observables of a sector per bucket (buckets of several days), by type and class.
struct SectorDistinctRow {
  int64_t bucket = 0;  // index of the bucket from the window's first day
  std::string sector, type, cls;
  uint64_t observables = 0;
};

// What a sectors or rising answer is computed from, read at once.
struct SectorTrendData {
  std::vector<SectorDayRow> days;
  std::vector<SectorOrgRow> orgs;
  std::vector<SectorDistinctRow> distinct;
};
struct ScannerRow {
  std::string value, type;
  std::vector<std::string> orgs, sectors, classes;  // distinct, for counting (never shown)
  int64_t first_seen = 0, last_seen = 0;
  uint64_t sightings = 0, alerted = 0;
  std::string members;  // JSON list of the members holding it
};
struct ActorRow {
  std::string actor;
  int64_t day = 0;
  std::string value, type, org;
  uint64_t sightings = 0;
};

class PortalStore {
 public:
  // Opens or creates DIR/portal.db, or with `database` a PostgreSQL URL that server's database,
  // brings its schema up to date and marks running searches interrupted (and the sifts waiting
  // on them; on PostgreSQL only when no other portal instance is connected: their searches are
  // live). Errors: kUnavailable / kPermissionDenied when the database cannot be opened,
  // kUnimplemented when its schema version is newer than this binary knows (the message names
  // both), kInvalidArgument when it is not a portal store. `clock` stamps users' and keys'
  // created and last_used times.
  static Result<std::unique_ptr<PortalStore>> Open(const std::string& data_dir,
                                                   Clock clock = Clock(),
                                                   const std::string& database = "");
  ~PortalStore();
  PortalStore(const PortalStore&) = delete;
  PortalStore& operator=(const PortalStore&) = delete;

  // Creates the user if missing (an existing one gets `role`, and `org` when given) and a new
  // key; returns the key in clear, the only time it is visible.
  Result<std::string> CreateUserKey(const std::string& name, Role role,
                                    const std::optional<std::string>& org = std::nullopt);
  Result<std::vector<KeyInfo>> ListKeys();
  Status RevokeKey(int64_t key_id);
  // Errors: kPermissionDenied for a wrong, malformed or revoked key.
  Result<PortalUser> Authenticate(std::string_view key);

  Status InsertSearch(const SearchRow& row);
  // Sets status, counts, document and event log.
  Status FinishSearch(const SearchRow& row);
  // The same for a search still running (the hits received so far); a search already
  // finished or marked interrupted is left as it is.
  Status CheckpointSearch(const SearchRow& row);
  Result<SearchRow> GetSearch(const std::string& id);
  // Newest first; without document/events.
  Result<std::vector<SearchRow>> ListSearches();
  // Deletes the search and the record of sightings sent from it.
  Status DeleteSearch(const std::string& id);
  // Records sightings sent from a search, in one transaction.
  Status InsertSentSightings(const std::vector<SentSighting>& rows);
  // The sightings sent from a search, oldest first.
  Result<std::vector<SentSighting>> ListSentSightings(const std::string& search_id);
  // How many true- and false-positive sightings members took for any of `values`.
  Result<std::pair<uint64_t, uint64_t>> CountSentSightings(const std::vector<std::string>& values);
  // Every true-positive sighting a member took (TAXII's confirmed sightings), oldest first.
  Result<std::vector<SentSighting>> ListConfirmedSightings();
  Status InsertSift(const SiftRow& row);
  // Sets the status and the final report.
  Status FinishSift(const std::string& id, const std::string& status, const std::string& report);
  // Errors: kNotFound.
  Result<SiftRow> GetSift(const std::string& id);
  // Newest first; without request, result, groups and report.
  Result<std::vector<SiftRow>> ListSifts();

  // Watchlists.
  Status InsertWatchlist(const WatchlistRow& row);
  // Sets name, request, webhook, secret, interval and updated. Errors: kNotFound.
  Status UpdateWatchlist(const WatchlistRow& row);
  Result<WatchlistRow> GetWatchlist(const std::string& id);  // Errors: kNotFound
  Result<std::vector<WatchlistRow>> ListWatchlists();        // oldest first
  // Deletes the watchlist with its runs and deliveries. Errors: kNotFound.
  Status DeleteWatchlist(const std::string& id);
  // Several portal instances on one database run each watchlist once: an instance runs one only
  // after claiming it, which sets last_run to the claim (`now`, or seen + 1 when that is not
  // later) if last_run is still `seen`, the value in the row it decided from. Returns the claim,
  // or nullopt when another instance claimed or recorded a run since (or it was deleted).
  Result<std::optional<int64_t>> ClaimWatchRun(const std::string& id, int64_t seen, int64_t now);
  // One transaction: the run, the watchlist's last_run and hits, and (when `delivery` has a
  // body) a pending delivery of it. Returns the run's id; sets delivery->id and run_id.
  // `claim` is ClaimWatchRun's. Errors (nothing is written): kNotFound when the watchlist was
  // deleted meanwhile; kAlreadyExists when another run was claimed after this one.
  Result<int64_t> RecordWatchRun(const WatchRunRow& run, const std::string& hits,
                                 DeliveryRow* delivery, int64_t claim);
  Result<std::vector<WatchRunRow>> ListWatchRuns(const std::string& watchlist_id, size_t limit);
  Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& watchlist_id, size_t limit);
  // Pending deliveries due at `now_ms` (unix milliseconds), oldest first.
  Result<std::vector<DeliveryRow>> DueDeliveries(int64_t now_ms);
  // Claims a due delivery for one attempt: moves its next_at from `seen` to `until` (unix ms)
  // if it is still pending at `seen`; false when another instance claimed it first. An
  // instance that dies mid-attempt leaves it to be tried again at `until`.
  Result<bool> ClaimDelivery(int64_t id, int64_t seen, int64_t until);
  // Sets state, attempts, next_at, last_status, last_error and log.
  Status UpdateDelivery(const DeliveryRow& row);

  // Counts `points` blinded points against `user`'s share of UTC day `day` (unix seconds /
  // 86400), unless that would pass `cap`. Survives restarts.
  Result<EvaluationCharge> ChargeEvaluations(const std::string& user, int64_t day, uint64_t points,
                                             uint64_t cap);

  // Alliance sightings (written in portal_store_ingest.cc, read in portal_store_trends.cc).
  // Records a batch once: kAlreadyExists when
  // `batch_id` was recorded before (nothing written). The batch is durable on return; it is
  // staged and folded into the rows and aggregates with the others staged since the last fold
  // once they hold kFoldSightings sightings or kFoldBatches batches (in this call: a failed
  // fold is logged and left staged for the next), and before anything reads them.
  static constexpr uint64_t kFoldSightings = 100'000;
  static constexpr uint64_t kFoldBatches = 64;
  Status RecordAllianceSightings(const std::string& batch_id, const std::string& org,
                                 const std::string& sector,
                                 const std::vector<AllianceSighting>& sightings);
  // Folds the staged batches now (the reads below do so first themselves).
  Status FoldAllianceSightings();
  // Deletes everything of days before `first_kept_day`; the number of sightings deleted.
  Result<uint64_t> PurgeAllianceSightings(int64_t first_kept_day);
  // Days [from, to], inclusive.
  Result<std::vector<SectorDayRow>> SectorDays(int64_t from, int64_t to);
  Result<std::vector<SectorOrgRow>> SectorOrgs(int64_t from, int64_t to);
  Result<std::vector<SectorDistinctRow>> SectorDistinct(int64_t from, int64_t to,
                                                        int64_t bucket_days);
  // The three above in one snapshot (the trends endpoints: a batch recorded between two reads
  // would pair one batch's contributors with the numbers before it, showing a cell under k as
  // if it were at k): day cells from `days_from`, contributors and (bucket_days > 1) distinct
  // counts from `from`, all to `to`.
  Result<SectorTrendData> SectorTrendRows(int64_t days_from, int64_t from, int64_t to,
                                          int64_t bucket_days);
  // Observables seen by at least `min_orgs` organisations within [from, to], most first.
  Result<std::vector<ScannerRow>> Scanners(int64_t from, int64_t to, uint64_t min_orgs,
                                           size_t limit);
  Result<std::vector<ActorRow>> Actors(int64_t from, int64_t to);

  // The number of searches marked interrupted at Open.
  int interrupted_at_open() const { return interrupted_; }

 private:
  PortalStore(std::unique_ptr<sql::Database> db, Clock clock);
  Status UpdateSearch(const SearchRow& row, bool only_if_running);
  // After migration 8: the day sketches of the sightings already stored (once, in one
  // transaction; a no-op when there are sketches or no sightings).
  Status BuildSketchesIfMissing();
  // With mu_ held: folds the staged batches, if there are any (FoldAllianceSightings).
  Status FoldStagedLocked();

  std::mutex mu_;
  std::unique_ptr<sql::Database> db_;  // guarded by mu_
  const Clock clock_;
  int interrupted_ = 0;
};

}  // namespace iocgrid::portal
