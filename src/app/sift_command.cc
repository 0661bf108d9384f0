// `iocgrid sift` (issue 9): a member's own logs against the alliance. Logs are parsed here;
// only distinct observables are matched (against local data files, or through a portal as one
// search), and each gets a class: threat, noise, anonymizer, benign or unknown.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/commands.h"
#include "app/local_data.h"
#include "app/portal_client.h"
#include "common/csv.h"
#include "common/json_writer.h"
#include "common/time.h"
#include "index/match_index.h"
#include "sift/report.h"
#include "sift/rules.h"
#include "sift/sifter.h"

namespace iocgrid::app {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // output keys in the documented order
using sift::Class;
using sift::Hit;

struct SiftFlags {
  std::vector<std::string> against;
  std::string portal;
  std::string key;
  std::string ca_file;
  bool insecure = false;
  int timeout_s = 300;
  std::string label;
  std::string log_format = "auto";
  std::string format = "table";
  std::string annotate;
  std::vector<std::string> fields;
  size_t top = 10;
  std::vector<std::string> relations;
  std::vector<std::string> json_fields;
  std::vector<std::string> kinds;  // FILE=KIND
  std::string rules_path;
  bool quiet = false;
  size_t max_issues_shown = 10;
  uint32_t threads = 2;
  std::string share;  // matched, public: report the observables to the alliance (--portal)
  std::vector<std::string> logs;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "iocgrid sift: %s\n", message.c_str());
  return kExitError;
}

std::string Iso(int64_t t) { return t == 0 ? "" : FormatIsoDateTime(t); }

// --kind FILE=KIND: FILE names a data file or a folder holding it.
struct KindOverride {
  std::string path;
  std::string kind;
};

std::string KindOfEvent(const EventInfo& e, const std::vector<KindOverride>& overrides,
                        const sift::ClassRules& rules) {
  for (const KindOverride& k : overrides) {
    if (e.source == k.path ||
        (e.source.size() > k.path.size() && e.source.compare(0, k.path.size(), k.path) == 0 &&
         (k.path.back() == '/' || e.source[k.path.size()] == '/'))) {
      return k.kind;
    }
  }
  std::string_view fallback = rules.default_list_kind;
  if (e.format == ingest::InputFormat::kWarninglist) fallback = rules.default_warninglist_kind;
  if (e.format == ingest::InputFormat::kMispEvent || e.format == ingest::InputFormat::kStix) {
    fallback = rules.default_event_kind;
  }
  return rules.KindOfList(e.source, e.name, fallback);
}

Status MatchLocally(const SiftFlags& f, const sift::ClassRules& rules,
                    const std::vector<core::Indicator>& queries,
                    const index::MatchOptions& match_options, const LocalData& data,
                    std::vector<std::vector<Hit>>* hits) {
  std::vector<KindOverride> overrides;
  for (const std::string& k : f.kinds) {
    size_t eq = k.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == k.size()) {
      return InvalidArgumentError("--kind: expected FILE=KIND, got '" + k + "'");
    }
    KindOverride o{k.substr(0, eq), k.substr(eq + 1)};
    while (o.path.size() > 1 && o.path.back() == '/') o.path.pop_back();
    IOCGRID_RETURN_IF_ERROR(rules.ClassOfKind(o.kind).status().WithContext("--kind"));
    overrides.push_back(std::move(o));
  }
  std::vector<Class> event_class(data.events.size(), Class::kUnknown);
  for (size_t e = 0; e < data.events.size(); ++e) {
    event_class[e] = *rules.ClassOfKind(KindOfEvent(data.events[e], overrides, rules));
  }
  for (const index::Hit& h : data.index->MatchAll(queries, match_options)) {
    const RecordInfo& record = data.records[h.record];
    const EventInfo& event = data.events[record.event];
    Hit hit;
    hit.source = event.source;
    hit.name = event.name;
    hit.relation = index::RelationName(h.relation);
    hit.matched = data.index->entry_value(h.entry);
    hit.cls = event_class[record.event];
    (*hits)[h.query].push_back(std::move(hit));
  }
  return Status::Ok();
}

