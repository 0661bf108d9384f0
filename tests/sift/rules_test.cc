#include "sift/rules.h"

#include <gtest/gtest.h>

namespace iocgrid::sift {
namespace {

TEST(ClassRulesTest, MemberKindsMapToClasses) {
  ClassRules r = DefaultRules();
  EXPECT_EQ(*r.ClassOfKind("honeypot"), Class::kNoise);
  EXPECT_EQ(*r.ClassOfKind("scanner"), Class::kNoise);
  for (const char* k : {"anonymizer", "proxy", "vpn", "tor", "cloud"}) {
    EXPECT_EQ(*r.ClassOfKind(k), Class::kAnonymizer) << k;
  }
  EXPECT_EQ(*r.ClassOfKind("threat"), Class::kThreat);
  EXPECT_EQ(*r.ClassOfKind("ioc"), Class::kThreat);
  EXPECT_EQ(*r.ClassOfKind("benign"), Class::kBenign);
  EXPECT_EQ(*r.ClassOfKind("warninglist"), Class::kBenign);
  EXPECT_EQ(r.ClassOfKind("fish").status().code(), StatusCode::kInvalidArgument);
}

TEST(ClassRulesTest, ListKindsFromTheSharedDataLayout) {
  ClassRules r = DefaultRules();
  const std::string c = "data/C_member_anonymity/";
  EXPECT_EQ(r.KindOfList(c + "misp-warninglists/vpn-ipv4/list.json",
                         "Specialized list of vpn-ipv4 addresses belonging to common VPN providers "
                         "and datacenters",
                         "benign"),
            "vpn");
  EXPECT_EQ(r.KindOfList(c + "misp-warninglists/amazon-aws/list.json",
                         "List of known Amazon AWS IP address ranges", "benign"),
            "cloud");
  EXPECT_EQ(r.KindOfList(c + "misp-warninglists/google-gcp/list.json",
                         "List of known GCP (Google Cloud Platform) IP address ranges", "benign"),
            "cloud");
  EXPECT_EQ(r.KindOfList(c + "misp-warninglists/cloudflare/list.json",
                         "List of known Cloudflare IP ranges", "benign"),
            "benign");
  EXPECT_EQ(r.KindOfList(c + "misp-warninglists/tenable-cloud-ipv4/list.json",
                         "Tenable Cloud Sensor", "benign"),
            "honeypot");
  EXPECT_EQ(r.KindOfList(c + "tor/exit-nodes.lst", "", "threat"), "tor");
  EXPECT_EQ(r.KindOfList(c + "proxies/proxy-list.txt", "", "threat"), "proxy");
  EXPECT_EQ(r.KindOfList("data/D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt", "",
                         "threat"),
            "honeypot");
  EXPECT_EQ(r.KindOfList("data/D_member_honeypot/ipsum/levels_3.txt", "", "threat"), "honeypot");
  EXPECT_EQ(r.KindOfList("feeds/osint/5a0a9aa9.json", "OSINT - New Malware", "threat"), "threat");
  EXPECT_EQ(r.KindOfList("x/unrelated.txt", "", "threat"), "threat");
}

TEST(ClassRulesTest, PrecedenceDecides) {
  ClassRules r = DefaultRules();
  EXPECT_EQ(r.Decide({}), Class::kUnknown);
  std::vector<Class> hits = {Class::kAnonymizer, Class::kThreat};
  EXPECT_EQ(r.Decide(hits), Class::kThreat);
  hits = {Class::kBenign, Class::kNoise};
  EXPECT_EQ(r.Decide(hits), Class::kNoise);
}

TEST(ParseRulesTest, OverridesKindsListsPrecedenceAndDefaults) {
  auto r = ParseRules(R"(
precedence = ["noise", "threat", "anonymizer", "benign"]
[kinds]
sinkhole = "benign"
honeypot = "threat"
[[lists]]
tokens = ["sinkholes"]
kind = "sinkhole"
[defaults]
list = "sinkhole"
)");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r->ClassOfKind("sinkhole"), Class::kBenign);
  EXPECT_EQ(*r->ClassOfKind("honeypot"), Class::kThreat);
  EXPECT_EQ(r->KindOfList("w/sinkholes/list.json", "", "x"), "sinkhole");
  EXPECT_EQ(r->default_list_kind, "sinkhole");
  std::vector<Class> hits = {Class::kThreat, Class::kNoise};
  EXPECT_EQ(r->Decide(hits), Class::kNoise);
}

TEST(ParseRulesTest, ErrorsNameTheProblem) {
  EXPECT_EQ(ParseRules("precedence = [\"bad\"]").status().message(),
            "rules: precedence must be threat, noise, anonymizer, benign or unknown");
  EXPECT_EQ(ParseRules("colour = 1").status().message(), "rules: unknown key 'colour'");
  EXPECT_EQ(ParseRules("[[lists]]\ntokens=[\"a\"]\nkind=\"nokind\"").status().message(),
            "rules: lists: unknown data kind 'nokind'");
  EXPECT_FALSE(ParseRules("x = [").ok());
}

}  // namespace
}  // namespace iocgrid::sift
