// The index change log (issue 14; docs/index.md "Live writes"): every write that changes what
// the match index holds logs the attributes concerned, whichever way it is made (import, add,
// edit, soft and hard deletes of attributes and events), and nothing else does; reads are
// distinct and bounded; trimming leaves a gap later reads report; sequence numbers are never
// reused; the version-4 → 5 migration keeps the private-search queue.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace iocgrid::store {
namespace {

using testing::Attr;
using testing::MakeEvent;
using testing::TempDir;
using testing::U;

class IndexChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.path(), StoreOptions{});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  int64_t High() {
    auto high = store_->IndexChangeHighWater();
    EXPECT_TRUE(high.ok()) << high.status().ToString();
    return high.ok() ? *high : -1;
  }
  // The distinct attribute ids changed after `after`.
  std::vector<int64_t> Since(int64_t after) {
    auto changes = store_->ReadIndexChanges(after, 1000);
    EXPECT_TRUE(changes.ok()) << changes.status().ToString();
    if (!changes.ok()) return {};
    EXPECT_FALSE(changes->overflow);
    EXPECT_FALSE(changes->gap);
    return changes->attribute_ids;
  }
  int64_t IdOf(const std::string& uuid) {
    auto a = store_->GetAttribute(uuid);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->id : -1;
  }
  std::vector<int64_t> Live(std::vector<int64_t> ids) {
    std::vector<int64_t> out;
    EXPECT_TRUE(store_
                    ->ForEachLiveAttributeIn(ids,
                                             [&](const LiveAttribute& a) {
                                               out.push_back(a.id);
                                               return Status();
                                             })
                    .ok());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(IndexChangesTest, EveryIndexedChangeIsLoggedAndNothingElse) {
  EXPECT_EQ(High(), 0);
  core::Event e = MakeEvent(
      U(1), "first", {Attr("ip-dst", "198.51.100.7", U(11)), Attr("domain", "c2.example", U(12))});
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  const int64_t ip = IdOf(U(11));
  const int64_t domain = IdOf(U(12));
  EXPECT_EQ(Since(0), (std::vector<int64_t>{ip, domain}));
  int64_t mark = High();
  EXPECT_EQ(mark, 1) << "an import's new attributes are one run of ids, one change";

  // The same event again: nothing the index holds changed.
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  EXPECT_TRUE(Since(mark).empty());
  // A tag or a comment only: not logged either.
  e.attributes[0].comment = "seen in the wild";
  e.attributes[0].tags.push_back("tlp:green");
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  EXPECT_TRUE(Since(mark).empty());
  // A new value for an attribute: logged once, however often it changes.
  e.attributes[1].indicator.value = "c3.example";
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  e.attributes[1].indicator.value = "c4.example";
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  EXPECT_EQ(Since(mark), std::vector<int64_t>{domain});
  mark = High();

  // Attributes added to the event, then one deleted softly, one hard.
  core::Attribute added = Attr("url", "http://c2.example/x", U(13));
  auto ids = store_->AddAttributes(U(1), {&added, 1}, {});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(Since(mark), *ids);
  mark = High();
  ASSERT_TRUE(store_->DeleteAttribute(U(13), /*hard=*/false).ok());
  EXPECT_EQ(Since(mark), *ids);
  EXPECT_TRUE(Live(*ids).empty());
  mark = High();
  ASSERT_TRUE(store_->DeleteAttribute(std::to_string(ip), /*hard=*/true).ok());
  EXPECT_EQ(Since(mark), std::vector<int64_t>{ip});
  mark = High();

  // An event deleted softly logs all its attributes; so does a hard delete (its rows go with
  // it), deleted ones included.
  core::Event second = MakeEvent(
      U(2), "second",
      {Attr("md5", std::string(32, 'a'), U(21)), Attr("sha1", std::string(40, 'b'), U(22))});
  ASSERT_TRUE(store_->ImportEvents({&second, 1}, {}).ok());
  const std::vector<int64_t> both{IdOf(U(21)), IdOf(U(22))};
  EXPECT_EQ(Live(both), both);
  mark = High();
  ASSERT_TRUE(store_->DeleteEvent(U(2), /*hard=*/false).ok());
  EXPECT_EQ(Since(mark), both);
  EXPECT_TRUE(Live(both).empty()) << "attributes of a deleted event are not live";
  mark = High();
  ASSERT_TRUE(store_->DeleteEvent(U(1), /*hard=*/true).ok());
  EXPECT_EQ(Since(mark), (std::vector<int64_t>{domain, ids->front()}));
}

TEST_F(IndexChangesTest, ReadsAreBoundedAndTrimmingLeavesAGap) {
  // Five imports of ten attributes: five changes of ten ids each.
  for (uint32_t k = 0; k < 5; ++k) {
    core::Event e = MakeEvent(U(k + 1), "batch", testing::ManyIps(10, k + 1, true));
    for (size_t i = 0; i < e.attributes.size(); ++i) {
      e.attributes[i].indicator.value = "10." + std::to_string(k) + ".0." + std::to_string(i);
    }
    ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  }
  EXPECT_EQ(High(), 5);
  // At most 25 ids: two whole changes; a change is never split.
  auto some = store_->ReadIndexChanges(0, 25);
  ASSERT_TRUE(some.ok());
  EXPECT_TRUE(some->overflow);
  EXPECT_EQ(some->attribute_ids.size(), 20u);
  EXPECT_EQ(some->upto, 2);
  auto rest = store_->ReadIndexChanges(some->upto, 1000);
  ASSERT_TRUE(rest.ok());
  EXPECT_FALSE(rest->overflow);
  EXPECT_EQ(rest->attribute_ids.size(), 30u);
  EXPECT_EQ(rest->upto, 5);
  // One change larger than the limit: nothing read, overflow (the caller rebuilds).
  auto none = store_->ReadIndexChanges(0, 5);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->overflow);
  EXPECT_TRUE(none->attribute_ids.empty());

  // Trimmed to 3: reading from before it is a gap, from it on is not.
  ASSERT_TRUE(store_->TrimIndexChanges(3).ok());
  auto gap = store_->ReadIndexChanges(1, 1000);
  ASSERT_TRUE(gap.ok());
  EXPECT_TRUE(gap->gap);
  EXPECT_EQ(Since(3).size(), 20u);
  // Trimming everything never lets a number be given again.
  const int64_t high = High();
  ASSERT_TRUE(store_->TrimIndexChanges(high).ok());
  EXPECT_TRUE(Since(high).empty());
  core::Event more = MakeEvent(U(9), "more", {Attr("domain", "after-trim.example", U(31, 7))});
  ASSERT_TRUE(store_->ImportEvents({&more, 1}, {}).ok());
  EXPECT_EQ(High(), high + 1);
  EXPECT_EQ(Since(high), std::vector<int64_t>{IdOf(U(31, 7))});
  // An older trim bound does not lower the recorded one.
  ASSERT_TRUE(store_->TrimIndexChanges(1).ok());
  auto still = store_->ReadIndexChanges(2, 1000);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->gap);
}

