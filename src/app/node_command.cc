// `iocgrid node`: a member's node. `serve` answers the MISP-compatible API and the grid API,
// `import` loads member data files into the store, `keys` manages API keys, `psi` the private
// search keys (status, rotation), `mirror` copies a MISP into the store (node_mirror.cc).
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/node_mirror.h"
#include "common/file_lock.h"
#include "common/host_port.h"
#include "common/time.h"
#include "ingest/loader.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "psi/oprf.h"
#include "store/number.h"
#include "store/store.h"

namespace iocgrid::app {
namespace {

int Fail(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "iocgrid node %s: %s\n", what.c_str(), message.c_str());
  return kExitError;
}

struct ServeFlags {
  std::string data_dir;
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert;
  std::string tls_key;
  bool audit_values = false;
  size_t max_body_mb = 256;
  size_t max_connections = 512;
  int threads = 2;
  int read_timeout_s = 30;
  size_t max_search_values = 100000;
  size_t max_match_values = 2000000;
  int64_t max_store_mb = 0;
  bool create = false;
  std::string org = "ORGNAME";
  uint64_t psi_evaluations_per_day = node::PsiOptions{}.evaluations_per_org_per_day;
  int psi_threads = 1;
  bool psi_value_labels = false;
  std::string psi_key_grace = "10m";
  size_t index_merge_at = node::NodeOptions{}.index_merge_at;
  size_t index_delta_max = node::NodeOptions{}.index_delta_max;
  size_t index_fold_at = node::NodeOptions{}.index_fold_at;
  bool no_kept_index = false;
  MirrorFlags mirror;
};

// The node's options from serve's flags. Errors: kInvalidArgument naming the flag.
Result<node::NodeOptions> NodeOptionsFrom(const ServeFlags& flags) {
  node::NodeOptions options;
  options.data_dir = flags.data_dir;
  options.store.audit_values = flags.audit_values;
  options.store.local_org = flags.org;
  options.max_search_values = flags.max_search_values;
  options.max_match_values = flags.max_match_values;
  options.store.max_size_kib = flags.max_store_mb * 1024;
  options.psi.evaluations_per_org_per_day = flags.psi_evaluations_per_day;
  options.psi.precompute_threads = flags.psi_threads;
  options.psi.label_context = !flags.psi_value_labels;
  auto grace = ParseDuration(flags.psi_key_grace);
  if (!grace.ok()) return grace.status().WithContext("--psi-key-grace");
  options.psi.previous_key_grace = std::chrono::seconds(*grace);
  options.index_merge_at = flags.index_merge_at;
  options.index_delta_max = flags.index_delta_max;
  options.index_fold_at = flags.index_fold_at;
  options.persist_index = !flags.no_kept_index;
  // A typo in --data must not serve an empty store (issue 8): only --create, an import or
  // `keys create` makes one.
  options.store.create_if_missing = flags.create;
  return options;
}

// One serving node per data directory: a second one would trim the index change log and
// rewrite the kept index under the first. Taken before the store is opened; nothing (and no
// error) for a missing directory without --create, which Node::Open then refuses with its own
// message. Errors: kAlreadyExists naming the holder, kUnavailable.
Result<std::optional<FileLock>> LockServe(const ServeFlags& flags) {
  if (!std::filesystem::is_directory(flags.data_dir)) {
    if (!flags.create) return std::optional<FileLock>();
    std::error_code ec;
    std::filesystem::create_directories(flags.data_dir, ec);
    if (ec) return UnavailableError("cannot create " + flags.data_dir + ": " + ec.message());
  }
  auto lock = FileLock::Acquire(flags.data_dir + "/serve.lock");
  if (!lock.ok()) {
    if (lock.status().code() != StatusCode::kAlreadyExists) return lock.status();
    return AlreadyExistsError("another `iocgrid node serve` is using '" + flags.data_dir +
                              "' (its serve.lock is held): stop it first, or give another --data");
  }
  return std::optional<FileLock>(std::move(*lock));
}

// The HTTP server's options from serve's flags: every node route needs a key, checked on the
// request head before its body is read (Node::Admit).
net::ServerOptions ServerOptionsFrom(const ServeFlags& flags, const std::string& host,
                                     uint16_t port, node::Node* node) {
  net::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.worker_threads = flags.threads;
  server_options.body_limit_bytes = flags.max_body_mb * 1024 * 1024;
  server_options.max_connections = flags.max_connections;
  server_options.read_timeout = std::chrono::seconds(flags.read_timeout_s);
  server_options.tls_cert_file = flags.tls_cert;
  server_options.tls_key_file = flags.tls_key;
  server_options.admit = [node](const net::Request& head, size_t* limit) {
    return node->Admit(head, limit);
  };
  return server_options;
}

int RunServe(const ServeFlags& flags) {
  auto listen = ParseHostPort(flags.listen);
  if (!listen.ok()) {
    return Fail("serve",
                "--listen: " + std::string(listen.status().message()) + " (e.g. 127.0.0.1:8443)");
  }
  const std::string& host = listen->host;
  const uint16_t port = listen->port;
  // Signals are taken by sigwait below, not by handlers: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto node_options = NodeOptionsFrom(flags);
  if (!node_options.ok()) return Fail("serve", std::string(node_options.status().message()));
  node::NodeOptions& options = *node_options;
  auto mirror_schedule = ServeMirrorFrom(flags.mirror);
  if (!mirror_schedule.ok()) {
    return Fail("serve", std::string(mirror_schedule.status().message()));
  }
  auto started = std::chrono::steady_clock::now();
  // One serving node and one mirror sweep per data directory (LockServe).
  auto serve_lock = LockServe(flags);
  if (!serve_lock.ok()) return Fail("serve", std::string(serve_lock.status().message()));
  std::optional<FileLock> mirror_lock;
  if (*serve_lock && *mirror_schedule) {
    auto lock = LockMirror(flags.data_dir);
    if (!lock.ok()) return Fail("serve", std::string(lock.status().message()));
    mirror_lock.emplace(std::move(*lock));
  }
  auto node = node::Node::Open(options);
  if (!node.ok()) {
    if (node.status().code() == StatusCode::kNotFound && !flags.create) {
      return Fail("serve", "no node store in '" + flags.data_dir +
                               "': check the path, or give --create to start an empty store there "
                               "(`iocgrid node import --data DIR FILES` also creates one)");
    }
    return Fail("serve", std::string(node.status().message()));
  }
  node::Node* raw = node->get();
  auto server = net::HttpServer::Start(ServerOptionsFrom(flags, host, port, raw),
                                       [raw](net::Request& r) { return raw->Handle(r); });
  if (!server.ok()) return Fail("serve", std::string(server.status().message()));
  // The MISP mirror, when asked: sweeps in the background, into the store this node serves.
  std::unique_ptr<MirrorLoop> mirror;
  if (*mirror_schedule) {
    mirror = std::make_unique<MirrorLoop>(&raw->store(), **mirror_schedule, [raw] {
      if (Status st = raw->RefreshIndex(); !st.ok()) {
        std::fprintf(stderr, "iocgrid node: index refresh after mirroring: %s\n",
                     st.ToString().c_str());
      }
    });
  }
  auto snap = raw->snapshot();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::fprintf(stderr, "iocgrid node: listening on %s://%s:%u (%zu indicators %s in %lld ms)\n",
               flags.tls_cert.empty() ? "http" : "https", host.c_str(), (*server)->port(),
               snap->size(), snap->from_file ? "loaded from the kept index" : "indexed",
               static_cast<long long>(ms));
  std::fflush(stderr);
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "iocgrid node: %s received, finishing in-flight requests\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (mirror) mirror->Stop();
  (*server)->Stop(std::chrono::seconds(30));
  std::fprintf(stderr, "iocgrid node: stopped\n");
  return 0;
}

struct ImportFlags {
  std::string data_dir;
  std::vector<std::string> paths;
  std::string event_info;
  std::vector<std::string> tags;
  int distribution = -1;
  std::string input_format = "auto";
  std::string org = "ORGNAME";
  bool strict = false;
  bool quiet = false;
};

// What the files held: their events, and the counts the summary line reports.
struct Loaded {
  std::vector<core::Event> events;
  size_t issues = 0;  // malformed entries skipped
  uint64_t attributes = 0;
  uint64_t invalid_utf8 = 0;
};

// Loads every file in turn; malformed entries are counted and the first 20 printed (unless
// --quiet). Errors: the first file that cannot be loaded (the message names it).
Result<Loaded> LoadAll(const std::vector<std::string>& files,
                       const ingest::LoadOptions& load_options, const ImportFlags& flags) {
  Loaded out;
  std::vector<core::Event>& events = out.events;
  size_t& issues = out.issues;
  for (const std::string& path : files) {
    const size_t first_event = events.size();
    auto stats = ingest::LoadFile(
        path, load_options,
        [&](core::Event&& e) {
          out.attributes += e.attributes.size();
          events.push_back(std::move(e));
        },
        [&](const ingest::LoadIssue& issue) {
          ++issues;
          if (flags.quiet || issues > 20) return;
          if (issue.line > 0) {
            std::fprintf(stderr, "%s:%u: %s\n", issue.path.c_str(), issue.line,
                         issue.message.c_str());
          } else {
            std::fprintf(stderr, "%s: %s\n", issue.path.c_str(), issue.message.c_str());
          }
        });
    if (!stats.ok()) return stats.status().WithContext(path);
    out.invalid_utf8 += stats->invalid_utf8;
    // CSV, plain lists and IPsum name no event, so the loader names it after the file;
    // --event-info names it instead (it was ignored for these formats, issue 8).
    const bool unnamed_format = stats->format == ingest::InputFormat::kCsv ||
                                stats->format == ingest::InputFormat::kPlain ||
                                stats->format == ingest::InputFormat::kIpsum;
    if (unnamed_format && !flags.event_info.empty()) {
      for (size_t k = first_event; k < events.size(); ++k) events[k].info = flags.event_info;
    }
  }
  return out;
}

int RunImport(const ImportFlags& flags) {
  ingest::LoadOptions load_options;
  if (!ingest::ParseInputFormat(flags.input_format, &load_options.format)) {
    return Fail("import", "unknown --input-format '" + flags.input_format + "'");
  }
  if (flags.distribution > 4) return Fail("import", "--distribution must be 0-4");
  auto files = ingest::ExpandPaths(flags.paths);
  if (!files.ok()) return Fail("import", std::string(files.status().message()));
  if (files->empty()) return Fail("import", "no files found in the given paths");
  store::StoreOptions store_options;
  store_options.local_org = flags.org;
  auto store = store::Store::Open(flags.data_dir, store_options);
  if (!store.ok()) return Fail("import", std::string(store.status().message()));

  auto loaded = LoadAll(*files, load_options, flags);
  if (!loaded.ok()) return Fail("import", std::string(loaded.status().message()));
  const std::vector<core::Event>& events = loaded->events;
  const size_t issues = loaded->issues;
  const uint64_t attributes = loaded->attributes;
  const uint64_t invalid_utf8 = loaded->invalid_utf8;
  if (flags.strict && issues > 0) {
    return Fail("import", fmt::format("{} malformed entries (--strict); nothing imported", issues));
  }
  store::ImportOptions import_options;
  import_options.extra_tags = flags.tags;
  if (flags.distribution >= 0) import_options.distribution = flags.distribution;
  import_options.event_info = flags.event_info;
  bool tty = !flags.quiet && isatty(STDERR_FILENO) != 0;
  auto start = std::chrono::steady_clock::now();
  if (tty) {
    import_options.progress = [&](uint64_t done) {
      std::fprintf(stderr, "\rimporting %llu/%llu attributes...",
                   static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(attributes));
    };
  }
  // One transaction for the whole command: it lands whole or not at all.
  auto stats = (*store)->ImportEvents(events, import_options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!stats.ok())
    return Fail("import", std::string(stats.status().message()) + "; nothing imported");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!flags.quiet) {
    std::fprintf(stderr,
                 "imported %zu file(s): %llu event(s) added, %llu updated, %llu unchanged; "
                 "%llu attribute(s) added, %llu updated, %llu unchanged, %llu removed "
                 "in %.2f s%s\n",
                 files->size(), static_cast<unsigned long long>(stats->events_added),
                 static_cast<unsigned long long>(stats->events_updated),
                 static_cast<unsigned long long>(stats->events_unchanged),
                 static_cast<unsigned long long>(stats->attributes_added),
                 static_cast<unsigned long long>(stats->attributes_updated),
                 static_cast<unsigned long long>(stats->attributes_unchanged),
                 static_cast<unsigned long long>(stats->attributes_removed), secs,
                 (std::string(issues ? fmt::format("; {} malformed entries skipped", issues) : "") +
                  (invalid_utf8 ? fmt::format("; {} invalid UTF-8 sequences replaced with U+FFFD",
                                              invalid_utf8)
                                : ""))
                     .c_str());
  }
  return 0;
}

