// A node mirroring a MISP (issue 14, node/mirror.h): the source is a real node's MISP API over
// loopback HTTP (events/index paged, events/view), the mirror a second store. Paging, edits,
// attribute and event deletions, distribution and sharing groups, a sweep interrupted half-way
// and resumed on a reopened store, and hostile sources: a refused key, an unreachable one,
// unusable or endless indexes, oversized answers, another MISP into the same store.
#include "node/mirror.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/time.h"
#include "ingest/loader.h"
#include "net/http_server.h"
#include "tests/common/temp_dir.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

std::string Uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "5f0c2a1e-0000-4000-8000-%012d", n);
  return buf;
}

json Event(int n, int distribution, std::vector<std::string> values) {
  json attributes = json::array();
  for (const std::string& v : values) {
    attributes.push_back(
        {{"type", v.find('/') != std::string::npos || v[0] <= '9' ? "ip-dst" : "domain"},
         {"value", v}});
  }
  return {{"uuid", Uuid(n)},         {"info", "event " + std::to_string(n)},
          {"date", "2026-12-01"},    {"distribution", distribution},
          {"Attribute", attributes}, {"Tag", {{{"name", "tlp:green"}}}}};
}

class MirrorTest : public NodeFixture {
 protected:
  void SetUp() override {
    NodeOptions options;
    options.store.clock = clock_;
    StartNode(options);
    auto target = store::Store::Open(target_dir_.path(), store::StoreOptions{});
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    target_ = std::move(*target);
  }

  MirrorOptions Options() const {
    MirrorOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(server_->port());
    o.key = admin_key_;
    o.page_size = 2;  // several pages even for a few events
    return o;
  }

  // The mirrored events: uuid -> sorted attribute values.
  std::map<std::string, std::set<std::string>> Held() {
    std::map<std::string, std::set<std::string>> out;
    auto uuids = target_->MirroredEventUuids();
    EXPECT_TRUE(uuids.ok());
    for (const std::string& uuid : *uuids) {
      auto e = target_->GetEvent(uuid, {});
      if (!e.ok()) continue;  // listed but filtered out
      for (const auto& a : e->attributes) out[uuid].insert(a.value);
      if (e->attributes.empty()) out[uuid];
    }
    return out;
  }

  Clock clock_ = Clock::Manual(UnixNow());
  test::TempDir target_dir_;
  std::unique_ptr<store::Store> target_;
};

