// Sifter's state and line loop (sifter.h), shared by sifter.cc (files, streams, the public
// accessors) and sifter_split.cc (a large file read by two threads, then merged).
//
// Thread-safety: an Impl is used by one thread at a time.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/huge_pages.h"
#include "common/status.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "sift/log_parser.h"
#include "sift/sifter.h"

namespace iocgrid::sift {
namespace internal {

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
  // Starts loading the cache line where `key` would be (a lookup soon after is then a hit).
  void Prefetch(uint32_t key) const { __builtin_prefetch(&slots_[Hash(key) & mask_]); }
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
    HugeVector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (uint64_t slot : old) {
      if (slot != 0)
        Put(static_cast<uint32_t>(slot >> 32),
            static_cast<int32_t>(static_cast<uint32_t>(slot)) - 3);
    }
  }
  HugeVector<uint64_t> slots_;
  size_t mask_;
  size_t size_ = 0;
};

inline constexpr int32_t kInternalId = -1;
inline constexpr int32_t kInvalidId = -2;

}  // namespace internal

struct Sifter::Impl {
  template <typename V>
  using StringMap = internal::StringMap<V>;
  using Ipv4Map = internal::Ipv4Map;
  static constexpr int32_t kInternalId = internal::kInternalId;
  static constexpr int32_t kInvalidId = internal::kInvalidId;

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
  HugeVector<Hot> hot;  // random access per line: huge pages spare a TLB miss
  mutable size_t synced = 0;
  mutable bool dirty = false;
  SiftCounts counts;
  std::vector<MalformedLine> malformed;
  std::vector<FileStats> files;

  StringMap<int32_t> raw_cache[5];  // per ValueKind: raw text -> id (or internal / invalid)
  // IPv4 addresses -> observable id, or kInternalId for an internal one. A plain dotted quad is
  // its own normalized form, so this one table is both the raw-text cache of dotted quads and
  // the index of IPv4 observables (whatever raw form they came in): one cache miss per line.
  Ipv4Map v4_ids;
  StringMap<uint32_t> by_value;  // "family\x1fvalue" -> id, for the other observables
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

  // Whether `o` is a plain dotted quad (*v4: its address).
  static bool PlainIpv4(const RawObservable& o, uint32_t* v4) {
    return (o.kind == ValueKind::kIp || o.kind == ValueKind::kHostOrIp) &&
           core::ParseIpv4(o.raw, v4);
  }

