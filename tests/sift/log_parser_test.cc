// Hand-made logs for every format (issue 9): the expected observables were written by reading
// the lines, not by running the parser.
#include "sift/log_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "sift/sifter.h"
#include "tests/sift/sift_test_util.h"

namespace iocgrid::sift {
namespace {

using testing::Dump;
using testing::Find;
using testing::Iso;

std::unique_ptr<Sifter> SiftText(std::string_view text, LogFormat format = LogFormat::kAuto,
                                 FieldMask fields = kAllFields) {
  SiftOptions o;
  o.format = format;
  o.fields = fields;
  auto s = std::make_unique<Sifter>(o);
  EXPECT_TRUE(s->AddContent("test.log", text).ok());
  return s;
}

TEST(DetectLogFormatTest, TellsEachFormatByItsFirstLine) {
  EXPECT_EQ(
      DetectLogFormat(R"(1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "x")"),
      LogFormat::kCombined);
  EXPECT_EQ(DetectLogFormat(R"(1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 1)"),
            LogFormat::kCommon);
  EXPECT_EQ(DetectLogFormat(R"({"timestamp":"x","event_type":"flow"})"), LogFormat::kEve);
  EXPECT_EQ(DetectLogFormat(R"({"transaction":{"client_ip":"1.2.3.4"}})"), LogFormat::kModsec);
  EXPECT_EQ(DetectLogFormat(R"({"remote_addr":"1.2.3.4"})"), LogFormat::kJson);
  EXPECT_EQ(DetectLogFormat("--d67af501-A--"), LogFormat::kModsec);
  EXPECT_EQ(DetectLogFormat("#separator \\x09"), LogFormat::kZeek);
  EXPECT_EQ(DetectLogFormat("time,src_ip,action"), LogFormat::kCsv);
  EXPECT_EQ(DetectLogFormat("hello"), LogFormat::kAuto);
}

TEST(CombinedParserTest, ClientsVhostsAbsoluteUrlsAndTimes) {
  auto s = SiftText(
      "45.33.32.156 - - [10/Oct/2023:13:55:36 +0200] \"GET /index.html HTTP/1.1\" 200 2326 \"-\" "
      "\"Mozilla/5.0\"\n"
      "45.33.32.156 - frank [10/Oct/2023:13:56:00 +0200] \"GET /admin HTTP/1.1\" 404 12 "
      "\"http://a.example/\" \"curl/8.0\"\n"
      "192.168.1.20 - - [10/Oct/2023:13:57:00 +0200] \"GET / HTTP/1.1\" 200 10 \"-\" \"-\"\n"
      "shop.iocgrid-test.net:443 185.220.101.4 - - [10/Oct/2023:14:00:00 +0000] \"GET "
      "http://Malicious-Site.co.uk/gate.php HTTP/1.1\" 200 10 \"-\" \"-\"\n"
      "this is not a log line\n"
      "2001:4860:4860::8888 - - [10/Oct/2023:14:01:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"a "
      "\\\"quoted\\\" agent\"\n");
  EXPECT_EQ(Dump(*s),
            "185.220.101.4 ip-src client 1 0\n"
            "2001:4860:4860::8888 ip-src client 1 0\n"
            "45.33.32.156 ip-src client 2 0\n"
            "http://malicious-site.co.uk/gate.php url url 1 0\n"
            "shop.iocgrid-test.net hostname host 1 0\n");
  const Observable* o = Find(*s, "45.33.32.156");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(Iso(o->first_seen), "2023-10-10T11:55:36Z");
  EXPECT_EQ(Iso(o->last_seen), "2023-10-10T11:56:00Z");
  EXPECT_EQ(s->counts().lines, 6u);
  EXPECT_EQ(s->counts().parsed, 5u);
  EXPECT_EQ(s->counts().malformed, 1u);
  EXPECT_EQ(s->counts().internal, 1u);  // 192.168.1.20
  ASSERT_EQ(s->malformed_examples().size(), 1u);
  EXPECT_EQ(s->malformed_examples()[0].line, 5u);
  EXPECT_EQ(s->malformed_examples()[0].reason, "no [timestamp]");
}

TEST(CombinedParserTest, MalformedReasons) {
  LineParser::Create(LogFormat::kCombined, {});
  auto p = LineParser::Create(LogFormat::kCombined, {});
  ParsedLine out;
  EXPECT_EQ(
      p->Parse("1.2.3.4 - - [99/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1", &out).message(),
      "bad timestamp");
  EXPECT_EQ(p->Parse("1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] 200 1", &out).message(),
            "no quoted request after the timestamp");
  EXPECT_EQ(p->Parse("1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1", &out).message(),
            "unterminated request");
  EXPECT_EQ(p->Parse("1.2.3.4 [10/Oct/2023:13:55:36 +0000] \"GET /\"", &out).message(),
            "expected 'host ident user [timestamp]'");
}

TEST(JsonAccessParserTest, NginxCaddyTraefikFieldNames) {
  auto s = SiftText(
      R"({"time_iso8601":"2024-03-01T10:00:00+01:00","remote_addr":"81.2.69.142","request":"GET /x HTTP/1.1","http_host":"www.iocgrid-test.net","status":200})"
      "\n"
      R"({"level":"info","ts":1709290800.123,"request":{"remote_ip":"81.2.69.160","host":"api.iocgrid-test.net","uri":"/v1","headers":{"Host":["api.iocgrid-test.net"]}}})"
      "\n"
      R"({"ClientHost":"2a02:c207::1","RequestHost":"traefik.iocgrid-test.net","StartUTC":"2024-03-01T12:00:00Z"})"
      "\n"
      R"({"remote_addr":"10.0.0.1"})"
      "\n"
      R"({"remote_addr": )"
      "\n",
      LogFormat::kAuto);
  EXPECT_EQ(Dump(*s),
            "2a02:c207::1 ip-src client 1 0\n"
            "81.2.69.142 ip-src client 1 0\n"
            "81.2.69.160 ip-src client 1 0\n"
            "api.iocgrid-test.net hostname host 1 0\n"
            "traefik.iocgrid-test.net hostname host 1 0\n"
            "www.iocgrid-test.net hostname host 1 0\n");
  EXPECT_EQ(Iso(Find(*s, "81.2.69.142")->first_seen), "2024-03-01T09:00:00Z");
  EXPECT_EQ(Iso(Find(*s, "81.2.69.160")->first_seen), "2024-03-01T11:00:00Z");
  EXPECT_EQ(Iso(Find(*s, "2a02:c207::1")->first_seen), "2024-03-01T12:00:00Z");
  EXPECT_EQ(s->counts().malformed, 1u);
  EXPECT_EQ(s->counts().internal, 1u);
}

TEST(JsonAccessParserTest, FieldNamesOverride) {
  SiftOptions o;
  ASSERT_TRUE(o.parser.json_fields.Override("client=peer.addr,time=when").ok());
  Sifter s(o);
  ASSERT_TRUE(
      s.AddContent(
           "x",
           R"({"peer":{"addr":"81.2.69.142:5555"},"remote_addr":"81.2.69.1","when":"2024-01-02"})")
          .ok());
  EXPECT_EQ(Dump(s), "81.2.69.142 ip-src client 1 0\n");
  EXPECT_EQ(Iso(s.observables()[0].first_seen), "2024-01-02T00:00:00Z");
  EXPECT_FALSE(o.parser.json_fields.Override("colour=x").ok());
  EXPECT_FALSE(o.parser.json_fields.Override("client").ok());
}

TEST(EveParserTest, EveryEventType) {
  auto s = SiftText(
      R"({"timestamp":"2024-12-17T19:17:54.565494-0500","event_type":"alert","src_ip":"185.100.87.41","src_port":4444,"dest_ip":"192.168.1.5","dest_port":80,"alert":{"signature":"ET SCAN"}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:00.000000-0500","event_type":"http","src_ip":"192.168.1.5","dest_ip":"93.184.216.34","http":{"hostname":"Evil-Host.iocgrid-test.net","url":"/payload.bin","http_user_agent":"x"}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:01.000000-0500","event_type":"dns","src_ip":"192.168.1.5","dest_ip":"192.168.1.1","dns":{"version":2,"type":"answer","rrname":"c2.iocgrid-test.net","answers":[{"rrname":"c2.iocgrid-test.net","rrtype":"A","rdata":"45.9.148.3"}],"grouped":{"A":["45.9.148.3"],"CNAME":["cdn.iocgrid-test.net"]}}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:02.000000-0500","event_type":"tls","src_ip":"192.168.1.5","dest_ip":"104.16.1.1","tls":{"sni":"secure.iocgrid-test.net","version":"TLS 1.3"}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:03.000000-0500","event_type":"fileinfo","src_ip":"93.184.216.34","dest_ip":"192.168.1.5","fileinfo":{"filename":"/payload.bin","md5":"44D88612FEA8A8F36DE82E1278ABB02F","sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","size":68}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:04.000000-0500","event_type":"dns","src_ip":"192.168.1.5","dest_ip":"192.168.1.1","dns":{"queries":[{"rrname":"v3.iocgrid-test.net"}]}})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:05.000000-0500","event_type":"alert","src_ip":"185.100.87.41","dest_ip":"192.168.1.5"})"
      "\n"
      R"({"timestamp":"2024-12-17T19:18:05.000000-0500","event_type":"stats","stats":{"uptime":1}})"
      "\n"
      "not json\n");
  EXPECT_EQ(Dump(*s),
            "104.16.1.1 ip-dst server 1 0\n"
            "185.100.87.41 ip-src client 2 2\n"
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f sha256 hash 1 0\n"
            "44d88612fea8a8f36de82e1278abb02f md5 hash 1 0\n"
            "45.9.148.3 ip-dst dns 1 0\n"
            "93.184.216.34 ip-dst server 2 0\n"
            "c2.iocgrid-test.net hostname dns 1 0\n"
            "cdn.iocgrid-test.net hostname dns 1 0\n"
            "evil-host.iocgrid-test.net hostname host 1 0\n"
            "http://evil-host.iocgrid-test.net/payload.bin url url 1 0\n"
            "secure.iocgrid-test.net hostname sni 1 0\n"
            "v3.iocgrid-test.net hostname dns 1 0\n");
  EXPECT_EQ(Iso(Find(*s, "185.100.87.41")->first_seen), "2024-12-18T00:17:54Z");
  EXPECT_EQ(Iso(Find(*s, "185.100.87.41")->last_seen), "2024-12-18T00:18:05Z");
  EXPECT_EQ(s->counts().alerts, 2u);
  EXPECT_EQ(s->counts().malformed, 1u);
}

