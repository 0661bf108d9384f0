// Issue 8 regressions on a real node over loopback HTTP: hostile nesting, oversized value
// lists, wrong JSON types and out-of-range numbers must each get a clear 4xx, leave an audit
// row, and never take the node down.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "core/event.h"
#include "core/indicator.h"
#include "tests/common/peak_rss.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

class Issue8Test : public NodeFixture {
 protected:
  void ExpectError(const net::ClientResponse& r, int status, const std::string& needle,
                   const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body.substr(0, 300);
    json j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << what;
    EXPECT_TRUE(j.contains("name") && j.contains("message") && j.contains("url")) << what;
    EXPECT_NE(j.value("message", "").find(needle), std::string::npos)
        << what << ": " << j.value("message", "");
  }

  bool NodeAlive() { return Call("GET", "/servers/getVersion").status == 200; }

  std::string AddEvent() {
    json ev = {{"info", "issue 8"},
               {"Attribute",
                {{{"type", "ip-dst"}, {"value", "198.51.100.7"}},
                 {{"type", "domain"}, {"value", "evil.example"}}}}};
    auto r = Call("POST", "/events/add", ev.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? Json(r)["Event"]["id"].get<std::string>() : "";
  }
};

// {"value": {"OR": {"OR": ... "x" ...}}}: the 75 KB body that overflowed ParseTerms' stack.
std::string DeepValue(int levels) {
  std::string s = "{\"value\":";
  for (int i = 0; i < levels; ++i) s += "{\"OR\":";
  s += "\"x\"";
  s += std::string(static_cast<size_t>(levels), '}');
  return s + "}";
}

std::string DeepArray(int levels) {
  return std::string(static_cast<size_t>(levels), '[') +
         std::string(static_cast<size_t>(levels), ']');
}

TEST_F(Issue8Test, DeeplyNestedRestSearchValueIs400AndAudited) {
  auto r = Call("POST", "/attributes/restSearch", DeepValue(15000), user_key_);
  ExpectError(r, 400, "deeper than 64", "15,000-deep value");
  EXPECT_TRUE(NodeAlive());
  auto audit = node_->store().ListAudit(5);
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const auto& e : *audit) found |= e.endpoint == "/attributes/restSearch" && e.status == 400;
  EXPECT_TRUE(found) << "the refused request left no audit row";
}

TEST_F(Issue8Test, ThirtyThousandDeepBodiesAreRefusedOnEveryJsonEndpoint) {
  std::string id = AddEvent();
  const std::string deep_array = DeepArray(30000);
  std::string deep_object;
  for (int i = 0; i < 30000; ++i) deep_object += "{\"Sighting\":";
  deep_object += "1" + std::string(30000, '}');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/attributes/restSearch", deep_array},
      {"/events/restSearch", DeepValue(30000)},
      {"/sightings/add", deep_object},
      {"/events/add", deep_array},
      {"/events/edit/" + id, deep_object},
      {"/events/index", deep_array},
      {"/attributes/add/" + id, deep_array},
      {"/events/view/" + id, deep_array},
      {"/grid/v1/match", "{\"indicators\":" + deep_array + "}"},
  };
  for (const auto& [path, body] : cases) {
    auto r = Call("POST", path, body);
    ExpectError(r, 400, "deeper than 64", path);
    ASSERT_TRUE(NodeAlive()) << path;
  }
  // Shallow nesting still works.
  EXPECT_EQ(Call("POST", "/attributes/restSearch", DeepValue(2)).status, 200);
}

// A JSON list of 10^6 distinct addresses (about 15 MB).
std::string MillionAddresses() {
  std::string list = "[";
  for (int i = 0; i < 1000000; ++i) {
    if (i) list += ',';
    list += "\"10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
            std::to_string(i & 255) + "\"";
  }
  return list + "]";
}

TEST_F(Issue8Test, MillionValueSearchIsRefusedWithBoundedMemory) {
  const std::string body = "{\"returnFormat\":\"json\",\"value\":" + MillionAddresses() + "}";
  const long body_kib = static_cast<long>(body.size() / 1024);
  test::ResetPeakRss();
  const long before = test::PeakRssKib();
  auto r = Call("POST", "/attributes/restSearch", body, user_key_);
  const long peak = test::PeakRssKib();
  ExpectError(r, 413, "split", "10^6 values");
  // The client's copy, curl's and the server's body are unavoidable; a DOM of the values
  // (what the node built before) costs several times more.
  if (before > 0 && peak > 0) {
    EXPECT_LT(peak - before, 4 * body_kib)
        << "peak grew " << (peak - before) << " KiB for a " << body_kib << " KiB body";
  }
  EXPECT_TRUE(NodeAlive());
}

