// The shared body of the log parser fuzz targets (issue 9): the input is a log file of one
// format. Properties: no crash, no hang, bounded memory; every observable a parser reports is
// a non-empty view inside the line or the parser's scratch; the sifter's counts add up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sift/log_parser.h"
#include "sift/sifter.h"

inline void FuzzLogParser(iocgrid::sift::LogFormat format, const uint8_t* data, size_t size) {
  using namespace iocgrid::sift;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view first = text.substr(0, text.find('\n'));
  auto parser = LineParser::CreateForFile(format, first, ParserOptions{});
  ParsedLine out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    iocgrid::Status s = parser->Parse(text.substr(pos, nl - pos), &out);
    if (!s.ok() && (!out.observables.empty() || s.message().empty())) std::abort();
    for (const RawObservable& o : out.observables) {
      if (o.raw.empty() && format != LogFormat::kZeek) std::abort();
    }
    pos = nl + 1;
  }
  SiftOptions options;
  options.format = format;
  options.max_line_bytes = 4096;
  Sifter sifter(options);
  sifter.AddContent("fuzz", text).IgnoreError();  // undetectable input is a fine outcome
  const SiftCounts& c = sifter.counts();
  if (c.parsed + c.malformed != c.lines) std::abort();
  for (const Observable& o : sifter.observables()) {
    if (o.value.empty() || o.lines == 0) std::abort();
  }
}
