// Query sets derived from member data, for tests that compare two ways of searching it (the
// private-search tests against MatchIndex and /grid/v1/match): variations of every k-th stored
// value that exercise every relation (neighbours, networks around and inside its IPs, ports,
// URLs and composites with it, subdomains, URLs on it, digests in composites), and the client
// addresses of an access log.
#pragma once

#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/indicator.h"
#include "core/ip.h"

namespace iocgrid::test {

// Appends `value` parsed as `type`, when it parses.
inline void AddParsed(std::string_view type, std::string_view value,
                      std::vector<core::Indicator>* out) {
  if (auto parsed = core::ParseIndicator(type, value); parsed.ok()) out->push_back(*parsed);
}

// The canonical text of the network of `length` bits containing `net`.
inline std::string NetworkOf(core::IpNetwork net, unsigned length) {
  const unsigned full = net.v6 ? 128 : 32;
  for (unsigned bit = length; bit < full; ++bit) net.bytes[bit / 8] &= ~(0x80u >> (bit % 8));
  net.prefix = static_cast<uint8_t>(length);
  return core::FormatIpNetwork(net);
}

// Queries that exercise every relation against `stored`: variations of every k-th value.
inline void DeriveQueries(const std::vector<core::Indicator>& stored, size_t every,
                          std::vector<core::Indicator>* out) {
  for (size_t i = 0; i < stored.size(); i += every) {
    const core::Indicator& s = stored[i];
    out->push_back(s);
    core::Component parts[2];
    int n = core::Components(s, parts);
    for (int p = 0; p < n; ++p) {
      const std::string part(parts[p].value);
      switch (parts[p].family) {
        case core::MatchFamily::kIp: {
          auto net = core::ParseIpNetwork(part);
          if (!net.ok()) break;
          const unsigned full = net->v6 ? 128 : 32;
          core::IpNetwork inside = *net;
          inside.bytes[net->v6 ? 15 : 3] |= 1;  // an address in it (or its neighbour)
          inside.prefix = static_cast<uint8_t>(full);
          AddParsed("ip-dst", core::FormatIpNetwork(inside), out);
          // Networks around it, no wider than a /8 (v4) or /24 (v6): wider queries exceed the
          // range budget by design (keys_test.cc covers that report).
          const unsigned widest = net->v6 ? 24 : 8;
          for (unsigned cut : {1u, 3u, 7u, 11u}) {
            if (net->prefix >= cut + widest)
              AddParsed("ip-src", NetworkOf(*net, net->prefix - cut), out);
          }
          if (net->prefix + 2u <= full)
            AddParsed("ip-dst", NetworkOf(inside, net->prefix + 2u), out);
          if (net->is_address()) {
            AddParsed("ip-dst|port", part + "|443", out);
            AddParsed("url", net->v6 ? "http://[" + part + "]/x" : "http://" + part + "/x", out);
            AddParsed("domain|ip", "q.example|" + part, out);
          }
          break;
        }
        case core::MatchFamily::kHost:
          AddParsed("hostname", "www." + part, out);
          AddParsed("url", "https://x." + part + "/path", out);
          AddParsed("domain|ip", part + "|192.0.2.1", out);
          break;
        case core::MatchFamily::kUrl:
          if (std::string_view host = core::UrlHost(part); !host.empty()) {
            AddParsed("hostname", host, out);
            AddParsed("hostname", "a." + std::string(host), out);
          }
          break;
        case core::MatchFamily::kHash:
          if (part.size() == 32) AddParsed("filename|md5", "q.exe|" + part, out);
          AddParsed("md5", part, out);
          break;
        default:
          break;
      }
    }
  }
}

// The first `max` distinct client addresses of an access log (its first field), as ip-src.
inline void LogClients(const std::string& path, size_t max, std::vector<core::Indicator>* out) {
  std::ifstream in(path);
  std::string line;
  std::set<std::string> seen;
  while (std::getline(in, line) && seen.size() < max) {
    std::string ip = line.substr(0, line.find(' '));
    if (seen.insert(ip).second) AddParsed("ip-src", ip, out);
  }
}

}  // namespace iocgrid::test
