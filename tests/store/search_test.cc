// SearchAttributes / ListEvents filters against a small fixture of three events.
#include <algorithm>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace iocgrid::store {
namespace {

using testing::Attr;
using testing::MakeEvent;
using testing::TempDir;
using testing::U;

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.path(), {});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    std::vector<core::Event> events;
    // Event 1: published, CIRCL, tlp:green.
    events.push_back(
        MakeEvent(U(1), "Phishing wave",
                  {Attr("ip-dst", "198.51.100.7", U(101)), Attr("domain", "evil.example", U(102)),
                   Attr("ip-dst|port", "203.0.113.9|443", U(103)),
                   Attr("md5", "D41D8CD98F00B204E9800998ECF8427E", U(104))}));
    events.back().published = true;
    events.back().tags = {"tlp:green"};
    events.back().attributes[1].tags = {"kill-chain:delivery"};
    events.back().attributes[3].to_ids = false;
    events.back().attributes[0].timestamp = 1000;
    events.back().attributes[1].timestamp = 2000;
    events.back().attributes[2].timestamp = 3000;
    events.back().attributes[3].timestamp = 4000;
    // Event 2: unpublished, another org, older date.
    events.push_back(MakeEvent(
        U(2), "Botnet C2",
        {Attr("ip-src", "198.51.100.7", U(201)), Attr("url", "http://Evil.Example/a", U(202)),
         Attr("domain", "sub.evil.example", U(203))}));
    events.back().org = "Other Org";
    events.back().date = "2019-05-01";
    events.back().tags = {"tlp:amber"};
    events.back().attributes[1].category = "External analysis";
    for (auto& a : events.back().attributes) a.timestamp = 5000;
    // Event 3: a deleted attribute.
    events.push_back(MakeEvent(U(3), "Old", {Attr("domain", "gone.example", U(301))}));
    ASSERT_TRUE(store_->ImportEvents(events, {}).ok());
    ASSERT_TRUE(store_->DeleteAttribute(U(301), false).ok());
  }

  std::vector<std::string> Uuids(const AttributeQuery& query) {
    auto result = store_->SearchAttributes(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> out;
    if (!result.ok()) return out;
    for (const AttributeRecord& a : result->attributes) {
      out.push_back(a.uuid);
      EXPECT_NE(result->FindEvent(a.event_id), nullptr);
    }
    auto count = store_->CountAttributes(query);
    EXPECT_TRUE(count.ok());
    if (query.limit == 0) {
      EXPECT_EQ(*count, out.size());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

using V = std::vector<std::string>;

TEST_F(SearchTest, ValueMatchesEitherHalfCaseInsensitively) {
  AttributeQuery q;
  q.value.any = {"198.51.100.7"};
  EXPECT_EQ(Uuids(q), (V{U(101), U(201)}));
  q.value.any = {"203.0.113.9"};
  EXPECT_EQ(Uuids(q), V{U(103)});
  q.value.any = {"443"};
  EXPECT_EQ(Uuids(q), V{U(103)});
  q.value.any = {"EVIL.example"};
  EXPECT_EQ(Uuids(q), V{U(102)});
  q.value.any = {"d41d8cd98f00b204e9800998ecf8427e"};
  EXPECT_EQ(Uuids(q), V{U(104)});
  // The whole composite string matches nothing, as in MISP.
  q.value.any = {"203.0.113.9|443"};
  EXPECT_EQ(Uuids(q), V{});
}

TEST_F(SearchTest, ValueListsAndNot) {
  AttributeQuery q;
  q.value.any = {"198.51.100.7", "evil.example", "nothing.example"};
  EXPECT_EQ(Uuids(q), (V{U(101), U(102), U(201)}));
  q.value.none = {"evil.example"};
  EXPECT_EQ(Uuids(q), (V{U(101), U(201)}));
  AttributeQuery only_not;
  only_not.value.none = {"198.51.100.7", "443"};
  EXPECT_EQ(Uuids(only_not), (V{U(102), U(104), U(202), U(203)}));
}

TEST_F(SearchTest, PercentPrefixAndSuffixAreWildcards) {
  AttributeQuery q;
  q.value.any = {"%evil.example"};
  EXPECT_EQ(Uuids(q), (V{U(102), U(203)}));
  q.value.any = {"http://evil%"};
  EXPECT_EQ(Uuids(q), V{U(202)});
  q.value.any = {"198.51.%"};
  EXPECT_EQ(Uuids(q), (V{U(101), U(201)}));
}

TEST_F(SearchTest, TypeCategoryAndToIds) {
  AttributeQuery q;
  q.type.any = {"ip-dst", "ip-src"};
  EXPECT_EQ(Uuids(q), (V{U(101), U(201)}));
  q.type.none = {"ip-src"};
  EXPECT_EQ(Uuids(q), V{U(101)});
  AttributeQuery category;
  category.category.any = {"External analysis"};
  EXPECT_EQ(Uuids(category), V{U(202)});
  AttributeQuery to_ids;
  to_ids.to_ids = false;
  EXPECT_EQ(Uuids(to_ids), V{U(104)});
}

TEST_F(SearchTest, TagsMatchOwnOrEventTagsWithNot) {
  AttributeQuery q;
  q.tags.any = {"kill-chain:delivery"};
  EXPECT_EQ(Uuids(q), V{U(102)});
  q.tags.any = {"TLP:AMBER"};
  EXPECT_EQ(Uuids(q), (V{U(201), U(202), U(203)}));
  q.tags.any = {"tlp:%"};
  EXPECT_EQ(Uuids(q).size(), 7u);
  q.tags.none = {"tlp:green"};
  EXPECT_EQ(Uuids(q), (V{U(201), U(202), U(203)}));
}

TEST_F(SearchTest, EventUuidOrgAndPublished) {
  AttributeQuery q;
  q.event.any = {U(2)};
  EXPECT_EQ(Uuids(q).size(), 3u);
  auto first = store_->GetEvent(U(1), {});
  ASSERT_TRUE(first.ok());
  q.event.any = {std::to_string(first->event.id)};
  EXPECT_EQ(Uuids(q).size(), 4u);
  AttributeQuery uuid;
  uuid.uuid.any = {U(103)};
  EXPECT_EQ(Uuids(uuid), V{U(103)});
  AttributeQuery org;
  org.org.any = {"other org"};
  EXPECT_EQ(Uuids(org).size(), 3u);
  org.org.any = {"No Such Org"};
  EXPECT_EQ(Uuids(org).size(), 0u);
  AttributeQuery published;
  published.published = true;
  EXPECT_EQ(Uuids(published).size(), 4u);
}

TEST_F(SearchTest, DeletedFilter) {
  AttributeQuery q;
  q.deleted = DeletedFilter::kOnly;
  EXPECT_EQ(Uuids(q), V{U(301)});
  q.deleted = DeletedFilter::kBoth;
  EXPECT_EQ(Uuids(q).size(), 8u);
  q.deleted = DeletedFilter::kExclude;
  EXPECT_EQ(Uuids(q).size(), 7u);
}

TEST_F(SearchTest, TimeAndDateRanges) {
  AttributeQuery q;
  q.timestamp.from = 2000;
  q.timestamp.to = 4000;
  EXPECT_EQ(Uuids(q), (V{U(102), U(103), U(104)}));
  AttributeQuery dates;
  dates.date_to = "2020-01-01";
  EXPECT_EQ(Uuids(dates).size(), 3u);
  dates.date_from = "2024-01-01";
  dates.date_to.reset();
  EXPECT_EQ(Uuids(dates).size(), 4u);
}

TEST_F(SearchTest, LimitPageAndOrder) {
  AttributeQuery q;
  q.order = AttributeOrder::kTimestamp;
  q.descending = true;
  q.limit = 2;
  q.page = 1;
  auto page1 = Uuids(q);
  ASSERT_EQ(page1.size(), 2u);
  q.page = 2;
  auto page2 = Uuids(q);
  ASSERT_EQ(page2.size(), 2u);
  EXPECT_EQ(page2, (V{U(201), U(104)}));  // ties on timestamp: id descending
  q.page = 4;
  EXPECT_EQ(Uuids(q).size(), 1u);
  auto count = store_->CountAttributes(q);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 7u);
}

TEST_F(SearchTest, RowsCarryEventContextTagsAndSightings) {
  ASSERT_TRUE(store_->AddSighting(testing::SightingOf(U(102))).ok());
  AttributeQuery q;
  q.value.any = {"evil.example"};
  q.include_event_tags = true;
  q.include_sightings = true;
  auto result = store_->SearchAttributes(q);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->attributes.size(), 1u);
  const AttributeRecord& a = result->attributes[0];
  const EventInfo* event = result->FindEvent(a.event_id);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->info, "Phishing wave");
  EXPECT_EQ(event->uuid, U(1));
  EXPECT_EQ(event->orgc_name, "CIRCL");
  EXPECT_EQ(event->date, "2024-01-31");
  ASSERT_EQ(a.tags.size(), 2u);
  EXPECT_EQ(a.tags[0].name, "kill-chain:delivery");
  EXPECT_FALSE(a.tags[0].inherited);
  EXPECT_EQ(a.tags[1].name, "tlp:green");
  EXPECT_TRUE(a.tags[1].inherited);
  ASSERT_TRUE(a.sightings.has_value());
  EXPECT_EQ(a.sightings->sightings, 1u);
}

