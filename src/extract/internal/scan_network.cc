// Network indicators: host tokens around a name dot or dotted quad (IPv4 addresses, CIDRs,
// ip|port, domains and host names, scheme-less URLs) and IPv6 addresses; ValidHost, the host-name
// check that the URL and e-mail scanners share.
#include <algorithm>
#include <string>
#include <string_view>

#include "core/ip.h"
#include "extract/internal/filters.h"
#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

// Validates a lower-case host name found in the text: labels, a known TLD, no
// detection-name shapes. `start`/`end` locate it in the normalized text (for
// the spaced-dot rule). On success `facts` holds what the warninglists say
// about it.
bool Run::ValidHost(std::string_view host, size_t start, size_t end,
                    Warninglists::HostFacts* facts) const {
  if (host.size() > 253 || host.find('.') == std::string_view::npos) return false;
  size_t labels = 0;
  size_t pos = 0;
  std::string_view last;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(pos, dot - pos);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsLabelChar(c)) return false;
    }
    ++labels;
    last = label;
    pos = dot + 1;
  }
  *facts = impl_.lists.Analyze(host);
  if (!facts->known_tld) return false;
  if (last == "onion") {
    std::string_view name = host.substr(0, host.size() - 6);
    size_t dot = name.rfind('.');
    std::string_view onion = dot == std::string_view::npos ? name : name.substr(dot + 1);
    if (onion.size() != 16 && onion.size() != 56) return false;
  }
  // Registered names never hold '_' (only service labels below them do).
  std::string_view reg = facts->registrable;
  if (reg.substr(0, reg.find('.')).find('_') != std::string_view::npos) return false;
  // " dot " is a word in prose ("the dot com bubble"): trusted only in names
  // with 2+ dots.
  if (labels < 3 && HasEdit(start, end, RefangKind::kSpacedDot)) return false;
  return true;
}

void Run::ScanHost(size_t anchor_end) {
  size_t s = anchor_end;
  while (s > 0 && (IsLabelChar(t_[s - 1]) || t_[s - 1] == '.')) --s;
  size_t f = anchor_end;
  while (f < t_.size() && (IsLabelChar(t_[f]) || t_[f] == '.')) ++f;
  covered_[kAnchorDomain] = covered_[kAnchorIpv4] = f;
  while (s < f && (t_[s] == '.' || t_[s] == '-' || t_[s] == '_')) ++s;
  while (f > s && (t_[f - 1] == '.' || t_[f - 1] == '-' || t_[f - 1] == '_')) --f;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (before == '@' || after == '@' || after == '(') return;  // e-mail parts, code
  if (before == '/' || before == '\\') return;                // a path segment or a detection name
  if (Claimed(s, f, kClaimAny)) return;
  std::string_view token = t_.substr(s, f - s);

  // The labels: their count, how many are short numbers, the first and the
  // last.
  auto numeric = [](std::string_view l) {
    return !l.empty() && l.size() <= 3 && std::all_of(l.begin(), l.end(), IsDigit);
  };
  size_t label_count = 0;
  size_t numeric_labels = 0;
  std::string_view first_label;
  std::string_view tld;
  for (size_t p = 0; p <= token.size();) {
    size_t d = token.find('.', p);
    if (d == std::string_view::npos) d = token.size();
    std::string_view l = token.substr(p, d - p);
    if (l.empty()) return;
    if (label_count == 0) first_label = l;
    tld = l;
    ++label_count;
    if (numeric(l)) ++numeric_labels;
    p = d + 1;
  }
  bool all_numeric = numeric_labels == label_count;
  // "v10.0.1.2": a version written like an address.
  bool v_prefixed = label_count == 4 && first_label.size() >= 2 &&
                    (first_label[0] == 'v' || first_label[0] == 'V') &&
                    numeric(first_label.substr(1)) && numeric_labels == 3;
  if (all_numeric || v_prefixed) {
    if (label_count != 4) return;  // versions, OIDs, dates
    ScanDottedQuad(s, f, v_prefixed);
    return;
  }
  ScanName(s, f, label_count, tld);
}

// A dotted quad: an IPv4 address, CIDR or ip|port, a URL on an address, or a version number.
void Run::ScanDottedQuad(size_t s, size_t f, bool v_prefixed) {
  std::string_view token = t_.substr(s, f - s);
  char before = Before(s);
  char after = At(f);
  std::string_view ip_text = v_prefixed ? token.substr(1) : token;
  uint32_t v4;
  if (!core::ParseIpv4(ip_text, &v4)) return;
  size_t end = f;
  std::string_view value = ip_text;  // a CIDR or ip|port built in hex_buf_
  IndicatorType type = T::kIpDst;
  bool cidr = false;
  if (after == '/' && IsDigit(At(f + 1))) {
    size_t p = f + 1;
    while (p < t_.size() && IsDigit(t_[p]) && p - f <= 3) ++p;
    if (!IsAlnum(At(p)) && !(At(p) == '.' && IsDigit(At(p + 1)))) {
      value = t_.substr(s, p - s);
      cidr = true;
      end = p;
    }
  } else if (after == ':' && IsDigit(At(f + 1))) {
    size_t p = f + 1;
    while (p < t_.size() && IsDigit(t_[p]) && p - f <= 6) ++p;
    if (!IsAlnum(At(p)) && At(p) != ':' && !(At(p) == '.' && IsDigit(At(p + 1)))) {
      hex_buf_.assign(ip_text);
      hex_buf_ += '|';
      hex_buf_.append(t_.substr(f + 1, p - f - 1));
      value = hex_buf_;
      type = T::kIpDstPort;
      end = p;
    }
  } else if (after == '/' && At(f + 1) != '/' && !IsAsciiSpace(At(f + 1)) && At(f + 1) != '\0') {
    size_t url_end = UrlEnd(f, before);
    if (url_end > f + 1) {
      Claim(s, url_end, kClaimAny);
      auto ip = core::ParseIpAddress(ip_text);
      Add(T::kUrl, t_.substr(s, url_end - s), s, url_end, ip.ok() ? IpReason(*ip) : Reason{});
      return;
    }
  }
  Reason reason;
  if (impl_.options.filters.version_number && (v_prefixed || VersionContext(s))) {
    reason = {"version-number", {}};
  } else if (v_prefixed) {
    return;
  } else {
    auto net = core::ParseIpNetwork(value.substr(0, value.find('|')));
    if (net.ok()) reason = IpReason(*net);
  }
  Claim(s, end, kClaimAny);
  if (type == T::kIpDst && !cidr) {
    AddNormalized(type, value, s, end, reason);
  } else {
    Add(type, value, s, end, reason);
  }
}

