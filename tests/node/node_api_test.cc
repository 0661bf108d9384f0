// The node's MISP-compatible API over real loopback HTTP, with the request shapes PyMISP
// sends (misp-api.md section 7) and the response shapes MISP returns (sections 1-4).
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <set>
#include <string>
#include <thread>

#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

constexpr const char* kAuthFailed =
    "Authentication failed. Please make sure you pass the API key of an API enabled user along "
    "in the Authorization header.";

// PyMISP add_event body (misp-api.md 3.3), with a composite and an object.
std::string PyMispEvent(const std::string& uuid = "1ce1ab05-0d39-4b0e-8a1d-5e2c3d4e5f60") {
  json ev = {{"uuid", uuid},
             {"info", "test event"},
             {"distribution", "0"},
             {"threat_level_id", "4"},
             {"analysis", "0"},
             {"Attribute",
              {{{"uuid", "92fcb8c2-1111-4b0e-8a1d-5e2c3d4e5f60"},
                {"type", "ip-dst"},
                {"value", "198.51.100.7"},
                {"category", "Network activity"},
                {"to_ids", true},
                {"disable_correlation", false},
                {"comment", "c2"}},
               {{"type", "domain|ip"},
                {"value", "Evil.Example|203.0.113.9"},
                {"category", "Network activity"}},
               {{"type", "filename|md5"},
                {"value", "drop.exe|D41D8CD98F00B204E9800998ECF8427E"},
                {"category", "Payload delivery"}},
               {{"type", "ip-src"}, {"value", "192.0.2.0/24"}, {"category", "Network activity"}}}},
             {"Object",
              {{{"name", "url"},
                {"meta-category", "network"},
                {"Attribute",
                 {{{"type", "url"},
                   {"value", "http://evil.example/gate.php"},
                   {"object_relation", "url"},
                   {"category", "Network activity"}}}}}}},
             {"Tag", {{{"name", "tlp:green"}}}}};
  return ev.dump();
}

// The flag set PyMISP always sends with search() (misp-api.md 7.2).
json SearchBody(json value) {
  return {{"returnFormat", "json"},   {"value", std::move(value)},
          {"withAttachments", 0},     {"metadata", 0},
          {"enforceWarninglist", 0},  {"includeEventUuid", 0},
          {"includeEventTags", 1},    {"sgReferenceOnly", 0},
          {"includeContext", 0},      {"headerless", 0},
          {"includeSightings", 0},    {"includeDecayScore", 0},
          {"includeCorrelations", 0}, {"excludeDecayed", 0}};
}

using NodeApiTest = NodeFixture;

TEST_F(NodeApiTest, MissingOrWrongKeyIs403WithMispBody) {
  for (const std::string& key : {std::string(""), std::string(40, 'a'), std::string("short")}) {
    auto r = Call("GET", "/users/view/me", "", key);
    EXPECT_EQ(r.status, 403) << key;
    json body = Json(r);
    EXPECT_EQ(body["name"], kAuthFailed);
    EXPECT_EQ(body["message"], kAuthFailed);
    EXPECT_EQ(body["url"], "/users/view/me");
  }
  auto basic = Call("GET", "/users/view/me", "", "Basic " + admin_key_);
  EXPECT_EQ(basic.status, 403);
  auto ajax = Call("GET", "/users/view/me", "", std::string(40, 'b'),
                   {{"X-Requested-With", "XMLHttpRequest"}});
  EXPECT_EQ(Json(ajax)["message"], "Authentication failed.");
}

TEST_F(NodeApiTest, XMispAuthWinsAndCommaSeparatedKeysAreTried) {
  auto r = Call("GET", "/users/view/me", "", std::string(40, 'x'), {{"X-MISP-AUTH", admin_key_}});
  EXPECT_EQ(r.status, 200);
  auto list = Call("GET", "/users/view/me", "", std::string(40, 'y') + ", " + user_key_);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(Json(list)["User"]["email"], "reader@partner.test");
}

TEST_F(NodeApiTest, RevokedKeyIsRefused) {
  auto keys = node_->store().ListKeys();
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) {
    if (k.user_email == "reader@partner.test") {
      ASSERT_TRUE(node_->store().RevokeKey(k.id).ok());
    }
  }
  EXPECT_EQ(Call("GET", "/users/view/me", "", user_key_).status, 403);
}

