// Bounded decimal parsing for request and file fields (std::from_chars: no exceptions, no
// locale, no silent overflow). Replaces std::stoll/std::stoul, which throw on 20-digit input.
//
// Thread-safety: pure functions.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace iocgrid::store {

// The whole of `text` as a decimal integer of type T ("-" allowed only for signed T; no "+",
// no spaces). nullopt when empty, not all digits, or out of T's range.
template <typename T>
std::optional<T> ParseDecimal(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace iocgrid::store
