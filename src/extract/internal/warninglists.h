// Warninglists: the bundled MISP warninglists (data/warninglists/<name>/list.json) that the
// extractor's false-positive filters consult, plus the IANA TLD list and Mozilla's public
// suffixes (second-level-tlds) used to validate domains and find registrable domains.
//
// Thread-safety: immutable after Load(); every method is const and safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "core/ip.h"

namespace iocgrid::extract::internal {

class Warninglists {
 public:
  struct Match {
    std::string_view list;      // the warninglist's directory name; empty when no match
    bool url_any_path = false;  // a URL on this host is benign whatever its path
  };

  // Loads every list this class knows from `dir` (the data directory holding warninglists/).
  // Errors: kNotFound when a list file is missing, kDataLoss when one is malformed.
  static Result<Warninglists> Load(const std::string& dir);

  // `label` is lower-case ASCII. IANA TLDs, plus "onion" (RFC 7686), which IANA does not list.
  bool IsTld(std::string_view label) const;

  // The registrable domain (public suffix + one label) of a lower-case host, a view into
  // `host`; the host itself when it is a public suffix or has one label.
  std::string_view RegistrableDomain(std::string_view host) const;

  // True when `host` is itself a public suffix (co.uk, duckdns.org).
  bool IsPublicSuffix(std::string_view host) const;

  // Popular sites (tranco10k, cisco_top1000): the host itself (or without "www."), or its
  // registrable domain when that is in the Cisco top 1000 (sites large enough to own all their
  // subdomains; dynamic-DNS and hosting suffixes are public suffixes, so their customers'
  // names have registrable domains of their own and are not covered).
  Match Popular(std::string_view host) const;
  // Single-owner lists (security vendors, google, microsoft, URL shorteners, what's-my-IP):
  // the host or any parent domain.
  Match Vendor(std::string_view host) const;
  // RFC 6761 special-use names and their subdomains.
  Match Special(std::string_view host) const;
  // Known-benign hashes (lower-case hex).
  Match BenignHash(std::string_view hex) const;
  // CIDR lists. `reserved` is set for the RFC lists (documentation, shared address space,
  // link-local), cleared for provider ranges (apple).
  Match IpRange(const core::IpNetwork& ip, bool* reserved) const;

 private:
  struct HostList {
    std::string name;
    bool url_any_path = false;
    std::unordered_set<std::string> entries;
  };
  struct CidrList {
    std::string name;
    bool reserved = false;
    std::vector<core::IpNetwork> ranges;
  };

  static Match FindSelfOrParent(const std::vector<HostList>& lists, std::string_view host);

  std::unordered_set<std::string> tlds_;
  std::unordered_set<std::string> suffixes_;
  std::vector<HostList> popular_;
  std::vector<HostList> vendor_;
  std::vector<HostList> special_;
  std::vector<HostList> hashes_;
  std::vector<CidrList> cidrs_;
};

}  // namespace iocgrid::extract::internal
