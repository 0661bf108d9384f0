#include "net/router.h"

#include <gtest/gtest.h>

namespace iocgrid::net {
namespace {

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

Router TestRouter() {
  Router router;
  router.Add({"GET", "HEAD"}, "/events/view/{id}", [](Request& r) {
    Response resp;
    resp.body = "event " + r.params["id"];
    return resp;
  });
  router.Add({"POST"}, "/attributes/restSearch", [](Request&) {
    Response resp;
    resp.body = "search";
    return resp;
  });
  return router;
}

TEST(RouterTest, FillsPathParameters) {
  Router router = TestRouter();
  Request r = Make("GET", "/events/view/42");
  EXPECT_EQ(router.Dispatch(r).body, "event 42");
}

TEST(RouterTest, IgnoresJsonSuffixAsMispDoes) {
  Router router = TestRouter();
  Request r = Make("POST", "/attributes/restSearch.json");
  EXPECT_EQ(router.Dispatch(r).body, "search");
  Request v = Make("GET", "/events/view/7.json");
  EXPECT_EQ(router.Dispatch(v).body, "event 7");
}

TEST(RouterTest, UnknownPathIs404WithMispBody) {
  Router router = TestRouter();
  Request r = Make("GET", "/nope");
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.body, R"({"name":"Not Found","message":"Not Found","url":"/nope"})");
}

TEST(RouterTest, WrongMethodIs405) {
  Router router = TestRouter();
  Request r = Make("GET", "/attributes/restSearch");
  EXPECT_EQ(router.Dispatch(r).status, 405);
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsInvalidOnes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%zz", false), "%zz");
}

TEST(RequestTest, QueryParamDecodes) {
  Request r;
  r.query = "a=1&value=evil%2Eexample&flag";
  EXPECT_EQ(r.QueryParam("value"), "evil.example");
  EXPECT_EQ(r.QueryParam("flag"), "");
  EXPECT_EQ(r.QueryParam("missing"), "");
}

}  // namespace
}  // namespace iocgrid::net
