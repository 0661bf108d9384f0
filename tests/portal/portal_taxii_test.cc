// TAXII 2.1 out (issue 11): discovery, the API root, collections, objects with paging and
// filters, manifests, auth failures and unknown collections, over real HTTP against the
// portal with real nodes (tests/portal/portal_fixture.h).
#include <set>

#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

class PortalTaxiiTest : public PortalApiTest {
 protected:
  void SetUp() override {
    PortalApiTest::SetUp();
    if (IsSkipped()) return;  // PostgreSQL run without a server
    configure_ = &FastWatch;
    OpenPortal();
  }

  // A TAXII GET as a TAXII client sends it: Basic auth with the key as the password.
  net::ClientResponse Taxii(const std::string& path, const std::string& key = "",
                            const std::string& accept = "application/taxii+json;version=2.1") {
    net::ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    req.headers = {{"Accept", accept}};
    const std::string k = key.empty() ? analyst_key_ : key;
    if (k != "none") req.headers.emplace_back("Authorization", "Basic " + Base64("alice:" + k));
    return test::FetchOrFail(req);
  }

  json TaxiiJson(const std::string& path, const std::string& key = "") {
    auto r = Taxii(path, key);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/taxii+json;version=2.1") << path;
    return json::parse(r.body, nullptr, false);
  }

  std::string CollectionId(const std::string& title_prefix, const std::string& key = "") {
    json list = TaxiiJson("/taxii2/api/collections/", key);
    for (const json& c : list["collections"]) {
      if (c["title"].get<std::string>().rfind(title_prefix, 0) == 0) return c["id"];
    }
    return "";
  }

