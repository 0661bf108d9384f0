// The results of one Extract() call: entries in order of first occurrence, each with its line,
// column and context in the original text (docs/extract.md, "De-duplication").
#include <algorithm>
#include <cstring>

#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

std::string Reason::ToString() const {
  std::string out(filter);
  if (!list.empty()) {
    out += ':';
    out += list;
  }
  return out;
}

void Run::Report(std::vector<ExtractedIndicator>* out_ptr) {
  std::vector<ExtractedIndicator>& out = *out_ptr;

  // Order of first occurrence; ties (rare: different types at one offset) by
  // insertion.
  std::vector<uint32_t>& order = ws_->order;
  order.resize(entries_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    return entries_[a].start != entries_[b].start ? entries_[a].start < entries_[b].start : a < b;
  });
  if (order.size() > impl_.options.max_indicators) order.resize(impl_.options.max_indicators);

  // Positions and context in the original text. Entries are in text order, so
  // lines are counted in one forward pass.
  auto is_cont = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  size_t half = impl_.options.max_context_bytes / 2;
  size_t line_no = 1;
  size_t line_start = 0;
  size_t counted = 0;  // newlines before this offset are in line_no
  for (uint32_t idx : order) {
    const Entry& e = entries_[idx];
    if (!e.kept && !impl_.options.keep_benign) continue;
    size_t os = ToOrig(e.start);
    size_t oe = std::max(os, ToOrig(e.end == 0 ? 0 : e.end - 1) + 1);
    while (counted < os) {
      const void* nl = std::memchr(orig_.data() + counted, '\n', os - counted);
      if (nl == nullptr) {
        counted = os;
        break;
      }
      ++line_no;
      counted = static_cast<size_t>(static_cast<const char*>(nl) - orig_.data()) + 1;
      line_start = counted;
    }
    size_t line_end = orig_.find('\n', os);
    if (line_end == std::string_view::npos) line_end = orig_.size();
    ExtractedIndicator& x = out.emplace_back();
    x.indicator.type = e.type;
    x.indicator.value.assign(values_, e.value_offset, e.value_length);
    x.defanged = e.defanged;
    if (!e.kept) x.benign_reason = e.reason.ToString();
    x.line = static_cast<uint32_t>(line_no);
    uint32_t col = 1;
    for (size_t p = line_start; p < os; ++p) {
      if (!is_cont(orig_[p])) ++col;
    }
    x.column = col;
    size_t cs = os > line_start + half ? os - half : line_start;
    size_t ce = std::min(line_end, std::max(oe, os) + half);
    while (cs > line_start && is_cont(orig_[cs])) --cs;
    while (ce < line_end && is_cont(orig_[ce])) ++ce;
    std::string ctx(orig_.substr(cs, ce - cs));
    for (char& ch : ctx) {
      if (ch == '\t' || ch == '\r') ch = ' ';
    }
    size_t a = ctx.find_first_not_of(' ');
    size_t b = ctx.find_last_not_of(' ');
    x.context = a == std::string::npos ? "" : ctx.substr(a, b - a + 1);
  }
}

}  // namespace iocgrid::extract::internal
