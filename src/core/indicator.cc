#include "core/indicator.h"

#include <idn2.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "common/ascii.h"
#include "core/fast_value.h"
#include "core/ip.h"

namespace iocgrid::core {
namespace {

using T = IndicatorType;

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool AllHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsAsciiHex);
}

Status Invalid(IndicatorType type, std::string_view why) {
  std::string m(TypeName(type));
  m += ": ";
  m += why;
  return InvalidArgumentError(m);
}

// ---- hashes ------------------------------------------------------------------------------

// Expected hex length of a fixed-length digest type, 0 when the type is not one.
size_t DigestHexLength(IndicatorType type) {
  switch (type) {
    case T::kMd5:
    case T::kImphash:
    case T::kJa3FingerprintMd5:
    case T::kHasshMd5:
    case T::kHasshserverMd5:
    case T::kX509FingerprintMd5:
      return 32;
    case T::kSha1:
    case T::kX509FingerprintSha1:
    case T::kCdhash:
    case T::kPehash:
      return 40;
    case T::kSha224:
    case T::kSha512_224:
    case T::kSha3_224:
      return 56;
    case T::kSha256:
    case T::kSha512_256:
    case T::kSha3_256:
    case T::kAuthentihash:
    case T::kX509FingerprintSha256:
      return 64;
    case T::kSha384:
    case T::kSha3_384:
      return 96;
    case T::kSha512:
    case T::kSha3_512:
      return 128;
    case T::kJarmFingerprint:
      return 62;
    default:
      return 0;
  }
}

Result<std::string> NormalizeDigest(IndicatorType type, std::string_view raw) {
  size_t want = DigestHexLength(type);
  std::string v;
  v.reserve(raw.size());
  bool fingerprint = type == T::kX509FingerprintMd5 || type == T::kX509FingerprintSha1 ||
                     type == T::kX509FingerprintSha256;
  for (char c : raw) {
    if (fingerprint && c == ':') continue;  // MISP strips the colons of x509 fingerprints
    v += AsciiToLower(c);
  }
  if (!AllHex(v)) return Invalid(type, "expected hexadecimal digits only");
  if (v.size() != want) {
    return Invalid(
        type, "expected " + std::to_string(want) + " hex digits, got " + std::to_string(v.size()));
  }
  return v;
}

bool IsSsdeep(std::string_view v) {
  // blocksize:hash:hash, base64 alphabet in the hash parts (optionally ,"filename").
  size_t c1 = v.find(':');
  if (c1 == 0 || c1 == std::string_view::npos) return false;
  for (size_t i = 0; i < c1; ++i) {
    if (!IsAsciiDigit(v[i])) return false;
  }
  size_t c2 = v.find(':', c1 + 1);
  if (c2 == std::string_view::npos || c2 == c1 + 1) return false;
  auto b64 = [](char c) { return IsAsciiDigit(c) || IsAsciiAlpha(c) || c == '+' || c == '/'; };
  for (size_t i = c1 + 1; i < c2; ++i) {
    if (!b64(v[i])) return false;
  }
  size_t end = v.size();
  if (size_t comma = v.find(',', c2); comma != std::string_view::npos) end = comma;
  if (end == c2 + 1) return false;
  for (size_t i = c2 + 1; i < end; ++i) {
    if (!b64(v[i])) return false;
  }
  return true;
}

Result<std::string> NormalizeHashValue(IndicatorType type, std::string_view raw) {
  if (DigestHexLength(type) != 0) return NormalizeDigest(type, raw);
  switch (type) {
    case T::kSsdeep:
    case T::kImpfuzzy:
      // Fuzzy hashes are base64: case matters, keep as is.
      if (type == T::kSsdeep && !IsSsdeep(raw)) {
        return Invalid(type, "expected blocksize:hash:hash");
      }
      return std::string(raw);
    case T::kTlsh: {
      std::string v = AsciiLower(raw);
      std::string_view body = v;
      if (body.rfind("t1", 0) == 0) body.remove_prefix(2);
      if (!AllHex(body) || (body.size() != 70 && body.size() != 72 && body.size() != 64)) {
        return Invalid(type, "expected 70 or 72 hex digits (optionally prefixed T1)");
      }
      return v;
    }
    case T::kTelfhash: {
      std::string v = AsciiLower(raw);
      std::string_view body = v;
      if (body.rfind("t1", 0) == 0) body.remove_prefix(2);
      if (!AllHex(body)) return Invalid(type, "expected hexadecimal digits");
      return v;
    }
    default:
      return std::string(raw);  // vhash and other hash-like opaque strings
  }
}

