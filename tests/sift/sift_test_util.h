// Helpers for the sift tests: sift a log held in a string, look observables up by value.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "common/time.h"
#include "sift/sifter.h"

namespace iocgrid::sift::testing {

inline const Observable* Find(const Sifter& s, std::string_view value) {
  for (const Observable& o : s.observables()) {
    if (o.value == value) return &o;
  }
  return nullptr;
}

// "value field lines alerts" per observable, sorted by value: one readable string to compare.
inline std::string Dump(const Sifter& s) {
  std::map<std::string, std::string> rows;
  for (const Observable& o : s.observables()) {
    rows[o.value] = o.value + " " + std::string(core::TypeName(o.type)) + " " +
                    std::string(FieldName(o.field)) + " " + std::to_string(o.lines) + " " +
                    std::to_string(o.alerts);
  }
  std::string out;
  for (const auto& [k, v] : rows) out += v + "\n";
  return out;
}

inline std::string Iso(int64_t t) { return t == 0 ? "" : FormatIsoDateTime(t); }

}  // namespace iocgrid::sift::testing
