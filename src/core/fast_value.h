// The fast value path (issue 9): bulk data is mostly plain values (a canonical dotted quad, a
// hex digest, a lower-case domain), and generic type guessing (trimming, refanging into a copy,
// trying each type in MISP's order) cost ~3.5 µs per value, more than the index lookup it feeds.
// These functions recognise the plain shapes in one pass and give exactly what the generic
// path gives for them (GuessIndicator calls GuessPlainIndicator first, so every caller -- query
// and data loaders, the sift parsers, the node's grid requests -- shares it). A value of any
// other shape is left to the generic path. tests/core/fast_value_test.cc compares both paths
// over the shared data; fuzz/fast_value_fuzz.cc does it on arbitrary bytes.
//
// Thread-safety: pure functions on values.
#pragma once

#include <optional>
#include <string_view>

#include "core/indicator.h"
#include "core/indicator_type.h"

namespace iocgrid::core {

// True for a canonical dotted quad: four decimal octets 0-255 without leading zeros, nothing
// else. Such a text is its own canonical form (ip.h).
bool IsCanonicalIpv4(std::string_view v);

// The hash type GuessIndicator gives an all-hex value of `hex_length` digits (md5, sha1,
// sha224, sha256, sha384, sha512), nullopt for other lengths.
std::optional<IndicatorType> HashTypeForHexLength(size_t hex_length);

// True when `label` (any case) is a top-level domain of the public list (tld_list.inc), or an
// IDN TLD ("xn--...").
bool IsKnownTld(std::string_view label);

// When `raw` is a plain value -- a canonical dotted quad, an all-hex digest of a hash length,
// or a domain or host name of ASCII letters, digits, '-' and '_' with a known TLD -- sets *out to
// exactly what GuessIndicator(raw) returns and returns true. Otherwise returns false and leaves
// *out alone; the caller uses the generic path.
bool GuessPlainIndicator(std::string_view raw, Indicator* out);

}  // namespace iocgrid::core