TEST(EveParserTest, AlertSourceNamesTheAttackerWhenThePacketWentTheOtherWay) {
  auto s = SiftText(
      R"({"timestamp":"2024-12-17T19:17:54Z","event_type":"alert","src_ip":"93.184.216.34","dest_ip":"81.2.69.142","direction":"to_client","alert":{"signature":"ET RESPONSE","source":{"ip":"81.2.69.142","port":51000},"target":{"ip":"93.184.216.34","port":80}}})"
      "\n");
  EXPECT_EQ(Dump(*s),
            "81.2.69.142 ip-dst server 1 1\n"
            "93.184.216.34 ip-src client 1 0\n");
  EXPECT_NE(Find(*s, "81.2.69.142")->fields & FieldBit(Field::kClient), 0);
}

TEST(ModsecParserTest, NativeSectionsGiveClientHostAndOneAlertPerTransaction) {
  auto s = SiftText(
      "--d67af501-A--\n"
      "[07/Jun/2023:17:45:31 --0400] ZID6e1fM1aWVhJXbHOBE0gAAAAA 81.2.69.142 43614 192.168.210.12 "
      "80\n"
      "--d67af501-B--\n"
      "GET /?id=1' HTTP/1.1\n"
      "Host: shop.iocgrid-test.net\n"
      "\n"
      "--d67af501-H--\n"
      "Message: Warning. Pattern match at ARGS:id. [id \"942100\"]\n"
      "Message: Access denied with code 403. [id \"949110\"]\n"
      "--d67af501-Z--\n"
      "\n"
      "--5b8f3c50-A--\n"
      "[07/Jun/2023:17:46:00 --0400] ZID6e1fM1aWVhJXbHOBE0wAAAAA 81.2.69.160 43615 192.168.210.12 "
      "80\n"
      "--5b8f3c50-B--\n"
      "GET http://proxy.iocgrid-test.net/x HTTP/1.1\n"
      "--5b8f3c50-Z--\n");
  EXPECT_EQ(Dump(*s),
            "81.2.69.142 ip-src client 1 1\n"
            "81.2.69.160 ip-src client 1 0\n"
            "http://proxy.iocgrid-test.net/x url url 1 0\n"
            "shop.iocgrid-test.net hostname host 1 0\n");
  EXPECT_EQ(Iso(Find(*s, "81.2.69.142")->first_seen), "2023-06-07T21:45:31Z");
  EXPECT_EQ(Iso(Find(*s, "shop.iocgrid-test.net")->first_seen), "2023-06-07T21:45:31Z");
  EXPECT_EQ(s->counts().alerts, 1u);
  EXPECT_EQ(s->counts().malformed, 0u);
}

