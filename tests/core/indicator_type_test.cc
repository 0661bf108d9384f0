#include "core/indicator_type.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace iocgrid::core {
namespace {

// The vendored describeTypes.json is the oracle: every type it lists is known with its defaults.
TEST(IndicatorTypeTest, KnowsEveryMispTypeWithDefaults) {
  std::ifstream in(IOCGRID_PROJECT_DATA_DIR "/misp/describeTypes.json");
  ASSERT_TRUE(in.good());
  nlohmann::json doc = nlohmann::json::parse(in)["result"];
  ASSERT_EQ(doc["types"].size(), kIndicatorTypeCount);
  ASSERT_EQ(AllIndicatorTypes().size(), kIndicatorTypeCount);
  std::set<std::string> names;
  for (const auto& name_json : doc["types"]) {
    std::string name = name_json.get<std::string>();
    auto type = TypeFromName(name);
    ASSERT_TRUE(type.has_value()) << name;
    EXPECT_EQ(TypeName(*type), name);
    const auto& defaults = doc["sane_defaults"][name];
    EXPECT_EQ(DefaultCategory(*type), defaults["default_category"].get<std::string>()) << name;
    EXPECT_EQ(DefaultToIds(*type), defaults["to_ids"].get<int>() == 1) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kIndicatorTypeCount);
}

TEST(IndicatorTypeTest, UnknownNameIsNullopt) {
  EXPECT_FALSE(TypeFromName("ip").has_value());
  EXPECT_FALSE(TypeFromName("IP-DST").has_value());  // MISP names are case-sensitive
}

TEST(IndicatorTypeTest, ResolveAcceptsAliasesAndCase) {
  EXPECT_EQ(ResolveTypeName("IP-DST").value(), IndicatorType::kIpDst);
  EXPECT_EQ(ResolveTypeName("ip").value(), IndicatorType::kIpDst);
  EXPECT_EQ(ResolveTypeName("ip-port").value(), IndicatorType::kIpDstPort);
  EXPECT_EQ(ResolveTypeName("url-noscheme").value(), IndicatorType::kUrl);
  EXPECT_EQ(ResolveTypeName("uri-path").value(), IndicatorType::kUri);
  EXPECT_EQ(ResolveTypeName("SHA-256").value(), IndicatorType::kSha256);
  EXPECT_EQ(ResolveTypeName("as").value(), IndicatorType::kAs);
  EXPECT_FALSE(ResolveTypeName("hash").value().has_value());  // guess from the value
  EXPECT_EQ(ResolveTypeName("bogus-type").status().code(), StatusCode::kInvalidArgument);
}

TEST(IndicatorTypeTest, CompositePartsNameTheHalves) {
  EXPECT_TRUE(IsComposite(IndicatorType::kDomainIp));
  EXPECT_FALSE(IsComposite(IndicatorType::kDomain));
  using P = std::pair<IndicatorType, IndicatorType>;
  EXPECT_EQ(CompositeParts(IndicatorType::kDomainIp),
            P(IndicatorType::kDomain, IndicatorType::kIpDst));
  EXPECT_EQ(CompositeParts(IndicatorType::kIpSrcPort),
            P(IndicatorType::kIpSrc, IndicatorType::kPort));
  EXPECT_EQ(CompositeParts(IndicatorType::kFilenameSha512_256),
            P(IndicatorType::kFilename, IndicatorType::kSha512_256));
  EXPECT_EQ(CompositeParts(IndicatorType::kRegkeyValue),
            P(IndicatorType::kRegkey, IndicatorType::kText));
  // Every composite's halves resolve (no CHECK failure).
  for (IndicatorType t : AllIndicatorTypes()) {
    if (IsComposite(t)) CompositeParts(t);
  }
}

TEST(IndicatorTypeTest, FamiliesGroupComparableTypes) {
  EXPECT_EQ(FamilyOf(IndicatorType::kIpSrc), MatchFamily::kIp);
  EXPECT_EQ(FamilyOf(IndicatorType::kHostname), MatchFamily::kHost);
  EXPECT_EQ(FamilyOf(IndicatorType::kLink), MatchFamily::kUrl);
  EXPECT_EQ(FamilyOf(IndicatorType::kEmailDst), MatchFamily::kEmail);
  EXPECT_EQ(FamilyOf(IndicatorType::kSha512_224), MatchFamily::kHash);
  EXPECT_EQ(FamilyOf(IndicatorType::kMutex), MatchFamily::kOther);
}

}  // namespace
}  // namespace iocgrid::core
