#include "portal/internal/taxii_params.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>

#include "common/ascii.h"
#include "common/time.h"
#include "portal/internal/portal_impl.h"

namespace iocgrid::portal::internal {

Result<int64_t> ParseTaxiiTime(std::string_view text) {
  IOCGRID_ASSIGN_OR_RETURN(int64_t seconds, ParseIsoDateTime(text));
  int64_t ms = 0;
  if (size_t dot = text.find('.'); dot != std::string_view::npos) {
    int digits = 0;
    for (size_t i = dot + 1; i < text.size() && IsAsciiDigit(text[i]); ++i, ++digits) {
      if (digits < 3) ms = ms * 10 + (text[i] - '0');
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  return seconds * 1000 + ms;
}

std::string TaxiiKey(const net::Request& req) {
  std::string_view auth = req.Header("authorization");
  if (StartsWithIgnoreAsciiCase(auth, "basic ")) {
    const std::string_view b64 = TrimAscii(auth.substr(6));
    std::string decoded(std::min<size_t>(b64.size(), 700), '\0');  // user:key is far shorter
    size_t length = 0;
    if (b64.size() > 700 ||
        sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                          b64.data(), b64.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length > 512) {
      return {};
    }
    decoded.resize(length);
    size_t colon = decoded.find(':');
    return colon == std::string::npos ? std::string() : decoded.substr(colon + 1);
  }
  return std::string(RequestKey(req));
}

Result<TaxiiFilter> ReadTaxiiFilter(const net::Request& req) {
  TaxiiFilter f;
  if (std::string v = req.QueryParam("added_after"); !v.empty()) {
    auto t = ParseTaxiiTime(v);
    if (!t.ok()) return InvalidArgumentError("added_after must be an RFC 3339 timestamp");
    f.added_after = *t;
  }
  if (std::string v = req.QueryParam("limit"); !v.empty()) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1) {
      return InvalidArgumentError("limit must be a whole number of at least 1");
    }
    f.limit = std::min(n, kTaxiiMaxLimit);
  }
  if (std::string v = req.QueryParam("next"); !v.empty()) {
    size_t dot = v.find('.');
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + (dot == std::string::npos ? 0 : dot), ms);
    if (dot == std::string::npos || ec != std::errc() || end != v.data() + dot) {
      return InvalidArgumentError("next is not a token this server gave");
    }
    f.next = std::make_pair(ms, v.substr(dot + 1));
  }
  auto split = [](const std::string& v, std::set<std::string>* out) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      if (comma > start) out->insert(v.substr(start, comma - start));
      start = comma + 1;
    }
  };
  split(req.QueryParam("match[type]"), &f.types);
  split(req.QueryParam("match[id]"), &f.ids);
  if (std::string v = req.QueryParam("match[spec_version]"); !v.empty() && v != "2.1") {
    f.types = {"-"};  // only 2.1 objects here: nothing matches
  }
  if (std::string v = req.QueryParam("match[version]"); !v.empty()) {
    if (v != "last" && v != "first" && v != "all" && !ParseTaxiiTime(v).ok()) {
      return InvalidArgumentError("match[version] must be last, first, all or a timestamp");
    }
  }
  return f;
}

}  // namespace iocgrid::portal::internal
