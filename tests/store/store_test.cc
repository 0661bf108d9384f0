#include "store/store.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "ingest/loader.h"
#include "store/time_format.h"
#include "store_test_util.h"

namespace iocgrid::store {
namespace {

using testing::Attr;
using testing::MakeEvent;
using testing::ManyIps;
using testing::TempDir;
using testing::U;

std::unique_ptr<Store> OpenOrDie(const std::string& dir, StoreOptions options = {}) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Runs one SQL statement directly on the file, outside the store (to tamper with it).
void RawSql(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/iocgrid.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST(StoreOpenTest, CreatesWalDatabaseWithCurrentSchemaVersion) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() + "/data");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/data/iocgrid.db"));
  EXPECT_TRUE(store->CheckIntegrity().ok());
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/data/iocgrid.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), Store::kSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(StoreOpenTest, ReopensExistingStoreKeepingData) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    core::Event e = MakeEvent(U(1), "persisted", {Attr("ip-dst", "198.51.100.7")});
    ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  }
  auto store = OpenOrDie(dir.path());
  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event.info, "persisted");
  ASSERT_EQ(event->attributes.size(), 1u);
}

TEST(StoreOpenTest, RefusesNewerSchemaNamingBothVersions) {
  TempDir dir;
  OpenOrDie(dir.path()).reset();
  RawSql(dir.path(), "PRAGMA user_version = 99");
  auto store = Store::Open(dir.path(), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(store.status().message().find("99"), std::string_view::npos);
  EXPECT_NE(store.status().message().find("up to " + std::to_string(Store::kSchemaVersion)),
            std::string_view::npos)
      << store.status().message();
}

TEST(StoreOpenTest, RefusesForeignSqliteFile) {
  TempDir dir;
  RawSql(dir.path(), "CREATE TABLE unrelated (x INTEGER)");
  auto store = Store::Open(dir.path(), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreOpenTest, RefusesFileThatIsNotSqlite) {
  TempDir dir;
  std::ofstream(dir.path() + "/iocgrid.db") << std::string(4096, 'x');
  auto store = Store::Open(dir.path(), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
}

TEST(StoreOpenTest, MissingStoreWithoutCreateIsNotFound) {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = false;
  auto store = Store::Open(dir.path(), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
}

TEST(StoreImportTest, PersistsEventWithCompositesObjectsAndTags) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "Phishing wave",
                            {Attr("ip-dst", "198.51.100.7", U(101)),
                             Attr("domain|ip", "Evil.Example|198.51.100.8", U(102)),
                             Attr("filename|md5", "a|b.exe|d41d8cd98f00b204e9800998ecf8427e")});
  e.tags = {"tlp:green"};
  e.attributes[0].tags = {"kill-chain:c2"};
  e.attributes[0].first_seen = "2024-01-01T00:00:00Z";
  e.attributes[0].comment = "c2";
  e.attributes[2].object_name = "file";
  e.attributes[2].object_relation = "malware-sample";
  ImportOptions options;
  options.extra_tags = {"source:test"};
  auto stats = store->ImportEvents({&e, 1}, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->events_added, 1u);
  EXPECT_EQ(stats->attributes_added, 3u);

  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event.orgc_name, "CIRCL");
  EXPECT_EQ(event->event.org_name, "ORGNAME");
  EXPECT_EQ(event->event.attribute_count, 3);
  ASSERT_EQ(event->event.tags.size(), 2u);
  EXPECT_EQ(event->event.tags[0].name, "source:test");
  EXPECT_EQ(event->event.tags[1].name, "tlp:green");
  ASSERT_EQ(event->attributes.size(), 2u);
  const AttributeRecord& ip = event->attributes[0];
  EXPECT_EQ(ip.uuid, U(101));
  EXPECT_EQ(ip.value1, "198.51.100.7");
  EXPECT_EQ(ip.value2, "");
  EXPECT_EQ(ip.comment, "c2");
  ASSERT_TRUE(ip.first_seen_us.has_value());
  EXPECT_EQ(FormatIsoMicros(*ip.first_seen_us), "2024-01-01T00:00:00.000000+00:00");
  ASSERT_EQ(ip.tags.size(), 1u);
  EXPECT_EQ(ip.tags[0].name, "kill-chain:c2");
  EXPECT_EQ(ip.category, "Network activity");
  const AttributeRecord& composite = event->attributes[1];
  EXPECT_EQ(composite.value1, "evil.example");
  EXPECT_EQ(composite.value2, "198.51.100.8");
  EXPECT_EQ(composite.value, "evil.example|198.51.100.8");
  ASSERT_EQ(event->objects.size(), 1u);
  EXPECT_EQ(event->objects[0].name, "file");
  ASSERT_EQ(event->objects[0].attributes.size(), 1u);
  // filename|hash splits at the last bar: the file name may hold one.
  EXPECT_EQ(event->objects[0].attributes[0].value1, "a|b.exe");
  EXPECT_EQ(event->objects[0].attributes[0].value2, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(event->objects[0].attributes[0].object_relation, "malware-sample");
  EXPECT_TRUE(store->CheckIntegrity().ok());
}

TEST(StoreImportTest, ReimportSameEventIsUnchangedNotDuplicated) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(
      U(1), "same", {Attr("ip-dst", "198.51.100.7", U(101)), Attr("domain", "evil.example")});
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  const uint64_t generation = store->generation();
  auto again = store->ImportEvents({&e, 1}, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->events_added, 0u);
  EXPECT_EQ(again->events_unchanged, 1u);
  EXPECT_EQ(again->attributes_added, 0u);
  EXPECT_EQ(again->attributes_updated, 0u);
  EXPECT_EQ(again->attributes_unchanged, 2u);
  EXPECT_GT(store->generation(), generation);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 1u);
  EXPECT_EQ(stats->attributes, 2u);
}

