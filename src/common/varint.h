#pragma once
// LEB128 varints for the compact blobs the portal stores (a sift's line groups, staged alliance
// sightings): 7 bits a byte, least significant first, the high bit set on every byte but the
// last. The one home of the encoding; readers are bounded and refuse what PutVarint never
// writes (more than 10 bytes, bits past the 64th).

#include <cstdint>
#include <string>
#include <string_view>

namespace iocgrid {

inline void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads one varint from the front of `in` and removes it; false (with `in` in an unspecified
// place) when `in` ends inside it or it does not fit 64 bits.
inline bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    const uint64_t bits = b & 0x7fu;
    if (shift == 63 && bits > 1) return false;  // past the 64th bit
    *v |= bits << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Signed values, small magnitudes in few bytes either side of zero.
inline void PutSignedVarint(int64_t v, std::string* out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

inline bool GetSignedVarint(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!GetVarint(in, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

}  // namespace iocgrid
