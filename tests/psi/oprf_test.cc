// The OPRF, tags and labels (src/psi/oprf.h): the blinded protocol gives the member's own
// evaluation, hostile points and keys are refused, labels open only with the right key, tag
// and epoch, and the test vector of docs/private-search.md holds.
#include "psi/oprf.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace iocgrid::psi {
namespace {

class OprfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitCrypto().ok()); }
};

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

TEST_F(OprfTest, BlindedProtocolEqualsTheMembersOwnEvaluation) {
  OprfKey key = OprfKey::Generate();
  for (std::string_view input :
       {std::string_view("ip\0"
                         "1.2.3.4",
                         10),
        std::string_view(""), std::string_view("host\0evil.example", 17)}) {
    Blinded b = Blind(input);
    Result<Point> evaluated = key.Evaluate(b.point);
    ASSERT_TRUE(evaluated.ok());
    Result<Point> prf = Finalize(*evaluated, b.inverse);
    ASSERT_TRUE(prf.ok());
    EXPECT_EQ(*prf, key.EvaluateInput(input));
  }
}

TEST_F(OprfTest, BlindingIsFreshEachTime) {
  Blinded a = Blind("hash\0abc");
  Blinded b = Blind("hash\0abc");
  EXPECT_NE(a.point, b.point);
}

TEST_F(OprfTest, TagsDependOnKeyAndInput) {
  OprfKey k1 = OprfKey::Generate();
  OprfKey k2 = OprfKey::Generate();
  std::set<Tag> tags;
  for (const OprfKey* key : {&k1, &k2}) {
    for (std::string input : {"a", "b", "c"}) {
      tags.insert(DeriveOutput(input, key->EvaluateInput(input)).tag);
    }
  }
  EXPECT_EQ(tags.size(), 6u);
}

TEST_F(OprfTest, EvaluateRefusesInvalidPoints) {
  OprfKey key = OprfKey::Generate();
  Point identity{};
  EXPECT_EQ(key.Evaluate(identity).status().code(), StatusCode::kInvalidArgument);
  Point all_ones;
  all_ones.fill(0xff);
  EXPECT_EQ(key.Evaluate(all_ones).status().code(), StatusCode::kInvalidArgument);
  // A field element >= p (2^255 - 19) is a non-canonical encoding.
  Point non_canonical;
  non_canonical.fill(0xff);
  non_canonical[0] = 0xed;
  non_canonical[31] = 0x7f;
  EXPECT_EQ(key.Evaluate(non_canonical).status().code(), StatusCode::kInvalidArgument);
  // A negative field element (low bit set) is not a ristretto255 encoding.
  Point negative{};
  negative[0] = 1;
  EXPECT_EQ(key.Evaluate(negative).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OprfTest, FinalizeRefusesInvalidAnswers) {
  Blinded b = Blind("x");
  Point identity{};
  EXPECT_EQ(Finalize(identity, b.inverse).status().code(), StatusCode::kInvalidArgument);
  Point junk;
  junk.fill(0x5a);
  EXPECT_FALSE(Finalize(junk, b.inverse).ok());
}

TEST_F(OprfTest, KeySerializationRoundTrips) {
  OprfKey key = OprfKey::Generate();
  std::string bytes = key.Serialize();
  ASSERT_EQ(bytes.size(), kScalarBytes);
  auto span = std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  Result<OprfKey> again = OprfKey::FromBytes(span);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->EvaluateInput("v"), key.EvaluateInput("v"));
}

TEST_F(OprfTest, FromBytesRefusesBadKeys) {
  std::vector<uint8_t> short_key(31, 1);
  EXPECT_EQ(OprfKey::FromBytes(short_key).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> zero(32, 0);
  EXPECT_EQ(OprfKey::FromBytes(zero).status().code(), StatusCode::kInvalidArgument);
  // The group order L itself is not canonical.
  std::vector<uint8_t> order =
      FromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  EXPECT_EQ(OprfKey::FromBytes(order).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> ones(32, 0xff);
  EXPECT_EQ(OprfKey::FromBytes(ones).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OprfTest, LabelsOpenWithTheRightOutputOnly) {
  OprfKey key = OprfKey::Generate();
  const std::string one(
      "ip\0"
      "1.2.3.4",
      10);
  const std::string two(
      "ip\0"
      "1.2.3.5",
      10);
  OprfOutput out = DeriveOutput(one, key.EvaluateInput(one));
  std::string sealed = SealLabel(out, 7, R"([{"type":"ip-dst"}])");
  EXPECT_EQ(sealed.size(), 19 + kLabelOverheadBytes);
  Result<std::string> opened = OpenLabel(out, 7, sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, R"([{"type":"ip-dst"}])");

  EXPECT_EQ(OpenLabel(out, 8, sealed).status().code(), StatusCode::kDataLoss);
  OprfOutput other = DeriveOutput(two, key.EvaluateInput(two));
  EXPECT_EQ(OpenLabel(other, 7, sealed).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenLabel(out, 7, sealed.substr(0, 39)).status().code(), StatusCode::kDataLoss);
}

TEST_F(OprfTest, EveryTamperedLabelByteIsDetected) {
  OprfKey key = OprfKey::Generate();
  OprfOutput out = DeriveOutput("k", key.EvaluateInput("k"));
  const std::string sealed = SealLabel(out, 1, "context");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(OpenLabel(out, 1, bad).status().code(), StatusCode::kDataLoss) << "byte " << i;
  }
}

// The test vector of docs/private-search.md: a fixed key, the input "host\0evil.example".
TEST_F(OprfTest, TestVector) {
  std::vector<uint8_t> k =
      FromHex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00");
  Result<OprfKey> key = OprfKey::FromBytes(k);
  ASSERT_TRUE(key.ok());
  const std::string input("host\0evil.example", 17);
  Point prf = key->EvaluateInput(input);
  OprfOutput out = DeriveOutput(input, prf);
  EXPECT_EQ(Hex(prf), "4236448caf6bbc99db3a4f0b098f52203f935f7a9e32ea9316820fb5548f7665");
  EXPECT_EQ(Hex(out.tag), "adc6d920f59ee25a2b9354");
  EXPECT_EQ(Hex(out.label_key), "62010b6643bde14566342469856fa2afb270728f5649e4f3d0243a206f193d80");
}

}  // namespace
}  // namespace iocgrid::psi
