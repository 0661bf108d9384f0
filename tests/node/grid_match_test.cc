// POST /grid/v1/match over real HTTP: request forms, relations, time scope, errors, and the
// hits on real member data against an independent linear-scan oracle.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/loader.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

std::vector<json> Lines(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

class GridMatchTest : public NodeFixture {
 protected:
  void Seed() {
    AddEvent(
        {{"info", "c2 infrastructure"},
         {"date", "2024-03-01"},
         {"Attribute",
          {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}, {"timestamp", "1709251200"}},
           {{"type", "domain"}, {"value", "evil.example"}, {"timestamp", "1709251200"}},
           {{"type", "url"}, {"value", "http://bad.example/gate.php"}, {"timestamp", "1709251200"}},
           {{"type", "domain|ip"},
            {"value", "mixed.example|203.0.113.9"},
            {"timestamp", "1709251200"}},
           {{"type", "md5"},
            {"value", "d41d8cd98f00b204e9800998ecf8427e"},
            {"first_seen", "2019-01-01T00:00:00Z"},
            {"last_seen", "2019-06-01T00:00:00Z"}}}},
         {"Tag", {{{"name", "tlp:amber"}}}}});
  }

  std::map<std::string, std::set<std::string>> RelationsByQuery(const std::vector<json>& lines) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& l : lines) {
      if (!l.contains("hits") || !l["hits"].is_array()) continue;
      for (const auto& h : l["hits"]) out[l["query"]].insert(h["relation"].get<std::string>());
    }
    return out;
  }
};

