// `iocgrid node mirror` and the mirror loop of `node serve --mirror` (node_mirror.h).
#include "app/node_mirror.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

#include "app/commands.h"
#include "common/key_file.h"
#include "common/time.h"

namespace iocgrid::app {

void AddMirrorFlags(CLI::App* cmd, MirrorFlags* f, bool serve) {
  const std::string p = serve ? "--mirror-" : "--";
  if (serve) {
    cmd->add_option("--mirror", f->url,
                    "mirror this MISP (https://misp.example.org) into the store in the "
                    "background (docs/mirror.md)");
  } else {
    cmd->add_option("--misp", f->url, "the MISP to mirror, e.g. https://misp.example.org")
        ->required();
  }
  cmd->add_option(p + "key", f->key, "the MISP API key (visible in ps: prefer " + p + "key-file)");
  cmd->add_option(p + "key-file", f->key_file, "a file whose first line is the MISP API key");
  cmd->add_option(p + "min-distribution", f->min_distribution,
                  "mirror events and attributes of this distribution or wider: 1 this "
                  "community, 2 connected communities, 3 all communities")
      ->capture_default_str();
  cmd->add_option(p + "sharing-group", f->sharing_groups,
                  "also mirror the events of this sharing group (uuid; repeatable)")
      ->allow_extra_args(false);
  cmd->add_option(p + "ca-file", f->ca_file, "CA bundle (PEM) that signed the MISP's certificate");
  cmd->add_option(p + "client-cert", f->client_cert, "client certificate (PEM) for the MISP");
  cmd->add_option(p + "client-key", f->client_key, "its private key (PEM)");
  cmd->add_flag(p + "insecure", f->insecure, "do not verify the MISP's TLS certificate");
  cmd->add_option(p + "proxy", f->proxy, "HTTP(S) proxy, e.g. http://proxy:3128");
  cmd->add_option(p + "page-size", f->page_size, "events per index page (1-10000)")
      ->capture_default_str();
  cmd->add_option(p + "concurrency", f->concurrency, "event views downloaded at once (1-16)")
      ->capture_default_str();
  cmd->add_option(p + "timeout", f->timeout, "per request (30s, 2m...)")->capture_default_str();
  if (serve) {
    cmd->add_option("--mirror-interval", f->interval, "how often to look for changes (1m, 5m...)")
        ->capture_default_str();
    cmd->add_option("--mirror-full-interval", f->full_interval,
                    "how often to list every event, which finds events deleted in the MISP")
        ->capture_default_str();
  }
}

Result<node::MirrorOptions> MirrorOptionsFrom(const MirrorFlags& f, bool serve) {
  const std::string p = serve ? "--mirror-" : "--";
  node::MirrorOptions o;
  o.url = f.url;
  if (f.key.empty() == f.key_file.empty()) {
    return InvalidArgumentError("give the MISP API key with exactly one of " + p + "key and " + p +
                                "key-file");
  }
  if (!f.key_file.empty()) {
    Result<std::string> key = ReadKeyFile(f.key_file);
    if (!key.ok()) return key.status().WithContext(p + "key-file");
    o.key = *key;
  } else {
    o.key = f.key;
  }
  o.min_distribution = f.min_distribution;
  o.sharing_groups = f.sharing_groups;
  o.ca_file = f.ca_file;
  o.client_cert_file = f.client_cert;
  o.client_key_file = f.client_key;
  o.verify_tls = !f.insecure;
  o.proxy = f.proxy;
  o.page_size = f.page_size;
  o.concurrency = f.concurrency;
  Result<int64_t> timeout = ParseDuration(f.timeout);
  if (!timeout.ok()) return timeout.status().WithContext(p + "timeout");
  o.timeout = std::chrono::seconds(*timeout);
  IOCGRID_RETURN_IF_ERROR(node::ValidateMirrorOptions(o));
  return o;
}

Result<FileLock> LockMirror(const std::string& data_dir) {
  auto lock = FileLock::Acquire(data_dir + "/mirror.lock");
  if (!lock.ok() && lock.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("another mirror sweep is running on '" + data_dir +
                              "' (`iocgrid node mirror`, or `node serve --mirror`): two at once "
                              "would fetch and write the same events; wait for it to end");
  }
  return lock;
}

int RunMirror(const std::string& data_dir, const MirrorFlags& flags, bool full, bool quiet) {
  auto options = MirrorOptionsFrom(flags, /*serve=*/false);
  if (!options.ok()) {
    std::fprintf(stderr, "iocgrid node mirror: %s\n",
                 std::string(options.status().message()).c_str());
    return kExitError;
  }
  store::StoreOptions store_options;
  auto store = store::Store::Open(data_dir, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "iocgrid node mirror: %s\n",
                 std::string(store.status().message()).c_str());
    return kExitError;
  }
  auto lock = LockMirror(data_dir);
  if (!lock.ok()) {
    std::fprintf(stderr, "iocgrid node mirror: %s\n", std::string(lock.status().message()).c_str());
    return kExitError;
  }
  const bool tty = !quiet && isatty(STDERR_FILENO) != 0;
  auto progress = [&](const node::MirrorProgress& p) {
    if (tty) {
      std::fprintf(stderr, "\r%llu events listed, %llu fetched...",
                   static_cast<unsigned long long>(p.listed),
                   static_cast<unsigned long long>(p.fetched));
    }
  };
  auto stats = node::MirrorSweep(**store, *options, full, progress);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!stats.ok()) {
    std::fprintf(stderr,
                 "iocgrid node mirror: %s (what was mirrored so far is kept; run again "
                 "to resume)\n",
                 std::string(stats.status().message()).c_str());
    return kExitError;
  }
  if (!quiet) {
    std::fprintf(stderr,
                 "mirrored %s (%s sweep): %llu events listed, %llu fetched: %llu written, %llu "
                 "left out by distribution; %llu removed; %llu attributes written in %.2f s\n",
                 options->url.c_str(), stats->full ? "full" : "incremental",
                 static_cast<unsigned long long>(stats->listed),
                 static_cast<unsigned long long>(stats->fetched),
                 static_cast<unsigned long long>(stats->kept),
                 static_cast<unsigned long long>(stats->filtered),
                 static_cast<unsigned long long>(stats->removed),
                 static_cast<unsigned long long>(stats->attributes),
                 static_cast<double>(stats->elapsed_ms) / 1000.0);
  }
  return 0;
}

