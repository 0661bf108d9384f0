#include "extract/extractor.h"

#include <hs/hs.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "core/indicator.h"
#include "core/ip.h"
#include "extract/internal/anchors.h"
#include "extract/internal/btc_address.h"
#include "extract/internal/extractor_impl.h"
#include "extract/internal/filters.h"
#include "extract/internal/hyperscan.h"
#include "extract/internal/refang.h"
#include "extract/internal/run.h"
#include "extract/internal/text.h"

namespace iocgrid::extract {
namespace internal {

using T = IndicatorType;

// Validates a lower-case host name found in the text: labels, a known TLD, no
// detection-name shapes. `start`/`end` locate it in the normalized text (for
// the spaced-dot rule). On success `facts` holds what the warninglists say
// about it.
bool Run::ValidHost(std::string_view host, size_t start, size_t end,
                    Warninglists::HostFacts* facts) const {
  if (host.size() > 253 || host.find('.') == std::string_view::npos) return false;
  size_t labels = 0;
  size_t pos = 0;
  std::string_view last;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(pos, dot - pos);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsLabelChar(c)) return false;
    }
    ++labels;
    last = label;
    pos = dot + 1;
  }
  *facts = impl_.lists.Analyze(host);
  if (!facts->known_tld) return false;
  if (last == "onion") {
    std::string_view name = host.substr(0, host.size() - 6);
    size_t dot = name.rfind('.');
    std::string_view onion = dot == std::string_view::npos ? name : name.substr(dot + 1);
    if (onion.size() != 16 && onion.size() != 56) return false;
  }
  // Registered names never hold '_' (only service labels below them do).
  std::string_view reg = facts->registrable;
  if (reg.substr(0, reg.find('.')).find('_') != std::string_view::npos) return false;
  // " dot " is a word in prose ("the dot com bubble"): trusted only in names
  // with 2+ dots.
  if (labels < 3 && HasEdit(start, end, RefangKind::kSpacedDot)) return false;
  return true;
}

