#include "sift/sifter.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/ascii.h"
#include "common/check.h"
#include "core/ip.h"
#include "sift/internal/sifter_impl.h"

namespace iocgrid::sift {
namespace {

bool InternalV4(uint32_t a) {
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
         in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0000200, 24) ||
         in(0xC0A80000, 16) || in(0xC6120000, 15) || in(0xC6336400, 24) || in(0xCB007100, 24) ||
         in(0xE0000000, 4) || in(0xF0000000, 4);
}

bool InternalNetwork(const core::IpNetwork& n) {
  if (!n.v6) return InternalV4(n.v4());
  const auto& b = n.bytes;
  bool zero_prefix = std::all_of(b.begin(), b.begin() + 15, [](uint8_t x) { return x == 0; });
  if (zero_prefix && b[15] <= 1) return true;                                     // :: and ::1
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;                         // fe80::/10
  if ((b[0] & 0xfe) == 0xfc) return true;                                         // fc00::/7
  if (b[0] == 0xff) return true;                                                  // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // 2001:db8::/32
  return false;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool InternalName(std::string_view host) {
  if (host.find('.') == std::string_view::npos) return true;  // single label: intranet
  for (std::string_view s :
       {".local", ".localhost", ".internal", ".lan", ".home.arpa", ".localdomain", ".intranet",
        ".corp", ".test", ".invalid", ".example", ".in-addr.arpa", ".ip6.arpa"}) {
    if (EndsWith(host, s)) return true;
  }
  return host == "example.com" || host == "example.net" || host == "example.org" ||
         EndsWith(host, ".example.com") || EndsWith(host, ".example.net") ||
         EndsWith(host, ".example.org");
}

// "1.2.3.4:80" -> "1.2.3.4", "[2001:db8::1]:443" -> "2001:db8::1", "host:8080" -> "host".
std::string_view StripPort(std::string_view v) {
  if (!v.empty() && v.front() == '[') {
    size_t close = v.find(']');
    if (close != std::string_view::npos) return v.substr(1, close - 1);
    return v;
  }
  size_t colon = v.find(':');
  if (colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos) {
    std::string_view port = v.substr(colon + 1);
    if (!port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return v.substr(0, colon);
    }
  }
  return v;
}

Result<core::Indicator> NormalizeIp(Field field, std::string_view raw, bool* internal,
                                    bool* not_ip) {
  *not_ip = false;
  std::string_view v = StripPort(raw);
  core::IndicatorType type =
      field == Field::kClient ? core::IndicatorType::kIpSrc : core::IndicatorType::kIpDst;
  uint32_t a = 0;
  if (core::ParseIpv4(v, &a)) {  // the fast path: a plain dotted quad is already canonical
    *internal = InternalV4(a);
    return core::Indicator{type, std::string(v)};
  }
  auto net = core::ParseIpAddress(v);
  if (!net.ok()) {
    *not_ip = true;
    return net.status();
  }
  *internal = InternalNetwork(*net);
  return core::Indicator{type, core::FormatIpNetwork(*net)};
}

Result<core::Indicator> NormalizeHost(std::string_view raw, bool* internal) {
  std::string_view v = StripPort(raw);
  while (!v.empty() && v.back() == '.') v.remove_suffix(1);
  if (v.empty()) return InvalidArgumentError("empty host name");
  auto host = core::NormalizeDomain(v);
  if (!host.ok()) return host.status();
  *internal = InternalName(*host);
  // Two labels, or three under a short second level (co.uk), is a domain; more is a host name.
  size_t dots = static_cast<size_t>(std::count(host->begin(), host->end(), '.'));
  core::IndicatorType type =
      dots <= 1 ? core::IndicatorType::kDomain : core::IndicatorType::kHostname;
  return core::Indicator{type, std::move(*host)};
}

}  // namespace

Result<core::Indicator> NormalizeObservable(ValueKind kind, Field field, std::string_view raw,
                                            bool* internal) {
  *internal = false;
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '"')) raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '"')) raw.remove_suffix(1);
  if (raw.empty() || raw.size() > 2048) return InvalidArgumentError("empty or oversized value");
  switch (kind) {
    case ValueKind::kIp: {
      bool not_ip = false;
      return NormalizeIp(field, raw, internal, &not_ip);
    }
    case ValueKind::kHost:
      return NormalizeHost(raw, internal);
    case ValueKind::kHostOrIp: {
      bool not_ip = false;
      auto ip = NormalizeIp(field, raw, internal, &not_ip);
      if (ip.ok() || !not_ip) return ip;
      return NormalizeHost(raw, internal);
    }
    case ValueKind::kUrl: {
      auto url = core::NormalizeUrl(raw);
      if (!url.ok()) return url.status();
      std::string_view host = core::UrlHost(*url);
      bool ignored = false;
      if (!host.empty()) {
        uint32_t a = 0;
        if (core::ParseIpv4(host, &a)) {
          *internal = InternalV4(a);
        } else if (auto net = core::ParseIpAddress(host); net.ok()) {
          *internal = InternalNetwork(*net);
        } else {
          *internal = InternalName(host);
        }
      }
      (void)ignored;
      return core::Indicator{core::IndicatorType::kUrl, std::move(*url)};
    }
    case ValueKind::kHash: {
      core::IndicatorType type;
      if (raw.size() == 32)
        type = core::IndicatorType::kMd5;
      else if (raw.size() == 40)
        type = core::IndicatorType::kSha1;
      else if (raw.size() == 64)
        type = core::IndicatorType::kSha256;
      else
        return InvalidArgumentError("not an md5, sha1 or sha256 digest");
      std::string v(raw);
      for (char& c : v) {
        if (!IsAsciiHex(c)) return InvalidArgumentError("not a hex digest");
        c = AsciiToLower(c);
      }
      return core::Indicator{type, std::move(v)};
    }
  }
  return InvalidArgumentError("unknown value kind");
}