TEST_F(Issue8Test, MillionIndicatorGridMatchIsServedWithBoundedMemory) {
  const std::string body = MillionAddresses();
  auto r = Call("POST", "/grid/v1/match", body, user_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"indicators\":1000000"), std::string::npos) << r.body.substr(0, 300);
  // Memory is measured on the real binary (see the report of issue 8): the server's peak grows
  // about 5x the body (body, structural index, packed values); in one test process with the
  // client's copies the figure is too noisy for a threshold.
}

TEST_F(Issue8Test, GridMatchStillRefusesMalformedJson) {
  for (const char* body :
       {R"(["198.51.100.7"] trailing)", R"(["198.51.100.7",)",
        R"({"indicators":["198.51.100.7"]} {})", R"({"since":"1d"})", R"(["198.51.100.7", 5])"}) {
    auto r = Call("POST", "/grid/v1/match", body, user_key_);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  auto ok = Call(
      "POST", "/grid/v1/match",
      R"({"since":"30d","indicators":[{"type":"ip-dst","value":"198.51.100.7"}],"include_misses":true})",
      user_key_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("\"indicators\":1"), std::string::npos) << ok.body;
}

TEST_F(Issue8Test, ValuesSplitInsideOneStringCountTowardsTheCap) {
  NodeOptions options;
  options.max_search_values = 1000;
  StartNode(options);
  std::string many = "a";
  for (int i = 0; i < 5000; ++i) many += "||v" + std::to_string(i);
  auto r = Call("POST", "/attributes/restSearch", json{{"value", many}}.dump(), user_key_);
  ExpectError(r, 413, "split", "a||b||... value");
}

TEST_F(Issue8Test, GridMatchOverTheCapIsRefusedBeforeParsing) {
  NodeOptions options;
  options.max_match_values = 1000;
  StartNode(options);
  json list = json::array();
  for (int i = 0; i < 5000; ++i) list.push_back({{"value", "10.0.0." + std::to_string(i % 256)}});
  auto r = Call("POST", "/grid/v1/match", json{{"indicators", list}}.dump(), user_key_);
  ExpectError(r, 413, "split", "grid match");
}

TEST_F(Issue8Test, OutOfRangeNumbersAndWrongTypesAre400NamingTheField) {
  AddEvent();
  struct Case {
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"value", "x"}, {"timestamp", "12345678901234567890"}}, "timestamp"},
      {{{"value", "x"}, {"timestamp", json::parse("12345678901234567890")}}, "timestamp"},
      {{{"value", "x"}, {"from", "99999999999999999999"}}, "from"},
      {{{"value", "x"}, {"publish_timestamp", "99999999999d"}}, "publish_timestamp"},
      {{{"value", "x"}, {"limit", -1}}, "limit"},
      {{{"value", "x"}, {"limit", 0}}, "limit"},
      {{{"value", "x"}, {"limit", 2.5}}, "limit"},
      {{{"value", "x"}, {"limit", "ten"}}, "limit"},
      {{{"value", "x"}, {"limit", json::object()}}, "limit"},
      {{{"value", "x"}, {"page", json::array()}}, "page"},
      {{{"value", "x"}, {"page", 0}}, "page"},
      {{{"value", "x"}, {"order", 5}}, "order"},
      {{{"value", "x"}, {"includeContext", json::object()}}, "includeContext"},
      {{{"value", "x"}, {"includeEventTags", "maybe"}}, "includeEventTags"},
      {{{"value", "x"}, {"from", json::object()}}, "from"},
      {{{"value", "x"}, {"to", json::array({1})}}, "to"},
      {{{"value", "x"}, {"searchall", 3}}, "searchall"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/attributes/restSearch", c.body.dump(), user_key_);
    ExpectError(r, 400, "'" + c.field + "'", c.body.dump());
  }
  auto events =
      Call("POST", "/events/restSearch", json{{"value", "x"}, {"limit", "-5"}}.dump(), user_key_);
  ExpectError(events, 400, "'limit'", "events/restSearch limit");
  auto index = Call("POST", "/events/index", json{{"limit", 2.5}}.dump(), user_key_);
  ExpectError(index, 400, "'limit'", "events/index limit");
}

