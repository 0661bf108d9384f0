// Turning one raw value (a list line, a CSV cell, a JSON string) into a normalized indicator,
// with the type rules every ingest format shares.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/indicator.h"
#include "ingest/internal/text_util.h"

namespace iocgrid::ingest::internal {

// A domain or host name, typed by its label count after normalization: two labels -> domain,
// three or more -> hostname (a single leading '.', as in ".google.com", is dropped).
// Errors: kInvalidArgument for a single label or an invalid name.
Result<core::Indicator> ParseHostValue(std::string_view raw);

// Parses `raw` as `type`; a defanged value that fails is retried refanged, and a value that
// still fails is accepted when core::GuessIndicator finds the same type in it (e.g. ip-dst|port
// written "1.2.3.4:8080").
Result<core::Indicator> ParseAsType(core::IndicatorType type, std::string_view raw);

// Parses `raw` with an optional type: nullopt guesses (core::GuessIndicator).
Result<core::Indicator> ParseWithOptionalType(std::optional<core::IndicatorType> type,
                                              std::string_view raw);

// Parses `raw` with a lenient type name (core::ResolveTypeName): an empty name, a "hash"-like
// alias or an unknown name guesses from the value; the error then says the name was unknown.
Result<core::Indicator> ParseWithTypeName(std::string_view type_name, std::string_view raw);

// The indicator of one CSV row: the type column's (lenient) name when the file has one, else
// the type the value column's name implies (a domain/hostname column types by label count),
// else a guess.
Result<core::Indicator> ParseCsvValue(const CsvColumns& columns, std::string_view type_cell,
                                      std::string_view value_cell);

// "skipped 'value': reason", the value abbreviated.
std::string SkipMessage(std::string_view raw, const Status& status);

}  // namespace iocgrid::ingest::internal