void Run::ScanHost(size_t anchor_end) {
  size_t s = anchor_end;
  while (s > 0 && (IsLabelChar(t_[s - 1]) || t_[s - 1] == '.')) --s;
  size_t f = anchor_end;
  while (f < t_.size() && (IsLabelChar(t_[f]) || t_[f] == '.')) ++f;
  covered_[kAnchorDomain] = covered_[kAnchorIpv4] = f;
  while (s < f && (t_[s] == '.' || t_[s] == '-' || t_[s] == '_')) ++s;
  while (f > s && (t_[f - 1] == '.' || t_[f - 1] == '-' || t_[f - 1] == '_')) --f;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (before == '@' || after == '@' || after == '(') return;  // e-mail parts, code
  if (before == '/' || before == '\\') return;                // a path segment or a detection name
  if (Claimed(s, f, kClaimAny)) return;
  std::string_view token = t_.substr(s, f - s);

  // The labels: their count, how many are short numbers, the first and the
  // last.
  auto numeric = [](std::string_view l) {
    return !l.empty() && l.size() <= 3 && std::all_of(l.begin(), l.end(), IsDigit);
  };
  size_t label_count = 0;
  size_t numeric_labels = 0;
  std::string_view first_label;
  std::string_view tld;
  for (size_t p = 0; p <= token.size();) {
    size_t d = token.find('.', p);
    if (d == std::string_view::npos) d = token.size();
    std::string_view l = token.substr(p, d - p);
    if (l.empty()) return;
    if (label_count == 0) first_label = l;
    tld = l;
    ++label_count;
    if (numeric(l)) ++numeric_labels;
    p = d + 1;
  }
  bool all_numeric = numeric_labels == label_count;
  // "v10.0.1.2": a version written like an address.
  bool v_prefixed = label_count == 4 && first_label.size() >= 2 &&
                    (first_label[0] == 'v' || first_label[0] == 'V') &&
                    numeric(first_label.substr(1)) && numeric_labels == 3;
  if (all_numeric || v_prefixed) {
    if (label_count != 4) return;  // versions, OIDs, dates
    std::string_view ip_text = v_prefixed ? token.substr(1) : token;
    uint32_t v4;
    if (!core::ParseIpv4(ip_text, &v4)) return;
    size_t end = f;
    std::string_view value = ip_text;  // a CIDR or ip|port built in hex_buf_
    IndicatorType type = T::kIpDst;
    bool cidr = false;
    if (after == '/' && IsDigit(At(f + 1))) {
      size_t p = f + 1;
      while (p < t_.size() && IsDigit(t_[p]) && p - f <= 3) ++p;
      if (!IsAlnum(At(p)) && !(At(p) == '.' && IsDigit(At(p + 1)))) {
        value = t_.substr(s, p - s);
        cidr = true;
        end = p;
      }
    } else if (after == ':' && IsDigit(At(f + 1))) {
      size_t p = f + 1;
      while (p < t_.size() && IsDigit(t_[p]) && p - f <= 6) ++p;
      if (!IsAlnum(At(p)) && At(p) != ':' && !(At(p) == '.' && IsDigit(At(p + 1)))) {
        hex_buf_.assign(ip_text);
        hex_buf_ += '|';
        hex_buf_.append(t_.substr(f + 1, p - f - 1));
        value = hex_buf_;
        type = T::kIpDstPort;
        end = p;
      }
    } else if (after == '/' && At(f + 1) != '/' && !IsSpace(At(f + 1)) && At(f + 1) != '\0') {
      size_t url_end = UrlEnd(f, before);
      if (url_end > f + 1) {
        Claim(s, url_end, kClaimAny);
        auto ip = core::ParseIpAddress(ip_text);
        Add(T::kUrl, t_.substr(s, url_end - s), s, url_end, ip.ok() ? IpReason(*ip) : Reason{});
        return;
      }
    }
    Reason reason;
    if (impl_.options.filters.version_number && (v_prefixed || VersionContext(s))) {
      reason = {"version-number", {}};
    } else if (v_prefixed) {
      return;
    } else {
      auto net = core::ParseIpNetwork(value.substr(0, value.find('|')));
      if (net.ok()) reason = IpReason(*net);
    }
    Claim(s, end, kClaimAny);
    if (type == T::kIpDst && !cidr) {
      AddNormalized(type, value, s, end, reason);
    } else {
      Add(type, value, s, end, reason);
    }
    return;
  }

  std::string_view host = LowerInto(token, host_buf_);
  Warninglists::HostFacts facts;
  if (!ValidHost(host, s, f, &facts)) return;
  bool defanged = Defanged(s, f);
  // "Winnti.BE", "Agent.CJ": detection and class names written with a
  // capitalized suffix.
  if (!defanged && tld.size() >= 2 &&
      std::all_of(tld.begin(), tld.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
      std::any_of(token.begin(), token.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return;
  }
  // Scheme-less URL: "evil.example/path", "evil.example:8080/path".
  size_t path_at = f;
  if (after == ':' && IsDigit(At(f + 1))) {
    path_at = f + 1;
    while (IsDigit(At(path_at))) ++path_at;
  }
  if (At(path_at) == '/' && At(path_at + 1) != '/' && !IsSpace(At(path_at + 1)) &&
      At(path_at + 1) != '\0') {
    size_t url_end = UrlEnd(path_at, before);
    if (url_end > path_at + 1) {
      Claim(s, url_end, kClaimAny);
      Add(T::kUrl, t_.substr(s, url_end - s), s, url_end,
          HostReason(host, facts, /*url=*/true, /*trivial_path=*/false));
      return;
    }
  }
  Reason reason = HostReason(host, facts, /*url=*/false, false);
  if (reason.empty() && impl_.options.filters.filename_like_domain && !defanged &&
      label_count == 2) {
    std::string_view last = host.substr(host.size() - tld.size());
    if (IsFileLikeTld(last)) reason = {"filename-like-domain", {}};
  }
  Claim(s, f, kClaimAny);
  IndicatorType type = facts.registrable.size() == host.size() ? T::kDomain : T::kHostname;
  AddNormalized(type, host, s, f, reason, facts.host_hash);
}

void Run::ScanIpv6(size_t anchor_end) {
  if (anchor_end <= covered_[kAnchorIpv6]) return;
  auto v6char = [](char c) { return IsHex(c) || c == ':' || c == '.'; };
  size_t s = anchor_end;
  while (s > 0 && v6char(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && v6char(t_[f])) ++f;
  covered_[kAnchorIpv6] = f;
  while (f > s && (t_[f - 1] == '.' || (t_[f - 1] == ':' && Before(f - 1) != ':'))) --f;
  while (s < f && t_[s] == '.') ++s;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (IsAlnum(before) || before == '_' || IsAlnum(after) || after == '_') return;
  std::string_view text = t_.substr(s, f - s);
  size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
  if (colons < 2 || (colons < 7 && text.find("::") == std::string_view::npos)) return;
  size_t groups = 0;
  for (size_t p = 0; p < text.size();) {
    size_t c = text.find(':', p);
    if (c == std::string_view::npos) c = text.size();
    if (c > p) ++groups;
    p = c + 1;
  }
  // "a::b" and "ab::cd" are scopes and labels more often than addresses.
  size_t hex_digits = static_cast<size_t>(std::count_if(text.begin(), text.end(), IsHex));
  if (groups < 2 || hex_digits < 4) return;
  auto ip = core::ParseIpAddress(text);
  if (!ip.ok() || !ip->v6) return;
  if (Claimed(s, f, kClaimAny)) return;
  size_t end = f;
  std::string value(text);
  IndicatorType type = T::kIpDst;
  if (after == '/' && IsDigit(At(f + 1))) {
    size_t p = f + 1;
    while (IsDigit(At(p)) && p - f <= 4) ++p;
    if (!IsAlnum(At(p))) {
      value = std::string(t_.substr(s, p - s));
      end = p;
    }
  } else if (before == '[' && after == ']' && At(f + 1) == ':' && IsDigit(At(f + 2))) {
    size_t p = f + 2;
    while (IsDigit(At(p)) && p - f <= 7) ++p;
    if (!IsAlnum(At(p))) {
      value = "[" + std::string(text) + "]:" + std::string(t_.substr(f + 2, p - f - 2));
      type = T::kIpDstPort;
      end = p;
    }
  }
  auto net = core::ParseIpNetwork(type == T::kIpDstPort ? text : std::string_view(value));
  if (!net.ok()) return;
  Claim(s, end, kClaimAny);
  Add(type, value, s, end, IpReason(*net));
}

void Run::ScanHex(const HexRun& hex) {
  // FindLongWords() reports maximal runs in text order, so they never overlap.
  size_t s = hex.start;
  size_t f = hex.end;
  if (Claimed(s, f, kClaimUrl)) return;
  std::string_view run = t_.substr(s, f - s);
  if (hex.all_digits) return;
  bool glued = hex.glued;
  auto type_for = [](size_t n) -> std::optional<IndicatorType> {
    switch (n) {
      case 32:
        return T::kMd5;
      case 40:
        return T::kSha1;
      case 64:
        return T::kSha256;
      case 128:
        return T::kSha512;
      default:
        return std::nullopt;
    }
  };
  auto type = type_for(run.size());
  if (type && !glued) {
    // Digests are mostly written in lower case already: then the text is the
    // value.
    std::string_view value = hex.upper ? LowerInto(run, hex_buf_) : run;
    uint64_t value_hash = HashBytes(value);
    Claim(s, f, kClaimAny);
    // The reason depends on the value alone: looked up once per distinct digest.
    AddNormalizedLazy(*type, value, s, f, value_hash, [&]() -> Reason {
      if (impl_.options.filters.benign_hash) {
        auto m = impl_.lists.BenignHash(value, value_hash);
        if (!m.list.empty()) return {"benign-hash", m.list};
      }
      return {};
    });
    return;
  }
  // Part of a longer hex string (or glued to letters): not a hash on its own.
  if (!impl_.options.keep_benign && impl_.options.filters.embedded_hex) return;
  for (size_t n : {128, 64, 40, 32}) {
    if (run.size() >= n) {
      Add(*type_for(n), run.substr(0, n), s, s + n,
          impl_.options.filters.embedded_hex ? Reason{"embedded-hex", {}} : Reason{});
      return;
    }
  }
}

void Run::ScanCve(size_t anchor_end) {
  size_t s = anchor_end - 13;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 17) ++f;
  if (IsAlnum(At(f))) return;
  if (Claimed(s, f, kClaimPath)) return;
  Add(T::kVulnerability, t_.substr(s, f - s), s, f, {});
}

void Run::ScanAsn(size_t anchor_end) {
  size_t s = anchor_end - 1;
  while (s > 0 && t_[s - 1] != 'A') --s;
  if (s == 0) return;
  --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 16) ++f;
  if (IsAlnum(At(f)) || At(f) == '/' || (At(f) == '.' && IsDigit(At(f + 1)))) return;
  if (Claimed(s, f, kClaimAny)) return;
  std::string digits;
  for (size_t i = s; i < f; ++i) {
    if (IsDigit(t_[i])) digits += t_[i];
  }
  if (digits.size() > 10) return;
  uint64_t n = std::stoull(digits);
  Reason reason;
  if (impl_.options.filters.reserved_asn && IsReservedAsn(n)) {
    reason = {"reserved-asn", {}};
  }
  Add(T::kAs, "AS" + digits, s, f, reason);
}

void Run::ScanBtc(size_t anchor_end, bool bech32) {
  size_t anchor = bech32 ? kAnchorBech32 : kAnchorBtc58;
  if (anchor_end <= covered_[anchor]) return;
  // Consecutive anchor ends collapse into one event, so find the word's own
  // bounds.
  size_t s = anchor_end;
  while (s > 0 && IsAlnum(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsAlnum(t_[f])) ++f;
  covered_[anchor] = f;
  if (bech32 ? !StartsWithNoCase(t_.substr(s), "bc1") : (t_[s] != '1' && t_[s] != '3')) return;
  std::string_view v = t_.substr(s, f - s);
  bool ok = bech32 ? IsBech32Address(v) : IsBase58CheckAddress(v);
  if (!ok || Claimed(s, f, kClaimAny)) return;
  Claim(s, f, kClaimAny);
  Add(T::kBtc, v, s, f, {});
}

void Run::ScanSsdeep(size_t anchor_end) {
  size_t colon = anchor_end - 4;
  size_t s = colon;
  while (s > 0 && IsDigit(t_[s - 1])) --s;
  // The anchor's "\b\d{1,10}:": a block size of at most 10 digits after a
  // non-word byte.
  if (colon - s > 10 || Before(s) == '_') return;
  if (Before(s) == ':' || IsAlnum(Before(s))) return;
  auto b64 = [](char c) { return IsAlnum(c) || c == '/' || c == '+'; };
  size_t p = colon + 1;
  while (p < t_.size() && b64(t_[p])) ++p;
  if (At(p) != ':') return;
  size_t q = p + 1;
  while (q < t_.size() && b64(t_[q])) ++q;
  if (q == p + 1 || IsAlnum(At(q)) || At(q) == ':') return;
  uint64_t block = std::stoull(std::string(t_.substr(s, colon - s)));
  // Block sizes are 3 * 2^n; the hash parts at most 64 characters.
  if (block < 3 || block % 3 != 0 || ((block / 3) & (block / 3 - 1)) != 0) return;
  if (p - colon - 1 > 64 || q - p - 1 > 64) return;
  if (Claimed(s, q, kClaimAny)) return;
  Reason reason;
  std::string_view v = t_.substr(s, q - s);
  if (impl_.options.filters.benign_hash) {
    auto m = impl_.lists.BenignHash(v);
    if (!m.list.empty()) reason = {"benign-hash", m.list};
  }
  Claim(s, q, kClaimAny);
  Add(T::kSsdeep, v, s, q, reason);
}

}  // namespace internal

using core::IndicatorType;
using internal::Lower;
using T = IndicatorType;

namespace {

constexpr std::string_view kFilterNames[] = {
    "reserved-ip",    "public-dns",      "provider-ip",    "popular-domain",       "vendor-domain",
    "special-domain", "ignored-domain",  "version-number", "filename-like-domain", "embedded-hex",
    "benign-hash",    "well-known-file", "message-id",     "reserved-asn"};

bool* FilterFlag(ExtractFilters& f, std::string_view name) {
  if (name == "reserved-ip") return &f.reserved_ip;
  if (name == "public-dns") return &f.public_dns;
  if (name == "provider-ip") return &f.provider_ip;
  if (name == "popular-domain") return &f.popular_domain;
  if (name == "vendor-domain") return &f.vendor_domain;
  if (name == "special-domain") return &f.special_domain;
  if (name == "ignored-domain") return &f.ignored_domain;
  if (name == "version-number") return &f.version_number;
  if (name == "filename-like-domain") return &f.filename_like_domain;
  if (name == "embedded-hex") return &f.embedded_hex;
  if (name == "benign-hash") return &f.benign_hash;
  if (name == "well-known-file") return &f.system_file;
  if (name == "message-id") return &f.message_id;
  if (name == "reserved-asn") return &f.reserved_asn;
  return nullptr;
}

}  // namespace

// ---- public API
// ---------------------------------------------------------------------------------

Extractor::Extractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Extractor::~Extractor() = default;

const ExtractOptions& Extractor::options() const { return impl_->options; }

Result<std::unique_ptr<Extractor>> Extractor::Create(const ExtractOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::string dir = options.data_dir;
  if (dir.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(dir, DataDir());
  }
  IOCGRID_ASSIGN_OR_RETURN(impl->lists, internal::Warninglists::Load(dir));

  IOCGRID_ASSIGN_OR_RETURN(impl->refang_db, internal::Compile(internal::RefangPatterns()));
  IOCGRID_ASSIGN_OR_RETURN(impl->anchor_db, internal::Compile(internal::AnchorPatterns()));
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(impl->refang_db.get(), &scratch) != HS_SUCCESS ||
      hs_alloc_scratch(impl->anchor_db.get(), &scratch) != HS_SUCCESS) {
    hs_free_scratch(scratch);
    return InternalError("hyperscan: cannot allocate scratch");
  }
  impl->prototype.reset(scratch);

  impl->reserved = internal::ReservedNetworks();
  impl->public_dns = internal::PublicDnsNetworks();
  for (const std::string& d : options.ignore_domains) {
    auto n = core::NormalizeDomain(d);
    if (!n.ok()) {
      return InvalidArgumentError("--ignore-domain '" + d +
                                  "': " + std::string(n.status().message()));
    }
    impl->ignore_domains.push_back(std::move(*n));
  }
  impl->types.insert(options.types.begin(), options.types.end());
  for (size_t i = 0; i < impl->allowed.size(); ++i) {
    impl->allowed[i] = impl->types.empty() || impl->types.count(static_cast<IndicatorType>(i)) != 0;
  }
  for (std::string_view f : internal::WellKnownFiles()) impl->well_known_files.insert(f);
  constexpr std::string_view kExtensions = internal::kFileExtensions;
  for (size_t pos = 0; pos <= kExtensions.size();) {
    size_t bar = std::min(kExtensions.find('|', pos), kExtensions.size());
    impl->file_extensions.Add(kExtensions.substr(pos, bar - pos), 1);
    pos = bar + 1;
  }
  return std::unique_ptr<Extractor>(new Extractor(std::move(impl)));
}

