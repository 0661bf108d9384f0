// Pass 1 of an Extract() call: defanged forms ("evil[.]example", "hxxp://") found with one
// Hyperscan literal database, a refanged copy of the text when some are accepted, and the map
// from refanged offsets back to the original (docs/extract.md, "Refang pass").
#include "extract/internal/refang.h"

#include <algorithm>
#include <string_view>

#include "extract/internal/run.h"
#include "extract/internal/text.h"

namespace iocgrid::extract::internal {
namespace {

struct RefangRule {
  std::string_view from;
  std::string_view to;
  RefangKind kind;
};

// Longest forms first where one is a prefix of another; matched
// case-insensitively.
constexpr RefangRule kRefangRules[] = {
    {"[.]", ".", RefangKind::kDot},
    {"(.)", ".", RefangKind::kDot},
    {"{.}", ".", RefangKind::kDot},
    {"[dot]", ".", RefangKind::kDot},
    {"(dot)", ".", RefangKind::kDot},
    {"{dot}", ".", RefangKind::kDot},
    {"\\.", ".", RefangKind::kDot},
    {" dot ", ".", RefangKind::kSpacedDot},
    {"[://]", "://", RefangKind::kSchemeSep},
    {"[:]//", "://", RefangKind::kSchemeSep},
    {"[:]", ":", RefangKind::kColon},
    {"[/]", "/", RefangKind::kSlash},
    {"[@]", "@", RefangKind::kAt},
    {"[at]", "@", RefangKind::kAt},
    {"(at)", "@", RefangKind::kAt},
    {"{at}", "@", RefangKind::kAt},
    {"hxxp", "http", RefangKind::kScheme},
    {"hxtp", "http", RefangKind::kScheme},
    {"htxp", "http", RefangKind::kScheme},
    {"h**p", "http", RefangKind::kScheme},
    {"fxp", "ftp", RefangKind::kScheme},
    {"\xEF\xBC\x8E", ".", RefangKind::kDot},                          // FULLWIDTH FULL STOP
    {"\xEF\xBC\xBB.\xEF\xBC\xBD", ".", RefangKind::kDot},             // ［.］
    {"\xEF\xBC\xBB\xEF\xBC\x8E\xEF\xBC\xBD", ".", RefangKind::kDot},  // ［．］
    {"[\xEF\xBC\x8E]", ".", RefangKind::kDot},                        // [．]
    {"\xEF\xBC\xA0", "@", RefangKind::kAt},                           // FULLWIDTH COMMERCIAL AT
};

int CollectRefang(unsigned id, unsigned long long /*from*/, unsigned long long to,
                  unsigned /*flags*/, void* ctx) {
  auto* out = static_cast<std::vector<RefangMatch>*>(ctx);
  size_t len = kRefangRules[id].from.size();
  out->push_back({static_cast<size_t>(to) - len, static_cast<size_t>(to), id});
  return 0;
}

// Claims: each scanner marks the bytes it takes, and later (less specific)
// scanners skip tokens overlapping stronger claims. The kinds nest: a query for

}  // namespace

std::vector<Pattern> RefangPatterns() {
  std::vector<Pattern> refang;
  for (const RefangRule& r : kRefangRules) refang.push_back({Literal(r.from), HS_FLAG_CASELESS});
  return refang;
}

bool Run::Refang(hs_scratch_t* scratch) {
  std::vector<RefangMatch>& matches = ws_->refang_matches;
  if (hs_scan(impl_.refang_db.get(), orig_.data(), static_cast<unsigned>(orig_.size()), 0, scratch,
              CollectRefang, &matches) != HS_SUCCESS) {
    return false;
  }
  if (matches.empty()) {
    t_ = orig_;
    return true;
  }
  std::sort(matches.begin(), matches.end(), [](const RefangMatch& a, const RefangMatch& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  size_t copied = 0;
  for (const RefangMatch& m : matches) {
    if (m.start < copied) continue;  // overlaps an accepted form
    const RefangRule& rule = kRefangRules[m.rule];
    char before = m.start > 0 ? orig_[m.start - 1] : '\0';
    char after = m.end < orig_.size() ? orig_[m.end] : '\0';
    switch (rule.kind) {
      case RefangKind::kScheme: {
        // Only a scheme: followed by "://", "s://" or a defanged separator.
        std::string_view rest = orig_.substr(m.end, 8);
        if (!rest.empty() && (rest[0] == 's' || rest[0] == 'S')) rest.remove_prefix(1);
        bool sep = rest.rfind("://", 0) == 0 || rest.rfind("[:", 0) == 0 ||
                   rest.rfind("[/", 0) == 0 || rest.rfind(":\\\\", 0) == 0;
        if (!sep || IsAlnum(before)) continue;
        break;
      }
      case RefangKind::kSpacedDot:
      case RefangKind::kAt:
        // " dot " and "(at)" are words in prose; only between two name
        // characters.
        if (!IsLabelChar(before) || !IsAlnum(after)) continue;
        break;
      case RefangKind::kDot:
        if (rule.from == "\\." && (!IsLabelChar(before) || !IsAlnum(after))) continue;
        break;
      default:
        break;
    }
    // Most matches in prose ("\." in code, "(at)" between words) are rejected
    // above: the copy is made only once a defanged form is accepted, and text
    // without one is scanned in place.
    if (copied == 0 && normalized_.empty()) normalized_.reserve(orig_.size());
    normalized_.append(orig_.substr(copied, m.start - copied));
    edits_.push_back({normalized_.size(), m.start, static_cast<uint32_t>(m.end - m.start),
                      static_cast<uint32_t>(rule.to.size()), rule.kind});
    normalized_.append(rule.to);
    copied = m.end;
  }
  if (edits_.empty()) {
    t_ = orig_;
    return true;
  }
  normalized_.append(orig_.substr(copied));
  t_ = normalized_;
  edit_blocks_.assign(t_.size() / 64 / 64 + 1, 0);
  for (const Edit& e : edits_) {
    edit_blocks_[e.norm_pos / 64 / 64] |= uint64_t{1} << (e.norm_pos / 64 % 64);
  }
  return true;
}

size_t Run::ToOrig(size_t norm) const {
  if (edits_.empty()) return norm;
  auto it = std::upper_bound(edits_.begin(), edits_.end(), norm,
                             [](size_t n, const Edit& e) { return n < e.norm_pos; });
  if (it == edits_.begin()) return norm;
  const Edit& e = *(it - 1);
  if (norm < e.norm_pos + e.new_len) return e.orig_pos;
  return norm - (e.norm_pos + e.new_len) + (e.orig_pos + e.orig_len);
}

bool Run::HasEdit(size_t start, size_t end, RefangKind kind) const {
  if (edits_.empty() || !MayHoldEdit(start, end)) return false;
  auto it = std::lower_bound(edits_.begin(), edits_.end(), start,
                             [](const Edit& e, size_t n) { return e.norm_pos < n; });
  for (; it != edits_.end() && it->norm_pos < end; ++it) {
    if (it->kind == kind) return true;
  }
  return false;
}

}  // namespace iocgrid::extract::internal
