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

#include "common/check.h"
#include "core/ip.h"

namespace iocgrid::sift {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// IPv4 address (host order) -> id: open addressing, linear probing, one cache line per lookup
// in the common case. A slot is key << 32 | (id + 3); 0 is an empty slot.
class Ipv4Map {
 public:
  Ipv4Map() : slots_(1024, 0), mask_(1023) {}
  // The id stored for `key`, or false.
  bool Find(uint32_t key, int32_t* id) const {
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      uint64_t slot = slots_[i];
      if (slot == 0) return false;
      if (static_cast<uint32_t>(slot >> 32) == key) {
        *id = static_cast<int32_t>(static_cast<uint32_t>(slot)) - 3;
        return true;
      }
    }
  }
  void Insert(uint32_t key, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    Put(key, id);
    ++size_;
  }

 private:
  static size_t Hash(uint32_t key) {
    return static_cast<size_t>((uint64_t{key} * 0x9E3779B97F4A7C15ull) >> 20);
  }
  void Put(uint32_t key, int32_t id) {
    size_t i = Hash(key) & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = (uint64_t{key} << 32) | static_cast<uint32_t>(id + 3);
  }
  void Grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (uint64_t slot : old) {
      if (slot != 0)
        Put(static_cast<uint32_t>(slot >> 32),
            static_cast<int32_t>(static_cast<uint32_t>(slot)) - 3);
    }
  }
  std::vector<uint64_t> slots_;
  size_t mask_;
  size_t size_ = 0;
};

constexpr int32_t kInternalId = -1;
constexpr int32_t kInvalidId = -2;

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
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
          return InvalidArgumentError("not a hex digest");
        }
      }
      return core::Indicator{type, std::move(v)};
    }
  }
  return InvalidArgumentError("unknown value kind");
}

struct Sifter::Impl {
  explicit Impl(SiftOptions o) : options(std::move(o)) {}
  ~Impl() {
    if (spool != nullptr) std::fclose(spool);
  }

  SiftOptions options;
  // Observables' values; their counters live in `hot` (one 48-byte record per observable, so
  // the per-line updates touch one cache line) and are copied in by Sync().
  mutable std::vector<Observable> observables;
  struct Hot {
    uint64_t lines = 0;
    uint64_t single_lines = 0;  // lines holding this observable alone
    int64_t first = 0;
    int64_t last = 0;
    uint64_t alerts = 0;
    FieldMask fields = 0;
  };
  std::vector<Hot> hot;
  mutable size_t synced = 0;
  mutable bool dirty = false;
  SiftCounts counts;
  std::vector<MalformedLine> malformed;
  std::vector<FileStats> files;

  StringMap<int32_t> raw_cache[5];  // per ValueKind: raw text -> id (or internal / invalid)
  Ipv4Map v4_cache;                 // dotted quads -> id (or internal)
  StringMap<uint32_t> by_value;     // "family\x1fvalue" -> id
  std::unordered_set<std::string> internal_values;

  // Line groups: lines with no or one observable are counted here; lines with several go to
  // the spool (a temporary file), so memory does not grow with lines. With annotations, every
  // line goes to the spool, in order.
  uint64_t empty_lines = 0;
  std::FILE* spool = nullptr;
  std::vector<char> spool_buf;
  Status spool_status;

  // A log arriving in pieces (BeginStream .. EndStream).
  struct StreamState {
    enum class Mode : uint8_t { kUndecided, kPlain, kGzip, kBetweenMembers, kTrailing };
    std::string name;
    Mode mode = Mode::kUndecided;
    std::array<char, 2> magic{};  // the first bytes, until they tell plain from gzip
    size_t magic_len = 0;
    uint64_t bytes_in = 0;
    uint64_t inflated = 0;
    uint64_t max_inflated = 0;
    z_stream z{};
    bool z_init = false;
    std::vector<char> out;
    std::string carry;
    bool skipping = false;
    Status error;
    ~StreamState() {
      if (z_init) inflateEnd(&z);
    }
  };
  std::unique_ptr<StreamState> stream;