TEST(StoreImportTest, ReimportUpdatesChangedAndRemovesMissingAttributes) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e =
      MakeEvent(U(1), "v1",
                {Attr("ip-dst", "198.51.100.7", U(101)), Attr("ip-dst", "198.51.100.8", U(102)),
                 Attr("ip-dst", "198.51.100.9", U(103))});
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  auto before = store->GetAttribute(U(101));
  ASSERT_TRUE(before.ok());
  e.info = "v2";
  e.attributes[0].comment = "now with a comment";
  e.attributes.pop_back();
  e.attributes.push_back(Attr("ip-dst", "198.51.100.10", U(104)));
  auto stats = store->ImportEvents({&e, 1}, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->events_updated, 1u);
  EXPECT_EQ(stats->attributes_added, 1u);
  EXPECT_EQ(stats->attributes_updated, 1u);
  EXPECT_EQ(stats->attributes_unchanged, 1u);
  EXPECT_EQ(stats->attributes_removed, 1u);
  auto after = store->GetAttribute(U(101));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->id, before->id);  // updated in place: sightings stay attached
  EXPECT_EQ(after->comment, "now with a comment");
  auto removed = store->GetAttribute(U(103));
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->deleted);
  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event.info, "v2");
  EXPECT_EQ(event->attributes.size(), 3u);
}

TEST(StoreImportTest, EventsWithoutUuidGetDeterministicUuidFromSource) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event list;
  list.info = "blocklist";
  list.source = "/data/list.txt";
  list.attributes = {Attr("ip-dst", "198.51.100.7"), Attr("ip-dst", "198.51.100.8"),
                     Attr("ip-dst", "198.51.100.7")};  // a repeated line
  auto first = store->ImportEvents({&list, 1}, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->attributes_added, 2u);
  EXPECT_EQ(first->duplicates, 1u);
  auto second = store->ImportEvents({&list, 1}, {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->attributes_added, 0u);
  EXPECT_EQ(second->attributes_unchanged, 2u);
  ASSERT_EQ(first->event_ids, second->event_ids);
  auto event = store->GetEvent(std::to_string(first->event_ids[0]), {});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event.uuid.size(), 36u);
  EXPECT_EQ(event->event.uuid[14], '5');  // v5 layout
  EXPECT_EQ(event->event.source, "/data/list.txt");

  list.source = "/data/other.txt";
  auto other = store->ImportEvents({&list, 1}, {});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->events_added, 1u);
}

