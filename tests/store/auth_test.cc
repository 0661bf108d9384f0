// Organisations, users and API keys.
#include <sqlite3.h>

#include <cctype>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace iocgrid::store {
namespace {

using testing::TempDir;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.clock = clock_;  // a copy: it shares clock_'s time
    auto opened = Store::Open(dir_.path(), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  TempDir dir_;
  Clock clock_ = Clock::Manual(1'700'000'000);
  std::unique_ptr<Store> store_;
};

TEST_F(AuthTest, CreatedKeyIs40AlphanumericsAndAuthenticates) {
  auto user = store_->EnsureUser("admin@acme.example", "ACME", Role::kAdmin);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  auto key = store_->CreateKey(user->id, testing::KeyWith("portal"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_EQ(key->key.size(), 40u);
  for (char c : key->key) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  auto auth = store_->AuthenticateKey(key->key);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->key_id, key->key_id);
  EXPECT_EQ(auth->user.email, "admin@acme.example");
  EXPECT_EQ(auth->user.role, Role::kAdmin);
  EXPECT_EQ(auth->org.name, "ACME");
  EXPECT_EQ(auth->org.uuid.size(), 36u);
}

TEST_F(AuthTest, WrongMalformedRevokedAndExpiredKeysAreDenied) {
  auto user = store_->EnsureUser("u@acme.example", "ACME", Role::kUser);
  ASSERT_TRUE(user.ok());
  auto key = store_->CreateKey(user->id, testing::KeyWith("", clock_.Now() + 100));
  ASSERT_TRUE(key.ok());
  std::string wrong = key->key;
  wrong[20] = wrong[20] == 'a' ? 'b' : 'a';  // same first/last 4: found by lookup, hash differs
  EXPECT_EQ(store_->AuthenticateKey(wrong).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->AuthenticateKey("short").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->AuthenticateKey(std::string(39, 'a') + "!").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->AuthenticateKey(key->key).ok());
  clock_.Advance(100);
  auto expired = store_->AuthenticateKey(key->key);
  EXPECT_EQ(expired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(expired.status().message(), "Auth key is expired");

  auto second = store_->CreateKey(user->id, {});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(store_->AuthenticateKey(second->key).ok());
  ASSERT_TRUE(store_->RevokeKey(second->key_id).ok());
  ASSERT_TRUE(store_->RevokeKey(second->key_id).ok());  // idempotent
  EXPECT_EQ(store_->AuthenticateKey(second->key).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->RevokeKey(424242).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateKey(424242, {}).status().code(), StatusCode::kNotFound);
}

TEST_F(AuthTest, ListKeysShowsHintsNeverTheKey) {
  auto user = store_->EnsureUser("u@acme.example", "ACME", Role::kUser);
  ASSERT_TRUE(user.ok());
  auto key = store_->CreateKey(user->id, testing::KeyWith("cli"));
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(store_->AuthenticateKey(key->key).ok());
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  const ApiKeyInfo& info = (*keys)[0];
  EXPECT_EQ(info.key_start, key->key.substr(0, 4));
  EXPECT_EQ(info.key_end, key->key.substr(36));
  EXPECT_EQ(info.org_name, "ACME");
  EXPECT_EQ(info.comment, "cli");
  EXPECT_EQ(info.last_used, clock_.Now());
  EXPECT_EQ(info.revoked, 0);
}

TEST_F(AuthTest, ClearKeyNeverReachesTheDatabaseFile) {
  auto user = store_->EnsureUser("u@acme.example", "ACME", Role::kUser);
  ASSERT_TRUE(user.ok());
  auto key = store_->CreateKey(user->id, {});
  ASSERT_TRUE(key.ok());
  const std::string path = store_->path();
  store_.reset();  // closes and checkpoints the WAL into the main file
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM api_keys WHERE key_hash = ?1 OR "
                               "CAST(key_hash AS TEXT) LIKE '%' || ?2 || '%' OR comment = ?2",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, key->key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, key->key.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(AuthTest, EnsureUserAndOrganisationAreIdempotent) {
  auto a = store_->EnsureOrganisation("ACME");
  auto b = store_->EnsureOrganisation("acme");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  auto by_uuid = store_->GetOrganisation(a->uuid);
  ASSERT_TRUE(by_uuid.ok());
  EXPECT_EQ(by_uuid->name, "ACME");
  auto user1 = store_->EnsureUser("u@acme.example", "ACME", Role::kUser);
  auto user2 = store_->EnsureUser("u@acme.example", "ACME", Role::kAdmin);
  ASSERT_TRUE(user1.ok() && user2.ok());
  EXPECT_EQ(user1->id, user2->id);
  EXPECT_EQ(user2->role, Role::kAdmin);
  EXPECT_EQ(store_->GetOrganisation("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EnsureUser("", "ACME", Role::kUser).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iocgrid::store
