#include "psi/wire.h"

#include <algorithm>
#include <string>

namespace iocgrid::psi {
namespace {

constexpr std::string_view kMagic = "IGP1";

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

template <size_t N>
void PutBytes(std::string* out, const std::array<uint8_t, N>& bytes) {
  out->append(reinterpret_cast<const char*>(bytes.data()), N);
}

// A cursor over the input that never reads past its end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }

  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return v;
  }
  template <size_t N>
  void Bytes(std::array<uint8_t, N>* out) {
    std::copy_n(bytes_.data() + pos_, N, reinterpret_cast<char*>(out->data()));
    pos_ += N;
  }
  std::string_view Take(size_t n) {
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

size_t ItemBytes(FrameKind kind) {
  switch (kind) {
    case FrameKind::kPoints:
      return kPointBytes;
    case FrameKind::kTags:
      return kTagBytes;
    case FrameKind::kTagChanges:
      return kTagBytes + 1;
    case FrameKind::kBuckets:
      return 4;
    case FrameKind::kLabels:
      return kTagBytes + 4;  // the fixed part; the label follows
  }
  return 0;
}

bool KnownKind(uint8_t kind) { return kind >= 1 && kind <= 5; }

Status ParseItems(Reader& r, Frame& f, uint32_t count, const FrameLimits& limits) {
  switch (f.kind) {
    case FrameKind::kPoints:
      f.points.resize(count);
      for (Point& p : f.points) r.Bytes(&p);
      break;
    case FrameKind::kTags:
      f.tags.resize(count);
      for (Tag& t : f.tags) r.Bytes(&t);
      break;
    case FrameKind::kTagChanges:
      f.changes.resize(count);
      for (TagChange& c : f.changes) {
        r.Bytes(&c.tag);
        uint8_t flag = r.U8();
        if (flag > 1) return InvalidArgumentError("tag change flag must be 0 or 1");
        c.removed = flag == 1;
      }
      break;
    case FrameKind::kBuckets: {
      if (f.param > limits.max_bucket_bits) {
        return InvalidArgumentError("bucket bits " + std::to_string(f.param) + " > " +
                                    std::to_string(limits.max_bucket_bits));
      }
      f.buckets.resize(count);
      for (uint32_t& b : f.buckets) {
        b = r.U32();
        if (f.param < 32 && (b >> f.param) != 0) {
          return InvalidArgumentError("bucket number outside its bits");
        }
      }
      break;
    }
    case FrameKind::kLabels:
      // Items vary in size: each is checked against what is left before it is copied.
      for (uint32_t i = 0; i < count; ++i) {
        if (r.remaining() < kTagBytes + 4) return InvalidArgumentError("truncated label item");
        LabeledTag item;
        r.Bytes(&item.tag);
        const uint32_t length = r.U32();
        if (length > limits.max_label_bytes) {
          return ResourceExhaustedError("label of " + std::to_string(length) + " bytes > " +
                                        std::to_string(limits.max_label_bytes));
        }
        if (length > r.remaining()) return InvalidArgumentError("truncated label");
        item.label = std::string(r.Take(length));
        f.labels.push_back(std::move(item));
      }
      break;
  }
  return Status();
}

}  // namespace

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kPoints:
      return "points";
    case FrameKind::kTags:
      return "tags";
    case FrameKind::kTagChanges:
      return "tag-changes";
    case FrameKind::kBuckets:
      return "buckets";
    case FrameKind::kLabels:
      return "labels";
  }
  return "unknown";
}

size_t Frame::size() const {
  switch (kind) {
    case FrameKind::kPoints:
      return points.size();
    case FrameKind::kTags:
      return tags.size();
    case FrameKind::kTagChanges:
      return changes.size();
    case FrameKind::kBuckets:
      return buckets.size();
    case FrameKind::kLabels:
      return labels.size();
  }
  return 0;
}

std::string EncodeFrame(const Frame& frame) {
  std::string out;
  size_t body = frame.size() * ItemBytes(frame.kind);
  for (const LabeledTag& l : frame.labels) body += l.label.size();
  out.reserve(kFrameHeaderBytes + body);
  out.append(kMagic);
  out.push_back(static_cast<char>(frame.kind));
  out.push_back(static_cast<char>(frame.param));
  out.append(2, '\0');
  PutU32(&out, frame.epoch);
  PutU32(&out, static_cast<uint32_t>(frame.size()));
  PutU64(&out, frame.cursor_generation);
  PutU64(&out, frame.cursor_id);
  switch (frame.kind) {
    case FrameKind::kPoints:
      for (const Point& p : frame.points) PutBytes(&out, p);
      break;
    case FrameKind::kTags:
      for (const Tag& t : frame.tags) PutBytes(&out, t);
      break;
    case FrameKind::kTagChanges:
      for (const TagChange& c : frame.changes) {
        PutBytes(&out, c.tag);
        out.push_back(c.removed ? '\1' : '\0');
      }
      break;
    case FrameKind::kBuckets:
      for (uint32_t b : frame.buckets) PutU32(&out, b);
      break;
    case FrameKind::kLabels:
      for (const LabeledTag& l : frame.labels) {
        PutBytes(&out, l.tag);
        PutU32(&out, static_cast<uint32_t>(l.label.size()));
        out.append(l.label);
      }
      break;
  }
  return out;
}

Result<Frame> ParseFrame(std::string_view bytes, const FrameLimits& limits) {
  if (bytes.size() < kFrameHeaderBytes) {
    return InvalidArgumentError("private-search frame shorter than its 32-byte header");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return InvalidArgumentError("not a private-search frame (magic)");
  }
  Reader r(bytes.substr(kMagic.size()));
  const uint8_t kind = r.U8();
  if (!KnownKind(kind)) return InvalidArgumentError("unknown frame kind " + std::to_string(kind));
  Frame f;
  f.kind = static_cast<FrameKind>(kind);
  f.param = r.U8();
  if (r.U8() != 0 || r.U8() != 0) return InvalidArgumentError("reserved frame bytes are not 0");
  f.epoch = r.U32();
  const uint32_t count = r.U32();
  f.cursor_generation = r.U64();
  f.cursor_id = r.U64();
  if (count > limits.max_items) {
    return ResourceExhaustedError(std::to_string(count) + " items in one frame > " +
                                  std::to_string(limits.max_items));
  }
  const bool pages = f.kind == FrameKind::kTags || f.kind == FrameKind::kTagChanges;
  if (pages ? f.param > 1 : f.kind != FrameKind::kBuckets && f.param != 0) {
    return InvalidArgumentError("frame parameter not valid for its kind");
  }
  // Fixed-size kinds must add up exactly; labels at least reach their fixed parts.
  const uint64_t fixed = uint64_t{count} * ItemBytes(f.kind);
  if (f.kind == FrameKind::kLabels ? fixed > r.remaining() : fixed != r.remaining()) {
    return InvalidArgumentError("frame length does not match its " + std::to_string(count) +
                                " items");
  }
  IOCGRID_RETURN_IF_ERROR(ParseItems(r, f, count, limits));
  if (r.remaining() != 0) return InvalidArgumentError("trailing bytes after the frame's items");
  return f;
}

Result<Frame> ParseFrameOf(FrameKind kind, std::string_view bytes, const FrameLimits& limits) {
  IOCGRID_ASSIGN_OR_RETURN(Frame f, ParseFrame(bytes, limits));
  if (f.kind != kind) {
    return InvalidArgumentError("expected a " + std::string(FrameKindName(kind)) + " frame, got " +
                                std::string(FrameKindName(f.kind)));
  }
  return f;
}

}  // namespace iocgrid::psi