TEST_F(NodeApiTest, PyMispConstructorCallsSucceed) {
  auto version = Call("GET", "/servers/getVersion");
  ASSERT_EQ(version.status, 200);
  json v = Json(version);
  EXPECT_EQ(v["version"], "2.5.1");
  EXPECT_TRUE(v.contains("pymisp_recommended_version"));
  auto me = Call("GET", "/users/view/me");
  ASSERT_EQ(me.status, 200);
  json m = Json(me);
  for (const char* k : {"User", "Role", "UserSetting", "Organisation"})
    EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_TRUE(m["User"]["id"].is_string());
  EXPECT_EQ(m["Organisation"]["name"], "Alliance");
  EXPECT_TRUE(m["Role"]["perm_site_admin"].get<bool>());
  auto types = Call("GET", "/attributes/describeTypes.json");
  ASSERT_EQ(types.status, 200);
  json t = Json(types);
  EXPECT_EQ(t["result"]["types"].size(), 194u);
  EXPECT_EQ(t["result"]["sane_defaults"]["md5"]["to_ids"], 1);
}

TEST_F(NodeApiTest, AddEventReturnsMispShapeWithStringIdsAndBooleans) {
  auto r = Call("POST", "/events/add", PyMispEvent());
  ASSERT_EQ(r.status, 200) << r.body;
  json e = Json(r)["Event"];
  EXPECT_TRUE(e["id"].is_string());
  EXPECT_EQ(e["info"], "test event");
  EXPECT_EQ(e["uuid"], "1ce1ab05-0d39-4b0e-8a1d-5e2c3d4e5f60");
  EXPECT_EQ(e["distribution"], "0");
  EXPECT_TRUE(e["published"].is_boolean());
  EXPECT_EQ(e["Orgc"]["name"], "Alliance");
  ASSERT_EQ(e["Attribute"].size(), 4u);
  json a = e["Attribute"][0];
  EXPECT_EQ(a["type"], "ip-dst");
  EXPECT_EQ(a["value"], "198.51.100.7");
  EXPECT_TRUE(a["to_ids"].is_boolean());
  EXPECT_TRUE(a["event_id"].is_string());
  EXPECT_EQ(e["Attribute"][1]["value"], "evil.example|203.0.113.9");  // normalized at save time
  EXPECT_EQ(e["Attribute"][2]["value"], "drop.exe|d41d8cd98f00b204e9800998ecf8427e");
  ASSERT_EQ(e["Object"].size(), 1u);
  EXPECT_EQ(e["Object"][0]["Attribute"][0]["value"], "http://evil.example/gate.php");
  ASSERT_EQ(e["Tag"].size(), 1u);
  EXPECT_EQ(e["Tag"][0]["name"], "tlp:green");
}

TEST_F(NodeApiTest, AddingAnExistingUuidIs404WithLocation) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto again = Call("POST", "/events/add", PyMispEvent());
  EXPECT_EQ(again.status, 404);
  EXPECT_NE(Json(again)["message"].get<std::string>().find("Event already exists"),
            std::string::npos);
  EXPECT_EQ(again.Header("location"), "/events/view/1ce1ab05-0d39-4b0e-8a1d-5e2c3d4e5f60");
}

TEST_F(NodeApiTest, InvalidEventIsRefusedAndNothingIsStored) {
  json bad = json::parse(PyMispEvent());
  bad["Attribute"][1]["value"] = "not-an-ip|also bad";
  auto r = Call("POST", "/events/add", bad.dump());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json(r)["saved"], false);
  auto stats = node_->store().Stats();
  EXPECT_EQ(stats->events, 0u);
  json no_info = json::parse(PyMispEvent());
  no_info.erase("info");
  EXPECT_EQ(Call("POST", "/events/add", no_info.dump()).status, 403);
}

TEST_F(NodeApiTest, UserRoleCannotWrite) {
  auto r = Call("POST", "/events/add", PyMispEvent(), user_key_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json(r)["message"], "You do not have permission to do that.");
}