std::vector<ExtractedIndicator> Extractor::Extract(std::string_view text) const {
  internal::Run run(*impl_, text);
  return run.Go();
}

std::vector<std::string_view> FilterNames() {
  return std::vector<std::string_view>(std::begin(kFilterNames), std::end(kFilterNames));
}

Status SetFilter(ExtractFilters& filters, std::string_view name, bool on) {
  bool* flag = FilterFlag(filters, name);
  if (flag == nullptr) {
    std::string known;
    for (std::string_view n : kFilterNames) known += (known.empty() ? "" : ", ") + std::string(n);
    return InvalidArgumentError("unknown filter '" + std::string(name) + "' (known: " + known +
                                ")");
  }
  *flag = on;
  return Status();
}

Result<std::vector<core::IndicatorType>> ParseTypeList(std::string_view list) {
  std::vector<core::IndicatorType> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string name = Lower(list.substr(pos, comma - pos));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    pos = comma + 1;
    if (name.empty()) continue;
    struct Group {
      std::string_view name;
      std::vector<IndicatorType> types;
    };
    static const Group kGroups[] = {
        {"ip", {T::kIpDst, T::kIpDstPort}},
        {"domain", {T::kDomain, T::kHostname}},
        {"url", {T::kUrl}},
        {"email", {T::kEmailSrc}},
        {"hash", {T::kMd5, T::kSha1, T::kSha256, T::kSha512, T::kSsdeep}},
        {"cve", {T::kVulnerability}},
        {"asn", {T::kAs}},
        {"btc", {T::kBtc}},
        {"bitcoin", {T::kBtc}},
        {"file", {T::kFilename}},
        {"path", {T::kFilename}},
        {"regkey", {T::kRegkey}},
        {"registry", {T::kRegkey}},
    };
    bool found = false;
    for (const Group& g : kGroups) {
      if (g.name == name) {
        out.insert(out.end(), g.types.begin(), g.types.end());
        found = true;
      }
    }
    if (found) continue;
    auto t = core::ResolveTypeName(name);
    if (!t.ok() || !t->has_value()) {
      return InvalidArgumentError("unknown type '" + name +
                                  "' (use ip, domain, url, email, hash, cve, asn, btc, file, "
                                  "regkey or a MISP type name)");
    }
    out.push_back(**t);
  }
  if (out.empty()) return InvalidArgumentError("empty type list");
  return out;
}

}  // namespace iocgrid::extract
