// Warninglists: the bundled MISP warninglists
// (data/warninglists/<name>/list.json) that the extractor's false-positive
// filters consult, plus the IANA TLD list and Mozilla's public suffixes
// (second-level-tlds) used to validate domains and find registrable domains.
//
// Every host list, the TLDs, the public suffixes and the hash lists share one
// StringTable whose value is a bit per list, so that Analyze() answers every
// host question with one lookup per label of the host (the extractor asks them
// for each host it meets).
//
// Thread-safety: immutable after Load(); every method is const and safe from
// any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/ip.h"
#include "extract/internal/string_table.h"

namespace iocgrid::extract::internal {

class Warninglists {
 public:
  struct Match {
    std::string_view list;      // the warninglist's directory name; empty when no match
    bool url_any_path = false;  // a URL on this host is benign whatever its path
  };

  // What the lists say about one lower-case host name (labels already
  // validated).
  struct HostFacts {
    // The last label is an IANA TLD, "onion" (RFC 7686, not in IANA's list) or
    // "xn--"+name.
    bool known_tld = false;
    // The registrable domain (public suffix + one label), a view into the host;
    // the host itself when it is a public suffix or has one label.
    std::string_view registrable;
    // Popular sites (tranco10k, cisco_top1000): the host itself (or without
    // "www."), or its registrable domain when that is in the Cisco top 1000
    // (sites large enough to own all their subdomains; dynamic-DNS and hosting
    // suffixes are public suffixes, so their customers' names have registrable
    // domains of their own and are not covered).
    Match popular;
    // Single-owner lists (security vendors, google, microsoft, URL shorteners,
    // what's-my-IP): the host or any parent domain.
    Match vendor;
    // RFC 6761 special-use names and their subdomains, and example.com/net/org
    // (RFC 2606).
    Match special;
    // HashBytes(host), for callers that index the host too.
    uint64_t host_hash = 0;
  };

  // Loads every list this class knows from `dir` (the data directory holding
  // warninglists/). Errors: kNotFound when a list file is missing, kDataLoss
  // when one is malformed.
  static Result<Warninglists> Load(const std::string& dir);

  // REQUIRES: `host` is lower-case, at most 253 bytes, with non-empty labels.
  HostFacts Analyze(std::string_view host) const;

  // Known-benign hashes (lower-case hex, or ssdeep as written).
  Match BenignHash(std::string_view hex) const { return BenignHash(hex, HashBytes(hex)); }
  // Same, with `hash` = HashBytes(hex) already computed.
  Match BenignHash(std::string_view hex, uint64_t hash) const;
  // CIDR lists. `reserved` is set for the RFC lists (documentation, shared
  // address space, link-local), cleared for provider ranges (apple).
  Match IpRange(const core::IpNetwork& ip, bool* reserved) const;

 private:
  struct CidrList {
    std::string name;
    bool reserved = false;
    std::vector<core::IpNetwork> ranges;
  };

  StringTable table_;  // host, TLD, suffix and hash entries -> the bits of their lists
  std::vector<CidrList> cidrs_;
};

}  // namespace iocgrid::extract::internal