TEST_F(NodeApiTest, RestSearchMatchesLikeMisp) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  // Exact, case-insensitive, either half of a composite; CIDR containment is not MISP's.
  auto r = Call(
      "POST", "/attributes/restSearch",
      SearchBody({"198.51.100.7", "EVIL.EXAMPLE", "d41d8cd98f00b204e9800998ecf8427e", "192.0.2.5"})
          .dump(),
      user_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Json(r);
  ASSERT_TRUE(body["response"]["Attribute"].is_array());
  std::set<std::string> values;
  for (const auto& a : body["response"]["Attribute"]) {
    values.insert(a["value"]);
    EXPECT_TRUE(a["id"].is_string());
    EXPECT_TRUE(a["to_ids"].is_boolean());
    EXPECT_EQ(a["Event"]["info"], "test event");  // PyMISP pythonify needs Event.info
    EXPECT_TRUE(a["Event"]["distribution"].is_string());
    // includeEventTags: the event's tag is inherited
    bool inherited = false;
    for (const auto& t : a["Tag"])
      inherited |= t["name"] == "tlp:green" && t.value("inherited", 0) == 1;
    EXPECT_TRUE(inherited) << a.dump();
  }
  EXPECT_EQ(values, (std::set<std::string>{"198.51.100.7", "evil.example|203.0.113.9",
                                           "drop.exe|d41d8cd98f00b204e9800998ecf8427e"}));
  EXPECT_EQ(r.Header("x-result-count"), "3");
}

TEST_F(NodeApiTest, RestSearchWildcardTypeAndFormats) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto wildcard =
      Json(Call("POST", "/attributes/restSearch", json{{"value", "%evil.example%"}}.dump()));
  EXPECT_EQ(wildcard["response"]["Attribute"].size(), 2u);  // domain|ip and the url
  auto typed = Json(Call("POST", "/attributes/restSearch", json{{"type", "ip-src"}}.dump()));
  ASSERT_EQ(typed["response"]["Attribute"].size(), 1u);
  EXPECT_EQ(typed["response"]["Attribute"][0]["value"], "192.0.2.0/24");
  auto csv = Call("POST", "/attributes/restSearch",
                  json{{"returnFormat", "csv"}, {"type", "ip-dst"}}.dump());
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("uuid,event_id,category,type,value,comment,to_ids,date", 0), 0u)
      << csv.body;
  EXPECT_NE(csv.body.find("\"198.51.100.7\""), std::string::npos);
  // text applies to_ids=1 and published=1 implicitly; the event is unpublished.
  auto text = Call("POST", "/attributes/restSearch",
                   json{{"returnFormat", "text"}, {"type", "ip-dst"}}.dump());
  EXPECT_EQ(text.body, "");
  auto text_all =
      Call("POST", "/attributes/restSearch",
           json{{"returnFormat", "text"}, {"type", "ip-dst"}, {"published", {true, false}}}.dump());
  EXPECT_EQ(text_all.body, "198.51.100.7\n");
  auto paged = Call("POST", "/attributes/restSearch",
                    json{{"type", {"ip-dst", "ip-src", "url"}}, {"limit", 2}, {"page", 1}}.dump());
  EXPECT_EQ(Json(paged)["response"]["Attribute"].size(), 2u);
  EXPECT_EQ(paged.Header("x-result-count"), "3");  // a full page hints at more
}

TEST_F(NodeApiTest, RestSearchBadInputGetsMispErrors) {
  auto empty = Call("POST", "/attributes/restSearch", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(
      Json(empty)["message"],
      "Either specify the search terms in the url, or POST a json with the filter parameters.");
  auto broken = Call("POST", "/attributes/restSearch", "{\"value\": [");
  EXPECT_EQ(broken.status, 405);
  EXPECT_NE(Json(broken)["message"].get<std::string>().find("Invalid JSON input"),
            std::string::npos);
  auto format =
      Call("POST", "/attributes/restSearch", json{{"returnFormat", "yaml"}, {"value", "x"}}.dump());
  EXPECT_EQ(format.status, 404);
  EXPECT_EQ(Json(format)["message"], "Invalid output format.");
  auto wrong_type =
      Call("POST", "/attributes/restSearch", json{{"value", {{"XOR", {"a"}}}}}.dump());
  EXPECT_EQ(wrong_type.status, 400);
  auto get = Call("GET", "/attributes/restSearch");
  EXPECT_EQ(get.status, 400);
  EXPECT_EQ(Call("GET", "/no/such/endpoint").status, 404);
  EXPECT_EQ(Call("DELETE", "/users/view/me").status, 405);
}

TEST_F(NodeApiTest, RequestWrapperIsUnwrapped) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto r = Json(Call("POST", "/attributes/restSearch",
                     json{{"request", {{"value", "198.51.100.7"}}}}.dump()));
  EXPECT_EQ(r["response"]["Attribute"].size(), 1u);
}

