// The short identifiers: CVE ids ("CVE-2021-44228"), AS numbers ("AS13335", "ASN 13335", with
// the reserved-asn filter) and bitcoin addresses (Base58Check and bech32, checksums verified).
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "extract/internal/btc_address.h"
#include "extract/internal/filters.h"
#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

void Run::ScanCve(size_t anchor_end) {
  size_t s = anchor_end - 13;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 17) ++f;
  if (IsAlnum(At(f))) return;
  if (Claimed(s, f, kClaimPath)) return;
  Add(T::kVulnerability, t_.substr(s, f - s), s, f, {});
}

void Run::ScanAsn(size_t anchor_end) {
  size_t s = anchor_end - 1;
  while (s > 0 && t_[s - 1] != 'A') --s;
  if (s == 0) return;
  --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 16) ++f;
  if (IsAlnum(At(f)) || At(f) == '/' || (At(f) == '.' && IsDigit(At(f + 1)))) return;
  if (Claimed(s, f, kClaimAny)) return;
  std::string digits;
  for (size_t i = s; i < f; ++i) {
    if (IsDigit(t_[i])) digits += t_[i];
  }
  if (digits.size() > 10) return;
  // 1 to 10 digits (the anchor holds one): from_chars cannot fail or overflow here.
  uint64_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  Reason reason;
  if (impl_.options.filters.reserved_asn && IsReservedAsn(n)) {
    reason = {"reserved-asn", {}};
  }
  Add(T::kAs, "AS" + digits, s, f, reason);
}

void Run::ScanBtc(size_t anchor_end, bool bech32) {
  size_t anchor = bech32 ? kAnchorBech32 : kAnchorBtc58;
  if (anchor_end <= covered_[anchor]) return;
  // Consecutive anchor ends collapse into one event, so find the word's own
  // bounds.
  size_t s = anchor_end;
  while (s > 0 && IsAlnum(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsAlnum(t_[f])) ++f;
  covered_[anchor] = f;
  if (bech32 ? !StartsWithIgnoreAsciiCase(t_.substr(s), "bc1") : (t_[s] != '1' && t_[s] != '3'))
    return;
  std::string_view v = t_.substr(s, f - s);
  bool ok = bech32 ? IsBech32Address(v) : IsBase58CheckAddress(v);
  if (!ok || Claimed(s, f, kClaimAny)) return;
  Claim(s, f, kClaimAny);
  Add(T::kBtc, v, s, f, {});
}

}  // namespace iocgrid::extract::internal
