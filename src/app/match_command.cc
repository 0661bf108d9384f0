// `iocgrid match`: match an analyst's indicator list against member-style data files on disk,
// with the full match semantics of the index (exact, in-range, subdomain, url-host, component).
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
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
  uint32_t threads = 2;
};

// Queries are matched in batches (MatchAll prefetches across a batch), their hits written, and
// the batch dropped: a million-line query file costs no more memory than its text.
class QueryBatches {
 public:
  QueryBatches(const LocalData& data, const index::MatchOptions& options, HitWriter* writer)
      : data_(data), options_(options), writer_(writer) {
    batch_.reserve(kBatch);
  }

  void Add(std::string_view raw, const core::Indicator& indicator, uint32_t line) {
    batch_.push_back(indicator);
    raw_.push_back(raw == indicator.value ? std::string() : std::string(raw));
    line_.push_back(line);
    if (batch_.size() == kBatch) Flush();
  }

  void Flush() {
    if (batch_.empty()) return;
    const index::MatchIndex& idx = *data_.index;
    std::vector<bool> hit(batch_.size(), false);
    for (const index::Hit& h : idx.MatchAll(batch_, options_)) {
      const core::Indicator& query = batch_[h.query];
      const RecordInfo& record = data_.records[h.record];
      const EventInfo& event = data_.events[record.event];
      HitRow row;
      row.query = raw_[h.query].empty() ? query.value : raw_[h.query];
      row.query_type = core::TypeName(query.type);
      row.query_normalized = query.value;
      row.query_line = line_[h.query];
      row.relation = index::RelationName(h.relation);
      row.matched = idx.entry_value(h.entry);
      row.matched_type = core::TypeName(idx.entry_type(h.entry));
      row.source = event.source;
      row.source_name = event.name;
      row.line = record.line;
      row.comment = record.comment;
      writer_->Write(row);
      ++hits_;
      if (!hit[h.query]) ++queries_hit_;
      hit[h.query] = true;
    }
    queries_ += batch_.size();
    batch_.clear();
    raw_.clear();
    line_.clear();
  }

  // Counts what `other` (another part of the same query file) matched.
  void Absorb(const QueryBatches& other) {
    queries_ += other.queries_;
    queries_hit_ += other.queries_hit_;
    hits_ += other.hits_;
  }

  size_t queries() const { return queries_; }
  size_t queries_hit() const { return queries_hit_; }
  size_t hits() const { return hits_; }

 private:
  static constexpr size_t kBatch = 4096;
  const LocalData& data_;
  const index::MatchOptions& options_;
  HitWriter* writer_;
  std::vector<core::Indicator> batch_;
  std::vector<std::string> raw_;  // empty where the value was written normalized
  std::vector<uint32_t> line_;
  size_t queries_ = 0;
  size_t queries_hit_ = 0;
  size_t hits_ = 0;
};

// A plain query list of at least this many bytes is matched by two threads.
constexpr size_t kSplitQueryBytes = size_t{4} << 20;

// Matches a query text, a large plain list by two threads: the second half (from the first line
// break past the middle) on a thread with its own batches, its hits written to a temporary file
// (kept in memory for the table, which sorts them anyway) and appended after the first half's;
// its malformed lines reported after the first half's. The output is the one pass's.
Status MatchInTwoHalves(const std::string& path, std::string_view text, uint32_t threads,
                        const LocalData& data, const index::MatchOptions& options,
                        OutputFormat format, HitWriter* writer, QueryBatches* batches,
                        const ingest::IssueSink& report) {
  auto add = [](QueryBatches* b) {
    return [b](const ingest::QueryView& q) { b->Add(q.raw, q.indicator, q.line); };
  };
  const size_t break_at =
      threads > 1 && text.size() >= kSplitQueryBytes && !ingest::IsCsvQueryText(text)
          ? text.find('\n', text.size() / 2)
          : std::string_view::npos;
  if (break_at == std::string_view::npos || break_at + 1 >= text.size()) {
    ingest::ForEachQuery(path, text, add(batches), report);
    return Status::Ok();
  }
  const std::string_view head = text.substr(0, break_at + 1);
  const std::string_view tail = text.substr(break_at + 1);
  const auto tail_first_line =
      static_cast<uint32_t>(std::count(head.begin(), head.end(), '\n') + 1);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> spill(
      format == OutputFormat::kTable ? nullptr : std::tmpfile(), &std::fclose);
  if (format != OutputFormat::kTable && spill == nullptr) {
    return UnavailableError(std::string("cannot create a temporary file: ") + std::strerror(errno));
  }
  HitWriter tail_writer(format, spill.get(), /*header=*/false);
  QueryBatches tail_batches(data, options, &tail_writer);
  std::vector<ingest::LoadIssue> tail_issues;
  std::thread worker([&] {
    ingest::ForEachPlainQuery(
        path, tail, tail_first_line, add(&tail_batches),
        [&](const ingest::LoadIssue& issue) { tail_issues.push_back(issue); });
    tail_batches.Flush();
  });
  ingest::ForEachPlainQuery(path, head, 1, add(batches), report);
  batches->Flush();
  worker.join();
  for (const ingest::LoadIssue& issue : tail_issues) report(issue);
  batches->Absorb(tail_batches);
  if (format == OutputFormat::kTable) {
    writer->AppendTableRows(std::move(tail_writer));
    return Status::Ok();
  }
  if (tail_batches.hits() > 0) writer->WriteHeader();
  std::fflush(stdout);
  if (std::fflush(spill.get()) != 0 || std::fseek(spill.get(), 0, SEEK_SET) != 0) {
    return DataLossError(std::string("temporary file: ") + std::strerror(errno));
  }
  std::vector<char> buf(1 << 16);
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), spill.get())) > 0;) {
    std::fwrite(buf.data(), 1, n, stdout);
  }
  if (std::ferror(spill.get())) return DataLossError("temporary file: read error");
  return Status::Ok();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "iocgrid match: %s\n", message.c_str());
  return kExitError;
}

