// POST /api/v1/sifts (issue 9): the query string (the input's first line) through
// portal::internal::ParseSiftQuery and CheckSiftContentType, then the rest as an upload streamed
// into a Sifter in pieces whose sizes the input chooses (plain or gzip). Properties: no crash, no
// hang, bounded memory; the counts add up; and a plain upload streamed in pieces gives exactly
// what the same bytes give in one piece (AddContent), whatever the piece boundaries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "portal/internal/sift_request.h"
#include "sift/sifter.h"

namespace {

// Every observable with its counters, by value: one string to compare two sifters by.
std::string Dump(const iocgrid::sift::Sifter& s) {
  std::map<std::string, std::string> rows;
  for (const iocgrid::sift::Observable& o : s.observables()) {
    rows[o.value] = std::to_string(static_cast<int>(o.type)) + " " +
                    std::to_string(static_cast<int>(o.field)) + " " + std::to_string(o.lines) +
                    " " + std::to_string(o.alerts) + " " + std::to_string(o.first_seen) + " " +
                    std::to_string(o.last_seen);
  }
  std::string out;
  for (const auto& [k, v] : rows) out += k + " " + v + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view query = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  portal::internal::CheckSiftContentType(query, query).IgnoreError();  // any bytes: no crash
  auto request = portal::internal::ParseSiftQuery(query);
  sift::SiftOptions options = request.ok() ? request->options : sift::SiftOptions{};
  options.max_line_bytes = 4096;
  sift::Sifter streamed(options);
  streamed.BeginStream("fuzz", 1 << 22);
  size_t pos = 0;
  uint8_t step = body.empty() ? 1 : static_cast<uint8_t>(body[0]);
  while (pos < body.size()) {
    size_t n = std::min<size_t>(body.size() - pos, 1 + (step % 97));
    step = static_cast<uint8_t>(step * 31 + 7);
    if (!streamed.WriteStream(body.substr(pos, n)).ok()) break;
    pos += n;
  }
  iocgrid::Status ended = streamed.EndStream();
  const sift::SiftCounts& c = streamed.counts();
  if (c.parsed + c.malformed != c.lines) std::abort();
  if (streamed.stream_bytes_in() > body.size()) std::abort();
  bool gzip = body.size() >= 2 && body[0] == '\x1f' && body[1] == '\x8b';
  if (!gzip && pos == body.size()) {
    sift::Sifter whole(options);
    whole.AddContent("fuzz", body).IgnoreError();
    if (whole.counts().lines != c.lines || whole.counts().malformed != c.malformed ||
        whole.counts().cut != c.cut || Dump(whole) != Dump(streamed)) {
      std::abort();
    }
    if (ended.ok() !=
        (whole.counts().lines == 0 || whole.files().back().format != sift::LogFormat::kAuto)) {
      std::abort();
    }
  }
  return 0;
}
