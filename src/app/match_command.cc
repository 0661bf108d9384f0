// `iocgrid match`: match an analyst's indicator list against member-style data files on disk,
// with the full match semantics of the index (exact, in-range, subdomain, url-host, component).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/local_data.h"
#include "app/output.h"
#include "extract/extractor.h"
#include "index/match_index.h"
#include "ingest/loader.h"
#include "ingest/query_reader.h"

namespace iocgrid::app {
namespace {

struct MatchFlags {
  std::vector<std::string> against;
  std::string query_path;
  std::string format = "table";
  std::string input_format = "auto";
  std::vector<std::string> relations;
  uint32_t max_hits_per_query = 0;
  bool strict = false;
  bool from_text = false;
  bool quiet = false;
  size_t max_issues_shown = 20;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "iocgrid match: %s\n", message.c_str());
  return kExitError;
}

int RunMatch(const MatchFlags& flags) {
  ingest::LoadOptions load_options;
  if (!ingest::ParseInputFormat(flags.input_format, &load_options.format)) {
    return Fail("unknown --input-format '" + flags.input_format +
                "' (auto, warninglist, misp, csv, plain, ipsum, stix)");
  }
  OutputFormat format;
  if (!ParseOutputFormat(flags.format, &format)) {
    return Fail("unknown --format '" + flags.format + "' (table, json, csv)");
  }
  index::MatchOptions match_options;
  if (!flags.relations.empty()) {
    match_options.relations = 0;
    for (const std::string& name : flags.relations) {
      index::Relation r;
      if (!index::ParseRelation(name, &r)) {
        return Fail("unknown relation '" + name +
                    "' (exact, component, url-host, subdomain, in-range)");
      }
      match_options.relations |= index::RelationBit(r);
    }
  }
  match_options.max_hits_per_query = flags.max_hits_per_query;

  // Queries first: a typo in the query path should fail before a long load.
  std::vector<core::Indicator> queries;
  std::vector<std::string> query_raw;
  std::vector<uint32_t> query_line;
  IssueReporter issues(flags.max_issues_shown, flags.quiet);
  if (flags.from_text) {
    auto text = extract::LoadDocument(flags.query_path);
    if (!text.ok()) return Fail(std::string(text.status().message()));
    auto extractor = extract::Extractor::Create(extract::ExtractOptions{});
    if (!extractor.ok()) return Fail(std::string(extractor.status().message()));
    for (auto& found : (*extractor)->Extract(*text)) {
      if (!found.benign_reason.empty()) continue;
      query_raw.push_back(found.indicator.value);
      query_line.push_back(found.line);
      queries.push_back(std::move(found.indicator));
    }
  } else {
    auto query_file = ingest::ReadQueryFile(flags.query_path);
    if (!query_file.ok()) return Fail(std::string(query_file.status().message()));
    for (const auto& issue : query_file->issues) issues.Report(issue);
    for (auto& item : query_file->items) {
      query_raw.push_back(std::move(item.raw));
      query_line.push_back(item.line);
      queries.push_back(std::move(item.indicator));
    }
  }
  size_t query_issues = issues.count();
  if (flags.strict && query_issues > 0) {
    return Fail(fmt::format("{} malformed query line(s) (--strict)", query_issues));
  }

  // Load every data file into one index; record ids point into `data->records`.
  Progress progress(!flags.quiet);
  auto data = LoadLocalData(flags.against, load_options, flags.strict, &issues, &progress);
  if (!data.ok()) return Fail(std::string(data.status().message()));
  const std::vector<RecordInfo>& records = data->records;
  const std::vector<EventInfo>& events = data->events;
  const index::MatchIndex* idx = data->index.get();

  std::vector<index::Hit> hits = idx->MatchAll(queries, match_options);

  HitWriter writer(format, stdout);
  for (const index::Hit& hit : hits) {
    const RecordInfo& record = records[hit.record];
    const EventInfo& event = events[record.event];
    HitRow row;
    row.query = query_raw[hit.query];
    row.query_type = core::TypeName(queries[hit.query].type);
    row.query_normalized = queries[hit.query].value;
    row.query_line = query_line[hit.query];
    row.relation = index::RelationName(hit.relation);
    row.matched = idx->entry_value(hit.entry);
    row.matched_type = core::TypeName(idx->entry_type(hit.entry));
    row.source = event.source;
    row.source_name = event.name;
    row.line = record.line;
    row.comment = record.comment;
    writer.Write(row);
  }
  writer.Finish();

  std::fflush(stdout);  // results before the summary, also on a shared terminal
  if (!flags.quiet) {
    size_t queries_hit = 0;
    std::vector<bool> seen(queries.size(), false);
    for (const index::Hit& hit : hits) {
      if (!seen[hit.query]) {
        seen[hit.query] = true;
        ++queries_hit;
      }
    }
    std::string summary =
        fmt::format("{} hit(s) for {} of {} indicator(s) against {} indicator(s) from {} file(s)",
                    hits.size(), queries_hit, queries.size(), records.size(), data->files.size());
    if (issues.count() > 0) {
      summary += fmt::format("; {} malformed line(s) skipped", issues.count());
      if (issues.hidden() > 0) summary += fmt::format(" ({} not shown)", issues.hidden());
    }
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  return hits.empty() ? kExitNotFound : kExitFound;
}

}  // namespace

Command AddMatchCommand(CLI::App& app) {
  auto flags = std::make_shared<MatchFlags>();
  CLI::App* sub = app.add_subcommand(
      "match",
      "Match indicators against member-style data files (MISP warninglists, MISP events, CSV, "
      "plain lists, IPsum) and print every hit with its relation.\n"
      "Exit status: 0 with hits, 1 without hits, 2 on error.");
  sub->add_option("--against,-a", flags->against,
                  "data files or folders to match against (a folder means every file in it)")
      ->required()
      ->expected(1, -1);
  sub->add_option("query", flags->query_path,
                  "query file: one indicator per line (defanged values refanged, types guessed) "
                  "or CSV with type/value columns; - reads standard input")
      ->required();
  sub->add_option("--format,-f", flags->format, "output: table, json (NDJSON), csv")
      ->capture_default_str();
  sub->add_option("--input-format", flags->input_format,
                  "format of the data files: auto, warninglist, misp, csv, plain, ipsum, stix")
      ->capture_default_str();
  sub->add_option("--relations", flags->relations,
                  "only these relations: exact, component, url-host, subdomain, in-range")
      ->delimiter(',')
      ->allow_extra_args(false);
  sub->add_option("--max-hits-per-query", flags->max_hits_per_query,
                  "report at most N hits per query indicator (0 = all)")
      ->capture_default_str();
  sub->add_flag("--strict", flags->strict, "treat a malformed input line as an error (exit 2)");
  sub->add_flag("--from-text", flags->from_text,
                "the query file is report text (txt, md, html, pdf): extract its indicators first");
  sub->add_flag("--quiet,-q", flags->quiet, "no summary, progress or per-line warnings on stderr");
  sub->add_option("--max-warnings", flags->max_issues_shown,
                  "print at most N malformed-line warnings (a count follows)")
      ->capture_default_str();
  Command command;
  command.subcommand = sub;
  command.run = [flags] { return RunMatch(*flags); };
  return command;
}

}  // namespace iocgrid::app
