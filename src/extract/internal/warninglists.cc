#include "extract/internal/warninglists.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/ascii.h"
#include "extract/internal/filters.h"

namespace iocgrid::extract::internal {
namespace {

constexpr size_t kMaxListBytes = 16 << 20;  // the largest bundled list is ~300 KiB

// Reads data/warninglists/<name>/list.json and returns its "list" entries.
Result<std::vector<std::string>> ReadList(const std::string& dir, const std::string& name) {
  std::string path = dir + "/warninglists/" + name + "/list.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("warninglist " + path + " not found");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > kMaxListBytes) return DataLossError("warninglist " + path + " too large");
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("list") || !doc["list"].is_array()) {
    return DataLossError("warninglist " + path + ": expected an object with a \"list\" array");
  }
  std::vector<std::string> out;
  out.reserve(doc["list"].size());
  for (const auto& v : doc["list"]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Host entries: lower-case, without the leading dot that MISP uses for "and
// subdomains".
void AddHosts(const std::vector<std::string>& raw, uint32_t bit, StringTable* table) {
  for (const std::string& e : raw) {
    std::string v = AsciiLower(e);
    while (!v.empty() && v.front() == '.') v.erase(0, 1);
    while (!v.empty() && v.back() == '.') v.pop_back();
    if (!v.empty()) table->Add(v, bit);
  }
}

// One bit per list in the shared table. The order of kHostLists within a group
// is the order in which the lists are consulted (the first list that matches
// names the reason).
enum Bit : uint32_t {
  kTld = 1u << 0,
  kSuffix = 1u << 1,
};

enum class Group : uint8_t { kPopular, kVendor, kSpecial, kHash };

struct HostListSpec {
  std::string_view name;
  Group group;
  bool url_any_path;
  uint32_t bit;
};

constexpr HostListSpec kHostLists[] = {
    {"tranco10k", Group::kPopular, false, 1u << 2},
    {"cisco_top1000", Group::kPopular, false, 1u << 3},
    // A report's links to vendor write-ups and what's-my-IP services are never
    // indicators, whatever the path; links into other big providers' hosting
    // (dev.azure.com/org, bit.ly/xyz) often are, so only their bare hosts are
    // flagged.
    {"security-provider-blogpost", Group::kVendor, true, 1u << 4},
    {"whats-my-ip", Group::kVendor, true, 1u << 5},
    {"google", Group::kVendor, false, 1u << 6},
    {"microsoft", Group::kVendor, false, 1u << 7},
    {"url-shortener", Group::kVendor, false, 1u << 8},
    {"rfc6761", Group::kSpecial, false, 1u << 9},
    {"empty-hashes", Group::kHash, false, 1u << 10},
    {"common-ioc-false-positive", Group::kHash, false, 1u << 11},
};
constexpr uint32_t kCiscoBit = 1u << 3;

uint32_t GroupBits(Group g) {
  uint32_t bits = 0;
  for (const HostListSpec& s : kHostLists) {
    if (s.group == g) bits |= s.bit;
  }
  return bits;
}

// The first list of `group` (in kHostLists order) whose bit is in `bits`.
Warninglists::Match FirstOf(Group group, uint32_t bits) {
  for (const HostListSpec& s : kHostLists) {
    if (s.group == group && (bits & s.bit) != 0) return {s.name, s.url_any_path};
  }
  return {};
}

}  // namespace

Result<Warninglists> Warninglists::Load(const std::string& dir) {
  Warninglists w;
  IOCGRID_ASSIGN_OR_RETURN(auto tlds, ReadList(dir, "tlds"));
  AddHosts(tlds, kTld, &w.table_);
  w.table_.Add("onion", kTld);
  IOCGRID_ASSIGN_OR_RETURN(auto suffixes, ReadList(dir, "second-level-tlds"));
  AddHosts(suffixes, kSuffix, &w.table_);
  for (const HostListSpec& s : kHostLists) {
    IOCGRID_ASSIGN_OR_RETURN(auto raw, ReadList(dir, std::string(s.name)));
    AddHosts(raw, s.bit, &w.table_);
  }
  struct CidrSpec {
    const char* name;
    bool reserved;
  };
  const CidrSpec cidr_specs[] = {
      {"apple", false}, {"rfc3849", true}, {"rfc6598", true}, {"ipv6-linklocal", true}};
  for (const CidrSpec& s : cidr_specs) {
    IOCGRID_ASSIGN_OR_RETURN(auto raw, ReadList(dir, s.name));
    CidrList list;
    list.name = s.name;
    list.reserved = s.reserved;
    for (const std::string& e : raw) {
      auto net = core::ParseIpNetwork(e);
      if (!net.ok()) {
        return DataLossError("warninglist " + std::string(s.name) + ": " +
                             std::string(net.status().message()));
      }
      list.ranges.push_back(*net);
    }
    w.cidrs_.push_back(std::move(list));
  }
  return w;
}

Warninglists::HostFacts Warninglists::Analyze(std::string_view host) const {
  // Level i is the host without its first i labels; one table lookup per level.
  constexpr size_t kMaxLevels = 128;  // 253 bytes hold at most 127 labels
  size_t offsets[kMaxLevels];
  uint32_t bits[kMaxLevels];
  size_t levels = 0;
  uint64_t host_hash = HashBytes(host);
  for (size_t pos = 0;;) {
    if (levels == kMaxLevels) return {};
    offsets[levels] = pos;
    std::string_view level = host.substr(pos);
    bits[levels] = table_.Find(level, pos == 0 ? host_hash : HashBytes(level));
    ++levels;
    size_t dot = host.find('.', pos);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  HostFacts facts;
  facts.host_hash = host_hash;
  size_t last = levels - 1;
  std::string_view tld = host.substr(offsets[last]);
  facts.known_tld = tld.rfind("xn--", 0) == 0 ? tld.size() > 4 : (bits[last] & kTld) != 0;
  // Walk from the longest proper suffix down; the first public suffix found
  // decides.
  size_t reg = levels;
  for (size_t i = 1; i < levels; ++i) {
    bool suffix = i == last ? facts.known_tld : (bits[i] & kSuffix) != 0;
    if (suffix) {
      reg = i - 1;
      break;
    }
  }
  if (reg == levels) reg = last == 0 ? 0 : last - 1;  // no listed suffix: the last two labels
  facts.registrable = host.substr(offsets[reg]);

  // Popular: the host itself or without "www.", or a registrable domain in the
  // Cisco list.
  uint32_t popular = bits[0];
  if (host.rfind("www.", 0) == 0 && levels > 1) popular |= bits[1];
  facts.popular = FirstOf(Group::kPopular, popular);
  if (facts.popular.list.empty() && (bits[reg] & kCiscoBit) != 0) {
    facts.popular = FirstOf(Group::kPopular, kCiscoBit);
  }
  // Self-or-parent lists: every level but the bare TLD.
  uint32_t parents = bits[0];
  for (size_t i = 1; i < last; ++i) parents |= bits[i];
  facts.vendor = FirstOf(Group::kVendor, parents);
  facts.special = FirstOf(Group::kSpecial, parents);
  if (facts.special.list.empty()) {
    // RFC 6761/6762/2606 reserved TLDs are not in the IANA root, so they never
    // pass the TLD check; "example.com/net/org" are the registered ones.
    std::string_view r = facts.registrable;
    if (r == "example.com" || r == "example.net" || r == "example.org") {
      facts.special = {"rfc2606", false};
    }
  }
  return facts;
}

Warninglists::Match Warninglists::BenignHash(std::string_view hex, uint64_t hash) const {
  return FirstOf(Group::kHash, table_.Find(hex, hash) & GroupBits(Group::kHash));
}

Warninglists::Match Warninglists::IpRange(const core::IpNetwork& ip, bool* reserved) const {
  for (const CidrList& list : cidrs_) {
    for (const core::IpNetwork& r : list.ranges) {
      if (InNetwork(ip, r)) {
        *reserved = list.reserved;
        return {list.name, false};
      }
    }
  }
  return {};
}

}  // namespace iocgrid::extract::internal