// ---- domains, e-mail, URLs ---------------------------------------------------------------

Result<std::string> ToPunycode(std::string_view host) {
  std::string in(host);
  char* out = nullptr;
  int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK) {
    // Fall back to transitional processing (IDNA 2003), which accepts a few more names.
    rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
  }
  if (rc != IDN2_OK) {
    return InvalidArgumentError(std::string("invalid internationalized name: ") +
                                idn2_strerror(rc));
  }
  std::string result(out);
  idn2_free(out);
  return result;
}

// Validates a lower-case ASCII host name: labels of [a-z0-9_-], 1-63 bytes, 253 in total.
Status CheckHostSyntax(std::string_view host, bool require_dot) {
  if (host.empty()) return InvalidArgumentError("empty name");
  if (host.size() > 253) return InvalidArgumentError("name longer than 253 characters");
  if (require_dot && host.find('.') == std::string_view::npos) {
    return InvalidArgumentError("'" + std::string(host) + "' has no dot");
  }
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(start, dot - start);
    if (label.empty()) return InvalidArgumentError("empty label in '" + std::string(host) + "'");
    if (label.size() > 63) return InvalidArgumentError("label longer than 63 characters");
    for (char c : label) {
      if (!(IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
        std::string why = "invalid character '";
        why += c;
        why += "' in '" + std::string(host) + "'";
        return InvalidArgumentError(why);
      }
    }
    start = dot + 1;
    if (dot == host.size()) break;
  }
  // A name whose last label is all digits is an IP address or garbage, never a domain.
  size_t last = host.rfind('.');
  std::string_view tld = last == std::string_view::npos ? host : host.substr(last + 1);
  if (std::all_of(tld.begin(), tld.end(), IsAsciiDigit)) {
    return InvalidArgumentError("'" + std::string(host) + "' ends in a numeric label");
  }
  return Status();
}

Result<std::string> NormalizeHost(std::string_view raw, bool require_dot) {
  std::string_view v = TrimAscii(raw);
  // Wildcard and leading-dot forms from lists ("*.evil.example", ".evil.example") mean the
  // domain and its subdomains, which is what the subdomain relation already does.
  if (v.rfind("*.", 0) == 0) v.remove_prefix(2);
  while (!v.empty() && v.front() == '.') v.remove_prefix(1);
  while (!v.empty() && v.back() == '.') v.remove_suffix(1);  // trailing dots (FQDN form)
  std::string host;
  if (IsAscii(v)) {
    host = AsciiLower(v);
  } else {
    IOCGRID_ASSIGN_OR_RETURN(host, ToPunycode(v));
    host = AsciiLower(host);
  }
  IOCGRID_RETURN_IF_ERROR(CheckHostSyntax(host, require_dot));
  return host;
}

struct UrlParts {
  std::string_view scheme;    // without "://", empty when scheme-less
  std::string_view userinfo;  // without '@'
  std::string_view host;      // as written (brackets kept for IPv6)
  std::string_view port;      // without ':'
  std::string_view rest;      // path, query and fragment
};

bool SplitUrl(std::string_view v, UrlParts* parts) {
  size_t pos = 0;
  size_t sep = v.find("://");
  if (sep != std::string_view::npos && sep > 0) {
    std::string_view scheme = v.substr(0, sep);
    bool ok = IsAsciiAlpha(scheme[0]) && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '+' || c == '-' || c == '.';
              });
    if (ok) {
      parts->scheme = scheme;
      pos = sep + 3;
    }
  }
  size_t end = v.find_first_of("/?#\\", pos);
  if (end == std::string_view::npos) end = v.size();
  std::string_view authority = v.substr(pos, end - pos);
  parts->rest = v.substr(end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts->userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    parts->host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      parts->port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      parts->host = authority.substr(0, colon);
      parts->port = authority.substr(colon + 1);
    } else {
      parts->host = authority;
    }
  }
  if (!std::all_of(parts->port.begin(), parts->port.end(), IsAsciiDigit)) return false;
  return !parts->host.empty();
}

