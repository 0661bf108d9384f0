// IP addresses and CIDR networks: strict parsing and MISP-compatible canonical text.
//
// Canonical forms (DESIGN.md "Match semantics"): IPv4 dotted quad without leading zeros; IPv6
// compressed lower-case (RFC 5952); an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is IPv4; a
// network has its host bits cleared; a /32 (v4) or /128 (v6) network is the plain address, as
// MISP stores it.
//
// Thread-safety: pure functions on values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::core {

struct IpNetwork {
  bool v6 = false;
  // Network address, big-endian. IPv4 uses bytes[0..3]; the rest stays zero.
  std::array<uint8_t, 16> bytes{};
  // Prefix length: 0..32 for IPv4, 0..128 for IPv6. 32/128 means a single address.
  uint8_t prefix = 32;

  bool is_address() const { return prefix == (v6 ? 128 : 32); }
  // IPv4 address as a host-order integer. REQUIRES: !v6.
  uint32_t v4() const {
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
           uint32_t{bytes[3]};
  }
  // IPv6 address as two host-order 64-bit halves. REQUIRES: v6.
  uint64_t v6_hi() const;
  uint64_t v6_lo() const;

  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

// Parses "1.2.3.4", "1.2.3.0/24", "2001:db8::1", "2001:DB8::/32", "::ffff:1.2.3.4",
// "[2001:db8::1]" (brackets allowed around a bare v6 address). Host bits are cleared.
// Leading zeros in IPv4 octets are refused (ambiguous: octal to some tools).
// Errors: kInvalidArgument with the reason ("IPv4 octet out of range", "prefix length 33 > 32").
Result<IpNetwork> ParseIpNetwork(std::string_view text);

// Like ParseIpNetwork but refuses networks (prefix < full length).
Result<IpNetwork> ParseIpAddress(std::string_view text);

// Canonical text of `net` (see above).
std::string FormatIpNetwork(const IpNetwork& net);

// Fast path: parses a strict dotted-quad IPv4 address into host order; false if not one.
bool ParseIpv4(std::string_view text, uint32_t* out);

// The same as a plain loop: what ParseIpv4 runs where SSSE3 is missing (tests hold the two
// equal).
bool ParseIpv4Portable(std::string_view text, uint32_t* out);

}  // namespace iocgrid::core
