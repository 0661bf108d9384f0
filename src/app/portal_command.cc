// `iocgrid portal`: the alliance's portal. `serve` runs the API and the web UI, `users` manages
// analysts' keys, `members check` probes every member.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/commands.h"
#include "common/host_port.h"
#include "common/time.h"
#include "net/http_server.h"
#include "portal/config.h"
#include "portal/portal.h"
#include "portal/portal_store.h"

namespace iocgrid::app {
namespace {

int Fail(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "iocgrid portal %s: %s\n", what.c_str(), message.c_str());
  return kExitError;
}

struct PortalFlags {
  std::string config_path;
  std::string listen;  // overrides the config
  std::string data;
  std::string database;
  std::string web_dir;
  std::string tls_cert;
  std::string tls_key;
  int threads = 4;
  int64_t max_sift_upload_mb = 0;  // 0: the config's (default 2048)
  int64_t watch_poll_seconds = 0;  // 0: the config's
  int64_t min_watch_interval_seconds = 0;
  int64_t k_anonymity = 0;  // 0: the config's (default 3)
  int64_t sightings_retention_days = 0;
  // users
  std::string name;
  std::string role = "analyst";
  std::optional<std::string> org;
  int64_t key_id = 0;
};

Result<portal::PortalConfig> Load(const PortalFlags& f) {
  auto c = portal::LoadConfig(f.config_path);
  if (!c.ok()) return c;
  if (!f.listen.empty()) c->listen = f.listen;
  if (!f.data.empty()) c->data = f.data;
  if (!f.database.empty()) {
    IOCGRID_RETURN_IF_ERROR(portal::CheckDatabase(f.database).WithContext("--database"));
    c->database = f.database;
  }
  if (!f.web_dir.empty()) c->web_dir = f.web_dir;
  if (!f.tls_cert.empty()) c->tls_cert = f.tls_cert;
  if (!f.tls_key.empty()) c->tls_key = f.tls_key;
  if (f.max_sift_upload_mb != 0) {
    auto bytes = portal::SiftUploadBytes(f.max_sift_upload_mb);
    if (!bytes.ok()) return Status(bytes.status()).WithContext("--max-sift-upload-mb");
    c->max_sift_upload_bytes = *bytes;
  }
  if (f.watch_poll_seconds != 0) c->watch.poll_seconds = f.watch_poll_seconds;
  if (f.min_watch_interval_seconds != 0) {
    c->watch.min_interval_s = f.min_watch_interval_seconds;
  }
  if (f.k_anonymity != 0) c->trends.k_anonymity = f.k_anonymity;
  if (f.sightings_retention_days != 0) c->trends.retention_days = f.sightings_retention_days;
  return c;
}

int RunServe(const PortalFlags& flags) {
  auto config = Load(flags);
  if (!config.ok()) return Fail("serve", std::string(config.status().message()));
  auto listen = ParseHostPort(config->listen);
  if (!listen.ok()) return Fail("serve", "listen: " + std::string(listen.status().message()));
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto p = portal::Portal::Open(*config);
  if (!p.ok()) return Fail("serve", std::string(p.status().message()));
  if (int n = (*p)->store().interrupted_at_open()) {
    std::fprintf(stderr,
                 "iocgrid portal: %d search(es) left running by the last run marked interrupted\n",
                 n);
  }
  net::ServerOptions options;
  options.host = listen->host;
  options.port = listen->port;
  options.worker_threads = std::max(2, flags.threads);
  options.tls_cert_file = config->tls_cert;
  options.tls_key_file = config->tls_key;
  options.body_limit_bytes = 64 * 1024 * 1024;
  portal::Portal* raw = p->get();
  options.admit = [raw](const net::Request& head, size_t* limit) {
    return raw->Admit(head, limit);
  };
  options.stream_body = [raw](const net::Request& head) { return raw->StreamBody(head); };
  auto server = net::HttpServer::Start(options, [raw](net::Request& r) { return raw->Handle(r); });
  if (!server.ok()) return Fail("serve", std::string(server.status().message()));
  std::fprintf(stderr, "iocgrid portal: listening on %s://%s:%u (%zu members)\n",
               config->tls_cert.empty() ? "http" : "https", listen->host.c_str(), (*server)->port(),
               config->members.size());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "iocgrid portal: %s received, finishing in-flight requests\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Stop(std::chrono::seconds(10));
  server->reset();  // before the portal: an upload cut short still holds its sink
  p->reset();
  std::fprintf(stderr, "iocgrid portal: stopped\n");
  return 0;
}

Result<std::unique_ptr<portal::PortalStore>> OpenStore(const PortalFlags& flags) {
  auto config = Load(flags);
  if (!config.ok()) return config.status();
  return portal::PortalStore::Open(config->data, Clock(), config->database);
}

int RunUsersCreate(const PortalFlags& flags) {
  portal::Role role;
  if (!portal::ParseRole(flags.role, &role))
    return Fail("users create", "--role must be admin or analyst");
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail("users create", std::string(store.status().message()));
  auto key = (*store)->CreateUserKey(flags.name, role, flags.org);
  if (!key.ok()) return Fail("users create", std::string(key.status().message()));
  std::printf("%s\n", key->c_str());
  std::fprintf(stderr, "key for %s (%s); it is shown only this once\n", flags.name.c_str(),
               flags.role.c_str());
  return 0;
}

int RunUsersList(const PortalFlags& flags) {
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail("users list", std::string(store.status().message()));
  auto keys = (*store)->ListKeys();
  if (!keys.ok()) return Fail("users list", std::string(keys.status().message()));
  std::printf("%-5s %-12s %-20s %-8s %-8s %s\n", "ID", "KEY", "USER", "ROLE", "STATE", "ORG");
  for (const auto& k : *keys) {
    std::printf("%-5lld %-12s %-20s %-8s %-8s %s\n", static_cast<long long>(k.id),
                (k.key_start + "..." + k.key_end).c_str(), k.user.c_str(),
                std::string(portal::RoleName(k.role)).c_str(), k.revoked ? "revoked" : "active",
                k.org.c_str());
  }
  return 0;
}

int RunUsersRevoke(const PortalFlags& flags) {
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail("users revoke", std::string(store.status().message()));
  Status st = (*store)->RevokeKey(flags.key_id);
  if (!st.ok()) return Fail("users revoke", std::string(st.message()));
  std::fprintf(stderr, "key %lld revoked\n", static_cast<long long>(flags.key_id));
  return 0;
}

int RunMembersCheck(const PortalFlags& flags) {
  auto config = Load(flags);
  if (!config.ok()) return Fail("members check", std::string(config.status().message()));
  auto fed = federation::Federation::Create(config->members, config->federation);
  if (!fed.ok()) return Fail("members check", std::string(fed.status().message()));
  std::printf("%-16s %-8s %-8s %8s %10s  %-23s %-10s %s\n", "MEMBER", "STATUS", "VERSION",
              "LATENCY", "INDICATORS", "DATA SPAN", "DISCLOSURE", "ERROR / PRIVATE SEARCH");
  int failures = 0;
  for (const auto& m : config->members) {
    federation::MemberProbe p = (*fed)->Probe(m.name);
    failures += !p.ok;
    std::string span = p.first_date.empty() ? "-" : p.first_date + ".." + p.last_date;
    // Plain MISP members have no stats endpoint: their size and span are unknown here.
    std::string count =
        m.kind == federation::MemberKind::kMisp ? "-" : std::to_string(p.attributes);
    // A plain MISP member has no private-search API: say so, since the config refuses
    // disclosure = "private" for it (a node mirroring the MISP can be private).
    std::string detail = !p.error.empty()     ? p.error
                         : !p.privacy.empty() ? p.privacy
                         : m.kind == federation::MemberKind::kMisp
                             ? "plain MISP: cannot be private (mirror it with an iocgrid node)"
                             : "";
    if (!p.mirror.empty()) detail += (detail.empty() ? "" : "; ") + p.mirror;
    std::printf("%-16s %-8s %-8s %6lldms %10s  %-23s %-10s %s\n", m.name.c_str(),
                p.ok ? "ok" : "DOWN", p.version.empty() ? "-" : p.version.c_str(),
                static_cast<long long>(p.latency_ms), count.c_str(), span.c_str(),
                std::string(federation::DisclosureName(m.disclosure)).c_str(), detail.c_str());
  }
  return failures ? kExitNotFound : 0;
}

}  // namespace