struct KeyFlags {
  std::string data_dir;
  std::string org;
  std::string email;
  std::string role = "user";
  std::string comment;
  int expires_days = 0;
  int64_t key_id = 0;
};

int RunKeysCreate(const KeyFlags& flags) {
  store::Role role;
  if (!store::ParseRole(flags.role, &role))
    return Fail("keys create", "--role must be admin or user");
  auto store = store::Store::Open(flags.data_dir, store::StoreOptions{});
  if (!store.ok()) return Fail("keys create", std::string(store.status().message()));
  std::string email = flags.email.empty() ? flags.role + "@" + flags.org : flags.email;
  auto user = (*store)->EnsureUser(email, flags.org, role);
  if (!user.ok()) return Fail("keys create", std::string(user.status().message()));
  store::KeyOptions key_options;
  key_options.comment = flags.comment;
  if (flags.expires_days > 0) {
    // The store above runs on the system clock (StoreOptions{}), as UnixNow does.
    key_options.expires = UnixNow() + int64_t{flags.expires_days} * 86400;
  }
  auto key = (*store)->CreateKey(user->id, key_options);
  if (!key.ok()) return Fail("keys create", std::string(key.status().message()));
  std::printf("%s\n", key->key.c_str());
  std::fprintf(stderr, "key %lld for %s (%s, org %s); it is shown only this once\n",
               static_cast<long long>(key->key_id), email.c_str(), flags.role.c_str(),
               flags.org.c_str());
  return 0;
}