Sifter::Sifter(SiftOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Sifter::~Sifter() = default;

const std::vector<Observable>& Sifter::observables() const {
  impl_->Sync();
  return impl_->observables;
}
size_t Sifter::observable_count() const { return impl_->observables.size(); }
const SiftCounts& Sifter::counts() const { return impl_->counts; }
const std::vector<MalformedLine>& Sifter::malformed_examples() const { return impl_->malformed; }
const std::vector<FileStats>& Sifter::files() const { return impl_->files; }

Status Sifter::AddContent(std::string_view name, std::string_view content) {
  Impl& m = *impl_;
  m.BeginFile(name);
  std::string carry;
  bool skipping = false;
  m.Feed(content, &carry, &skipping);
  m.Finish(&carry);
  if (m.files.back().format == LogFormat::kAuto && m.files.back().lines > 0 &&
      m.parser == nullptr) {
    return InvalidArgumentError(std::string(name) + ": cannot tell the log format");
  }
  return Status::Ok();
}

void Sifter::BeginStream(std::string_view name, uint64_t max_inflated_bytes) {
  Impl& m = *impl_;
  m.stream = std::make_unique<Impl::StreamState>();
  m.stream->name = std::string(name);
  m.stream->max_inflated = max_inflated_bytes;
  m.BeginFile(name);
}

Status Sifter::WriteStream(std::string_view piece) {
  Impl& m = *impl_;
  IOCGRID_CHECK(m.stream != nullptr);
  Impl::StreamState& st = *m.stream;
  if (!st.error.ok()) return st.error;
  st.bytes_in += piece.size();
  st.error = m.StreamData(piece);
  return st.error;
}

Status Sifter::EndStream() {
  Impl& m = *impl_;
  IOCGRID_CHECK(m.stream != nullptr);
  Impl::StreamState& st = *m.stream;
  if (!st.error.ok()) return st.error;
  using Mode = Impl::StreamState::Mode;
  if (st.mode == Mode::kUndecided && st.magic_len > 0) {
    st.mode = Mode::kPlain;  // a one-byte log
    m.Feed(std::string_view(st.magic.data(), st.magic_len), &st.carry, &st.skipping);
  }
  if (st.mode == Mode::kGzip) {
    st.error = m.StreamError(StatusCode::kDataLoss, "truncated gzip stream");
    return st.error;
  }
  m.Finish(&st.carry);
  if (m.files.back().lines > 0 && m.parser == nullptr) {
    st.error = InvalidArgumentError(st.name + ": cannot tell the log format");
  }
  return st.error;
}

uint64_t Sifter::stream_bytes_in() const {
  return impl_->stream == nullptr ? 0 : impl_->stream->bytes_in;
}

Status Sifter::AddFile(const std::string& path, const ProgressFn& progress) {
  Impl& m = *impl_;
  int fd = path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": " + std::strerror(err);
    if (err == ENOENT) return NotFoundError(msg);
    if (err == EACCES) return PermissionDeniedError(msg);
    return UnavailableError(msg);
  }
  if (path != "-") {
    Status split;
    if (m.TrySplitFile(fd, path, progress, &split)) {
      close(fd);
      return split;
    }
  }
  gzFile gz = gzdopen(fd, "rb");
  if (gz == nullptr) {
    close(fd);
    return ResourceExhaustedError(path + ": cannot allocate a reader");
  }
  gzbuffer(gz, 1 << 17);
  std::string name = path == "-" ? "(stdin)" : path;
  m.BeginFile(name);
  std::vector<char> buf(1 << 20);
  std::string carry;
  bool skipping = false;
  Status result;
  uint64_t since_progress = 0;
  for (;;) {
    int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int zerr = 0;
      const char* msg = gzerror(gz, &zerr);
      result = DataLossError(name + ": " + (zerr == Z_ERRNO ? std::strerror(errno) : msg));
      break;
    }
    if (n == 0) {
      int zerr = 0;
      const char* msg = gzerror(gz, &zerr);
      if (zerr != Z_OK && zerr != Z_STREAM_END) {
        result = DataLossError(name + ": " + (zerr == Z_BUF_ERROR ? "truncated gzip stream" : msg));
      }
      break;
    }
    m.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), &carry, &skipping);
    since_progress += static_cast<uint64_t>(n);
    if (progress && since_progress >= (8u << 20)) {
      since_progress = 0;
      progress(static_cast<uint64_t>(gzoffset(gz)), m.counts.lines);
    }
  }
  if (result.ok()) m.Finish(&carry);
  gzclose(gz);
  if (!result.ok()) {
    return Status(result.code(), std::string(result.message()) + " after " +
                                     std::to_string(m.files.back().lines) + " line(s)");
  }
  if (m.files.back().lines > 0 && m.parser == nullptr) {
    return InvalidArgumentError(name + ": cannot tell the log format (give --log-format)");
  }
  return Status::Ok();
}

Status Sifter::ForEachLineGroup(
    const std::function<void(std::span<const uint32_t>, uint64_t)>& fn) const {
  const Impl& m = *impl_;
  if (m.empty_lines > 0) fn({}, m.empty_lines);
  for (uint32_t id = 0; id < m.hot.size(); ++id) {
    if (m.hot[id].single_lines > 0) fn(std::span<const uint32_t>(&id, 1), m.hot[id].single_lines);
  }
  return m.Replay([&](std::span<const uint32_t> ids) {
    if (ids.size() > 1) fn(ids, 1);
  });
}

Status Sifter::ForEachLine(
    const std::function<void(size_t, uint64_t, std::span<const uint32_t>)>& fn) const {
  const Impl& m = *impl_;
  if (!m.options.annotate) return InternalError("annotations were not asked for");
  size_t file = 0;
  uint64_t line = 0;
  return m.Replay([&](std::span<const uint32_t> ids) {
    while (file < m.files.size() && line >= m.files[file].lines) {
      ++file;
      line = 0;
    }
    fn(file, ++line, ids);
  });
}

}  // namespace iocgrid::sift
