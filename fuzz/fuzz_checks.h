// Properties the fuzz targets check on what a parser returns (docs/fuzzing.md), beyond "no
// crash, no hang, bounded memory". A failed check prints what failed and aborts, which
// libFuzzer and the replay driver (standalone_driver.cc) both report as a crash.
//
// Thread-safety: free functions; the fuzz targets run on one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/indicator.h"
#include "core/indicator_type.h"
#include "ingest/loader.h"

namespace iocgrid::fuzz {

[[noreturn]] inline void Fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz check failed: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// A parsed indicator is normalized: it has a value, and parsing that value again as its own type
// gives it back unchanged (the store keeps normalized values and queries are normalized the same
// way, so a value that normalizes differently the second time could never be matched).
inline void CheckNormalized(const core::Indicator& indicator) {
  if (indicator.value.empty()) Fail("empty indicator value", core::TypeName(indicator.type));
  auto again = core::ParseIndicator(indicator.type, indicator.value);
  if (!again.ok()) {
    Fail("a normalized value does not parse again",
         std::string(core::TypeName(indicator.type)) + " '" + indicator.value +
             "': " + std::string(again.status().message()));
  }
  if (again->value != indicator.value || again->type != indicator.type) {
    Fail("normalization is not idempotent", std::string(core::TypeName(indicator.type)) + " '" +
                                                indicator.value + "' -> '" + again->value + "'");
  }
}

// Loads `content` as `format` through ingest::LoadContent and checks every emitted attribute
// and the returned counts.
inline void LoadAndCheck(std::string_view path, std::string_view content,
                         ingest::InputFormat format) {
  ingest::LoadOptions options;
  options.format = format;
  uint64_t events = 0;
  uint64_t attributes = 0;
  uint64_t issues = 0;
  auto stats = ingest::LoadContent(
      path, content, options,
      [&](core::Event&& event) {
        ++events;
        attributes += event.attributes.size();
        for (const auto& a : event.attributes) CheckNormalized(a.indicator);
      },
      [&](const ingest::LoadIssue&) { ++issues; });
  if (stats.ok() && (stats->events != events || stats->attributes != attributes)) {
    Fail("LoadStats disagree with the events emitted", ingest::InputFormatName(format));
  }
  if (stats.ok() && stats->skipped > 0 && issues == 0) {
    Fail("entries skipped without an issue", ingest::InputFormatName(format));
  }
}

}  // namespace iocgrid::fuzz
