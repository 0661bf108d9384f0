// Restart without a rebuild (issue 14): a node keeps its built base index in DATA/index.snapshot
// and a restart serves it with the writes logged since (by any process, also while it was down)
// as a delta; a damaged file, a change log trimmed past the file, or more changes than a delta
// takes mean a rebuild, and the answers are the store's either way.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "index/match_index.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

class KeptIndexTest : public NodeFixture {
 protected:
  // Two attributes, merged into the base that the node keeps (until then they are a delta).
  void Seed() {
    AddEvent({{"info", "kept"},
              {"distribution", 3},
              {"Attribute",
               {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}},
                {{"type", "domain"}, {"value", "kept-c2.example"}}}}});
    EXPECT_EQ(DeltaEntries(), 2u);
    ASSERT_TRUE(node_->MergeIndex().ok());
    EXPECT_EQ(DeltaEntries(), 0u);
  }
  // The answer's hit line (the done line after it carries the time taken).
  std::string Match(const std::string& query) {
    auto r = Call("POST", "/grid/v1/match", json::array({query}).dump(), user_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.substr(0, r.body.find('\n'));
  }
  bool FromFile() { return Json(Call("GET", "/grid/v1/stats", "", user_key_))["index_from_file"]; }
  size_t DeltaEntries() {
    return Json(Call("GET", "/grid/v1/stats", "", user_key_))["index_delta"]["entries"];
  }
};

TEST_F(KeptIndexTest, ARestartServesTheKeptIndex) {
  Seed();
  EXPECT_FALSE(FromFile());
  const std::string before = Match("198.51.100.9");
  ASSERT_NE(before.find("\"relation\":\"in-range\""), std::string::npos) << before;
  StartNode(NodeOptions{});  // the same data directory; closing kept the index
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/index.snapshot"));
  EXPECT_TRUE(FromFile());
  EXPECT_EQ(Match("198.51.100.9"), before);
  EXPECT_NE(Match("a.kept-c2.example").find("\"relation\":\"subdomain\""), std::string::npos);
  // A write after the restart lands in a delta beside the kept base, and is found.
  AddEvent({{"info", "after"}, {"Attribute", {{{"type", "domain"}, {"value", "after.example"}}}}});
  EXPECT_NE(Match("after.example").find("\"relation\":\"exact\""), std::string::npos);
  EXPECT_TRUE(FromFile());
  EXPECT_EQ(DeltaEntries(), 1u);
}

TEST_F(KeptIndexTest, AWriteWhileDownIsADeltaOnTheKeptBase) {
  Seed();
  server_.reset();
  node_.reset();
  // `node import` while the node is down: logged, so the kept base serves with it as a delta.
  ImportElsewhere("imported while down", "domain", "while-down.example");
  StartNode(NodeOptions{});
  EXPECT_TRUE(FromFile());
  EXPECT_EQ(DeltaEntries(), 1u);
  EXPECT_NE(Match("while-down.example").find("\"relation\":\"exact\""), std::string::npos);
  EXPECT_NE(Match("198.51.100.9").find("\"relation\":\"in-range\""), std::string::npos);

  // More changes than a delta takes: a rebuild.
  server_.reset();
  node_.reset();
  ImportElsewhere("another", "domain", "second.example");
  ImportElsewhere("and another", "domain", "third.example");
  NodeOptions small;
  small.index_delta_max = 2;
  StartNode(small);
  EXPECT_FALSE(FromFile());
  EXPECT_EQ(DeltaEntries(), 0u);
  EXPECT_NE(Match("third.example").find("\"relation\":\"exact\""), std::string::npos);
}

