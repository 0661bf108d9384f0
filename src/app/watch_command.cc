// `iocgrid watch`: an analyst's watchlists (standing searches) on a portal, from the command
// line: add, list, rm, runs (docs/portal-api.md "Watchlists").
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/portal_client.h"
#include "common/ascii.h"
#include "common/time.h"

namespace iocgrid::app {
namespace {

using json = nlohmann::json;

struct WatchFlags {
  std::string portal;
  std::string key;
  std::string ca_file;
  bool insecure = false;
  std::string name;
  std::string interval;
  std::string webhook;
  std::string secret_file;
  std::string secret_env;
  std::vector<std::string> members;
  std::vector<std::string> relations;
  std::string since;
  bool from_text = false;
  std::string path;
  std::string id;
  int limit = 20;
  std::string format = "table";
};

int Fail(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "iocgrid watch %s: %s\n", what.c_str(), message.c_str());
  return kExitError;
}

// A watchlist id as the portal gives them (letters and digits); anything else would change the
// request's path.
bool IsWatchId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), IsAsciiAlnum);
}

Result<PortalConnection> Connect(WatchFlags f) {
  if (!f.id.empty() && !IsWatchId(f.id)) {
    return InvalidArgumentError("'" + f.id.substr(0, 64) +
                                "' is not a watchlist id (letters and digits; see watch list)");
  }
  if (f.key.empty()) {
    if (const char* env = std::getenv("IOCGRID_KEY")) f.key = env;
  }
  if (f.key.empty()) return InvalidArgumentError("no API key: give --key or set IOCGRID_KEY");
  while (!f.portal.empty() && f.portal.back() == '/') f.portal.pop_back();
  return PortalConnection{f.portal, f.key, f.ca_file, f.insecure};
}

// The webhook secret from a file or an environment variable (never from the command line,
// where other users of the machine could read it).
Result<std::string> ReadSecret(const WatchFlags& f) {
  if (!f.secret_file.empty() && !f.secret_env.empty()) {
    return InvalidArgumentError("give --secret-file or --secret-env, not both");
  }
  if (!f.secret_env.empty()) {
    const char* v = std::getenv(f.secret_env.c_str());
    if (v == nullptr || *v == '\0') {
      return InvalidArgumentError("--secret-env: " + f.secret_env + " is not set");
    }
    return std::string(v);
  }
  if (f.secret_file.empty()) return std::string();
  std::ifstream in(f.secret_file, std::ios::binary);
  if (!in) return InvalidArgumentError("--secret-file: cannot read " + f.secret_file);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(TrimAscii(ss.str()));
}

// The answer's JSON, or the portal's error as one line.
Result<json> Call(const PortalConnection& portal, const std::string& method,
                  const std::string& path, const std::string& body, int expect) {
  auto r = PortalCall(portal, method, path, body);
  if (!r.ok()) return r.status();
  if (r->status != expect) return InvalidArgumentError(PortalApiError(*r));
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return DataLossError("the portal's answer is not JSON");
  return j;
}

int RunAdd(const WatchFlags& f) {
  auto portal = Connect(f);
  if (!portal.ok()) return Fail("add", std::string(portal.status().message()));
  auto body = QueryInputBody(f.path, f.from_text, false);
  if (!body.ok()) return Fail("add", std::string(body.status().message()));
  (*body)["name"] = f.name;
  if (!f.interval.empty()) (*body)["interval"] = f.interval;
  if (!f.members.empty()) (*body)["members"] = f.members;
  if (!f.relations.empty()) (*body)["relations"] = f.relations;
  if (!f.since.empty()) (*body)["since"] = f.since;
  auto secret = ReadSecret(f);
  if (!secret.ok()) return Fail("add", std::string(secret.status().message()));
  if (!f.webhook.empty()) {
    if (secret->empty()) return Fail("add", "--webhook needs --secret-file or --secret-env");
    (*body)["webhook"] = f.webhook;
    (*body)["secret"] = *secret;
  }
  auto created = Call(*portal, "POST", "/api/v1/watchlists", body->dump(), 201);
  if (!created.ok()) return Fail("add", std::string(created.status().message()));
  std::printf("%s\n", created->value("id", "").c_str());
  std::fprintf(stderr, "watchlist '%s' added; it runs now and then every %s\n", f.name.c_str(),
               f.interval.empty() ? "15m" : f.interval.c_str());
  return kExitFound;
}

int RunList(const WatchFlags& f) {
  auto portal = Connect(f);
  if (!portal.ok()) return Fail("list", std::string(portal.status().message()));
  auto list = Call(*portal, "GET", "/api/v1/watchlists", "", 200);
  if (!list.ok() || !list->is_array()) {
    return Fail("list", list.ok() ? "the portal's answer is not a list"
                                  : std::string(list.status().message()));
  }
  if (f.format == "json") {
    std::printf("%s\n", list->dump().c_str());
    return list->empty() ? kExitNotFound : kExitFound;
  }
  std::printf("%-16s %-24s %-10s %6s %6s  %s\n", "ID", "NAME", "INTERVAL", "IOCS", "HITS",
              "LAST RUN");
  for (const json& w : *list) {
    const int64_t last = w.value("last_run", int64_t{0});
    std::printf("%-16s %-24s %-10s %6zu %6zu  %s\n", w.value("id", "").c_str(),
                w.value("name", "").c_str(),
                (std::to_string(w.value("interval_s", int64_t{0})) + "s").c_str(),
                w.value("indicators", size_t{0}), w.value("hits", size_t{0}),
                last == 0 ? "never" : FormatIsoDateTime(last).c_str());
  }
  return list->empty() ? kExitNotFound : kExitFound;
}