TEST_F(Issue8Test, SearchWithoutUsableFilterNeedsAnExplicitLimit) {
  AddEvent();
  for (const char* body : {R"({"value":{}})", R"({"value":null})", R"({"x":1})",
                           R"({"value":[], "returnFormat":"csv"})"}) {
    auto r = Call("POST", "/attributes/restSearch", body, user_key_);
    ExpectError(r, 400, "explicit limit", body);
    ExpectError(Call("POST", "/events/restSearch", body, user_key_), 400, "explicit limit", body);
  }
  auto limited = Call("POST", "/attributes/restSearch", R"({"x":1,"limit":1})", user_key_);
  ASSERT_EQ(limited.status, 200) << limited.body;
  EXPECT_EQ(Json(limited)["response"]["Attribute"].size(), 1u);
  // A real filter needs no limit.
  auto filtered = Call("POST", "/attributes/restSearch", R"({"type":"ip-dst"})", user_key_);
  EXPECT_EQ(filtered.status, 200);
}

TEST_F(Issue8Test, PagePastTheEndIsEmptyNotPageOne) {
  AddEvent();
  for (json page : {json(3), json("4294967296000"), json::parse("18446744073709551615")}) {
    auto r =
        Call("POST", "/attributes/restSearch",
             json{{"type", {"ip-dst", "domain"}}, {"limit", 1}, {"page", page}}.dump(), user_key_);
    ASSERT_EQ(r.status, 200) << page.dump() << ": " << r.body;
    EXPECT_TRUE(Json(r)["response"]["Attribute"].empty()) << page.dump();
  }
}

TEST_F(Issue8Test, EventsAddRefusesOutOfRangeTimestampsAndNonListAttributes) {
  json big = {{"info", "t"},
              {"timestamp", "12345678901234567890"},
              {"Attribute", {{{"type", "ip-dst"}, {"value", "198.51.100.7"}}}}};
  ExpectError(Call("POST", "/events/add", big.dump()), 400, "'timestamp'", "event timestamp");
  json attr_big = {{"info", "t"},
                   {"Attribute",
                    {{{"type", "ip-dst"},
                      {"value", "198.51.100.7"},
                      {"timestamp", json::parse("99999999999999999999")}}}}};
  ExpectError(Call("POST", "/events/add", attr_big.dump()), 400, "'timestamp'",
              "attribute timestamp");
  json object_list = {{"info", "t"},
                      {"Attribute", {{"type", "ip-dst"}, {"value", "198.51.100.7"}}}};
  ExpectError(Call("POST", "/events/add", object_list.dump()), 400, "'Attribute'",
              "Attribute as an object");
  // Nothing was stored.
  auto index = Call("POST", "/events/index", "{}");
  ASSERT_EQ(index.status, 200);
  EXPECT_TRUE(Json(index).empty()) << index.body;
}

// A real SQLITE_FULL: the store file is capped (SQLite max_page_count), so writes fail exactly
// as on a full disk. An event that does not fit is 507 with the reason (it was 429, which
// clients read as a rate limit); once not even an audit row fits, every request is refused
// with 503 instead of being served unaudited (the log failed open).
TEST_F(Issue8Test, FullDiskIs507AndRequestsThatCannotBeAuditedAre503) {
  NodeOptions options;
  options.store.max_size_kib = 1024;
  StartNode(options);
  net::ClientResponse full;
  for (int n = 0; n < 400; ++n) {
    json attrs = json::array();
    for (int i = 0; i < 200; ++i) {
      attrs.push_back(
          {{"type", "domain"},
           {"value", "host" + std::to_string(i) + ".n" + std::to_string(n) + ".example"}});
    }
    full = Call("POST", "/events/add",
                json{{"info", "fill " + std::to_string(n)}, {"Attribute", attrs}}.dump());
    if (full.status != 200) break;
  }
  ExpectError(full, 507, "SQLITE_FULL", "event that does not fit");
  net::ClientResponse refused;
  for (int n = 0; n < 20000; ++n) {
    refused = Call("GET", "/servers/getVersion");
    if (refused.status != 200) break;
  }
  ExpectError(refused, 503, "audit log cannot be written", "request that cannot be audited");
  ExpectError(Call("POST", "/attributes/restSearch", R"({"value":"x"})", user_key_), 503,
              "audit log", "search that cannot be audited");
}

