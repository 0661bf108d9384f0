// UUIDs and secrets for the store: random v4 uuids, name-based uuids for sources that carry
// none, canonical form checks, and random API keys. Uses libsodium (sodium_init at Open).
//
// Thread-safety: pure functions; libsodium's generator is thread-safe once initialized.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::store::internal {

// Initializes libsodium; false when it cannot (no entropy source). Idempotent, thread-safe.
bool InitCrypto();

// A random version-4 uuid, lower-case.
std::string RandomUuid();

// A deterministic uuid for `name`: a 16-byte BLAKE2b of `name` keyed with iocgrid's namespace,
// with the version nibble 5 and the RFC 4122 variant, lower-case. "UUIDv5-style": the layout of
// v5 (MISP's uuid validation accepts versions 0-5 only) with another hash; equal names give
// equal uuids.
std::string NameUuid(std::string_view name);

// Lower-cases a uuid of the canonical 8-4-4-4-12 hex form. Errors: kInvalidArgument.
Result<std::string> CanonicalUuid(std::string_view text);

// `length` characters uniformly from [A-Za-z0-9].
std::string RandomAlnum(size_t length);

// SHA-256 of `data`, 32 bytes.
std::string Sha256(std::string_view data);

}  // namespace iocgrid::store::internal