TEST_F(GridMatchTest, JsonArrayGetsEveryRelationWithContext) {
  Seed();
  json body = json::array({"198.51.100.7", "a.evil.example", "hxxp://evil[.]example/x",
                           "bad.example", "203.0.113.9", "D41D8CD98F00B204E9800998ECF8427E",
                           "198.51.100.0/25", "unrelated.example"});
  auto r = Call("POST", "/grid/v1/match", body.dump(), user_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  auto lines = Lines(r.body);
  auto rel = RelationsByQuery(lines);
  using S = std::set<std::string>;
  EXPECT_EQ(rel["198.51.100.7"], S{"in-range"});
  EXPECT_EQ(rel["a.evil.example"], S{"subdomain"});
  EXPECT_EQ(rel["hxxp://evil[.]example/x"], S{"url-host"});
  EXPECT_EQ(rel["bad.example"], S{"url-host"});
  EXPECT_EQ(rel["203.0.113.9"], S{"component"});
  EXPECT_EQ(rel["D41D8CD98F00B204E9800998ECF8427E"], S{"exact"});
  EXPECT_EQ(rel["198.51.100.0/25"], S{"in-range"});
  EXPECT_EQ(rel.count("unrelated.example"), 0u);
  // Context: event, tags, time.
  for (const auto& l : lines) {
    if (l.value("query", "") != "198.51.100.7") continue;
    const json& h = l["hits"][0];
    EXPECT_EQ(h["matched"], "198.51.100.0/24");
    EXPECT_EQ(h["event"]["info"], "c2 infrastructure");
    EXPECT_EQ(h["event"]["date"], "2024-03-01");
    EXPECT_EQ(h["tags"], json::array({"tlp:amber"}));
    EXPECT_EQ(h["timestamp"], 1709251200);
    EXPECT_EQ(l["normalized"], "198.51.100.7");
  }
  const json& done = lines.back();
  EXPECT_EQ(done["done"], true);
  EXPECT_EQ(done["indicators"], 8);
  EXPECT_EQ(done["matched"], 7);
}

TEST_F(GridMatchTest, NdjsonAndObjectFormsAndRelationFilter) {
  Seed();
  std::string ndjson =
      "\"198.51.100.7\"\n{\"value\": \"evil.example\", \"type\": \"domain\"}\nbad.example\n";
  auto r = Call("POST", "/grid/v1/match?relations=in-range,exact", ndjson, user_key_,
                {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto rel = RelationsByQuery(Lines(r.body));
  EXPECT_EQ(rel["198.51.100.7"], std::set<std::string>{"in-range"});
  EXPECT_EQ(rel["evil.example"], std::set<std::string>{"exact"});
  EXPECT_EQ(rel.count("bad.example"), 0u);  // url-host is filtered out
  json obj = {{"indicators", {"198.51.100.7", "nothing.example"}}, {"include_misses", true}};
  auto o = Lines(Call("POST", "/grid/v1/match", obj.dump(), user_key_).body);
  ASSERT_EQ(o.size(), 3u);  // a hit line, a miss line, the summary
  EXPECT_EQ(o[1]["query"], "nothing.example");
  EXPECT_TRUE(o[1]["hits"].empty());
}

TEST_F(GridMatchTest, TimeScopeFiltersMemberData) {
  Seed();
  json in_2019 = {{"indicators", {"d41d8cd98f00b204e9800998ecf8427e", "198.51.100.7"}},
                  {"since", "2019-01-01"},
                  {"until", "2019-12-31"}};
  auto rel = RelationsByQuery(Lines(Call("POST", "/grid/v1/match", in_2019.dump()).body));
  EXPECT_EQ(rel.count("d41d8cd98f00b204e9800998ecf8427e"), 1u);  // seen in 2019
  EXPECT_EQ(rel.count("198.51.100.7"), 0u);                      // only 2024 data
}

TEST_F(GridMatchTest, RelativeSinceCountsBackFromTheNodesClock) {
  Clock clock = Clock::Manual(1'710'460'800);  // 2024-03-15: the seeded data is 14 days old
  NodeOptions options;
  options.store.clock = clock;
  StartNode(options);
  Seed();
  json body = {{"indicators", {"198.51.100.7"}}, {"since", "30d"}};
  auto rel = RelationsByQuery(Lines(Call("POST", "/grid/v1/match", body.dump()).body));
  EXPECT_EQ(rel.count("198.51.100.7"), 1u);
  clock.Advance(int64_t{60} * 86400);  // 2024-05-14: now 74 days old, outside "30d"
  rel = RelationsByQuery(Lines(Call("POST", "/grid/v1/match", body.dump()).body));
  EXPECT_EQ(rel.count("198.51.100.7"), 0u);
}

TEST_F(GridMatchTest, InvalidIndicatorsAreReportedPerLine) {
  Seed();
  json body = json::array(
      {"198.51.100.7", "this is not an ioc", {{"value", "1.2.3.999"}, {"type", "ip-dst"}}});
  auto lines = Lines(Call("POST", "/grid/v1/match", body.dump()).body);
  int errors = 0;
  for (const auto& l : lines) {
    if (l.contains("error")) {
      ++errors;
      EXPECT_FALSE(l["error"].get<std::string>().empty());
    }
  }
  EXPECT_EQ(errors, 2);
  EXPECT_EQ(lines.back()["invalid"], 2);
}

TEST_F(GridMatchTest, MalformedRequestsGetMispErrors) {
  auto r = Call("POST", "/grid/v1/match", "[\"a\", ");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Json(r)["message"].get<std::string>().find("Invalid JSON"), std::string::npos);
  EXPECT_EQ(Call("POST", "/grid/v1/match", "{\"indicators\": 5}").status, 400);
  EXPECT_EQ(Call("POST", "/grid/v1/match", "[5]").status, 400);
  EXPECT_EQ(
      Call("POST", "/grid/v1/match", "{\"indicators\": [\"a\"], \"relations\": [\"near\"]}").status,
      400);
  EXPECT_EQ(Call("POST", "/grid/v1/match", "").status, 400);
  EXPECT_EQ(Call("POST", "/grid/v1/match", "[\"1.2.3.4\"]", "").status, 403);
}

TEST_F(GridMatchTest, TooManyIndicatorsIs413) {
  NodeOptions options;
  options.max_match_values = 3;
  StartNode(options);
  EXPECT_EQ(Call("POST", "/grid/v1/match",
                 json::array({"a.example", "b.example", "c.example", "d.example"}).dump())
                .status,
            413);
}

TEST_F(GridMatchTest, WritesAreVisibleToTheNextMatch) {
  Seed();
  EXPECT_TRUE(
      RelationsByQuery(Lines(Call("POST", "/grid/v1/match", "[\"fresh.example\"]").body)).empty());
  auto r = Call("POST", "/attributes/add/1",
                json{{"type", "domain"}, {"value", "fresh.example"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(RelationsByQuery(
                Lines(Call("POST", "/grid/v1/match", "[\"fresh.example\"]").body))["fresh.example"],
            std::set<std::string>{"exact"});
}

// Real member data (C set warninglists) imported through the loaders; the log clients of the
// E set as queries; the expected hits computed by a linear scan over the same CIDRs.
TEST_F(GridMatchTest, RealMemberDataAgainstLinearScanOracle) {
  const std::string shared = IOCGRID_SHARED_DATA_DIR;
  std::vector<core::Event> events;
  std::vector<std::pair<uint32_t, uint32_t>> v4_ranges;  // (network, mask)
  for (const char* list :
       {"amazon-aws", "microsoft-azure", "google-gcp", "vpn-ipv4", "oracle-oci"}) {
    std::string path = shared + "/C_member_anonymity/misp-warninglists/" + list + "/list.json";
    auto stats = ingest::LoadFile(
        path, {}, [&](core::Event&& e) { events.push_back(std::move(e)); },
        [](const ingest::LoadIssue&) {});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    // The oracle reads the JSON itself.
    std::ifstream in(path);
    json doc = json::parse(in);
    for (const auto& entry : doc["list"]) {
      std::string s = entry;
      if (s.find(':') != std::string::npos) continue;
      size_t slash = s.find('/');
      int prefix = slash == std::string::npos ? 32 : std::stoi(s.substr(slash + 1));
      in_addr a;
      ASSERT_EQ(inet_pton(AF_INET, s.substr(0, slash).c_str(), &a), 1) << s;
      uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
      v4_ranges.emplace_back(ntohl(a.s_addr) & mask, mask);
    }
  }
  ASSERT_TRUE(node_->store().ImportEvents(events, store::ImportOptions{}).ok());
  ASSERT_TRUE(node_->RefreshIndex().ok());

  std::set<std::string> clients;
  for (const char* log : {"/E_logs/apache/secrepo_access-2018-12-15.log",
                          "/E_logs/apache/secrepo_access.log.2021-10-22"}) {
    std::ifstream in(shared + log);
    std::string line;
    while (std::getline(in, line)) {
      std::string ip = line.substr(0, line.find(' '));
      in_addr a;
      if (inet_pton(AF_INET, ip.c_str(), &a) == 1) clients.insert(ip);
    }
  }
  ASSERT_GT(clients.size(), 300u);
  std::map<std::string, size_t> expected;  // ip -> number of containing list entries
  for (const std::string& ip : clients) {
    in_addr a;
    inet_pton(AF_INET, ip.c_str(), &a);
    uint32_t v = ntohl(a.s_addr);
    size_t n = 0;
    for (const auto& [net, mask] : v4_ranges) n += (v & mask) == net;
    if (n) expected[ip] = n;
  }
  json body = json::array();
  for (const auto& ip : clients) body.push_back(ip);
  auto r = Call("POST", "/grid/v1/match",
                json{{"indicators", body}, {"max_hits_per_indicator", 0}}.dump());
  ASSERT_EQ(r.status, 200);
  std::map<std::string, size_t> got;
  for (const auto& l : Lines(r.body)) {
    if (l.contains("hits") && l["hits"].is_array()) got[l["query"]] = l["hits"].size();
  }
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(expected.empty());
}

}  // namespace
}  // namespace iocgrid::node
