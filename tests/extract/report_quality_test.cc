// Precision and recall on the shared report corpus (issue 5): the expected lists in
// tests/data/extract/reports/ were written by reading each report of ../shared/data/F_reports/.
// Prints the per-report table that docs/extract.md and the README quote.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "extract/extractor.h"

namespace iocgrid::extract {
namespace {

std::set<std::string> ReadExpected(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line);
  }
  return out;
}

TEST(ReportQualityTest, PrecisionAndRecallAtLeast97PercentOverall) {
  auto extractor = Extractor::Create(ExtractOptions{});
  ASSERT_TRUE(extractor.ok()) << extractor.status().ToString();
  const std::string reports = IOCGRID_SHARED_DATA_DIR "/F_reports";
  const std::string expected_dir = IOCGRID_TEST_DATA_DIR "/extract/reports";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(expected_dir)) {
    if (e.path().extension() == ".expected") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 10u);
  size_t tp_all = 0, fp_all = 0, fn_all = 0;
  std::printf("| report | expected | found | precision | recall |\n|---|---:|---:|---:|---:|\n");
  for (const auto& f : files) {
    std::string name = f.stem().string();  // "<report>.expected" -> "<report>"
    auto text = LoadDocument(reports + "/" + name);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    std::set<std::string> got;
    for (const auto& x : (*extractor)->Extract(*text)) {
      got.insert(std::string(core::TypeName(x.indicator.type)) + "\t" + x.indicator.value);
    }
    std::set<std::string> want = ReadExpected(f.string());
    size_t tp = 0;
    for (const auto& g : got) {
      if (want.count(g)) {
        ++tp;
      } else {
        std::printf("  FP %s: %s\n", name.c_str(), g.c_str());
      }
    }
    for (const auto& w : want) {
      if (!got.count(w)) std::printf("  FN %s: %s\n", name.c_str(), w.c_str());
    }
    tp_all += tp;
    fp_all += got.size() - tp;
    fn_all += want.size() - tp;
    double p = got.empty() ? 1.0 : static_cast<double>(tp) / static_cast<double>(got.size());
    double r = want.empty() ? 1.0 : static_cast<double>(tp) / static_cast<double>(want.size());
    std::printf("| %s | %zu | %zu | %.3f | %.3f |\n", name.c_str(), want.size(), got.size(), p, r);
  }
  double precision = static_cast<double>(tp_all) / static_cast<double>(tp_all + fp_all);
  double recall = static_cast<double>(tp_all) / static_cast<double>(tp_all + fn_all);
  std::printf("| **overall** | %zu | %zu | %.3f | %.3f |\n", tp_all + fn_all, tp_all + fp_all,
              precision, recall);
  EXPECT_GE(precision, 0.97);
  EXPECT_GE(recall, 0.97);
}

}  // namespace
}  // namespace iocgrid::extract
