// Private search's storage (issue 10): the key, the stale-attribute queue the triggers fill once
// a key exists (from imports, edits, deletes, tag changes, event changes), tags and labels with
// their generations and removals, paged listings, bucket ranges, labels, the daily quota, key
// rotation's states and re-tag cursor, and the forward migrations of version-1 and -2 stores.
#include <sqlite3.h>

#include <algorithm>
#include <set>
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

std::unique_ptr<Store> Open(const std::string& dir) {
  auto store = Store::Open(dir, StoreOptions{});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<PsiDirty> Dirty(Store& store) {
  auto rows = store.ReadPsiDirty(INT64_MAX, 1000000);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? *rows : std::vector<PsiDirty>{};
}

std::set<int64_t> DirtyIds(Store& store) {
  std::set<int64_t> ids;
  for (const PsiDirty& d : Dirty(store)) ids.insert(d.attribute_id);
  return ids;
}

int64_t AttributeId(Store& store, const std::string& uuid) {
  auto a = store.GetAttribute(uuid);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? a->id : 0;
}

PsiTagRow Row(std::string key, std::string tag, std::string label, bool below = false) {
  PsiTagRow r;
  r.key = std::move(key);
  r.tag = std::move(tag);
  r.prf = std::string(32, 'p');
  r.label = std::move(label);
  r.below = below;
  return r;
}

class PsiStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Open(dir_.path());
    core::Event e =
        MakeEvent(U(1), "first",
                  {Attr("ip-dst", "198.51.100.7", U(11)), Attr("domain", "evil.example", U(12))});
    ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(PsiStoreTest, NothingIsQueuedBeforeAKeyExists) {
  EXPECT_EQ(*store_->PsiDirtyHighWater(), 0);
  EXPECT_FALSE(store_->GetPsiKey()->has_value());
}

TEST_F(PsiStoreTest, CreatingTheKeyQueuesEveryAttributeOnce) {
  const uint64_t before = *store_->DataGeneration();
  auto key = store_->CreatePsiKey(std::string(32, 'k'));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->epoch, 1u);
  EXPECT_GT(*store_->DataGeneration(), before);
  auto stored = store_->GetPsiKey();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->secret, std::string(32, 'k'));
  EXPECT_EQ(DirtyIds(*store_),
            (std::set<int64_t>{AttributeId(*store_, U(11)), AttributeId(*store_, U(12))}));
  EXPECT_EQ(store_->CreatePsiKey(std::string(32, 'x')).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(PsiStoreTest, TriggersQueueChangedAttributesWithTheirOldValues) {
  ASSERT_TRUE(store_->CreatePsiKey(std::string(32, 'k')).ok());
  ASSERT_TRUE(store_->ApplyPsiChanges(1, {}, *store_->PsiDirtyHighWater()).ok());
  ASSERT_TRUE(Dirty(*store_).empty());

  // A new attribute: no old value.
  core::Event e = MakeEvent(U(2), "second", {Attr("url", "http://evil.example/x", U(21))});
  ASSERT_TRUE(store_->ImportEvents({&e, 1}, {}).ok());
  std::vector<PsiDirty> rows = Dirty(*store_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].attribute_id, AttributeId(*store_, U(21)));
  EXPECT_TRUE(rows[0].old_value.empty());
  ASSERT_TRUE(store_->ApplyPsiChanges(1, {}, rows.back().seq).ok());

  // A changed value: the old one is kept (its keys must lose this attribute).
  core::Event changed =
      MakeEvent(U(1), "first",
                {Attr("ip-dst", "198.51.100.8", U(11)), Attr("domain", "evil.example", U(12))});
  ASSERT_TRUE(store_->ImportEvents({&changed, 1}, {}).ok());
  rows = Dirty(*store_);
  ASSERT_FALSE(rows.empty());
  auto old = std::find_if(rows.begin(), rows.end(),
                          [](const PsiDirty& d) { return d.old_value == "198.51.100.7"; });
  ASSERT_NE(old, rows.end());
  EXPECT_EQ(old->old_type, "ip-dst");
  ASSERT_TRUE(store_->ApplyPsiChanges(1, {}, rows.back().seq).ok());

  // The event's disclosed fields: every attribute of it.
  core::Event renamed = changed;
  renamed.info = "renamed";
  ASSERT_TRUE(store_->ImportEvents({&renamed, 1}, {}).ok());
  EXPECT_EQ(DirtyIds(*store_),
            (std::set<int64_t>{AttributeId(*store_, U(11)), AttributeId(*store_, U(12))}));
  ASSERT_TRUE(store_->ApplyPsiChanges(1, {}, *store_->PsiDirtyHighWater()).ok());

  // A hard delete cascades to the attributes, each with its old value.
  const int64_t url_id = AttributeId(*store_, U(21));
  ASSERT_TRUE(store_->DeleteEvent(U(2), /*hard=*/true).ok());
  rows = Dirty(*store_);
  ASSERT_FALSE(rows.empty());
  EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [&](const PsiDirty& d) {
    return d.attribute_id == url_id && d.old_value == "http://evil.example/x";
  }));
}

