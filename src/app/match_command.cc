// `iocgrid match`: match an analyst's indicator list against member-style data files on disk,
// with the full match semantics of the index (exact, in-range, subdomain, url-host, component).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
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
// the batch dropped: a million-line query file costs no more memory than its text (and 24 bytes
// a line for what SplitMatch parses ahead).
class QueryBatches {
 public:
  QueryBatches(const LocalData& data, const index::MatchOptions& options, HitWriter* writer)
      : data_(data),
        options_(options),
        writer_(writer),
        batch_(kBatch),
        raw_(kBatch),
        line_(kBatch) {}

  // A query whose value is its raw text, normalized, of type `type`.
  void AddSlice(std::string_view value, core::IndicatorType type, uint32_t line) {
    Put(type, value, std::string_view(), line);
  }

  void Add(std::string_view raw, const core::Indicator& indicator, uint32_t line) {
    Put(indicator.type, indicator.value, raw == indicator.value ? std::string_view() : raw, line);
  }

  void Flush() {
    if (count_ == 0) return;
    const index::MatchIndex& idx = *data_.index;
    hit_.assign(count_, false);
    for (const index::Hit& h : idx.MatchAll(std::span(batch_.data(), count_), options_)) {
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
      row.comment = data_.comment(record);
      writer_->Write(row);
      ++hits_;
      if (!hit_[h.query]) ++queries_hit_;
      hit_[h.query] = true;
    }
    queries_ += count_;
    count_ = 0;
  }

  // Counts what `other` (another part of the same query file) matched.
  void Absorb(const QueryBatches& other) {
    queries_ += other.queries_;
    queries_hit_ += other.queries_hit_;
    hits_ += other.hits_;
  }

  // Where the next hits go (Flush first: the batch's hits belong to the previous writer).
  void set_writer(HitWriter* writer) { writer_ = writer; }

  size_t queries() const { return queries_; }
  size_t queries_hit() const { return queries_hit_; }
  size_t hits() const { return hits_; }

 private:
  static constexpr size_t kBatch = 4096;

  // The batch's slots are reused: a value is assigned into a string that already has room, so
  // a query costs no allocation (queries are short; longer ones keep their buffer for the next).
  void Put(core::IndicatorType type, std::string_view value, std::string_view raw, uint32_t line) {
    core::Indicator& slot = batch_[count_];
    slot.type = type;
    slot.value.assign(value);
    if (raw.empty()) {
      raw_[count_].clear();  // nearly always: assign costs a generic replace
    } else {
      raw_[count_].assign(raw);
    }
    line_[count_] = line;
    if (++count_ == kBatch) Flush();
  }

  const LocalData& data_;
  const index::MatchOptions& options_;
  HitWriter* writer_;
  std::vector<core::Indicator> batch_;  // [0, count_) in use
  std::vector<std::string> raw_;        // empty where the value was written normalized
  std::vector<uint32_t> line_;
  std::vector<bool> hit_;
  size_t count_ = 0;
  size_t queries_ = 0;
  size_t queries_hit_ = 0;
  size_t hits_ = 0;
};

// A plain query list of at least this many bytes is matched by two threads.
constexpr size_t kSplitQueryBytes = size_t{4} << 20;

// A plain query list of kSplitQueryBytes or more, matched by two threads, the second of which
// starts before the index exists: while the data files load, it parses the list from its start
// in chunks of 64 KiB (queries kept as slices of the text, 24 bytes each). When the index is
// ready it stops, and both threads take units of work in turn until none is left: first the
// parsed chunks, then 64 KiB chunks of the text not yet parsed. A unit's hits and malformed
// lines are kept apart and handed to the output in unit order by whichever thread finishes
// the next one due, so the output is the one pass's, and neither thread waits for a share
// planned in advance (on this VM a fixed split left one thread idle 10-30 ms a run).
class SplitMatch {
 public:
  static bool Applies(std::string_view text, uint32_t threads) {
    return threads > 1 && text.size() >= kSplitQueryBytes && !ingest::IsCsvQueryText(text);
  }

  SplitMatch(std::string path, std::string_view text) : path_(std::move(path)), text_(text) {
    worker_ = std::jthread([this] { Work(); });
  }

  // Ends the worker when the index never came (the load failed).
  ~SplitMatch() {
    if (!started_) {
      stop_.store(true, std::memory_order_release);
      start_.set_value(Start{});
    }
  }
  SplitMatch(const SplitMatch&) = delete;
  SplitMatch& operator=(const SplitMatch&) = delete;