TEST_F(SearchTest, ThousandValueListUsesOneStatement) {
  // The statements a one-value search costs (the read snapshot, the attribute SELECT, its
  // events, tags and sightings) ...
  AttributeQuery one;
  one.value.any = {"198.51.100.7"};
  const int64_t before_one = store_->StatementsRun();
  EXPECT_EQ(Uuids(one), (V{U(101), U(201)}));
  const int64_t cost_one = store_->StatementsRun() - before_one;
  ASSERT_GT(cost_one, 0);

  // ... are what a 1,002-value search costs: the list is bound into one statement, not run as
  // a statement per value.
  AttributeQuery q;
  for (int i = 0; i < 1000; ++i) q.value.any.push_back("192.0.2." + std::to_string(i));
  q.value.any.push_back("198.51.100.7");
  q.value.any.push_back("quote\"and\\backslash");
  const int64_t before = store_->StatementsRun();
  EXPECT_EQ(Uuids(q), (V{U(101), U(201)}));
  EXPECT_EQ(store_->StatementsRun() - before, cost_one);
  // Per-hit lookups are per event, not per value: a two-hit search stays a handful (9 today).
  EXPECT_LE(cost_one, 16);
}

TEST_F(SearchTest, GetAttributesByIdsForMatchHits) {
  auto a = store_->GetAttribute(U(101));
  auto b = store_->GetAttribute(U(202));
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<int64_t> ids = {b->id, a->id, 987654};
  auto result = store_->GetAttributes(ids, true);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->attributes.size(), 2u);
  EXPECT_EQ(result->events.size(), 2u);
  EXPECT_EQ(result->attributes[0].uuid, U(101));
  EXPECT_TRUE(result->attributes[0].sightings.has_value());
}

TEST_F(SearchTest, EventIndexFilters) {
  EventQuery q;
  auto all = store_->ListEvents(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].attribute_count, 4);
  EXPECT_EQ((*all)[2].attribute_count, 0);  // its only attribute is soft-deleted
  q.value.any = {"198.51.100.7"};
  EXPECT_EQ(store_->ListEvents(q)->size(), 2u);
  q.published = false;
  auto unpublished = store_->ListEvents(q);
  ASSERT_EQ(unpublished->size(), 1u);
  EXPECT_EQ((*unpublished)[0].uuid, U(2));
  ASSERT_EQ((*unpublished)[0].tags.size(), 1u);
  EXPECT_EQ((*unpublished)[0].tags[0].name, "tlp:amber");
  EventQuery info;
  info.eventinfo = "%wave%";
  EXPECT_EQ(store_->ListEvents(info)->size(), 1u);
  EventQuery paged;
  paged.limit = 1;
  paged.page = 2;
  paged.descending = true;
  auto page = store_->ListEvents(paged);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].uuid, U(2));
  EventQuery tagged;
  tagged.tags.any = {"tlp:green"};
  EXPECT_EQ(store_->ListEvents(tagged)->size(), 1u);
}

}  // namespace
}  // namespace iocgrid::store
