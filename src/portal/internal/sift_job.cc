#include "portal/internal/sift_job.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/time.h"
#include "common/varint.h"
#include "core/indicator_type.h"

namespace iocgrid::portal::internal {

using json = nlohmann::json;

namespace {
constexpr const char* kFormatHint =
    "give ?format= (combined, common, json, eve, modsec, zeek, csv) if it is a log";
}  // namespace

SiftJob::SiftJob(SiftMeta meta, const sift::SiftOptions& options, SiftLimits limits)
    : meta_(std::move(meta)), limits_(limits), sifter_(std::make_unique<sift::Sifter>(options)) {
  sifter_->BeginStream("upload", limits_.max_inflated_bytes);
}

SiftJob::SiftJob(SiftMeta meta, SiftResult done) : meta_(std::move(meta)) {
  bytes_.store(done.bytes);
  lines_.store(done.counts.lines);
  observables_.store(done.observables.size());
  MutexLock lock(mu_);
  result_ = std::make_shared<const SiftResult>(std::move(done));
}

SiftJob::~SiftJob() = default;

Status SiftJob::Write(std::string_view piece) {
  if (sifter_ == nullptr) return InternalError("the upload has ended");
  Status s = sifter_->WriteStream(piece);
  bytes_.store(sifter_->stream_bytes_in());
  lines_.store(sifter_->counts().lines);
  observables_.store(sifter_->observable_count());
  auto where = [&] {
    return " after " + std::to_string(bytes_.load()) + " byte(s) received (" +
           std::to_string(lines_.load()) + " line(s) read)";
  };
  if (s.ok() && sifter_->observable_count() > limits_.max_observables) {
    s = ResourceExhaustedError("upload: more than " + std::to_string(limits_.max_observables) +
                               " distinct observables (the portal's max_indicators: one search "
                               "takes them all); split the log" +
                               where());
  }
  if (s.ok() && bytes_.load() >= limits_.detect_within_bytes && lines_.load() > 0) {
    s = CheckLooksLikeALog(where());
  }
  if (!s.ok()) write_failed_ = true;
  return s;
}

// Binary garbage and the wrong file fail early: the format must be told, and something must
// parse, within the first detect_within_bytes.
Status SiftJob::CheckLooksLikeALog(const std::string& where) const {
  const sift::SiftCounts& c = sifter_->counts();
  const sift::LogFormat format = sifter_->files().back().format;
  if (format == sift::LogFormat::kAuto) {
    return InvalidArgumentError("upload: cannot tell the log format from its first " +
                                std::to_string(c.lines) + " line(s); " + kFormatHint + where);
  }
  if (sifter_->observable_count() > 0 || c.internal > 0 || c.invalid_values > 0 ||
      c.malformed * 2 <= c.lines) {
    return Status::Ok();
  }
  return InvalidArgumentError("upload: nothing in its first " + std::to_string(c.lines) +
                              " line(s) parses as a " + std::string(sift::LogFormatName(format)) +
                              " log" + FirstProblem() + "; " + kFormatHint + where);
}

std::string SiftJob::FirstProblem() const {
  const auto& m = sifter_->malformed_examples();
  if (m.empty()) return "";
  return " (line " + std::to_string(m[0].line) + ": " + m[0].reason + ")";
}

Result<std::shared_ptr<const SiftResult>> SiftJob::End() {
  if (sifter_ == nullptr) return InternalError("the upload has ended");
  Status s = sifter_->EndStream();
  lines_.store(sifter_->counts().lines);
  if (!s.ok()) {
    sifter_.reset();
    if (s.code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError(std::string(s.message()) +
                                  "; give ?format= (combined, common, json, eve, modsec, zeek, "
                                  "csv)");
    }
    return s;
  }
  if (sifter_->counts().lines == 0) {
    sifter_.reset();
    return InvalidArgumentError("The upload is empty: send the log as the request body.");
  }
  if (sifter_->counts().malformed == sifter_->counts().lines) {
    Status none = InvalidArgumentError(
        "upload: none of its " + std::to_string(sifter_->counts().lines) + " line(s) parses as a " +
        std::string(sift::LogFormatName(sifter_->files().back().format)) + " log" + FirstProblem() +
        "; " + kFormatHint);
    sifter_.reset();
    return none;
  }
  auto r = std::make_shared<SiftResult>();
  r->format = std::string(sift::LogFormatName(sifter_->files().back().format));
  r->bytes = sifter_->stream_bytes_in();
  r->counts = sifter_->counts();
  r->malformed = sifter_->malformed_examples();
  r->observables = sifter_->observables();
  // Merge the line groups: lines holding the same observables become one group.
  std::unordered_map<std::string, size_t> index;
  Status grouped = sifter_->ForEachLineGroup([&](std::span<const uint32_t> ids, uint64_t n) {
    std::string key(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(uint32_t));
    auto [it, added] = index.emplace(std::move(key), r->groups.size());
    if (added) r->groups.push_back({std::vector<uint32_t>(ids.begin(), ids.end()), 0});
    r->groups[it->second].lines += n;
  });
  sifter_.reset();  // the raw-text caches and the spool go now
  if (!grouped.ok()) return grouped;
  MutexLock lock(mu_);
  result_ = r;
  return std::shared_ptr<const SiftResult>(r);
}

std::string SiftJob::status() const {
  MutexLock lock(mu_);
  return status_;
}

void SiftJob::set_status(std::string status) {
  MutexLock lock(mu_);
  status_ = std::move(status);
}

std::string SiftJob::search_id() const {
  MutexLock lock(mu_);
  return search_id_;
}

void SiftJob::set_search_id(std::string id) {
  MutexLock lock(mu_);
  search_id_ = std::move(id);
}

json SiftJob::Progress() const {
  return {{"bytes", bytes_.load()}, {"lines", lines_.load()}, {"observables", observables_.load()}};
}

std::shared_ptr<const SiftResult> SiftJob::result() const {
  MutexLock lock(mu_);
  return result_;
}

// ------------------------------------------------------------------ store encoding

namespace {

bool GetUint(const json& j, uint64_t* out) {
  if (!j.is_number_unsigned()) return false;
  *out = j.get<uint64_t>();
  return true;
}

bool GetInt(const json& j, int64_t* out) {
  if (!j.is_number_integer()) return false;
  *out = j.get<int64_t>();
  return true;
}

// The member `key` of an object, or null (a const lookup of a missing key is undefined in
// nlohmann's operator[]).
const json& Member(const json& o, const char* key) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

Status Unreadable(std::string_view what) {
  return DataLossError("stored sift is unreadable (" + std::string(what) + ")");
}

Status DecodeObservable(const json& o, sift::Observable* out) {
  if (!o.is_array() || o.size() != 8 || !o[0].is_string() || !o[1].is_string() ||
      !o[2].is_string()) {
    return Unreadable("observable");
  }
  out->value = o[0].get<std::string>();
  auto type = core::TypeFromName(o[1].get<std::string>());
  sift::Field field;
  uint64_t fields = 0;
  if (!type || !sift::ParseField(o[2].get<std::string>(), &field) || !GetUint(o[3], &fields) ||
      !GetUint(o[4], &out->lines) || !GetInt(o[5], &out->first_seen) ||
      !GetInt(o[6], &out->last_seen) || !GetUint(o[7], &out->alerts) || fields > sift::kAllFields) {
    return Unreadable("observable fields");
  }
  out->type = *type;
  out->field = field;
  out->fields = static_cast<sift::FieldMask>(fields);
  return Status::Ok();
}

Status DecodeGroups(std::string_view blob, size_t observables, std::vector<LineGroup>* out) {
  while (!blob.empty()) {
    LineGroup g;
    uint64_t n = 0;
    if (!GetVarint(&blob, &g.lines) || !GetVarint(&blob, &n) || n > blob.size()) {
      return Unreadable("line groups");
    }
    uint64_t id = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t delta = 0;
      if (!GetVarint(&blob, &delta)) return Unreadable("line groups");
      id += delta;
      if (id >= observables) return Unreadable("line group id");
      g.ids.push_back(static_cast<uint32_t>(id));
    }
    out->push_back(std::move(g));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeLineGroups(const std::vector<LineGroup>& groups) {
  std::string out;
  for (const LineGroup& g : groups) {
    PutVarint(g.lines, &out);
    PutVarint(g.ids.size(), &out);
    uint32_t prev = 0;
    for (uint32_t id : g.ids) {  // ascending (Sifter sorts a line's ids)
      PutVarint(id - prev, &out);
      prev = id;
    }
  }
  return out;
}

std::string EncodeSiftResult(const SiftResult& r) {
  const sift::SiftCounts& c = r.counts;
  json counts = {{"lines", c.lines},         {"parsed", c.parsed},
                 {"malformed", c.malformed}, {"cut", c.cut},
                 {"internal", c.internal},   {"invalid_values", c.invalid_values},
                 {"alerts", c.alerts}};
  json malformed = json::array();
  for (const auto& m : r.malformed) malformed.push_back({m.line, m.reason});
  json obs = json::array();
  for (const sift::Observable& o : r.observables) {
    obs.push_back({o.value, core::TypeName(o.type), sift::FieldName(o.field), o.fields, o.lines,
                   o.first_seen, o.last_seen, o.alerts});
  }
  json doc = {{"format", r.format},
              {"bytes", r.bytes},
              {"counts", counts},
              {"malformed", malformed},
              {"observables", obs}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<SiftResult> DecodeSiftResult(std::string_view json_text, std::string_view groups_blob) {
  json d = json::parse(json_text, nullptr, false);
  if (d.is_discarded() || !d.is_object()) return Unreadable("not JSON");
  SiftResult r;
  const json& c = Member(d, "counts");
  if (!Member(d, "format").is_string() || !GetUint(Member(d, "bytes"), &r.bytes) ||
      !GetUint(Member(c, "lines"), &r.counts.lines) ||
      !GetUint(Member(c, "parsed"), &r.counts.parsed) ||
      !GetUint(Member(c, "malformed"), &r.counts.malformed) ||
      !GetUint(Member(c, "cut"), &r.counts.cut) ||
      !GetUint(Member(c, "internal"), &r.counts.internal) ||
      !GetUint(Member(c, "invalid_values"), &r.counts.invalid_values) ||
      !GetUint(Member(c, "alerts"), &r.counts.alerts) || !Member(d, "malformed").is_array() ||
      !Member(d, "observables").is_array()) {
    return Unreadable("summary");
  }
  r.format = Member(d, "format").get<std::string>();
  for (const json& m : Member(d, "malformed")) {
    sift::MalformedLine line;
    line.path = "upload";
    if (!m.is_array() || m.size() != 2 || !GetUint(m[0], &line.line) || !m[1].is_string()) {
      return Unreadable("malformed lines");
    }
    line.reason = m[1].get<std::string>();
    r.malformed.push_back(std::move(line));
  }
  for (const json& o : Member(d, "observables")) {
    sift::Observable ob;
    IOCGRID_RETURN_IF_ERROR(DecodeObservable(o, &ob));
    r.observables.push_back(std::move(ob));
  }
  IOCGRID_RETURN_IF_ERROR(DecodeGroups(groups_blob, r.observables.size(), &r.groups));
  return r;
}

}  // namespace iocgrid::portal::internal