  // `pre`: the observable's PlainIpv4 answer when already known (1 << 32 | address for a dotted
  // quad, 1 for none), 0 when not.
  int32_t Lookup(const RawObservable& o, uint64_t pre = 0) {
    // The fast path: a plain dotted quad (most clients of most logs) is its own canonical form.
    uint32_t v4 = static_cast<uint32_t>(pre);
    if (pre > 1 || (pre == 0 && PlainIpv4(o, &v4))) {
      int32_t id = 0;
      if (v4_ids.Find(v4, &id)) return id;
      id = Resolve(o);
      if (id < 0) v4_ids.Insert(v4, id);  // Intern indexed the observables
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
    return Intern(std::move(ind->value), ind->type, o.field);
  }

  // The id of the observable (type's family, value), added with `field` when new. IPv4
  // addresses (most observables) are keyed by their 32 bits in v4_ids, others by
  // "family\x1fvalue" in by_value.
  int32_t Intern(std::string value, core::IndicatorType type, Field field) {
    const bool ip = core::FamilyOf(type) == core::MatchFamily::kIp;
    uint32_t v4 = 0;
    std::string k;
    if (ip && core::ParseIpv4(value, &v4)) {
      int32_t id = 0;
      if (v4_ids.Find(v4, &id)) return id;
      v4_ids.Insert(v4, static_cast<int32_t>(observables.size()));
    } else {
      k = core::FamilyName(core::FamilyOf(type));
      k += '\x1f';
      k += value;
      auto it = by_value.find(k);
      if (it != by_value.end()) return static_cast<int32_t>(it->second);
      by_value.emplace(std::move(k), static_cast<uint32_t>(observables.size()));
    }
    const auto id = static_cast<int32_t>(observables.size());
    Observable ob;
    ob.value = std::move(value);
    ob.type = type;
    ob.field = field;
    observables.push_back(std::move(ob));
    hot.emplace_back();
    return id;
  }

  void Malformed(std::string_view path, uint64_t number, const Status& status) {
    ++counts.malformed;
    if (malformed.size() < options.max_malformed_examples) {
      malformed.push_back({std::string(path), number, std::string(status.message())});
    }
  }

  // The line loop is a short pipeline over a batch of lines, so that the two cache misses a
  // line costs (its client's slot in v4_ids, then its counters in `hot`; random over 10^5
  // clients) overlap across lines instead of adding up: parse every line of the batch and
  // prefetch its addresses' slots; look up every line's ids in order (so ids are given in
  // first-seen order, as one line at a time would) and prefetch their counters; then count each
  // line in order. A batch holds up to kBatch lines, only for parsers whose observables point
  // into the line (the line's text must outlive the batch); others run with batches of one.
  static constexpr size_t kBatch = 16;
  struct Pending {
    enum class State : uint8_t { kParsed, kMalformed, kSkipped };
    State state = State::kParsed;
    uint64_t number = 0;
    Status status;
    ParsedLine parsed;
    std::vector<uint32_t> ids;      // of the line's observables that are kept, in order
    std::vector<FieldMask> fields;  // parallel to ids: the field each was seen in
    std::vector<uint64_t> v4;       // parallel to parsed.observables: Lookup's `pre`
    int32_t alert_id = -3;          // -3: no alert
  };
  std::array<Pending, kBatch> batch;
  size_t batched = 0;

  void Line(std::string_view line, bool cut) {
    Pending& p = batch[batched];
    ParseLine(line, cut, &p);
    ++batched;
    if (batched == kBatch || parser == nullptr || !parser->ObservablesPointIntoLine()) FlushLines();
  }

  // Stage 1: counts the line, detects the format on the first line, parses; prefetches the
  // v4_ids slots of the line's dotted quads.
  void ParseLine(std::string_view line, bool cut, Pending* p) {
    ++line_no;
    ++counts.lines;
    ++files[file_no].lines;
    if (cut) ++counts.cut;
    p->number = line_no;
    p->state = Pending::State::kParsed;
    p->alert_id = -3;
    p->ids.clear();
    p->fields.clear();
    p->v4.clear();
    if (parser == nullptr) {
      LogFormat format = options.format;
      if (format == LogFormat::kAuto) format = DetectLogFormat(line);
      if (format == LogFormat::kAuto) {
        // Leading blank lines wait for a line that tells the format; lines that tell nothing
        // are malformed until one does.
        if (line.empty() || line == "\r") {
          ++counts.parsed;
          p->state = Pending::State::kSkipped;
        } else {
          p->state = Pending::State::kMalformed;
          p->status = InvalidArgumentError("cannot tell the log format");
        }
        return;
      }
      files[file_no].format = format;
      parser = LineParser::CreateForFile(format, line, options.parser);
    }
    Status status = parser->Parse(line, &p->parsed);
    if (!status.ok()) {
      p->state = Pending::State::kMalformed;
      p->status = std::move(status);
      return;
    }
    ++counts.parsed;
    for (const RawObservable& o : p->parsed.observables) {
      uint32_t v4 = 0;
      if (PlainIpv4(o, &v4)) {
        v4_ids.Prefetch(v4);
        p->v4.push_back(uint64_t{1} << 32 | v4);
      } else {
        p->v4.push_back(1);
      }
    }
  }

  void FlushLines() {
    // Stage 2: ids in line order; prefetch their counters.
    for (size_t i = 0; i < batched; ++i) {
      Pending& p = batch[i];
      if (p.state != Pending::State::kParsed) continue;
      for (size_t k = 0; k < p.parsed.observables.size(); ++k) {
        const RawObservable& o = p.parsed.observables[k];
        if ((options.fields & FieldBit(o.field)) == 0) continue;
        int32_t id = Lookup(o, p.v4[k]);
        if (id < 0) continue;
        p.ids.push_back(static_cast<uint32_t>(id));
        p.fields.push_back(FieldBit(o.field));
        __builtin_prefetch(&hot[static_cast<size_t>(id)], 1);
      }
      if (!p.parsed.alert_client.empty() && (options.fields & FieldBit(Field::kClient)) != 0) {
        p.alert_id = Lookup({Field::kClient, ValueKind::kIp, p.parsed.alert_client});
      }
    }
    // Stage 3: count each line, in order.
    for (size_t i = 0; i < batched; ++i) CountLine(batch[i]);
    batched = 0;
  }

  void CountLine(Pending& p) {
    ids.clear();
    if (p.state == Pending::State::kMalformed) {
      Malformed(files[file_no].path, p.number, p.status);
      Group();
      return;
    }
    if (p.state == Pending::State::kSkipped) {
      Group();
      return;
    }
    for (size_t k = 0; k < p.ids.size(); ++k) hot[p.ids[k]].fields |= p.fields[k];
    ids.assign(p.ids.begin(), p.ids.end());
    if (ids.size() > 1) {
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    dirty = dirty || !ids.empty();
    const int64_t time = p.parsed.time;
    for (uint32_t id : ids) {
      Hot& h = hot[id];
      ++h.lines;
      if (time != 0) {
        if (h.first == 0 || time < h.first) h.first = time;
        if (time > h.last) h.last = time;
      }
    }
    if (!p.parsed.alert_client.empty()) {
      ++counts.alerts;
      ++files[file_no].alerts;
      if ((options.fields & FieldBit(Field::kClient)) != 0) {
        if (p.alert_id >= 0) ++hot[static_cast<size_t>(p.alert_id)].alerts;
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
    SpoolRecord(ids);
  }

  // Appends one line's record to the spool: a count, then the ids.
  void SpoolRecord(std::span<const uint32_t> record) {
    if (spool == nullptr && !OpenSpool()) return;
    auto n = static_cast<uint32_t>(record.size());
    std::fwrite(&n, sizeof n, 1, spool);
    if (n > 0) std::fwrite(record.data(), sizeof(uint32_t), n, spool);
  }

  // sifter_split.cc: a large plain file of a line-by-line format is read by two threads, the
  // second half into a tail Impl that is then merged in; the result is the same as reading the
  // file in one pass. Returns false (nothing read) when the file does not qualify; otherwise
  // reads it and sets *result.
  bool TrySplitFile(int fd, const std::string& name, const ProgressFn& progress, Status* result);
  // Reads bytes [begin, end) of `fd` as lines of the current file.
  Status ReadRange(int fd, uint64_t begin, uint64_t end, const ProgressFn& progress);
  // Adds what `tail` read (the continuation of the current file) to this one.
  void MergeTail(Impl& tail);

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
    FeedLines(data, carry, skipping);
    FlushLines();  // the batch points into `data`, which the caller reuses
  }

  void FeedLines(std::string_view data, std::string* carry, bool* skipping) {
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
          FlushLines();
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
        FlushLines();  // the batch may point into *carry
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
    FlushLines();
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

}  // namespace iocgrid::sift
