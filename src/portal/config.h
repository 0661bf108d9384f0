// The portal's configuration: a TOML file (toml++) whose every setting can also be given as a
// flag (app/portal_command.cc fills the same struct). Shape (docs/portal-api.md, README):
//
//   listen = "127.0.0.1:8080"
//   data = "portal-data"
//   database = "postgresql://portal@db.example/iocgrid"   # optional; default: DATA/portal.db
//   [[members]]
//   name = "anonymity"  kind = "iocgrid"  url = "https://node-a.example:8443"
//   key_file = "keys/anonymity.key"   # or key = "...", or key_env = "VAR"
//   ca_file = "ca.pem"  timeout_ms = 5000  disclosure = "full"
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "federation/federation.h"
#include "federation/member.h"

namespace iocgrid::portal {

// Watchlists (issue 11; docs/portal-api.md): how often members' data is checked for changes,
// the shortest interval a watchlist may ask, how many one analyst may keep, and how webhooks
// are delivered (attempts, first backoff, doubled per attempt, per-attempt timeout).
struct WatchOptions {
  int64_t poll_seconds = 60;     // config watch_poll_seconds
  int64_t min_interval_s = 60;   // config min_watch_interval_seconds
  int64_t max_per_user = 100;    // config max_watchlists_per_user
  int64_t concurrent_runs = 4;   // config watch_concurrent_runs: watchlists run at once
  int64_t webhook_attempts = 6;  // config webhook_attempts
  int64_t webhook_backoff_ms = 1000;
  int64_t webhook_timeout_ms = 5000;
  // Webhooks into the portal's own network (loopback, private addresses, local names) are
  // refused unless this is set (config webhook_allow_internal): an analyst must not make the
  // portal send requests to its neighbours.
  bool allow_internal_webhooks = false;
};

// An organisation that searches (and reports sightings) but holds no member data: its sector
// for trends. Members' organisations take the member config's `sector`. Config [[orgs]].
struct OrgConfig {
  std::string name;    // as users are created with: `portal users create --org NAME`
  std::string sector;  // e.g. "finance", "energy"
};

// Alliance sightings and trends (issue 12; docs/trends.md).
struct TrendOptions {
  // A trends cell to which fewer organisations contributed is suppressed. Config k_anonymity
  // (2-1000).
  int64_t k_anonymity = 3;
  // Sightings older than this many days are purged. Config sightings_retention_days (1-3650).
  int64_t retention_days = 90;
};

struct PortalConfig {
  std::string listen = "127.0.0.1:8080";
  std::string data = "portal-data";  // directory of the portal's SQLite store
  // Where the portal keeps its state: empty = the SQLite file DATA/portal.db; a
  // postgresql://user@host:port/dbname URL = that PostgreSQL database, which several portal
  // instances may share (docs/portal-database.md). Config `database`, flag --database.
  std::string database;
  std::string tls_cert;
  std::string tls_key;
  std::string web_dir;  // static UI files; empty = the bundled web/
  size_t max_running_searches = 64;
  size_t max_indicators = 100000;  // per search
  std::chrono::milliseconds search_timeout{30000};
  int time_gap_days = 365;
  // POST /api/v1/sifts: the largest log upload (bytes as received; gzip counts compressed).
  // Config `max_sift_upload_mb`, flag --max-sift-upload-mb; default 2 GiB.
  uint64_t max_sift_upload_bytes = uint64_t{2048} << 20;
  // The private-search relay (`search --private`): blinded points one user may send to the
  // members per UTC day (counted by the portal since it started). Members count the portal's
  // key as one querier, so this keeps one analyst from spending the quota everyone shares.
  // Config `private_evaluations_per_user_day`.
  uint64_t private_evaluations_per_user_day = 200000;
  WatchOptions watch;
  // GET /api/v1/indicators/{value}: the half-life of the score's recency decay, in days.
  // Config `reputation_half_life_days` (1-3650).
  int64_t reputation_half_life_days = 30;
  TrendOptions trends;
  federation::FederationOptions federation;
  std::vector<federation::MemberConfig> members;
  std::vector<OrgConfig> orgs;
  // Not a setting: the portal's time (search and sift created, keys' last_used, members' last
  // answer, what a "30d" search window counts back from). Tests pass Clock::Manual.
  Clock clock;
};

// The sector of organisation `org`: its member's (a member named `org`), else its [[orgs]]
// entry's. Errors: kNotFound naming what to configure.
Result<std::string> SectorOf(const PortalConfig& config, const std::string& org);

// max_sift_upload_mb as bytes. Errors: kInvalidArgument outside 1..kMaxSiftUploadMb (1 TiB).
inline constexpr int64_t kMaxSiftUploadMb = int64_t{1} << 20;
Result<uint64_t> SiftUploadBytes(int64_t mb);

// A `database` setting: empty, or a postgresql:// (postgres://) URL libpq can read. Errors:
// kInvalidArgument saying what is accepted (the message never repeats a password).
Status CheckDatabase(const std::string& database);

// Reads and validates a TOML config. Relative paths (data, key_file, ca_file, ...) are relative
// to the config file's folder. Errors: kNotFound (no file), kInvalidArgument naming the key and
// line of the problem (unknown kind, missing url, unreadable key file, duplicate member...).
Result<PortalConfig> LoadConfig(const std::string& path);

// Same, from text; `base_dir` resolves relative paths.
Result<PortalConfig> ParseConfig(std::string_view toml, const std::string& base_dir);

}  // namespace iocgrid::portal
