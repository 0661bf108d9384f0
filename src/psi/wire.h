// The binary messages of private search (docs/private-search.md "Wire format"): one frame per
// HTTP body, a 32-byte header and fixed- or length-prefixed items, all integers big-endian.
//
//   offset size field
//   0      4    magic "IGP1"
//   4      1    kind (FrameKind)
//   5      1    param: bucket bits for kBuckets; for kTags and kTagChanges 1 = "more pages may
//               follow" (a page as long as asked), else 0
//   6      2    reserved, 0
//   8      4    key epoch
//   12     4    item count
//   16     8    cursor generation (tag pages: resume after this row, else 0)
//   24     8    cursor id
//   32     ...  items: kPoints 32 bytes each; kTags 11; kTagChanges 12 (tag, then 0 = live /
//               1 = removed); kBuckets 4 (bucket number); kLabels 11-byte tag, 4-byte length,
//               that many bytes of sealed label
//
// ParseFrame is a bounded parser: it checks every length against the input and the limits
// before it allocates, and refuses trailing bytes.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "psi/oprf.h"

namespace iocgrid::psi {

inline constexpr size_t kFrameHeaderBytes = 32;

enum class FrameKind : uint8_t {
  kPoints = 1,      // blinded or evaluated points
  kTags = 2,        // tags (labels request, bucket answer)
  kTagChanges = 3,  // a page of the full tag set or of its changes since a generation
  kBuckets = 4,     // bucket numbers of the top `param` bits of tags
  kLabels = 5,      // tags with their sealed labels
};

// "points", "tags", "tag-changes", "buckets", "labels".
std::string_view FrameKindName(FrameKind kind);

struct TagChange {
  Tag tag{};
  bool removed = false;

  friend bool operator==(const TagChange&, const TagChange&) = default;
};

struct LabeledTag {
  Tag tag{};
  std::string label;  // sealed (oprf.h SealLabel)

  friend bool operator==(const LabeledTag&, const LabeledTag&) = default;
};

// One message. Only the vector of its kind is used; the others stay empty.
struct Frame {
  FrameKind kind = FrameKind::kPoints;
  uint8_t param = 0;
  uint32_t epoch = 0;
  uint64_t cursor_generation = 0;
  uint64_t cursor_id = 0;
  std::vector<Point> points;
  std::vector<Tag> tags;
  std::vector<TagChange> changes;
  std::vector<uint32_t> buckets;
  std::vector<LabeledTag> labels;

  // Items of the frame's kind.
  size_t size() const;

  friend bool operator==(const Frame&, const Frame&) = default;
};

struct FrameLimits {
  size_t max_items = size_t{1} << 20;
  size_t max_label_bytes = size_t{1} << 22;  // one sealed label
  // kBuckets only: the largest `param` (bucket bits) accepted.
  unsigned max_bucket_bits = 24;
};

// Encodes `frame` (the vector of its kind; the count is its size). REQUIRES: fewer than 2^32
// items and labels shorter than 2^32 bytes.
std::string EncodeFrame(const Frame& frame);

// Decodes one frame. Errors: kInvalidArgument for a short or malformed frame (wrong magic,
// unknown kind, reserved bits set, a length that does not add up, trailing bytes, a bucket
// number outside `param` bits, a bad change flag), kResourceExhausted for more items or a
// longer label than `limits` allow.
Result<Frame> ParseFrame(std::string_view bytes, const FrameLimits& limits);

// ParseFrame, then checks the kind. Errors: as ParseFrame, and kInvalidArgument for another
// kind ("expected points, got tags").
Result<Frame> ParseFrameOf(FrameKind kind, std::string_view bytes, const FrameLimits& limits);

}  // namespace iocgrid::psi
