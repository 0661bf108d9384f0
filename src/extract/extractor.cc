// The public API of extractor.h: Extractor::Create (the Impl: Hyperscan databases, warninglists,
// filter tables), Extract (one internal::Run per call), and the filter and type-list helpers.
// The extraction itself lives in internal/, one file per pass and per candidate family (see
// docs/extract.md, "Source files").
#include "extract/extractor.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/indicator.h"
#include "extract/internal/anchors.h"
#include "extract/internal/extractor_impl.h"
#include "extract/internal/filters.h"
#include "extract/internal/hyperscan.h"
#include "extract/internal/refang.h"
#include "extract/internal/run.h"
#include "extract/internal/text.h"

namespace iocgrid::extract {

using core::IndicatorType;
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
    std::string name = AsciiLower(list.substr(pos, comma - pos));
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