Result<std::optional<MirrorSchedule>> ServeMirrorFrom(const MirrorFlags& flags) {
  if (flags.url.empty()) {
    if (!flags.key.empty() || !flags.key_file.empty()) {
      return InvalidArgumentError("--mirror-key and --mirror-key-file need --mirror URL");
    }
    return std::optional<MirrorSchedule>();
  }
  MirrorSchedule schedule;
  IOCGRID_ASSIGN_OR_RETURN(schedule.options, MirrorOptionsFrom(flags, /*serve=*/true));
  Result<int64_t> interval = ParseDuration(flags.interval);
  if (!interval.ok()) return interval.status().WithContext("--mirror-interval");
  Result<int64_t> full = ParseDuration(flags.full_interval);
  if (!full.ok()) return full.status().WithContext("--mirror-full-interval");
  schedule.interval_s = *interval;
  schedule.full_interval_s = *full;
  return std::optional<MirrorSchedule>(std::move(schedule));
}

MirrorLoop::MirrorLoop(store::Store* store, MirrorSchedule schedule, std::function<void()> landed)
    : store_(store),
      schedule_(std::move(schedule)),
      landed_(std::move(landed)),
      thread_([this] { Run(); }) {}

MirrorLoop::~MirrorLoop() { Stop(); }

void MirrorLoop::Stop() {
  stopping_.store(true);
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void MirrorLoop::Run() {
  while (true) {
    auto state = store_->GetMirrorState();
    const bool full = state.ok() && UnixNow() - state->last_full >= schedule_.full_interval_s;
    auto stats = node::MirrorSweep(
        *store_, schedule_.options, full,
        [this](const node::MirrorProgress&) {
          if (landed_) landed_();
        },
        &stopping_);
    if (stats.ok()) {
      if (stats->fetched > 0 || stats->removed > 0) {
        std::fprintf(
            stderr, "iocgrid node: mirror %s: %llu events fetched, %llu removed (%s sweep)\n",
            schedule_.options.url.c_str(), static_cast<unsigned long long>(stats->fetched),
            static_cast<unsigned long long>(stats->removed), stats->full ? "full" : "incremental");
      }
    } else if (!stopping_.load()) {
      std::fprintf(stderr, "iocgrid node: mirror %s: %s; retrying in %llds\n",
                   schedule_.options.url.c_str(), std::string(stats.status().message()).c_str(),
                   static_cast<long long>(schedule_.interval_s));
    }
    std::fflush(stderr);
    MutexLock lock(mu_);
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(schedule_.interval_s);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      cv_.WaitFor(mu_, until - std::chrono::steady_clock::now());
    }
    if (stop_) return;
  }
}

}  // namespace iocgrid::app
