// Indicator: one normalized indicator of compromise (a MISP type and its canonical value), and
// the parsing, normalization and type guessing that produce it.
//
// Normalization (DESIGN.md "Match semantics", agreeing with MISP's AttributeValidationTool where
// MISP normalizes): IPs and CIDRs canonical (see ip.h); domains and host names lower-case, no
// trailing dot, IDN as punycode; URLs with lower-case scheme and host (IDN host as punycode);
// hashes lower-case hex; e-mail domain lower-case; x509 fingerprints without colons; AS numbers
// without the "AS" prefix; CVE ids upper-case; composites as "left|right" with each half
// normalized by its own type; every other type trimmed and kept as is.
//
// Thread-safety: pure functions on values.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "core/indicator_type.h"

namespace iocgrid::core {

struct Indicator {
  IndicatorType type = IndicatorType::kOther;
  std::string value;  // normalized

  friend bool operator==(const Indicator&, const Indicator&) = default;
};

// One matchable part of an indicator: the whole value of a plain type, or one half of a
// composite. `value` points into the Indicator it came from (must not outlive it).
struct Component {
  IndicatorType type;  // the part's own type (e.g. ip-dst for the ip half of domain|ip)
  MatchFamily family;
  std::string_view value;
};

// Parses and normalizes `raw` (surrounding whitespace trimmed) as a value of `type`.
// Errors: kInvalidArgument with a message naming the type and the problem, e.g.
// "md5: expected 32 hex digits, got 31".
Result<Indicator> ParseIndicator(IndicatorType type, std::string_view raw);

// Same, with the type given by name (lenient, see ResolveTypeName); an alias meaning "any hash"
// or an empty name guesses the type from the value.
Result<Indicator> ParseIndicator(std::string_view type_name, std::string_view raw);

// Refangs (see Refang), then guesses the type as MISP's freetext import does
// ("1.2.3.4" -> ip-dst, "1.2.3.4:443" -> ip-dst|port, 32 hex -> md5, "evil.example" -> domain,
// "a.evil.example" -> hostname, "hxxp://evil[.]example/a" -> url, "CVE-2021-44228" ->
// vulnerability, "AS13335" -> AS, "a@b.example" -> email-src, 1.2.3.0/24 -> ip-dst), and
// normalizes. Errors: kInvalidArgument when the text is empty or is no recognizable indicator.
// Plain values (a canonical dotted quad, a hex digest, a plain domain) take the fast path of
// fast_value.h, with the same result.
Result<Indicator> GuessIndicator(std::string_view raw);

// GuessIndicator without the fast path: what the fast path is checked against
// (tests/core/fast_value_test.cc, fuzz/fast_value_fuzz.cc).
Result<Indicator> GuessIndicatorGeneric(std::string_view raw);

// Undoes common defanging: hxxp/hXXp/hxxps/fxp/meow/h[tt]p schemes, [.] (.) {.} [dot] (dot) \.,
// [:] [://] [@] [at], and full-width dots. Sets *changed (if given) when anything was undone.
std::string Refang(std::string_view raw, bool* changed = nullptr);

// The matchable parts: one for a plain type, two for a composite (left, right).
// Returns the number written to out[0..1].
int Components(const Indicator& indicator, Component out[2]);

// For a normalized url/link value: its host (domain or IP text, without port or brackets),
// or an empty view when it has none. The view points into `url`.
std::string_view UrlHost(std::string_view url);

// Per-family normalizers, also used by the importers and the extractor.
Result<std::string> NormalizeIp(std::string_view raw);      // address or CIDR
Result<std::string> NormalizeDomain(std::string_view raw);  // domain or host name
Result<std::string> NormalizeUrl(std::string_view raw);     // with or without scheme
Result<std::string> NormalizeEmail(std::string_view raw);

}  // namespace iocgrid::core
