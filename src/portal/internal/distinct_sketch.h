// A mergeable count of distinct observables (issue 12: `sectors` with buckets of several days
// over 10^7 sightings in <= 200 ms). The store keeps one sketch per day, sector, type and class
// (sector_sketches); a bucket of several days is the union of its days' sketches, so that no
// answer reads the sightings themselves.
//
// Exact while small: up to kMaxExact distinct values the sketch is the sorted list of their
// 64-bit hashes, and the count is exact (short of a 64-bit collision). Beyond that it becomes a
// HyperLogLog of 2^14 one-byte registers (16 KiB) read with Ertl's improved estimator ("New
// cardinality estimation algorithms for HyperLogLog sketches", 2017), which needs no bias
// tables: relative standard error 1.04/sqrt(2^14) = 0.8% at every size. Union is exact either
// way: list merge, or register-wise maximum.
//
// The encoding is stored, so it and Hash are fixed: changing either needs a migration that
// rebuilds the sketches (PortalStore does so from the rows when sector_sketches is empty).
//   'E' then n little-endian 64-bit hashes, strictly ascending (n <= kMaxExact)
//   'H' then 2^14 registers, each 0..51
//
// Thread-safety: a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace iocgrid::portal::internal {

class DistinctSketch {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  static constexpr size_t kMaxExact = 2048;  // as many bytes as the registers
  static constexpr size_t kMaxEncodedBytes = 1 + kRegisters;

  // The hash of an observable (type and value, as alliance_values holds them): SipHash-2-4
  // under a fixed all-zero key (libsodium crypto_shorthash), stable across builds and machines.
  static uint64_t Hash(std::string_view type, std::string_view value);

  void Add(uint64_t hash);
  void Merge(const DistinctSketch& other);
  // The number of distinct values added: exact while exact(), else the estimate.
  uint64_t Count() const;
  bool exact() const { return registers_.empty(); }

  std::string Encode() const;
  // Bounded: any bytes give a sketch or kDataLoss naming what is wrong, never a crash.
  static Result<DistinctSketch> Decode(std::string_view bytes);

 private:
  void ToRegisters();
  void AddToRegisters(uint64_t hash);

  std::vector<uint64_t> hashes_;    // the exact form: sorted, unique
  std::vector<uint8_t> registers_;  // the HyperLogLog form, when not empty
};

}  // namespace iocgrid::portal::internal
