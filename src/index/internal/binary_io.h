// The persisted index's byte streams (index_file.cc): 64-bit counts and arrays of trivially
// copyable values, in host byte order, with a running checksum over everything, so that a torn
// or damaged file is refused instead of answering wrong hits.
//
// Thread-safety: one writer or reader per thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace iocgrid::index::internal {

// A 64-bit checksum of a byte stream, fed in the same pieces on both sides.
class Checksum {
 public:
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      Mix(w);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    Mix(tail ^ (uint64_t{n - i} << 56));
  }
  uint64_t value() const { return h_; }

 private:
  void Mix(uint64_t w) {
    h_ = (h_ ^ w) * 0x9E3779B97F4A7C15ull;
    h_ ^= h_ >> 29;
  }
  uint64_t h_ = 0xCBF29CE484222325ull;
};

class BinaryWriter {
 public:
  explicit BinaryWriter(std::FILE* f) : f_(f) {}
  void Bytes(const void* p, size_t n) {
    sum_.Add(p, n);
    if (ok_ && n > 0 && std::fwrite(p, 1, n, f_) != n) ok_ = false;
  }
  void U64(uint64_t v) { Bytes(&v, sizeof(v)); }
  template <typename V>
  void Array(const V& v) {
    static_assert(std::is_trivially_copyable_v<typename V::value_type>);
    U64(v.size());
    Bytes(v.data(), v.size() * sizeof(typename V::value_type));
  }
  bool ok() const { return ok_; }
  uint64_t checksum() const { return sum_.value(); }

 private:
  std::FILE* f_;
  Checksum sum_;
  bool ok_ = true;
};

class BinaryReader {
 public:
  BinaryReader(std::FILE* f, uint64_t size) : f_(f), left_(size) {}
  bool Bytes(void* p, size_t n) {
    if (!ok_ || n > left_ || (n > 0 && std::fread(p, 1, n, f_) != n)) return ok_ = false;
    left_ -= n;
    sum_.Add(p, n);
    return true;
  }
  bool U64(uint64_t* v) { return Bytes(v, sizeof(*v)); }
  // An array whose count the rest of the file can hold (a damaged count allocates nothing).
  template <typename V>
  bool Array(V* v) {
    using T = typename V::value_type;
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t n = 0;
    if (!U64(&n) || n > left_ / sizeof(T)) return ok_ = false;
    v->resize(static_cast<size_t>(n));
    return Bytes(v->data(), static_cast<size_t>(n) * sizeof(T));
  }
  bool ok() const { return ok_; }
  uint64_t left() const { return left_; }
  uint64_t checksum() const { return sum_.value(); }

 private:
  std::FILE* f_;
  uint64_t left_;
  Checksum sum_;
  bool ok_ = true;
};

}  // namespace iocgrid::index::internal