TEST(ModsecParserTest, JsonRecordsV3AndV2) {
  auto s = SiftText(
      R"({"transaction":{"client_ip":"81.2.69.142","time_stamp":"Wed Jun  7 17:45:31 2023","host_ip":"10.0.0.2","request":{"uri":"/","headers":{"Host":"shop.iocgrid-test.net"}},"messages":[{"message":"SQL Injection"}]}})"
      "\n"
      R"({"transaction":{"time":"07/Jun/2023:17:46:00 +0000","remote_address":"81.2.69.160"},"request":{"request_line":"GET / HTTP/1.1","headers":{"Host":"www.iocgrid-test.net"}},"audit_data":{}})"
      "\n",
      LogFormat::kModsec);
  EXPECT_EQ(Dump(*s),
            "81.2.69.142 ip-src client 1 1\n"
            "81.2.69.160 ip-src client 1 0\n"
            "shop.iocgrid-test.net hostname host 1 0\n"
            "www.iocgrid-test.net hostname host 1 0\n");
  EXPECT_EQ(Iso(Find(*s, "81.2.69.142")->first_seen), "2023-06-07T17:45:31Z");
  EXPECT_EQ(Iso(Find(*s, "81.2.69.160")->first_seen), "2023-06-07T17:46:00Z");
}

