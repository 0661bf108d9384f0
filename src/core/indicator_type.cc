#include "core/indicator_type.h"

#include <algorithm>
#include <array>
#include <string>
#include <unordered_map>

#include "common/ascii.h"
#include "common/check.h"

namespace iocgrid::core {
namespace {

struct TypeRow {
  IndicatorType type;
  std::string_view name;
  std::string_view category;
  bool to_ids;
};

constexpr std::array<TypeRow, kIndicatorTypeCount> kTypes = {{
#define IOCGRID_INDICATOR_TYPE(enumerator, name, category, to_ids) \
  {IndicatorType::enumerator, name, category, to_ids},
#include "core/indicator_type_list.inc"
#undef IOCGRID_INDICATOR_TYPE
}};

constexpr std::array<IndicatorType, kIndicatorTypeCount> kAllTypes = [] {
  std::array<IndicatorType, kIndicatorTypeCount> a{};
  for (size_t i = 0; i < kIndicatorTypeCount; ++i) a[i] = kTypes[i].type;
  return a;
}();

const TypeRow& Row(IndicatorType type) {
  auto i = static_cast<size_t>(type);
  IOCGRID_CHECK(i < kIndicatorTypeCount);
  return kTypes[i];
}

const std::unordered_map<std::string_view, IndicatorType>& NameMap() {
  static const std::unordered_map<std::string_view, IndicatorType> kMap = [] {
    std::unordered_map<std::string_view, IndicatorType> m;
    for (const TypeRow& row : kTypes) m.emplace(row.name, row.type);
    return m;
  }();
  return kMap;
}

// Aliases seen in feeds, CSV exports and tools. An empty target means "guess from the value".
struct Alias {
  std::string_view alias;
  std::string_view target;
};
constexpr Alias kAliases[] = {
    {"ip", "ip-dst"},
    {"ipv4", "ip-dst"},
    {"ipv6", "ip-dst"},
    {"ip-addr", "ip-dst"},
    {"ipv4-addr", "ip-dst"},
    {"ipv6-addr", "ip-dst"},
    {"ip_address", "ip-dst"},
    {"ipaddress", "ip-dst"},
    {"address", "ip-dst"},
    {"cidr", "ip-dst"},
    {"ip-range", "ip-dst"},
    {"network", "ip-dst"},
    {"ip-port", "ip-dst|port"},
    {"ip:port", "ip-dst|port"},
    {"ipport", "ip-dst|port"},
    {"url-noscheme", "url"},
    {"uri-path", "uri"},
    {"fqdn", "hostname"},
    {"host", "hostname"},
    {"domain-name", "domain"},
    {"sha-1", "sha1"},
    {"sha-256", "sha256"},
    {"sha-512", "sha512"},
    {"md-5", "md5"},
    {"email-addr", "email"},
    {"e-mail", "email"},
    {"cve", "vulnerability"},
    {"asn", "AS"},
    {"hash", ""},
    {"filehash", ""},
    {"file-hash", ""},
    {"ioc", ""},
    {"indicator", ""},
    {"value", ""},
    {"", ""},
};

}  // namespace

std::span<const IndicatorType> AllIndicatorTypes() { return kAllTypes; }

std::string_view TypeName(IndicatorType type) { return Row(type).name; }

std::optional<IndicatorType> TypeFromName(std::string_view name) {
  const auto& map = NameMap();
  auto it = map.find(name);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<IndicatorType>> ResolveTypeName(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (auto t = TypeFromName(name)) return std::optional<IndicatorType>(*t);
  std::string lower = AsciiLower(name);
  for (const TypeRow& row : kTypes) {
    if (AsciiLower(row.name) == lower) return std::optional<IndicatorType>(row.type);
  }
  for (const Alias& a : kAliases) {
    if (a.alias == lower) {
      if (a.target.empty()) return std::optional<IndicatorType>();
      return std::optional<IndicatorType>(*TypeFromName(a.target));
    }
  }
  return InvalidArgumentError("unknown indicator type '" + std::string(name) +
                              "' (expected a MISP type name such as ip-dst, domain, md5)");
}

std::string_view DefaultCategory(IndicatorType type) { return Row(type).category; }

bool DefaultToIds(IndicatorType type) { return Row(type).to_ids; }

bool IsComposite(IndicatorType type) { return Row(type).name.find('|') != std::string_view::npos; }

std::pair<IndicatorType, IndicatorType> CompositeParts(IndicatorType type) {
  std::string_view name = Row(type).name;
  size_t bar = name.find('|');
  IOCGRID_CHECK(bar != std::string_view::npos);
  auto part = [](std::string_view n) {
    if (n == "ip") return IndicatorType::kIpDst;
    if (n == "value") return IndicatorType::kText;
    auto t = TypeFromName(n);
    IOCGRID_CHECK(t.has_value());
    return *t;
  };
  return {part(name.substr(0, bar)), part(name.substr(bar + 1))};
}

MatchFamily FamilyOf(IndicatorType type) {
  using T = IndicatorType;
  switch (type) {
    case T::kIpSrc:
    case T::kIpDst:
      return MatchFamily::kIp;
    case T::kDomain:
    case T::kHostname:
      return MatchFamily::kHost;
    case T::kUrl:
    case T::kLink:
      return MatchFamily::kUrl;
    case T::kEmail:
    case T::kEmailSrc:
    case T::kEmailDst:
    case T::kTargetEmail:
    case T::kWhoisRegistrantEmail:
    case T::kDnsSoaEmail:
    case T::kEmailReplyTo:
      return MatchFamily::kEmail;
    case T::kMd5:
    case T::kSha1:
    case T::kSha224:
    case T::kSha256:
    case T::kSha384:
    case T::kSha512:
    case T::kSha512_224:
    case T::kSha512_256:
    case T::kSha3_224:
    case T::kSha3_256:
    case T::kSha3_384:
    case T::kSha3_512:
    case T::kSsdeep:
    case T::kTlsh:
    case T::kImphash:
    case T::kAuthentihash:
    case T::kVhash:
    case T::kPehash:
    case T::kImpfuzzy:
    case T::kTelfhash:
    case T::kCdhash:
    case T::kJa3FingerprintMd5:
    case T::kHasshMd5:
    case T::kHasshserverMd5:
    case T::kJarmFingerprint:
    case T::kX509FingerprintMd5:
    case T::kX509FingerprintSha1:
    case T::kX509FingerprintSha256:
      return MatchFamily::kHash;
    default:
      return MatchFamily::kOther;
  }
}

std::string_view FamilyName(MatchFamily family) {
  switch (family) {
    case MatchFamily::kIp:
      return "ip";
    case MatchFamily::kHost:
      return "host";
    case MatchFamily::kUrl:
      return "url";
    case MatchFamily::kEmail:
      return "email";
    case MatchFamily::kHash:
      return "hash";
    case MatchFamily::kOther:
      return "other";
  }
  return "other";
}

}  // namespace iocgrid::core
