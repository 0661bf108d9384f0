// URLs with a scheme ("https://evil.example/x"): where a URL ends, and its host checked as
// an address or a name with the filters' reasons. Scheme-less URLs ("evil.example/x") are found by
// ScanHost in scan_network.cc, which shares UrlEnd.
#include <string_view>

#include "core/ip.h"
#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

// The end of a URL (or URL path) starting at `from`; `opener` is the character
// before the URL, which decides whether a closing quote, backtick or
// parenthesis ends it.
size_t Run::UrlEnd(size_t from, char opener) const {
  size_t i = from;
  int parens = 0;
  while (i < t_.size()) {
    char c = t_[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) break;
    if (c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '{' || c == '}' ||
        c == '|' || c == '[' || c == ']') {
      break;
    }
    if (c == '`' && opener == '`') break;
    if (c == '\'' && opener == '\'') break;
    if (c == '(') ++parens;
    if (c == ')') {
      if (parens == 0) break;
      --parens;
    }
    ++i;
  }
  // Sentence punctuation and Markdown emphasis after a URL are not part of it.
  while (i > from) {
    char c = t_[i - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '*' ||
        c == '\'' || c == '`' || c == '_') {
      --i;
    } else {
      break;
    }
  }
  return i;
}

void Run::ScanUrl(size_t anchor_end) {
  // The anchor ends after "://"; the scheme is the run of letters before it.
  size_t sep = anchor_end - 3;
  size_t start = sep;
  while (start > 0 && IsAlpha(t_[start - 1])) --start;
  if (Claimed(start, anchor_end, kClaimUrl)) return;
  char opener = Before(start);
  size_t end = UrlEnd(anchor_end, opener);
  if (end <= anchor_end) return;
  std::string_view url = t_.substr(start, end - start);
  std::string_view rest = t_.substr(anchor_end, end - anchor_end);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  Reason reason;
  bool trivial = path.empty() || path == "/";
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return;
    auto ip = core::ParseIpAddress(authority.substr(1, close - 1));
    if (!ip.ok()) return;
    reason = IpReason(*ip);
  } else {
    std::string_view h = authority.substr(0, authority.rfind(':'));
    if (authority.find(':') == std::string_view::npos) h = authority;
    uint32_t v4;
    if (core::ParseIpv4(h, &v4)) {
      auto ip = core::ParseIpAddress(h);
      if (ip.ok()) reason = IpReason(*ip);
    } else {
      std::string_view host = LowerInto(h, host_buf_);
      Warninglists::HostFacts facts;
      if (!ValidHost(host, start, end, &facts)) return;
      reason = HostReason(host, facts, /*url=*/true, trivial);
    }
  }
  Claim(start, end, kClaimUrl);
  Add(T::kUrl, url, start, end, reason);
}

}  // namespace iocgrid::extract::internal