TEST(ZeekParserTest, ConnHttpDnsSslByFieldsHeader) {
  auto s = SiftText(
      "#separator \\x09\n"
      "#set_separator\t,\n"
      "#path\tdns\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n"
      "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n"
      "1591367999.305988\tC1\t192.168.4.76\t53\t8.8.4.4\t53\tc2.iocgrid-test.net\t45.9.148.3,alias."
      "iocgrid-test.net\n"
      "1591368000.0\tC2\t192.168.4.76\t53\t8.8.4.4\t53\t-\t-\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n"
      "1591368001.5\tC3\t81.2.69.142\t5555\t192.168.4.1\t80\twww.iocgrid-test.net\t/login\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\n"
      "1591368002\tC4\t192.168.4.76\t5555\t104.16.1.1\t443\tsecure.iocgrid-test.net\n"
      "bad\tts\n"
      "#close\t2020-06-05-14-00-00\n");
  EXPECT_EQ(Dump(*s),
            "104.16.1.1 ip-dst server 1 0\n"
            "45.9.148.3 ip-dst dns 1 0\n"
            "8.8.4.4 ip-dst server 2 0\n"
            "81.2.69.142 ip-src client 1 0\n"
            "alias.iocgrid-test.net hostname dns 1 0\n"
            "c2.iocgrid-test.net hostname dns 1 0\n"
            "http://www.iocgrid-test.net/login url url 1 0\n"
            "secure.iocgrid-test.net hostname sni 1 0\n"
            "www.iocgrid-test.net hostname host 1 0\n");
  EXPECT_EQ(Iso(Find(*s, "8.8.4.4")->first_seen), "2020-06-05T14:39:59Z");
  EXPECT_EQ(s->counts().malformed, 1u);
}

