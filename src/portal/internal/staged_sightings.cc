#include "portal/internal/staged_sightings.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/varint.h"

namespace iocgrid::portal::internal {

namespace {

constexpr char kMagic = 'S';

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void PutStrings(const std::vector<std::string>& list, std::string* out) {
  PutVarint(list.size(), out);
  for (const std::string& s : list) PutString(s, out);
}

// Reads from the front of a staged batch; the first failure is kept and named.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

  uint64_t Uint() {
    uint64_t v = 0;
    if (ok_ && !GetVarint(&in_, &v)) ok_ = false;
    return ok_ ? v : 0;
  }
  int64_t Int() {
    int64_t v = 0;
    if (ok_ && !GetSignedVarint(&in_, &v)) ok_ = false;
    return ok_ ? v : 0;
  }
  std::string String() {
    const uint64_t n = Uint();
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  std::vector<std::string> Strings() {
    const uint64_t n = Uint();
    std::vector<std::string> list;
    if (!ok_ || n > in_.size()) {  // every string takes a byte at least
      ok_ = false;
      return list;
    }
    list.reserve(n);
    for (uint64_t i = 0; i < n && ok_; ++i) list.push_back(String());
    return list;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

Status Damaged(std::string_view what) {
  return DataLossError("portal store: a staged batch of alliance sightings is damaged (" +
                       std::string(what) + ")");
}

}  // namespace

std::string EncodeStagedSightings(const std::vector<AllianceSighting>& sightings) {
  std::string out(1, kMagic);
  PutVarint(sightings.size(), &out);
  for (const AllianceSighting& s : sightings) {
    PutString(s.value, &out);
    PutString(s.type, &out);
    PutString(s.cls, &out);
    PutSignedVarint(s.day, &out);
    PutSignedVarint(s.first_seen, &out);
    PutSignedVarint(s.last_seen, &out);
    PutVarint(s.count, &out);
    PutVarint(s.alerted, &out);
    PutStrings(s.members, &out);
    PutStrings(s.actors, &out);
  }
  return out;
}

Result<std::vector<AllianceSighting>> DecodeStagedSightings(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != kMagic) return Damaged("not a staged batch");
  Reader r(bytes.substr(1));
  const uint64_t n = r.Uint();
  // A sighting takes 10 bytes at least (three empty strings, five numbers, two empty lists).
  if (!r.ok() || n > r.left() / 10) return Damaged("its count does not fit its size");
  std::vector<AllianceSighting> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    AllianceSighting s;
    s.value = r.String();
    s.type = r.String();
    s.cls = r.String();
    s.day = r.Int();
    s.first_seen = r.Int();
    s.last_seen = r.Int();
    s.count = r.Uint();
    s.alerted = r.Uint();
    s.members = r.Strings();
    s.actors = r.Strings();
    out.push_back(std::move(s));
  }
  if (!r.ok()) return Damaged("it ends inside sighting " + std::to_string(out.size()));
  if (!r.done()) return Damaged("bytes after its last sighting");
  return out;
}

}  // namespace iocgrid::portal::internal
