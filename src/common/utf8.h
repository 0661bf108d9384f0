// UTF-8 validation, repair and truncation: the one home for these rules (RFC 3629). Invalid
// sequences (stray continuation bytes, F5..FF and C0/C1 lead bytes, overlong forms, encoded
// surrogates U+D800..U+DFFF, code points above U+10FFFF, truncated sequences) are replaced by
// U+FFFD, one per byte that does not start a valid sequence.
// Issue 8: one stored invalid string made a member's every answer unparsable to the portal.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace iocgrid {

// The length of the valid UTF-8 sequence starting at text[pos] (1 to 4), or 0 when the bytes
// there do not start one. REQUIRES: pos < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t pos);

// True when all of `text` is valid UTF-8.
bool IsValidUtf8(std::string_view text);

// `text` with every invalid sequence replaced by U+FFFD (EF BF BD); *replaced, when not null,
// is increased by the number of replacements. Valid text is returned unchanged.
std::string SanitizeUtf8(std::string_view text, size_t* replaced = nullptr);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a multi-byte
// character (for messages quoting input: never cut a character in half).
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace iocgrid
