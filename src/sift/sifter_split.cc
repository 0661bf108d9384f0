// A large log read by two threads (issue 9: sift at least 3x faster than awk | sort -u | grep):
// the line loop costs ~0.3 µs a line, mostly cache misses on the observable tables, so a
// second core halves a large file's time. The file's second half (from the first line break
// after the middle) is read into a tail Impl on a second thread, with the parser the file's
// first line chose; the tail is then merged in as if the lines had been read in one pass:
// observables in first-seen order with the same ids, counters summed, first/last seen widened,
// line numbers of malformed examples shifted, multi-observable line records re-spooled with the
// merged ids, distinct internal and invalid values counted once.
//
// Only regular, uncompressed files of formats whose lines stand alone (Apache/nginx combined
// and common, JSON lines, Suricata EVE) are split, and never with annotations (they replay
// lines in order from one spool). Everything else is read in one pass.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sift/internal/sifter_impl.h"

namespace iocgrid::sift {
namespace {

// Each thread reads its half 256 KB at a time: the chunk stays in the core's L2 cache between
// the kernel's copy and the parse. With 1 MB chunks the 2·10^6-line bench log took 0.59 s,
// with 256 KB 0.56 s (eight alternating runs each; 64 KB was no faster).
constexpr size_t kReadChunk = size_t{256} << 10;

bool SplittableFormat(LogFormat format) {
  return format == LogFormat::kCombined || format == LogFormat::kCommon ||
         format == LogFormat::kJson || format == LogFormat::kEve;
}

// pread that retries on EINTR and short reads; returns bytes read (0 at the end) or -1.
ssize_t ReadAt(int fd, char* buf, size_t n, uint64_t offset) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = pread(fd, buf + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

Status Sifter::Impl::ReadRange(int fd, uint64_t begin, uint64_t end, const ProgressFn& progress) {
  std::vector<char> buf(kReadChunk);
  std::string carry;
  bool skipping = false;
  uint64_t since_progress = 0;
  for (uint64_t offset = begin; offset < end;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadChunk, end - offset));
    const ssize_t n = ReadAt(fd, buf.data(), want, offset);
    if (n < 0) return DataLossError(files.back().path + ": " + std::strerror(errno));
    if (n == 0) break;  // the file shrank while being read: what is there was read
    Feed(std::string_view(buf.data(), static_cast<size_t>(n)), &carry, &skipping);
    offset += static_cast<uint64_t>(n);
    since_progress += static_cast<uint64_t>(n);
    if (progress && since_progress >= (uint64_t{8} << 20)) {
      since_progress = 0;
      progress(offset, counts.lines);
    }
  }
  Finish(&carry);
  return Status::Ok();
}

bool Sifter::Impl::TrySplitFile(int fd, const std::string& name, const ProgressFn& progress,
                                Status* result) {
  struct stat st {};
  // Smaller files are read in one pass: a thread and a merge cost more than they save.
  if (options.annotate || options.split_min_bytes == 0 || fstat(fd, &st) != 0 ||
      !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) < options.split_min_bytes) {
    return false;
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  // The first line: gzip is read in one pass, and its format must split.
  std::vector<char> head(std::min<size_t>(options.max_line_bytes + 1, kReadChunk));
  const ssize_t got = ReadAt(fd, head.data(), head.size(), 0);
  if (got < 2 || (head[0] == '\x1f' && head[1] == '\x8b')) return false;
  std::string_view first(head.data(), static_cast<size_t>(got));
  const size_t first_end = first.find('\n');
  if (first_end == std::string_view::npos) return false;
  first = first.substr(0, first_end);
  const LogFormat format =
      options.format != LogFormat::kAuto ? options.format : DetectLogFormat(first);
  if (!SplittableFormat(format)) return false;
  // The second half starts after the first line break past the middle.
  std::vector<char> probe(kReadChunk);
  const uint64_t middle = size / 2;
  const ssize_t probed = ReadAt(fd, probe.data(), probe.size(), middle);
  if (probed <= 0) return false;
  const void* nl = std::memchr(probe.data(), '\n', static_cast<size_t>(probed));
  if (nl == nullptr) return false;
  const uint64_t split =
      middle + static_cast<uint64_t>(static_cast<const char*>(nl) - probe.data()) + 1;
  if (split >= size) return false;

  SiftOptions tail_options = options;
  tail_options.format = format;
  Impl tail(tail_options);
  tail.BeginFile(name);
  tail.files.back().format = format;
  tail.parser = LineParser::CreateForFile(format, first, options.parser);
  // Progress shows both halves: the tail publishes how far it got.
  std::atomic<uint64_t> tail_bytes{0};
  std::atomic<uint64_t> tail_lines{0};
  Status tail_status;
  std::thread worker([&] {
    tail_status = tail.ReadRange(fd, split, size, [&](uint64_t offset, uint64_t lines) {
      tail_bytes.store(offset - split, std::memory_order_relaxed);
      tail_lines.store(lines, std::memory_order_relaxed);
    });
  });
  BeginFile(name);
  files.back().split = true;
  ProgressFn both;
  if (progress) {
    both = [&](uint64_t offset, uint64_t lines) {
      progress(offset + tail_bytes.load(std::memory_order_relaxed),
               lines + tail_lines.load(std::memory_order_relaxed));
    };
  }
  Status head_status = ReadRange(fd, 0, split, both);
  worker.join();
  MergeTail(tail);
  if (!head_status.ok()) {
    *result = head_status;
  } else {
    *result = tail_status;
  }
  if (!result->ok()) {
    *result = Status(result->code(), std::string(result->message()) + " after " +
                                         std::to_string(files.back().lines) + " line(s)");
  }
  return true;
}

void Sifter::Impl::MergeTail(Impl& tail) {
  std::vector<uint32_t> remap(tail.observables.size());
  for (size_t j = 0; j < tail.observables.size(); ++j) {
    Observable& o = tail.observables[j];
    const auto id = static_cast<uint32_t>(Intern(std::move(o.value), o.type, o.field));
    remap[j] = id;
    Hot& h = hot[id];
    const Hot& t = tail.hot[j];
    h.lines += t.lines;
    h.single_lines += t.single_lines;
    if (t.first != 0 && (h.first == 0 || t.first < h.first)) h.first = t.first;
    if (t.last > h.last) h.last = t.last;
    h.alerts += t.alerts;
    h.fields |= t.fields;
  }
  // Distinct values are counted once across both halves.
  for (const std::string& v : tail.internal_values) {
    if (internal_values.insert(v).second) ++counts.internal;
  }
  uint64_t invalid_twice = 0;
  for (size_t k = 0; k < std::size(raw_cache); ++k) {
    for (const auto& [raw, id] : tail.raw_cache[k]) {
      if (id != kInvalidId) continue;
      auto it = raw_cache[k].find(raw);
      if (it != raw_cache[k].end() && it->second == kInvalidId) ++invalid_twice;
    }
  }
  counts.lines += tail.counts.lines;
  counts.parsed += tail.counts.parsed;
  counts.malformed += tail.counts.malformed;
  counts.cut += tail.counts.cut;
  counts.invalid_values += tail.counts.invalid_values - invalid_twice;
  counts.alerts += tail.counts.alerts;
  for (MalformedLine& m : tail.malformed) {
    if (malformed.size() >= options.max_malformed_examples) break;
    m.line += line_no;
    malformed.push_back(std::move(m));
  }
  files.back().lines += tail.files.back().lines;
  files.back().alerts += tail.files.back().alerts;
  line_no += tail.line_no;
  empty_lines += tail.empty_lines;
  std::vector<uint32_t> record;
  Status replayed = tail.Replay([&](std::span<const uint32_t> tail_ids) {
    record.clear();
    for (uint32_t id : tail_ids) record.push_back(remap[id]);
    std::sort(record.begin(), record.end());  // the remap keeps ids distinct, not ordered
    SpoolRecord(record);
  });
  if (!replayed.ok() && spool_status.ok()) spool_status = replayed;
  dirty = true;
}

}  // namespace iocgrid::sift