  // Matches every query against `data`, once loaded; hits go to `writer` and are counted in
  // `batches`, malformed lines to `report`, all in line order.
  Status Run(const LocalData& data, const index::MatchOptions& options, OutputFormat format,
             HitWriter* writer, QueryBatches* batches, const ingest::IssueSink& report) {
    stop_.store(true, std::memory_order_release);
    stopped_.get_future().wait();
    const Mark& stop = marks_.back();
    raw_offset_ = stop.offset;
    raw_line_ = stop.line;
    parsed_units_ = marks_.size() - 1;
    out_ = Out{format, writer, &report};
    worker_batches_.emplace(data, options, nullptr);
    started_ = true;
    start_.set_value(Start{true});
    DoUnits(batches);
    worker_.join();
    batches->Absorb(*worker_batches_);
    return error_;
  }

 private:
  static constexpr size_t kChunkBytes = size_t{64} << 10;
  static constexpr uint32_t kSlice = std::numeric_limits<uint32_t>::max();

  // A query parsed ahead: its raw text is text_.substr(offset, length) and, when `other` is
  // kSlice, also its normalized value (nearly every line of a list); otherwise others_[other].
  struct Parsed {
    uint64_t offset = 0;
    uint32_t length = 0;
    uint32_t line = 0;
    uint32_t other = kSlice;
    core::IndicatorType type{};
  };
  // Where a chunk of the text starts: its offset, first line, and the counts of parsed queries
  // and issues before it. The last mark is where parsing ahead stopped.
  struct Mark {
    uint64_t offset = 0;
    uint32_t line = 1;
    size_t queries = 0;
    size_t issues = 0;
  };
  struct Start {
    bool go = false;
  };
  // One unit of work: parsed chunk `parsed` (< parsed_units_), or the text [offset, end) from
  // `line`.
  struct Unit {
    size_t order = 0;
    size_t parsed = 0;
    uint64_t offset = 0;
    uint64_t end = 0;
    uint32_t line = 0;
  };
  // A unit's output, kept until the units before it are out.
  struct Done {
    std::unique_ptr<HitWriter> hits;
    std::vector<ingest::LoadIssue> issues;
  };
  struct Out {
    OutputFormat format = OutputFormat::kTable;
    HitWriter* writer = nullptr;
    const ingest::IssueSink* report = nullptr;
  };

  void Work() {
    ParseAhead();
    stopped_.set_value();
    if (!start_.get_future().get().go) return;
    DoUnits(&*worker_batches_);
  }

  // Parses chunks from the start of the text until the index is ready or the text ends.
  void ParseAhead() {
    const ingest::QuerySink keep = [this](const ingest::QueryView& q) {
      Parsed p;
      p.offset = static_cast<uint64_t>(q.raw.data() - text_.data());
      p.length = static_cast<uint32_t>(q.raw.size());
      p.line = q.line;
      p.type = q.indicator.type;
      if (q.raw != q.indicator.value || q.raw.size() > std::numeric_limits<uint32_t>::max()) {
        p.other = static_cast<uint32_t>(others_.size());
        others_.push_back(ingest::QueryItem{std::string(q.raw), q.indicator, q.line, {}});
      }
      parsed_.push_back(p);
    };
    const ingest::IssueSink note = [this](const ingest::LoadIssue& issue) {
      issues_.push_back(issue);
    };
    Mark at;
    while (at.offset < text_.size() && !stop_.load(std::memory_order_acquire)) {
      marks_.push_back(at);
      const uint64_t end = ChunkEnd(at.offset);
      const std::string_view chunk = text_.substr(at.offset, end - at.offset);
      ingest::ForEachPlainQuery(path_, chunk, at.line, keep, note);
      at.line += static_cast<uint32_t>(std::count(chunk.begin(), chunk.end(), '\n'));
      at.offset = end;
      at.queries = parsed_.size();
      at.issues = issues_.size();
    }
    marks_.push_back(at);
  }

  // The end of the chunk of about kChunkBytes from `offset`: after a newline, or the text's end.
  uint64_t ChunkEnd(uint64_t offset) const {
    const uint64_t end = std::min<uint64_t>(offset + kChunkBytes, text_.size());
    const size_t newline = text_.find('\n', end - 1);
    return newline == std::string_view::npos ? text_.size() : newline + 1;
  }

