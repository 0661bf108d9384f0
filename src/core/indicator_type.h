// IndicatorType: every MISP attribute type (194, from MISP's describeTypes.json), by name, with
// MISP's default category and to_ids flag, and the facts the match semantics needs about it:
// which family its values belong to and, for composites (`domain|ip`), the types of its halves.
//
// Thread-safety: everything here is immutable static data; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace iocgrid::core {

enum class IndicatorType : uint8_t {
#define IOCGRID_INDICATOR_TYPE(enumerator, name, category, to_ids) enumerator,
#include "core/indicator_type_list.inc"
#undef IOCGRID_INDICATOR_TYPE
};

inline constexpr size_t kIndicatorTypeCount = 194;

// What a value is, for matching. Two values compare only within one family; composites are
// matched through their halves (see Components() in indicator.h).
enum class MatchFamily : uint8_t {
  kIp,     // IPv4/IPv6 address or CIDR network: ip-src, ip-dst, the ip half of composites
  kHost,   // domain or host name: domain, hostname, the host half of domain|ip, hostname|port
  kUrl,    // url, link (absolute or scheme-less)
  kEmail,  // e-mail addresses of every e-mail-address type
  kHash,   // hex digests and fuzzy hashes; equal digests match across md5/filename|md5...
  kOther,  // everything else: compared as trimmed opaque strings, exact only
};

// All types, in describeTypes.json order.
std::span<const IndicatorType> AllIndicatorTypes();

// The MISP type name, e.g. "ip-dst|port".
std::string_view TypeName(IndicatorType type);

// Exact MISP type name (case-sensitive, as MISP) to type; nullopt when unknown.
std::optional<IndicatorType> TypeFromName(std::string_view name);

// Lenient lookup for user input (CSV headers, --type flags): MISP names case-insensitively plus
// common aliases found in feeds and tools ("ip", "ipv4", "ipv6", "ip-port", "ip:port",
// "url-noscheme", "uri-path", "sha-256", "hash"...). "hash"-like aliases that name no single
// type return nullopt in `*type` with OK status, meaning "guess from the value".
// Errors: kInvalidArgument naming the unknown type.
Result<std::optional<IndicatorType>> ResolveTypeName(std::string_view name);

// MISP's default category ("Network activity") and to_ids default for the type.
std::string_view DefaultCategory(IndicatorType type);
bool DefaultToIds(IndicatorType type);

// True for the two-part types whose MISP name holds a '|' (value stored as "left|right").
bool IsComposite(IndicatorType type);

// For a composite, the types of its two halves as iocgrid parses them, e.g.
// domain|ip -> (domain, ip-dst), ip-src|port -> (ip-src, port), filename|md5 -> (filename, md5).
// REQUIRES: IsComposite(type).
std::pair<IndicatorType, IndicatorType> CompositeParts(IndicatorType type);

// The match family of a non-composite type's values. Composite types return the family of
// their identifying half only through Components(); here they return kOther.
MatchFamily FamilyOf(IndicatorType type);

std::string_view FamilyName(MatchFamily family);

}  // namespace iocgrid::core
