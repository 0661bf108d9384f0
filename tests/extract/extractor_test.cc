#include "extract/extractor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace iocgrid::extract {
namespace {

using core::IndicatorType;
using T = IndicatorType;

const Extractor& Default() {
  static const std::unique_ptr<Extractor> extractor = [] {
    auto e = Extractor::Create(ExtractOptions{});
    IOCGRID_CHECK(e.ok());
    return std::move(*e);
  }();
  return *extractor;
}

std::unique_ptr<Extractor> With(ExtractOptions options) {
  auto e = Extractor::Create(options);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

// "type value" lines, in order of first occurrence.
std::vector<std::string> Rendered(const std::vector<ExtractedIndicator>& found) {
  std::vector<std::string> out;
  for (const auto& x : found) {
    std::string s = std::string(core::TypeName(x.indicator.type)) + " " + x.indicator.value;
    if (!x.benign_reason.empty()) s += " [" + x.benign_reason + "]";
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> Extract(std::string_view text) {
  return Rendered(Default().Extract(text));
}

std::vector<std::string> ExtractAll(std::string_view text) {
  ExtractOptions o;
  o.keep_benign = true;
  return Rendered(With(o)->Extract(text));
}

using Lines = std::vector<std::string>;

// ---- refanging
// ------------------------------------------------------------------------------------

TEST(RefangTest, UndoesEveryBracketedDotForm) {
  EXPECT_EQ(Extract("a evil1[.]example b"), Lines{});  // .example is reserved, not in IANA
  EXPECT_EQ(Extract("evil1[.]com evil2(.)com evil3{.}com evil4[dot]com evil5(dot)com "
                    "evil6{dot}com evil7\\.com"),
            (Lines{"domain evil1.com", "domain evil2.com", "domain evil3.com", "domain evil4.com",
                   "domain evil5.com", "domain evil6.com", "domain evil7.com"}));
}

TEST(RefangTest, UndoesDefangedSchemesAndSeparators) {
  EXPECT_EQ(Extract("hxxp://a-evil[.]com/x hXXps://b-evil[.]com/y fxp://c-evil[.]com/z "
                    "http[://]d-evil.com/w https[:]//e-evil.com/v"),
            (Lines{"url http://a-evil.com/x", "url https://b-evil.com/y", "url ftp://c-evil.com/z",
                   "url http://d-evil.com/w", "url https://e-evil.com/v"}));
}

TEST(RefangTest, UndoesDefangedAtAndColon) {
  EXPECT_EQ(Extract("mail bad[@]evil-mail.com or bad2[at]evil-mail.com, 45.9.148[.]3[:]8080"),
            (Lines{"email-src bad@evil-mail.com", "email-src bad2@evil-mail.com",
                   "ip-dst|port 45.9.148.3|8080"}));
}

TEST(RefangTest, SpacedDotOnlyInNamesWithTwoDots) {
  EXPECT_EQ(Extract("the dot com bubble"), Lines{});
  EXPECT_EQ(Extract("c2 is cdn dot evil-host dot com"), Lines{"hostname cdn.evil-host.com"});
}

TEST(RefangTest, FullWidthForms) {
  EXPECT_EQ(Extract("evil-jp．com と bad［.］net"),
            (Lines{"domain evil-jp.com", "domain bad.net"}));
}

TEST(RefangTest, ReportsWhetherAnOccurrenceWasDefanged) {
  auto found = Default().Extract("evil-a.com and evil-b[.]com");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_FALSE(found[0].defanged);
  EXPECT_TRUE(found[1].defanged);
}

// ---- types
// ----------------------------------------------------------------------------------------

TEST(ExtractTest, Ipv4WithCidrAndPort) {
  EXPECT_EQ(Extract("45.77.12.9, 45.77.12.0/24 and 45.77.12.10:443."),
            (Lines{"ip-dst 45.77.12.9", "ip-dst 45.77.12.0/24", "ip-dst|port 45.77.12.10|443"}));
}

TEST(ExtractTest, Ipv4RejectsVersionsDatesAndBadOctets) {
  EXPECT_EQ(Extract("1.2.3 1.2.3.4.5 256.1.1.1 07.06.2020 15.20.3326.19 1.3.6.1.4.1.311"), Lines{});
}

TEST(ExtractTest, Ipv6WithPortAndNetwork) {
  EXPECT_EQ(Extract("2a01:4f8:c17:b8f::2 [2a01:4f8:c17:b8f::3]:8443 2a01:4f8::/32"),
            (Lines{"ip-dst 2a01:4f8:c17:b8f::2", "ip-dst|port 2a01:4f8:c17:b8f::3|8443",
                   "ip-dst 2a01:4f8::/32"}));
}

TEST(ExtractTest, Ipv6IgnoresTimesMacsFingerprintsAndScopes) {
  EXPECT_EQ(Extract("10:12:58 00:11:22:33:44:55 80:19:eb:c8:80:a1:c6:ea:ea:37:ba:c0:26:c6:7f:61 "
                    "std::string a::b"),
            Lines{});
}

TEST(ExtractTest, DomainsAndHostnamesByPublicSuffix) {
  EXPECT_EQ(Extract("evil-a.com a.evil-b.com evil-c.co.uk x.evil-d.co.uk customer.duckdns.org"),
            (Lines{"domain evil-a.com", "hostname a.evil-b.com", "domain evil-c.co.uk",
                   "hostname x.evil-d.co.uk", "domain customer.duckdns.org"}));
}

TEST(ExtractTest, DomainsNeedAKnownTld) {
  EXPECT_EQ(Extract("file.unknowntld Win32/Agent.BE Trojan.Winnti.BE sample.json e.g. i.e."),
            Lines{});
}

TEST(ExtractTest, OnionAddressesNeedAValidLength) {
  EXPECT_EQ(Extract("abcdefghij234567.onion and yd.onion"), Lines{"domain abcdefghij234567.onion"});
}

TEST(ExtractTest, UrlsEndAtDelimiters) {
  EXPECT_EQ(
      Extract("(see http://a-evil.com/x?y=1). \"https://b-evil.com/p\" <ftp://c-evil.com/f> "
              "`https://d-evil.com/q` https://e-evil.com/r[link text]"),
      (Lines{"url http://a-evil.com/x?y=1", "url https://b-evil.com/p", "url ftp://c-evil.com/f",
             "url https://d-evil.com/q", "url https://e-evil.com/r"}));
}

TEST(ExtractTest, SchemelessUrls) {
  EXPECT_EQ(Extract("served from evil-a.com/update/loader.exe and 45.77.12.9/x.php"),
            (Lines{"url evil-a.com/update/loader.exe", "url 45.77.12.9/x.php"}));
}

TEST(ExtractTest, HostsInsideUrlsAreNotRepeated) {
  EXPECT_EQ(Extract("http://evil-a.com/path"), Lines{"url http://evil-a.com/path"});
}

TEST(ExtractTest, EmailAddresses) {
  EXPECT_EQ(Extract("From: <Bad.Guy@Evil-Mail.COM>, t****.h****@yahoo.com"),
            Lines{"email-src bad.guy@evil-mail.com"});
}

TEST(ExtractTest, HashesByLength) {
  std::string md5(32, 'a'), sha1(40, 'b'), sha256(64, 'c'), sha512(128, 'd');
  EXPECT_EQ(Extract(md5 + " " + sha1 + "\n" + sha256 + "\t" + sha512),
            (Lines{"md5 " + md5, "sha1 " + sha1, "sha256 " + sha256, "sha512 " + sha512}));
}

TEST(ExtractTest, HashesAreLowerCased) {
  EXPECT_EQ(Extract("SHA1: 395E87C5BD00F78BF4C63880C6982A7941A2ECD0"),
            Lines{"sha1 395e87c5bd00f78bf4c63880c6982a7941a2ecd0"});
}

// 1BoatSLRHtKNngkdXEeobR76b53LETtpyX has a bad Base58Check checksum: not an address.
TEST(ExtractTest, SsdeepCveAsnAndBitcoin) {
  EXPECT_EQ(
      Extract("ssdeep 96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO:8fAt7lnrqh7Y6nFs, "
              "CVE-2021-44228, cve-2017-0144, AS13335 and ASN 209242, "
              "19DpJAWr6NCVT2oAnWieozQPsRK7Bj83r4 "
              "bc1qrx0frdqdur0lllc6ezmv45hchdrg72ns7m6jmy 1BoatSLRHtKNngkdXEeobR76b53LETtpyX"),
      (Lines{"ssdeep 96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO:8fAt7lnrqh7Y6nFs",
             "vulnerability CVE-2021-44228", "vulnerability CVE-2017-0144", "AS 13335", "AS 209242",
             "btc 19DpJAWr6NCVT2oAnWieozQPsRK7Bj83r4",
             "btc bc1qrx0frdqdur0lllc6ezmv45hchdrg72ns7m6jmy"}));
}

TEST(ExtractTest, WindowsPathsAndFileNames) {
  EXPECT_EQ(
      Extract("dropped C:\\Users\\Public\\svch0st.exe, %APPDATA%\\Evil Corp\\x.dll, "
              "\"C:\\Program Files\\Evil App\\run.exe\" and invoice.pdf.exe; "
              "C:\\Users\\[user name]\\AppData\\a.js"),
      (Lines{"filename C:\\Users\\Public\\svch0st.exe", "filename %APPDATA%\\Evil Corp\\x.dll",
             "filename C:\\Program Files\\Evil App\\run.exe", "filename invoice.pdf.exe",
             "filename C:\\Users\\[user name]\\AppData\\a.js"}));
}

TEST(ExtractTest, RegistryKeysQuotedAndUnquoted) {
  EXPECT_EQ(Extract("reg add \"HKLM\\Software\\Policies\\Microsoft\\Windows Defender\" /v X\n"
                    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater = evil\n"
                    "HKLM\\SYSTEM\\Print\\Windows x64\\Print Processors\\lltd\\Driver = \"x\""),
            (Lines{"regkey HKLM\\Software\\Policies\\Microsoft\\Windows Defender",
                   "regkey HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater",
                   "regkey HKLM\\SYSTEM\\Print\\Windows x64\\Print Processors\\lltd\\Driver"}));
}

TEST(ExtractTest, DeduplicatesOnNormalizedValue) {
  auto found = Default().Extract("Evil-A.com\nevil-a[.]com\nEVIL-A.COM");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].indicator.value, "evil-a.com");
  EXPECT_EQ(found[0].line, 1u);
  EXPECT_TRUE(found[0].defanged);
}

TEST(ExtractTest, LineColumnAndContextPointAtTheOriginalText) {
  auto found = Default().Extract("first line\n  日本 then evil-a[.]com is bad");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].line, 2u);
  EXPECT_EQ(found[0].column, 11u);  // characters, not bytes
  EXPECT_EQ(found[0].context, "日本 then evil-a[.]com is bad");
}

