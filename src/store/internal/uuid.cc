#include "store/internal/uuid.h"

#include <sodium.h>

#include <cstdint>

#include "common/ascii.h"

namespace iocgrid::store::internal {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string FormatUuid(const unsigned char bytes[16]) {
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

// A fixed namespace so iocgrid's name-based uuids never collide with other tools' v5 uuids of
// the same names.
constexpr std::string_view kNamespace = "iocgrid.store.v1\x1f";

}  // namespace

std::string RandomUuid() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  return FormatUuid(bytes);
}

std::string NameUuid(std::string_view name) {
  // BLAKE2b keyed with the namespace: libsodium dispatches it to SIMD code at run time, several
  // times faster than its portable SHA-256 for these short names (imports derive one per
  // attribute without a uuid).
  unsigned char digest[16];
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(name.data()),
                     name.size(), reinterpret_cast<const unsigned char*>(kNamespace.data()),
                     kNamespace.size());
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  return FormatUuid(digest);
}

Result<std::string> CanonicalUuid(std::string_view text) {
  if (text.size() != 36) {
    return InvalidArgumentError("invalid uuid '" + std::string(text.substr(0, 40)) + "'");
  }
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (c != '-') return InvalidArgumentError("invalid uuid '" + std::string(text) + "'");
      continue;
    }
    if (!IsAsciiHex(c)) {
      return InvalidArgumentError("invalid uuid '" + std::string(text) + "'");
    }
    c = AsciiToLower(c);
  }
  return out;
}

}  // namespace iocgrid::store::internal
