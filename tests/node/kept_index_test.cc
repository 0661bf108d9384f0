// Restart without a rebuild (issue 14): a node keeps its built index in DATA/index.snapshot and
// a restart serves it when it reflects the store; a write by another process while it was down,
// or a damaged file, means a rebuild, and the answers are the store's either way.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

class KeptIndexTest : public NodeFixture {
 protected:
  void Seed() {
    AddEvent({{"info", "kept"},
              {"distribution", 3},
              {"Attribute",
               {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}},
                {{"type", "domain"}, {"value", "kept-c2.example"}}}}});
  }
  // The answer's hit line (the done line after it carries the time taken).
  std::string Match(const std::string& query) {
    auto r = Call("POST", "/grid/v1/match", json::array({query}).dump(), user_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.substr(0, r.body.find('\n'));
  }
  bool FromFile() { return Json(Call("GET", "/grid/v1/stats", "", user_key_))["index_from_file"]; }
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
  // A write after the restart rebuilds as always, and is found.
  AddEvent({{"info", "after"}, {"Attribute", {{{"type", "domain"}, {"value", "after.example"}}}}});
  EXPECT_NE(Match("after.example").find("\"relation\":\"exact\""), std::string::npos);
  EXPECT_FALSE(FromFile());
}

TEST_F(KeptIndexTest, AWriteWhileDownOrADamagedFileMeansARebuild) {
  Seed();
  server_.reset();
  node_.reset();
  // `node import` while the node is down: the kept index is for older data.
  ImportElsewhere("imported while down", "domain", "while-down.example");
  StartNode(NodeOptions{});
  EXPECT_FALSE(FromFile());
  EXPECT_NE(Match("while-down.example").find("\"relation\":\"exact\""), std::string::npos);

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
  EXPECT_NE(Match("while-down.example").find("\"relation\":\"exact\""), std::string::npos);
  // ... and the rebuild kept a good file again.
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
