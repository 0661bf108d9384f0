// `iocgrid search`: an analyst's search through the portal's API, from the command line.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/portal_client.h"
#include "app/private_search.h"
#include "common/ascii.h"
#include "common/time.h"
#include "extract/extractor.h"
#include "ingest/query_reader.h"
#include "net/http_client.h"

namespace iocgrid::app {
namespace {

using json = nlohmann::json;

struct SearchFlags {
  std::string portal;
  std::string key;
  std::string format = "table";
  std::vector<std::string> members;
  std::vector<std::string> relations;
  std::string label;
  std::string tlp;
  std::string since;
  std::string until;
  bool from_text = false;
  bool quiet = false;
  bool insecure = false;
  std::string ca_file;
  int timeout_s = 120;
  bool private_search = false;
  std::string confirm;         // empty, true-positive or false-positive
  std::string confirm_source;  // what the members are told; default the user's organisation
  std::string explain;         // --explain VALUE: its reputation instead of a search
  std::string path;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "iocgrid search: %s\n", message.c_str());
  return kExitError;
}

// The search request (docs/portal-api.md): the indicators of f.path (or its text, with
// --from-text) and the flags' filters. Errors: kInvalidArgument, saying what to fix.
Result<json> BuildSearchBody(const SearchFlags& f) {
  IOCGRID_ASSIGN_OR_RETURN(json body, QueryInputBody(f.path, f.from_text, f.quiet));
  if (!f.members.empty()) body["members"] = f.members;
  if (!f.relations.empty()) body["relations"] = f.relations;
  if (!f.label.empty()) body["label"] = f.label;
  if (!f.tlp.empty()) body["tlp"] = f.tlp;
  if (!f.since.empty()) body["since"] = f.since;
  if (!f.until.empty()) body["until"] = f.until;
  return body;
}

// --format json: a line per hit, per count-only indicator and per member.
void PrintJsonLines(json& doc) {  // not const: operator[] adds a missing key as null
  for (const auto& ind : doc["indicators"]) {
    for (const auto& h : ind["hits"]) {
      json line = {{"kind", "hit"},
                   {"query", ind["value"]},
                   {"query_type", ind["type"]},
                   {"member", h["member"]},
                   {"relation", h["relation"]},
                   {"matched", h.value("matched", "")},
                   {"type", h.value("type", "")},
                   {"category", h.value("category", "")},
                   {"event_info", h.value("event_info", "")},
                   {"event_date", h.value("event_date", "")},
                   {"first_seen", h.value("first_seen", "")},
                   {"last_seen", h.value("last_seen", "")},
                   {"to_ids", h.value("to_ids", false)},
                   {"tags", h.value("tags", json::array())},
                   {"time_gap", h.value("time_gap", false)}};
      std::printf("%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    }
    if (ind["hits"].empty() && ind.value("held_by", 0) > 0) {
      json line = {{"kind", "count"},
                   {"query", ind["value"]},
                   {"held_by", ind["held_by"]},
                   {"members_total", doc["progress"].value("members_total", 0)}};
      std::printf("%s\n", line.dump().c_str());
    }
  }
  for (const auto& m : doc["members"]) {
    json line = {{"kind", "member"},    {"member", m["member"]},         {"status", m["status"]},
                 {"error", m["error"]}, {"elapsed_ms", m["elapsed_ms"]}, {"hits", m["hits"]}};
    std::printf("%s\n", line.dump().c_str());
  }
}

// --format table: each held indicator with its hits.
void PrintTable(json& doc) {  // not const, as PrintJsonLines
  size_t total = doc["progress"].value("members_total", 0);
  for (const auto& ind : doc["indicators"]) {
    if (ind.value("held_by", 0) == 0) continue;
    std::printf("%s  (%s)  held by %d of %zu members\n", ind["value"].get<std::string>().c_str(),
                ind["type"].get<std::string>().c_str(), ind.value("held_by", 0), total);
    for (const auto& h : ind["hits"]) {
      std::string ctx = h.value("event_info", "");
      if (!h.value("event_date", "").empty()) ctx += " " + h.value("event_date", "");
      if (!h.value("last_seen", "").empty()) ctx += " last seen " + h.value("last_seen", "");
      std::printf("    %-14s %-10s %-40s %s%s\n", h["member"].get<std::string>().c_str(),
                  h["relation"].get<std::string>().c_str(), h.value("matched", "").c_str(),
                  ctx.c_str(), h.value("time_gap", false) ? "  [time gap]" : "");
    }
  }
}

int PrintResults(const SearchFlags& f, json& doc, const std::string& id);

// --since/--until for a private search, read here as the portal reads them: YYYY-MM-DD or an
// ISO 8601 time, unix seconds, or "Nd" (N days ago).
Result<std::optional<int64_t>> ParseTimeFlag(const std::string& text, const char* flag) {
  if (text.empty()) return std::optional<int64_t>();
  int64_t t = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
  if (ec == std::errc() && end == text.data() + text.size() && t >= 0) return std::optional(t);
  Result<int64_t> parsed = ParseTimeBound(text, Clock().Now());
  if (!parsed.ok()) return parsed.status().WithContext(flag);
  return std::optional(*parsed);
}

// --private: the queries are blinded here and the portal only relays (private_search.h).
int RunPrivate(const SearchFlags& f, const PortalConnection& portal) {
  if (f.format != "table" && f.format != "json") {
    return Fail("--private prints table or json: the portal keeps no private result to export as " +
                f.format);
  }
  if (!f.label.empty() || !f.tlp.empty()) {
    return Fail(
        "--label and --tlp describe a search the portal keeps; it keeps no private search "
        "(only counts of the frames it relayed)");
  }
  PrivateSearchInput input;
  input.members = f.members;
  input.timeout_s = f.timeout_s;
  auto content = ingest::ReadQueryText(f.path);
  if (!content.ok()) return Fail(std::string(content.status().message()));
  if (f.from_text) {
    auto extractor = extract::Extractor::Create(extract::ExtractOptions{});
    if (!extractor.ok()) return Fail(std::string(extractor.status().message()));
    for (const auto& found : (*extractor)->Extract(*content)) {
      if (!found.benign_reason.empty()) continue;
      input.queries.push_back(found.indicator);
      input.written.push_back(found.indicator.value);
    }
    if (input.queries.empty()) return Fail("no indicator found in the text of " + f.path);
  } else {
    auto q = ParseQueryList(f.path, *content, f.quiet);
    if (!q.ok()) return Fail(std::string(q.status().message()));
    for (const auto& item : q->items) {
      input.queries.push_back(item.indicator);
      input.written.push_back(item.raw);
    }
  }
  if (!f.relations.empty()) {
    input.relations = 0;
    for (const std::string& name : f.relations) {
      Status st = index::AddRelation(name, &input.relations);
      if (!st.ok()) return Fail(std::string(st.message()));
    }
  }
  auto since = ParseTimeFlag(f.since, "--since");
  auto until = ParseTimeFlag(f.until, "--until");
  if (!since.ok()) return Fail(std::string(since.status().message()));
  if (!until.ok()) return Fail(std::string(until.status().message()));
  input.since = *since;
  input.until = *until;
  auto doc = RunPrivateSearch(portal, input);
  if (!doc.ok()) return Fail(std::string(doc.status().message()));
  return PrintResults(f, *doc, "");
}

// --confirm: every hit of search `id` goes back to its member as a sighting
// (POST /api/v1/searches/{id}/sightings); one line per member on stderr. kExitError when the
// portal refused the request; a member that refused or failed is reported, not an error.
int Confirm(const SearchFlags& f, const PortalConnection& portal, const std::string& id) {
  json body = {{"type", f.confirm}, {"hits", "all"}};
  if (!f.confirm_source.empty()) body["source"] = f.confirm_source;
  auto r = PortalCall(portal, "POST", "/api/v1/searches/" + id + "/sightings", body.dump());
  if (!r.ok()) return Fail("--confirm: " + std::string(r.status().message()));
  if (r->status != 200) return Fail("--confirm: " + PortalApiError(*r));
  json answer = json::parse(r->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("members") || !answer["members"].is_array()) {
    return Fail("--confirm: the portal's answer is not a sightings report");
  }
  for (const json& m : answer["members"]) {
    std::string line =
        fmt::format("{} to {}: {} sent, {} refused, {} failed", f.confirm, m.value("member", "?"),
                    m.value("sent", 0), m.value("refused", 0), m.value("failed", 0));
    if (m.contains("reasons") && m["reasons"].is_array() && !m["reasons"].empty() &&
        m["reasons"][0].is_string()) {
      line += " (" + m["reasons"][0].get<std::string>() + ")";
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  return kExitFound;
}

// --explain VALUE: the value's reputation across the alliance (GET /api/v1/indicators).
int Explain(const SearchFlags& f, const PortalConnection& portal) {
  std::string path = "/api/v1/indicators?value=";
  for (unsigned char ch : f.explain) {  // percent-encode all but unreserved characters
    if (IsAsciiAlnum(static_cast<char>(ch)) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      path += static_cast<char>(ch);
    } else {
      path += fmt::format("%{:02X}", ch);
    }
  }
  auto r = PortalCall(portal, "GET", path);
  if (!r.ok()) return Fail(std::string(r.status().message()));
  if (r->status != 200) return Fail(PortalApiError(*r));
  json rep = json::parse(r->body, nullptr, false);
  if (!rep.is_object()) return Fail("the portal's answer is not a reputation");
  const uint64_t held = rep.value("held_by", uint64_t{0});
  if (f.format == "json") {
    std::printf("%s\n", rep.dump().c_str());
    return held > 0 ? kExitFound : kExitNotFound;
  }
  auto join = [](const json& list) {
    std::string out;
    for (const json& v : list) {
      out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    return out.empty() ? std::string("none") : out;
  };
  std::printf(
      "%s (%s): score %d/100, held by %llu of %llu member(s) that answered (relations: %s)\n",
      rep.value("value", "").c_str(), rep.value("type", "").c_str(), rep.value("score", 0),
      static_cast<unsigned long long>(held),
      static_cast<unsigned long long>(rep.value("members_answered", uint64_t{0})),
      join(rep.value("relations", json::array())).c_str());
  const json sightings = rep.value("sightings", json::object());
  std::printf("  class %s (%s); sightings: %llu by members, %llu confirmed, %llu false positive\n",
              rep.value("class", "").c_str(), join(rep.value("classes", json::array())).c_str(),
              static_cast<unsigned long long>(sightings.value("members", uint64_t{0})),
              static_cast<unsigned long long>(sightings.value("confirmed", uint64_t{0})),
              static_cast<unsigned long long>(sightings.value("false_positive", uint64_t{0})));
  std::printf("  first seen %s, last seen %s\n",
              rep.value("first_seen", "").empty() ? "unknown" : rep.value("first_seen", "").c_str(),
              rep.value("last_seen", "").empty() ? "unknown" : rep.value("last_seen", "").c_str());
  for (const json& m : rep.value("members", json::array())) {
    std::printf("    %-14s %-10s %-32s %-10s %s\n", m.value("member", "").c_str(),
                m.value("relation", "").c_str(), m.value("matched", "").c_str(),
                m.value("class", "").c_str(), m.value("event_info", "").c_str());
  }
  const json parts = rep.value("score_parts", json::object());
  std::printf(
      "  score = 100 x consensus %.2f x recency %.2f x sightings %.2f x false-positive "
      "%.2f (half-life %lld days)\n",
      parts.value("consensus", 0.0), parts.value("recency", 0.0), parts.value("sightings", 0.0),
      parts.value("false_positive", 0.0),
      static_cast<long long>(rep.value("half_life_days", int64_t{0})));
  return held > 0 ? kExitFound : kExitNotFound;
}

int RunSearch(SearchFlags f) {
  if (f.key.empty()) {
    if (const char* env = std::getenv("IOCGRID_KEY")) f.key = env;
  }
  if (f.key.empty()) return Fail("no API key: give --key or set IOCGRID_KEY");
  while (!f.portal.empty() && f.portal.back() == '/') f.portal.pop_back();
  static const std::vector<std::string> kFormats = {"table", "json", "csv", "misp", "stix"};
  if (std::find(kFormats.begin(), kFormats.end(), f.format) == kFormats.end()) {
    return Fail("unknown --format '" + f.format + "' (table, json, csv, misp, stix)");
  }
  if (!f.explain.empty()) {
    if (!f.path.empty() || f.private_search || !f.confirm.empty()) {
      return Fail(
          "--explain VALUE asks for one value's reputation: give no FILE, --private or "
          "--confirm with it");
    }
    if (f.format != "table" && f.format != "json") return Fail("--explain prints table or json");
    return Explain(f, PortalConnection{f.portal, f.key, f.ca_file, f.insecure});
  }
  if (f.path.empty()) return Fail("give a FILE of indicators (or - for stdin), or --explain VALUE");
  if (!f.confirm.empty() && f.confirm != "true-positive" && f.confirm != "false-positive") {
    return Fail("--confirm must be true-positive or false-positive, not '" + f.confirm + "'");
  }
  if (!f.confirm_source.empty() && f.confirm.empty()) {
    return Fail("--confirm-source needs --confirm");
  }
  if (f.private_search && !f.confirm.empty()) {
    return Fail("--confirm needs a search the portal keeps; --private searches are not kept");
  }
  PortalConnection portal{f.portal, f.key, f.ca_file, f.insecure};
  if (f.private_search) return RunPrivate(f, portal);
  auto built = BuildSearchBody(f);
  if (!built.ok()) return Fail(std::string(built.status().message()));
  const json& body = *built;
  std::string id;
  auto searched = RunPortalSearch(portal, body, f.timeout_s, !f.quiet, &id);
  if (!searched.ok()) return Fail(std::string(searched.status().message()));
  json doc = std::move(*searched);
  int code = kExitNotFound;
  if (f.format == "csv" || f.format == "misp" || f.format == "stix") {
    auto r = PortalCall(portal, "GET", "/api/v1/searches/" + id + "/export?format=" + f.format);
    if (!r.ok()) return Fail(std::string(r.status().message()));
    if (r->status != 200) return Fail(PortalApiError(*r));
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    if (!r->body.empty() && r->body.back() != '\n') std::fputc('\n', stdout);
    code = doc["summary"].value("hits", 0) > 0 ? kExitFound : kExitNotFound;
  } else {
    code = PrintResults(f, doc, id);
  }
  if (f.confirm.empty()) return code;
  std::fflush(stdout);
  if (code != kExitFound) {
    if (!f.quiet) std::fprintf(stderr, "--confirm: no hit to confirm\n");
    return code;
  }
  return Confirm(f, portal, id) == kExitError ? kExitError : code;
}

// The search document on stdout (table or NDJSON), the member lines and summary on stderr.
int PrintResults(const SearchFlags& f, json& doc, const std::string& id) {
  uint64_t hits = doc["summary"].value("hits", 0);
  if (f.format == "json") {
    PrintJsonLines(doc);
  } else {
    PrintTable(doc);
    std::fflush(stdout);
    if (!f.quiet) {
      PrintMemberStatuses(doc);
      std::fprintf(stderr, "%llu hit(s) for %llu of %llu indicator(s); search %s\n",
                   static_cast<unsigned long long>(hits),
                   static_cast<unsigned long long>(doc["summary"].value("matched", 0)),
                   static_cast<unsigned long long>(doc["summary"].value("indicators", 0)),
                   id.empty() ? "private: not kept by the portal" : id.c_str());
    }
  }
  for (const auto& inv : doc["invalid"]) {
    if (!f.quiet) {
      std::fprintf(stderr, "skipped %s: %s\n", inv["value"].get<std::string>().c_str(),
                   inv["error"].get<std::string>().c_str());
    }
  }
  return hits > 0 ? kExitFound : kExitNotFound;
}

}  // namespace

Command AddSearchCommand(CLI::App& app) {
  auto flags = std::make_shared<SearchFlags>();
  CLI::App* s = app.add_subcommand("search",
                                   "Search indicators across the alliance through a portal.\n"
                                   "Exit status: 0 with hits, 1 without hits, 2 on error.");
  s->add_option("--portal", flags->portal,
                "the portal's base URL, e.g. https://portal.example:8080")
      ->required();
  s->add_option("--key", flags->key, "your portal API key (or set IOCGRID_KEY)");
  s->add_option("--format,-f", flags->format, "table, json (NDJSON), csv, misp, stix")
      ->capture_default_str();
  s->add_option("--members", flags->members, "only these members (comma-separated)")
      ->delimiter(',')
      ->allow_extra_args(false);
  s->add_option("--relations", flags->relations, "only these relations (comma-separated)")
      ->delimiter(',')
      ->allow_extra_args(false);
  s->add_option("--label", flags->label, "a label for the search history");
  s->add_option("--tlp", flags->tlp, "TLP of the query: clear, green, amber, amber+strict, red");
  s->add_option("--since", flags->since, "only member data since (YYYY-MM-DD, unix time, 365d)");
  s->add_option("--until", flags->until, "only member data until");
  s->add_flag("--from-text", flags->from_text,
              "the file is report text: extract its indicators first");
  s->add_flag("--private", flags->private_search,
              "private search: blind the queries here; the portal relays them to its private "
              "members and learns neither the values nor the hits (table or json output)");
  s->add_option("--confirm", flags->confirm,
                "after the search, send every hit back to the member holding it as a sighting: "
                "true-positive or false-positive (one line per member on stderr)");
  s->add_option("--confirm-source", flags->confirm_source,
                "the source the members are told with --confirm (default: your organisation)");
  s->add_flag("--insecure", flags->insecure, "do not verify the portal's TLS certificate");
  s->add_option("--ca-file", flags->ca_file, "CA bundle (PEM) for the portal's certificate");
  s->add_option("--timeout", flags->timeout_s, "seconds to wait for the search")
      ->capture_default_str();
  s->add_flag("--quiet,-q", flags->quiet, "no progress or summary on stderr");
  s->add_option("--explain", flags->explain,
                "instead of a search: one value's reputation across the alliance (held by k of "
                "n, relations, classes, sightings, first/last seen, score)");
  s->add_option("file", flags->path,
                "indicators: one per line, CSV with type/value columns, or - for stdin");
  Command command;
  command.subcommand = s;
  command.run = [flags] { return RunSearch(*flags); };
  return command;
}

}  // namespace iocgrid::app
