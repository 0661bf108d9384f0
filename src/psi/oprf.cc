#include "psi/oprf.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace iocgrid::psi {
namespace {

// Domain separation: each hash has its own fixed-length prefix, so no input of one can be the
// input of another.
constexpr std::string_view kH1 = "iocgrid-psi-v1/H1";
constexpr std::string_view kH2 = "iocgrid-psi-v1/H2";
constexpr std::string_view kH3 = "iocgrid-psi-v1/H3";
constexpr std::string_view kLabelAd = "iocgrid-psi-v1/label";

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Point HashToGroup(std::string_view input) {
  std::array<uint8_t, crypto_hash_sha512_BYTES> digest;
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, Bytes(kH1), kH1.size());
  crypto_hash_sha512_update(&state, Bytes(input), input.size());
  crypto_hash_sha512_final(&state, digest.data());
  Point p;
  crypto_core_ristretto255_from_hash(p.data(), digest.data());
  return p;
}

// SHA-512(dst || be32(len(x)) || x || prf): the length prefix keeps (x, prf) unambiguous.
std::array<uint8_t, crypto_hash_sha512_BYTES> HashOutput(std::string_view dst,
                                                         std::string_view input, const Point& prf) {
  const auto n = static_cast<uint32_t>(input.size());
  const uint8_t len[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                          static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  std::array<uint8_t, crypto_hash_sha512_BYTES> digest;
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, Bytes(dst), dst.size());
  crypto_hash_sha512_update(&state, len, sizeof len);
  crypto_hash_sha512_update(&state, Bytes(input), input.size());
  crypto_hash_sha512_update(&state, prf.data(), prf.size());
  crypto_hash_sha512_final(&state, digest.data());
  return digest;
}

// The associated data of a label: the domain, the tag and the key epoch.
std::string LabelAd(const Tag& tag, uint32_t epoch) {
  std::string ad(kLabelAd);
  ad.append(reinterpret_cast<const char*>(tag.data()), tag.size());
  for (int shift = 24; shift >= 0; shift -= 8) ad.push_back(static_cast<char>(epoch >> shift));
  return ad;
}

// A valid element that is not the identity (the all-zero encoding).
bool IsUsablePoint(const Point& p) {
  return crypto_core_ristretto255_is_valid_point(p.data()) == 1 &&
         sodium_is_zero(p.data(), p.size()) == 0;
}

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return InternalError("libsodium initialization failed");
  return Status();
}

SecretScalar::~SecretScalar() { sodium_memzero(bytes_.data(), bytes_.size()); }

OprfKey OprfKey::Generate() {
  OprfKey key;
  // scalar_random never returns zero.
  crypto_core_ristretto255_scalar_random(key.k_.mutable_bytes().data());
  return key;
}

Result<OprfKey> OprfKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kScalarBytes) {
    return InvalidArgumentError("OPRF key: expected " + std::to_string(kScalarBytes) +
                                " bytes, got " + std::to_string(bytes.size()));
  }
  // Canonical means already reduced: reducing the zero-extended value changes nothing.
  SecretScalar wide_reduced;
  std::array<uint8_t, crypto_core_ristretto255_NONREDUCEDSCALARBYTES> wide{};
  std::copy(bytes.begin(), bytes.end(), wide.begin());
  crypto_core_ristretto255_scalar_reduce(wide_reduced.mutable_bytes().data(), wide.data());
  sodium_memzero(wide.data(), wide.size());
  const bool canonical =
      sodium_memcmp(wide_reduced.bytes().data(), bytes.data(), kScalarBytes) == 0;
  if (!canonical) return InvalidArgumentError("OPRF key: not a canonical scalar");
  if (sodium_is_zero(bytes.data(), bytes.size()) == 1) {
    return InvalidArgumentError("OPRF key: zero scalar");
  }
  OprfKey key;
  std::copy(bytes.begin(), bytes.end(), key.k_.mutable_bytes().begin());
  return key;
}

