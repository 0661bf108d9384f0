#include "core/fast_value.h"

#include <algorithm>
#include <string>

#include "common/ascii.h"
#include "core/ip.h"

namespace iocgrid::core {
namespace {

constexpr const char* kTlds[] = {
#include "core/tld_list.inc"
};

// The plain host-name characters: what CheckHostSyntax accepts after lower-casing.
bool IsPlainHostChar(char c) { return IsAsciiAlnum(c) || c == '-' || c == '_'; }

// A domain or host name of plain characters: every label 1-63 bytes, 253 in all, at least two
// labels, the last one a known TLD (so never all digits). Sets *labels.
bool IsPlainHostName(std::string_view v, int* labels) {
  if (v.size() < 3 || v.size() > 253) return false;
  size_t label_start = 0;
  int count = 0;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || v[i] == '.') {
      const size_t length = i - label_start;
      if (length == 0 || length > 63) return false;
      ++count;
      label_start = i + 1;
    } else if (!IsPlainHostChar(v[i])) {
      return false;
    }
  }
  if (count < 2) return false;
  if (!IsKnownTld(v.substr(v.rfind('.') + 1))) return false;
  *labels = count;
  return true;
}

}  // namespace

bool IsCanonicalIpv4(std::string_view v) {
  uint32_t ignored = 0;
  return ParseIpv4(v, &ignored);  // accepts exactly the canonical dotted quads
}

std::optional<IndicatorType> HashTypeForHexLength(size_t hex_length) {
  switch (hex_length) {
    case 32:
      return IndicatorType::kMd5;
    case 40:
      return IndicatorType::kSha1;
    case 56:
      return IndicatorType::kSha224;
    case 64:
      return IndicatorType::kSha256;
    case 96:
      return IndicatorType::kSha384;
    case 128:
      return IndicatorType::kSha512;
    default:
      return std::nullopt;
  }
}

bool IsKnownTld(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  char lower[64];
  for (size_t i = 0; i < label.size(); ++i) lower[i] = AsciiToLower(label[i]);
  const std::string_view l(lower, label.size());
  if (l.substr(0, 4) == "xn--") return true;  // IDN TLDs: the list holds them, accept any
  return std::binary_search(
      std::begin(kTlds), std::end(kTlds), l,
      [](const auto& a, const auto& b) { return std::string_view(a) < std::string_view(b); });
}

bool GuessPlainIndicator(std::string_view raw, Indicator* out) {
  if (raw.empty()) return false;
  const char first = raw.front();
  if (IsAsciiDigit(first) && IsCanonicalIpv4(raw)) {
    out->type = IndicatorType::kIpDst;
    out->value.assign(raw);
    return true;
  }
  if (std::optional<IndicatorType> hash = HashTypeForHexLength(raw.size());
      hash && std::all_of(raw.begin(), raw.end(), IsAsciiHex)) {
    out->type = *hash;
    out->value.assign(raw);
    AsciiLowerInPlace(out->value);
    return true;
  }
  int labels = 0;
  if (IsAsciiAlnum(first) && IsPlainHostName(raw, &labels)) {
    out->type = labels >= 3 ? IndicatorType::kHostname : IndicatorType::kDomain;
    out->value.assign(raw);
    AsciiLowerInPlace(out->value);
    return true;
  }
  return false;
}

}  // namespace iocgrid::core
