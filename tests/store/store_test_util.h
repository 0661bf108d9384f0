// Helpers for the store tests: a temporary data directory, the store tests' event defaults
// over tests/common/builders.h, uuids, bulk attributes, sightings and key options.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/indicator.h"
#include "gtest/gtest.h"
#include "store/options.h"
#include "tests/common/builders.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::store::testing {

// A fresh directory under TMPDIR, removed with everything in it on destruction.
using TempDir = ::iocgrid::test::TempDir;

using ::iocgrid::test::Attr;  // tests/common/builders.h

// The store tests' events: CIRCL's, of 2024-01-31, without event tags.
inline core::Event MakeEvent(std::string uuid, std::string info,
                             std::vector<core::Attribute> attributes) {
  return ::iocgrid::test::MakeEvent(std::move(uuid), std::move(info), std::move(attributes),
                                    {"2024-01-31", "CIRCL", 1706700000, {}});
}

// A uuid with the given number in its last group, e.g. U(7) = "00000000-...-000000000007".
inline std::string U(uint64_t n, uint32_t prefix = 0) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-0000-4000-8000-%012llx", prefix,
                static_cast<unsigned long long>(n));
  return buffer;
}

// `count` ip-dst attributes 10.x.y.z with uuids U(i, prefix) (or none when !with_uuids).
inline std::vector<core::Attribute> ManyIps(uint64_t count, uint32_t prefix, bool with_uuids) {
  std::vector<core::Attribute> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    core::Attribute a;
    a.indicator.type = core::IndicatorType::kIpDst;
    a.indicator.value = "10." + std::to_string((i >> 16) & 0xff) + "." +
                        std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff);
    if (with_uuids) a.uuid = U(i, prefix);
    a.to_ids = true;
    a.timestamp = 1706700000;
    out.push_back(std::move(a));
  }
  return out;
}

// A sighting of one attribute (id or uuid).
inline SightingRequest SightingOf(std::string attribute, int type = 0, int64_t timestamp = 0) {
  SightingRequest request;
  request.attribute = std::move(attribute);
  request.type = type;
  request.timestamp = timestamp;
  return request;
}

// A sighting of every attribute holding one of `values`.
inline SightingRequest SightingOfValues(std::vector<std::string> values, std::string source = "") {
  SightingRequest request;
  request.values = std::move(values);
  request.source = std::move(source);
  return request;
}

// SQL that takes a store file's tables back from schema version 5 (the index change log), for
// the tests that make older files by hand; psi_dirty keeps its AUTOINCREMENT.
inline constexpr const char* kUndoSchemaV5 =
    "DROP TRIGGER index_attribute_update; "
    "DROP TRIGGER index_attribute_delete; DROP TRIGGER index_event_update; "
    "DROP TRIGGER index_event_delete; DROP TABLE index_changes; ";

inline KeyOptions KeyWith(std::string comment, int64_t expires = 0) {
  KeyOptions options;
  options.comment = std::move(comment);
  options.expires = expires;
  return options;
}

}  // namespace iocgrid::store::testing