  // Per-file state.
  std::unique_ptr<LineParser> parser;
  size_t file_no = 0;
  uint64_t line_no = 0;
  ParsedLine parsed;
  std::vector<uint32_t> ids;
  std::string key;

  int32_t Lookup(const RawObservable& o) {
    // The fast path: a plain dotted quad (most clients of most logs) is its own canonical form.
    uint32_t v4 = 0;
    if ((o.kind == ValueKind::kIp || o.kind == ValueKind::kHostOrIp) &&
        core::ParseIpv4(o.raw, &v4)) {
      int32_t id = 0;
      if (v4_cache.Find(v4, &id)) return id;
      id = Resolve(o);
      v4_cache.Insert(v4, id);
      return id;
    }
    auto& cache = raw_cache[static_cast<size_t>(o.kind)];
    auto it = cache.find(o.raw);
    if (it != cache.end()) return it->second;
    int32_t id = Resolve(o);
    if (cache.size() < (size_t{1} << 26)) cache.emplace(std::string(o.raw), id);
    return id;
  }

  int32_t Resolve(const RawObservable& o) {
    bool internal = false;
    auto ind = NormalizeObservable(o.kind, o.field, o.raw, &internal);
    if (!ind.ok()) {
      ++counts.invalid_values;
      return kInvalidId;
    }
    if (internal) {
      if (internal_values.insert(ind->value).second) ++counts.internal;
      return kInternalId;
    }
    std::string k(core::FamilyName(core::FamilyOf(ind->type)));
    k += '\x1f';
    k += ind->value;
    auto it = by_value.find(k);
    if (it != by_value.end()) return static_cast<int32_t>(it->second);
    auto id = static_cast<uint32_t>(observables.size());
    by_value.emplace(std::move(k), id);
    Observable ob;
    ob.value = std::move(ind->value);
    ob.type = ind->type;
    ob.field = o.field;
    observables.push_back(std::move(ob));
    hot.emplace_back();
    return static_cast<int32_t>(id);
  }

  void Malformed(std::string_view path, const Status& status) {
    ++counts.malformed;
    if (malformed.size() < options.max_malformed_examples) {
      malformed.push_back({std::string(path), line_no, std::string(status.message())});
    }
  }