TEST_F(PsiStoreTest, UnchangedReimportQueuesNothing) {
  ASSERT_TRUE(store_->CreatePsiKey(std::string(32, 'k')).ok());
  ASSERT_TRUE(store_->ApplyPsiChanges(1, {}, *store_->PsiDirtyHighWater()).ok());
  core::Event same =
      MakeEvent(U(1), "first",
                {Attr("ip-dst", "198.51.100.7", U(11)), Attr("domain", "evil.example", U(12))});
  ASSERT_TRUE(store_->ImportEvents({&same, 1}, {}).ok());
  EXPECT_TRUE(Dirty(*store_).empty());
}

TEST_F(PsiStoreTest, ChangesGetGenerationsRemovalsAndPagedListings) {
  ASSERT_TRUE(store_
                  ->ApplyPsiChanges(1,
                                    std::vector<PsiTagRow>{Row("a", "tag-aaaaaaaa", "L1"),
                                                           Row("b", "tag-bbbbbbbb", "L2"),
                                                           Row("c", "tag-cccccccc", "L3",
                                                               /*below=*/true)},
                                    0)
                  .ok());
  ASSERT_TRUE(store_
                  ->ApplyPsiChanges(1,
                                    std::vector<PsiTagRow>{Row("a", "tag-aaaaaaaa", "L1b"),
                                                           [] {
                                                             PsiTagRow r;
                                                             r.key = "b";
                                                             r.live = false;
                                                             return r;
                                                           }()},
                                    0)
                  .ok());
  auto stats = store_->GetPsiStats(1);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->generation, 2u);
  EXPECT_EQ(stats->tags, 1u);
  EXPECT_EQ(stats->below_tags, 1u);

  // A full download sees the live value tags only; a sync from generation 1 sees a's new label
  // and b's removal.
  auto full = store_->ListPsiTags(1, false, true, 0, 0, 10);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->size(), 1u);
  EXPECT_EQ((*full)[0].tag, "tag-aaaaaaaa");
  auto since = store_->ListPsiTags(1, false, false, 1, INT64_MAX, 10);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 2u);
  EXPECT_EQ((*since)[0].generation, 2);
  std::set<std::pair<std::string, bool>> seen;
  for (const auto& r : *since) seen.emplace(r.tag, r.live);
  EXPECT_EQ(seen, (std::set<std::pair<std::string, bool>>{{"tag-aaaaaaaa", true},
                                                          {"tag-bbbbbbbb", false}}));
  // Paging: one row at a time, resuming after the last row's cursor.
  auto first = store_->ListPsiTags(1, false, false, 0, 0, 1);
  ASSERT_TRUE(first.ok() && first->size() == 1);
  auto second = store_->ListPsiTags(1, false, false, (*first)[0].generation, (*first)[0].id, 1);
  ASSERT_TRUE(second.ok() && second->size() == 1);
  EXPECT_NE((*second)[0].tag, (*first)[0].tag);

  auto labels =
      store_->GetPsiLabels(1, std::vector<std::string>{"tag-aaaaaaaa", "tag-bbbbbbbb", "unknown"});
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ((*labels)[0].second, "L1b");
  auto rows = store_->GetPsiTags(1, std::vector<std::string>{"a", "b", "zz"});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
}

