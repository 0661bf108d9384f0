#include "psi/keys.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/indicator_type.h"
#include "core/ip.h"

// Key strings are "<class>\0<value>". The classes are the match families of MatchIndex's key
// tags ("ip", "host", "url", "email", "hash", "other:<type>" for family other, which compares
// per type), "pair:<left>|<right>" for a composite's whole value under its shape, and "below"
// for the networks above a stored IP. Class names never hold a NUL, so the split is unique.

namespace iocgrid::psi {
namespace {

using core::IndicatorType;
using core::MatchFamily;

constexpr std::string_view kIpClass = "ip";
constexpr std::string_view kHostClass = "host";
constexpr std::string_view kBelowClass = "below";
constexpr std::string_view kOtherPrefix = "other:";
constexpr std::string_view kPairPrefix = "pair:";

std::string MakeKey(std::string_view cls, std::string_view value) {
  std::string key;
  key.reserve(cls.size() + 1 + value.size());
  key.append(cls);
  key.push_back('\0');
  key.append(value);
  return key;
}

// The class of a non-composite type's values: MatchIndex's TypeTag as a name.
std::string TypeClass(IndicatorType type) {
  MatchFamily family = core::FamilyOf(type);
  if (family != MatchFamily::kOther) return std::string(core::FamilyName(family));
  return std::string(kOtherPrefix) + std::string(core::TypeName(type));
}

// The class of a composite's whole value: its shape (the classes of its halves), so that
// ip-src|port and ip-dst|port compare whole, as in MatchIndex.
std::string PairClass(IndicatorType type) {
  auto [left, right] = core::CompositeParts(type);
  return std::string(kPairPrefix) + TypeClass(left) + "|" + TypeClass(right);
}

// ---- IP networks ---------------------------------------------------------------------------

unsigned FullLength(const core::IpNetwork& net) { return net.v6 ? 128 : 32; }

bool LengthSet(const PrefixLengths& lengths, bool v6, unsigned length) {
  return v6 ? lengths.v6.test(length) : lengths.v4.test(length);
}

// The network of `length` bits containing `net`. REQUIRES: length <= net.prefix.
core::IpNetwork Truncate(core::IpNetwork net, unsigned length) {
  for (unsigned bit = length; bit < FullLength(net); ++bit) {
    net.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  net.prefix = static_cast<uint8_t>(length);
  return net;
}

// The i-th sub-network of `length` bits of `net`. REQUIRES: net.prefix <= length, and
// i < 2^(length - net.prefix).
core::IpNetwork Subnet(core::IpNetwork net, unsigned length, uint64_t i) {
  const unsigned span = length - net.prefix;
  for (unsigned b = 0; b < span; ++b) {
    const unsigned bit = net.prefix + b;
    if (((i >> (span - 1 - b)) & 1u) != 0)
      net.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  }
  net.prefix = static_cast<uint8_t>(length);
  return net;
}

// The rounding lengths of a member: its range and below lengths and the full lengths.
bool Rounding(const RangeOptions& options, bool v6, unsigned length) {
  return length == (v6 ? 128u : 32u) || LengthSet(options.lengths, v6, length) ||
         LengthSet(options.below, v6, length);
}

// r(q): the shortest rounding length >= q, or q itself when that is more than
// kMaxRoundingBits away (then q is declared as a range length of its own).
unsigned RoundedLength(const RangeOptions& options, bool v6, unsigned q) {
  const unsigned full = v6 ? 128 : 32;
  unsigned r = q;
  while (r < full && !Rounding(options, v6, r)) ++r;
  return r - q > kMaxRoundingBits ? q : r;
}

// A stored IP value or half: its value key when its length is a range length, else its
// sub-networks of length r(q) (a query equal to it finds them through its first sub-network
// at r(q), so the value key would add nothing); and its below keys.
void AddIpKeys(std::string_view value, const RangeOptions& options, std::vector<std::string>* out) {
  Result<core::IpNetwork> net = core::ParseIpNetwork(value);
  if (!net.ok()) {
    out->push_back(MakeKey(kIpClass, value));  // not reached for normalized values
    return;
  }
  const unsigned q = net->prefix;
  const unsigned r = RoundedLength(options, net->v6, q);
  if (r == q) out->push_back(MakeKey(kIpClass, value));
  // r - q <= kMaxRoundingBits, so at most 256 keys.
  for (uint64_t i = 0; r > q && i < (uint64_t{1} << (r - q)); ++i) {
    out->push_back(MakeKey(kIpClass, core::FormatIpNetwork(Subnet(*net, r, i))));
  }
  for (unsigned length = 0; length < q; ++length) {
    if (LengthSet(options.below, net->v6, length)) {
      out->push_back(MakeKey(kBelowClass, core::FormatIpNetwork(Truncate(*net, length))));
    }
  }
}

void Dedupe(std::vector<std::string>* out, size_t start) {
  auto first = out->begin() + static_cast<ptrdiff_t>(start);
  std::sort(first, out->end());
  out->erase(std::unique(first, out->end()), out->end());
}

// ---- Query side -----------------------------------------------------------------------------

class QueryExpander {
 public:
  QueryExpander(const RangeDeclaration& declaration, const QueryKeyOptions& options,
                std::vector<std::string>* out)
      : declaration_(declaration), options_(options), out_(out) {}

  // MatchIndex::Impl::MatchPart: the part's own key, then what its family adds.
  void Part(IndicatorType type, std::string_view value) {
    out_->push_back(MakeKey(TypeClass(type), value));
    switch (core::FamilyOf(type)) {
      case MatchFamily::kHost:
        Parents(value);
        break;
      case MatchFamily::kIp:
        if (auto net = core::ParseIpNetwork(value); net.ok()) Range(*net);
        break;
      case MatchFamily::kUrl: {
        if (type != IndicatorType::kUrl && type != IndicatorType::kLink) break;
        std::string_view host = core::UrlHost(value);
        if (host.empty()) break;
        if (auto net = core::ParseIpNetwork(host); net.ok()) {
          if (!net->is_address()) break;
          out_->push_back(MakeKey(kIpClass, core::FormatIpNetwork(*net)));
          Range(*net);
        } else {
          out_->push_back(MakeKey(kHostClass, host));
          Parents(host);
        }
        break;
      }
      default:
        break;
    }
  }

  bool complete() const { return complete_; }

 private:
  // Every proper parent domain, down to the last label (MatchHostParents).
  void Parents(std::string_view host) {
    for (size_t dot = host.find('.'); dot != std::string_view::npos;
         dot = host.find('.', dot + 1)) {
      std::string_view parent = host.substr(dot + 1);
      if (parent.empty()) break;
      out_->push_back(MakeKey(kHostClass, parent));
    }
  }

  // In-range (docs/private-search.md "In-range"): the stored networks containing `net` through
  // its ancestors (and first sub-networks) at the range lengths, those inside it through its
  // sub-networks at the range lengths up to L* and the below keys at L*.
  void Range(const core::IpNetwork& net) {
    const bool v6 = net.v6;
    const unsigned full = FullLength(net);
    const unsigned p = net.prefix;
    const PrefixLengths& lengths = declaration_.lengths;
    for (unsigned length = 0; length < p; ++length) {
      if (LengthSet(lengths, v6, length)) {
        out_->push_back(MakeKey(kIpClass, core::FormatIpNetwork(Truncate(net, length))));
      }
    }
    if (p == full) return;
    // A stored network N of length q <= p is tagged at r(q) <= q + kMaxRoundingBits; when
    // r(q) > p, the first sub-network of `net` at r(q) lies in N exactly when `net` does.
    for (unsigned length = p + 1; length <= std::min(full, p + kMaxRoundingBits); ++length) {
      if (LengthSet(lengths, v6, length)) {
        out_->push_back(MakeKey(kIpClass, core::FormatIpNetwork(Subnet(net, length, 0))));
      }
    }
    unsigned below = full + 1;
    for (unsigned length = p; length <= full; ++length) {
      if (LengthSet(declaration_.below, v6, length)) {
        below = length;
        break;
      }
    }
    // Cheapest first, so that the budget leaves out the widest enumerations.
    if (below <= full) Enumerate(net, below, kBelowClass);
    for (unsigned length = p + 1; length <= std::min(below, full); ++length) {
      if (LengthSet(lengths, v6, length)) Enumerate(net, length, kIpClass);
    }
  }

  // The keys of `net`'s sub-networks of `length` bits, if the budget allows them all.
  void Enumerate(const core::IpNetwork& net, unsigned length, std::string_view cls) {
    const unsigned span = length - net.prefix;
    if (span >= 63 || (uint64_t{1} << span) > options_.max_range_keys - range_keys_) {
      complete_ = false;
      return;
    }
    const uint64_t count = uint64_t{1} << span;
    range_keys_ += count;
    for (uint64_t i = 0; i < count; ++i) {
      out_->push_back(MakeKey(cls, core::FormatIpNetwork(Subnet(net, length, i))));
    }
  }

  const RangeDeclaration& declaration_;
  const QueryKeyOptions& options_;
  std::vector<std::string>* out_;
  size_t range_keys_ = 0;
  bool complete_ = true;
};

}  // namespace

PrefixLengths RangeOptions::DefaultRangeLengths() {
  PrefixLengths lengths;
  for (unsigned length = 8; length <= 32; length += 4) lengths.v4.set(length);
  for (unsigned length = 16; length <= 128; length += 8) lengths.v6.set(length);
  return lengths;
}

PrefixLengths RangeOptions::DefaultBelowLengths() {
  PrefixLengths lengths;
  lengths.v4.set(16);
  lengths.v4.set(24);
  for (unsigned length = 32; length <= 64; length += 8) lengths.v6.set(length);
  return lengths;
}

void CollectPrefixLengths(const core::Indicator& stored, PrefixLengths* lengths) {
  core::Component parts[2];
  const int n = core::Components(stored, parts);
  if (core::IsComposite(stored.type) && n != 2) return;
  for (int i = 0; i < n; ++i) {
    if (parts[i].family != MatchFamily::kIp) continue;
    Result<core::IpNetwork> net = core::ParseIpNetwork(parts[i].value);
    if (!net.ok()) continue;
    if (net->v6) {
      lengths->v6.set(net->prefix);
    } else {
      lengths->v4.set(net->prefix);
    }
  }
}

RangeDeclaration DeclareRanges(const PrefixLengths& stored, const RangeOptions& options) {
  RangeDeclaration d;
  d.below = options.below;
  for (bool v6 : {false, true}) {
    const unsigned full = v6 ? 128 : 32;
    for (unsigned length = 0; length <= full; ++length) {
      bool declared =
          Rounding(options, v6, length) ||
          (LengthSet(stored, v6, length) && RoundedLength(options, v6, length) == length);
      if (!declared) continue;
      if (v6) {
        d.lengths.v6.set(length);
      } else {
        d.lengths.v4.set(length);
      }
    }
  }
  return d;
}

void MemberKeys(const core::Indicator& stored, const RangeOptions& options,
                std::vector<std::string>* out) {
  const size_t start = out->size();
  if (core::IsComposite(stored.type)) {
    // MatchIndex::Impl::Add: the whole value under its shape, and each half that identifies
    // something alone (not a port).
    out->push_back(MakeKey(PairClass(stored.type), stored.value));
    core::Component parts[2];
    if (core::Components(stored, parts) == 2) {
      for (const core::Component& part : parts) {
        if (part.type == IndicatorType::kPort) continue;
        if (part.family == MatchFamily::kIp) {
          AddIpKeys(part.value, options, out);
        } else {
          out->push_back(MakeKey(TypeClass(part.type), part.value));
        }
      }
    }
  } else {
    const MatchFamily family = core::FamilyOf(stored.type);
    if (family != MatchFamily::kIp) out->push_back(MakeKey(TypeClass(stored.type), stored.value));
    switch (family) {
      case MatchFamily::kIp:
        AddIpKeys(stored.value, options, out);
        break;
      case MatchFamily::kUrl: {
        // A stored URL's host takes part in url-host only: one key, no parents, no ranges.
        std::string_view host = core::UrlHost(stored.value);
        if (host.empty()) break;
        if (auto net = core::ParseIpNetwork(host); net.ok()) {
          if (net->is_address()) out->push_back(MakeKey(kIpClass, core::FormatIpNetwork(*net)));
        } else {
          out->push_back(MakeKey(kHostClass, host));
        }
        break;
      }
      default:
        break;
    }
  }
  Dedupe(out, start);
}

bool QueryKeys(const core::Indicator& query, const RangeDeclaration& declaration,
               const QueryKeyOptions& options, std::vector<std::string>* out) {
  const size_t start = out->size();
  QueryExpander expander(declaration, options, out);
  if (core::IsComposite(query.type)) {
    out->push_back(MakeKey(PairClass(query.type), query.value));
    core::Component parts[2];
    if (core::Components(query, parts) == 2) {
      for (const core::Component& part : parts) {
        if (part.type != IndicatorType::kPort) expander.Part(part.type, part.value);
      }
    }
  } else {
    expander.Part(query.type, query.value);
  }
  Dedupe(out, start);
  return expander.complete();
}

Result<KeyProbe> ProbeForKey(std::string_view key) {
  const size_t nul = key.find('\0');
  if (nul == std::string_view::npos) return InvalidArgumentError("not a private-search key");
  const std::string_view cls = key.substr(0, nul);
  KeyProbe probe;
  probe.query.value = std::string(key.substr(nul + 1));
  auto set = [&](IndicatorType type) {
    probe.query.type = type;
    return probe;
  };
  if (cls == kIpClass) {
    probe.in_range = true;  // a rounded network's sub-network keys lie inside it
    return set(IndicatorType::kIpDst);
  }
  if (cls == kBelowClass) {
    probe.in_range = true;
    probe.equal = false;
    return set(IndicatorType::kIpDst);
  }
  if (cls == kHostClass) return set(IndicatorType::kHostname);
  if (cls == "url") return set(IndicatorType::kUrl);
  if (cls == "email") return set(IndicatorType::kEmailSrc);
  // Every digest type compares under the one hash family key.
  if (cls == "hash") return set(IndicatorType::kMd5);
  if (cls.substr(0, kOtherPrefix.size()) == kOtherPrefix) {
    if (auto type = core::TypeFromName(cls.substr(kOtherPrefix.size()))) {
      if (core::FamilyOf(*type) == MatchFamily::kOther && !core::IsComposite(*type)) {
        return set(*type);
      }
    }
  } else if (cls.substr(0, kPairPrefix.size()) == kPairPrefix) {
    for (IndicatorType type : core::AllIndicatorTypes()) {
      if (core::IsComposite(type) && PairClass(type) == cls) return set(type);
    }
  }
  return InvalidArgumentError("not a private-search key class");
}

std::string_view KeyClass(std::string_view key) { return key.substr(0, key.find('\0')); }

}  // namespace iocgrid::psi