int RunKeysList(const KeyFlags& flags) {
  store::StoreOptions options;
  options.create_if_missing = false;
  auto store = store::Store::Open(flags.data_dir, options);
  if (!store.ok()) return Fail("keys list", std::string(store.status().message()));
  auto keys = (*store)->ListKeys();
  if (!keys.ok()) return Fail("keys list", std::string(keys.status().message()));
  std::printf("%-5s %-12s %-6s %-24s %-16s %-10s %s\n", "ID", "KEY", "ROLE", "USER", "ORG", "STATE",
              "COMMENT");
  for (const auto& k : *keys) {
    std::string state = k.revoked ? "revoked" : "active";
    std::printf("%-5lld %-12s %-6s %-24s %-16s %-10s %s\n", static_cast<long long>(k.id),
                (k.key_start + "..." + k.key_end).c_str(),
                std::string(store::RoleName(k.role)).c_str(), k.user_email.c_str(),
                k.org_name.c_str(), state.c_str(), k.comment.c_str());
  }
  return 0;
}

int RunKeysRevoke(const KeyFlags& flags) {
  store::StoreOptions options;
  options.create_if_missing = false;
  auto store = store::Store::Open(flags.data_dir, options);
  if (!store.ok()) return Fail("keys revoke", std::string(store.status().message()));
  Status st = (*store)->RevokeKey(flags.key_id);
  if (!st.ok()) return Fail("keys revoke", std::string(st.message()));
  std::fprintf(stderr, "key %lld revoked\n", static_cast<long long>(flags.key_id));
  return 0;
}

