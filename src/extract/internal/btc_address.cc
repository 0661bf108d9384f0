#include "extract/internal/btc_address.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace iocgrid::extract::internal {
namespace {

// SHA-256 (FIPS 180-4), only used for the 25-byte Base58Check payloads.
class Sha256 {
 public:
  static std::array<uint8_t, 32> Digest(const uint8_t* data, size_t n) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::vector<uint8_t> msg(data, data + n);
    uint64_t bits = static_cast<uint64_t>(n) * 8;
    msg.push_back(0x80);
    while (msg.size() % 64 != 56) msg.push_back(0);
    for (int i = 7; i >= 0; --i) msg.push_back(static_cast<uint8_t>(bits >> (i * 8)));
    for (size_t off = 0; off < msg.size(); off += 64) Block(&msg[off], h);
    std::array<uint8_t, 32> out{};
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 4; ++j) out[i * 4 + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
    }
    return out;
  }

 private:
  static uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  static void Block(const uint8_t* p, uint32_t h[8]) {
    // The round constants of FIPS 180-4 section 4.2.2.
    static constexpr uint32_t kRound[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) |
             (uint32_t{p[4 * i + 2]} << 8) | uint32_t{p[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 =
          hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
      uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
};

int Base58Value(char c) {
  static constexpr std::string_view kAlphabet =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  size_t i = kAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

uint32_t Bech32Polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint8_t top = static_cast<uint8_t>(chk >> 25);
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGen[i];
    }
  }
  return chk;
}

}  // namespace

bool IsBase58CheckAddress(std::string_view s) {
  if (s.size() < 26 || s.size() > 35) return false;
  // Decode into a 25-byte big-endian number.
  std::array<uint8_t, 25> out{};
  for (char c : s) {
    int v = Base58Value(c);
    if (v < 0) return false;
    uint32_t carry = static_cast<uint32_t>(v);
    for (int i = 24; i >= 0; --i) {
      carry += static_cast<uint32_t>(out[i]) * 58;
      out[i] = static_cast<uint8_t>(carry & 0xFF);
      carry >>= 8;
    }
    if (carry != 0) return false;  // longer than 25 bytes
  }
  if (out[0] != 0x00 && out[0] != 0x05) return false;
  // Leading '1's encode leading zero bytes: exactly one for version 0, none for version 5.
  if ((s[0] == '1') != (out[0] == 0x00)) return false;
  auto first = Sha256::Digest(out.data(), 21);
  auto second = Sha256::Digest(first.data(), first.size());
  return std::memcmp(second.data(), out.data() + 21, 4) == 0;
}

bool IsBech32Address(std::string_view s) {
  if (s.size() < 14 || s.size() > 74) return false;
  bool lower = false, upper = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') lower = true;
    if (c >= 'A' && c <= 'Z') upper = true;
  }
  if (lower && upper) return false;
  size_t sep = s.rfind('1');
  if (sep != 2) return false;  // "bc" + '1'
  if ((s[0] | 0x20) != 'b' || (s[1] | 0x20) != 'c') return false;
  static constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  std::vector<uint8_t> values = {3, 3, 0, 2, 3};  // hrp "bc" expanded
  std::vector<uint8_t> data;
  for (size_t i = sep + 1; i < s.size(); ++i) {
    char c = static_cast<char>(s[i] | 0x20);
    size_t v = kCharset.find(c);
    if (v == std::string_view::npos) return false;
    data.push_back(static_cast<uint8_t>(v));
  }
  if (data.size() < 7) return false;
  values.insert(values.end(), data.begin(), data.end());
  uint32_t mod = Bech32Polymod(values);
  uint8_t version = data[0];
  if (version == 0) return mod == 1;          // bech32 (BIP 173)
  return version <= 16 && mod == 0x2bc830a3;  // bech32m (BIP 350)
}

}  // namespace iocgrid::extract::internal