Command AddPortalCommand(CLI::App& app) {
  CLI::App* portal = app.add_subcommand(
      "portal", "The alliance portal: searches across every member, API and web UI");
  portal->require_subcommand(1);
  auto flags = std::make_shared<PortalFlags>();
  auto config_option = [&](CLI::App* sub) {
    sub->add_option("--config,-c", flags->config_path, "the portal's TOML config file")->required();
    sub->add_option("--database", flags->database,
                    "postgresql://user@host:port/dbname: keep the portal's state in that "
                    "PostgreSQL database, shared by every portal instance given it (overrides "
                    "the config's database; default: the SQLite file DATA/portal.db)");
  };
  CLI::App* s = portal->add_subcommand("serve", "serve the portal API and the web UI");
  config_option(s);
  s->add_option("--listen", flags->listen, "HOST:PORT (overrides the config's listen)");
  s->add_option("--data", flags->data, "data directory (overrides the config's data)");
  s->add_option("--web-dir", flags->web_dir, "folder of the web UI (default: the bundled one)");
  s->add_option("--tls-cert", flags->tls_cert, "TLS certificate chain (PEM)");
  s->add_option("--tls-key", flags->tls_key, "TLS private key (PEM)");
  s->add_option("--threads", flags->threads, "request worker threads")->capture_default_str();
  s->add_option("--watch-poll-seconds", flags->watch_poll_seconds,
                "how often watchlists check members' data for changes (overrides the config's "
                "watch_poll_seconds; default 60)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  s->add_option("--min-watch-interval-seconds", flags->min_watch_interval_seconds,
                "the shortest interval a watchlist may ask (overrides the config's "
                "min_watch_interval_seconds; default 60)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  s->add_option("--k-anonymity", flags->k_anonymity,
                "trends cells from fewer organisations are suppressed (overrides the config's "
                "k_anonymity; default 3)")
      ->check(CLI::Range(int64_t{2}, int64_t{1000}));
  s->add_option("--sightings-retention-days", flags->sightings_retention_days,
                "alliance sightings older than this are purged (overrides the config's "
                "sightings_retention_days; default 90)")
      ->check(CLI::Range(int64_t{1}, int64_t{3650}));
  s->add_option("--max-sift-upload-mb", flags->max_sift_upload_mb,
                "largest log upload to POST /api/v1/sifts, in MiB (overrides the config's "
                "max_sift_upload_mb; default 2048)");
  CLI::App* users = portal->add_subcommand("users", "manage portal users and their API keys");
  users->require_subcommand(1);
  CLI::App* uc = users->add_subcommand(
      "create", "create a user (or a new key for one) and print the key once");
  config_option(uc);
  uc->add_option("--name", flags->name, "user name")->required();
  uc->add_option("--role", flags->role, "analyst or admin")->capture_default_str();
  uc->add_option("--org", flags->org,
                 "the user's organisation: the default source of the sightings the user sends "
                 "back to members (an existing user keeps theirs unless given)");
  CLI::App* ul = users->add_subcommand("list", "list users' keys (never the keys themselves)");
  config_option(ul);
  CLI::App* ur = users->add_subcommand("revoke", "revoke a key by id");
  config_option(ur);
  ur->add_option("id", flags->key_id, "key id from users list")->required();
  CLI::App* members = portal->add_subcommand("members", "the alliance's members");
  members->require_subcommand(1);
  CLI::App* mc =
      members->add_subcommand("check", "probe every member: status, version, latency, data span");
  config_option(mc);
  Command command;
  command.subcommand = portal;
  command.run = [s, uc, ul, ur, mc, flags]() {
    if (s->parsed()) return RunServe(*flags);
    if (uc->parsed()) return RunUsersCreate(*flags);
    if (ul->parsed()) return RunUsersList(*flags);
    if (ur->parsed()) return RunUsersRevoke(*flags);
    if (mc->parsed()) return RunMembersCheck(*flags);
    return kExitError;
  };
  return command;
}

}  // namespace iocgrid::app
