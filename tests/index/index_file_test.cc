// The persisted index (MatchIndex::SaveToFile / LoadFromFile, issue 14): a loaded index answers
// exactly what the built one answers, for every relation, with the meta and record map kept;
// a missing file is kNotFound; a torn, damaged, foreign or out-of-shape file is kDataLoss and
// never answers.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/indicator.h"
#include "index/match_index.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::index {
namespace {

std::vector<core::Indicator> Parse(const std::vector<std::string>& raw) {
  std::vector<core::Indicator> out;
  for (const std::string& s : raw) {
    auto p = core::GuessIndicator(s);
    EXPECT_TRUE(p.ok()) << s;
    if (p.ok()) out.push_back(*p);
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stored_ =
        Parse({"198.51.100.0/24", "203.0.112.0/22", "192.0.2.77", "2001:db8:40::/42", "2001:db8::1",
               "evil.example", "www.phish.example", "http://bad.example/gate.php",
               "http://192.0.2.200/drop", "d41d8cd98f00b204e9800998ecf8427e", "user@evil.example"});
    // Random addresses and networks, so that the IPv4 directory and the exact table fill.
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
      const uint32_t a = rng();
      std::string ip = std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
                       std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
      if (i % 3 == 0) ip += "/" + std::to_string(16 + i % 17);
      auto p = core::GuessIndicator(ip);
      if (p.ok()) stored_.push_back(*p);
    }
    queries_ = stored_;
    for (const core::Indicator& q :
         Parse({"198.51.100.7", "198.51.0.0/16", "a.evil.example", "x.www.phish.example",
                "http://evil.example/x", "bad.example", "192.0.2.200", "10.0.0.0/8",
                "2001:db8:40:1::9", "0.0.0.0/0", "unrelated.example"})) {
      queries_.push_back(q);
    }
    MatchIndex::Builder builder;
    for (size_t i = 0; i < stored_.size(); ++i) {
      ASSERT_TRUE(builder.Add(stored_[i], static_cast<RecordId>(i)).ok());
      records_.push_back(1000 + static_cast<int64_t>(i));
    }
    built_ = builder.Build();
    path_ = dir_.path() + "/index.snapshot";
    ASSERT_TRUE(built_->SaveToFile(path_, "meta bytes", records_).ok());
  }

  test::TempDir dir_;
  std::vector<core::Indicator> stored_;
  std::vector<core::Indicator> queries_;
  std::vector<int64_t> records_;
  std::shared_ptr<const MatchIndex> built_;
  std::string path_;
};

TEST_F(IndexFileTest, ALoadedIndexAnswersWhatTheBuiltOneAnswers) {
  std::string meta;
  std::vector<int64_t> records;
  auto loaded = MatchIndex::LoadFromFile(path_, &meta, &records);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(meta, "meta bytes");
  EXPECT_EQ(records, records_);
  EXPECT_EQ((*loaded)->size(), built_->size());
  EXPECT_EQ((*loaded)->ValueBytes(), built_->ValueBytes());
  const std::vector<Hit> want = built_->MatchAll(queries_);
  EXPECT_GT(want.size(), stored_.size());
  EXPECT_EQ((*loaded)->MatchAll(queries_), want);
  for (uint32_t e = 0; e < built_->size(); e += 97) {
    EXPECT_EQ((*loaded)->entry_value(e), built_->entry_value(e));
    EXPECT_EQ((*loaded)->entry_type(e), built_->entry_type(e));
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(IndexFileTest, AnEmptyIndexRoundTrips) {
  auto empty = MatchIndex::Builder().Build();
  ASSERT_TRUE(empty->SaveToFile(path_, "", {}).ok());
  std::string meta;
  std::vector<int64_t> records;
  auto loaded = MatchIndex::LoadFromFile(path_, &meta, &records);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 0u);
  EXPECT_TRUE((*loaded)->MatchAll(queries_).empty());
}

TEST_F(IndexFileTest, MissingTornDamagedAndForeignFilesAreRefused) {
  std::string meta;
  std::vector<int64_t> records;
  EXPECT_EQ(MatchIndex::LoadFromFile(dir_.path() + "/none", &meta, &records).status().code(),
            StatusCode::kNotFound);
  const std::string good = ReadAll(path_);
  ASSERT_GT(good.size(), 10000u);
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"empty", ""},
      {"torn in the header", good.substr(0, 20)},
      {"torn in the middle", good.substr(0, good.size() / 2)},
      {"torn before the trailer", good.substr(0, good.size() - 9)},
      {"bytes after the end", good + "x"},
      {"another file", std::string(4096, 'x')},
  };
  // One flipped byte anywhere is caught: by the checksum, or earlier by a shape check.
  for (size_t at : {size_t{9}, size_t{40}, good.size() / 3, good.size() / 2, good.size() - 20}) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    cases.push_back({"a flipped byte", flipped});
  }
  for (const Case& c : cases) {
    WriteAll(path_, c.bytes);
    auto loaded = MatchIndex::LoadFromFile(path_, &meta, &records);
    EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss)
        << c.name << ": " << loaded.status().ToString();
  }
  std::filesystem::create_directory(dir_.path() + "/dir.snapshot");
  EXPECT_EQ(
      MatchIndex::LoadFromFile(dir_.path() + "/dir.snapshot", &meta, &records).status().code(),
      StatusCode::kDataLoss);
}

TEST_F(IndexFileTest, AnUnwritablePlaceIsAnErrorAndKeepsTheOldFile) {
  const std::string before = ReadAll(path_);
  auto st = built_->SaveToFile(dir_.path() + "/missing/dir/index.snapshot", "", records_);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(ReadAll(path_), before);
}

}  // namespace
}  // namespace iocgrid::index