TEST_F(IndexChangesTest, ARolledBackImportLogsNothing) {
  core::Event good = MakeEvent(U(1), "good", {Attr("domain", "good.example", U(11))});
  // The second event repeats an attribute uuid of the first: the whole import is refused.
  core::Event bad = MakeEvent(
      U(2), "bad", {Attr("domain", "bad.example", U(21)), Attr("domain", "dup.example", U(11))});
  const core::Event both[] = {good, bad};
  EXPECT_FALSE(store_->ImportEvents(both, {}).ok());
  EXPECT_EQ(High(), 0);
  ASSERT_TRUE(store_->ImportEvents({&good, 1}, {}).ok());
  EXPECT_EQ(Since(0), std::vector<int64_t>{IdOf(U(11))});
}

TEST(IndexChangesMigrationTest, AVersionFourStoreKeepsItsPrivateSearchQueue) {
  TempDir dir;
  {
    auto store = Store::Open(dir.path(), StoreOptions{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreatePsiKey(std::string(32, 'k')).ok());
    core::Event e = MakeEvent(U(1), "old", {Attr("ip-dst", "198.51.100.7", U(11))});
    ASSERT_TRUE((*store)->ImportEvents({&e, 1}, {}).ok());
  }
  // Back to version 4: no change log, and psi_dirty without AUTOINCREMENT.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/iocgrid.db").c_str(), &db), SQLITE_OK);
  const std::string undo =
      std::string(testing::kUndoSchemaV5) +
      "PRAGMA legacy_alter_table = ON; CREATE TABLE old_dirty (seq INTEGER PRIMARY KEY, "
      "attribute_id INTEGER NOT NULL, old_type TEXT, old_value TEXT); INSERT INTO old_dirty "
      "SELECT * FROM psi_dirty; DROP TABLE psi_dirty; ALTER TABLE old_dirty RENAME TO "
      "psi_dirty; PRAGMA user_version = 4;";
  ASSERT_EQ(sqlite3_exec(db, undo.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto store = Store::Open(dir.path(), StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->CheckIntegrity().ok());
  auto dirty = (*store)->ReadPsiDirty(INT64_MAX, 100);
  ASSERT_TRUE(dirty.ok());
  EXPECT_EQ(dirty->size(), 1u) << "the queued change survived the migration";
  // The triggers write to the rebuilt queue and the new log.
  core::Event e = MakeEvent(U(2), "new", {Attr("domain", "new.example", U(21))});
  ASSERT_TRUE((*store)->ImportEvents({&e, 1}, {}).ok());
  EXPECT_EQ((*store)->ReadPsiDirty(INT64_MAX, 100)->size(), 2u);
  auto changes = (*store)->ReadIndexChanges(0, 100);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->attribute_ids.size(), 1u);
}

}  // namespace
}  // namespace iocgrid::store
