// E-mail addresses ("a@evil.example"): the local part and domain around an '@' anchor, the
// domain checked as a host, and Message-ID headers (also folded ones) flagged.
#include <string_view>

#include "extract/internal/filters.h"
#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

std::string_view Run::HeaderOfLine(size_t pos) const {
  size_t line = t_.rfind('\n', pos == 0 ? 0 : pos - 1);
  line = line == std::string_view::npos ? 0 : line + 1;
  // Folded header lines start with white space: the header is on an earlier
  // line.
  for (int hops = 0; hops < 20 && line > 0 && (At(line) == ' ' || At(line) == '\t'); ++hops) {
    size_t prev = t_.rfind('\n', line - 2);
    line = prev == std::string_view::npos ? 0 : prev + 1;
  }
  size_t colon = t_.find(':', line);
  if (colon == std::string_view::npos || colon - line > 40) return {};
  std::string_view name = t_.substr(line, colon - line);
  for (char c : name) {
    if (!IsAlnum(c) && c != '-') return {};
  }
  return name;
}

void Run::ScanEmail(size_t anchor_end) {
  size_t at = anchor_end - 2;
  size_t ls = at;
  while (ls > 0) {
    char c = t_[ls - 1];
    if (IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-') {
      --ls;
    } else {
      break;
    }
  }
  while (ls < at && (t_[ls] == '.' || t_[ls] == '-')) ++ls;
  size_t de = at + 1;
  while (de < t_.size() && (IsLabelChar(t_[de]) || t_[de] == '.')) ++de;
  while (de > at + 1 && (t_[de - 1] == '.' || t_[de - 1] == '-')) --de;
  if (ls >= at || de <= at + 1 || at - ls > 64) return;
  char before = Before(ls);
  if (before == '*' || before == '=' || before == '/' || before == '\\') return;  // redacted
  std::string_view local = t_.substr(ls, at - ls);
  if (local.find("..") != std::string_view::npos || local.back() == '.') return;
  std::string_view domain = LowerInto(t_.substr(at + 1, de - at - 1), host_buf_);
  Warninglists::HostFacts facts;
  if (!ValidHost(domain, at + 1, de, &facts)) return;
  if (Claimed(ls, de, kClaimEmail)) return;
  Claim(ls, de, kClaimEmail);
  Reason reason;
  const ExtractFilters& f = impl_.options.filters;
  if (f.message_id && before == '<') {
    std::string_view header = HeaderOfLine(at);
    if (IsMessageIdHeader(header)) reason = {"message-id", {}};
  }
  if (reason.empty()) {
    // Attackers use free mail: popular domains do not make an address benign;
    // the publisher's own, security vendors' and reserved names do.
    Reason r = HostReason(domain, facts, /*url=*/false, false);
    if (r.filter != "popular-domain" &&
        (r.filter != "vendor-domain" || r.list == "security-provider-blogpost")) {
      reason = r;
    }
  }
  Add(T::kEmailSrc, t_.substr(ls, de - ls), ls, de, reason);
}

}  // namespace iocgrid::extract::internal