// Reads the query file: the indicators found in a document (--from-text), else the query
// text itself, checked line by line first under --strict (queries stream past once matched).
Status ReadQueries(const MatchFlags& flags, IssueReporter* issues, std::string* query_text,
                   std::vector<extract::ExtractedIndicator>* extracted) {
  if (flags.from_text) {
    IOCGRID_ASSIGN_OR_RETURN(std::string text, extract::LoadDocument(flags.query_path));
    IOCGRID_ASSIGN_OR_RETURN(auto extractor, extract::Extractor::Create(extract::ExtractOptions{}));
    *extracted = extractor->Extract(text);
    return Status::Ok();
  }
  IOCGRID_ASSIGN_OR_RETURN(*query_text, ingest::ReadQueryText(flags.query_path));
  if (!flags.strict) return Status::Ok();
  size_t malformed = 0;
  ingest::ForEachQuery(
      flags.query_path, *query_text, [](const ingest::QueryView&) {},
      [&](const ingest::LoadIssue& issue) {
        issues->Report(issue);
        ++malformed;
      });
  if (malformed > 0) {
    return InvalidArgumentError(fmt::format("{} malformed query line(s) (--strict)", malformed));
  }
  return Status::Ok();
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
      Status st = index::AddRelation(name, &match_options.relations);
      if (!st.ok()) return Fail(std::string(st.message()));
    }
  }
  match_options.max_hits_per_query = flags.max_hits_per_query;

  // The query file is read first: a typo in its path fails before a long load.
  IssueReporter issues(flags.max_issues_shown, flags.quiet);
  std::string query_text;
  std::vector<extract::ExtractedIndicator> extracted;
  if (Status st = ReadQueries(flags, &issues, &query_text, &extracted); !st.ok()) {
    return Fail(std::string(st.message()));
  }

  // Load every data file into one index; record ids point into `data->records`.
  Progress progress(!flags.quiet);
  auto data = LoadLocalData(flags.against, load_options, flags.strict, &issues, &progress);
  if (!data.ok()) return Fail(std::string(data.status().message()));

  HitWriter writer(format, stdout);
  QueryBatches batches(*data, match_options, &writer);
  const auto report = [&](const ingest::LoadIssue& issue) {
    if (!flags.strict) issues.Report(issue);  // --strict reported them above
  };
  if (flags.from_text) {
    for (const extract::ExtractedIndicator& found : extracted) {
      if (!found.benign_reason.empty()) continue;
      batches.Add(found.indicator.value, found.indicator, found.line);
    }
  } else if (Status split = MatchInTwoHalves(flags.query_path, query_text, flags.threads, *data,
                                             match_options, format, &writer, &batches, report);
             !split.ok()) {
    return Fail(std::string(split.message()));
  }
  batches.Flush();
  writer.Finish();

  std::fflush(stdout);  // results before the summary, also on a shared terminal
  if (!flags.quiet) {
    std::string summary =
        fmt::format("{} hit(s) for {} of {} indicator(s) against {} indicator(s) from {} file(s)",
                    batches.hits(), batches.queries_hit(), batches.queries(), data->records.size(),
                    data->files.size());
    if (issues.count() > 0) {
      summary += fmt::format("; {} malformed line(s) skipped", issues.count());
      if (issues.hidden() > 0) summary += fmt::format(" ({} not shown)", issues.hidden());
    }
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  return batches.hits() == 0 ? kExitNotFound : kExitFound;
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
  sub->add_option("--threads", flags->threads,
                  "1 or 2: a plain query list of 4 MB or more is matched by two threads (the "
                  "output is the same)")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  Command command;
  command.subcommand = sub;
  command.run = [flags] { return RunMatch(*flags); };
  return command;
}

}  // namespace iocgrid::app
