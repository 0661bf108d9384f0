// Timestamps as logs write them, parsed without allocation (the hot path of every line).
#pragma once

#include <cstdint>
#include <string_view>

namespace iocgrid::sift::internal {

// "15/Dec/2018:02:18:31 -0800" (Apache %t without brackets; ModSecurity's "--0400" too).
bool ParseApacheTime(std::string_view text, int64_t* out);
// "2024-12-17T19:17:54.565494-0500", "2021-06-01 10:00:00Z", "...+02:00" (UTC when no offset).
bool ParseIsoTime(std::string_view text, int64_t* out);
// "1591367999.305988" (Zeek ts, Caddy ts): whole seconds; milliseconds when > 10^11.
bool ParseEpochTime(std::string_view text, int64_t* out);
// "Wed Jun  7 17:45:31 2023" (asctime, ModSecurity 3 JSON), UTC.
bool ParseAscTime(std::string_view text, int64_t* out);
// Any of the four.
bool ParseAnyTime(std::string_view text, int64_t* out);

}  // namespace iocgrid::sift::internal