TEST(StoreImportTest, FailingEventRollsBackWholeBatch) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event kept = MakeEvent(U(1), "kept", {Attr("ip-dst", "198.51.100.1", U(101))});
  ASSERT_TRUE(store->ImportEvents({&kept, 1}, {}).ok());

  std::vector<core::Event> batch;
  batch.push_back(MakeEvent(U(2), "good", {Attr("ip-dst", "198.51.100.2", U(201))}));
  batch.push_back(
      MakeEvent(U(3), "bad",
                {Attr("ip-dst", "198.51.100.3", U(301)), Attr("ip-dst", "198.51.100.4", U(301))}));
  auto result = store->ImportEvents(batch, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetEvent(U(2), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetEvent(U(3), {}).status().code(), StatusCode::kNotFound);

  // A uuid owned by another event is a conflict too, and nothing of the batch lands.
  batch[1] = MakeEvent(U(3), "steals", {Attr("ip-dst", "198.51.100.5", U(101))});
  result = store->ImportEvents(batch, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 1u);
  EXPECT_EQ(stats->attributes, 1u);
  // The store still writes after a rolled-back batch.
  batch.pop_back();
  EXPECT_TRUE(store->ImportEvents(batch, {}).ok());
}

TEST(StoreImportTest, RejectsInvalidEventFields) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent("not-a-uuid", "x", {});
  EXPECT_EQ(store->ImportEvents({&e, 1}, {}).status().code(), StatusCode::kInvalidArgument);
  e = MakeEvent(U(1), "x", {});
  ImportOptions options;
  options.distribution = 7;
  EXPECT_EQ(store->ImportEvents({&e, 1}, options).status().code(), StatusCode::kInvalidArgument);
  e.threat_level_id = 0;
  EXPECT_EQ(store->ImportEvents({&e, 1}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreImportTest, ProgressIsReportedDuringLargeImport) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "large", ManyIps(25'000, 1, true));
  std::vector<uint64_t> reports;
  ImportOptions options;
  options.progress = [&](uint64_t done) { reports.push_back(done); };
  auto stats = store->ImportEvents({&e, 1}, options);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->attributes_added, 25'000u);
  EXPECT_EQ(reports, (std::vector<uint64_t>{10'000, 20'000}));
}

// The attributes table's indexes with SQL (the automatic ones have none), by name.
std::vector<std::string> AttributeIndexes(const std::string& dir) {
  std::vector<std::string> names;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((dir + "/iocgrid.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open the store";
    sqlite3_close(db);
    return names;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = "
                     "'attributes' AND sql IS NOT NULL ORDER BY name",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return names;
}

// Large imports of new events into a store that already holds up to 4 times as many attributes
// rebuild the attribute indexes instead of inserting into them row by row (store_write.cc):
// the indexes come back whole, uuids stay unique across events, a conflict rolls everything
// back, and an import that updates a stored event keeps the row-by-row path.
TEST(StoreImportTest, LargeImportsOfNewEventsIntoAFilledStoreKeepIndexesAndUniqueness) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const std::vector<std::string> indexes = AttributeIndexes(dir.path());
  ASSERT_GE(indexes.size(), 6u);
  core::Event first = MakeEvent(U(1), "first", ManyIps(60'000, 1, true));
  ASSERT_TRUE(store->ImportEvents({&first, 1}, {}).ok());
  // As many attributes again, then twice as many: both below 4x what is stored.
  core::Event second = MakeEvent(U(2), "second", ManyIps(60'000, 2, true));
  auto stats = store->ImportEvents({&second, 1}, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->attributes_added, 60'000u);
  EXPECT_EQ(AttributeIndexes(dir.path()), indexes);

  // One attribute takes a uuid of the first event: the whole batch fails, nothing lands, and
  // the indexes are as before.
  std::vector<core::Event> batch;
  batch.push_back(MakeEvent(U(3), "third", ManyIps(60'000, 3, true)));
  batch.push_back(MakeEvent(U(4), "fourth", ManyIps(60'000, 4, true)));
  batch[1].attributes[59'999].uuid = U(17, 1);
  auto conflict = store->ImportEvents(batch, {});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), StatusCode::kAlreadyExists);
  auto counts = store->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->events, 2u);
  EXPECT_EQ(counts->attributes, 120'000u);
  EXPECT_EQ(AttributeIndexes(dir.path()), indexes);
  EXPECT_TRUE(store->CheckIntegrity().ok());

  batch[1].attributes[59'999].uuid = U(59'999, 4);
  stats = store->ImportEvents(batch, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->attributes_added, 120'000u);
  EXPECT_EQ(AttributeIndexes(dir.path()), indexes);
  EXPECT_TRUE(store->CheckIntegrity().ok());
  // The uuid index is back: a small import reusing a stored uuid is refused.
  core::Event thief = MakeEvent(U(5), "thief", {Attr("ip-dst", "198.51.100.9", U(5, 3))});
  EXPECT_EQ(store->ImportEvents({&thief, 1}, {}).status().code(), StatusCode::kAlreadyExists);

  // A large batch that also re-imports a stored event: the first is unchanged, the new one added.
  std::vector<core::Event> mixed;
  mixed.push_back(first);
  mixed.push_back(MakeEvent(U(6), "sixth", ManyIps(60'000, 6, true)));
  stats = store->ImportEvents(mixed, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->attributes_unchanged, 60'000u);
  EXPECT_EQ(stats->attributes_added, 60'000u);
  counts = store->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->events, 5u);
  EXPECT_EQ(counts->attributes, 300'000u);
  EXPECT_TRUE(store->CheckIntegrity().ok());
  // Values are found in every event that holds them.
  AttributeQuery query;
  query.value.any = {"10.0.0.17"};
  auto found = store->SearchAttributes(query);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->attributes.size(), 5u);
}

TEST(StoreEventTest, AddEventRefusesKnownUuid) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "x", {Attr("ip-dst", "198.51.100.7")});
  auto id = store->AddEvent(e, {});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(store->AddEvent(e, {}).status().code(), StatusCode::kAlreadyExists);
  e.uuid.clear();
  auto other = store->AddEvent(e, {});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *id);  // a random uuid, a new event
}

TEST(StoreEventTest, EditEventKeepsAbsentAttributesWithoutDeleteMissing) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "x", {Attr("ip-dst", "198.51.100.7", U(101))});
  auto id = store->AddEvent(e, {});
  ASSERT_TRUE(id.ok());
  core::Event edit = MakeEvent("", "edited", {Attr("domain", "evil.example", U(102))});
  ImportOptions options;
  options.delete_missing = false;
  auto stats = store->EditEvent(std::to_string(*id), edit, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event.info, "edited");
  EXPECT_EQ(event->attributes.size(), 2u);
  EXPECT_EQ(store->EditEvent("424242", edit, options).status().code(), StatusCode::kNotFound);
}

TEST(StoreEventTest, SoftAndHardDeleteEvent) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  std::vector<core::Event> events = {
      MakeEvent(U(1), "soft", {Attr("ip-dst", "198.51.100.7", U(101))}),
      MakeEvent(U(2), "hard", {Attr("ip-dst", "198.51.100.8", U(201))})};
  ASSERT_TRUE(store->ImportEvents(events, {}).ok());
  ASSERT_TRUE(store->AddSighting(testing::SightingOf(U(201))).ok());
  ASSERT_TRUE(store->DeleteEvent(U(1), false).ok());
  ASSERT_TRUE(store->DeleteEvent(U(2), true).ok());
  EXPECT_EQ(store->GetEvent(U(1), {}).status().code(), StatusCode::kNotFound);
  GetEventOptions with_deleted;
  with_deleted.include_deleted = true;
  auto soft = store->GetEvent(U(1), with_deleted);
  ASSERT_TRUE(soft.ok());
  EXPECT_TRUE(soft->event.deleted);
  EXPECT_EQ(store->GetEvent(U(2), with_deleted).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetAttribute(U(201)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->DeleteEvent(U(9), true).code(), StatusCode::kNotFound);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 0u);
  EXPECT_EQ(stats->attributes, 0u);
  EXPECT_EQ(stats->sightings, 0u);
  EXPECT_TRUE(store->CheckIntegrity().ok());
  // Re-importing a soft-deleted event brings it back.
  ASSERT_TRUE(store->ImportEvents({&events[0], 1}, {}).ok());
  EXPECT_TRUE(store->GetEvent(U(1), {}).ok());
}

TEST(StoreAttributeTest, AddAttributesFollowsMispDuplicateRule) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "x", {Attr("ip-dst", "198.51.100.7", U(101))});
  e.published = true;
  ASSERT_TRUE(store->AddEvent(e, {}).ok());
  std::vector<core::Attribute> add = {Attr("domain", "evil.example")};
  auto ids = store->AddAttributes(U(1), add, {});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 1u);
  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->event.published);  // adding unpublishes, as MISP
  EXPECT_EQ(event->attributes.size(), 2u);

  add[0].comment = "again";
  auto duplicate = store->AddAttributes(U(1), add, {});
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message(), "A similar attribute already exists for this event.");
  auto merged = store->AddAttributes(U(1), add, {.break_on_duplicate = false});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)[0], (*ids)[0]);
  EXPECT_EQ(store->GetAttribute(std::to_string((*ids)[0]))->comment, "again");
  EXPECT_EQ(store->AddAttributes(U(9), add, {}).status().code(), StatusCode::kNotFound);
}

TEST(StoreAttributeTest, SoftDeleteHidesAttributeFromLiveSet) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(
      U(1), "x", {Attr("ip-dst", "198.51.100.7", U(101)), Attr("ip-dst", "198.51.100.8", U(102))});
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  ASSERT_TRUE(store->DeleteAttribute(U(101), false).ok());
  std::vector<std::string> live;
  ASSERT_TRUE(store
                  ->ForEachLiveAttribute([&](const LiveAttribute& a) {
                    live.emplace_back(a.value);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(live, std::vector<std::string>{"198.51.100.8"});
  auto attribute = store->GetAttribute(U(101));
  ASSERT_TRUE(attribute.ok());
  EXPECT_TRUE(attribute->deleted);
  EXPECT_EQ(store->DeleteAttribute("999", false).code(), StatusCode::kNotFound);
}

TEST(StoreLiveTest, StreamsNormalizedValuesWithTypes) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(
      U(1), "x", {Attr("domain|ip", "evil.example|198.51.100.8"), Attr("ip-src", "2001:DB8::1")});
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  std::vector<std::pair<core::IndicatorType, std::string>> seen;
  ASSERT_TRUE(store
                  ->ForEachLiveAttribute([&](const LiveAttribute& a) {
                    seen.emplace_back(a.type, std::string(a.value));
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, core::IndicatorType::kDomainIp);
  EXPECT_EQ(seen[0].second, "evil.example|198.51.100.8");
  EXPECT_EQ(seen[1].first, core::IndicatorType::kIpSrc);
  EXPECT_EQ(seen[1].second, "2001:db8::1");
  // A callback error stops the scan and is returned.
  int calls = 0;
  Status stopped = store->ForEachLiveAttribute([&](const LiveAttribute&) {
    ++calls;
    return InternalError("stop");
  });
  EXPECT_EQ(stopped.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 1);
}

TEST(StoreSightingTest, AddsByValueAndById) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "x",
                            {Attr("ip-dst", "198.51.100.7", U(101)),
                             Attr("domain|ip", "evil.example|198.51.100.7", U(102))});
  e.attributes[0].sighting_count = 3;  // e.g. IPsum's list count
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  auto by_value = store->AddSighting(testing::SightingOfValues({"198.51.100.7"}, "ids"));
  ASSERT_TRUE(by_value.ok()) << by_value.status().ToString();
  EXPECT_EQ(by_value->size(), 2u);  // both halves are searched, as MISP
  auto fp = store->AddSighting(testing::SightingOf(U(101), 1));
  ASSERT_TRUE(fp.ok());
  ASSERT_TRUE(store->AddSighting(testing::SightingOf(U(101), 2, 100)).ok());
  ASSERT_TRUE(store->AddSighting(testing::SightingOf(U(101), 2, 200)).ok());
  auto attribute = store->GetAttribute(U(101));
  ASSERT_TRUE(attribute.ok());
  ASSERT_TRUE(attribute->sightings.has_value());
  EXPECT_EQ(attribute->sightings->sightings, 4u);  // 3 imported + 1
  EXPECT_EQ(attribute->sightings->false_positives, 1u);
  EXPECT_EQ(attribute->sightings->expirations, 1u);  // the second replaced the first
  EXPECT_EQ(store->AddSighting(testing::SightingOfValues({"203.0.113.1"})).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store->AddSighting(testing::SightingOf(U(101), 3)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(StoreAuditTest, KeepsValuesOnlyWhenAsked) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    AuditEntry entry;
    entry.action = "attributes/restSearch";
    entry.endpoint = "/attributes/restSearch";
    entry.value_count = 2;
    entry.status = 200;
    entry.values = {"198.51.100.7", "evil.example"};
    ASSERT_TRUE(store->AppendAudit(entry).ok());
    auto log = store->ListAudit(0);
    ASSERT_TRUE(log.ok());
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].value_count, 2u);
    EXPECT_TRUE((*log)[0].values.empty());
  }
  StoreOptions options;
  options.audit_values = true;
  auto store = OpenOrDie(dir.path(), options);
  AuditEntry entry;
  entry.action = "grid/match";
  entry.values = {"a", "b"};
  ASSERT_TRUE(store->AppendAudit(entry).ok());
  auto log = store->ListAudit(1);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].action, "grid/match");
  EXPECT_EQ((*log)[0].values, (std::vector<std::string>{"a", "b"}));
}

// A query on `path` through its own connection: the first column of the first row as text
// ("" when there is none).
std::string QueryFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

AuditEntry Audited(const std::string& action) {
  AuditEntry entry;
  entry.action = action;
  entry.endpoint = "/" + action;
  entry.value_count = 3;
  entry.status = 200;
  return entry;
}

// The audit rows live in audit.db; the store file has no audit table, and a reader of the
// store file does not see it change when a request is audited (its page cache stays valid).
TEST(StoreAuditTest, LivesInItsOwnFileSoThatAuditingLeavesTheStoreFileAlone) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event e = MakeEvent(U(1), "data", {Attr("ip-dst", "198.51.100.7")});
  ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());

  sqlite3* reader = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2((dir.path() + "/iocgrid.db").c_str(), &reader, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  auto data_version = [&] {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(reader, "PRAGMA data_version", -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  };
  const int64_t before = data_version();
  auto id = store->AppendAudit(Audited("grid/match"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(store->UpdateAudit(*id, 200, 4, {}).ok());
  EXPECT_EQ(data_version(), before) << "auditing changed the store file";
  // A data write does change it (the check above can fail).
  core::Event e2 = MakeEvent(U(2), "more", {Attr("ip-dst", "198.51.100.8")});
  ASSERT_TRUE(store->ImportEvents({&e2, 1}, {}).ok());
  EXPECT_NE(data_version(), before);
  sqlite3_close(reader);

  EXPECT_EQ(QueryFile(dir.path() + "/iocgrid.db",
                      "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_log'"),
            "0");
  EXPECT_EQ(QueryFile(dir.path() + "/audit.db",
                      "SELECT action || ' ' || value_count FROM "
                      "audit_log"),
            "grid/match 4");
  EXPECT_EQ(QueryFile(dir.path() + "/audit.db", "PRAGMA journal_mode"), "wal");
  auto log = store->ListAudit(0);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].id, *id);
  EXPECT_EQ((*log)[0].status, 200);
  EXPECT_EQ((*log)[0].value_count, 4u);
}

// A store of schema version 5 kept its audit rows in iocgrid.db: opening it moves them to
// audit.db with their ids, once, also when an earlier open copied them and stopped before the
// store's migration dropped them.
TEST(StoreAuditTest, RowsOfAnOlderStoreMoveToTheAuditFileOnce) {
  TempDir dir;
  OpenOrDie(dir.path()).reset();
  const std::string old_table =
      "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, user_id INTEGER "
      "NOT NULL DEFAULT 0, key_id INTEGER NOT NULL DEFAULT 0, org_id INTEGER NOT NULL DEFAULT "
      "0, action TEXT NOT NULL, endpoint TEXT NOT NULL DEFAULT '', remote TEXT NOT NULL DEFAULT "
      "'', value_count INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL DEFAULT 0, "
      "query_values TEXT); CREATE INDEX audit_log_time ON audit_log(time); INSERT INTO "
      "audit_log (id, time, action, value_count, status) VALUES (7, 1700000000, "
      "'events/index', 0, 200), (9, 1700000060, 'grid/match', 1000, 200); PRAGMA user_version "
      "= 5;";
  // The audit file from the first open is removed: a version-5 store had none.
  std::filesystem::remove(dir.path() + "/audit.db");
  RawSql(dir.path(), old_table);
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    auto log = store->ListAudit(0);
    ASSERT_TRUE(log.ok());
    ASSERT_EQ(log->size(), 2u);
    EXPECT_EQ((*log)[0].id, 9);
    EXPECT_EQ((*log)[0].value_count, 1000u);
    EXPECT_EQ((*log)[1].id, 7);
    EXPECT_EQ((*log)[1].action, "events/index");
    // New rows follow the moved ones.
    auto id = store->AppendAudit(Audited("attributes/restSearch"));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, 10);
  }
  EXPECT_EQ(QueryFile(dir.path() + "/iocgrid.db",
                      "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_log'"),
            "0");
  EXPECT_EQ(QueryFile(dir.path() + "/iocgrid.db", "PRAGMA user_version"),
            std::to_string(Store::kSchemaVersion));

  // An open that copied the rows and stopped before the migration: the store file holds them
  // again at version 5, the audit file holds them already. Nothing is doubled.
  RawSql(dir.path(), old_table);
  auto store = OpenOrDie(dir.path());
  auto log = store->ListAudit(0);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].id, 10);
  EXPECT_EQ((*log)[2].id, 7);
}

