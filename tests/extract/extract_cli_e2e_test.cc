// Runs the real `iocgrid extract` binary (issue 5) and checks its NDJSON output and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Output {
  int exit_code = -1;
  std::string out;
};

Output RunIocgrid(const std::string& args) {
  std::string cmd = std::string(IOCGRID_BINARY) + " " + args + " 2>/dev/null";
  Output o;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) o.out.append(buf, n);
  int status = ::pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

TEST(ExtractCliTest, WritesNdjsonForAReport) {
  Output o = RunIocgrid("extract --format json " IOCGRID_SHARED_DATA_DIR
                        "/F_reports/unit42_Conti_IOCs.txt");
  ASSERT_EQ(o.exit_code, 0) << o.out;
  size_t lines = 0;
  bool saw_defanged_ip = false, saw_domain = false;
  size_t start = 0;
  while (start < o.out.size()) {
    size_t nl = o.out.find('\n', start);
    std::string line = o.out.substr(start, nl - start);
    start = nl == std::string::npos ? o.out.size() : nl + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    for (const char* key : {"type", "value", "defanged", "line", "column", "benign_reason"}) {
      EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    }
    ++lines;
    if (j["type"] == "ip-dst" && j["value"] == "185.178.209.193") {
      saw_defanged_ip = true;
      EXPECT_EQ(j["defanged"], true);
      EXPECT_EQ(j["line"], 1);
      EXPECT_EQ(j["column"], 1);
    }
    if (j["type"] == "domain" && j["value"] == "bestarg.com") saw_domain = true;
  }
  EXPECT_EQ(lines, 54u);
  EXPECT_TRUE(saw_defanged_ip);
  EXPECT_TRUE(saw_domain);
}

TEST(ExtractCliTest, KeepBenignShowsTheReason) {
  Output o = RunIocgrid("extract --format json --keep-benign --types ip " IOCGRID_SHARED_DATA_DIR
                        "/F_reports/unit42_Emotet_thread_hijacking_email.txt");
  ASSERT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("\"benign_reason\":\"reserved-ip:private\""), std::string::npos) << o.out;
}

TEST(ExtractCliTest, ExitCodes) {
  EXPECT_EQ(RunIocgrid("extract " IOCGRID_TEST_DATA_DIR "/extract/reports/.nonexistent").exit_code,
            2);
  EXPECT_EQ(RunIocgrid("extract --format xml -").exit_code, 2);
  EXPECT_EQ(RunIocgrid("extract --types nope -").exit_code, 2);
  EXPECT_EQ(RunIocgrid("extract - < /dev/null").exit_code, 1);
}

}  // namespace