std::string OprfKey::Serialize() const {
  return std::string(reinterpret_cast<const char*>(k_.bytes().data()), k_.bytes().size());
}

Result<Point> OprfKey::Evaluate(const Point& blinded) const {
  if (!IsUsablePoint(blinded)) {
    return InvalidArgumentError("not a valid ristretto255 element");
  }
  Point out;
  if (crypto_scalarmult_ristretto255(out.data(), k_.bytes().data(), blinded.data()) != 0) {
    return InvalidArgumentError("not a valid ristretto255 element");
  }
  return out;
}

Point OprfKey::EvaluateInput(std::string_view input) const {
  Point h = HashToGroup(input);
  Point out;
  // H1's output is a valid non-identity element except with negligible probability, and k is
  // non-zero, so the product is never the identity; a failure here is a broken libsodium.
  if (crypto_scalarmult_ristretto255(out.data(), k_.bytes().data(), h.data()) != 0) {
    out.fill(0);
  }
  return out;
}

Blinded Blind(std::string_view input) {
  Blinded b;
  SecretScalar r;
  crypto_core_ristretto255_scalar_random(r.mutable_bytes().data());
  // r is non-zero, so it is invertible.
  if (crypto_core_ristretto255_scalar_invert(b.inverse.mutable_bytes().data(), r.bytes().data()) !=
      0) {
    b.inverse.mutable_bytes().fill(0);
  }
  Point h = HashToGroup(input);
  if (crypto_scalarmult_ristretto255(b.point.data(), r.bytes().data(), h.data()) != 0) {
    b.point.fill(0);
  }
  return b;
}

Result<Point> Finalize(const Point& evaluated, const SecretScalar& inverse) {
  // crypto_scalarmult_ristretto255 decodes (refusing every non-canonical or invalid encoding)
  // and refuses an identity result, which is all IsUsablePoint would check again: the client
  // side saves that decoding (4% of its cost per key).
  Point out;
  if (crypto_scalarmult_ristretto255(out.data(), inverse.bytes().data(), evaluated.data()) != 0) {
    return InvalidArgumentError("the member's answer is not a valid ristretto255 element");
  }
  return out;
}

OprfOutput::~OprfOutput() { sodium_memzero(label_key.data(), label_key.size()); }

OprfOutput DeriveOutput(std::string_view input, const Point& prf) {
  OprfOutput out;
  auto h2 = HashOutput(kH2, input, prf);
  std::copy_n(h2.begin(), kTagBytes, out.tag.begin());
  auto h3 = HashOutput(kH3, input, prf);
  std::copy_n(h3.begin(), kLabelKeyBytes, out.label_key.begin());
  sodium_memzero(h3.data(), h3.size());
  return out;
}

std::string SealLabel(const OprfOutput& output, uint32_t epoch, std::string_view plaintext) {
  std::string sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                         crypto_aead_xchacha20poly1305_ietf_ABYTES,
                     '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const std::string ad = LabelAd(output.tag, epoch);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written, Bytes(plaintext),
      plaintext.size(), Bytes(ad), ad.size(), nullptr, nonce, output.label_key.data());
  sealed.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + written);
  return sealed;
}

Result<std::string> OpenLabel(const OprfOutput& output, uint32_t epoch, std::string_view sealed) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kLabelOverheadBytes) return DataLossError("label too short");
  std::string plain(sealed.size() - kLabelOverheadBytes, '\0');
  const std::string ad = LabelAd(output.tag, epoch);
  unsigned long long written = 0;
  const unsigned char* nonce = Bytes(sealed);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, nonce + kNonce,
          sealed.size() - kNonce, Bytes(ad), ad.size(), nonce, output.label_key.data()) != 0) {
    return DataLossError("label does not authenticate (tampered, or not this tag's label)");
  }
  plain.resize(written);
  return plain;
}

}  // namespace iocgrid::psi
