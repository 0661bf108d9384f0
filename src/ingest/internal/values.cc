#include "ingest/internal/values.h"

#include <algorithm>

#include "core/indicator_type.h"
#include "ingest/internal/text_util.h"

namespace iocgrid::ingest::internal {

Result<core::Indicator> ParseHostValue(std::string_view raw) {
  std::string_view name = TrimAscii(raw);
  if (name.size() > 1 && name.front() == '.') name.remove_prefix(1);
  IOCGRID_ASSIGN_OR_RETURN(std::string normalized, core::NormalizeDomain(name));
  const auto dots = std::count(normalized.begin(), normalized.end(), '.');
  if (dots == 0) {
    return InvalidArgumentError("domain: '" + Abbreviate(normalized) +
                                "' has a single label (not a domain or host name)");
  }
  return core::ParseIndicator(
      dots == 1 ? core::IndicatorType::kDomain : core::IndicatorType::kHostname, normalized);
}

// Types whose values are network indicators, where defanging ("hxxp://", "[.]") is only ever
// a way of writing them; elsewhere (file names, rules, free text) the brackets may be data.
bool IsNetworkType(core::IndicatorType type) {
  auto network = [](core::IndicatorType t) {
    const core::MatchFamily f = core::FamilyOf(t);
    return f == core::MatchFamily::kIp || f == core::MatchFamily::kHost ||
           f == core::MatchFamily::kUrl || f == core::MatchFamily::kEmail;
  };
  if (!core::IsComposite(type)) return network(type);
  const auto [left, right] = core::CompositeParts(type);
  return network(left) || network(right);
}

Result<core::Indicator> ParseAsType(core::IndicatorType type, std::string_view raw) {
  bool changed = false;
  std::string refanged = core::Refang(raw, &changed);
  // A defanged network value is stored refanged, as the query side refangs: stored as written,
  // "hxxp://bad.example/login" never matched http://bad.example/login (issue 8).
  if (changed && IsNetworkType(type)) {
    Result<core::Indicator> refanged_parse = core::ParseIndicator(type, refanged);
    if (refanged_parse.ok()) return refanged_parse;
  }
  Result<core::Indicator> parsed = core::ParseIndicator(type, raw);
  if (parsed.ok()) return parsed;
  if (changed) {
    Result<core::Indicator> retry = core::ParseIndicator(type, refanged);
    if (retry.ok()) return retry;
  }
  Result<core::Indicator> guessed = core::GuessIndicator(raw);
  if (guessed.ok() && guessed->type == type) return guessed;
  return parsed;
}

Result<core::Indicator> ParseWithOptionalType(std::optional<core::IndicatorType> type,
                                              std::string_view raw) {
  if (!type.has_value()) return core::GuessIndicator(raw);
  return ParseAsType(*type, raw);
}

Result<core::Indicator> ParseWithTypeName(std::string_view type_name, std::string_view raw) {
  type_name = TrimAscii(type_name);
  if (type_name.empty()) return core::GuessIndicator(raw);
  Result<std::optional<core::IndicatorType>> resolved = core::ResolveTypeName(type_name);
  if (!resolved.ok()) {
    Result<core::Indicator> guessed = core::GuessIndicator(raw);
    if (guessed.ok()) return guessed;
    return InvalidArgumentError("unknown type '" + Abbreviate(type_name, 40) +
                                "' and no indicator recognized (" +
                                std::string(guessed.status().message()) + ")");
  }
  return ParseWithOptionalType(*resolved, raw);
}

Result<core::Indicator> ParseCsvValue(const CsvColumns& columns, std::string_view type_cell,
                                      std::string_view value_cell) {
  if (columns.type >= 0) return ParseWithTypeName(type_cell, value_cell);
  if (columns.value_column_type == core::IndicatorType::kDomain ||
      columns.value_column_type == core::IndicatorType::kHostname) {
    Result<core::Indicator> host = ParseHostValue(value_cell);
    if (host.ok()) return host;
    // Feeds put IPs and URLs in "domain" columns too: keep whatever the value clearly is.
    Result<core::Indicator> guessed = core::GuessIndicator(value_cell);
    if (guessed.ok()) return guessed;
    return host;
  }
  return ParseWithOptionalType(columns.value_column_type, value_cell);
}

std::string SkipMessage(std::string_view raw, const Status& status) {
  return "skipped '" + Abbreviate(TrimAscii(raw)) + "': " + QuotedMessage(status);
}

}  // namespace iocgrid::ingest::internal
