// Member-style data files loaded into one MatchIndex: the shared part of `iocgrid match` and
// `iocgrid sift --against` (same loaders, same match semantics), with the CLI's progress line
// and malformed-line reporting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"
#include "common/result.h"
#include "index/match_index.h"
#include "ingest/loader.h"

namespace iocgrid::app {

// Where a stored indicator came from.
struct EventInfo {
  std::string source;                                       // file path
  std::string name;                                         // warninglist name or event info
  ingest::InputFormat format = ingest::InputFormat::kAuto;  // of the file it came from
};
// 12 bytes a stored indicator: most have no comment, which costs them nothing.
struct RecordInfo {
  uint32_t event = 0;
  uint32_t line = 0;
  uint32_t comment = 0;  // 1 + its position in LocalData::comments; 0 for none
};

struct LocalData {
  std::vector<std::string> files;
  std::vector<EventInfo> events;
  HugeVector<RecordInfo> records;  // index::RecordId -> record (one per stored indicator)
  std::vector<std::string> comments;
  std::shared_ptr<const index::MatchIndex> index;

  std::string_view comment(const RecordInfo& record) const {
    return record.comment == 0 ? std::string_view() : comments[record.comment - 1];
  }
};

// Prints a progress line on stderr, only on a terminal and only once work has taken more
// than a second (short runs stay silent, pipes and logs stay clean).
class Progress {
 public:
  explicit Progress(bool enabled);
  // Shows "\r<text>" (at most ten times a second).
  void Show(const std::string& text);
  void Done();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

// Reports skipped lines on stderr: the first few in full, then only a count.
class IssueReporter {
 public:
  IssueReporter(size_t max_shown, bool quiet) : max_shown_(max_shown), quiet_(quiet) {}
  // A reporter that holds the first `max_shown` issues (and counts the rest) instead of
  // printing them, until ReplayInto: for work on another thread whose issues must come out
  // after the main thread's, in order.
  static IssueReporter Holding(size_t max_shown) {
    IssueReporter r(max_shown, true);
    r.hold_ = true;
    return r;
  }
  void Report(const std::string& path, uint64_t line, const std::string& message);
  void Report(const ingest::LoadIssue& issue) { Report(issue.path, issue.line, issue.message); }
  // Reports the held issues to `out` (those not held are counted there as hidden).
  void ReplayInto(IssueReporter* out) const;
  size_t count() const { return count_; }
  size_t hidden() const { return count_ > max_shown_ ? count_ - max_shown_ : 0; }

 private:
  size_t max_shown_;
  bool quiet_;
  size_t count_ = 0;
  bool hold_ = false;
  std::vector<ingest::LoadIssue> held_;
};

// Loads every file under `paths` (files or folders, ingest::ExpandPaths) into one index.
// With `strict`, a file with a malformed line is an error. Errors name the file.
Result<LocalData> LoadLocalData(const std::vector<std::string>& paths,
                                const ingest::LoadOptions& options, bool strict,
                                IssueReporter* issues, Progress* progress);

}  // namespace iocgrid::app
