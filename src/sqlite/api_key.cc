#include "sqlite/api_key.h"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace iocgrid::sqlite {

bool InitCrypto() { return sodium_init() >= 0; }

std::string RandomAlnum(size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(length, '0');
  for (char& c : out) {
    // randombytes_uniform avoids modulo bias.
    c = kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  }
  return out;
}

std::string NewApiKey() { return RandomAlnum(kApiKeyLength); }

std::string Sha256(std::string_view data) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

bool HashEquals(std::span<const unsigned char> stored, std::string_view hash) {
  return stored.size() == hash.size() &&
         sodium_memcmp(stored.data(), hash.data(), hash.size()) == 0;
}

void Wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

}  // namespace iocgrid::sqlite