int RunRemove(const WatchFlags& f) {
  auto portal = Connect(f);
  if (!portal.ok()) return Fail("rm", std::string(portal.status().message()));
  auto r = Call(*portal, "DELETE", "/api/v1/watchlists/" + f.id, "", 200);
  if (!r.ok()) return Fail("rm", std::string(r.status().message()));
  std::fprintf(stderr, "watchlist %s deleted\n", f.id.c_str());
  return kExitFound;
}

// One line per hit of a run's `new` or `removed` list.
void PrintHits(const char* sign, const json& hits) {
  if (!hits.is_array()) return;
  for (const json& h : hits) {
    std::printf("    %s %-40s %-14s %-10s %s\n", sign, h.value("indicator", "").c_str(),
                h.value("member", "").c_str(), h.value("relation", "").c_str(),
                h.value("matched", "").c_str());
  }
}

int RunRuns(const WatchFlags& f) {
  auto portal = Connect(f);
  if (!portal.ok()) return Fail("runs", std::string(portal.status().message()));
  auto runs =
      Call(*portal, "GET", "/api/v1/watchlists/" + f.id + "/runs?limit=" + std::to_string(f.limit),
           "", 200);
  if (!runs.ok() || !runs->is_array()) {
    return Fail("runs", runs.ok() ? "the portal's answer is not a list"
                                  : std::string(runs.status().message()));
  }
  if (f.format == "json") {
    for (const json& r : *runs) std::printf("%s\n", r.dump().c_str());
    return runs->empty() ? kExitNotFound : kExitFound;
  }
  for (const json& r : *runs) {
    std::printf("%s  %-12s %-11s %zu hit(s), %zu new, %zu removed\n",
                FormatIsoDateTime(r.value("finished", int64_t{0})).c_str(),
                r.value("reason", "").c_str(), r.value("status", "").c_str(),
                r.value("hits", size_t{0}), r.contains("new") ? r["new"].size() : 0,
                r.contains("removed") ? r["removed"].size() : 0);
    PrintHits("+", r.value("new", json::array()));
    PrintHits("-", r.value("removed", json::array()));
  }
  return runs->empty() ? kExitNotFound : kExitFound;
}

void AddConnectionOptions(CLI::App* c, WatchFlags* f) {
  c->add_option("--portal", f->portal, "the portal's base URL")->required();
  c->add_option("--key", f->key, "your portal API key (or set IOCGRID_KEY)");
  c->add_option("--ca-file", f->ca_file, "CA bundle (PEM) for the portal's certificate");
  c->add_flag("--insecure", f->insecure, "do not verify the portal's TLS certificate");
}

}  // namespace

Command AddWatchCommand(CLI::App& app) {
  auto f = std::make_shared<WatchFlags>();
  CLI::App* w = app.add_subcommand(
      "watch",
      "Standing searches on a portal: re-run when a member's data changes and at least every "
      "interval; new and removed hits to a signed webhook (docs/portal-api.md).\n"
      "Exit status: 0 with results, 1 without, 2 on error.");
  w->require_subcommand(1);
  CLI::App* add = w->add_subcommand("add", "add a watchlist of the indicators in FILE (- stdin)");
  AddConnectionOptions(add, f.get());
  add->add_option("--name", f->name, "a name for the watchlist")->required();
  add->add_option("--interval", f->interval, "run at least this often: 30s, 15m, 1h, 7d (15m)");
  add->add_option("--webhook", f->webhook, "POST new and removed hits to this URL");
  add->add_option("--secret-file", f->secret_file, "file holding the webhook's HMAC secret");
  add->add_option("--secret-env", f->secret_env, "environment variable holding that secret");
  add->add_option("--members", f->members, "only these members (comma-separated)")->delimiter(',');
  add->add_option("--relations", f->relations, "only these relations (comma-separated)")
      ->delimiter(',');
  add->add_option("--since", f->since, "only member data since (YYYY-MM-DD, 365d)");
  add->add_flag("--from-text", f->from_text, "FILE is report text: extract its indicators");
  add->add_option("file", f->path, "indicators, one per line, or CSV; - reads stdin")->required();
  CLI::App* list = w->add_subcommand("list", "your watchlists");
  AddConnectionOptions(list, f.get());
  list->add_option("--format,-f", f->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  CLI::App* rm = w->add_subcommand("rm", "delete a watchlist with its runs");
  AddConnectionOptions(rm, f.get());
  rm->add_option("id", f->id, "the watchlist's id (watch list)")->required();
  CLI::App* runs = w->add_subcommand("runs", "a watchlist's last runs with new and removed hits");
  AddConnectionOptions(runs, f.get());
  runs->add_option("id", f->id, "the watchlist's id")->required();
  runs->add_option("--limit", f->limit, "how many runs (1-1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  runs->add_option("--format,-f", f->format, "table or json (a line per run)")
      ->check(CLI::IsMember({"table", "json"}));
  Command command;
  command.subcommand = w;
  command.run = [f, add, list, rm, runs] {
    if (add->parsed()) return RunAdd(*f);
    if (list->parsed()) return RunList(*f);
    if (rm->parsed()) return RunRemove(*f);
    if (runs->parsed()) return RunRuns(*f);
    return kExitError;
  };
  return command;
}

}  // namespace iocgrid::app
