#include "extract/internal/warninglists.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace iocgrid::extract::internal {
namespace {

constexpr size_t kMaxListBytes = 16 << 20;  // the largest bundled list is ~300 KiB

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

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

// Host entries: lower-case, without the leading dot that MISP uses for "and subdomains".
void AddHosts(const std::vector<std::string>& raw, std::unordered_set<std::string>* set) {
  set->reserve(raw.size());
  for (const std::string& e : raw) {
    std::string v = Lower(e);
    while (!v.empty() && v.front() == '.') v.erase(0, 1);
    while (!v.empty() && v.back() == '.') v.pop_back();
    if (!v.empty()) set->insert(std::move(v));
  }
}

bool InRange(const core::IpNetwork& ip, const core::IpNetwork& range) {
  if (ip.v6 != range.v6 || ip.prefix < range.prefix) return false;
  int bits = range.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
    if ((ip.bytes[i] & mask) != (range.bytes[i] & mask)) return false;
  }
  return true;
}

}  // namespace

Result<Warninglists> Warninglists::Load(const std::string& dir) {
  Warninglists w;
  IOCGRID_ASSIGN_OR_RETURN(auto tlds, ReadList(dir, "tlds"));
  AddHosts(tlds, &w.tlds_);
  w.tlds_.insert("onion");
  IOCGRID_ASSIGN_OR_RETURN(auto suffixes, ReadList(dir, "second-level-tlds"));
  AddHosts(suffixes, &w.suffixes_);

  struct Spec {
    const char* name;
    std::vector<HostList>* into;
    bool url_any_path;
  };
  const Spec specs[] = {
      {"tranco10k", &w.popular_, false},
      {"cisco_top1000", &w.popular_, false},
      // A report's links to vendor write-ups and what's-my-IP services are never indicators,
      // whatever the path; links into other big providers' hosting (dev.azure.com/org,
      // bit.ly/xyz) often are, so only their bare hosts are flagged.
      {"security-provider-blogpost", &w.vendor_, true},
      {"whats-my-ip", &w.vendor_, true},
      {"google", &w.vendor_, false},
      {"microsoft", &w.vendor_, false},
      {"url-shortener", &w.vendor_, false},
      {"rfc6761", &w.special_, false},
      {"empty-hashes", &w.hashes_, false},
      {"common-ioc-false-positive", &w.hashes_, false},
  };
  for (const Spec& s : specs) {
    IOCGRID_ASSIGN_OR_RETURN(auto raw, ReadList(dir, s.name));
    HostList list;
    list.name = s.name;
    list.url_any_path = s.url_any_path;
    AddHosts(raw, &list.entries);
    s.into->push_back(std::move(list));
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

bool Warninglists::IsTld(std::string_view label) const {
  if (label.rfind("xn--", 0) == 0) return label.size() > 4;
  return tlds_.count(std::string(label)) != 0;
}

bool Warninglists::IsPublicSuffix(std::string_view host) const {
  if (host.find('.') == std::string_view::npos) return IsTld(host);
  return suffixes_.count(std::string(host)) != 0;
}

std::string_view Warninglists::RegistrableDomain(std::string_view host) const {
  // Walk from the longest proper suffix down; the first public suffix found decides.
  size_t pos = host.find('.');
  size_t prev = 0;
  while (pos != std::string_view::npos) {
    std::string_view suffix = host.substr(pos + 1);
    if (IsPublicSuffix(suffix)) return host.substr(prev);
    prev = pos + 1;
    pos = host.find('.', pos + 1);
  }
  // No listed suffix: the last two labels.
  size_t last = host.rfind('.');
  if (last == std::string_view::npos) return host;
  size_t second = host.rfind('.', last - 1);
  return second == std::string_view::npos || last == 0 ? host : host.substr(second + 1);
}

Warninglists::Match Warninglists::FindSelfOrParent(const std::vector<HostList>& lists,
                                                   std::string_view host) {
  std::string key(host);
  for (const HostList& list : lists) {
    std::string_view h = key;
    while (true) {
      if (list.entries.count(std::string(h)) != 0) return {list.name, list.url_any_path};
      size_t dot = h.find('.');
      if (dot == std::string_view::npos) break;
      h.remove_prefix(dot + 1);
      if (h.find('.') == std::string_view::npos) break;  // never match a bare TLD
    }
  }
  return {};
}

Warninglists::Match Warninglists::Popular(std::string_view host) const {
  std::string_view bare = host;
  if (bare.rfind("www.", 0) == 0) bare.remove_prefix(4);
  for (const HostList& list : popular_) {
    if (list.entries.count(std::string(host)) != 0 || list.entries.count(std::string(bare)) != 0) {
      return {list.name, false};
    }
  }
  std::string_view reg = RegistrableDomain(host);
  for (const HostList& list : popular_) {
    if (list.name == "cisco_top1000" && list.entries.count(std::string(reg)) != 0) {
      return {list.name, false};
    }
  }
  return {};
}

Warninglists::Match Warninglists::Vendor(std::string_view host) const {
  return FindSelfOrParent(vendor_, host);
}

Warninglists::Match Warninglists::Special(std::string_view host) const {
  Match m = FindSelfOrParent(special_, host);
  if (!m.list.empty()) return m;
  // RFC 6761/6762/2606 reserved TLDs are not in the IANA root, so they never pass the TLD
  // check; "example.com/net/org" are the registered ones.
  std::string_view reg = RegistrableDomain(host);
  if (reg == "example.com" || reg == "example.net" || reg == "example.org")
    return {"rfc2606", false};
  return {};
}

Warninglists::Match Warninglists::BenignHash(std::string_view hex) const {
  for (const HostList& list : hashes_) {
    if (list.entries.count(std::string(hex)) != 0) return {list.name, false};
  }
  return {};
}

Warninglists::Match Warninglists::IpRange(const core::IpNetwork& ip, bool* reserved) const {
  for (const CidrList& list : cidrs_) {
    for (const core::IpNetwork& r : list.ranges) {
      if (InRange(ip, r)) {
        *reserved = list.reserved;
        return {list.name, false};
      }
    }
  }
  return {};
}

}  // namespace iocgrid::extract::internal
