#include "portal/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/ascii.h"
#include "common/key_file.h"
#include "sql/database.h"

namespace iocgrid::portal {
namespace {

std::string Resolve(const std::string& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base) / p).lexically_normal().string();
}

std::string Where(const toml::node& n) {
  const auto& src = n.source();
  return "line " + std::to_string(src.begin.line);
}

template <typename T>
Status Get(const toml::table& t, const char* key, T* out, const std::string& where) {
  const toml::node* n = t.get(key);
  if (!n) return Status();
  auto v = n->value_exact<T>();  // no conversions: `enabled = 0` is a wrong type, not false
  if (!v)
    return InvalidArgumentError(where + ": '" + key + "' has the wrong type (" + Where(*n) + ")");
  *out = *v;
  return Status();
}

// Watchlists' settings (issue 11), each within its range.
template <typename Ranged>
Status ReadWatchSettings(Ranged& ranged, PortalConfig* c) {
  WatchOptions& w = c->watch;
  IOCGRID_RETURN_IF_ERROR(ranged("watch_poll_seconds", 1, 86'400, &w.poll_seconds));
  IOCGRID_RETURN_IF_ERROR(ranged("min_watch_interval_seconds", 1, 86'400, &w.min_interval_s));
  IOCGRID_RETURN_IF_ERROR(ranged("max_watchlists_per_user", 1, 10'000, &w.max_per_user));
  IOCGRID_RETURN_IF_ERROR(ranged("watch_concurrent_runs", 1, 64, &w.concurrent_runs));
  IOCGRID_RETURN_IF_ERROR(ranged("webhook_attempts", 1, 20, &w.webhook_attempts));
  IOCGRID_RETURN_IF_ERROR(ranged("webhook_backoff_ms", 10, 3'600'000, &w.webhook_backoff_ms));
  IOCGRID_RETURN_IF_ERROR(ranged("webhook_timeout_ms", 100, 120'000, &w.webhook_timeout_ms));
  IOCGRID_RETURN_IF_ERROR(
      ranged("reputation_half_life_days", 1, 3650, &c->reputation_half_life_days));
  IOCGRID_RETURN_IF_ERROR(ranged("k_anonymity", 2, 1000, &c->trends.k_anonymity));
  IOCGRID_RETURN_IF_ERROR(ranged("sightings_retention_days", 1, 3650, &c->trends.retention_days));
  return Status::Ok();
}

// The top-level settings (every one but [[members]]) into *c; paths resolve against base_dir.
// The federation's settings and the relay's cap, each within what can be used (a value outside
// is an error, never clamped: a negative retry count or breaker time has no meaning).
Status ReadRangedSettings(const toml::table& t, PortalConfig* c) {
  int64_t n = 0;
  auto ranged = [&](const char* key, int64_t lo, int64_t hi, int64_t* out) -> Status {
    if (!t.get(key)) return Status::Ok();
    IOCGRID_RETURN_IF_ERROR(Get(t, key, out, "config"));
    if (*out < lo || *out > hi) {
      return InvalidArgumentError("config: " + std::string(key) + " must be from " +
                                  std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                                  std::to_string(*out) + " (" + Where(*t.get(key)) + ")");
    }
    return Status::Ok();
  };
  n = c->federation.retries;
  IOCGRID_RETURN_IF_ERROR(ranged("retries", 0, 10, &n));
  c->federation.retries = static_cast<int>(n);
  n = c->federation.breaker_failures;
  IOCGRID_RETURN_IF_ERROR(ranged("breaker_failures", 1, 1000, &n));
  c->federation.breaker_failures = static_cast<int>(n);
  n = c->federation.breaker_open_for.count();
  IOCGRID_RETURN_IF_ERROR(ranged("breaker_open_ms", 0, 86'400'000, &n));
  c->federation.breaker_open_for = std::chrono::milliseconds(n);
  n = static_cast<int64_t>(c->federation.max_private_tags);
  IOCGRID_RETURN_IF_ERROR(ranged("max_private_tags", 1000, int64_t{1} << 30, &n));
  c->federation.max_private_tags = static_cast<size_t>(n);
  n = static_cast<int64_t>(c->private_evaluations_per_user_day);
  IOCGRID_RETURN_IF_ERROR(
      ranged("private_evaluations_per_user_day", 1, int64_t{1'000'000'000}, &n));
  c->private_evaluations_per_user_day = static_cast<uint64_t>(n);
  return ReadWatchSettings(ranged, c);
}

Status ReadTopLevel(const toml::table& t, const std::string& base_dir, PortalConfig* c) {
  static const std::set<std::string> kTop = {"listen",
                                             "data",
                                             "database",
                                             "tls_cert",
                                             "tls_key",
                                             "web_dir",
                                             "max_running_searches",
                                             "max_indicators",
                                             "search_timeout_ms",
                                             "time_gap_days",
                                             "retries",
                                             "breaker_failures",
                                             "breaker_open_ms",
                                             "max_private_tags",
                                             "private_evaluations_per_user_day",
                                             "max_sift_upload_mb",
                                             "watch_poll_seconds",
                                             "min_watch_interval_seconds",
                                             "max_watchlists_per_user",
                                             "watch_concurrent_runs",
                                             "webhook_attempts",
                                             "webhook_backoff_ms",
                                             "webhook_timeout_ms",
                                             "webhook_allow_internal",
                                             "reputation_half_life_days",
                                             "k_anonymity",
                                             "sightings_retention_days",
                                             "members",
                                             "orgs"};
  for (const auto& [k, v] : t) {
    if (!kTop.count(std::string(k.str()))) {
      return InvalidArgumentError("config: unknown setting '" + std::string(k.str()) + "' (" +
                                  Where(v) + ")");
    }
  }
  IOCGRID_RETURN_IF_ERROR(Get(t, "listen", &c->listen, "config"));
  IOCGRID_RETURN_IF_ERROR(Get(t, "data", &c->data, "config"));
  IOCGRID_RETURN_IF_ERROR(Get(t, "database", &c->database, "config"));
  if (const toml::node* node = t.get("database")) {
    IOCGRID_RETURN_IF_ERROR(CheckDatabase(c->database).WithContext(Where(*node)));
  }
  IOCGRID_RETURN_IF_ERROR(Get(t, "tls_cert", &c->tls_cert, "config"));
  IOCGRID_RETURN_IF_ERROR(Get(t, "tls_key", &c->tls_key, "config"));
  IOCGRID_RETURN_IF_ERROR(Get(t, "web_dir", &c->web_dir, "config"));
  IOCGRID_RETURN_IF_ERROR(
      Get(t, "webhook_allow_internal", &c->watch.allow_internal_webhooks, "config"));
  c->data = Resolve(base_dir, c->data);
  c->tls_cert = Resolve(base_dir, c->tls_cert);
  c->tls_key = Resolve(base_dir, c->tls_key);
  c->web_dir = Resolve(base_dir, c->web_dir);
  int64_t n = 0;
  if (t.get("max_running_searches")) {
    IOCGRID_RETURN_IF_ERROR(Get(t, "max_running_searches", &n, "config"));
    c->max_running_searches = static_cast<size_t>(std::max<int64_t>(1, n));
  }
  if (t.get("max_indicators")) {
    IOCGRID_RETURN_IF_ERROR(Get(t, "max_indicators", &n, "config"));
    c->max_indicators = static_cast<size_t>(std::max<int64_t>(1, n));
  }
  if (t.get("search_timeout_ms")) {
    IOCGRID_RETURN_IF_ERROR(Get(t, "search_timeout_ms", &n, "config"));
    c->search_timeout = std::chrono::milliseconds(std::max<int64_t>(100, n));
  }
  if (t.get("time_gap_days")) {
    IOCGRID_RETURN_IF_ERROR(Get(t, "time_gap_days", &n, "config"));
    c->time_gap_days = static_cast<int>(n);
  }
  if (const toml::node* node = t.get("max_sift_upload_mb")) {
    IOCGRID_RETURN_IF_ERROR(Get(t, "max_sift_upload_mb", &n, "config"));
    auto bytes = SiftUploadBytes(n);
    if (!bytes.ok()) {
      return InvalidArgumentError("config: " + std::string(bytes.status().message()) + " (" +
                                  Where(*node) + ")");
    }
    c->max_sift_upload_bytes = *bytes;
  }
  IOCGRID_RETURN_IF_ERROR(ReadRangedSettings(t, c));
  return Status();
}

// The member's API key: `key`, else the first line of `key_file`, else the environment
// variable named by `key_env`; one of them is required.
Status ReadMemberKey(const toml::table& m, const std::string& base_dir, const std::string& where,
                     std::string* out) {
  std::string key, key_file, key_env;
  IOCGRID_RETURN_IF_ERROR(Get(m, "key", &key, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "key_file", &key_file, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "key_env", &key_env, where));
  if (!key.empty()) {
    *out = key;
  } else if (!key_file.empty()) {
    auto k = ReadKeyFile(Resolve(base_dir, key_file));
    if (!k.ok()) return k.status().WithContext(where);
    *out = *k;
  } else if (!key_env.empty()) {
    const char* env = std::getenv(key_env.c_str());
    if (!env || !*env)
      return InvalidArgumentError(where + ": environment variable " + key_env + " is not set");
    *out = env;
  } else {
    return InvalidArgumentError(where + ": give the member's API key as key, key_file or key_env");
  }
  return Status();
}

// How the portal reaches the member: TLS files (resolved against base_dir), proxy,
// verification, and the per-member limits (timeout, concurrency, batch, response size).
Status ReadMemberConnection(const toml::table& m, const std::string& base_dir,
                            const std::string& where, federation::MemberConfig* mc) {
  std::string path;
  IOCGRID_RETURN_IF_ERROR(Get(m, "ca_file", &path, where));
  mc->ca_file = Resolve(base_dir, path);
  path.clear();
  IOCGRID_RETURN_IF_ERROR(Get(m, "client_cert", &path, where));
  mc->client_cert_file = Resolve(base_dir, path);
  path.clear();
  IOCGRID_RETURN_IF_ERROR(Get(m, "client_key", &path, where));
  mc->client_key_file = Resolve(base_dir, path);
  IOCGRID_RETURN_IF_ERROR(Get(m, "proxy", &mc->proxy, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "verify_tls", &mc->verify_tls, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "enabled", &mc->enabled, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "accept_sightings", &mc->accept_sightings, where));
  IOCGRID_RETURN_IF_ERROR(Get(m, "hide_sighting_source", &mc->hide_sighting_source, where));
  int64_t v = 0;
  if (m.get("timeout_ms")) {
    IOCGRID_RETURN_IF_ERROR(Get(m, "timeout_ms", &v, where));
    mc->timeout = std::chrono::milliseconds(std::max<int64_t>(10, v));
  }
  if (m.get("max_concurrent")) {
    IOCGRID_RETURN_IF_ERROR(Get(m, "max_concurrent", &v, where));
    mc->max_concurrent = static_cast<int>(std::max<int64_t>(1, v));
  }
  if (m.get("batch_size")) {
    IOCGRID_RETURN_IF_ERROR(Get(m, "batch_size", &v, where));
    mc->batch_size = static_cast<size_t>(std::max<int64_t>(1, v));
  }
  if (m.get("max_response_mb")) {
    IOCGRID_RETURN_IF_ERROR(Get(m, "max_response_mb", &v, where));
    mc->max_response_bytes = static_cast<size_t>(std::max<int64_t>(1, v)) * 1024 * 1024;
  }
  return Status();
}

// A member's disclosure and, for private members, its psi_mode.
Status ReadMemberDisclosure(const toml::table& m, const std::string& where,
                            federation::MemberConfig* member) {
  federation::MemberConfig& mc = *member;
  std::string disclosure = "full";
  IOCGRID_RETURN_IF_ERROR(Get(m, "disclosure", &disclosure, where));
  if (!federation::ParseDisclosure(disclosure, &mc.disclosure)) {
    return InvalidArgumentError(where + ": disclosure must be full, existence, count or private");
  }
  if (mc.disclosure == federation::Disclosure::kPrivate &&
      mc.kind == federation::MemberKind::kMisp) {
    return InvalidArgumentError(where +
                                ": a plain MISP member cannot be private (MISP has no "
                                "private-search API); run an iocgrid node mirroring that MISP "
                                "and list the node with disclosure = \"private\"");
  }
  if (m.get("psi_mode")) {
    if (mc.disclosure != federation::Disclosure::kPrivate) {
      return InvalidArgumentError(where + ": psi_mode needs disclosure = \"private\"");
    }
    std::string mode;
    IOCGRID_RETURN_IF_ERROR(Get(m, "psi_mode", &mode, where));
    if (!federation::ParsePsiMode(mode, &mc.psi_mode)) {
      return InvalidArgumentError(where + ": psi_mode must be full-set or bucketed, not \"" + mode +
                                  "\"");
    }
  }
  return Status();
}

// One [[members]] table; `names` holds the names seen so far (each may appear once).
Result<federation::MemberConfig> ReadMember(const toml::node& node, const std::string& base_dir,
                                            std::set<std::string>* names) {
  static const std::set<std::string> kMember = {"name",
                                                "display_name",
                                                "sector",
                                                "kind",
                                                "url",
                                                "key",
                                                "key_file",
                                                "key_env",
                                                "ca_file",
                                                "client_cert",
                                                "client_key",
                                                "proxy",
                                                "verify_tls",
                                                "timeout_ms",
                                                "max_concurrent",
                                                "batch_size",
                                                "max_response_mb",
                                                "enabled",
                                                "disclosure",
                                                "data_kind",
                                                "psi_mode",
                                                "accept_sightings",
                                                "hide_sighting_source"};
  const toml::table& m = *node.as_table();
  federation::MemberConfig mc;
  std::string where = "member at " + Where(node);
  for (const auto& [k, v] : m) {
    if (!kMember.count(std::string(k.str()))) {
      return InvalidArgumentError(where + ": unknown setting '" + std::string(k.str()) + "'");
    }
  }
  IOCGRID_RETURN_IF_ERROR(Get(m, "name", &mc.name, where));
  if (mc.name.empty()) return InvalidArgumentError(where + ": 'name' is required");
  for (char ch : mc.name) {
    if (!(IsAsciiAlnum(ch) || ch == '-' || ch == '_')) {
      return InvalidArgumentError(where + ": name '" + mc.name +
                                  "' may hold only letters, digits, - and _");
    }
  }
  where = "member '" + mc.name + "'";
  if (!names->insert(mc.name).second) return InvalidArgumentError(where + " is listed twice");
  IOCGRID_RETURN_IF_ERROR(Get(m, "display_name", &mc.display_name, where));
  if (mc.display_name.empty()) mc.display_name = mc.name;
  IOCGRID_RETURN_IF_ERROR(Get(m, "sector", &mc.sector, where));
  std::string kind = "iocgrid";
  IOCGRID_RETURN_IF_ERROR(Get(m, "kind", &kind, where));
  if (!federation::ParseMemberKind(kind, &mc.kind)) {
    return InvalidArgumentError(where + ": kind must be \"iocgrid\" or \"misp\", not \"" + kind +
                                "\"");
  }
  IOCGRID_RETURN_IF_ERROR(Get(m, "url", &mc.url, where));
  if (mc.url.rfind("http://", 0) != 0 && mc.url.rfind("https://", 0) != 0) {
    return InvalidArgumentError(where + ": 'url' must start with https:// (or http://)");
  }
  while (!mc.url.empty() && mc.url.back() == '/') mc.url.pop_back();
  IOCGRID_RETURN_IF_ERROR(ReadMemberKey(m, base_dir, where, &mc.key));
  IOCGRID_RETURN_IF_ERROR(ReadMemberConnection(m, base_dir, where, &mc));
  IOCGRID_RETURN_IF_ERROR(Get(m, "data_kind", &mc.data_kind, where));
  static const std::set<std::string> kDataKinds = {"honeypot", "scanner", "anonymizer", "proxy",
                                                   "vpn",      "tor",     "cloud",      "threat",
                                                   "ioc",      "benign",  "warninglist"};
  if (!mc.data_kind.empty() && kDataKinds.count(mc.data_kind) == 0) {
    return InvalidArgumentError(where +
                                ": data_kind must be one of honeypot, scanner, "
                                "anonymizer, proxy, vpn, tor, cloud, threat, ioc, benign, "
                                "warninglist");
  }
  IOCGRID_RETURN_IF_ERROR(ReadMemberDisclosure(m, where, &mc));
  return mc;
}

// The [[orgs]] tables: name and sector, both required, each name once and none a member's.
Status ReadOrgs(const toml::table& t, PortalConfig* c) {
  const toml::node* orgs = t.get("orgs");
  if (orgs == nullptr) return Status::Ok();
  if (!orgs->is_array_of_tables()) {
    return InvalidArgumentError("config: 'orgs' must be [[orgs]] tables (" + Where(*orgs) + ")");
  }
  std::set<std::string> names;
  for (const auto& m : c->members) names.insert(m.name);
  for (const toml::node& node : *orgs->as_array()) {
    const toml::table& o = *node.as_table();
    const std::string where = "[[orgs]] (" + Where(node) + ")";
    for (const auto& [k, v] : o) {
      if (k.str() != "name" && k.str() != "sector") {
        return InvalidArgumentError(where + ": unknown setting '" + std::string(k.str()) +
                                    "' (an organisation has name and sector)");
      }
    }
    OrgConfig org;
    IOCGRID_RETURN_IF_ERROR(Get(o, "name", &org.name, where));
    IOCGRID_RETURN_IF_ERROR(Get(o, "sector", &org.sector, where));
    if (org.name.empty() || org.sector.empty() || org.name.size() > 128 || org.sector.size() > 64) {
      return InvalidArgumentError(where + ": name (1-128 bytes) and sector (1-64) are required");
    }
    if (!names.insert(org.name).second) {
      return InvalidArgumentError(where + ": organisation '" + org.name +
                                  "' is named twice (a member's organisation takes the member's "
                                  "sector)");
    }
    c->orgs.push_back(std::move(org));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> SectorOf(const PortalConfig& config, const std::string& org) {
  for (const auto& m : config.members) {
    if (m.name == org && !m.sector.empty()) return m.sector;
  }
  for (const auto& o : config.orgs) {
    if (o.name == org) return o.sector;
  }
  return NotFoundError("organisation '" + org +
                       "' has no sector: give its member a sector, or add [[orgs]] name = \"" +
                       org + "\" sector = \"...\" to the portal's config.");
}

Result<PortalConfig> ParseConfig(std::string_view text, const std::string& base_dir) {
  toml::table t;
  try {
    // toml++ is built with exceptions here; they stop at this adapter (STYLE.md section 5).
    t = toml::parse(text);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError("config line " + std::to_string(err.source().begin.line) + ": " +
                                std::string(err.description()));
  }
  PortalConfig c;
  IOCGRID_RETURN_IF_ERROR(ReadTopLevel(t, base_dir, &c));
  const toml::node* members = t.get("members");
  if (members && !members->is_array_of_tables()) {
    return InvalidArgumentError("config: 'members' must be [[members]] tables (" + Where(*members) +
                                ")");
  }
  std::set<std::string> names;
  if (members) {
    for (const toml::node& node : *members->as_array()) {
      IOCGRID_ASSIGN_OR_RETURN(federation::MemberConfig mc, ReadMember(node, base_dir, &names));
      c.members.push_back(std::move(mc));
    }
  }
  IOCGRID_RETURN_IF_ERROR(ReadOrgs(t, &c));
  return c;
}

Result<uint64_t> SiftUploadBytes(int64_t mb) {
  if (mb < 1 || mb > kMaxSiftUploadMb) {
    return InvalidArgumentError("max_sift_upload_mb must be a whole number of MiB from 1 to " +
                                std::to_string(kMaxSiftUploadMb) + ", not " + std::to_string(mb));
  }
  return static_cast<uint64_t>(mb) << 20;
}

Status CheckDatabase(const std::string& database) {
  if (database.empty()) return Status::Ok();
  if (!sql::IsPostgresUrl(database)) {
    return InvalidArgumentError(
        "database must be a postgresql://user@host:port/dbname URL (or left out for the SQLite "
        "file DATA/portal.db)");
  }
  return sql::CheckPostgresUrl(database);
}

Result<PortalConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string base = std::filesystem::absolute(path).parent_path().string();
  auto c = ParseConfig(ss.str(), base);
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

}  // namespace iocgrid::portal
