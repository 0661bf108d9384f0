#pragma once
// The one set of hand-built model values for tests (issue 15): indicators, attributes and
// events of core/event.h. Each suite states its own event defaults once, as an EventShape
// (the store tests' events are CIRCL's of 2024-01-31, the federation members' of 2024-03-01),
// and may decorate Attr (federation stamps a time and a comment on every attribute).
//   test::Ind("ip-dst", "198.51.100.7")          // parsed; a value the parser refuses fails the
//   test test::Attr("domain", "evil.example", U(1))   // to_ids, with an optional uuid
//   test::MakeEvent(uuid, "info", {attrs...}, kShape)

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/indicator.h"

namespace iocgrid::test {

// A value ParseIndicator must accept (test data is ours): a refused one fails the calling test
// and yields an empty indicator.
inline core::Indicator Ind(std::string_view type, std::string_view value) {
  auto parsed = core::ParseIndicator(type, value);
  EXPECT_TRUE(parsed.ok()) << type << " " << value << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : core::Indicator{};
}

// A to_ids attribute of Ind(type, value) with `uuid` (empty: none); the other fields are unset.
inline core::Attribute Attr(std::string_view type, std::string_view value, std::string uuid = "") {
  core::Attribute a;
  a.indicator = Ind(type, value);
  a.uuid = std::move(uuid);
  a.to_ids = true;
  return a;
}

// What MakeEvent puts around the attributes.
struct EventShape {
  std::string date;  // YYYY-MM-DD
  std::string org;
  int64_t timestamp = 0;
  std::vector<std::string> tags;
};

inline core::Event MakeEvent(std::string uuid, std::string info,
                             std::vector<core::Attribute> attributes, const EventShape& shape) {
  core::Event e;
  e.uuid = std::move(uuid);
  e.info = std::move(info);
  e.date = shape.date;
  e.org = shape.org;
  e.timestamp = shape.timestamp;
  e.tags = shape.tags;
  e.attributes = std::move(attributes);
  return e;
}

}  // namespace iocgrid::test