Status MatchThroughPortal(const SiftFlags& f, const sift::ClassRules& rules,
                          const std::vector<core::Indicator>& queries,
                          std::vector<std::vector<Hit>>* hits) {
  PortalConnection portal{f.portal, f.key, f.ca_file, f.insecure};
  while (!portal.url.empty() && portal.url.back() == '/') portal.url.pop_back();
  // The members' declared kinds of data.
  std::unordered_map<std::string, Class> member_class;
  auto members = PortalCall(portal, "GET", "/api/v1/members");
  if (!members.ok()) return members.status();
  if (members->status != 200) return UnavailableError(PortalApiError(*members));
  json mdoc = json::parse(members->body, nullptr, false);
  if (!mdoc.is_array()) return UnavailableError("the portal's member list is not a JSON array");
  Class default_class = sift::MemberClass(rules, "");
  for (const json& m : mdoc) {
    if (!m.is_object()) continue;
    member_class[m.value("name", "")] = sift::MemberClass(rules, m.value("data_kind", ""));
  }

  json list = json::array();
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < queries.size(); ++i) {
    list.push_back({{"value", queries[i].value}, {"type", core::TypeName(queries[i].type)}});
    position.emplace(queries[i].value, i);
  }
  json body = {{"indicators", list}};
  std::string label = f.label;
  if (label.empty()) {
    label = "sift:";
    for (const std::string& l : f.logs) label += " " + l.substr(l.rfind('/') + 1);
    if (label.size() > 120) label = label.substr(0, 117) + "...";
  }
  body["label"] = label;
  if (!f.relations.empty()) body["relations"] = f.relations;
  std::string id;
  IOCGRID_ASSIGN_OR_RETURN(json doc, RunPortalSearch(portal, body, f.timeout_s, !f.quiet, &id));
  if (!f.quiet) {
    PrintMemberStatuses(doc);
    std::fprintf(stderr, "search %s (%s)\n", id.c_str(), label.c_str());
  }
  for (const json& ind : doc["indicators"]) {
    auto it = position.find(ind.value("value", ""));
    if (it == position.end()) continue;
    std::vector<Hit>& out = (*hits)[it->second];
    for (const json& h : ind["hits"]) {
      Hit hit;
      hit.member = h.value("member", "");
      hit.relation = h.value("relation", "");
      hit.matched = h.value("matched", "");
      hit.name = h.value("event_info", "");
      auto mc = member_class.find(hit.member);
      hit.cls = mc == member_class.end() ? default_class : mc->second;
      out.push_back(std::move(hit));
    }
    if (ind["hits"].empty() && ind.value("held_by", 0) > 0) {
      // Members that disclose only counts: held by someone, kind unknown.
      out.push_back(sift::UndisclosedHit(ind.value("held_by", 0), rules));
    }
  }
  return Status::Ok();
}

