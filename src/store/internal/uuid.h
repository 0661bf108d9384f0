// UUIDs for the store: random v4 uuids, name-based uuids for sources that carry none, and
// canonical form checks. Uses libsodium (sqlite::InitCrypto at Open); API keys and SHA-256 are
// in the shared sqlite/api_key.h.
//
// Thread-safety: pure functions; libsodium's generator is thread-safe once initialized.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::store::internal {

// A random version-4 uuid, lower-case.
std::string RandomUuid();

// A deterministic uuid for `name`: a 16-byte BLAKE2b of `name` keyed with iocgrid's namespace,
// with the version nibble 5 and the RFC 4122 variant, lower-case. "UUIDv5-style": the layout of
// v5 (MISP's uuid validation accepts versions 0-5 only) with another hash; equal names give
// equal uuids.
std::string NameUuid(std::string_view name);

// Lower-cases a uuid of the canonical 8-4-4-4-12 hex form. Errors: kInvalidArgument.
Result<std::string> CanonicalUuid(std::string_view text);

}  // namespace iocgrid::store::internal