TEST(ExtractTest, TypeFilter) {
  ExtractOptions o;
  o.types = *ParseTypeList("ip,cve");
  EXPECT_EQ(Rendered(With(o)->Extract("45.77.12.9 evil-a.com CVE-2020-1472")),
            (Lines{"ip-dst 45.77.12.9", "vulnerability CVE-2020-1472"}));
}

TEST(ParseTypeListTest, GroupsAndMispNamesAndErrors) {
  auto t = ParseTypeList("domain, sha256");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (std::vector<IndicatorType>{T::kDomain, T::kHostname, T::kSha256}));
  EXPECT_EQ(ParseTypeList("ip,bogus").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTypeList("").status().code(), StatusCode::kInvalidArgument);
}

// ---- false-positive filters
// ------------------------------------------------------------------------

TEST(FilterTest, ReservedIpRanges) {
  EXPECT_EQ(
      ExtractAll("10.1.2.3 127.0.0.1 169.254.1.1 192.0.2.5 224.0.0.1 100.64.1.1 fe80::1:2 "
                 "2001:db8::5"),
      (Lines{"ip-dst 10.1.2.3 [reserved-ip:private]", "ip-dst 127.0.0.1 [reserved-ip:loopback]",
             "ip-dst 169.254.1.1 [reserved-ip:link-local]",
             "ip-dst 192.0.2.5 [reserved-ip:documentation]",
             "ip-dst 224.0.0.1 [reserved-ip:multicast]", "ip-dst 100.64.1.1 [reserved-ip:shared]",
             "ip-dst fe80::1:2 [reserved-ip:link-local]",
             "ip-dst 2001:db8::5 [reserved-ip:documentation]"}));
  EXPECT_EQ(Extract("10.1.2.3 and 192.168.1.1"), Lines{});
}