// A name: a domain or host name, or a scheme-less URL on one.
void Run::ScanName(size_t s, size_t f, size_t label_count, std::string_view tld) {
  std::string_view token = t_.substr(s, f - s);
  char before = Before(s);
  char after = At(f);
  std::string_view host = LowerInto(token, host_buf_);
  Warninglists::HostFacts facts;
  if (!ValidHost(host, s, f, &facts)) return;
  bool defanged = Defanged(s, f);
  // "Winnti.BE", "Agent.CJ": detection and class names written with a
  // capitalized suffix.
  if (!defanged && tld.size() >= 2 &&
      std::all_of(tld.begin(), tld.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
      std::any_of(token.begin(), token.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return;
  }
  // Scheme-less URL: "evil.example/path", "evil.example:8080/path".
  size_t path_at = f;
  if (after == ':' && IsDigit(At(f + 1))) {
    path_at = f + 1;
    while (IsDigit(At(path_at))) ++path_at;
  }
  if (At(path_at) == '/' && At(path_at + 1) != '/' && !IsAsciiSpace(At(path_at + 1)) &&
      At(path_at + 1) != '\0') {
    size_t url_end = UrlEnd(path_at, before);
    if (url_end > path_at + 1) {
      Claim(s, url_end, kClaimAny);
      Add(T::kUrl, t_.substr(s, url_end - s), s, url_end,
          HostReason(host, facts, /*url=*/true, /*trivial_path=*/false));
      return;
    }
  }
  Reason reason = HostReason(host, facts, /*url=*/false, false);
  if (reason.empty() && impl_.options.filters.filename_like_domain && !defanged &&
      label_count == 2) {
    std::string_view last = host.substr(host.size() - tld.size());
    if (IsFileLikeTld(last)) reason = {"filename-like-domain", {}};
  }
  Claim(s, f, kClaimAny);
  IndicatorType type = facts.registrable.size() == host.size() ? T::kDomain : T::kHostname;
  AddNormalized(type, host, s, f, reason, facts.host_hash);
}

void Run::ScanIpv6(size_t anchor_end) {
  if (anchor_end <= covered_[kAnchorIpv6]) return;
  auto v6char = [](char c) { return IsHex(c) || c == ':' || c == '.'; };
  size_t s = anchor_end;
  while (s > 0 && v6char(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && v6char(t_[f])) ++f;
  covered_[kAnchorIpv6] = f;
  while (f > s && (t_[f - 1] == '.' || (t_[f - 1] == ':' && Before(f - 1) != ':'))) --f;
  while (s < f && t_[s] == '.') ++s;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (IsAlnum(before) || before == '_' || IsAlnum(after) || after == '_') return;
  std::string_view text = t_.substr(s, f - s);
  size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
  if (colons < 2 || (colons < 7 && text.find("::") == std::string_view::npos)) return;
  size_t groups = 0;
  for (size_t p = 0; p < text.size();) {
    size_t c = text.find(':', p);
    if (c == std::string_view::npos) c = text.size();
    if (c > p) ++groups;
    p = c + 1;
  }
  // "a::b" and "ab::cd" are scopes and labels more often than addresses.
  size_t hex_digits = static_cast<size_t>(std::count_if(text.begin(), text.end(), IsHex));
  if (groups < 2 || hex_digits < 4) return;
  auto ip = core::ParseIpAddress(text);
  if (!ip.ok() || !ip->v6) return;
  if (Claimed(s, f, kClaimAny)) return;
  size_t end = f;
  std::string value(text);
  IndicatorType type = T::kIpDst;
  if (after == '/' && IsDigit(At(f + 1))) {
    size_t p = f + 1;
    while (IsDigit(At(p)) && p - f <= 4) ++p;
    if (!IsAlnum(At(p))) {
      value = std::string(t_.substr(s, p - s));
      end = p;
    }
  } else if (before == '[' && after == ']' && At(f + 1) == ':' && IsDigit(At(f + 2))) {
    size_t p = f + 2;
    while (IsDigit(At(p)) && p - f <= 7) ++p;
    if (!IsAlnum(At(p))) {
      value = "[" + std::string(text) + "]:" + std::string(t_.substr(f + 2, p - f - 2));
      type = T::kIpDstPort;
      end = p;
    }
  }
  auto net = core::ParseIpNetwork(type == T::kIpDstPort ? text : std::string_view(value));
  if (!net.ok()) return;
  Claim(s, end, kClaimAny);
  Add(type, value, s, end, IpReason(*net));
}

}  // namespace iocgrid::extract::internal