TEST_F(KeptIndexTest, ALogTrimmedPastTheFileOrADamagedFileMeansARebuild) {
  Seed();
  // Kept at this base; then a node that keeps no file merges and trims the log past it.
  server_.reset();
  node_.reset();
  NodeOptions unkept;
  unkept.persist_index = false;
  StartNode(unkept);
  AddEvent({{"info", "later"}, {"Attribute", {{{"type", "domain"}, {"value", "later.example"}}}}});
  ASSERT_TRUE(node_->MergeIndex().ok());
  StartNode(NodeOptions{});
  EXPECT_FALSE(FromFile()) << "the log no longer reaches back to the kept file";
  EXPECT_NE(Match("later.example").find("\"relation\":\"exact\""), std::string::npos);

  // Damaged on disk: refused, rebuilt, answers unchanged.
  server_.reset();
  node_.reset();
  {
    std::fstream f(dir_ + "/index.snapshot", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  StartNode(NodeOptions{});
  EXPECT_FALSE(FromFile());
  EXPECT_NE(Match("198.51.100.9").find("\"relation\":\"in-range\""), std::string::npos);
  EXPECT_NE(Match("later.example").find("\"relation\":\"exact\""), std::string::npos);
  // ... and the rebuild kept a good file again.
  StartNode(NodeOptions{});
  EXPECT_TRUE(FromFile());
}

// The kept file's metadata is input read at start: a valid file whose metadata is hostile (wrong
// types, missing keys, numbers out of range, bad prefix-length sets, deep nesting, invalid UTF-8,
// another private-search state) is refused with a rebuild, never trusted or crashed on.
TEST_F(KeptIndexTest, HostileMetadataInAValidFileMeansARebuild) {
  Seed();
  server_.reset();
  node_.reset();
  std::string meta;
  std::vector<int64_t> ids;
  auto kept = index::MatchIndex::LoadFromFile(dir_ + "/index.snapshot", &meta, &ids);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  const json good = json::parse(meta);
  ASSERT_TRUE(good.contains("base_seq")) << meta;
  auto with = [&](const std::string& key, const json& value) {
    json m = good;
    m[key] = value;
    return m.dump();
  };
  auto without = [&](const std::string& key) {
    json m = good;
    m.erase(key);
    return m.dump();
  };
  // A 20-digit sequence number (past int64), the other fields as kept.
  std::string huge_seq = with("base_seq", 0);
  const std::string zero = "\"base_seq\":0";
  ASSERT_NE(huge_seq.find(zero), std::string::npos) << huge_seq;
  huge_seq.replace(huge_seq.find(zero), zero.size(), "\"base_seq\":99999999999999999999");
  const std::vector<std::string> hostile = {
      with("base_seq", "7"),
      with("base_seq", -1),
      with("base_seq", 1.5),
      huge_seq,
      with("psi", "false"),
      with("psi", !good["psi"].get<bool>()),
      with("v4", "012"),
      with("v4", std::string(33, '2')),
      with("v6", nullptr),
      without("base_seq"),
      without("v6"),
      "[]",
      "not json",
      std::string(30'000, '[') + std::string(30'000, ']'),
      "{\"base_seq\":\"\xff\xfe\"}",
      "",
  };
  for (const std::string& bad : hostile) {
    ASSERT_TRUE((*kept)->SaveToFile(dir_ + "/index.snapshot", bad, ids).ok());
    StartNode(NodeOptions{});
    EXPECT_FALSE(FromFile()) << bad.substr(0, 80);
    EXPECT_NE(Match("198.51.100.9").find("\"relation\":\"in-range\""), std::string::npos)
        << bad.substr(0, 80);
    server_.reset();
    node_.reset();
  }
  // The metadata it keeps itself is read back.
  StartNode(NodeOptions{});
  EXPECT_TRUE(FromFile());
}

TEST_F(KeptIndexTest, KeepingCanBeTurnedOff) {
  NodeOptions options;
  options.persist_index = false;
  StartNode(options);  // the first node kept its index on the way out
  std::filesystem::remove(dir_ + "/index.snapshot");
  Seed();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/index.snapshot"));
}

}  // namespace
}  // namespace iocgrid::node