// The flags of `node serve` (also settable from its TOML config).
void AddServeFlags(CLI::App* s, ServeFlags* serve) {
  s->add_option("--data", serve->data_dir, "the node's data directory (SQLite store)")->required();
  s->add_option("--listen", serve->listen, "HOST:PORT to listen on (port 0 = any free port)")
      ->capture_default_str();
  s->add_option("--tls-cert", serve->tls_cert, "TLS certificate chain (PEM); HTTPS when set");
  s->add_option("--tls-key", serve->tls_key, "TLS private key (PEM)");
  s->add_flag("--audit-values", serve->audit_values, "keep queried values in the audit log");
  s->add_option("--max-body-mb", serve->max_body_mb, "largest request body (1-1048576)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20).description(""))
      ->capture_default_str();
  s->add_option("--max-connections", serve->max_connections,
                "open connections before 429 (1-1000000)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}).description(""))
      ->capture_default_str();
  // A count that cannot be used is refused with its range, never clamped.
  s->add_option("--threads", serve->threads, "worker threads for requests (1-256)")
      ->check(CLI::Range(1, 256).description(""))
      ->capture_default_str();
  s->add_option("--read-timeout", serve->read_timeout_s, "seconds to receive a request (1-3600)")
      ->check(CLI::Range(1, 3600).description(""))
      ->capture_default_str();
  s->add_option("--max-search-values", serve->max_search_values, "values per restSearch")
      ->capture_default_str();
  s->add_option("--max-match-values", serve->max_match_values, "indicators per grid match")
      ->capture_default_str();
  s->add_option("--org", serve->org, "this node's organisation name")->capture_default_str();
  s->add_flag("--create", serve->create, "create an empty store when --data holds none");
  s->add_option("--max-store-mb", serve->max_store_mb,
                "largest store file; writes beyond it fail as on a full disk (0 = no cap)")
      ->capture_default_str();
  s->add_option("--psi-evaluations-per-day", serve->psi_evaluations_per_day,
                "private search: OPRF evaluations per querying organisation per UTC day")
      ->capture_default_str();
  s->add_option("--psi-threads", serve->psi_threads,
                "private search: threads for the precompute of tags and labels (1-64)")
      ->check(CLI::Range(1, 64).description(""))
      ->capture_default_str();
  s->add_flag("--psi-value-labels", serve->psi_value_labels,
              "private search: labels disclose only the matched value and type, not the context");
  s->add_option("--psi-key-grace", serve->psi_key_grace,
                "private search: after a key rotation's switch, how long the old key still "
                "answers searches begun before it (15m, 1h...), then it is deleted")
      ->capture_default_str();
  // Live writes (docs/index.md "Live writes").
  s->add_option("--index-merge-at", serve->index_merge_at,
                "attributes changed since the index's base before a background merge builds a "
                "new base (at least 1)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40).description(""))
      ->capture_default_str();
  s->add_option("--index-delta-max", serve->index_delta_max,
                "changes read at once (a bulk import beside the node) beyond which the index is "
                "rebuilt instead of taking them as a delta (at least 1)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40).description(""))
      ->capture_default_str();
  s->add_option("--index-fold-at", serve->index_fold_at,
                "attributes in the delta's small layer before it is folded into the large one "
                "(at least 1)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40).description(""))
      ->capture_default_str();
  s->add_flag("--no-kept-index", serve->no_kept_index,
              "do not keep the index in DATA/index.snapshot (every start rebuilds it)");
  AddMirrorFlags(s, &serve->mirror, /*serve=*/true);
}

// `node psi status`: the keys, their tags, a rotation's progress.
int RunPsiStatus(const std::string& data_dir) {
  store::StoreOptions options;
  options.create_if_missing = false;
  auto store = store::Store::Open(data_dir, options);
  if (!store.ok()) return Fail("psi status", std::string(store.status().message()));
  auto keys = (*store)->GetPsiKeys();
  if (!keys.ok()) return Fail("psi status", std::string(keys.status().message()));
  if (!keys->active) {
    std::printf("private search: no key yet (the node creates one on the first private search)\n");
    return 0;
  }
  auto stats = (*store)->GetPsiStats(keys->active->epoch);
  if (!stats.ok()) return Fail("psi status", std::string(stats.status().message()));
  std::printf("key epoch %u: active since %s; %llu tags, %llu below tags; %llu changes pending\n",
              keys->active->epoch, FormatIsoDateTime(keys->active->changed).c_str(),
              static_cast<unsigned long long>(stats->tags),
              static_cast<unsigned long long>(stats->below_tags),
              static_cast<unsigned long long>(stats->pending));
  if (keys->preparing) {
    auto next = (*store)->GetPsiStats(keys->preparing->epoch);
    if (!next.ok()) return Fail("psi status", std::string(next.status().message()));
    const uint64_t done = next->tags + next->below_tags;
    const uint64_t all = stats->tags + stats->below_tags;
    std::printf(
        "key epoch %u: preparing since %s; %llu of %llu tags re-tagged (a serving node "
        "does this, then switches)\n",
        keys->preparing->epoch, FormatIsoDateTime(keys->preparing->created).c_str(),
        static_cast<unsigned long long>(done), static_cast<unsigned long long>(all));
  }
  if (keys->retired) {
    std::printf(
        "key epoch %u: retired at %s; a serving node answers it for its --psi-key-grace, "
        "then deletes it with its tags\n",
        keys->retired->epoch, FormatIsoDateTime(keys->retired->changed).c_str());
  }
  return 0;
}

// `node psi rotate`: a new key, preparing; the serving node re-tags and switches.
int RunPsiRotate(const std::string& data_dir) {
  store::StoreOptions options;
  options.create_if_missing = false;
  auto store = store::Store::Open(data_dir, options);
  if (!store.ok()) return Fail("psi rotate", std::string(store.status().message()));
  auto key = (*store)->BeginPsiKeyRotation(psi::OprfKey::Generate().Serialize());
  if (!key.ok()) return Fail("psi rotate", std::string(key.status().message()));
  std::fprintf(stderr,
               "key epoch %u created: the serving node re-tags its data under it while the "
               "current key keeps answering, then switches (`iocgrid node psi status --data %s` "
               "shows the progress)\n",
               key->epoch, data_dir.c_str());
  return 0;
}

// `node psi status|rotate`. The function returned runs the one parsed (nullopt: neither).
std::function<std::optional<int>()> AddPsiCommands(CLI::App* node) {
  CLI::App* psi = node->add_subcommand("psi", "private search: the node's OPRF keys");
  psi->require_subcommand(1);
  auto data = std::make_shared<std::string>();
  CLI::App* status =
      psi->add_subcommand("status", "the keys, their tags and a rotation's progress");
  status->add_option("--data", *data, "the node's data directory")->required();
  CLI::App* rotate = psi->add_subcommand(
      "rotate",
      "start a key rotation: the serving node re-tags its data under a new key while "
      "the current one answers, then switches (no downtime)");
  rotate->add_option("--data", *data, "the node's data directory")->required();
  return [status, rotate, data]() -> std::optional<int> {
    if (status->parsed()) return RunPsiStatus(*data);
    if (rotate->parsed()) return RunPsiRotate(*data);
    return std::nullopt;
  };
}

// `node mirror`. The function returned runs it when parsed (nullopt: not).
std::function<std::optional<int>()> AddMirrorCommand(CLI::App* node) {
  struct Flags {
    std::string data;
    MirrorFlags mirror;
    bool full = false;
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* m = node->add_subcommand(
      "mirror", "copy a MISP's events into the node's store, incrementally (docs/mirror.md)");
  m->add_option("--data", f->data, "the node's data directory")->required();
  AddMirrorFlags(m, &f->mirror, /*serve=*/false);
  m->add_flag("--full", f->full,
              "list every event (finds events deleted in the MISP), not only the changed ones");
  m->add_flag("--quiet,-q", f->quiet, "no progress or summary");
  return [m, f]() -> std::optional<int> {
    if (!m->parsed()) return std::nullopt;
    return RunMirror(f->data, f->mirror, f->full, f->quiet);
  };
}

}  // namespace

Command AddNodeCommand(CLI::App& app) {
  CLI::App* node = app.add_subcommand(
      "node", "A member's node: its own store, a MISP-compatible REST API and the grid API");
  node->require_subcommand(1);
  auto serve = std::make_shared<ServeFlags>();
  CLI::App* s = node->add_subcommand("serve", "serve the MISP-compatible API and the grid API");
  AddServeFlags(s, serve.get());

  auto import = std::make_shared<ImportFlags>();
  CLI::App* i = node->add_subcommand("import",
                                     "import member data files (MISP events and feeds, "
                                     "warninglists, CSV, lists, IPsum, STIX 2.1)");
  i->add_option("--data", import->data_dir, "the node's data directory")->required();
  i->add_option("paths", import->paths, "files or folders")->required()->expected(1, -1);
  i->add_option(
      "--event-info", import->event_info,
      "info of events whose source names none (CSV, plain lists, IPsum, unnamed MISP events)");
  i->add_option("--tag", import->tags, "tag every imported event (repeatable)")
      ->allow_extra_args(false);
  i->add_option("--distribution", import->distribution, "MISP distribution 0-4 for the events");
  i->add_option("--input-format", import->input_format,
                "auto, warninglist, misp, csv, plain, ipsum, stix")
      ->capture_default_str();
  i->add_option("--org", import->org, "owner organisation name")->capture_default_str();
  i->add_flag("--strict", import->strict, "refuse the whole import on any malformed entry");
  i->add_flag("--quiet,-q", import->quiet, "no progress or summary");

  CLI::App* keys = node->add_subcommand("keys", "manage the node's API keys");
  keys->require_subcommand(1);
  auto key_flags = std::make_shared<KeyFlags>();
  CLI::App* kc = keys->add_subcommand("create", "create a key and print it (only this once)");
  kc->add_option("--data", key_flags->data_dir, "the node's data directory")->required();
  kc->add_option("--org", key_flags->org, "organisation of the key's user")->required();
  kc->add_option("--role", key_flags->role, "admin or user")->capture_default_str();
  kc->add_option("--email", key_flags->email, "the user's e-mail (default role@org)");
  kc->add_option("--comment", key_flags->comment, "a note shown by keys list");
  kc->add_option("--expires-days", key_flags->expires_days, "expire after N days (0 = never)");
  CLI::App* kl = keys->add_subcommand("list", "list keys (never the keys themselves)");
  kl->add_option("--data", key_flags->data_dir, "the node's data directory")->required();
  CLI::App* kr = keys->add_subcommand("revoke", "revoke a key by id");
  kr->add_option("--data", key_flags->data_dir, "the node's data directory")->required();
  kr->add_option("id", key_flags->key_id, "key id from keys list")->required();

  const auto run_psi = AddPsiCommands(node);
  const auto run_mirror = AddMirrorCommand(node);

  Command command;
  command.subcommand = node;
  command.run = [s, i, kc, kl, kr, serve, import, key_flags, run_psi, run_mirror]() {
    if (std::optional<int> r = run_psi()) return *r;
    if (std::optional<int> r = run_mirror()) return *r;
    if (s->parsed()) return RunServe(*serve);
    if (i->parsed()) return RunImport(*import);
    if (kc->parsed()) return RunKeysCreate(*key_flags);
    if (kl->parsed()) return RunKeysList(*key_flags);
    if (kr->parsed()) return RunKeysRevoke(*key_flags);
    return kExitError;
  };
  return command;
}

}  // namespace iocgrid::app
