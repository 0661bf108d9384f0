// Digests and fuzzy hashes: MD5/SHA-1/SHA-256/SHA-512 from the hex runs FindLongWords hands
// over (with the embedded-hex and benign-hash filters), and ssdeep "blocksize:hash:hash".
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

void Run::ScanHex(const HexRun& hex) {
  // FindLongWords() reports maximal runs in text order, so they never overlap.
  size_t s = hex.start;
  size_t f = hex.end;
  if (Claimed(s, f, kClaimUrl)) return;
  std::string_view run = t_.substr(s, f - s);
  if (hex.all_digits) return;
  bool glued = hex.glued;
  auto type_for = [](size_t n) -> std::optional<IndicatorType> {
    switch (n) {
      case 32:
        return T::kMd5;
      case 40:
        return T::kSha1;
      case 64:
        return T::kSha256;
      case 128:
        return T::kSha512;
      default:
        return std::nullopt;
    }
  };
  auto type = type_for(run.size());
  if (type && !glued) {
    // Digests are mostly written in lower case already: then the text is the
    // value.
    std::string_view value = hex.upper ? LowerInto(run, hex_buf_) : run;
    uint64_t value_hash = HashBytes(value);
    Claim(s, f, kClaimAny);
    // The reason depends on the value alone: looked up once per distinct digest.
    AddNormalizedLazy(*type, value, s, f, value_hash, [&]() -> Reason {
      if (impl_.options.filters.benign_hash) {
        auto m = impl_.lists.BenignHash(value, value_hash);
        if (!m.list.empty()) return {"benign-hash", m.list};
      }
      return {};
    });
    return;
  }
  // Part of a longer hex string (or glued to letters): not a hash on its own.
  if (!impl_.options.keep_benign && impl_.options.filters.embedded_hex) return;
  for (size_t n : {128, 64, 40, 32}) {
    if (run.size() >= n) {
      Add(*type_for(n), run.substr(0, n), s, s + n,
          impl_.options.filters.embedded_hex ? Reason{"embedded-hex", {}} : Reason{});
      return;
    }
  }
}

void Run::ScanSsdeep(size_t anchor_end) {
  size_t colon = anchor_end - 4;
  size_t s = colon;
  while (s > 0 && IsDigit(t_[s - 1])) --s;
  // The anchor's "\b\d{1,10}:": a block size of at most 10 digits after a
  // non-word byte.
  if (colon - s > 10 || Before(s) == '_') return;
  if (Before(s) == ':' || IsAlnum(Before(s))) return;
  auto b64 = [](char c) { return IsAlnum(c) || c == '/' || c == '+'; };
  size_t p = colon + 1;
  while (p < t_.size() && b64(t_[p])) ++p;
  if (At(p) != ':') return;
  size_t q = p + 1;
  while (q < t_.size() && b64(t_[q])) ++q;
  if (q == p + 1 || IsAlnum(At(q)) || At(q) == ':') return;
  // 1 to 10 digits (checked above): from_chars cannot fail or overflow here.
  uint64_t block = 0;
  std::from_chars(t_.data() + s, t_.data() + colon, block);
  // Block sizes are 3 * 2^n; the hash parts at most 64 characters.
  if (block < 3 || block % 3 != 0 || ((block / 3) & (block / 3 - 1)) != 0) return;
  if (p - colon - 1 > 64 || q - p - 1 > 64) return;
  if (Claimed(s, q, kClaimAny)) return;
  Reason reason;
  std::string_view v = t_.substr(s, q - s);
  if (impl_.options.filters.benign_hash) {
    auto m = impl_.lists.BenignHash(v);
    if (!m.list.empty()) reason = {"benign-hash", m.list};
  }
  Claim(s, q, kClaimAny);
  Add(T::kSsdeep, v, s, q, reason);
}

}  // namespace iocgrid::extract::internal