TEST(FilterTest, PublicDnsAndProviderRanges) {
  EXPECT_EQ(ExtractAll("8.8.8.8 1.1.1.1 17.5.7.8"),
            (Lines{"ip-dst 8.8.8.8 [public-dns]", "ip-dst 1.1.1.1 [public-dns]",
                   "ip-dst 17.5.7.8 [provider-ip:apple]"}));
}

TEST(FilterTest, VersionNumbersThatLookLikeIps) {
  EXPECT_EQ(ExtractAll("version 1.2.3.4, Version: 10.0.17763.1, v4.3.2.1, build 5.6.7.8"),
            (Lines{"ip-dst 1.2.3.4 [version-number]", "ip-dst 4.3.2.1 [version-number]",
                   "ip-dst 5.6.7.8 [version-number]"}));
  EXPECT_EQ(Extract("version 1.2.3.4"), Lines{});
}

TEST(FilterTest, PopularDomainsExactlyButNotDynamicDnsCustomers) {
  EXPECT_EQ(ExtractAll("google.com www.github.com mail.yahoo.com sitesafecdn.hopto.org "
                       "domain.dns04.com"),
            (Lines{"domain google.com [vendor-domain:google]",
                   "hostname www.github.com [vendor-domain:security-provider-blogpost]",
                   "hostname mail.yahoo.com [popular-domain:cisco_top1000]",
                   "domain sitesafecdn.hopto.org", "hostname domain.dns04.com"}));
}

