// The cryptography of private search (docs/private-search.md): a 2HashDH oblivious PRF on
// ristretto255, the tags and label keys derived from its output, and the labels (a member's
// disclosed context, sealed with XChaCha20-Poly1305 under a label key).
//
//   H1(x)     = ristretto255_from_hash(SHA-512("iocgrid-psi-v1/H1" || x))
//   F(k, x)   = H1(x)^k
//   tag       = SHA-512("iocgrid-psi-v1/H2" || len(x) || x || F(k, x))[0..11)
//   label key = SHA-512("iocgrid-psi-v1/H3" || len(x) || x || F(k, x))[0..32)
//
// The querier blinds H1(x) with a fresh random scalar r, the member raises the blinded point to
// its key k without learning x, and the querier unblinds with 1/r. Only someone who holds x and
// had the member evaluate it obtains F(k, x), hence the tag and the label key. `x` is one key
// string of keys.h (a normalized value under its match family, a parent domain, a prefix...).
//
// Every function needs InitCrypto() to have succeeded once. Secret scalars are wiped when their
// owners are destroyed; no function logs anything.
//
// Thread-safety: free functions and const methods are safe from any thread (libsodium's
// randombytes is thread-safe after sodium_init).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace iocgrid::psi {

inline constexpr size_t kPointBytes = 32;     // an encoded ristretto255 element
inline constexpr size_t kScalarBytes = 32;    // a scalar mod the group order, little-endian
inline constexpr size_t kTagBytes = 11;       // see docs/private-search.md "Tag size"
inline constexpr size_t kLabelKeyBytes = 32;  // an XChaCha20-Poly1305 key
// A sealed label is nonce || ciphertext || MAC.
inline constexpr size_t kLabelOverheadBytes = 24 + 16;

using Point = std::array<uint8_t, kPointBytes>;
using Tag = std::array<uint8_t, kTagBytes>;

// Runs sodium_init (idempotent). Errors: kInternal when libsodium cannot initialise.
Status InitCrypto();

// A secret scalar, wiped on destruction. Copyable (a member keeps one per key epoch).
class SecretScalar {
 public:
  SecretScalar() = default;
  ~SecretScalar();
  SecretScalar(const SecretScalar& other) = default;
  SecretScalar& operator=(const SecretScalar& other) = default;

  const std::array<uint8_t, kScalarBytes>& bytes() const { return bytes_; }
  std::array<uint8_t, kScalarBytes>& mutable_bytes() { return bytes_; }

 private:
  std::array<uint8_t, kScalarBytes> bytes_{};
};

// The member's OPRF key k.
class OprfKey {
 public:
  // A fresh random non-zero scalar.
  static OprfKey Generate();
  // Parses a serialised key (Serialize()). Errors: kInvalidArgument when `bytes` is not 32
  // bytes, not a canonical scalar (>= the group order) or zero.
  static Result<OprfKey> FromBytes(std::span<const uint8_t> bytes);

  // The 32-byte little-endian scalar, for the member's store. Secret.
  std::string Serialize() const;

  // Server side of the protocol: blinded^k. Errors: kInvalidArgument when `blinded` is not the
  // canonical encoding of a ristretto255 element, or is the identity (a querier sending it
  // would learn nothing; an honest one never does).
  Result<Point> Evaluate(const Point& blinded) const;

  // The member's own evaluation F(k, x) = H1(x)^k, equal to what a querier obtains through
  // Blind / Evaluate / Finalize for the same x.
  Point EvaluateInput(std::string_view input) const;

 private:
  OprfKey() = default;  // a zero scalar: only Generate and FromBytes make keys

  SecretScalar k_;
};

// A blinded input: the point the member sees, and the secret needed to unblind its answer.
struct Blinded {
  Point point;           // H1(x)^r
  SecretScalar inverse;  // 1/r
};

// Client side: blinds `input` with a fresh random r.
Blinded Blind(std::string_view input);

// Client side: evaluated^(1/r) = H1(x)^k. Errors: kInvalidArgument when `evaluated` is not a
// valid non-identity element (a wrong or hostile member answer; never a hit).
Result<Point> Finalize(const Point& evaluated, const SecretScalar& inverse);

// What F(k, x) yields for input x.
struct OprfOutput {
  Tag tag;
  std::array<uint8_t, kLabelKeyBytes> label_key;
  ~OprfOutput();
};

OprfOutput DeriveOutput(std::string_view input, const Point& prf);

// Seals `plaintext` under the output's label key with a random nonce. The associated data binds
// the tag and the key epoch, so a label cannot be moved to another tag or epoch unnoticed.
std::string SealLabel(const OprfOutput& output, uint32_t epoch, std::string_view plaintext);

// Opens a sealed label. Errors: kDataLoss when it is too short or does not authenticate (a
// tampered or misplaced label: the caller marks the member failed, never reports a hit).
Result<std::string> OpenLabel(const OprfOutput& output, uint32_t epoch, std::string_view sealed);

}  // namespace iocgrid::psi