TEST_F(NodeApiTest, EventsRestSearchReturnsWholeEvents) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto r = Call("POST", "/events/restSearch", SearchBody("198.51.100.7").dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Json(r);
  ASSERT_EQ(body["response"].size(), 1u);
  EXPECT_EQ(body["response"][0]["Event"]["info"], "test event");
  EXPECT_EQ(body["response"][0]["Event"]["Attribute"].size(), 4u);
  auto none = Json(Call("POST", "/events/restSearch", SearchBody("10.9.9.9").dump()));
  EXPECT_EQ(none["response"].size(), 0u);
  auto meta = Json(
      Call("POST", "/events/restSearch", json{{"eventinfo", "%test%"}, {"metadata", 1}}.dump()));
  ASSERT_EQ(meta["response"].size(), 1u);
  EXPECT_FALSE(meta["response"][0]["Event"].contains("Attribute"));
}

TEST_F(NodeApiTest, ViewHeadIndexAndDelete) {
  json added = Json(Call("POST", "/events/add", PyMispEvent()));
  std::string id = added["Event"]["id"];
  EXPECT_EQ(Call("GET", "/events/view/" + id).status, 200);
  EXPECT_EQ(Json(Call("GET", "/events/view/1ce1ab05-0d39-4b0e-8a1d-5e2c3d4e5f60"))["Event"]["id"],
            id);
  EXPECT_EQ(Call("HEAD", "/events/view/" + id).status, 200);
  EXPECT_EQ(Call("HEAD", "/events/view/999").status, 404);
  auto missing = Call("GET", "/events/view/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing)["message"], "Invalid event");
  auto index = Call("POST", "/events/index", json{{"attribute", "198.51.100.7"}}.dump());
  ASSERT_EQ(index.status, 200);
  json rows = Json(index);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["info"], "test event");
  EXPECT_EQ(rows[0]["Orgc"]["name"], "Alliance");
  auto del = Call("POST", "/events/delete/" + id);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(Json(del)["message"], "Event deleted.");
  EXPECT_EQ(Call("GET", "/events/view/" + id).status, 404);
}

TEST_F(NodeApiTest, AddAttributeAndDuplicateAndDelete) {
  json added = Json(Call("POST", "/events/add", PyMispEvent()));
  std::string id = added["Event"]["id"];
  auto r = Call(
      "POST", "/attributes/add/" + id,
      json{{"type", "domain"}, {"value", "New.Evil.Example."}, {"category", "Network activity"}}
          .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json a = Json(r)["Attribute"];
  EXPECT_EQ(a["value"], "new.evil.example");
  EXPECT_EQ(a["type"], "domain");
  auto dup =
      Call("POST", "/attributes/add/" + id,
           json{{"type", "domain"}, {"value", "new.evil.example"}, {"category", "Network activity"}}
               .dump());
  EXPECT_EQ(dup.status, 403);
  EXPECT_EQ(Json(dup)["name"], "Could not add Attribute");
  auto bad = Call("POST", "/attributes/add/" + id,
                  json{{"type", "ip-dst"}, {"value", "999.1.1.1"}}.dump());
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(Call("POST", "/attributes/add/424242",
                 json{{"type", "domain"}, {"value", "x.example"}}.dump())
                .status,
            404);
  std::string attr_id = a["id"];
  EXPECT_EQ(Call("GET", "/attributes/view/" + attr_id).status, 200);
  auto del = Call("POST", "/attributes/delete/" + attr_id);
  EXPECT_EQ(Json(del)["message"], "Attribute deleted.");
  auto after =
      Json(Call("POST", "/attributes/restSearch", json{{"value", "new.evil.example"}}.dump()));
  EXPECT_EQ(after["response"]["Attribute"].size(), 0u);
}

TEST_F(NodeApiTest, SightingsByValueAndById) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto r = Call("POST", "/sightings/add",
                json{{"value", "198.51.100.7"}, {"source", "honeypot"}, {"type", "0"}}.dump(),
                user_key_);
  ASSERT_EQ(r.status, 200);
  json s = Json(r);
  ASSERT_TRUE(s.contains("Sighting")) << r.body;
  EXPECT_EQ(s["Sighting"]["source"], "honeypot");
  EXPECT_TRUE(s["Sighting"]["attribute_id"].is_string());
  auto none = Json(Call("POST", "/sightings/add", json{{"value", "10.10.10.10"}}.dump()));
  EXPECT_EQ(
      none["message"],
      "Could not add the Sighting. Reason: No valid attributes found that match the criteria.");
}

