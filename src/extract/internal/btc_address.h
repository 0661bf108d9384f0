// Bitcoin address checks for the extractor: Base58Check (P2PKH "1...", P2SH "3...") and
// bech32/bech32m segwit addresses ("bc1..."), each with its checksum verified, so that random
// base58-looking words are never reported.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace iocgrid::extract::internal {

// True for a 26..35 character Base58Check string with version byte 0x00 or 0x05 and a valid
// double-SHA-256 checksum.
bool IsBase58CheckAddress(std::string_view s);

// True for a "bc1" bech32 (witness v0) or bech32m (v1+) address with a valid checksum; case
// must not be mixed.
bool IsBech32Address(std::string_view s);

}  // namespace iocgrid::extract::internal
