// API keys as both stores keep them: 40 random characters of [A-Za-z0-9] (about 238 bits), of
// which only SHA-256(key) and the first and last 4 characters (to find candidate rows) are
// stored. A salted slow hash would buy nothing against brute force at that entropy and would
// cost every request tens of milliseconds. Uses libsodium.
//
// Thread-safety: pure functions; call InitCrypto once before the others (idempotent).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace iocgrid::sqlite {

inline constexpr size_t kApiKeyLength = 40;

// Initializes libsodium (also the random source of other users); false when it cannot (no
// entropy source). Idempotent, thread-safe.
bool InitCrypto();

// A new random key of kApiKeyLength characters of [A-Za-z0-9].
std::string NewApiKey();

// `length` characters uniformly from [A-Za-z0-9].
std::string RandomAlnum(size_t length);

// SHA-256 of `data`, 32 bytes.
std::string Sha256(std::string_view data);

// Compares a stored hash with `hash` in constant time (timing reveals no prefix).
bool HashEquals(std::span<const unsigned char> stored, std::string_view hash);

// Overwrites `secret` with zeros (a clear key no longer needed).
void Wipe(std::string& secret);

}  // namespace iocgrid::sqlite
