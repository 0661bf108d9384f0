// A fast 64-bit hash of short byte strings for the exact-match table (internal to index/).
//
// Multiply-fold ("mum") mixing in the style of wyhash: 16 bytes per step through a 64x64->128
// multiplication whose halves are xored together, with overlapping loads for the tail so every
// length up to 16 costs two loads. The hash is not cryptographic and not stable across versions:
// it only spreads keys over buckets, and every hit is verified against the stored bytes, so a
// collision costs time, never a false match.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace iocgrid::index::internal {

__extension__ using Uint128 = unsigned __int128;

inline constexpr uint64_t kHashK0 = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio
inline constexpr uint64_t kHashK1 = 0xd6e8feb86659fd93ull;
inline constexpr uint64_t kHashK2 = 0xa5a3564e27f8862dull;

// 64x64 -> 128 bit product, folded to 64 bits.
inline uint64_t MulFold(uint64_t a, uint64_t b) {
  Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

inline uint64_t LoadLe64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;  // little-endian host (x86-64, aarch64); the value only needs to be deterministic
}

inline uint64_t LoadLe32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Hashes `bytes` under `seed` (the key's family tag, so equal text in two families differs).
inline uint64_t Hash64(uint64_t seed, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t state = MulFold(seed ^ kHashK0, kHashK1 ^ n);
  uint64_t a;
  uint64_t b;
  if (n <= 16) {
    if (n >= 8) {
      a = LoadLe64(p);
      b = LoadLe64(p + n - 8);
    } else if (n >= 4) {
      a = LoadLe32(p);
      b = LoadLe32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[n >> 1]} << 8) | uint64_t{p[n - 1]};
      b = 0;
    } else {
      a = 0;
      b = 0;
    }
  } else {
    size_t rest = n;
    while (rest > 16) {
      state = MulFold(LoadLe64(p) ^ kHashK1, LoadLe64(p + 8) ^ state);
      p += 16;
      rest -= 16;
    }
    // The last 16 bytes, overlapping the previous block when `rest` < 16 (n > 16, so the
    // loads stay inside the string).
    a = LoadLe64(p + rest - 16);
    b = LoadLe64(p + rest - 8);
  }
  return MulFold(MulFold(a ^ kHashK1, b ^ state) ^ kHashK2, state ^ kHashK0);
}

}  // namespace iocgrid::index::internal