// --audit-values kept values for restSearch json only; grid match (the portal's path) and the
// count, csv and text formats stored NULL.
TEST_F(Issue8Test, AuditValuesAreKeptOnEverySearchPath) {
  NodeOptions options;
  options.store.audit_values = true;
  StartNode(options);
  AddEvent();
  struct Case {
    std::string path;
    std::string body;
    std::string content_type;
  };
  const std::vector<Case> cases = {
      {"/attributes/restSearch",
       R"({"value":["198.51.100.7","!q1.example"],"returnFormat":"json"})", ""},
      {"/attributes/restSearch", R"({"value":"198.51.100.7||q2.example","returnFormat":"count"})",
       ""},
      {"/attributes/restSearch", R"({"value":["198.51.100.7","q3.example"],"returnFormat":"csv"})",
       ""},
      {"/attributes/restSearch", R"({"value":["198.51.100.7","q4.example"],"returnFormat":"text"})",
       ""},
      {"/events/restSearch", R"({"value":["198.51.100.7","q5.example"]})", ""},
      {"/events/index", R"({"value":["198.51.100.7","q6.example"]})", ""},
      {"/grid/v1/match", R"({"indicators":["198.51.100.7","q7.example"]})", ""},
      {"/grid/v1/match", "198.51.100.7\nq8.example\n", "application/x-ndjson"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    auto r = Call("POST", c.path, c.body, user_key_, headers);
    ASSERT_EQ(r.status, 200) << c.body << ": " << r.body;
    auto audit = node_->store().ListAudit(1);
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->size(), 1u);
    const store::AuditEntry& e = audit->front();
    EXPECT_EQ(e.endpoint, c.path);
    EXPECT_EQ(e.status, 200);
    EXPECT_EQ(e.value_count, 2u) << c.body;
    const std::string marker = "q" + std::to_string(i + 1) + ".example";
    EXPECT_NE(
        std::find_if(e.values.begin(), e.values.end(),
                     [&](const std::string& v) { return v.find(marker) != std::string::npos; }),
        e.values.end())
        << c.path << " " << c.body << " stored no values; id " << e.id
        << " values: " << (e.values.empty() ? std::string("(none)") : e.values.front());
  }
}

// Strings stored before import validation (or by any other path) must never reach a client as
// invalid UTF-8: the old writer let encoded surrogates and overlongs through, and the portal's
// simdjson then refused the member's whole answer.
TEST_F(Issue8Test, AnswersAreValidUtf8EvenForInvalidStoredStrings) {
  core::Event event;
  event.info = "stored \xC0\xAF info";
  core::Attribute a;
  a.indicator = core::Indicator{core::IndicatorType::kText, "lone \xED\xA0\x80 surrogate"};
  a.comment = "F5 \xF5 lead";
  event.attributes.push_back(a);
  core::Attribute d;
  d.indicator = core::Indicator{core::IndicatorType::kDomain, "evil.example"};
  d.comment = "overlong \xE0\x80\xAF";
  event.attributes.push_back(d);
  const std::vector<core::Event> events = {event};
  ASSERT_TRUE(node_->store().ImportEvents(events, store::ImportOptions{}).ok());
  ASSERT_TRUE(node_->RefreshIndex().ok());
  for (const char* format : {"json", "csv", "text"}) {
    auto r =
        Call("POST", "/attributes/restSearch",
             json{{"type", {"text", "domain"}}, {"returnFormat", format}, {"to_ids", 0}}.dump(),
             user_key_);
    ASSERT_EQ(r.status, 200) << format;
    EXPECT_TRUE(IsValidUtf8(r.body)) << format;
    if (std::string(format) == "json") {
      EXPECT_FALSE(json::parse(r.body, nullptr, false).is_discarded());
    }
  }
  auto grid = Call("POST", "/grid/v1/match", R"(["evil.example"])", user_key_);
  ASSERT_EQ(grid.status, 200);
  EXPECT_TRUE(IsValidUtf8(grid.body));
  EXPECT_NE(grid.body.find("overlong \xEF\xBF\xBD"), std::string::npos) << grid.body;
}

}  // namespace
}  // namespace iocgrid::node