TEST(FilterTest, UrlsOnPopularHostsKeptWhenTheyHaveAPath) {
  EXPECT_EQ(ExtractAll("https://pastebin.com/ https://pastebin.com/raw/abc "
                       "https://www.welivesecurity.com/2019/10/x/"),
            (Lines{"url https://pastebin.com/ [popular-domain:tranco10k]",
                   "url https://pastebin.com/raw/abc",
                   "url https://www.welivesecurity.com/2019/10/x/ "
                   "[vendor-domain:security-provider-blogpost]"}));
}

TEST(FilterTest, IgnoredPublisherDomains) {
  ExtractOptions o;
  o.keep_benign = true;
  o.ignore_domains = {"Vendor-Blog.net"};
  EXPECT_EQ(Rendered(With(o)->Extract("vendor-blog.net research.vendor-blog.net/post "
                                      "intel@vendor-blog.net evil-a.com")),
            (Lines{"domain vendor-blog.net [ignored-domain]",
                   "url research.vendor-blog.net/post [ignored-domain]",
                   "email-src intel@vendor-blog.net [ignored-domain]", "domain evil-a.com"}));
  o.ignore_domains = {"not a domain"};
  EXPECT_EQ(Extractor::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(FilterTest, FileNamesThatLookLikeDomains) {
  EXPECT_EQ(
      ExtractAll("readme.md invoice.zip setup.exe report.pdf evil-files[.]zip"),
      (Lines{"domain readme.md [filename-like-domain]", "domain invoice.zip [filename-like-domain]",
             "filename setup.exe", "domain evil-files.zip"}));
}

TEST(FilterTest, HashesEmbeddedInLongerHexAndKnownBenignHashes) {
  std::string long_hex(48, 'a');
  EXPECT_EQ(
      ExtractAll(long_hex + " 0x" + std::string(40, 'b') + " d41d8cd98f00b204e9800998ecf8427e"),
      (Lines{"sha1 " + std::string(40, 'a') + " [embedded-hex]",
             "sha1 " + std::string(40, 'b') + " [embedded-hex]",
             "md5 d41d8cd98f00b204e9800998ecf8427e [benign-hash:empty-hashes]"}));
  EXPECT_EQ(Extract(long_hex), Lines{});
}

TEST(FilterTest, WellKnownSystemFilesUnlessOutsideSystemDirectories) {
  EXPECT_EQ(
      ExtractAll("cmd.exe C:\\Windows\\System32\\rundll32.exe C:\\Users\\Public\\svchost.exe"),
      (Lines{"filename cmd.exe [well-known-file]",
             "filename C:\\Windows\\System32\\rundll32.exe [well-known-file]",
             "filename C:\\Users\\Public\\svchost.exe"}));
}

TEST(FilterTest, MessageIdsAreNotEmailAddresses) {
  EXPECT_EQ(ExtractAll("Message-ID: <123.456@mx.evil-a.com>\nReferences:\n <789@mx.evil-a.com>\n"
                       "From: <boss@evil-a.com>"),
            (Lines{"email-src 123.456@mx.evil-a.com [message-id]",
                   "email-src 789@mx.evil-a.com [message-id]", "email-src boss@evil-a.com"}));
}

TEST(FilterTest, ReservedAsNumbers) {
  EXPECT_EQ(ExtractAll("AS64512 AS0 AS15169"),
            (Lines{"AS 64512 [reserved-asn]", "AS 0 [reserved-asn]", "AS 15169"}));
}

// The numbers are read with std::from_chars at their longest (10 digits); 11 are refused.
TEST(FilterTest, AsNumbersAndSsdeepBlockSizesAtTheTenDigitLimit) {
  EXPECT_EQ(
      ExtractAll("AS4294967295 AS4199999999 AS12345678901 and 3221225472:abcd:efgh and "
                 "12884901888:abcd:efgh"),
      (Lines{"AS 4294967295 [reserved-asn]", "AS 4199999999", "ssdeep 3221225472:abcd:efgh"}));
}

TEST(FilterTest, FiltersCanBeSwitchedOff) {
  ExtractOptions o;
  ASSERT_TRUE(SetFilter(o.filters, "reserved-ip", false).ok());
  ASSERT_TRUE(SetFilter(o.filters, "popular-domain", false).ok());
  EXPECT_EQ(Rendered(With(o)->Extract("10.1.2.3 pastebin.com")),
            (Lines{"ip-dst 10.1.2.3", "domain pastebin.com"}));
  EXPECT_EQ(SetFilter(o.filters, "nope", false).code(), StatusCode::kInvalidArgument);
  for (std::string_view name : FilterNames()) {
    EXPECT_TRUE(SetFilter(o.filters, name, true).ok()) << name;
  }
}

// ---- robustness
// ------------------------------------------------------------------------------------

TEST(ExtractTest, EmptyAndBinaryInput) {
  EXPECT_TRUE(Default().Extract("").empty());
  std::string bin;
  for (int i = 0; i < 4096; ++i) bin += static_cast<char>((i * 7919) & 0xFF);
  Default().Extract(bin);  // no crash, no hang
  EXPECT_EQ(Extract(std::string(100000, 'a')), Lines{});
}

TEST(ExtractTest, ConcurrentCallsAgree) {
  std::string text = "evil-a[.]com 45.77.12.9 " + std::string(64, 'c');
  auto want = Extract(text);
  std::vector<std::thread> threads;
  std::vector<Lines> got(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) got[i] = Rendered(Default().Extract(text));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

// ---- the scanning shortcuts of the speed work (issue 5)
// --------------------------------------------

// "type value defanged line:column" lines: what a reused call must reproduce exactly.
std::vector<std::string> RenderedWithPositions(const std::vector<ExtractedIndicator>& found) {
  std::vector<std::string> out;
  for (const auto& x : found) {
    out.push_back(std::string(core::TypeName(x.indicator.type)) + " " + x.indicator.value +
                  (x.defanged ? " defanged " : " ") + std::to_string(x.line) + ":" +
                  std::to_string(x.column) + " [" + x.benign_reason + "] " + x.context);
  }
  return out;
}

const std::string kMd5 = "0123456789abcdef0123456789abcdef";
const std::string kSha1 = "395e87c5bd00f78bf4c63880c6982a7941a2ecd0";
const std::string kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

// The long-word pass hands each hex run to the hash scanner with its bounds and shape.
TEST(HexRunTest, RunsGluedToLettersAreEmbedded) {
  EXPECT_EQ(ExtractAll("xyz" + kMd5 + " " + kMd5 + "ghk"),
            Lines{"md5 " + kMd5 + " [embedded-hex]"});
  EXPECT_EQ(Extract("xyz" + kMd5 + " " + kMd5 + "ghk"), Lines{});
}

TEST(HexRunTest, TwoRunsInOneWord) {
  EXPECT_EQ(ExtractAll(kMd5 + "g" + kSha1),
            (Lines{"md5 " + kMd5 + " [embedded-hex]", "sha1 " + kSha1 + " [embedded-hex]"}));
}

TEST(HexRunTest, CapitalsInsideALongerWordAreLowerCased) {
  std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  EXPECT_EQ(ExtractAll("Q" + upper + "Q"), Lines{"md5 " + kMd5 + " [embedded-hex]"});
  EXPECT_EQ(Extract("MD5 " + upper + "."), Lines{"md5 " + kMd5});
}

TEST(HexRunTest, DecimalRunsAreNoHashes) {
  std::string digits(32, '7');
  EXPECT_EQ(ExtractAll(digits), Lines{});
  EXPECT_EQ(ExtractAll("zz" + digits + "zz"), Lines{});
  EXPECT_EQ(ExtractAll("id " + std::string(40, '1') + " done"), Lines{});
}

// A digest's benign-hash reason is looked up once per distinct value; repeats must still decide
// "kept" as if each occurrence had been looked up.
TEST(DedupTest, RepeatedDigestsKeepTheirReasons) {
  std::string text = kEmptyMd5 + " " + kMd5 + "\n" + kEmptyMd5 + " " + kMd5;
  EXPECT_EQ(ExtractAll(text),
            (Lines{"md5 " + kEmptyMd5 + " [benign-hash:empty-hashes]", "md5 " + kMd5}));
  EXPECT_EQ(Extract(text), Lines{"md5 " + kMd5});
}

TEST(DedupTest, AFlaggedFirstOccurrenceIsKeptByALaterPlainOne) {
  // First glued to letters (embedded-hex), then standalone: kept, so no reason shown.
  EXPECT_EQ(ExtractAll("zz" + kMd5 + " then " + kMd5), Lines{"md5 " + kMd5});
  EXPECT_EQ(Extract("zz" + kMd5 + " then " + kMd5), Lines{"md5 " + kMd5});
}

// Whether an occurrence was defanged is first answered from a bit per 64 bytes of text.
TEST(RefangTest, DefangedFlagAcrossBlockBoundaries) {
  std::string pad(60, ' ');
  // The edit ("[.]" at offset 66) is in the 64-byte block after the one the host starts in.
  std::string text = pad + "evil-e[.]com\n" + std::string(5000, 'x') + " evil-f.com " +
                     std::string(61, ' ') + "evil-g.com evil-h[.]com";
  EXPECT_EQ(RenderedWithPositions(Default().Extract(text)),
            (Lines{"domain evil-e.com defanged 1:61 [] evil-e[.]com",
                   "domain evil-f.com 2:5002 [] " + std::string(50 - 1, 'x') + " evil-f.com",
                   "domain evil-g.com 2:5074 [] evil-g.com evil-h[.]com",
                   "domain evil-h.com defanged 2:5085 [] evil-g.com evil-h[.]com"}));
}

// Working buffers are pooled between calls: a call after a larger, defanged one must see none
// of its state (edits, claims, de-duplication).
TEST(ExtractTest, ReusedBuffersCarryNothingOver) {
  std::string big;
  for (int i = 0; i < 2000; ++i) {
    big += "line " + std::to_string(i) + " hxxp://evil-a[.]com/p" + std::to_string(i % 7) +
           " 45.77.12[.]9 " + kMd5 + " C:\\Users\\x\\a.exe\n";
  }
  std::string small = "c2.evil-b.com 45.77.12.10 http://evil-a.com/p1 " + kSha1;
  auto fresh_small = RenderedWithPositions(With(ExtractOptions{})->Extract(small));
  auto fresh_big = RenderedWithPositions(With(ExtractOptions{})->Extract(big));
  auto reused = With(ExtractOptions{});
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(RenderedWithPositions(reused->Extract(big)), fresh_big);
    EXPECT_EQ(RenderedWithPositions(reused->Extract(small)), fresh_small);
  }
  EXPECT_EQ(Rendered(reused->Extract(small)), (Lines{"hostname c2.evil-b.com", "ip-dst 45.77.12.10",
                                                     "url http://evil-a.com/p1", "sha1 " + kSha1}));
}

TEST(ExtractorCreateTest, MissingDataDirectoryIsNotFound) {
  ExtractOptions o;
  o.data_dir = "/nonexistent/iocgrid-data";
  EXPECT_EQ(Extractor::Create(o).status().code(), StatusCode::kNotFound);
}

TEST(DataDirTest, EnvironmentVariableWins) {
  ::setenv("IOCGRID_DATA_DIR", IOCGRID_PROJECT_DATA_DIR, 1);
  auto dir = DataDir();
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, IOCGRID_PROJECT_DATA_DIR);
  ::setenv("IOCGRID_DATA_DIR", "/nonexistent/x", 1);
  EXPECT_EQ(DataDir().status().code(), StatusCode::kNotFound);
  ::unsetenv("IOCGRID_DATA_DIR");
  EXPECT_TRUE(DataDir().ok());  // the source tree's data/, compiled in
}

// ---- documents
// --------------------------------------------------------------------------------------

const std::string kDocs = IOCGRID_TEST_DATA_DIR "/extract/docs/";

TEST(LoadDocumentTest, HtmlStripsTagsDecodesEntitiesAndKeepsHrefs) {
  auto text = LoadDocument(kDocs + "report.html");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->find("<p>"), std::string::npos);
  EXPECT_EQ(text->find("analytics-tracker"), std::string::npos);  // script dropped
  EXPECT_EQ(Extract(*text),
            (Lines{"url http://c2-panel.top/gate.php", "domain dropzone.ru", "ip-dst 45.77.12.9",
                   "md5 d41d8cd98f00b204e9800998ecf8427f", "email-src attacker@mail-evil.net"}));
}