// MISP's sightings/restSearch: the last 30 days by default, from/to or last, type, source,
// org and the attribute/event context; {"response": [{"Sighting": {...}}]}, newest first.
TEST_F(NodeApiTest, SightingsRestSearchFiltersAsMispDoes) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  const int64_t now = std::time(nullptr);
  auto add = [&](const json& s) {
    auto r = Call("POST", "/sightings/add", s.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(Json(r).contains("Sighting")) << r.body;
  };
  add({{"value", "198.51.100.7"}, {"source", "cert-a"}, {"timestamp", now - 3600}});
  add({{"values", {"198.51.100.7", "203.0.113.9"}},
       {"type", "1"},
       {"source", "cert-b"},
       {"timestamp", now - 60}});
  add({{"value", "198.51.100.7"}, {"timestamp", now - 90 * 86400}});  // outside 30 days
  auto search = [&](const json& filters, const std::string& path = "/sightings/restSearch") {
    auto r = Call("POST", path, filters.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["response"];
  };
  json recent = search(json::object());
  ASSERT_EQ(recent.size(), 3u) << recent.dump();
  EXPECT_EQ(recent[0]["Sighting"]["type"], "1");  // newest first
  EXPECT_TRUE(recent[0]["Sighting"]["id"].is_string());
  EXPECT_EQ(recent[2]["Sighting"]["source"], "cert-a");
  EXPECT_EQ(recent[2]["Sighting"]["value"], "198.51.100.7");
  EXPECT_FALSE(recent[0]["Sighting"].contains("Attribute"));
  EXPECT_EQ(search({{"last", "100d"}}).size(), 4u);
  EXPECT_EQ(search({{"from", now - 100 * 86400}, {"to", now - 80 * 86400}}).size(), 1u);
  EXPECT_EQ(search({{"type", 1}}).size(), 2u);
  EXPECT_EQ(search({{"source", "cert-a"}}).size(), 1u);
  json composite = search({{"type", "1"}, {"includeAttribute", true}, {"includeEvent", 1}});
  std::set<std::string> values;
  for (const json& s : composite) values.insert(s["Sighting"]["Attribute"]["value"]);
  EXPECT_EQ(values, (std::set<std::string>{"198.51.100.7", "evil.example|203.0.113.9"}));
  EXPECT_EQ(composite[0]["Sighting"]["Event"]["info"], "test event");
  EXPECT_EQ(
      search({{"id", "92fcb8c2-1111-4b0e-8a1d-5e2c3d4e5f60"}}, "/sightings/restSearch/attribute")
          .size(),
      2u);
  EXPECT_EQ(search({{"id", 1}}, "/sightings/restSearch/event").size(), 3u);
  // The attribute carries its `Sighting` list with includeSightings, as MISP's.
  auto attrs = Call("POST", "/attributes/restSearch",
                    json{{"value", "198.51.100.7"}, {"includeSightings", 1}}.dump());
  ASSERT_EQ(attrs.status, 200) << attrs.body;
  json a = Json(attrs)["response"]["Attribute"][0];
  ASSERT_EQ(a["Sighting"].size(), 3u) << a.dump();
  std::set<std::string> sources;
  for (const json& x : a["Sighting"]) {
    sources.insert(x["source"].get<std::string>());
    EXPECT_EQ(x["attribute_uuid"], "92fcb8c2-1111-4b0e-8a1d-5e2c3d4e5f60");
    EXPECT_TRUE(x["Organisation"]["name"].is_string());
    EXPECT_TRUE(x["date_sighting"].is_string());
  }
  EXPECT_EQ(sources, (std::set<std::string>{"cert-a", "cert-b", ""}));
  EXPECT_EQ(a["Sighting_count"]["false_positives"], 1);
  EXPECT_TRUE(search({{"id", 999}}, "/sightings/restSearch/event").empty());
  // Hostile or wrong input: MISP's error bodies, nothing read.
  EXPECT_EQ(Call("POST", "/sightings/restSearch/org", "{}").status, 405);
  EXPECT_EQ(Call("POST", "/sightings/restSearch/event", "{}").status, 400);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", R"({"returnFormat":"xml"})").status, 404);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", R"({"type":7})").status, 400);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", R"({"type":1.5})").status, 400);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", R"({"from":99999999999999999999,"to":1})").status,
            400);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", R"({"org_id":"acme"})").status, 400);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", "[1,2").status, 405);
  EXPECT_EQ(Call("POST", "/sightings/restSearch", std::string(30000, '[') + std::string(30000, ']'))
                .status,
            400);  // refused on its depth before any handler, as every JSON route (issue 8)
  EXPECT_EQ(Call("POST", "/sightings/restSearch", "{}", "").status, 403);
}

