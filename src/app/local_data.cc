#include "app/local_data.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace iocgrid::app {

Progress::Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}

void Progress::Show(const std::string& text) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_ = now;
  shown_ = true;
  std::fprintf(stderr, "\r%s\033[K", text.c_str());
  std::fflush(stderr);
}

void Progress::Done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

void IssueReporter::ReplayInto(IssueReporter* out) const {
  for (const ingest::LoadIssue& issue : held_) out->Report(issue);
  out->count_ += count_ - held_.size();
}

void IssueReporter::Report(const std::string& path, uint64_t line, const std::string& message) {
  if (hold_) {
    ++count_;
    if (held_.size() < max_shown_) held_.push_back({path, static_cast<uint32_t>(line), message});
    return;
  }
  ++count_;
  if (quiet_ || count_ > max_shown_) return;
  if (line > 0) {
    std::fprintf(stderr, "%s:%llu: %s\n", path.c_str(), static_cast<unsigned long long>(line),
                 message.c_str());
  } else {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), message.c_str());
  }
}

Result<LocalData> LoadLocalData(const std::vector<std::string>& paths,
                                const ingest::LoadOptions& options, bool strict,
                                IssueReporter* issues, Progress* progress) {
  LocalData data;
  IOCGRID_ASSIGN_OR_RETURN(data.files, ingest::ExpandPaths(paths));
  if (data.files.empty()) return InvalidArgumentError("no data files found in --against paths");
  index::MatchIndex::Builder builder;
  Status full;  // the first Add the index refused
  size_t files_done = 0;
  auto show = [&] {
    progress->Show(fmt::format("loading {}/{} files, {:L} indicators...", files_done,
                               data.files.size(), data.records.size()));
  };
  // Events of list files arrive in parts: memory stays bounded by the index, not by whole
  // events of millions of attributes.
  ingest::LoadOptions part_options = options;
  part_options.max_attributes_per_event = 4096;
  for (const std::string& path : data.files) {
    size_t issues_before = issues->count();
    size_t first_event = data.events.size();
    auto stats = ingest::LoadFile(
        path, part_options,
        [&](core::Event&& event) {
          auto event_no = static_cast<uint32_t>(data.events.size());
          data.events.push_back(
              EventInfo{event.source.empty() ? path : event.source, event.info, options.format});
          for (auto& attribute : event.attributes) {
            if (!full.ok()) return;  // the index is full: the load ends with that error
            full =
                builder.Add(attribute.indicator, static_cast<index::RecordId>(data.records.size()));
            if (!full.ok()) return;
            uint32_t comment = 0;
            if (!attribute.comment.empty()) {
              data.comments.push_back(std::move(attribute.comment));
              comment = static_cast<uint32_t>(data.comments.size());
            }
            data.records.push_back(RecordInfo{event_no, attribute.line, comment});
          }
          show();
        },
        [&](const ingest::LoadIssue& issue) { issues->Report(issue); });
    if (!stats.ok()) {
      progress->Done();
      return stats.status().WithContext(path);
    }
    if (!full.ok()) {
      progress->Done();
      return full.WithContext(path);
    }
    for (size_t e = first_event; e < data.events.size(); ++e) data.events[e].format = stats->format;
    if (strict && issues->count() > issues_before) {
      progress->Done();
      return InvalidArgumentError(fmt::format("{}: {} malformed line(s) (--strict)", path,
                                              issues->count() - issues_before));
    }
    ++files_done;
    show();
  }
  progress->Done();
  data.index = builder.Build();
  return data;
}

}  // namespace iocgrid::app