TEST_F(PsiStoreTest, BucketRangesAndTheirCap) {
  std::vector<PsiTagRow> rows;
  for (int i = 0; i < 256; ++i) {
    std::string tag(12, '\0');
    tag[0] = static_cast<char>(i);
    rows.push_back(Row("k" + std::to_string(i), tag, "L"));
  }
  ASSERT_TRUE(store_->ApplyPsiChanges(1, rows, 0).ok());
  std::string lo(1, '\x10');
  std::string hi(1, '\x20');
  auto tags = store_->PsiTagsInRanges(
      1, false, std::vector<std::pair<std::string, std::string>>{{lo, hi}, {"\xf0", ""}}, 100);
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_EQ(tags->size(), 16u + 16u);
  EXPECT_EQ(store_
                ->PsiTagsInRanges(1, false,
                                  std::vector<std::pair<std::string, std::string>>{{"", ""}}, 100)
                .status()
                .code(),
            StatusCode::kResourceExhausted);
}

TEST_F(PsiStoreTest, QuotaIsPerOrganisationAndDayAndAllOrNothing) {
  EXPECT_EQ(*store_->ConsumePsiQuota(1, 100, 60, 100), 40u);
  auto over = store_->ConsumePsiQuota(1, 100, 41, 100);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("40 left"), std::string_view::npos);
  EXPECT_EQ(*store_->PsiQuotaUsed(1, 100), 60u);
  EXPECT_EQ(*store_->ConsumePsiQuota(2, 100, 100, 100), 0u);
  EXPECT_EQ(*store_->ConsumePsiQuota(1, 101, 100, 100), 0u);
}

TEST_F(PsiStoreTest, ARotationPreparesSwitchesAndDropsTheOldKey) {
  // Nothing to rotate before the first key.
  EXPECT_EQ(store_->BeginPsiKeyRotation(std::string(32, 'n')).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreatePsiKey(std::string(32, 'k')).ok());
  ASSERT_TRUE(
      store_
          ->ApplyPsiChanges(1,
                            std::vector<PsiTagRow>{Row("a", "TA1", "L"), Row("b", "TB1", "L"),
                                                   Row("c", "TC1", "L")},
                            0)
          .ok());
  PsiTagRow gone = Row("b", "", "");
  gone.live = false;
  ASSERT_TRUE(store_->ApplyPsiChanges(1, std::vector<PsiTagRow>{gone}, 0).ok());
  const uint64_t data_before = *store_->DataGeneration();
  auto next = store_->BeginPsiKeyRotation(std::string(32, 'n'));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->epoch, 2u);
  EXPECT_EQ(*store_->DataGeneration(), data_before);  // no index rebuild for a rotation
  EXPECT_EQ(store_->BeginPsiKeyRotation(std::string(32, 'm')).status().code(),
            StatusCode::kAlreadyExists);
  auto keys = store_->GetPsiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_TRUE(keys->active && keys->preparing && !keys->retired);
  EXPECT_EQ(keys->active->epoch, 1u);
  EXPECT_EQ(keys->preparing->secret, std::string(32, 'n'));
  EXPECT_EQ(keys->preparing->retag_after, "");
  EXPECT_EQ((*store_->GetPsiKey())->epoch, 1u);  // the active one

  // The re-tag walks the live keys of the active epoch in order, from its cursor.
  EXPECT_EQ(*store_->ListPsiKeys(1, "", 10), (std::vector<std::string>{"a", "c"}));
  ASSERT_TRUE(
      store_
          ->ApplyPsiChanges(
              std::vector<PsiEpochRows>{{2, std::vector<PsiTagRow>{Row("a", "TA2", "L")}}}, 0)
          .ok());
  ASSERT_TRUE(store_->SetPsiRetagCursor(2, "a").ok());
  EXPECT_EQ(store_->GetPsiKeys()->preparing->retag_after, "a");
  EXPECT_EQ(*store_->ListPsiKeys(1, "a", 10), (std::vector<std::string>{"c"}));
  EXPECT_EQ(store_->SetPsiRetagCursor(1, "a").code(), StatusCode::kNotFound);

  // One transaction may carry both epochs (a change during the rotation).
  const std::vector<PsiTagRow> one{Row("c", "TC1", "L")};
  const std::vector<PsiTagRow> two{Row("c", "TC2", "L")};
  ASSERT_TRUE(store_->ApplyPsiChanges(std::vector<PsiEpochRows>{{1, one}, {2, two}}, 0).ok());
  EXPECT_EQ(store_->GetPsiStats(2)->tags, 2u);

  ASSERT_TRUE(store_->ActivatePsiKey(2).ok());
  keys = store_->GetPsiKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(keys->active && keys->retired && !keys->preparing);
  EXPECT_EQ(keys->active->epoch, 2u);
  EXPECT_EQ(keys->retired->epoch, 1u);
  EXPECT_EQ(store_->ActivatePsiKey(2).code(), StatusCode::kNotFound);
  // The next rotation waits for the old key to go.
  EXPECT_EQ(store_->BeginPsiKeyRotation(std::string(32, 'm')).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(store_->DropPsiKey(2).code(), StatusCode::kNotFound);  // active: not droppable
  ASSERT_TRUE(store_->DropPsiKey(1).ok());
  EXPECT_EQ(store_->GetPsiStats(1)->tags, 0u);
  EXPECT_TRUE(store_->GetPsiLabels(1, std::vector<std::string>{"TA1", "TC1"})->empty());
  EXPECT_EQ(store_->GetPsiLabels(2, std::vector<std::string>{"TA2", "TC2"})->size(), 2u);
  EXPECT_FALSE(store_->GetPsiKeys()->retired.has_value());
  EXPECT_EQ(store_->BeginPsiKeyRotation(std::string(32, 'm'))->epoch, 3u);
}

