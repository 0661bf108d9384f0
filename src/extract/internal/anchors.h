// Pass 2 of an Extract() call, candidate anchors: the anchor families, the Hyperscan patterns for
// those Hyperscan finds, and the positions anchors.cc hands to the scanners (scan_*.cc).
//
// Thread-safety: plain values; CollectEvent writes only to its EventSink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "extract/internal/hyperscan.h"

namespace iocgrid::extract::internal {

// The candidate families: each anchor marks where a scanner of scan_*.cc may find a token.
enum Anchor : uint8_t {
  kAnchorUrl,
  kAnchorDomain,
  kAnchorIpv4,
  kAnchorEmail,
  kAnchorIpv6,
  kAnchorHex,
  kAnchorCve,
  kAnchorAsn,
  kAnchorBtc58,
  kAnchorBech32,
  kAnchorSsdeep,
  kAnchorDrivePath,
  kAnchorEnvPath,
  kAnchorUncPath,
  kAnchorRegkey,
  kAnchorFile,
  kAnchorCount,
};

// Executable, script and macro-document extensions that make a word a file
// name.
inline constexpr std::string_view kFileExtensions =
    "exe|dll|sys|scr|cpl|ocx|drv|bat|cmd|ps1|psm1|psd1|vbs|vbe|js|jse|wsf|wsh|"
    "hta|lnk|msi|"
    "msp|msc|jar|apk|elf|dylib|docm|xlsm|pptm|xlam|dotm|sh|py|bin|pif|gadget|"
    "reg|inf|iso|img|vhd";

// The anchor patterns, indexed by Anchor; the anchors found in C++ (FindDots, FindLongWords)
// have an empty expression.
std::vector<Pattern> AnchorPatterns();

// An offset in the text in the anchor lists (Go() refuses texts of 4 GiB or more): half the
// memory of size_t on indicator-dense text.
using Pos = uint32_t;

// One anchor match (a run of consecutive matches of one pattern collapses into its last end).
struct Event {
  uint32_t anchor;
  Pos end;
};

// A maximal run of 32 or more hex digits, as FindLongWords() found it: ScanHex()
// takes its bounds and shape from here instead of scanning the run again.
struct HexRun {
  Pos start;
  Pos end;
  bool glued;       // an alphanumeric byte touches it (part of a longer word)
  bool upper;       // holds an upper-case letter
  bool all_digits;  // decimal only
};

// Where CollectEvent puts matches; `last` is each pattern's latest event (SIZE_MAX: none yet).
struct EventSink {
  std::vector<Event>& events;  // must outlive the scan
  size_t last[kAnchorCount];
};

// Hyperscan's match callback for the anchor database; `ctx` is an EventSink.
int CollectEvent(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                 void* ctx);

}  // namespace iocgrid::extract::internal