  // Every object of a collection, page by page (`limit` per page); the number of pages.
  std::vector<json> PageAll(const std::string& cid, int limit, int* pages) {
    std::vector<json> all;
    std::string next;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      std::string path = "/taxii2/api/collections/" + cid +
                         "/objects/?limit=" + std::to_string(limit) +
                         (next.empty() ? "" : "&next=" + next);
      json page = TaxiiJson(path);
      ++*pages;
      for (const json& o : page["objects"]) all.push_back(o);
      if (!page.value("more", false)) break;
      next = page["next"];
    }
    return all;
  }

  std::string WatchAndWait() {
    auto r =
        Call("POST", "/api/v1/watchlists",
             json{{"name", "case 42"}, {"indicators", {"198.51.100.7", "evil.example"}}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = json::parse(r.body)["id"];
    for (int i = 0; i < 300; ++i) {
      json runs = json::parse(Call("GET", "/api/v1/watchlists/" + id + "/runs").body);
      if (!runs.empty()) break;
      std::this_thread::sleep_for(50ms);
    }
    return id;
  }
};

TEST_F(PortalTaxiiTest, DiscoveryApiRootAndCollections) {
  json discovery = TaxiiJson("/taxii2/");
  EXPECT_EQ(discovery["default"], "/taxii2/api/");
  EXPECT_EQ(discovery["api_roots"], json::array({"/taxii2/api/"}));
  json root = TaxiiJson("/taxii2/api/");
  EXPECT_EQ(root["versions"], json::array({"application/taxii+json;version=2.1"}));
  WatchAndWait();
  json list = TaxiiJson("/taxii2/api/collections/");
  std::set<std::string> titles;
  for (const json& c : list["collections"]) {
    titles.insert(c["title"]);
    EXPECT_EQ(c["can_read"], true);
    EXPECT_EQ(c["can_write"], false);
    EXPECT_EQ(c["media_types"], json::array({"application/stix+json;version=2.1"}));
    EXPECT_EQ(TaxiiJson("/taxii2/api/collections/" + c["id"].get<std::string>() + "/")["id"],
              c["id"]);
  }
  EXPECT_EQ(titles, (std::set<std::string>{"Watchlist: case 42", "Shared searches",
                                           "Confirmed sightings"}));
  // Another analyst does not see alice's watchlist, not even by its id.
  const std::string mine = CollectionId("Watchlist:");
  EXPECT_EQ(CollectionId("Watchlist:", other_key_), "");
  auto theirs = Taxii("/taxii2/api/collections/" + mine + "/objects/", other_key_);
  EXPECT_EQ(theirs.status, 404);
  json err = json::parse(theirs.body);
  EXPECT_EQ(err["http_status"], "404");
  EXPECT_FALSE(err["title"].get<std::string>().empty());
  // The raw key in Authorization works as for the API.
  net::ClientRequest raw;
  raw.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/taxii2/";
  raw.headers = {{"Authorization", analyst_key_}};
  EXPECT_EQ(test::FetchOrFail(raw).status, 200);
}

TEST_F(PortalTaxiiTest, AuthFailuresAcceptAndUnknownPaths) {
  for (const std::string& key : {std::string("none"), std::string(40, 'x'), std::string("short")}) {
    auto r = Taxii("/taxii2/", key);
    EXPECT_EQ(r.status, 401) << key;
    EXPECT_EQ(r.Header("www-authenticate"), "Basic realm=\"iocgrid\"");
    EXPECT_EQ(json::parse(r.body)["http_status"], "401");
  }
  net::ClientRequest bad;
  bad.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/taxii2/";
  bad.headers = {{"Authorization", "Basic !!!notbase64"}};
  EXPECT_EQ(test::FetchOrFail(bad).status, 401);
  EXPECT_EQ(Taxii("/taxii2/", "", "text/html").status, 406);
  EXPECT_EQ(Taxii("/taxii2/other/").status, 404);
  EXPECT_EQ(Taxii("/taxii2/api/status/1/").status, 404);
  EXPECT_EQ(Taxii("/taxii2/api/collections/nope/objects/").status, 404);
  EXPECT_EQ(Taxii("/taxii2/api/collections/../../api/v1/me").status, 404);
  const std::string shared = CollectionId("Shared");
  for (const char* q : {"?limit=0", "?limit=abc", "?limit=99999999999999999999",
                        "?added_after=yesterday", "?next=garbage", "?match[version]=newest"}) {
    auto r = Taxii("/taxii2/api/collections/" + shared + "/objects/" + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
  }
  // Read-only: a write is refused.
  net::ClientRequest post;
  post.method = "POST";
  post.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/taxii2/api/collections/" +
             shared + "/objects/";
  post.body = "{}";
  post.headers = {{"Authorization", analyst_key_},
                  {"Content-Type", "application/taxii+json;version=2.1"}};
  EXPECT_EQ(test::FetchOrFail(post).status, 405);
}

TEST_F(PortalTaxiiTest, WatchlistObjectsPageByNextAndFilter) {
  WatchAndWait();
  const std::string cid = CollectionId("Watchlist:");
  ASSERT_FALSE(cid.empty());
  int pages = 0;
  std::vector<json> whole = PageAll(cid, 1000, &pages);
  EXPECT_EQ(pages, 1);
  // 198.51.100.7: anonymity (in-range), honeypot (exact); evil.example: mispmember (exact):
  // 2 indicators, 3 sightings, 3 member identities.
  std::map<std::string, int> by_type;
  std::set<std::string> ids;
  for (const json& o : whole) {
    ++by_type[o["type"]];
    ids.insert(o["id"]);
    EXPECT_EQ(o["spec_version"], "2.1");
  }
  EXPECT_EQ(by_type,
            (std::map<std::string, int>{{"identity", 3}, {"indicator", 2}, {"sighting", 3}}));
  EXPECT_EQ(ids.size(), whole.size());
  for (const json& o : whole) {
    if (o["type"] == "sighting") {
      EXPECT_TRUE(ids.count(o["sighting_of_ref"])) << o.dump();
      EXPECT_TRUE(ids.count(o["where_sighted_refs"][0])) << o.dump();
    }
    if (o["type"] == "indicator" && o["name"] == "198.51.100.7") {
      EXPECT_EQ(o["pattern"], "[ipv4-addr:value = '198.51.100.7']");
    }
  }
  // Two at a time: the same objects, in several pages, none twice.
  std::vector<json> paged = PageAll(cid, 2, &pages);
  EXPECT_EQ(pages, 4);
  std::set<std::string> paged_ids;
  for (const json& o : paged) paged_ids.insert(o["id"]);
  EXPECT_EQ(paged_ids, ids);
  EXPECT_EQ(paged.size(), whole.size());
  // match[type], match[id], the object endpoint and the manifest.
  json indicators = TaxiiJson("/taxii2/api/collections/" + cid + "/objects/?match[type]=indicator");
  EXPECT_EQ(indicators["objects"].size(), 2u);
  EXPECT_EQ(indicators["more"], false);
  const std::string one = indicators["objects"][0]["id"];
  EXPECT_EQ(
      TaxiiJson("/taxii2/api/collections/" + cid + "/objects/?match[id]=" + one)["objects"].size(),
      1u);
  EXPECT_EQ(
      TaxiiJson("/taxii2/api/collections/" + cid + "/objects/" + one + "/")["objects"][0]["id"],
      one);
  EXPECT_EQ(Taxii("/taxii2/api/collections/" + cid + "/objects/indicator--nope/").status, 404);
  json manifest = TaxiiJson("/taxii2/api/collections/" + cid + "/manifest/");
  ASSERT_EQ(manifest["objects"].size(), whole.size());
  EXPECT_EQ(manifest["objects"][0]["media_type"], "application/stix+json;version=2.1");
  // added_after the last object's date: nothing newer.
  auto last = Taxii("/taxii2/api/collections/" + cid + "/objects/");
  const std::string added_last = last.Header("x-taxii-date-added-last");
  ASSERT_FALSE(added_last.empty());
  EXPECT_TRUE(
      TaxiiJson("/taxii2/api/collections/" + cid + "/objects/?added_after=" + added_last)["objects"]
          .empty());
  EXPECT_EQ(TaxiiJson("/taxii2/api/collections/" + cid +
                      "/objects/?added_after=2000-01-01T00:00:00.000Z")["objects"]
                .size(),
            whole.size());
}

TEST_F(PortalTaxiiTest, SharedSearchesAndConfirmedSightings) {
  const std::string shared = CollectionId("Shared");
  const std::string confirmed = CollectionId("Confirmed");
  json hidden = Search({{"indicators", {"evil.example"}}});  // not shared
  EXPECT_TRUE(TaxiiJson("/taxii2/api/collections/" + shared + "/objects/")["objects"].empty());
  Search({{"indicators", {"198.51.100.7"}}, {"shared", true}}, other_key_);
  json objects = TaxiiJson("/taxii2/api/collections/" + shared + "/objects/")["objects"];
  std::set<std::string> names;
  for (const json& o : objects) {
    if (o["type"] == "indicator") names.insert(o["name"]);
  }
  EXPECT_EQ(names, std::set<std::string>{"198.51.100.7"});  // bob's shared search, not alice's
  EXPECT_TRUE(TaxiiJson("/taxii2/api/collections/" + confirmed + "/objects/")["objects"].empty());
  auto sent = Call("POST", "/api/v1/searches/" + hidden["id"].get<std::string>() + "/sightings",
                   json{{"type", "true-positive"}, {"hits", "all"}}.dump());
  ASSERT_EQ(sent.status, 200) << sent.body;
  json sightings =
      TaxiiJson("/taxii2/api/collections/" + confirmed + "/objects/?match[type]=sighting");
  ASSERT_EQ(sightings["objects"].size(), 1u);
  // bob cannot see alice's (unshared) search, so not its confirmation either.
  EXPECT_TRUE(TaxiiJson("/taxii2/api/collections/" + confirmed + "/objects/", other_key_)["objects"]
                  .empty());
}

}  // namespace
}  // namespace iocgrid::portal
