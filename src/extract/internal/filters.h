// The false-positive filters' tables and the checks that need no Run (docs/extract.md, "False-
// positive filters"). The checks that read the Impl's options and warninglists are Run methods
// defined in filters.cc: IpReason, HostReason, VersionContext.
//
// Thread-safety: pure functions over constant tables.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/ip.h"

namespace iocgrid::extract::internal {

// The IANA special-purpose ranges, parsed, in the order Run::IpReason reports them.
std::vector<core::IpNetwork> ReservedNetworks();
// The well-known public DNS resolvers, parsed.
std::vector<core::IpNetwork> PublicDnsNetworks();
// Whether `ip` lies in `range` (same family, prefix at least as long).
bool InNetwork(const core::IpNetwork& ip, const core::IpNetwork& range);

// Windows system binaries and libraries, and JavaScript library names, lower-case: flagged only
// as bare names or in a system directory (a masquerading C:\Users\Public\svchost.exe stays).
std::span<const std::string_view> WellKnownFiles();
// Whether `dir` (lower-case, ending in '\') is a Windows system directory.
bool IsSystemDir(std::string_view dir);
// Whether a TLD is also a common file extension ("readme.md", "invoice.zip").
bool IsFileLikeTld(std::string_view tld);
// Whether `header` names a header holding Message-IDs (case-insensitive).
bool IsMessageIdHeader(std::string_view header);
// AS0, AS23456, the documentation and the private AS numbers.
bool IsReservedAsn(uint64_t n);

}  // namespace iocgrid::extract::internal