TEST(CsvParserTest, HeaderNamesColumnsAndActionsMakeAlerts) {
  auto s = SiftText(
      "Time;Source IP;Destination IP;Action;URL\n"
      "2024-05-01 10:00:00;81.2.69.142;192.168.0.10;blocked;http://bad.iocgrid-test.net/x\n"
      "2024-05-01 10:05:00;\"81.2.69.160\";192.168.0.10;allowed;-\n"
      "2024-05-01 10:06:00;81.2.69.160;192.168.0.10\n",
      LogFormat::kAuto);
  EXPECT_EQ(Dump(*s),
            "81.2.69.142 ip-src client 1 1\n"
            "81.2.69.160 ip-src client 1 0\n"
            "http://bad.iocgrid-test.net/x url url 1 0\n");
  EXPECT_EQ(s->malformed_examples().at(0).reason, "expected 5 fields, got 3");
}

TEST(CsvParserTest, HeaderWithoutUsefulColumnsIsMalformed) {
  auto s = SiftText("a,b,c\n1,2,3\n", LogFormat::kCsv);
  EXPECT_EQ(s->counts().malformed, 2u);
}

TEST(SifterTest, FieldsFilterDropsOtherFields) {
  auto s = SiftText(
      R"({"timestamp":"2024-12-17T19:18:00Z","event_type":"http","src_ip":"81.2.69.142","dest_ip":"93.184.216.34","http":{"hostname":"a.iocgrid-test.net","url":"/"}})"
      "\n",
      LogFormat::kEve, FieldBit(Field::kClient) | FieldBit(Field::kHost));
  EXPECT_EQ(Dump(*s),
            "81.2.69.142 ip-src client 1 0\n"
            "a.iocgrid-test.net hostname host 1 0\n");
}

TEST(SifterTest, LongLinesAreCutAndCounted) {
  std::string line = "81.2.69.142 - - [10/Oct/2023:13:55:36 +0000] \"GET /" +
                     std::string(70000, 'a') + " HTTP/1.1\" 200 1\n";
  auto s = SiftText(line + line.substr(0, 100) + "\"\n");
  EXPECT_EQ(s->counts().lines, 2u);
  EXPECT_EQ(s->counts().cut, 1u);
  EXPECT_EQ(s->counts().malformed, 1u);  // the cut line lost its closing quote
  EXPECT_EQ(Dump(*s), "81.2.69.142 ip-src client 1 0\n");
}

TEST(SifterTest, InternalAddressesAndNamesAreNeverObservables) {
  auto s = SiftText(
      "{\"remote_addr\":\"10.1.2.3\",\"host\":\"intranet\"}\n"
      "{\"remote_addr\":\"100.64.0.1\",\"host\":\"printer.local\"}\n"
      "{\"remote_addr\":\"198.51.100.7\"}\n"
      "{\"remote_addr\":\"fe80::1\"}\n"
      "{\"remote_addr\":\"::1\"}\n"
      "{\"remote_addr\":\"169.254.1.1\"}\n"
      "{\"remote_addr\":\"::ffff:81.2.69.142\"}\n",
      LogFormat::kJson);
  EXPECT_EQ(Dump(*s), "81.2.69.142 ip-src client 1 0\n");
  EXPECT_EQ(s->counts().internal, 8u);
}

TEST(SifterTest, AnnotationsReplayEveryLine) {
  SiftOptions o;
  o.annotate = true;
  Sifter s(o);
  ASSERT_TRUE(s.AddContent("a.log",
                           "81.2.69.142 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1\n"
                           "junk\n"
                           "vh.iocgrid-test.net 81.2.69.142 - - [10/Oct/2023:13:55:36 +0000] \"GET "
                           "/ HTTP/1.1\" 200 1\n")
                  .ok());
  std::string got;
  ASSERT_TRUE(s.ForEachLine([&](size_t file, uint64_t line, std::span<const uint32_t> ids) {
                 got += std::to_string(file) + ":" + std::to_string(line) + ":";
                 for (uint32_t id : ids) got += s.observables()[id].value + ",";
                 got += "\n";
               }).ok());
  EXPECT_EQ(got, "0:1:81.2.69.142,\n0:2:\n0:3:81.2.69.142,vh.iocgrid-test.net,\n");
  uint64_t total = 0, groups = 0;
  ASSERT_TRUE(s.ForEachLineGroup([&](std::span<const uint32_t>, uint64_t n) {
                 total += n;
                 ++groups;
               }).ok());
  EXPECT_EQ(total, 3u);
  EXPECT_EQ(groups, 3u);
}

}  // namespace
}  // namespace iocgrid::sift
