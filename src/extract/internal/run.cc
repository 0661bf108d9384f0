// The driver of one Extract() call (Run::Go: anchors, scanners, report) and its de-duplication
// entry point for values that core's parsers normalize (Run::Add).
#include "extract/internal/run.h"

#include <algorithm>
#include <iterator>

#include "core/indicator.h"

namespace iocgrid::extract::internal {

Run::Run(const Extractor::Impl& impl, std::string_view orig)
    : impl_(impl),
      orig_(orig),
      ws_(impl.BorrowWorkspace()),
      normalized_(ws_->normalized),
      edits_(ws_->edits),
      edit_blocks_(ws_->edit_blocks),
      claims_(ws_->claims),
      entries_(ws_->entries),
      table_(ws_->table),
      values_(ws_->values) {}

Run::~Run() { impl_.ReturnWorkspace(std::move(ws_)); }

std::vector<ExtractedIndicator> Run::Go() {
  std::vector<ExtractedIndicator> out;
  if (orig_.empty() || orig_.size() > 0xFFFFFFFFu) return out;
  if (!FindAnchors()) return out;
  RunScanners();
  Report(&out);
  return out;
}

// Claims make the order matter: the most specific shapes first (URLs contain
// hosts, paths contain file names, e-mail addresses contain domains).
void Run::RunScanners() {
  std::vector<std::vector<Pos>>& by_anchor = ws_->by_anchor;
  const std::vector<HexRun>& hex_runs = ws_->hex_runs;
  auto each = [&](Anchor a, auto&& fn) {
    for (size_t end : by_anchor[a]) fn(end);
  };
  each(kAnchorUrl, [&](size_t e) { ScanUrl(e); });
  each(kAnchorRegkey, [&](size_t e) {
    size_t s = e - 1;
    while (s > 0 && (IsAlpha(t_[s - 1]) || t_[s - 1] == '_' || t_[s - 1] == ':')) --s;
    ScanPath(s, /*regkey=*/true);
  });
  each(kAnchorDrivePath, [&](size_t e) { ScanPath(e - 3, false); });
  each(kAnchorEnvPath, [&](size_t e) {
    size_t pct = t_.rfind('%', e - 3);
    if (pct != std::string_view::npos && !IsAlnum(Before(pct))) ScanPath(pct, false);
  });
  each(kAnchorUncPath, [&](size_t e) {
    if (Before(e - 3) != '\\' && Before(e - 3) != ':') ScanPath(e - 3, false);
  });
  each(kAnchorEmail, [&](size_t e) { ScanEmail(e); });
  each(kAnchorFile, [&](size_t e) { ScanFile(e); });
  {
    // IPv4 and domain anchors both start a host token; walk them in text order.
    std::vector<Pos>& hosts = by_anchor[kAnchorDomain];
    const std::vector<Pos>& v4 = by_anchor[kAnchorIpv4];
    size_t mid = hosts.size();
    hosts.insert(hosts.end(), v4.begin(), v4.end());
    std::inplace_merge(hosts.begin(), hosts.begin() + static_cast<std::ptrdiff_t>(mid),
                       hosts.end());
    for (size_t e : hosts) {
      if (e > covered_[kAnchorDomain]) ScanHost(e);
    }
  }
  each(kAnchorIpv6, [&](size_t e) { ScanIpv6(e); });
  for (const HexRun& run : hex_runs) ScanHex(run);
  each(kAnchorCve, [&](size_t e) { ScanCve(e); });
  each(kAnchorAsn, [&](size_t e) { ScanAsn(e); });
  each(kAnchorBtc58, [&](size_t e) { ScanBtc(e, false); });
  each(kAnchorBech32, [&](size_t e) { ScanBtc(e, true); });
  each(kAnchorSsdeep, [&](size_t e) { ScanSsdeep(e); });
}

void Run::Add(IndicatorType type, std::string_view raw, size_t start, size_t end, Reason reason) {
  if (!impl_.allowed[static_cast<size_t>(type)]) return;
  auto ind = core::ParseIndicator(type, raw);
  if (!ind.ok()) return;
  AddNormalized(ind->type, ind->value, start, end, reason);
}

}  // namespace iocgrid::extract::internal