TEST(LoadDocumentTest, MarkdownPassesThrough) {
  auto text = LoadDocument(kDocs + "report.md");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(
      Extract(*text),
      (Lines{"domain update-check.xyz", "url https://panel.update-check.xyz/login.php",
             "md5 5f4dcc3b5aa765d61d8327deb882cf99", "filename C:\\Users\\Public\\svch0st.exe"}));
}

TEST(LoadDocumentTest, ShiftJisAndEucJpAreDetectedAndConverted) {
  auto utf8 = LoadDocument(kDocs + "japanese_utf8.txt");
  ASSERT_TRUE(utf8.ok());
  for (const char* name : {"japanese_sjis.txt", "japanese_eucjp.txt"}) {
    auto text = LoadDocument(kDocs + name);
    ASSERT_TRUE(text.ok()) << name;
    EXPECT_EQ(*text, *utf8) << name;
  }
  EXPECT_EQ(Extract(*utf8),
            (Lines{"domain evil-jp.com", "ip-dst 203.0.114.25",
                   "md5 e99a18c428cb38d5f260853678922e03", "email-src attacker@mail-jp.net"}));
}

TEST(LoadDocumentTest, PdfThroughPdftotext) {
  ASSERT_EQ(std::system("command -v pdftotext >/dev/null 2>&1"), 0)
      << "pdftotext (poppler-utils) is required; scripts/install-deps.sh installs it";
  auto text = LoadDocument(kDocs + "report.pdf");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(Extract(*text),
            (Lines{"ip-dst 198.51.99.7", "hostname beacon.fastly-cdn.org",
                   "sha256 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}));
}

TEST(LoadDocumentTest, Errors) {
  EXPECT_EQ(LoadDocument("/nonexistent/report.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadDocument(IOCGRID_TEST_DATA_DIR).status().code(), StatusCode::kInvalidArgument);
}

TEST(DecodeDocumentTest, BomsAndLatin1) {
  EXPECT_EQ(*DecodeDocument("\xEF\xBB\xBF"
                            "abc",
                            ""),
            "abc");
  EXPECT_EQ(*DecodeDocument(std::string("\xFF\xFE"
                                        "a\0b\0",
                                        6),
                            ""),
            "ab");
  EXPECT_EQ(*DecodeDocument("caf\xE9", ""), "caf\xC3\xA9");
}

}  // namespace
}  // namespace iocgrid::extract