  void Line(std::string_view line, bool cut) {
    ++line_no;
    ++counts.lines;
    ++files[file_no].lines;
    if (cut) ++counts.cut;
    ids.clear();
    if (parser == nullptr) {
      LogFormat format = options.format;
      if (format == LogFormat::kAuto) format = DetectLogFormat(line);
      if (format == LogFormat::kAuto) {
        // Leading blank lines wait for a line that tells the format.
        if (line.empty() || line == "\r") {
          ++counts.parsed;
          Group();
          return;
        }
        // Lines that tell nothing are malformed until one tells the format.
        Malformed(files[file_no].path, InvalidArgumentError("cannot tell the log format"));
        Group();
        return;
      }
      files[file_no].format = format;
      parser = LineParser::CreateForFile(format, line, options.parser);
    }
    Status s = parser->Parse(line, &parsed);
    if (!s.ok()) {
      Malformed(files[file_no].path, s);
      Group();
      return;
    }
    ++counts.parsed;
    for (const RawObservable& o : parsed.observables) {
      if ((options.fields & FieldBit(o.field)) == 0) continue;
      int32_t id = Lookup(o);
      if (id < 0) continue;
      hot[static_cast<size_t>(id)].fields |= FieldBit(o.field);
      ids.push_back(static_cast<uint32_t>(id));
    }
    if (ids.size() > 1) {
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    dirty = dirty || !ids.empty();
    for (uint32_t id : ids) {
      Hot& h = hot[id];
      ++h.lines;
      if (parsed.time != 0) {
        if (h.first == 0 || parsed.time < h.first) h.first = parsed.time;
        if (parsed.time > h.last) h.last = parsed.time;
      }
    }
    if (!parsed.alert_client.empty()) {
      ++counts.alerts;
      ++files[file_no].alerts;
      if ((options.fields & FieldBit(Field::kClient)) != 0) {
        int32_t id = Lookup({Field::kClient, ValueKind::kIp, parsed.alert_client});
        if (id >= 0) ++hot[static_cast<size_t>(id)].alerts;
        dirty = true;
      }
    }
    Group();
  }

  // Counts the line in its group and spools its record: a count, then the ids.
  void Group() {
    if (ids.size() == 1) {
      ++hot[ids[0]].single_lines;
    } else if (ids.empty()) {
      ++empty_lines;
    }
    if (ids.size() <= 1 && !options.annotate) return;
    if (spool == nullptr && !OpenSpool()) return;
    auto n = static_cast<uint32_t>(ids.size());
    std::fwrite(&n, sizeof n, 1, spool);
    if (n > 0) std::fwrite(ids.data(), sizeof(uint32_t), n, spool);
  }

  bool OpenSpool() {
    if (!spool_status.ok()) return false;
    spool = std::tmpfile();
    if (spool == nullptr) {
      spool_status =
          DataLossError(std::string("cannot create a temporary file: ") + std::strerror(errno));
      return false;
    }
    spool_buf.resize(1 << 16);
    std::setvbuf(spool, spool_buf.data(), _IOFBF, spool_buf.size());
    return true;
  }

  // Copies the counters into `observables`.
  void Sync() const {
    if (!dirty && synced == observables.size()) return;
    for (size_t i = 0; i < observables.size(); ++i) {
      Observable& o = observables[i];
      const Hot& h = hot[i];
      o.lines = h.lines;
      o.first_seen = h.first;
      o.last_seen = h.last;
      o.alerts = h.alerts;
      o.fields = h.fields;
    }
    synced = observables.size();
    dirty = false;
  }

  // Replays the spool: fn(ids) per record.
  Status Replay(const std::function<void(std::span<const uint32_t>)>& fn) const {
    IOCGRID_RETURN_IF_ERROR(spool_status);
    if (spool == nullptr) return Status::Ok();
    if (std::fflush(spool) != 0 || std::fseek(spool, 0, SEEK_SET) != 0) {
      return DataLossError("line spool: " + std::string(std::strerror(errno)));
    }
    std::vector<uint32_t> buf;
    uint32_t n = 0;
    while (std::fread(&n, sizeof n, 1, spool) == 1) {
      buf.resize(n);
      if (n > 0 && std::fread(buf.data(), sizeof(uint32_t), n, spool) != n) {
        return DataLossError("line spool ends early");
      }
      fn(buf);
    }
    if (std::ferror(spool)) return DataLossError("line spool: read error");
    std::fseek(spool, 0, SEEK_END);
    return Status::Ok();
  }

  void BeginFile(std::string_view path) {
    files.push_back({std::string(path), options.format, 0, 0});
    file_no = files.size() - 1;
    line_no = 0;
    parser.reset();
  }

  // Splits `data` into lines; `carry` holds an unfinished line between calls.
  void Feed(std::string_view data, std::string* carry, bool* skipping) {
    size_t pos = 0;
    while (pos < data.size()) {
      const char* nl =
          static_cast<const char*>(std::memchr(data.data() + pos, '\n', data.size() - pos));
      size_t end = nl == nullptr ? data.size() : static_cast<size_t>(nl - data.data());
      if (*skipping) {
        if (nl == nullptr) return;
        *skipping = false;
        pos = end + 1;
        continue;
      }
      if (nl == nullptr) {
        carry->append(data.substr(pos));
        if (carry->size() > options.max_line_bytes) {
          Line(std::string_view(*carry).substr(0, options.max_line_bytes), true);
          carry->clear();
          *skipping = true;
        }
        return;
      }
      std::string_view line = data.substr(pos, end - pos);
      if (!carry->empty()) {
        carry->append(line);
        bool cut = carry->size() > options.max_line_bytes;
        Line(std::string_view(*carry).substr(0, std::min(carry->size(), options.max_line_bytes)),
             cut);
        carry->clear();
      } else if (line.size() > options.max_line_bytes) {
        Line(line.substr(0, options.max_line_bytes), true);
      } else {
        Line(line, false);
      }
      pos = end + 1;
    }
  }

  void Finish(std::string* carry) {
    if (!carry->empty()) Line(*carry, false);
    carry->clear();
  }

  // "NAME: WHAT after N bytes received (M line(s) read)".
  Status StreamError(StatusCode code, std::string_view what) const {
    return Status(code, stream->name + ": " + std::string(what) + " after " +
                            std::to_string(stream->bytes_in) + " byte(s) received (" +
                            std::to_string(files.back().lines) + " line(s) read)");
  }

  Status StartMember() {
    StreamState& st = *stream;
    int rc = st.z_init ? inflateReset(&st.z) : inflateInit2(&st.z, 16 + MAX_WBITS);
    if (rc != Z_OK) return ResourceExhaustedError("cannot start a gzip reader");
    st.z_init = true;
    if (st.out.empty()) st.out.resize(1 << 18);
    return Status::Ok();
  }

  // Inflates from `data` until it is used up or a gzip member ends; *used says how much of it
  // was taken.
  Status Inflate(std::string_view data, size_t* used) {
    StreamState& st = *stream;
    z_stream& z = st.z;
    size_t take = std::min<size_t>(data.size(), 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(take);
    for (;;) {
      z.next_out = reinterpret_cast<Bytef*>(st.out.data());
      z.avail_out = static_cast<uInt>(st.out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      size_t produced = st.out.size() - z.avail_out;
      st.inflated += produced;
      if (st.max_inflated != 0 && st.inflated > st.max_inflated) {
        return StreamError(
            StatusCode::kResourceExhausted,
            "the gzip stream inflates to more than " + std::to_string(st.max_inflated) + " bytes");
      }
      if (produced > 0) Feed(std::string_view(st.out.data(), produced), &st.carry, &st.skipping);
      if (rc == Z_STREAM_END) {
        st.mode = StreamState::Mode::kBetweenMembers;
        break;
      }
      if (rc == Z_BUF_ERROR) break;  // wants more input
      if (rc != Z_OK) {
        return StreamError(StatusCode::kDataLoss, std::string("corrupt gzip data (") +
                                                      (z.msg != nullptr ? z.msg : "inflate") + ")");
      }
      if (z.avail_in == 0 && z.avail_out != 0) break;
    }
    *used = take - z.avail_in;
    return Status::Ok();
  }

  Status StreamData(std::string_view data) {
    using Mode = StreamState::Mode;
    StreamState& st = *stream;
    while (!data.empty()) {
      switch (st.mode) {
        case Mode::kPlain:
          Feed(data, &st.carry, &st.skipping);
          return Status::Ok();
        case Mode::kTrailing:  // after the last gzip member: ignored, as gzread does
          return Status::Ok();
        case Mode::kGzip: {
          size_t used = 0;
          IOCGRID_RETURN_IF_ERROR(Inflate(data, &used));
          data.remove_prefix(used);
          break;
        }
        case Mode::kUndecided:
        case Mode::kBetweenMembers: {
          size_t need = std::min(data.size(), st.magic.size() - st.magic_len);
          std::memcpy(st.magic.data() + st.magic_len, data.data(), need);
          st.magic_len += need;
          data.remove_prefix(need);
          if (st.magic_len < st.magic.size()) return Status::Ok();
          st.magic_len = 0;
          const std::array<char, 2> magic = st.magic;
          bool gz = magic[0] == '\x1f' && magic[1] == '\x8b';
          if (st.mode == Mode::kBetweenMembers && !gz) {
            st.mode = Mode::kTrailing;
            return Status::Ok();
          }
          st.mode = gz ? Mode::kGzip : Mode::kPlain;
          if (gz) IOCGRID_RETURN_IF_ERROR(StartMember());
          // The mode is decided now: this goes no deeper.
          IOCGRID_RETURN_IF_ERROR(StreamData(std::string_view(magic.data(), magic.size())));
          break;
        }
      }
    }
    return Status::Ok();
  }
};

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
