// Windows paths ("C:\...", "%APPDATA%\...", "\\host\share") and registry keys ("HKLM\..."):
// quoted paths run to the closing quote, unquoted ones over placeholders and spaced words that go
// on with a backslash (docs/extract.md, "Token rules").
#include <string_view>

#include "extract/internal/filters.h"
#include "extract/internal/run.h"

namespace iocgrid::extract::internal {

using T = IndicatorType;

// The end of a path that opens after a quote and closes on its line; npos when it does not.
size_t Run::QuotedPathEnd(size_t start, size_t line_end) const {
  char opener = Before(start);
  // "…“ and ‘…’ (UTF-8 E2 80 9C/9D, 98/99) close as their ASCII cousins do.
  std::string_view close_quote;
  if (opener == '"' || opener == '\'' || opener == '`') {
    close_quote = t_.substr(start - 1, 1);
  } else if (start >= 3 && t_.substr(start - 3, 3) == "\xE2\x80\x9C") {
    close_quote = "\xE2\x80\x9D";
  }
  size_t end = std::string_view::npos;
  if (!close_quote.empty()) {
    size_t close = t_.find(close_quote, start);
    if (close != std::string_view::npos && close < line_end && close - start <= 400 &&
        t_.substr(start, close - start).find('\t') == std::string_view::npos) {
      end = close;
    }
  }
  return end;
}

// The end of an unquoted path, less trailing punctuation.
size_t Run::UnquotedPathEnd(size_t start, size_t line_end, bool regkey) const {
  // Unquoted: path characters, bracketed placeholders ("[user name]",
  // "<user>"), and single spaces when the next word goes on with a backslash
  // ("Windows x64\Print Processors\x").
  auto invalid = [regkey](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == ' ' || c == '"' || c == '`' || c == '|' || c == '\t') return true;
    if (regkey) return false;
    return c == '*' || c == '?' || c == '<' || c == '>';
  };
  size_t i = start;
  while (i < line_end) {
    char c = t_[i];
    if (c == '[' || c == '<' || c == '{') {
      char want = c == '[' ? ']' : c == '<' ? '>' : '}';
      size_t close = t_.find(want, i + 1);
      if (close != std::string_view::npos && close < line_end && close - i <= 64) {
        i = close + 1;
        continue;
      }
    }
    if (c == ' ' && i + 1 < line_end && t_[i + 1] != ' ' && i > start && t_[i - 1] != ',' &&
        t_[i - 1] != ';') {
      // The next word must go on with a backslash and not start a path of its
      // own.
      size_t w = i + 1;
      std::string_view next = t_.substr(w, 4);
      if ((next.size() >= 3 && IsAlpha(next[0]) && next[1] == ':' && next[2] == '\\') ||
          next.rfind('%', 0) == 0 || StartsWithIgnoreAsciiCase(next, "HK")) {
        break;
      }
      while (w < line_end && !IsAsciiSpace(t_[w]) && t_[w] != '\\' && !invalid(t_[w])) ++w;
      if (w < line_end && t_[w] == '\\') {
        i = w;
        continue;
      }
      break;
    }
    if (invalid(c)) break;
    ++i;
  }
  size_t end = i;
  while (end > start) {
    char c = t_[end - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == ')' || c == '\'' || c == '=' ||
        c == '!' || c == '?') {
      --end;
    } else {
      break;
    }
  }
  return end;
}

void Run::ScanPath(size_t start, bool regkey) {
  if (Claimed(start, start + 1, kClaimPath)) return;
  size_t line_end = t_.find('\n', start);
  if (line_end == std::string_view::npos) line_end = t_.size();
  size_t end = QuotedPathEnd(start, line_end);
  if (end == std::string_view::npos) end = UnquotedPathEnd(start, line_end, regkey);
  std::string_view path = t_.substr(start, end - start);
  size_t first_sep = path.find('\\');
  // Something after the prefix ("C:\" alone is no indicator).
  if (first_sep == std::string_view::npos ||
      path.find_first_not_of('\\', first_sep) == std::string_view::npos) {
    return;
  }
  Claim(start, end, kClaimPath);
  if (regkey) {
    Add(T::kRegkey, path, start, end, {});
    return;
  }
  Reason reason;
  if (impl_.options.filters.system_file) {
    std::string_view lower = LowerInto(path, host_buf_);
    size_t slash = lower.rfind('\\');
    std::string_view dir = lower.substr(0, slash + 1);
    std::string_view base = lower.substr(slash + 1);
    if (impl_.well_known_files.count(base) != 0 && IsSystemDir(dir)) {
      reason = {"well-known-file", {}};
    }
  }
  Add(T::kFilename, path, start, end, reason);
}

}  // namespace iocgrid::extract::internal