TEST(PsiStoreMigrationTest, VersionTwoKeysBecomeActive) {
  TempDir dir;
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->CreatePsiKey(std::string(32, 'k')).ok());
  }
  // Take the file back to version 2 (before key states).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/iocgrid.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   ("DROP TABLE mirror_events; DROP TABLE mirror_state; " +
                    std::string(testing::kUndoSchemaV5) +
                    "ALTER TABLE psi_keys DROP COLUMN state; ALTER TABLE psi_keys DROP COLUMN "
                    "changed; ALTER TABLE psi_keys DROP COLUMN retag_after; PRAGMA "
                    "user_version = 2;")
                       .c_str(),
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto store = Open(dir.path());
  ASSERT_NE(store, nullptr);
  auto keys = store->GetPsiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_TRUE(keys->active.has_value());
  EXPECT_EQ(keys->active->epoch, 1u);
  EXPECT_EQ(keys->active->changed, keys->active->created);
  EXPECT_EQ(store->BeginPsiKeyRotation(std::string(32, 'n'))->epoch, 2u);
}

TEST(PsiStoreMigrationTest, VersionOneStoreMigratesAndStartsQueueing) {
  TempDir dir;
  {
    auto store = Open(dir.path());
    core::Event e = MakeEvent(U(1), "old", {Attr("ip-dst", "198.51.100.7", U(11))});
    ASSERT_TRUE(store->ImportEvents({&e, 1}, {}).ok());
  }
  // Take the file back to version 1 (what an older iocgrid wrote).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/iocgrid.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   (std::string(testing::kUndoSchemaV5) +
                    "DROP TRIGGER psi_attribute_insert; DROP TRIGGER psi_attribute_update; "
                    "DROP TRIGGER psi_attribute_delete; DROP TRIGGER psi_event_update; "
                    "DROP TRIGGER psi_attribute_tag_insert; "
                    "DROP TRIGGER psi_attribute_tag_delete; DROP TRIGGER psi_event_tag_insert; "
                    "DROP TRIGGER psi_event_tag_delete; DROP TABLE psi_keys; "
                    "DROP TABLE psi_tags; DROP TABLE psi_dirty; DROP TABLE psi_quota; "
                    "DROP TABLE mirror_events; DROP TABLE mirror_state; PRAGMA user_version = 1;")
                       .c_str(),
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto store = Open(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->CheckIntegrity().ok());
  ASSERT_TRUE(store->CreatePsiKey(std::string(32, 'k')).ok());
  EXPECT_EQ(DirtyIds(*store).size(), 1u);
}

}  // namespace
}  // namespace iocgrid::store
