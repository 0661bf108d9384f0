// Pass 2 of an Extract() call: where indicators may be. One Hyperscan block-mode scan finds the
// anchors of AnchorPatterns(); two C++ passes find the costly shapes with the same semantics
// (FindDots: names, dotted quads and file extensions; FindLongWords: hex runs and base58 words).
// See docs/extract.md, "Anchor pass".
#include "extract/internal/anchors.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "extract/internal/run.h"
#include "extract/internal/text.h"

namespace iocgrid::extract::internal {
namespace {

// Whether none of `n` bytes is one of the characters base58 leaves out (0, O, I, l).
bool Base58Start(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c == '0' || c == 'O' || c == 'I' || c == 'l') return false;
  }
  return true;
}

// The maximal hex runs of 32 or more digits inside the word t[s, f), which is not hex throughout
// (so a neighbour of each run inside the word is a non-hex letter).
void HexRunsInWord(const char* t, size_t s, size_t f, std::vector<HexRun>* hex) {
  for (size_t i = s; i < f;) {
    if (!IsHex(t[i])) {
      ++i;
      continue;
    }
    uint8_t run_common = ClassOf(t[i]);
    uint8_t run_any = run_common;
    size_t r = i + 1;
    for (; r < f; ++r) {
      uint8_t c = ClassOf(t[r]);
      if ((c & kHexClass) == 0) break;
      run_common &= c;
      run_any |= c;
    }
    if (r - i >= 32) {
      hex->push_back({static_cast<Pos>(i), static_cast<Pos>(r), i > s || r < f,
                      (run_any & kUpperClass) != 0, (run_common & kDigitClass) != 0});
    }
    i = r;
  }
}

}  // namespace

std::vector<Pattern> AnchorPatterns() {
  std::vector<Pattern> p(kAnchorCount);
  p[kAnchorUrl] = {R"(\b(?:https?|ftps?|sftp)://)", HS_FLAG_CASELESS};
  // The dot-anchored shapes (kAnchorDomain "[A-Za-z0-9_-]\.[A-Za-z]{2}",
  // kAnchorIpv4
  // "\d\.\d{1,3}\.\d{1,3}\.\d", kAnchorFile "[A-Za-z0-9_\-)\]]\.(?:exe|...)\b")
  // come from one memchr pass over the dots (FindDots): in Hyperscan they
  // matched at most of an indicator-dense report's dots and cost as much as all
  // the other patterns.
  p[kAnchorEmail] = {R"([A-Za-z0-9._%+\-]@[A-Za-z0-9])", 0};
  p[kAnchorIpv6] = {R"((?:[0-9A-Fa-f]{1,4}:){2}|::[0-9A-Fa-f])", 0};
  // Hex runs (kAnchorHex) and base58 words (kAnchorBtc58) are long alphanumeric
  // words, which FindLongWords() finds by sampling every 26th byte: as
  // Hyperscan patterns ("[0-9A-Fa-f]{32}" reports every byte of a digest) they
  // cost more than the rest of the scan together.
  p[kAnchorCve] = {R"(\bCVE-\d{4}-\d{4})", HS_FLAG_CASELESS};
  p[kAnchorAsn] = {R"(\bAS(?:N ?)?\d)", 0};
  p[kAnchorBech32] = {R"(\bbc1[02-9ac-hj-np-z]{8})", HS_FLAG_CASELESS};
  // "\b\d{1,10}:" is checked in ScanSsdeep: the bounded repeat after \b is slow
  // in Hyperscan.
  p[kAnchorSsdeep] = {R"(\d:[A-Za-z0-9/+]{3})", 0};
  p[kAnchorDrivePath] = {R"(\b[A-Za-z]:\\)", 0};
  p[kAnchorEnvPath] = {R"(%[A-Za-z_][A-Za-z0-9_()]{0,40}%\\)", 0};
  p[kAnchorUncPath] = {R"(\\\\[A-Za-z0-9])", 0};
  p[kAnchorRegkey] = {
      R"(\bHK(?:LM|CU|CR|U|CC|EY_LOCAL_MACHINE|EY_CURRENT_USER|EY_CLASSES_ROOT|EY_USERS|)"
      R"(EY_CURRENT_CONFIG):?\\)",
      HS_FLAG_CASELESS};
  return p;
}

int CollectEvent(unsigned id, unsigned long long /*from*/, unsigned long long to,
                 unsigned /*flags*/, void* ctx) {
  auto* sink = static_cast<EventSink*>(ctx);
  // Consecutive ends of one pattern collapse into the last one: memory stays
  // proportional to the number of tokens, not of bytes.
  size_t& last = sink->last[id];
  if (last != SIZE_MAX && sink->events[last].end + 1 == to) {
    sink->events[last].end = static_cast<Pos>(to);
    return 0;
  }
  last = sink->events.size();
  sink->events.push_back({id, static_cast<Pos>(to)});
  return 0;
}

bool Run::FindAnchors() {
  HsScratch scratch = impl_.Borrow();
  if (!scratch) return false;
  if (!Refang(scratch.get())) {
    impl_.Return(std::move(scratch));
    return false;
  }
  EventSink sink{ws_->events, {}};
  std::fill(std::begin(sink.last), std::end(sink.last), SIZE_MAX);
  sink.events.reserve(t_.size() / 128 + 16);
  hs_error_t rc = hs_scan(impl_.anchor_db.get(), t_.data(), static_cast<unsigned>(t_.size()), 0,
                          scratch.get(), CollectEvent, &sink);
  std::vector<Event>& events = sink.events;
  impl_.Return(std::move(scratch));
  if (rc != HS_SUCCESS) return false;
  claims_.Reset(t_.size());

  std::vector<std::vector<Pos>>& by_anchor = ws_->by_anchor;
  {
    size_t counts[kAnchorCount] = {};
    for (const Event& e : events) ++counts[e.anchor];
    for (size_t a = 0; a < kAnchorCount; ++a) by_anchor[a].reserve(counts[a]);
  }
  for (const Event& e : events) by_anchor[e.anchor].push_back(e.end);
  events.clear();
  FindLongWords(&ws_->hex_runs, &by_anchor[kAnchorBtc58]);
  FindDots(&by_anchor[kAnchorDomain], &by_anchor[kAnchorIpv4], &by_anchor[kAnchorFile]);
  return true;
}

