// Helpers shared by the ingest tests: load a file and collect what the sinks receive, and
// independent ways to count entries (so tests do not trust the loader to count itself).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/event.h"
#include "ingest/loader.h"

namespace iocgrid::ingest::testing {

inline std::string SharedData(const std::string& relative) {
  return std::string(IOCGRID_SHARED_DATA_DIR) + "/" + relative;
}
inline std::string TestData(const std::string& relative) {
  return std::string(IOCGRID_TEST_DATA_DIR) + "/ingest/" + relative;
}

struct Loaded {
  Status status;
  LoadStats stats;
  std::vector<Event> events;
  std::vector<LoadIssue> issues;

  size_t attribute_count() const {
    size_t n = 0;
    for (const Event& e : events) n += e.attributes.size();
    return n;
  }
};

inline Loaded Collect(const Result<LoadStats>& result, Loaded loaded) {
  if (result.ok()) {
    loaded.stats = *result;
  } else {
    loaded.status = result.status();
  }
  return loaded;
}

inline Loaded LoadPath(const std::string& path, LoadOptions options = {}) {
  Loaded loaded;
  Result<LoadStats> result = LoadFile(
      path, options, [&loaded](Event&& e) { loaded.events.push_back(std::move(e)); },
      [&loaded](const LoadIssue& i) { loaded.issues.push_back(i); });
  return Collect(result, std::move(loaded));
}

inline Loaded LoadText(const std::string& name, const std::string& content,
                       LoadOptions options = {}) {
  Loaded loaded;
  Result<LoadStats> result = LoadContent(
      name, content, options, [&loaded](Event&& e) { loaded.events.push_back(std::move(e)); },
      [&loaded](const LoadIssue& i) { loaded.issues.push_back(i); });
  return Collect(result, std::move(loaded));
}

// Loaded without error into exactly one event (read as `format`, when one is given):
// ASSERT_TRUE(OneEvent(loaded, InputFormat::kCsv)).
inline ::testing::AssertionResult OneEvent(const Loaded& loaded,
                                           std::optional<InputFormat> format = std::nullopt) {
  if (!loaded.status.ok()) return ::testing::AssertionFailure() << loaded.status.ToString();
  if (format.has_value() && loaded.stats.format != *format) {
    return ::testing::AssertionFailure()
           << "read as format " << static_cast<int>(loaded.stats.format) << ", not "
           << static_cast<int>(*format);
  }
  if (loaded.events.size() != 1) {
    return ::testing::AssertionFailure() << loaded.events.size() << " events, not 1";
  }
  return ::testing::AssertionSuccess();
}

// The lines of the issues, in order.
inline std::vector<uint32_t> IssueLines(const Loaded& loaded) {
  std::vector<uint32_t> lines;
  for (const LoadIssue& issue : loaded.issues) lines.push_back(issue.line);
  return lines;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Lines that are neither blank nor start with '#' (an independent count for list files).
inline size_t CountContentLines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#') ++n;
  }
  return n;
}

}  // namespace iocgrid::ingest::testing
