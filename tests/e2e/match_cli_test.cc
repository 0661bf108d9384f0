// `iocgrid match` as a user runs it: a real process on real files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

const std::string kData = IOCGRID_PROJECT_DATA_DIR;

std::vector<nlohmann::json> Lines(const std::string& ndjson) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ndjson);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

TEST(MatchCliTest, DemoQueryHitsAnonymityRangesWithStableJsonFields) {
  auto r =
      RunIocgrid({"match", "--against", kData + "/members/anonymity", kData + "/members/honeypot",
                  "--format", "json", kData + "/queries/blacktech_iocs.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hits = Lines(r.out);
  ASSERT_FALSE(hits.empty());
  std::set<std::string> queries;
  for (const auto& h : hits) {
    for (const char* key :
         {"query", "query_type", "relation", "matched", "matched_type", "source", "line"}) {
      EXPECT_TRUE(h.contains(key)) << key << " missing in " << h.dump();
    }
    queries.insert(h["query"].get<std::string>());
    if (h["query"] == "172.104.109.217:8080") {
      EXPECT_EQ(h["query_type"], "ip-dst|port");
      EXPECT_EQ(h["relation"], "in-range");
      EXPECT_EQ(h["matched"], "172.104.64.0/18");
      EXPECT_NE(h["source"].get<std::string>().find("vpn-ipv4/list.json"), std::string::npos);
      EXPECT_GT(h["line"].get<int>(), 1);
    }
  }
  EXPECT_TRUE(queries.count("172.104.109.217:8080"));
  EXPECT_TRUE(queries.count("http://107.191.61.40"));
  EXPECT_NE(r.err.find("hit(s) for"), std::string::npos);
}

TEST(MatchCliTest, NoHitsExitsOne) {
  TempDir dir;
  std::string data = dir.Write("list.txt", "198.51.100.0/24\nevil.example\n");
  auto r = RunIocgrid({"match", "--against", data, "-"}, "203.0.113.5\ngood.example\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(MatchCliTest, ReadsDefangedQueriesFromStdinAndReportsRelations) {
  TempDir dir;
  std::string data = dir.Write("member.txt",
                               "198.51.100.0/24\nevil.example\nhttp://bad.example/gate.php\n"
                               "2001:db8::/32\nd41d8cd98f00b204e9800998ecf8427e\n");
  auto r = RunIocgrid({"match", "--against", data, "--format", "json", "-"},
                      "198.51.100[.]7\nhxxps://a.evil[.]example/x\nbad.example\n"
                      "2001:DB8::1\nD41D8CD98F00B204E9800998ECF8427E\nnothing.example\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& h : Lines(r.out)) {
    got.insert({h["query_normalized"].get<std::string>(), h["relation"].get<std::string>()});
  }
  std::set<std::pair<std::string, std::string>> want = {
      {"198.51.100.7", "in-range"},
      {"https://a.evil.example/x", "subdomain"},
      {"bad.example", "url-host"},
      {"2001:db8::1", "in-range"},
      {"d41d8cd98f00b204e9800998ecf8427e", "exact"},
  };
  EXPECT_EQ(got, want) << r.out;
}

TEST(MatchCliTest, MalformedLinesAreReportedWithFileAndLineAndSkipped) {
  TempDir dir;
  std::string data =
      dir.Write("member.txt", "198.51.100.7\nthis is not an indicator\n203.0.113.9\n");
  auto r = RunIocgrid({"match", "--against", data, "-"}, "203.0.113.9\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(data + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 malformed line(s) skipped"), std::string::npos) << r.err;
  auto strict = RunIocgrid({"match", "--strict", "--against", data, "-"}, "203.0.113.9\n");
  EXPECT_EQ(strict.exit_code, 2) << strict.err;
  EXPECT_NE(strict.err.find("--strict"), std::string::npos) << strict.err;
}

TEST(MatchCliTest, CsvOutputHasHeaderAndQuotedFields) {
  TempDir dir;
  std::string data =
      dir.Write("member.csv", "type,value,comment\ndomain,evil.example,\"c2, stage 2\"\n");
  auto r = RunIocgrid({"match", "--against", data, "--format", "csv", "-"}, "evil.example\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out.rfind(
          "query,query_type,relation,matched,matched_type,source,source_name,line,comment\n", 0),
      0u);
  EXPECT_NE(r.out.find("evil.example,domain,exact,evil.example,domain,"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"c2, stage 2\""), std::string::npos) << r.out;
}

// Comments are kept apart from the records (most have none): each hit still shows its own.
TEST(MatchCliTest, EachHitShowsItsOwnRecordsComment) {
  TempDir dir;
  std::string data = dir.Write("member.txt",
                               "198.51.100.1 first seen in march\n198.51.100.2\n"
                               "198.51.100.3 c2 # trailing note\n198.51.100.4\n");
  auto r = RunIocgrid({"match", "--against", data, "--format", "json", "-"},
                      "198.51.100.4\n198.51.100.3\n198.51.100.2\n198.51.100.1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hits = Lines(r.out);
  ASSERT_EQ(hits.size(), 4u) << r.out;
  EXPECT_FALSE(hits[0].contains("comment")) << hits[0].dump();
  EXPECT_EQ(hits[1]["comment"], "c2");
  EXPECT_FALSE(hits[2].contains("comment")) << hits[2].dump();
  EXPECT_EQ(hits[3]["comment"], "first seen in march");
  EXPECT_EQ(hits[3]["line"], 1);
  EXPECT_EQ(hits[1]["line"], 3);
}

TEST(MatchCliTest, ErrorsExitTwoWithOneLine) {
  auto missing = RunIocgrid({"match", "--against", "/nonexistent/dir", "-"}, "1.2.3.4\n");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/dir"), std::string::npos) << missing.err;
  auto bad_format =
      RunIocgrid({"match", "--against", kData + "/queries", "--format", "xml", "-"}, "1.2.3.4\n");
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_NE(bad_format.err.find("--format"), std::string::npos);
  auto no_args = RunIocgrid({"match"});
  EXPECT_EQ(no_args.exit_code, 2);
  auto relation = RunIocgrid({"match", "--against", kData + "/queries", "--relations", "near", "-"},
                             "1.2.3.4\n");
  EXPECT_EQ(relation.exit_code, 2);
  EXPECT_NE(relation.err.find("near"), std::string::npos);
}

TEST(MatchCliTest, RelationFilterKeepsOnlyChosenRelations) {
  TempDir dir;
  std::string data = dir.Write("member.txt", "198.51.100.0/24\n198.51.100.7\n");
  auto r = RunIocgrid({"match", "--against", data, "--relations", "exact", "--format", "json", "-"},
                      "198.51.100.7\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hits = Lines(r.out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["relation"], "exact");
}

// A plain query list of 4 MB or more is matched by two threads (--threads 2, the default):
// output, warnings, summary and exit code are those of one thread, in every format, with
// malformed lines and hits in both halves and a CSV whose first half has no hit. The second
// thread parses the list while the data loads, and the split of the rest depends on how far it
// got: against a small data file it gets nowhere, against a large one (`big`, 40 times the
// lines) it parses most or all of the list first.
TEST(MatchCliTest, TwoThreadsGiveTheOutputOfOne) {
  TempDir dir;
  std::string data_text;
  std::string queries = "# a large list\n";
  for (int i = 0; i < 400000; ++i) {
    const std::string ip = "81." + std::to_string(i / 65536) + "." +
                           std::to_string((i / 256) % 256) + "." + std::to_string(i % 256);
    queries += ip + "\n";
    if (i % 97 == 0) data_text += ip + "\n";
    if (i == 1000 || i == 250000) queries += "not an indicator!!\n";
  }
  queries += "evil.example.com\nD41D8CD98F00B204E9800998ECF8427E\n";
  data_text += "example.com\nd41d8cd98f00b204e9800998ecf8427e\n";
  const std::string data = dir.Write("data.txt", data_text);
  std::string big_text = data_text;
  for (int i = 0; i < 170000; ++i) {
    big_text += "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
                std::to_string(i % 256) + "\n";
  }
  const std::string big = dir.Write("big.txt", big_text);
  const std::string list = dir.Write("queries.txt", queries);
  ASSERT_GT(queries.size(), size_t{4} << 20);
  // Hits only in the second half.
  const std::string late = dir.Write("late.txt", std::string(5 << 20, '\n') + "example.com\n");
  for (const std::string& d : {data, big}) {
    for (const char* format : {"json", "csv", "table"}) {
      for (const std::string& q : {list, late}) {
        auto one = RunIocgrid({"match", "--threads", "1", "--format", format, "--against", d, q});
        auto two = RunIocgrid({"match", "--format", format, "--against", d, q});
        EXPECT_EQ(one.exit_code, 0) << one.err;
        EXPECT_EQ(two.exit_code, one.exit_code);
        EXPECT_EQ(two.out, one.out) << format << " " << q << " against " << d;
        EXPECT_EQ(two.err, one.err) << format << " " << q << " against " << d;
      }
    }
  }
  auto csv = RunIocgrid({"match", "--format", "csv", "--against", data, late});
  EXPECT_EQ(csv.out.rfind("query,query_type,", 0), 0u) << csv.out;
  auto json = RunIocgrid({"match", "--format", "json", "--against", data, list});
  EXPECT_EQ(Lines(json.out).size(), 400000u / 97 + 1 + 2);  // every 97th, a subdomain, a hash
  EXPECT_NE(json.err.find("queries.txt:1003: no indicator"), std::string::npos) << json.err;
  EXPECT_NE(json.err.find("queries.txt:250004: no indicator"), std::string::npos) << json.err;
  auto bad = RunIocgrid({"match", "--threads", "3", "--against", data, list});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--threads"), std::string::npos) << bad.err;
}

// Hostile lists on the two-thread path: a 5 MB line without a break, invalid UTF-8 and NUL
// bytes, CR-only line ends and a BOM, each around valid values; the second thread's parsing ahead
// and the split must give the one-thread output and warnings.
TEST(MatchCliTest, TwoThreadsGiveTheOutputOfOneOnHostileLists) {
  TempDir dir;
  const std::string data = dir.Write("data.txt", "198.51.100.7\nevil.example.com\n");
  constexpr char kBad[] = "\xff\xfe\xc0\xaf not \0 a value\n";  // a NUL inside
  std::string garbage;
  for (int i = 0; i < 300000; ++i) {
    garbage += i % 3 == 0 ? std::string(kBad, sizeof kBad - 1)
                          : (i % 3 == 1 ? "198.51.100.7\n" : "x.evil.example.com\r\r\n");
  }
  const std::vector<std::string> lists = {
      dir.Write("one-line.txt", "198.51.100.7\n" + std::string(5 << 20, 'a') + "\n198.51.100.7\n"),
      dir.Write("no-break.txt", std::string(5 << 20, '7')),
      dir.Write("garbage.txt", "\xef\xbb\xbf" + garbage),
  };
  for (const std::string& q : lists) {
    ASSERT_GE(std::filesystem::file_size(q), size_t{4} << 20);
    auto one = RunIocgrid({"match", "--threads", "1", "--format", "json", "--against", data, q});
    auto two = RunIocgrid({"match", "--format", "json", "--against", data, q});
    EXPECT_NE(one.exit_code, 2) << one.err;
    EXPECT_EQ(two.exit_code, one.exit_code) << q;
    EXPECT_EQ(two.out, one.out) << q;
    EXPECT_EQ(two.err, one.err) << q;
  }
  auto garbage_hits = RunIocgrid({"match", "--format", "json", "--against", data, lists[2]});
  EXPECT_EQ(Lines(garbage_hits.out).size(), 200000u);  // every 198.51.100.7 and subdomain line
  EXPECT_NE(garbage_hits.err.find("garbage.txt:1: no indicator"), std::string::npos)
      << garbage_hits.err.substr(0, 500);
}

// Queries that each hit many stored records, clustered in the middle of a list matched by two
// threads: each 64 KiB unit of them (~5,000 queries, 32 hits each) yields 11 MB or more of CSV,
// more than a unit keeps in memory (8 MiB), so its rows go through a temporary file before they
// are written in order (two such files, seen with strace). The output is the one-thread
// output, byte for byte.
TEST(MatchCliTest, TwoThreadsGiveTheOutputOfOneWhenUnitsHitHeavily) {
  TempDir dir;
  std::string data_text;
  for (int i = 0; i < 32; ++i) data_text += "198.51.100.7\n";  // 32 records of one address
  data_text += "203.0.113.9\n";
  const std::string data = dir.Write("data.txt", data_text);
  std::string queries;
  auto distinct = [](int i) {
    return "81." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
           std::to_string(i % 256) + "\n";
  };
  for (int i = 0; i < 200000; ++i) queries += distinct(i);
  for (int i = 0; i < 12000; ++i) queries += "198.51.100.7\n";
  for (int i = 200000; i < 390000; ++i) queries += distinct(i);
  queries += "203.0.113.9\n";
  const std::string list = dir.Write("queries.txt", queries);
  ASSERT_GT(queries.size(), size_t{4} << 20);
  auto one = RunIocgrid({"match", "--threads", "1", "--format", "csv", "--against", data, list});
  auto two = RunIocgrid({"match", "--format", "csv", "--against", data, list});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(two.exit_code, 0) << two.err;
  // Every hit of the cluster, the last query's, and the header.
  EXPECT_EQ(static_cast<size_t>(std::count(one.out.begin(), one.out.end(), '\n')),
            12000u * 32 + 1 + 1);
  EXPECT_TRUE(two.out == one.out) << "outputs of " << two.out.size() << " and " << one.out.size()
                                  << " bytes differ";
  EXPECT_EQ(two.err, one.err);
}

TEST(MatchCliTest, HelpExplainsTheCommand) {
  auto r = RunIocgrid({"match", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--against"), std::string::npos);
  EXPECT_NE(r.out.find("Exit status"), std::string::npos);
}

}  // namespace
}  // namespace iocgrid::e2e