TEST_F(MirrorTest, PagesEditsDeletionsAndDistribution) {
  for (int n = 1; n <= 4; ++n) {
    AddEvent(Event(n, 1 + (n % 3),
                   {"198.51.100." + std::to_string(n), "c2-" + std::to_string(n) + ".example"}));
  }
  AddEvent(Event(5, 0, {"org-only.example"}));  // organisation only: never leaves the MISP
  MirrorOptions wide = Options();
  wide.page_size = 5;  // one page, downloaded two events at a time
  wide.concurrency = 2;
  auto first = MirrorSweep(*target_, wide, false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->full);  // the first sweep lists everything
  EXPECT_EQ(first->listed, 5u);
  EXPECT_EQ(first->kept, 4u);
  EXPECT_EQ(first->filtered, 1u);
  auto held = Held();
  ASSERT_EQ(held.size(), 4u);
  EXPECT_EQ(held[Uuid(2)], (std::set<std::string>{"198.51.100.2", "c2-2.example"}));
  EXPECT_FALSE(target_->GetEvent(Uuid(5), {}).ok());
  auto tags = target_->GetEvent(Uuid(1), {});
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->event.tags.size(), 1u);
  EXPECT_EQ(tags->event.tags[0].name, "tlp:green");

  // Nothing changed: nothing fetched.
  clock_.Advance(10);
  auto idle = MirrorSweep(*target_, Options(), false);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_FALSE(idle->full);
  EXPECT_EQ(idle->fetched, 0u);

  // An attribute added, one deleted, an event narrowed to the organisation, one deleted.
  clock_.Advance(10);
  ASSERT_EQ(Call("POST", "/attributes/add/" + Uuid(1),
                 json{{"type", "domain"}, {"value", "added.example"}}.dump())
                .status,
            200);
  auto view = Json(Call("GET", "/events/view/" + Uuid(2)));
  std::string gone_id;
  for (const json& a : view["Event"]["Attribute"]) {
    if (a["value"] == "c2-2.example") gone_id = a["id"];
  }
  ASSERT_FALSE(gone_id.empty());
  ASSERT_EQ(Call("POST", "/attributes/delete/" + gone_id).status, 200);
  ASSERT_EQ(Call("POST", "/events/edit/" + Uuid(3), json{{"distribution", 0}}.dump()).status, 200);
  ASSERT_EQ(Call("POST", "/events/delete/" + Uuid(4)).status, 200);
  clock_.Advance(10);
  auto changes = MirrorSweep(*target_, Options(), false);
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  EXPECT_EQ(changes->fetched, 3u);  // only the three changed events
  held = Held();
  EXPECT_EQ(held[Uuid(1)],
            (std::set<std::string>{"198.51.100.1", "c2-1.example", "added.example"}));
  EXPECT_EQ(held[Uuid(2)], (std::set<std::string>{"198.51.100.2"}));
  EXPECT_EQ(held.count(Uuid(3)), 0u);
  // A deleted event is not in an incremental listing: it goes with the next full one.
  EXPECT_EQ(held.count(Uuid(4)), 1u);
  auto full = MirrorSweep(*target_, Options(), true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->removed, 1u);
  EXPECT_EQ(full->fetched, 0u);
  held = Held();
  EXPECT_EQ(held.count(Uuid(4)), 0u);
  EXPECT_EQ(held.size(), 2u);

  // A sighting leaves the event timestamp alone: an incremental sweep does not see it, a full
  // one does (the index's sighting_timestamp), and the copy carries the count.
  view = Json(Call("GET", "/events/view/" + Uuid(1)));
  std::string sighted_id;
  for (const json& a : view["Event"]["Attribute"]) {
    if (a["value"] == "c2-1.example") sighted_id = a["id"];
  }
  ASSERT_FALSE(sighted_id.empty());
  // A later event first, so that the incremental listing starts after event 1's timestamp.
  clock_.Advance(10);
  AddEvent(Event(6, 3, {"later.example"}));
  auto later = MirrorSweep(*target_, Options(), false);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->fetched, 1u);
  clock_.Advance(10);
  ASSERT_EQ(Call("POST", "/sightings/add/" + sighted_id, "{}").status, 200);
  auto quiet = MirrorSweep(*target_, Options(), false);
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_EQ(quiet->fetched, 0u);
  auto sighted = MirrorSweep(*target_, Options(), true);
  ASSERT_TRUE(sighted.ok()) << sighted.status().ToString();
  EXPECT_EQ(sighted->fetched, 1u);
  auto copy = target_->GetEvent(Uuid(1), {});
  ASSERT_TRUE(copy.ok());
  for (const auto& a : copy->attributes) {
    EXPECT_EQ(a.import_sightings, a.value == "c2-1.example" ? 1u : 0u) << a.value;
  }

  auto state = target_->GetMirrorState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->source, Options().url);
  EXPECT_EQ(state->events, 3u);    // events 1, 2 and 6
  EXPECT_EQ(state->filtered, 2u);  // events 3 and 5
  EXPECT_TRUE(state->error.empty());
  EXPECT_GT(state->last_success, 0);
}

// A sweep stopped half-way keeps what it wrote; after a restart (the store reopened) the next
// sweep fetches only the rest.
TEST_F(MirrorTest, AnInterruptedSweepResumes) {
  for (int n = 1; n <= 9; ++n) AddEvent(Event(n, 3, {"resume-" + std::to_string(n) + ".example"}));
  std::atomic<bool> stop{false};
  auto progress = [&](const MirrorProgress& p) {
    if (p.fetched >= 4) stop.store(true);
  };
  auto stopped = MirrorSweep(*target_, Options(), false, progress, &stop);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().message(), "stopped");
  EXPECT_EQ(target_->GetMirrorState()->error, "stopped");
  EXPECT_EQ(target_->GetMirrorState()->last_success, 0);
  EXPECT_EQ(Held().size(), 4u);

  target_.reset();
  auto reopened = store::Store::Open(target_dir_.path(), store::StoreOptions{});
  ASSERT_TRUE(reopened.ok());
  target_ = std::move(*reopened);
  auto resumed = MirrorSweep(*target_, Options(), false);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->listed, 9u);
  EXPECT_EQ(resumed->fetched, 5u);
  EXPECT_EQ(Held().size(), 9u);
  EXPECT_TRUE(target_->GetMirrorState()->error.empty());
}

