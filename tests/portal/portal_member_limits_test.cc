// Members that misbehave, as real loopback servers: one answers a gigabyte, one accepts the
// connection and never answers. The portal's search must end with a clear status for each,
// holding no more than the per-answer cap in memory.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "portal/portal.h"
#include "tests/common/raw_http.h"
#include "tests/common/test_database.h"
#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

long MaxRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

TEST(PortalMemberLimitsTest, AGigabyteAnswerAndAHungMemberEndClearly) {
  std::string root = TempDir();
  // 1 GB of NDJSON-looking bytes, produced lazily.
  auto sent = std::make_shared<std::atomic<size_t>>(0);
  auto flood = net::HttpServer::Start(net::ServerOptions{}, [sent](net::Request&) {
    net::Response r;
    r.content_type = "application/x-ndjson";
    auto chunk = std::make_shared<std::string>(1 << 20, ' ');
    (*chunk)[chunk->size() - 1] = '\n';
    r.stream = [sent, chunk](std::string* out) {
      *out = *chunk;
      *sent += chunk->size();
      return sent->load() < (size_t{1} << 30);
    };
    return r;
  });
  ASSERT_TRUE(flood.ok());
  // A member that accepts connections (the kernel's backlog) and never answers.
  uint16_t hung_port = 0;
  int hung = testutil::ListenLoopback(&hung_port, 16);
  ASSERT_GE(hung, 0);

  if (std::string why = test::PostgresMissing(); !why.empty()) GTEST_SKIP() << why;
  PortalConfig config;
  config.data = root + "/portal";
  config.database = test::TestDatabase();
  config.search_timeout = 20s;
  config.federation.retries = 0;
  auto member = [](std::string name, std::string url) {
    federation::MemberConfig m;
    m.name = std::move(name);
    m.kind = federation::MemberKind::kIocgrid;
    m.url = std::move(url);
    m.key = std::string(40, 'k');
    m.timeout = 3s;
    return m;
  };
  config.members.push_back(member("flood", "http://127.0.0.1:" + std::to_string((*flood)->port())));
  config.members.push_back(member("hung", "http://127.0.0.1:" + std::to_string(hung_port)));
  auto p = Portal::Open(config);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::string key = *(*p)->store().CreateUserKey("alice", Role::kAnalyst);
  Portal* raw = p->get();
  auto server = net::HttpServer::Start(net::ServerOptions{},
                                       [raw](net::Request& r) { return raw->Handle(r); });
  ASSERT_TRUE(server.ok());
  long rss_before = MaxRssMb();

  net::ClientRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/api/v1/searches";
  req.headers = {{"Authorization", key}, {"Content-Type", "application/json"}};
  req.body = R"({"indicators":["198.51.100.7","evil.example"]})";
  auto created = net::Fetch(req);
  ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
  std::string id = json::parse(created->body)["id"];
  json d;
  for (int i = 0; i < 600; ++i) {
    net::ClientRequest get;
    get.url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/api/v1/searches/" + id;
    get.headers = {{"Authorization", key}};
    d = json::parse(net::Fetch(get)->body);
    if (d["status"] != "running") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(d["status"], "done") << d.dump();
  std::map<std::string, json> members;
  for (const auto& m : d["members"]) members[m["member"]] = m;
  EXPECT_EQ(members["flood"]["status"], "failed");
  EXPECT_NE(members["flood"]["error"].get<std::string>().find("answer larger than"),
            std::string::npos)
      << members["flood"].dump();
  EXPECT_NE(members["hung"]["status"], "done");
  EXPECT_FALSE(members["hung"]["error"].get<std::string>().empty());
  // The portal held at most about one capped answer, never the gigabyte.
  EXPECT_LT(sent->load(), size_t{1} << 30);
  EXPECT_LT(MaxRssMb() - rss_before, 400) << "max RSS grew from " << rss_before << " MB";
  server->reset();
  p->reset();
  close(hung);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace iocgrid::portal