  // The next unit in order, if any is left.
  std::optional<Unit> Claim() {
    std::lock_guard<std::mutex> lock(mu_);
    Unit unit;
    unit.order = next_order_;
    if (next_order_ < parsed_units_) {
      unit.parsed = next_order_++;
      return unit;
    }
    if (raw_offset_ >= text_.size()) return std::nullopt;
    ++next_order_;
    unit.parsed = parsed_units_;
    unit.offset = raw_offset_;
    unit.end = ChunkEnd(raw_offset_);
    unit.line = raw_line_;
    const std::string_view chunk = text_.substr(unit.offset, unit.end - unit.offset);
    raw_line_ += static_cast<uint32_t>(std::count(chunk.begin(), chunk.end(), '\n'));
    raw_offset_ = unit.end;
    return unit;
  }

  // Takes units until none is left, matching each through `batches`.
  void DoUnits(QueryBatches* batches) {
    while (std::optional<Unit> unit = Claim()) {
      Done done;
      done.hits = std::make_unique<HitWriter>(out_.format, nullptr, /*header=*/false);
      batches->set_writer(done.hits.get());
      if (unit->parsed < parsed_units_) {
        const Mark& from = marks_[unit->parsed];
        const Mark& to = marks_[unit->parsed + 1];
        Replay(from.queries, to.queries, batches);
        // Each parsed chunk's issues are taken once.
        done.issues.assign(
            std::make_move_iterator(issues_.begin() + static_cast<ptrdiff_t>(from.issues)),
            std::make_move_iterator(issues_.begin() + static_cast<ptrdiff_t>(to.issues)));
      } else {
        ingest::ForEachPlainQuery(
            path_, text_.substr(unit->offset, unit->end - unit->offset), unit->line,
            [batches](const ingest::QueryView& q) { batches->Add(q.raw, q.indicator, q.line); },
            [&done](const ingest::LoadIssue& issue) { done.issues.push_back(issue); });
      }
      batches->Flush();
      batches->set_writer(nullptr);
      Hand(unit->order, std::move(done));
    }
  }

  // Keeps a finished unit, then writes out every unit due, in order (under its own lock: a
  // thread claiming its next unit does not wait for the output).
  void Hand(size_t order, Done done) {
    std::lock_guard<std::mutex> lock(out_mu_);
    finished_.emplace(order, std::move(done));
    for (auto it = finished_.find(next_out_); it != finished_.end();
         it = finished_.find(++next_out_)) {
      for (const ingest::LoadIssue& issue : it->second.issues) (*out_.report)(issue);
      if (Status st = out_.writer->AppendRows(*it->second.hits); !st.ok() && error_.ok()) {
        error_ = std::move(st);
      }
      finished_.erase(it);
    }
  }

  // Matches parsed queries [begin, end) through `batches`.
  void Replay(size_t begin, size_t end, QueryBatches* batches) const {
    for (size_t i = begin; i < end; ++i) {
      const Parsed& p = parsed_[i];
      if (p.other == kSlice) {
        batches->AddSlice(text_.substr(p.offset, p.length), p.type, p.line);
      } else {
        const ingest::QueryItem& item = others_[p.other];
        batches->Add(item.raw, item.indicator, item.line);
      }
    }
  }

  const std::string path_;
  const std::string_view text_;
  std::atomic<bool> stop_{false};
  std::promise<void> stopped_;
  std::promise<Start> start_;
  bool started_ = false;
  // Written by the worker before stopped_, read by both threads after start_.
  std::vector<Parsed> parsed_;
  std::vector<ingest::QueryItem> others_;
  std::vector<ingest::LoadIssue> issues_;
  std::vector<Mark> marks_;
  // Set by the main thread before start_.
  Out out_;
  size_t parsed_units_ = 0;
  std::optional<QueryBatches> worker_batches_;
  // The units: what is claimed next, under mu_; what is written next, under out_mu_.
  std::mutex mu_;
  size_t next_order_ = 0;
  uint64_t raw_offset_ = 0;
  uint32_t raw_line_ = 1;
  std::mutex out_mu_;
  size_t next_out_ = 0;
  std::map<size_t, Done> finished_;
  Status error_;         // the first output error (read after both threads are done)
  std::jthread worker_;  // last: joined before the members it uses are destroyed
};

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

  // A large plain list starts being parsed while the data loads.
  std::optional<SplitMatch> split;
  if (!flags.from_text && SplitMatch::Applies(query_text, flags.threads)) {
    split.emplace(flags.query_path, query_text);
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
  } else if (split.has_value()) {
    if (Status s = split->Run(*data, match_options, format, &writer, &batches, report); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  } else {
    ingest::ForEachQuery(
        flags.query_path, query_text,
        [&](const ingest::QueryView& q) { batches.Add(q.raw, q.indicator, q.line); }, report);
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