TEST(StoreAuditTest, RefusesAnAuditFileOfAnotherApplicationOrNewerSchema) {
  TempDir dir;
  OpenOrDie(dir.path()).reset();
  auto tamper = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() + "/audit.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  };
  tamper("PRAGMA user_version = 99");
  auto newer = Store::Open(dir.path(), {});
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(newer.status().message().find("audit log"), std::string_view::npos)
      << newer.status().message();
  tamper("PRAGMA user_version = 1; PRAGMA application_id = 7");
  auto foreign = Store::Open(dir.path(), {});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), StatusCode::kInvalidArgument);
  // Not a database at all.
  std::filesystem::remove(dir.path() + "/audit.db-wal");
  std::filesystem::remove(dir.path() + "/audit.db-shm");
  std::ofstream(dir.path() + "/audit.db", std::ios::trunc) << std::string(4096, 'x');
  auto garbage = Store::Open(dir.path(), {});
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("audit log"), std::string_view::npos)
      << garbage.status().message();
}

// A foreign file named iocgrid.db is refused without an audit file made beside it.
TEST(StoreAuditTest, NoAuditFileBesideARefusedStoreFile) {
  TempDir dir;
  RawSql(dir.path(), "CREATE TABLE unrelated (x INTEGER)");
  ASSERT_FALSE(Store::Open(dir.path(), {}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/audit.db"));
}

TEST(StoreStatsTest, CountsByTypeTimeSpanAndLastImport) {
  TempDir dir;
  StoreOptions options;
  options.clock = Clock::Manual(1'800'000'000);
  auto store = OpenOrDie(dir.path(), options);
  auto empty = store->Stats();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->last_import, 0);
  std::vector<core::Event> events = {
      MakeEvent(U(1), "a", {Attr("ip-dst", "198.51.100.7"), Attr("domain", "evil.example")}),
      MakeEvent(U(2), "b", {Attr("ip-dst", "198.51.100.8")})};
  events[0].date = "2019-05-01";
  events[0].attributes[0].timestamp = 1'500'000'000;
  ASSERT_TRUE(store->ImportEvents(events, {}).ok());
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 2u);
  EXPECT_EQ(stats->attributes, 3u);
  ASSERT_EQ(stats->attributes_by_type.size(), 2u);
  EXPECT_EQ(stats->attributes_by_type[0], std::make_pair(std::string("domain"), uint64_t{1}));
  EXPECT_EQ(stats->attributes_by_type[1], std::make_pair(std::string("ip-dst"), uint64_t{2}));
  EXPECT_EQ(stats->first_timestamp, 1'500'000'000);
  EXPECT_EQ(stats->last_timestamp, 1706700000);
  EXPECT_EQ(stats->first_date, "2019-05-01");
  EXPECT_EQ(stats->last_date, "2024-01-31");
  EXPECT_EQ(stats->last_import, 1'800'000'000);
}

TEST(StoreConcurrencyTest, ReadersProceedWhileWriterHoldsTransaction) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  core::Event base = MakeEvent(U(1), "base", {Attr("ip-dst", "198.51.100.7", U(101))});
  ASSERT_TRUE(store->ImportEvents({&base, 1}, {}).ok());

  std::atomic<bool> in_transaction{false};
  std::atomic<bool> release{false};
  core::Event big = MakeEvent(U(2), "big", ManyIps(20'000, 2, true));
  ImportOptions options;
  options.progress = [&](uint64_t) {
    in_transaction = true;
    while (!release) std::this_thread::yield();
  };
  std::thread writer([&] { ASSERT_TRUE(store->ImportEvents({&big, 1}, options).ok()); });
  while (!in_transaction) std::this_thread::yield();
  // The writer is parked inside its transaction; reads still answer, from the last commit.
  auto event = store->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(store->GetEvent(U(2), {}).status().code(), StatusCode::kNotFound);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->attributes, 1u);
  release = true;
  writer.join();
  EXPECT_EQ(store->Stats()->attributes, 20'001u);
}

TEST(StoreConcurrencyTest, ParallelWritersAndReadersStayConsistent) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 10; ++i) {
        core::Event e = MakeEvent(U(i, 100 + t), "t", ManyIps(50, (100 + t) * 1000 + i, true));
        EXPECT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
        EXPECT_TRUE(store->Stats().ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 40u);
  EXPECT_EQ(stats->attributes, 2000u);
}

// Real shared data: the MISP feed sample through the ingest loader, imported twice.
TEST(StoreRealDataTest, ImportsMispFeedSampleIdempotently) {
  const std::string feed = std::string(IOCGRID_SHARED_DATA_DIR) + "/G_misp/feed_circl_osint_sample";
  ASSERT_TRUE(std::filesystem::exists(feed)) << "the shared data (../shared/data) is required";
  auto files = ingest::ExpandPaths({feed});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<core::Event> events;
  for (const std::string& file : *files) {
    auto loaded = ingest::LoadFile(
        file, {}, [&](core::Event&& e) { events.push_back(std::move(e)); },
        [](const ingest::LoadIssue&) {});
    ASSERT_TRUE(loaded.ok()) << file << ": " << loaded.status().ToString();
  }
  ASSERT_FALSE(events.empty());
  uint64_t attributes = 0;
  for (const core::Event& e : events) attributes += e.attributes.size();

  TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto first = store->ImportEvents(events, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->events_added, events.size());
  EXPECT_EQ(first->attributes_added + first->duplicates, attributes);
  auto second = store->ImportEvents(events, {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->events_added, 0u);
  EXPECT_EQ(second->events_unchanged, events.size());
  EXPECT_EQ(second->attributes_added, 0u);
  EXPECT_EQ(second->attributes_updated, 0u);
  EXPECT_EQ(second->attributes_unchanged, first->attributes_added);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, events.size());
  EXPECT_EQ(stats->attributes, first->attributes_added);
  for (const core::Event& e : events) {
    if (e.uuid.empty()) continue;
    auto stored = store->GetEvent(e.uuid, {});
    ASSERT_TRUE(stored.ok()) << e.uuid;
    EXPECT_EQ(stored->event.info, e.info);
  }
  EXPECT_TRUE(store->CheckIntegrity().ok());
}

}  // namespace
}  // namespace iocgrid::store
