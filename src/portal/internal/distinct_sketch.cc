#include "portal/internal/distinct_sketch.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>

namespace iocgrid::portal::internal {

namespace {

constexpr int kRankBits = 64 - DistinctSketch::kPrecision;  // q in Ertl's paper
constexpr uint8_t kMaxRank = kRankBits + 1;

uint64_t LoadLe64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void StoreLe64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Ertl's sigma and tau (section 4 of the paper): the corrections for registers at 0 and at the
// maximum, as series summed until they stop changing.
double Sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0, z = x;
  for (;;) {
    x *= x;
    const double before = z;
    z += x * y;
    y += y;
    if (z == before) return z;
  }
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == before) return z / 3.0;
  }
}

}  // namespace

uint64_t DistinctSketch::Hash(std::string_view type, std::string_view value) {
  static constexpr std::array<unsigned char, crypto_shorthash_KEYBYTES> kKey{};
  std::string input;
  input.reserve(type.size() + 1 + value.size());
  input.append(type).push_back('\0');
  input.append(value);
  std::array<unsigned char, crypto_shorthash_BYTES> out{};
  crypto_shorthash(out.data(), reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                   kKey.data());
  return LoadLe64(out.data());
}

void DistinctSketch::AddToRegisters(uint64_t hash) {
  const size_t index = static_cast<size_t>(hash >> kRankBits);
  const uint64_t rest = hash << kPrecision;
  const auto rank = rest == 0 ? kMaxRank : static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void DistinctSketch::ToRegisters() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : hashes_) AddToRegisters(h);
  hashes_.clear();
  hashes_.shrink_to_fit();
}

void DistinctSketch::Add(uint64_t hash) {
  if (!registers_.empty()) {
    AddToRegisters(hash);
    return;
  }
  auto it = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
  if (it != hashes_.end() && *it == hash) return;
  hashes_.insert(it, hash);
  if (hashes_.size() > kMaxExact) ToRegisters();
}

void DistinctSketch::Merge(const DistinctSketch& other) {
  if (other.registers_.empty()) {
    if (registers_.empty()) {
      std::vector<uint64_t> merged;
      merged.reserve(hashes_.size() + other.hashes_.size());
      std::set_union(hashes_.begin(), hashes_.end(), other.hashes_.begin(), other.hashes_.end(),
                     std::back_inserter(merged));
      hashes_ = std::move(merged);
      if (hashes_.size() > kMaxExact) ToRegisters();
    } else {
      for (uint64_t h : other.hashes_) AddToRegisters(h);
    }
    return;
  }
  if (registers_.empty()) ToRegisters();
  for (size_t i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

uint64_t DistinctSketch::Count() const {
  if (registers_.empty()) return hashes_.size();
  std::array<double, kMaxRank + 1> c{};
  for (uint8_t r : registers_) c[r] += 1;
  const double m = static_cast<double>(kRegisters);
  double z = m * Tau((m - c[kMaxRank]) / m);
  for (int k = kRankBits; k >= 1; --k) {
    z += c[static_cast<size_t>(k)];
    z *= 0.5;
  }
  z += m * Sigma(c[0] / m);
  const double alpha = 0.5 / std::log(2.0);
  return static_cast<uint64_t>(std::llround(alpha * m * m / z));
}

std::string DistinctSketch::Encode() const {
  std::string out;
  if (registers_.empty()) {
    out.reserve(1 + 8 * hashes_.size());
    out.push_back('E');
    for (uint64_t h : hashes_) StoreLe64(h, &out);
  } else {
    out.reserve(1 + kRegisters);
    out.push_back('H');
    out.append(registers_.begin(), registers_.end());
  }
  return out;
}

Result<DistinctSketch> DistinctSketch::Decode(std::string_view bytes) {
  if (bytes.empty()) return DataLossError("A distinct-value sketch is empty.");
  DistinctSketch s;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + 1;
  const size_t n = bytes.size() - 1;
  if (bytes[0] == 'E') {
    if (n % 8 != 0 || n / 8 > kMaxExact) {
      return DataLossError("A distinct-value sketch of exact form has " + std::to_string(n) +
                           " bytes (a multiple of 8, at most " + std::to_string(8 * kMaxExact) +
                           ").");
    }
    s.hashes_.reserve(n / 8);
    for (size_t i = 0; i < n; i += 8) {
      const uint64_t h = LoadLe64(p + i);
      if (!s.hashes_.empty() && h <= s.hashes_.back()) {
        return DataLossError("A distinct-value sketch of exact form is not in ascending order.");
      }
      s.hashes_.push_back(h);
    }
    return s;
  }
  if (bytes[0] == 'H') {
    if (n != kRegisters) {
      return DataLossError("A distinct-value sketch of HyperLogLog form has " + std::to_string(n) +
                           " registers (" + std::to_string(kRegisters) + ").");
    }
    s.registers_.assign(p, p + n);
    if (*std::max_element(s.registers_.begin(), s.registers_.end()) > kMaxRank) {
      return DataLossError("A distinct-value sketch has a register above " +
                           std::to_string(kMaxRank) + ".");
    }
    return s;
  }
  return DataLossError("A distinct-value sketch has an unknown form.");
}

}  // namespace iocgrid::portal::internal