// One NDJSON observable line, written directly (a DOM per observable cost a fifth of a large
// sift's time).
void WriteObservableLine(const sift::Observable& o, Class cls, const std::vector<Hit>& hits,
                         std::string* out) {
  out->clear();
  JsonWriter w(out);
  w.BeginObject();
  w.Field("kind", "observable");
  w.Field("value", o.value);
  w.Field("type", core::TypeName(o.type));
  w.Field("field", sift::FieldName(o.field));
  w.FieldInt("lines", static_cast<int64_t>(o.lines));
  w.Field("first_seen", Iso(o.first_seen));
  w.Field("last_seen", Iso(o.last_seen));
  w.FieldInt("alerts", static_cast<int64_t>(o.alerts));
  w.Field("class", sift::ClassName(cls));
  w.Key("hits");
  w.BeginArray();
  for (const Hit& h : hits) {
    w.BeginObject();
    if (!h.member.empty()) {
      w.Field("member", h.member);
    } else {
      w.Field("source", h.source);
    }
    w.Field("relation", h.relation);
    w.Field("matched", h.matched);
    w.Field("name", h.name);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  *out += '\n';
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// `--against` takes every path that follows it, so `sift --against DATA a.log b.log` would load
// a.log as data (a web log's lines start with an address, which a plain list accepts) and sift
// only b.log. An --against file whose first line is an Apache/nginx log line is refused instead.
Status CheckAgainstIsNoLog(const std::vector<std::string>& against) {
  IOCGRID_ASSIGN_OR_RETURN(std::vector<std::string> files, ingest::ExpandPaths(against));
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string head(64 * 1024, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    std::string_view line = head;
    while (!line.empty() && (line.front() == '\n' || line.front() == '#')) {
      const size_t nl = line.find('\n');
      line = nl == std::string_view::npos ? std::string_view() : line.substr(nl + 1);
    }
    line = line.substr(0, line.find('\n'));
    const sift::LogFormat format = sift::DetectLogFormat(line);
    if (format == sift::LogFormat::kCombined || format == sift::LogFormat::kCommon) {
      return InvalidArgumentError(
          "--against " + path + " looks like a web server log (" +
          std::string(sift::LogFormatName(format)) +
          "), not data: --against takes every path after it, so put -- before the logs "
          "(iocgrid sift --against DATA... -- LOG...)");
    }
  }
  return Status::Ok();
}

// The flags that shape sifting and matching, checked. Errors: kInvalidArgument naming the
// flag or the rules file.
struct SiftSetup {
  sift::SiftOptions options;
  index::MatchOptions match;
  sift::ClassRules rules = sift::DefaultRules();
};

Result<SiftSetup> ReadSetup(const SiftFlags& f) {
  SiftSetup setup;
  if (!sift::ParseLogFormat(f.log_format, &setup.options.format)) {
    return InvalidArgumentError("unknown --log-format '" + f.log_format +
                                "' (auto, combined, common, json, eve, modsec, zeek, csv)");
  }
  if (!f.fields.empty()) {
    setup.options.fields = 0;
    for (const std::string& name : f.fields) {
      sift::Field field;
      if (!sift::ParseField(name, &field)) {
        return InvalidArgumentError("unknown field '" + name +
                                    "' (client, server, host, url, dns, sni, hash)");
      }
      setup.options.fields |= sift::FieldBit(field);
    }
  }
  for (const std::string& spec : f.json_fields) {
    IOCGRID_RETURN_IF_ERROR(setup.options.parser.json_fields.Override(spec));
  }
  if (!f.relations.empty()) {
    setup.match.relations = 0;
    for (const std::string& name : f.relations) {
      IOCGRID_RETURN_IF_ERROR(index::AddRelation(name, &setup.match.relations));
    }
  }
  if (!f.rules_path.empty()) {
    std::ifstream in(f.rules_path, std::ios::binary);
    if (!in) return InvalidArgumentError("cannot read rules file " + f.rules_path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = sift::ParseRules(ss.str());
    if (!parsed.ok()) return parsed.status().WithContext(f.rules_path);
    setup.rules = std::move(*parsed);
  }
  setup.options.annotate = !f.annotate.empty();
  if (f.threads == 1) setup.options.split_min_bytes = 0;
  return setup;
}

// What every output format prints: the observables in report order, with classes and hits.
struct SiftReport {
  const std::vector<sift::Observable>& obs;
  const std::vector<std::vector<Hit>>& hits;
  const sift::Tally& tally;
  const sift::SiftCounts& counts;
  std::vector<uint32_t> order;
  int64_t elapsed_ms = 0;
};

// Reports of at least this many observables are formatted by two threads.
constexpr size_t kParallelReportLines = 16384;

// --format json / ndjson: a line per observable, then the summary line.
void PrintJsonLines(const SiftReport& r) {
  // A large report's second half is formatted by a second thread while the first is written:
  // formatting 10^5 observables on one core took about a tenth of a 2·10^6-line sift.
  const std::span<const uint32_t> order(r.order);
  const size_t half = order.size() >= kParallelReportLines ? order.size() / 2 : order.size();
  std::string second;
  std::jthread formatter;
  if (half < order.size()) {
    formatter = std::jthread([&] {
      std::string line;
      for (uint32_t i : order.subspan(half)) {
        WriteObservableLine(r.obs[i], r.tally.classes[i], r.hits[i], &line);
        second += line;
      }
    });
  }
  std::string line;
  for (uint32_t i : order.first(half)) {
    WriteObservableLine(r.obs[i], r.tally.classes[i], r.hits[i], &line);
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (formatter.joinable()) formatter.join();
  std::fwrite(second.data(), 1, second.size(), stdout);
  const sift::SiftCounts& counts = r.counts;
  ojson summary = {{"kind", "summary"},           {"lines", counts.lines},
                   {"parsed", counts.parsed},     {"malformed", counts.malformed},
                   {"cut", counts.cut},           {"internal", counts.internal},
                   {"observables", r.obs.size()}, {"alerts", counts.alerts}};
  ojson jc = ojson::object();
  for (Class c : sift::kAllClasses) {
    const sift::ClassStats& s = r.tally.by_class[static_cast<size_t>(c)];
    jc[std::string(sift::ClassName(c))] = {{"observables", s.observables}, {"lines", s.lines}};
  }
  summary["by_class"] = jc;
  const sift::AlertCells& cells = r.tally.cells;
  summary["alert_cells"] = {
      {"alerted_threat", cells.alerted_threat},
      {"alerted_noise", cells.alerted_noise},
      {"alerted_unknown", cells.alerted_unknown},
      {"not_alerted_threat_or_anonymizer", cells.not_alerted_threat_or_anonymizer}};
  summary["elapsed_ms"] = r.elapsed_ms;
  std::printf("%s\n", summary.dump().c_str());
}

// --format csv: a row per observable.
void PrintCsv(const SiftReport& r) {
  std::printf("value,type,field,lines,first_seen,last_seen,alerts,class,hits\n");
  for (uint32_t i : r.order) {
    const sift::Observable& o = r.obs[i];
    std::string h;
    for (const Hit& hit : r.hits[i]) {
      if (!h.empty()) h += ';';
      h += (hit.member.empty() ? hit.source : hit.member) + " " + hit.relation + " " + hit.matched;
    }
    std::printf("%s,%s,%s,%llu,%s,%s,%llu,%s,%s\n", CsvField(o.value).c_str(),
                std::string(core::TypeName(o.type)).c_str(),
                std::string(sift::FieldName(o.field)).c_str(),
                static_cast<unsigned long long>(o.lines), Iso(o.first_seen).c_str(),
                Iso(o.last_seen).c_str(), static_cast<unsigned long long>(o.alerts),
                std::string(sift::ClassName(r.tally.classes[i])).c_str(), CsvField(h).c_str());
  }
}

// --format table: counts, the class table, the alert cells, then the top `top` of each class.
void PrintTable(const SiftReport& r, size_t top) {
  const sift::SiftCounts& counts = r.counts;
  std::printf(
      "%s lines (%s parsed, %s malformed, %s cut), %s internal address(es) not sent, "
      "%s distinct observable(s), %s alert(s), %lld ms\n\n",
      fmt::format("{:L}", counts.lines).c_str(), fmt::format("{:L}", counts.parsed).c_str(),
      fmt::format("{:L}", counts.malformed).c_str(), fmt::format("{:L}", counts.cut).c_str(),
      fmt::format("{:L}", counts.internal).c_str(), fmt::format("{:L}", r.obs.size()).c_str(),
      fmt::format("{:L}", counts.alerts).c_str(), static_cast<long long>(r.elapsed_ms));
  std::printf("%-11s %12s %8s %9s %8s %12s\n", "class", "observables", "clients", "clients%",
              "lines", "lines%");
  for (Class c : sift::kAllClasses) {
    const sift::ClassStats& s = r.tally.by_class[static_cast<size_t>(c)];
    std::printf("%-11s %12llu %8llu %9s %8llu %12s\n", std::string(sift::ClassName(c)).c_str(),
                static_cast<unsigned long long>(s.observables),
                static_cast<unsigned long long>(s.clients),
                Percent(s.clients, r.tally.clients).c_str(),
                static_cast<unsigned long long>(s.lines), Percent(s.lines, counts.lines).c_str());
  }
  const sift::AlertCells& cells = r.tally.cells;
  std::printf(
      "\nalerts x classes (clients)%s\n",
      counts.alerts == 0 ? "  [no alert source among the logs: EVE, ModSecurity, WAF CSV]" : "");
  std::printf("  alerted & known threat          %8llu\n",
              static_cast<unsigned long long>(cells.alerted_threat));
  std::printf("  alerted & noise (untargeted)    %8llu\n",
              static_cast<unsigned long long>(cells.alerted_noise));
  std::printf("  alerted & unknown (a look?)     %8llu\n",
              static_cast<unsigned long long>(cells.alerted_unknown));
  std::printf("  NOT alerted & threat/anonymizer %8llu   (what the WAF let through)\n",
              static_cast<unsigned long long>(cells.not_alerted_threat_or_anonymizer));
  const std::vector<Class>& cls = r.tally.classes;
  Class current = Class::kUnknown;
  size_t shown = 0;
  bool first = true;
  for (uint32_t i : r.order) {
    if (first || cls[i] != current) {
      current = cls[i];
      shown = 0;
      first = false;
      std::printf("\ntop %s\n", std::string(sift::ClassName(current)).c_str());
    }
    if (shown++ >= top) continue;
    const sift::Observable& o = r.obs[i];
    std::string via;
    for (const Hit& h : r.hits[i]) {
      std::string who = h.member.empty() ? h.name : h.member;
      if (who.empty()) who = h.source;
      if (via.find(who) == std::string::npos) via += (via.empty() ? "" : "; ") + who;
    }
    if (via.size() > 60) via = via.substr(0, 57) + "...";
    std::printf("  %-40s %-8s %7llu lines %5llu alerts  %s .. %s  %s\n", o.value.c_str(),
                std::string(sift::FieldName(o.field)).c_str(),
                static_cast<unsigned long long>(o.lines), static_cast<unsigned long long>(o.alerts),
                Iso(o.first_seen).c_str(), Iso(o.last_seen).c_str(), via.c_str());
  }
}

// --annotate: one JSON line per log line, naming the classes of the observables it held.
// Errors: the spool's (kDataLoss), kDataLoss on a write error.
Status WriteAnnotations(const sift::Sifter& sifter, const std::vector<Class>& cls, std::FILE* out) {
  const auto& files = sifter.files();
  Status s = sifter.ForEachLine([&](size_t file, uint64_t line, std::span<const uint32_t> ids) {
    std::array<bool, sift::kClassCount> seen{};
    for (uint32_t id : ids) seen[static_cast<size_t>(cls[id])] = true;
    std::string classes;
    for (size_t c = 0; c < seen.size(); ++c) {
      if (!seen[c]) continue;
      if (!classes.empty()) classes += ',';
      classes += fmt::format("\"{}\"", sift::ClassName(static_cast<Class>(c)));
    }
    std::fprintf(out, "{\"file\":%s,\"line\":%llu,\"classes\":[%s]}\n",
                 json(files[file].path).dump().c_str(), static_cast<unsigned long long>(line),
                 classes.c_str());
  });
  if (s.ok() && std::fflush(out) != 0) s = DataLossError("write error");
  return s;
}

// Sifts every log in turn, with a progress line on stderr when `show_progress`. Errors: the
// first log's that fails (the message names it).
Status ReadLogs(const std::vector<std::string>& logs, bool show_progress, sift::Sifter* sifter) {
  Progress progress(show_progress);
  for (const std::string& log : logs) {
    Status s = sifter->AddFile(log, [&](uint64_t bytes, uint64_t lines) {
      progress.Show(fmt::format("sifting {}: {:L} MB, {:L} lines, {:L} observables...", log,
                                bytes >> 20, lines, sifter->observable_count()));
    });
    if (!s.ok()) {
      progress.Done();
      return s;
    }
  }
  progress.Done();
  return Status();
}

// The one-line count summary on stderr that machine formats (json, csv) add for a person.
void PrintCountsLine(const SiftReport& r) {
  const auto& by_class = r.tally.by_class;
  std::fprintf(stderr,
               "%llu line(s), %llu malformed, %zu observable(s): %llu threat, %llu noise, "
               "%llu anonymizer, %llu benign, %llu unknown\n",
               static_cast<unsigned long long>(r.counts.lines),
               static_cast<unsigned long long>(r.counts.malformed), r.obs.size(),
               static_cast<unsigned long long>(by_class[0].observables),
               static_cast<unsigned long long>(by_class[1].observables),
               static_cast<unsigned long long>(by_class[2].observables),
               static_cast<unsigned long long>(by_class[3].observables),
               static_cast<unsigned long long>(by_class[4].observables));
}

// The report on stdout in the chosen --format.
void PrintReport(const SiftReport& report, const std::string& format, size_t top) {
  if (format == "json" || format == "ndjson") {
    PrintJsonLines(report);
  } else if (format == "csv") {
    PrintCsv(report);
  } else {
    PrintTable(report, top);
  }
  std::fflush(stdout);
}

// --share: the observables (those some member holds, or every one for "public") sent to the
// portal as this organisation's sightings, in parts of at most kSharePart (issue 12).
constexpr size_t kSharePart = 10000;

Status ShareWithAlliance(const SiftFlags& f, const std::vector<sift::Observable>& obs,
                         const std::vector<std::vector<Hit>>& hits) {
  PortalConnection portal{f.portal, f.key, f.ca_file, f.insecure};
  while (!portal.url.empty() && portal.url.back() == '/') portal.url.pop_back();
  const bool everything = f.share == "public";
  size_t sent = 0, batches = 0;
  std::string part;
  size_t in_part = 0;
  auto flush = [&]() -> Status {
    if (in_part == 0) return Status::Ok();
    auto r = PortalCall(portal, "POST", "/api/v1/sightings?share=" + f.share, part,
                        "application/x-ndjson");
    if (!r.ok()) return r.status();
    if (r->status != 202 && r->status != 200) {
      return UnavailableError("sharing sightings: " + PortalApiError(*r));
    }
    sent += in_part;
    ++batches;
    part.clear();
    in_part = 0;
    return Status::Ok();
  };
  for (size_t i = 0; i < obs.size(); ++i) {
    if (!everything && hits[i].empty()) continue;
    const sift::Observable& o = obs[i];
    json line = {{"value", o.value},
                 {"type", core::TypeName(o.type)},
                 {"count", std::max<uint64_t>(o.lines, 1)},
                 {"alerted", std::min(o.alerts, std::max<uint64_t>(o.lines, 1))}};
    if (o.first_seen != 0) line["first_seen"] = o.first_seen;
    if (o.last_seen != 0) line["last_seen"] = o.last_seen;
    part += line.dump() + "\n";
    if (++in_part == kSharePart) IOCGRID_RETURN_IF_ERROR(flush());
  }
  IOCGRID_RETURN_IF_ERROR(flush());
  if (!f.quiet) {
    std::fprintf(stderr,
                 "shared %zu observable(s) with the alliance as sightings (%zu batch(es), "
                 "share=%s)\n",
                 sent, batches, f.share.c_str());
  }
  return Status::Ok();
}

// The flags that need each other: one source of matches, a key for the portal, a format.
Status CheckSiftFlags(SiftFlags* f) {
  if (f->against.empty() == f->portal.empty()) {
    return InvalidArgumentError("give either --against DATA... or --portal URL (with --key)");
  }
  IOCGRID_RETURN_IF_ERROR(CheckAgainstIsNoLog(f->against));
  if (!f->portal.empty() && f->key.empty()) {
    if (const char* env = std::getenv("IOCGRID_KEY")) f->key = env;
    if (f->key.empty()) return InvalidArgumentError("no API key: give --key or set IOCGRID_KEY");
  }
  if (!f->share.empty() && f->portal.empty()) {
    return InvalidArgumentError("--share reports to the alliance: give --portal URL (with --key)");
  }
  if (!f->share.empty() && f->share != "matched" && f->share != "public") {
    return InvalidArgumentError("unknown --share '" + f->share + "' (matched, public)");
  }
  if (f->format != "table" && f->format != "json" && f->format != "ndjson" && f->format != "csv") {
    return InvalidArgumentError("unknown --format '" + f->format + "' (table, json, csv)");
  }
  return Status::Ok();
}

int RunSift(SiftFlags f) {
  auto started = std::chrono::steady_clock::now();
  if (Status s = CheckSiftFlags(&f); !s.ok()) return Fail(std::string(s.message()));
  auto setup = ReadSetup(f);
  if (!setup.ok()) return Fail(std::string(setup.status().message()));
  std::FILE* annotate = nullptr;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> annotate_owner(nullptr, &std::fclose);
  if (!f.annotate.empty()) {
    annotate = f.annotate == "-" ? stdout : std::fopen(f.annotate.c_str(), "wb");
    if (annotate == nullptr) return Fail("cannot write " + f.annotate);
    if (annotate != stdout) annotate_owner.reset(annotate);
  }

  // The data files load on a thread of their own while the logs are read; their issues are
  // reported after the logs' malformed lines, as when they loaded afterwards.
  IssueReporter load_issues = IssueReporter::Holding(f.max_issues_shown);
  std::optional<Result<LocalData>> loaded;
  std::jthread loader;
  if (f.portal.empty()) {
    loader = std::jthread([&] {
      Progress silent(false);
      loaded.emplace(LoadLocalData(f.against, ingest::LoadOptions{}, false, &load_issues, &silent));
    });
  }

  // 1. Read the logs: distinct observables only.
  sift::Sifter sifter(setup->options);
  if (Status s = ReadLogs(f.logs, !f.quiet, &sifter); !s.ok())
    return Fail(std::string(s.message()));
  IssueReporter issues(f.max_issues_shown, f.quiet);
  for (const sift::MalformedLine& m : sifter.malformed_examples()) {
    issues.Report(m.path, m.line, m.reason);
  }
  const auto& obs = sifter.observables();
  const sift::SiftCounts& counts = sifter.counts();

  // 2. Match each distinct observable once.
  std::vector<core::Indicator> queries;
  queries.reserve(obs.size());
  for (const sift::Observable& o : obs) queries.push_back(core::Indicator{o.type, o.value});
  std::vector<std::vector<Hit>> hits(obs.size());
  if (f.portal.empty()) {
    loader.join();
    load_issues.ReplayInto(&issues);
    if (!loaded->ok()) return Fail(std::string(loaded->status().message()));
  }
  if (!queries.empty()) {
    Status s = f.portal.empty()
                   ? MatchLocally(f, setup->rules, queries, setup->match, loaded->value(), &hits)
                   : MatchThroughPortal(f, setup->rules, queries, &hits);
    if (!s.ok()) return Fail(std::string(s.message()));
  }

  // 3. Classes, per-class lines, alert cells.
  sift::Tally tally = sift::Classify(setup->rules, obs, hits);
  Status grouped = sifter.ForEachLineGroup(
      [&](std::span<const uint32_t> ids, uint64_t n) { sift::CountLines(ids, n, &tally); });
  if (!grouped.ok()) return Fail(std::string(grouped.message()));
  const int64_t elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count();

  // 4. Output. Observables by class, then most lines first.
  const SiftReport report{obs,       hits, tally, counts, sift::ReportOrder(obs, tally.classes),
                          elapsed_ms};
  PrintReport(report, f.format, f.top);
  if (annotate != nullptr) {
    Status s = WriteAnnotations(sifter, tally.classes, annotate);
    if (!s.ok()) return Fail(f.annotate + ": " + std::string(s.message()));
  }
  if (!f.quiet && f.format != "table") PrintCountsLine(report);
  if (!f.share.empty() && !obs.empty()) {
    if (Status s = ShareWithAlliance(f, obs, hits); !s.ok()) return Fail(std::string(s.message()));
  }
  if (!f.quiet && issues.hidden() > 0) {
    std::fprintf(stderr, "%llu malformed line(s) in all (%zu not shown)\n",
                 static_cast<unsigned long long>(counts.malformed), issues.hidden());
  }
  bool matched = std::any_of(hits.begin(), hits.end(), [](const auto& h) { return !h.empty(); });
  return matched ? kExitFound : kExitNotFound;
}

}  // namespace

Command AddSiftCommand(CLI::App& app) {
  auto flags = std::make_shared<SiftFlags>();
  CLI::App* s = app.add_subcommand(
      "sift",
      "Sift logs (web access, WAF/IDS, Zeek, firewall CSV) against the alliance: parse them here, "
      "match each distinct observable once, and sort the traffic into threat, noise, anonymizer, "
      "benign and unknown. Log lines never leave this machine.\n"
      "Exit status: 0 when something matched, 1 when nothing did, 2 on error.");
  s->add_option("--against,-a", flags->against, "data files or folders to match against")
      ->expected(1, -1);
  s->add_option("--portal", flags->portal, "or: the portal to search through (one search)");
  s->add_option("--key", flags->key, "portal API key (or set IOCGRID_KEY)");
  s->add_option("--ca-file", flags->ca_file, "CA bundle (PEM) for the portal's certificate");
  s->add_flag("--insecure", flags->insecure, "do not verify the portal's TLS certificate");
  s->add_option("--timeout", flags->timeout_s, "seconds to wait for the portal search")
      ->capture_default_str();
  s->add_option("--label", flags->label, "label of the portal search (default: sift: LOG...)");
  s->add_option("--share", flags->share,
                "with --portal: report the observables as your organisation's sightings, "
                "'matched' (only those some member holds) or 'public' (every public one, for "
                "scanner detection); trends show them without naming you");
  s->add_option("--log-format", flags->log_format,
                "auto, combined, common, json, eve, modsec, zeek, csv")
      ->capture_default_str();
  s->add_option("--format,-f", flags->format, "table, json (NDJSON), csv")->capture_default_str();
  s->add_option("--annotate", flags->annotate,
                "write every input line's number with its classes (NDJSON) to this file");
  s->add_option("--fields", flags->fields,
                "only these fields: client, server, host, url, dns, sni, hash")
      ->delimiter(',')
      ->allow_extra_args(false);
  s->add_option("--top", flags->top, "observables shown per class in the table")
      ->capture_default_str();
  s->add_option("--relations", flags->relations,
                "only these relations: exact, component, url-host, subdomain, in-range")
      ->delimiter(',')
      ->allow_extra_args(false);
  s->add_option("--json-field", flags->json_fields,
                "JSON access log field names, e.g. client=remote_addr,host=vhost,time=ts");
  s->add_option("--kind", flags->kinds,
                "kind of an --against file or folder: FILE=KIND (honeypot, scanner, tor, vpn, "
                "proxy, cloud, anonymizer, threat, ioc, benign, warninglist)");
  s->add_option("--rules", flags->rules_path,
                "class rules (TOML) over the defaults (docs/sift.md)");
  s->add_flag("--quiet,-q", flags->quiet, "no progress, warnings or summary on stderr");
  s->add_option("--max-warnings", flags->max_issues_shown,
                "print at most N malformed-line warnings")
      ->capture_default_str();
  s->add_option("--threads", flags->threads,
                "1 or 2: a plain log of 32 MB or more in a line-by-line format (combined, common, "
                "json, eve) is read by two threads (the report is the same)")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  s->add_option("logs", flags->logs, "log files (plain or gzip); - reads standard input")
      ->required()
      ->expected(1, -1);
  Command command;
  command.subcommand = s;
  command.run = [flags] { return RunSift(*flags); };
  return command;
}

}  // namespace iocgrid::app
