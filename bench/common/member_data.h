// Synthetic member data and query sets shared by the node and portal benchmarks: 10^6-scale
// events shaped like a member's (60% IPv4 addresses, 20% CIDRs /16../28, 10% domains, 10% md5,
// random uuids) and query lists with a chosen share of hits.
//
// Thread-safety: pure functions; each caller owns its rng and Dataset.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/indicator.h"

namespace iocgrid::bench {

inline std::string Ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." +
         std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

inline std::string Hex(std::mt19937_64& rng, int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(static_cast<size_t>(chars));
  for (int i = 0; i < chars; i += 16) {
    uint64_t r = rng();
    for (int k = 0; k < 16 && i + k < chars; ++k, r >>= 4) s += kHex[r & 0xf];
  }
  return s;
}

// Stored CIDRs lie in 11.0.0.0 .. 42.255.255.255 (32 /8s), so an address there is covered by
// about 4 of them on average (a /16 and a /24 inside it, as feeds overlap); query misses come
// from outside that block.
inline constexpr uint32_t kCidrOctets = 32;

// A public-looking address (first octet 1..223, not 10 or 127); `outside_cidrs` keeps it out
// of the stored CIDRs' block.
inline uint32_t PublicIp(std::mt19937_64& rng, bool outside_cidrs = false) {
  while (true) {
    const uint32_t v = static_cast<uint32_t>(rng());
    const uint32_t a = v >> 24;
    if (a == 0 || a == 10 || a == 127 || a >= 224) continue;
    if (outside_cidrs && a >= 11 && a < 11 + kCidrOctets) continue;
    return v;
  }
}

// A random address inside "a.b.c.d/n".
inline std::string IpInside(const std::string& cidr, std::mt19937_64& rng) {
  const size_t slash = cidr.find('/');
  const int prefix = std::stoi(cidr.substr(slash + 1));
  uint32_t base = 0;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    const size_t dot = cidr.find_first_of("./", pos);
    base = (base << 8) | static_cast<uint32_t>(std::stoi(cidr.substr(pos, dot - pos)));
    pos = dot + 1;
  }
  return Ip(base | (static_cast<uint32_t>(rng()) & ((1u << (32 - prefix)) - 1)));
}

// The stored values of one member, by kind, for building queries that hit.
struct Dataset {
  std::vector<std::string> ips, cidrs, domains, md5s;
};

struct EventSpec {
  uint64_t seed = 42;
  std::string uuid;
  std::string info;
  std::string org;
  std::string domain_prefix = "h";  // keeps members' domains apart
  int64_t attributes = 1'000'000;
  // Stored CIDRs are /min_prefix../min_prefix+12 (at most /32). /16 keeps an address of the
  // CIDR block inside about 4 stored ranges when a member holds 2·10^5 of them (10^6
  // attributes); a member holding k times as many keeps that depth with a prefix log2(k)
  // longer (CidrMinPrefix), as real feeds hold more, smaller ranges, not ever deeper overlaps.
  int cidr_min_prefix = 16;
};

// The cidr_min_prefix that keeps an address of the block inside about 4 stored ranges in a
// store of `attributes` (20% of them CIDRs): 16 up to 10^6, one more per doubling.
inline int CidrMinPrefix(int64_t attributes) {
  int prefix = 16;
  for (int64_t n = 1'000'000; n * 2 <= attributes && prefix < 24; n *= 2) ++prefix;
  return prefix;
}

// One event of `spec.attributes` attributes; the stored values are also added to *data (when
// not null). With `values_only`, the event is left empty and only *data is filled (the same
// values: a kept store's queries, without holding its event in memory).
inline core::Event BuildMemberEvent(const EventSpec& spec, Dataset* data,
                                    bool values_only = false) {
  std::mt19937_64 rng(spec.seed);
  core::Event event;
  event.uuid = spec.uuid;
  event.info = spec.info;
  event.date = "2024-01-31";
  event.org = spec.org;
  event.timestamp = 1706700000;
  event.tags = {"tlp:amber"};
  if (!values_only) event.attributes.reserve(static_cast<size_t>(spec.attributes));
  for (int64_t i = 0; i < spec.attributes; ++i) {
    const int64_t bucket = i % 10;
    std::string type, value;
    if (bucket < 6) {
      type = "ip-dst";
      value = Ip(PublicIp(rng));
      if (data != nullptr) data->ips.push_back(value);
    } else if (bucket < 8) {
      const int span = std::min(13, 33 - spec.cidr_min_prefix);  // /16../28 by default
      const int prefix =
          spec.cidr_min_prefix + static_cast<int>(rng() % static_cast<uint64_t>(span));
      const uint32_t base = ((11u + static_cast<uint32_t>(rng() % kCidrOctets)) << 24) |
                            (static_cast<uint32_t>(rng()) & 0x00ffffffu);
      const uint32_t mask = prefix == 32 ? ~0u : ~0u << (32 - prefix);
      type = "ip-dst";
      value = Ip(base & mask) + "/" + std::to_string(prefix);
      if (data != nullptr) data->cidrs.push_back(value);
    } else if (bucket == 8) {
      type = "domain";
      value = spec.domain_prefix + Hex(rng, 10) + ".bad-" + std::to_string(i % 5000) + ".example";
      if (data != nullptr) data->domains.push_back(value);
    } else {
      type = "md5";
      value = Hex(rng, 32);
      if (data != nullptr) data->md5s.push_back(value);
    }
    std::string uuid = Hex(rng, 8) + "-" + Hex(rng, 4) + "-4" + Hex(rng, 3) + "-8" + Hex(rng, 3) +
                       "-" + Hex(rng, 12);
    if (values_only) continue;
    auto parsed = core::ParseIndicator(type, value);
    if (!parsed.ok()) std::abort();
    core::Attribute a;
    a.indicator = std::move(*parsed);
    a.to_ids = true;
    a.timestamp = 1706700000 + i % 86400;
    a.uuid = std::move(uuid);
    event.attributes.push_back(std::move(a));
  }
  return event;
}

// n query values, about `hit_fraction` of them hitting one of `members` (stored addresses,
// addresses inside stored CIDRs, subdomains of stored domains, stored md5s); misses are
// addresses outside the CIDR block, unknown domains and unknown md5s.
inline std::vector<std::string> Queries(const std::vector<const Dataset*>& members, size_t n,
                                        double hit_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t kind = rng() % 10;
    if (u(rng) < hit_fraction) {
      const Dataset& d = members.size() == 1 ? *members[0] : *members[rng() % members.size()];
      if (kind < 4) {
        out.push_back(d.ips[rng() % d.ips.size()]);
      } else if (kind < 7) {
        out.push_back(IpInside(d.cidrs[rng() % d.cidrs.size()], rng));
      } else if (kind < 9) {
        out.push_back("www." + d.domains[rng() % d.domains.size()]);
      } else {
        out.push_back(d.md5s[rng() % d.md5s.size()]);
      }
    } else if (kind < 7) {
      out.push_back(Ip(PublicIp(rng, /*outside_cidrs=*/true)));
    } else if (kind < 9) {
      out.push_back("x" + Hex(rng, 8) + ".clean-" + std::to_string(rng() % 1000) + ".test");
    } else {
      out.push_back(Hex(rng, 32));
    }
  }
  return out;
}

}  // namespace iocgrid::bench