// Normalizes a URL host: an IP (canonical, IPv6 in brackets) or a host name.
Result<std::string> NormalizeUrlHost(std::string_view host) {
  if (host.front() == '[') {
    auto net = ParseIpAddress(host);
    if (!net.ok()) return net.status();
    std::string s = FormatIpNetwork(*net);
    return net->v6 ? "[" + s + "]" : s;
  }
  uint32_t v4;
  if (ParseIpv4(host, &v4)) return std::string(host);
  return NormalizeHost(host, /*require_dot=*/false);
}

// ---- composites ----------------------------------------------------------------------------

Result<std::string> NormalizePort(std::string_view raw) {
  std::string_view v = TrimAscii(raw);
  if (v.empty() || v.size() > 5 || !std::all_of(v.begin(), v.end(), IsAsciiDigit)) {
    return InvalidArgumentError("invalid port '" + std::string(v) + "'");
  }
  int p = std::atoi(std::string(v).c_str());
  if (p > 65535) return InvalidArgumentError("port " + std::string(v) + " > 65535");
  return std::to_string(p);
}

// Splits "left|right", or the "host:port" / "[v6]:port" forms for *|port types.
bool SplitComposite(IndicatorType type, std::string_view v, std::string_view* left,
                    std::string_view* right) {
  bool filename_first = TypeName(type).rfind("filename|", 0) == 0;
  size_t bar = filename_first ? v.rfind('|') : v.find('|');
  if (bar != std::string_view::npos) {
    *left = v.substr(0, bar);
    *right = v.substr(bar + 1);
    return true;
  }
  bool port_type = type == T::kIpSrcPort || type == T::kIpDstPort || type == T::kHostnamePort;
  if (!port_type) return false;
  if (!v.empty() && v.front() == '[') {
    size_t close = v.find("]:");
    if (close == std::string_view::npos) return false;
    *left = v.substr(1, close - 1);
    *right = v.substr(close + 2);
    return true;
  }
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return false;
  // A bare IPv6 address has several colons and no port.
  if (v.find(':') != colon) return false;
  *left = v.substr(0, colon);
  *right = v.substr(colon + 1);
  return true;
}

Result<std::string> NormalizeValue(IndicatorType type, std::string_view v);

Result<std::string> NormalizeComposite(IndicatorType type, std::string_view v) {
  std::string_view left, right;
  if (!SplitComposite(type, v, &left, &right)) {
    return Invalid(type, "expected two parts separated by '|'");
  }
  auto [lt, rt] = CompositeParts(type);
  auto l = NormalizeValue(lt, TrimAscii(left));
  if (!l.ok()) return Invalid(type, "left part: " + std::string(l.status().message()));
  auto r = NormalizeValue(rt, TrimAscii(right));
  if (!r.ok()) return Invalid(type, "right part: " + std::string(r.status().message()));
  return *l + "|" + *r;
}

Result<std::string> NormalizeValue(IndicatorType type, std::string_view v) {
  if (v.empty()) return Invalid(type, "empty value");
  if (IsComposite(type)) return NormalizeComposite(type, v);
  switch (FamilyOf(type)) {
    case MatchFamily::kIp: {
      if (IsCanonicalIpv4(v)) return std::string(v);  // fast_value.h: its own canonical form
      auto r = NormalizeIp(v);
      if (!r.ok()) return Invalid(type, r.status().message());
      return r;
    }
    case MatchFamily::kHost: {
      auto r = NormalizeDomain(v);
      if (!r.ok()) return Invalid(type, r.status().message());
      return r;
    }
    case MatchFamily::kUrl: {
      auto r = NormalizeUrl(v);
      if (!r.ok()) return Invalid(type, r.status().message());
      return r;
    }
    case MatchFamily::kEmail: {
      auto r = NormalizeEmail(v);
      if (!r.ok()) return Invalid(type, r.status().message());
      return r;
    }
    case MatchFamily::kHash:
      return NormalizeHashValue(type, v);
    case MatchFamily::kOther:
      break;
  }
  switch (type) {
    case T::kPort: {
      auto r = NormalizePort(v);
      if (!r.ok()) return Invalid(type, r.status().message());
      return r;
    }
    case T::kAs: {
      std::string_view n = v;
      if (StartsWithIgnoreAsciiCase(n, "AS")) n.remove_prefix(2);
      n = TrimAscii(n);
      if (n.empty() || n.size() > 10 || !std::all_of(n.begin(), n.end(), IsAsciiDigit)) {
        return Invalid(type, "expected an AS number like AS13335 or 13335");
      }
      uint64_t asn = std::strtoull(std::string(n).c_str(), nullptr, 10);
      if (asn > 4294967295ULL) return Invalid(type, "AS number > 4294967295");
      return std::to_string(asn);
    }
    case T::kVulnerability: {
      std::string u(v);
      for (char& c : u) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
      // CVE-YYYY-NNNN+ (MISP validates CVE ids; other advisory ids are kept verbatim).
      if (u.rfind("CVE-", 0) == 0) {
        bool ok = u.size() >= 13 && u[8] == '-' &&
                  std::all_of(u.begin() + 4, u.begin() + 8, IsAsciiDigit) &&
                  std::all_of(u.begin() + 9, u.end(), IsAsciiDigit);
        if (!ok) return Invalid(type, "expected CVE-YYYY-NNNN");
      }
      return u;
    }
    case T::kBtc: {
      if (StartsWithIgnoreAsciiCase(v, "bc1")) {
        std::string l = AsciiLower(v);
        bool ok = l.size() >= 14 && l.size() <= 74 &&
                  std::all_of(l.begin() + 3, l.end(),
                              [](char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'z'); });
        if (!ok) return Invalid(type, "invalid bech32 address");
        return l;
      }
      bool ok = v.size() >= 26 && v.size() <= 35 && (v[0] == '1' || v[0] == '3') &&
                std::all_of(v.begin(), v.end(), [](char c) {
                  return (IsAsciiDigit(c) && c != '0') ||
                         (IsAsciiAlpha(c) && c != 'O' && c != 'I' && c != 'l');
                });
      if (!ok) return Invalid(type, "expected a base58 (1..., 3...) or bech32 (bc1...) address");
      return std::string(v);
    }
    default:
      return std::string(v);  // opaque: trimmed, exact match only
  }
}

