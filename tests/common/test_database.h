#pragma once
// The portal's database in tests (issue 12: the same suite on SQLite and on PostgreSQL).
// ctest runs the portal tests twice: as they are (SQLite files), and under the "Postgres:"
// prefix with IOCGRID_TEST_POSTGRES naming the state directory of the server
// scripts/test-postgres.sh started (the Postgres fixture). A test asks
//   test::OnPostgres()          true in the PostgreSQL run
//   test::PostgresMissing()     why PostgreSQL tests must skip ("" when the server is there)
//   test::TestDatabase()        "" in the SQLite run (the store's file); in the PostgreSQL run
//                               the URL of a new, empty schema of its own on the test server
// By hand: scripts/test-postgres.sh start /tmp/pg &&
//   IOCGRID_TEST_POSTGRES=/tmp/pg build/ci/tests/portal/iocgrid_portal_test

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "sql/database.h"

namespace iocgrid::test {

inline bool OnPostgres() {
  const char* state = std::getenv("IOCGRID_TEST_POSTGRES");
  return state != nullptr && *state != '\0';
}

inline std::string ReadStateFile(const std::string& name) {
  const char* state = std::getenv("IOCGRID_TEST_POSTGRES");
  if (state == nullptr) return "";
  std::ifstream in(std::string(state) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

inline std::string PostgresMissing() {
  if (!OnPostgres()) return "";
  std::string missing = ReadStateFile("missing");
  if (!missing.empty()) return missing;
  if (ReadStateFile("url").empty()) {
    return "no test server: run scripts/test-postgres.sh start DIR and set "
           "IOCGRID_TEST_POSTGRES=DIR";
  }
  return "";
}

// The test server's URL (its postgres database, as superuser).
inline std::string PostgresServerUrl() { return ReadStateFile("url"); }

// A new empty schema on the test server, as a URL that makes it the connection's search_path.
// Aborts when the server cannot be reached (a broken test machine, not a test result).
inline std::string FreshPostgresSchema() {
  static std::atomic<int> counter{0};
  const std::string url = PostgresServerUrl();
  const std::string schema =
      "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
  auto db = sql::ConnectPostgres(url);
  if (!db.ok() || !(*db)->Exec("CREATE SCHEMA " + schema).ok()) {
    std::fprintf(stderr, "FreshPostgresSchema: cannot create a schema on %s: %s\n", url.c_str(),
                 db.ok() ? "CREATE SCHEMA failed" : db.status().ToString().c_str());
    std::abort();
  }
  return url + "&options=-csearch_path%3D" + schema;
}

inline std::string TestDatabase() {
  if (!OnPostgres() || !PostgresMissing().empty()) return "";
  return FreshPostgresSchema();
}

}  // namespace iocgrid::test