TEST_F(MirrorTest, RefusedKeysUnreachableSourcesAndAnotherMisp) {
  AddEvent(Event(1, 3, {"one.example"}));
  MirrorOptions bad = Options();
  bad.key = std::string(40, 'x');
  auto refused = MirrorSweep(*target_, bad, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_NE(target_->GetMirrorState()->error.find("HTTP 403"), std::string::npos)
      << target_->GetMirrorState()->error;

  ASSERT_TRUE(MirrorSweep(*target_, Options(), false).ok());
  MirrorOptions other = Options();
  other.url = "http://127.0.0.1:1";
  auto another = MirrorSweep(*target_, other, false);
  EXPECT_EQ(another.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(another.status().message().find("one MISP"), std::string_view::npos);

  test::TempDir dir;
  auto fresh = store::Store::Open(dir.path(), store::StoreOptions{});
  ASSERT_TRUE(fresh.ok());
  auto unreachable = MirrorSweep(**fresh, other, false);
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable)
      << unreachable.status().ToString();
  // A source that never answered does not pin the store: the right URL is taken.
  auto corrected = MirrorSweep(**fresh, Options(), false);
  ASSERT_TRUE(corrected.ok()) << corrected.status().ToString();
  EXPECT_EQ(corrected->kept, 1u);
  EXPECT_EQ((*fresh)->GetMirrorState()->source, Options().url);

  for (auto [field, value] : {std::pair{"url", "ftp://misp"}, std::pair{"key", ""},
                              std::pair{"key", "a b"}, std::pair{"group", "not-a-uuid"}}) {
    MirrorOptions o = Options();
    if (std::string(field) == "url") o.url = value;
    if (std::string(field) == "key") o.key = value;
    if (std::string(field) == "group") o.sharing_groups = {value};
    EXPECT_EQ(ValidateMirrorOptions(o).code(), StatusCode::kInvalidArgument) << field << value;
  }
  MirrorOptions zero = Options();
  zero.min_distribution = 0;
  EXPECT_EQ(ValidateMirrorOptions(zero).code(), StatusCode::kInvalidArgument);
  for (uint32_t concurrency : {0u, 17u}) {
    MirrorOptions o = Options();
    o.concurrency = concurrency;
    EXPECT_EQ(ValidateMirrorOptions(o).code(), StatusCode::kInvalidArgument) << concurrency;
  }
}

// A sweep of a hostile source (a real HTTP server answering with `handler`) into a new store.
struct HostileSweep {
  Result<MirrorSweepStats> stats = MirrorSweepStats{};
  store::MirrorState state;
  size_t mirrored = 0;
};
HostileSweep SweepOf(const net::Handler& handler, MirrorOptions o) {
  HostileSweep out;
  auto server = net::HttpServer::Start(net::ServerOptions{}, handler);
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return out;
  test::TempDir dir;
  auto store = store::Store::Open(dir.path(), store::StoreOptions{});
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return out;
  o.url = "http://127.0.0.1:" + std::to_string((*server)->port());
  o.key = "k";
  out.stats = MirrorSweep(**store, o, false);
  out.state = *(*store)->GetMirrorState();
  out.mirrored = (*store)->MirroredEventUuids()->size();
  return out;
}

// A source that answers what no MISP should: the sweep fails with a reason and writes nothing.
TEST(MirrorHostileSourceTest, UnusableAnswersFailTheSweep) {
  struct Case {
    const char* name;
    std::string index;  // what events/index answers
    int status;
  };
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  const json row = {{"uuid", Uuid(1)}, {"timestamp", "1700000000"}};
  const std::vector<Case> cases = {
      {"not json", "<html>MISP is down</html>", 200},
      {"an object", R"({"Event": []})", 200},
      {"no uuid", R"([{"timestamp": "1"}])", 200},
      {"a path uuid", R"([{"uuid": "../../users/view/me", "timestamp": "1"}])", 200},
      {"a 20-digit timestamp",
       R"([{"uuid": ")" + Uuid(1) + R"(", "timestamp": "99999999999999999999"}])", 200},
      {"30000-deep", deep, 200},
      {"the same page forever", json::array({row}).dump(), 200},
      {"a server error", R"({"name": "Internal error", "message": "boom", "url": "/"})", 500},
  };
  for (const Case& c : cases) {
    MirrorOptions o;
    o.page_size = 1;
    HostileSweep sweep = SweepOf(
        [&](net::Request& r) {
          net::Response resp;
          resp.content_type = "application/json";
          if (r.path.starts_with("/events/index")) {
            resp.status = c.status;
            resp.body = c.index;
          } else {
            resp.status = 404;
          }
          return resp;
        },
        o);
    EXPECT_FALSE(sweep.stats.ok()) << c.name;
    EXPECT_FALSE(sweep.state.error.empty()) << c.name;
    EXPECT_EQ(sweep.mirrored, 0u) << c.name;
    if (std::string(c.name) == "a server error") {
      EXPECT_NE(sweep.stats.status().message().find("boom"), std::string_view::npos)
          << sweep.stats.status().ToString();
    }
  }
}

// An event answer over the cap fails the sweep instead of filling memory.
TEST(MirrorHostileSourceTest, AnOversizedEventIsRefused) {
  MirrorOptions o;
  o.max_event_bytes = 1 << 20;
  HostileSweep sweep = SweepOf(
      [&](net::Request& r) {
        net::Response resp;
        resp.content_type = "application/json";
        if (r.path.starts_with("/events/index")) {
          resp.body = json::array({{{"uuid", Uuid(7)}, {"timestamp", "5"}}}).dump();
        } else {
          resp.body = std::string(3 << 20, ' ');
        }
        return resp;
      },
      o);
  EXPECT_EQ(sweep.stats.status().code(), StatusCode::kResourceExhausted)
      << sweep.stats.status().ToString();
}

// Distribution as MISP writes it, read by the MISP event loader: events below the minimum and
// sharing groups not listed stay out; attributes and objects narrower than allowed are dropped.
TEST(MirrorDistributionTest, EventsAttributesObjectsAndSharingGroups) {
  const std::string group = "3f2a8c1e-7777-4aaa-8bbb-123456789abc";
  auto load = [](const json& event) {
    std::vector<core::Event> events;
    auto loaded = ingest::LoadContent(
        "view", json{{"Event", event}}.dump(), {},
        [&](core::Event&& e) { events.push_back(std::move(e)); }, [](const ingest::LoadIssue&) {});
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(events.size(), 1u);
    return events.empty() ? core::Event{} : events[0];
  };
  auto attr = [](const std::string& value, const std::string& distribution) {
    return json{{"type", "domain"},
                {"value", value},
                {"distribution", distribution},
                {"sharing_group_id", "0"}};
  };
  auto values = [](const core::Event& e) {
    std::set<std::string> out;
    for (const auto& a : e.attributes) out.insert(a.indicator.value);
    return out;
  };
  MirrorOptions o;
  o.min_distribution = 2;
  o.sharing_groups = {group};
  json event = {{"uuid", Uuid(1)},
                {"info", "x"},
                {"distribution", "3"},
                {"Attribute",
                 {attr("inherit.example", "5"), attr("org.example", "0"),
                  attr("community.example", "1"), attr("connected.example", "2"),
                  attr("all.example", "3"), attr("group.example", "4"), attr("junk.example", "x")}},
                {"Object",
                 {{{"name", "domain-ip"},
                   {"distribution", "1"},
                   {"Attribute", {attr("in-narrow-object.example", "5")}}},
                  {{"name", "domain-ip"},
                   {"distribution", "3"},
                   {"Attribute", {attr("in-wide-object.example", "5")}}}}}};
  core::Event e = load(event);
  ASSERT_TRUE(FilterForAlliance(&e, o));
  EXPECT_EQ(values(e), (std::set<std::string>{"inherit.example", "connected.example", "all.example",
                                              "in-wide-object.example"}));
  for (const char* level : {"0", "1"}) {
    event["distribution"] = level;
    e = load(event);
    EXPECT_FALSE(FilterForAlliance(&e, o)) << level;
  }
  event["distribution"] = "4";
  event["sharing_group_id"] = "7";
  event["SharingGroup"] = {{"id", "7"}, {"uuid", "00000000-0000-4000-8000-000000000000"}};
  e = load(event);
  EXPECT_FALSE(FilterForAlliance(&e, o));  // a group not listed
  event["SharingGroup"]["uuid"] = group;
  event["Attribute"] = {attr("inherit.example", "5"),
                        {{"type", "domain"},
                         {"value", "same-group.example"},
                         {"distribution", "4"},
                         {"sharing_group_id", "7"}},
                        {{"type", "domain"},
                         {"value", "other-group.example"},
                         {"distribution", "4"},
                         {"sharing_group_id", "8"}}};
  event["Object"] = json::array();
  e = load(event);
  ASSERT_TRUE(FilterForAlliance(&e, o));
  EXPECT_EQ(values(e), (std::set<std::string>{"inherit.example", "same-group.example"}));
}

}  // namespace
}  // namespace iocgrid::node