TEST_F(NodeApiTest, BadInputNeverChangesStoredData) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto before = node_->store().Stats();
  Call("POST", "/events/add", "{broken");
  Call("POST", "/events/edit/1",
       "{\"info\": 5, \"Attribute\": [{\"type\": \"ip-dst\", \"value\": \"x\"}]}");
  Call("POST", "/attributes/add/1", "[{\"type\": \"md5\", \"value\": \"123\"}]");
  Call("POST", "/events/delete/9999");
  Call("POST", "/sightings/add", "[1,2");
  auto after = node_->store().Stats();
  EXPECT_EQ(before->events, after->events);
  EXPECT_EQ(before->attributes, after->attributes);
  EXPECT_EQ(before->sightings, after->sightings);
  EXPECT_TRUE(node_->store().CheckIntegrity().ok());
}

TEST_F(NodeApiTest, OversizedBodyIs413) {
  body_limit_ = 4096;
  StartNode(NodeOptions{});
  auto r = Call("POST", "/attributes/restSearch", json{{"value", std::string(10000, 'a')}}.dump());
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(Json(r).contains("message"));
}

TEST_F(NodeApiTest, TooManyValuesIs413) {
  NodeOptions options;
  options.max_search_values = 10;
  StartNode(options);
  json values = json::array();
  for (int i = 0; i < 11; ++i) values.push_back("10.0.0." + std::to_string(i));
  auto r = Call("POST", "/attributes/restSearch", json{{"value", values}}.dump());
  EXPECT_EQ(r.status, 413);
}

TEST_F(NodeApiTest, ConcurrencyCapPerKeyIs429AndReleasesItsSlots) {
  NodeOptions options;
  options.max_concurrent_per_key = 1;
  StartNode(options);
  // One at a time, every request gets the slot back: a slot that leaked would make the
  // second one a 429.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Call("GET", "/servers/getVersion").status, 200) << i;
  // Heavy requests in parallel on one key: some find the slot taken.
  json values = json::array();
  for (int i = 0; i < 20000; ++i)
    values.push_back("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1");
  const std::string body = json{{"value", values}, {"limit", 10}}.dump();
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = Call("POST", "/attributes/restSearch", body);
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 429) {
          ++limited;
          EXPECT_EQ(Json(r)["message"], "Rate limit exceeded.");
          EXPECT_FALSE(r.Header("x-rate-limit-limit").empty());
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(limited.load(), 0) << "six clients never overlapped";
  // And once they are done the slot is free again.
  EXPECT_EQ(Call("GET", "/servers/getVersion").status, 200);
  // Another key has a slot of its own throughout.
  EXPECT_EQ(Call("GET", "/servers/getVersion", "", user_key_).status, 200);
}

TEST_F(NodeApiTest, AuditLogCountsValuesButKeepsThemOnlyWhenAsked) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  Call("POST", "/attributes/restSearch", json{{"value", {"198.51.100.7", "x.example"}}}.dump());
  auto audit = node_->store().ListAudit(10);
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const auto& e : *audit) {
    if (e.endpoint == "/attributes/restSearch") {
      found = true;
      EXPECT_EQ(e.value_count, 2u);
      EXPECT_TRUE(e.values.empty());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(NodeApiTest, StatsDescribeTheData) {
  ASSERT_EQ(Call("POST", "/events/add", PyMispEvent()).status, 200);
  auto r = Call("GET", "/grid/v1/stats");
  ASSERT_EQ(r.status, 200);
  json s = Json(r);
  EXPECT_EQ(s["events"], 1);
  EXPECT_EQ(s["attributes"], 5);
  EXPECT_EQ(s["attributes_by_type"]["ip-dst"], 1);
  EXPECT_EQ(s["index_entries"], 5);
}

}  // namespace
}  // namespace iocgrid::node
