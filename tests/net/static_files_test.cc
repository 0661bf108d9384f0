// The one static-file server, against a real directory tree with secrets beside it and
// symlinks out of it, over real HTTP where the server's own decoding matters.
#include "net/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "net/http_server.h"
#include "tests/common/raw_http.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::net {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::iocgrid::test::MakeTempDir("iocgrid-static");
    fs::create_directories(dir_ / "web" / "css");
    Write(dir_ / "web" / "index.html", "<h1>iocgrid</h1>");
    Write(dir_ / "web" / "app.js", "console.log(1)");
    Write(dir_ / "web" / "css" / "style.css", "body{}");
    Write(dir_ / "web" / "notes.bin", "binary");
    Write(dir_ / "secret.toml", "key = \"member-secret\"");
    fs::create_symlink(dir_ / "secret.toml", dir_ / "web" / "link.html");
    fs::create_symlink("/etc", dir_ / "web" / "etc");
    auto files = StaticFiles::Open((dir_ / "web").string());
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    files_.emplace(std::move(*files));
    auto server =
        HttpServer::Start(ServerOptions{}, [this](Request& r) { return files_->Serve(r); });
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  static void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

  std::string Raw(const std::string& target) { return testutil::RawGet(server_->port(), target); }

  fs::path dir_;
  std::optional<StaticFiles> files_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(StaticFilesTest, ServesFilesUnderTheRootWithFixedTypes) {
  std::string r = Raw("/");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_NE(r.find("<h1>iocgrid</h1>"), std::string::npos);
  EXPECT_NE(r.find("text/html; charset=UTF-8"), std::string::npos);
  EXPECT_NE(r.find("X-Content-Type-Options: nosniff"), std::string::npos);
  r = Raw("/css/style.css");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_NE(r.find("text/css"), std::string::npos);
  r = Raw("/app.js");
  EXPECT_NE(r.find("text/javascript"), std::string::npos);
}

TEST_F(StaticFilesTest, NothingOutsideTheRootIsReachable) {
  for (const char* target : {"//etc/passwd",
                             "/%2Fetc%2Fpasswd",
                             "/%2fetc/passwd",
                             "/../secret.toml",
                             "/..%2Fsecret.toml",
                             "/%2E%2E/secret.toml",
                             "/css/../../secret.toml",
                             "/css/%2e%2e/%2e%2e/secret.toml",
                             "/%252e%252e/secret.toml",
                             "/link.html",
                             "/etc/passwd",
                             "/etc/hostname",
                             "/index.html%00.png",
                             "/..\\secret.toml",
                             "/css%5c..%5c..%5csecret.toml",
                             "/proc/self/environ",
                             "/./index.html",
                             "/css//style.css",
                             "/notes.bin",
                             "/css/",
                             "/css",
                             "///etc/passwd"}) {
    std::string r = Raw(target);
    EXPECT_NE(r.find("404 Not Found"), std::string::npos) << target << "\n" << r;
    EXPECT_EQ(r.find("member-secret"), std::string::npos) << target;
    EXPECT_EQ(r.find("root:"), std::string::npos) << target;
    EXPECT_NE(r.find("\"name\""), std::string::npos) << "MISP error body for " << target;
  }
}

TEST_F(StaticFilesTest, ResolveRefusesBeforeTouchingTheFileSystem) {
  EXPECT_FALSE(files_->Resolve("").ok());
  EXPECT_FALSE(files_->Resolve("index.html").ok());  // no leading slash
  EXPECT_FALSE(files_->Resolve(std::string("/index.html\0x", 13)).ok());
  EXPECT_TRUE(files_->Resolve("/index.html").ok());
  EXPECT_TRUE(files_->Resolve("/").ok());
}

TEST(StaticFilesOpenTest, MissingRootIsAnError) {
  auto files = StaticFiles::Open("/nonexistent/iocgrid/web");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace iocgrid::net