// Hex runs of 32+ digits and base58 words of 26+ characters (the anchors of
// ScanHex and ScanBtc). Both lie inside an alphanumeric word of 26 bytes or
// more, and any such word holds one of the bytes at 26-byte steps from the end
// of the previous word: so only those bytes are looked at, and prose costs
// about one test per 26 bytes.
void Run::FindLongWords(std::vector<HexRun>* hex, std::vector<Pos>* btc) const {
  constexpr size_t kMinWord = 26;
  const size_t n = t_.size();
  const char* t = t_.data();
  size_t p = kMinWord - 1;
  while (p < n) {
    if (!IsAlnum(t[p])) {
      p += kMinWord;
      continue;
    }
    // The word's bounds, and the classes all its bytes share (a digest is hex
    // throughout).
    constexpr uint8_t kAlnum = kDigitClass | kAlphaClass;
    uint8_t common = ClassOf(t[p]);
    uint8_t any = common;
    size_t s = p;
    while (s > 0) {
      uint8_t c = ClassOf(t[s - 1]);
      if ((c & kAlnum) == 0) break;
      common &= c;
      any |= c;
      --s;
    }
    size_t f = p + 1;
    while (f < n) {
      uint8_t c = ClassOf(t[f]);
      if ((c & kAlnum) == 0) break;
      common &= c;
      any |= c;
      ++f;
    }
    if (f - s >= kMinWord) {
      // Hyperscan's "\b[13][1-9A-HJ-NP-Za-km-z]{25}": a base58 start after a
      // non-word byte.
      if ((t[s] == '1' || t[s] == '3') && (s == 0 || t[s - 1] != '_') &&
          Base58Start(t + s + 1, kMinWord - 1)) {
        btc->push_back(static_cast<Pos>(f));
      }
      // "[0-9A-Fa-f]{32}": each maximal hex run of 32 or more, with its bounds and
      // shape. The word's bounds are the run's when the whole word is hex.
      if ((common & kHexClass) != 0) {
        if (f - s >= 32) {
          hex->push_back({static_cast<Pos>(s), static_cast<Pos>(f), /*glued=*/false,
                          (any & kUpperClass) != 0, (common & kDigitClass) != 0});
        }
      } else {
        HexRunsInWord(t, s, f, hex);
      }
    }
    p = f + kMinWord;
  }
}

// The anchors that start at a dot, as the Hyperscan patterns they replace would
// report them (one match per dot at most, so no run of consecutive ends to
// collapse):
//   kAnchorDomain  [A-Za-z0-9_-]\.[A-Za-z]{2}
//   kAnchorIpv4    \d\.\d{1,3}\.\d{1,3}\.\d
//   kAnchorFile    [A-Za-z0-9_\-)\]]\.(?:<kFileExtensions>)\b, case-insensitive
void Run::FindDots(std::vector<Pos>* domain, std::vector<Pos>* ipv4, std::vector<Pos>* file) const {
  const char* t = t_.data();
  const size_t n = t_.size();
  auto digits = [&](size_t p) {
    size_t q = p;
    while (q < n && q - p < 4 && IsDigit(t[q])) ++q;
    return q - p;
  };
  auto word_char = [](char c) { return IsAlnum(c) || c == '_'; };
  for (const char* d = static_cast<const char*>(std::memchr(t, '.', n)); d != nullptr;
       d = static_cast<const char*>(std::memchr(d + 1, '.', n - static_cast<size_t>(d + 1 - t)))) {
    size_t i = static_cast<size_t>(d - t);
    if (i == 0 || i + 1 >= n) continue;
    char b = t[i - 1];
    if (IsLabelChar(b) && i + 2 < n && IsAlpha(t[i + 1]) && IsAlpha(t[i + 2])) {
      domain->push_back(static_cast<Pos>(i + 3));
    }
    if (IsDigit(b)) {
      size_t p = i + 1;
      size_t k = digits(p);
      if (k >= 1 && k <= 3 && p + k < n && t[p + k] == '.') {
        p += k + 1;
        k = digits(p);
        if (k >= 1 && k <= 3 && p + k + 1 < n && t[p + k] == '.' && IsDigit(t[p + k + 1])) {
          ipv4->push_back(static_cast<Pos>(p + k + 2));
        }
      }
    }
    if (IsLabelChar(b) || b == ')' || b == ']') {
      constexpr size_t kMaxExtension = 6;
      size_t p = i + 1;
      while (p < n && p - i <= kMaxExtension + 1 && word_char(t[p])) ++p;
      size_t len = p - i - 1;
      if (len >= 2 && len <= kMaxExtension && (p == n || !word_char(t[p]))) {
        char ext[kMaxExtension];
        for (size_t j = 0; j < len; ++j) ext[j] = AsciiToLower(t[i + 1 + j]);
        if (impl_.file_extensions.Find(std::string_view(ext, len)) != 0) {
          file->push_back(static_cast<Pos>(p));
        }
      }
    }
  }
}

}  // namespace iocgrid::extract::internal
