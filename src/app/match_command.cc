// `iocgrid match`: match an analyst's indicator list against member-style data files on disk,
// with the full match semantics of the index (exact, in-range, subdomain, url-host, component).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <limits>
#include <memory>
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

// The share of a query's cost left once it is parsed. Timed on 10^6 addresses against 2.2·10^5
// (quiet VM): a parsed query took 155-158 ns to match and write, a raw line 198 ns to parse,
// match and write, so about 0.8. (0.65, read off a profile, left the main thread finishing its
// part 13-16 ms after the worker in 7 of 8 runs.)
constexpr double kParsedCost = 0.8;

// A plain query list of kSplitQueryBytes or more, matched by two threads, the second of which
// starts before the index exists: while the data files load, it parses the list from its start
// in chunks (queries kept as slices of the text, 24 bytes each). When the index is ready it
// stops, and the rest of the work is split in two halves of equal estimated cost (a parsed
// query costs kParsedCost of one still to parse): the main thread takes the first part (parsed
// queries, then raw lines), the worker the second, its hits written to a temporary file (kept in
// memory for the table, which sorts them anyway) and appended after the first part's; malformed
// lines are reported in line order. The output is the one pass's.
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
    if (!planned_) {
      stop_.store(true, std::memory_order_release);
      plan_.set_value(Plan{.abort = true});
    }
  }
  SplitMatch(const SplitMatch&) = delete;
  SplitMatch& operator=(const SplitMatch&) = delete;

  // Matches every query against `data`, once loaded; the main thread's hits go to `writer`
  // through `batches`, malformed lines to `report` in line order.
  Status Run(const LocalData& data, const index::MatchOptions& options, OutputFormat format,
             HitWriter* writer, QueryBatches* batches, const ingest::IssueSink& report) {
    stop_.store(true, std::memory_order_release);
    stopped_.get_future().wait();
    spill_.reset(format == OutputFormat::kTable ? nullptr : std::tmpfile());
    if (format != OutputFormat::kTable && spill_ == nullptr) {
      planned_ = true;
      plan_.set_value(Plan{.abort = true});
      return UnavailableError(std::string("cannot create a temporary file: ") +
                              std::strerror(errno));
    }
    tail_writer_.emplace(format, spill_.get(), /*header=*/false);
    tail_batches_.emplace(data, options, &*tail_writer_);
    const Plan plan = MakePlan();
    planned_ = true;
    plan_.set_value(plan);

    // The first part: parsed queries [0, plan.queries), then the raw lines from where parsing
    // ahead stopped up to plan.split.
    for (size_t i = 0; i < plan.issues; ++i) report(issues_[i]);
    Replay(0, plan.queries, batches);
    const Mark& stop = marks_.back();
    if (plan.split > stop.offset) {
      ingest::ForEachPlainQuery(path_, text_.substr(stop.offset, plan.split - stop.offset),
                                stop.line, AddTo(batches), report);
    }
    batches->Flush();
    worker_.join();
    for (const ingest::LoadIssue& issue : tail_issues_) report(issue);
    batches->Absorb(*tail_batches_);
    if (format == OutputFormat::kTable) {
      writer->AppendTableRows(std::move(*tail_writer_));
      return Status::Ok();
    }
    if (tail_batches_->hits() > 0) writer->WriteHeader();
    writer->Flush();
    tail_writer_->Flush();
    std::fflush(stdout);
    if (std::fflush(spill_.get()) != 0 || std::fseek(spill_.get(), 0, SEEK_SET) != 0) {
      return DataLossError(std::string("temporary file: ") + std::strerror(errno));
    }
    std::vector<char> buf(1 << 16);
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), spill_.get())) > 0;) {
      std::fwrite(buf.data(), 1, n, stdout);
    }
    if (std::ferror(spill_.get())) return DataLossError("temporary file: read error");
    return Status::Ok();
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
  // Who does what: the main thread takes parsed queries [0, queries) and issues [0, issues),
  // then raw text up to `split`; the worker the rest.
  struct Plan {
    bool abort = false;
    size_t queries = 0;
    size_t issues = 0;
    uint64_t split = 0;
    uint32_t split_line = 0;  // the line at `split`, when it lies past the parsed part
  };

  static ingest::QuerySink AddTo(QueryBatches* batches) {
    return [batches](const ingest::QueryView& q) { batches->Add(q.raw, q.indicator, q.line); };
  }

  void Work() {
    ParseAhead();
    stopped_.set_value();
    const Plan plan = plan_.get_future().get();
    if (plan.abort) return;
    Replay(plan.queries, parsed_.size(), &*tail_batches_);
    const ingest::IssueSink keep = [this](const ingest::LoadIssue& issue) {
      tail_issues_.push_back(issue);
    };
    for (size_t i = plan.issues; i < issues_.size(); ++i) keep(issues_[i]);
    const Mark& stop = marks_.back();
    const uint64_t from = std::max<uint64_t>(plan.split, stop.offset);
    if (from < text_.size()) {
      const uint32_t line = plan.split > stop.offset ? plan.split_line : stop.line;
      ingest::ForEachPlainQuery(path_, text_.substr(from), line, AddTo(&*tail_batches_), keep);
    }
    tail_batches_->Flush();
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
      uint64_t end = std::min<uint64_t>(at.offset + kChunkBytes, text_.size());
      const size_t nl = text_.find('\n', end - 1);
      end = nl == std::string_view::npos ? text_.size() : nl + 1;
      const std::string_view chunk = text_.substr(at.offset, end - at.offset);
      ingest::ForEachPlainQuery(path_, chunk, at.line, keep, note);
      at.line += static_cast<uint32_t>(std::count(chunk.begin(), chunk.end(), '\n'));
      at.offset = end;
      at.queries = parsed_.size();
      at.issues = issues_.size();
    }
    marks_.push_back(at);
  }

  // Splits the remaining work in two parts of equal estimated cost.
  Plan MakePlan() const {
    const Mark& stop = marks_.back();
    const double parsed = static_cast<double>(stop.offset);
    const double half =
        (kParsedCost * parsed + static_cast<double>(text_.size() - stop.offset)) / 2;
    Plan plan;
    if (half <= kParsedCost * parsed) {
      // Inside the parsed part: at the first chunk mark at or past the point.
      const double point = half / kParsedCost;
      const auto it = std::find_if(marks_.begin(), marks_.end(), [&](const Mark& m) {
        return static_cast<double>(m.offset) >= point;
      });
      const Mark& m = it == marks_.end() ? stop : *it;
      plan.queries = m.queries;
      plan.issues = m.issues;
      plan.split = m.offset;
      return plan;
    }
    plan.queries = parsed_.size();
    plan.issues = issues_.size();
    auto point = static_cast<uint64_t>(parsed + (half - kParsedCost * parsed));
    point = std::clamp<uint64_t>(point, stop.offset, text_.size());
    const size_t nl = point == 0 ? std::string_view::npos : text_.find('\n', point - 1);
    plan.split = nl == std::string_view::npos ? text_.size() : nl + 1;
    const std::string_view between = text_.substr(stop.offset, plan.split - stop.offset);
    plan.split_line =
        stop.line + static_cast<uint32_t>(std::count(between.begin(), between.end(), '\n'));
    return plan;
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
  std::promise<Plan> plan_;
  bool planned_ = false;
  // Written by the worker before stopped_, read by the main thread after it.
  std::vector<Parsed> parsed_;
  std::vector<ingest::QueryItem> others_;
  std::vector<ingest::LoadIssue> issues_;
  std::vector<Mark> marks_;
  // The worker's part, set up by the main thread before plan_.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> spill_{nullptr, &std::fclose};
  std::optional<HitWriter> tail_writer_;
  std::optional<QueryBatches> tail_batches_;
  std::vector<ingest::LoadIssue> tail_issues_;
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