// ---- guessing --------------------------------------------------------------------------

bool LooksLikeDomain(std::string_view v, std::string* normalized, int* labels) {
  if (v.find('.') == std::string_view::npos) return false;
  auto r = NormalizeHost(v, /*require_dot=*/true);
  if (!r.ok()) return false;
  std::string_view host = *r;
  size_t last = host.rfind('.');
  if (!IsKnownTld(host.substr(last + 1))) return false;
  *labels = static_cast<int>(std::count(host.begin(), host.end(), '.')) + 1;
  *normalized = std::move(*r);
  return true;
}

std::optional<IndicatorType> FilenameHashType(IndicatorType hash) {
  switch (hash) {
    case T::kMd5:
      return T::kFilenameMd5;
    case T::kSha1:
      return T::kFilenameSha1;
    case T::kSha224:
      return T::kFilenameSha224;
    case T::kSha256:
      return T::kFilenameSha256;
    case T::kSha384:
      return T::kFilenameSha384;
    case T::kSha512:
      return T::kFilenameSha512;
    case T::kSsdeep:
      return T::kFilenameSsdeep;
    default:
      return std::nullopt;
  }
}

bool IsBtcAddress(std::string_view v) {
  return NormalizeValue(T::kBtc, v).ok() && (StartsWithIgnoreAsciiCase(v, "bc1") || v.size() >= 26);
}

Result<Indicator> Make(IndicatorType type, std::string_view v) {
  auto n = NormalizeValue(type, v);
  if (!n.ok()) return n.status();
  return Indicator{type, std::move(*n)};
}

}  // namespace

Result<std::string> NormalizeIp(std::string_view raw) {
  auto net = ParseIpNetwork(TrimAscii(raw));
  if (!net.ok()) return net.status();
  return FormatIpNetwork(*net);
}

Result<std::string> NormalizeDomain(std::string_view raw) {
  return NormalizeHost(raw, /*require_dot=*/false);
}

Result<std::string> NormalizeEmail(std::string_view raw) {
  std::string_view v = TrimAscii(raw);
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  size_t at = v.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= v.size()) {
    return InvalidArgumentError("expected local@domain");
  }
  std::string_view local = v.substr(0, at);
  for (char c : local) {
    if (IsAsciiSpace(c) || c == '<' || c == '>' || c == ',' || c == ';') {
      return InvalidArgumentError("invalid character in the local part");
    }
  }
  auto domain = NormalizeHost(v.substr(at + 1), /*require_dot=*/false);
  if (!domain.ok()) return domain.status();
  // MISP lower-cases e-mail addresses whole (AttributeValidationTool::modifyBeforeValidation).
  return AsciiLower(local) + "@" + *domain;
}

Result<std::string> NormalizeUrl(std::string_view raw) {
  std::string_view v = TrimAscii(raw);
  if (v.empty()) return InvalidArgumentError("empty URL");
  for (char c : v) {
    if (c == '\n' || c == '\r' || c == '\t')
      return InvalidArgumentError("control character in URL");
  }
  UrlParts p;
  if (!SplitUrl(v, &p)) return InvalidArgumentError("no host in '" + std::string(v) + "'");
  auto host = NormalizeUrlHost(p.host);
  if (!host.ok())
    return InvalidArgumentError("invalid host: " + std::string(host.status().message()));
  std::string out;
  out.reserve(v.size() + 8);
  if (!p.scheme.empty()) {
    out += AsciiLower(p.scheme);
    out += "://";
  }
  if (!p.userinfo.empty()) {
    out += p.userinfo;
    out += '@';
  }
  out += *host;
  if (!p.port.empty()) {
    out += ':';
    out += p.port;
  }
  out += p.rest;
  return out;
}

std::string_view UrlHost(std::string_view url) {
  UrlParts p;
  if (!SplitUrl(url, &p)) return {};
  std::string_view h = p.host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

Result<Indicator> ParseIndicator(IndicatorType type, std::string_view raw) {
  return Make(type, TrimAscii(raw));
}

Result<Indicator> ParseIndicator(std::string_view type_name, std::string_view raw) {
  auto type = ResolveTypeName(type_name);
  if (!type.ok()) return type.status();
  if (!type->has_value()) return GuessIndicator(raw);
  // The lenient aliases for scheme-less URLs and ip:port need refanging like guessed input.
  return Make(**type, TrimAscii(raw));
}

int Components(const Indicator& indicator, Component out[2]) {
  if (!IsComposite(indicator.type)) {
    out[0] = Component{indicator.type, FamilyOf(indicator.type), indicator.value};
    return 1;
  }
  auto [lt, rt] = CompositeParts(indicator.type);
  std::string_view v = indicator.value;
  bool filename_first = TypeName(indicator.type).rfind("filename|", 0) == 0;
  size_t bar = filename_first ? v.rfind('|') : v.find('|');
  if (bar == std::string_view::npos) {  // not normalized: treat the whole as the left part
    out[0] = Component{lt, FamilyOf(lt), v};
    return 1;
  }
  out[0] = Component{lt, FamilyOf(lt), v.substr(0, bar)};
  out[1] = Component{rt, FamilyOf(rt), v.substr(bar + 1)};
  return 2;
}

Result<Indicator> GuessIndicator(std::string_view raw) {
  if (Indicator plain; GuessPlainIndicator(raw, &plain)) return plain;
  return GuessIndicatorGeneric(raw);
}

namespace {

// Steps 7 to 10 of GuessIndicatorGeneric, for a refanged value that is no IP, e-mail, URL or
// host name: registry keys and file names, CVE ids, AS numbers, Bitcoin addresses. Nothing
// when it is none of them.
std::optional<Result<Indicator>> GuessOtherIndicator(std::string_view v) {
  // 7. Windows paths: registry keys or file names.
  if (v.find('\\') != std::string_view::npos) {
    static constexpr std::string_view kHives[] = {"HKLM", "HKCU", "HKCR", "HKU\\", "HKCC", "HKEY_"};
    for (std::string_view h : kHives) {
      if (StartsWithIgnoreAsciiCase(v, h)) return Make(T::kRegkey, v);
    }
    return Make(T::kFilename, v);
  }
  // 8. CVE ids. 9. AS numbers. 10. Bitcoin addresses.
  if (StartsWithIgnoreAsciiCase(v, "CVE-")) return Make(T::kVulnerability, v);
  if (StartsWithIgnoreAsciiCase(v, "AS") && v.size() > 2 &&
      std::all_of(v.begin() + 2, v.end(), IsAsciiDigit)) {
    return Make(T::kAs, v);
  }
  if (IsBtcAddress(v)) return Make(T::kBtc, v);
  // A name with an alphanumeric extension is a file name ("report.pdf", "setup.exe").
  if (size_t dot = v.rfind('.'); dot != std::string_view::npos && dot > 0 && dot + 1 < v.size() &&
                                 v.find_first_of(" /") == std::string_view::npos) {
    std::string_view ext = v.substr(dot + 1);
    bool alnum = std::all_of(ext.begin(), ext.end(),
                             [](char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); });
    bool has_letter = std::any_of(ext.begin(), ext.end(), IsAsciiAlpha);
    if (ext.size() <= 8 && alnum && has_letter) {
      return Make(T::kFilename, v);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Indicator> GuessIndicatorGeneric(std::string_view raw) {
  std::string_view trimmed = TrimAscii(raw);
  // Quotes and brackets that wrap a token in prose or CSV: "evil.example", <a@b.example>.
  while (trimmed.size() >= 2 && ((trimmed.front() == '"' && trimmed.back() == '"') ||
                                 (trimmed.front() == '\'' && trimmed.back() == '\''))) {
    trimmed = TrimAscii(trimmed.substr(1, trimmed.size() - 2));
  }
  if (trimmed.empty()) return InvalidArgumentError("empty value");

  // Hashes are checked before refanging, as MISP does: "[.]" never occurs in a hash.
  if (auto t = HashTypeForHexLength(trimmed.size()); t && AllHex(trimmed)) return Make(*t, trimmed);
  if (size_t bar = trimmed.rfind('|'); bar != std::string_view::npos && bar > 0) {
    std::string_view hash = trimmed.substr(bar + 1);
    std::optional<IndicatorType> ht;
    if (AllHex(hash))
      ht = HashTypeForHexLength(hash.size());
    else if (IsSsdeep(hash))
      ht = T::kSsdeep;
    if (ht) return Make(*FilenameHashType(*ht), trimmed);
  }
  if (IsSsdeep(trimmed)) return Make(T::kSsdeep, trimmed);

  std::string refanged = Refang(trimmed);
  std::string_view v = refanged;
  while (!v.empty() && v.back() == '.' && v.find("://") == std::string_view::npos) {
    v.remove_suffix(1);  // sentence-final dot
  }
  if (v.empty()) return InvalidArgumentError("empty value");

  // 1. A plain IP address.
  if (auto ip = ParseIpAddress(v); ip.ok()) return Indicator{T::kIpDst, FormatIpNetwork(*ip)};
  // 3. E-mail.
  if (v.find('@') != std::string_view::npos && v.find("://") == std::string_view::npos &&
      v.find('/') == std::string_view::npos) {
    if (auto e = NormalizeEmail(v); e.ok()) return Indicator{T::kEmailSrc, std::move(*e)};
  }
  // 5. IP with a port, [v6]:port, CIDR.
  if (v.find('/') == std::string_view::npos) {
    if (auto ipp = NormalizeValue(T::kIpDstPort, v);
        ipp.ok() && v.find('|') == std::string_view::npos) {
      return Indicator{T::kIpDstPort, std::move(*ipp)};
    }
  }
  if (v.find('/') != std::string_view::npos && v.find("://") == std::string_view::npos) {
    if (auto net = ParseIpNetwork(v); net.ok()) return Indicator{T::kIpDst, FormatIpNetwork(*net)};
  }
  // 6. URLs (with a scheme, or host/path), then bare names.
  if (v.find("://") != std::string_view::npos) return Make(T::kUrl, v);
  std::string host_norm;
  int labels = 0;
  if (size_t slash = v.find('/'); slash != std::string_view::npos && slash > 0) {
    std::string_view host = v.substr(0, slash);
    if (size_t colon = host.rfind(':'); colon != std::string_view::npos)
      host = host.substr(0, colon);
    uint32_t v4;
    if (ParseIpv4(host, &v4) || LooksLikeDomain(host, &host_norm, &labels)) return Make(T::kUrl, v);
  }
  // A host name with a port: MISP keeps the name and notes the port in the comment.
  std::string_view name = v;
  if (size_t colon = name.rfind(':'); colon != std::string_view::npos && name.find(':') == colon &&
                                      NormalizePort(name.substr(colon + 1)).ok()) {
    name = name.substr(0, colon);
  }
  if (LooksLikeDomain(name, &host_norm, &labels)) {
    return Indicator{labels >= 3 ? T::kHostname : T::kDomain, std::move(host_norm)};
  }
  if (std::optional<Result<Indicator>> other = GuessOtherIndicator(v)) return *std::move(other);
  return InvalidArgumentError("'" + std::string(trimmed.substr(0, 80)) +
                              "' is not a recognizable indicator (IP, domain, URL, hash, e-mail, "
                              "CVE, AS...); give its type explicitly");
}

}  // namespace iocgrid::core
