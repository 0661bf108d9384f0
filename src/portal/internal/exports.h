// Exports of a finished (or running) search document (docs/portal-api.md "export").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace iocgrid::portal::internal {

// A deterministic UUID (v5-like layout) from text, so that re-exports name the same objects.
std::string StableUuid(const std::string& text);
// A STIX 2.1 pattern for a MISP type and normalized value; empty when there is no simple one.
std::string StixPattern(const std::string& type, const std::string& value);

// One CSV row per hit.
std::string ExportCsv(const nlohmann::json& document);
// A MISP event importable into the analyst's MISP: the searched indicators as attributes, each
// hit as an `iocgrid:member="name"` tag and a comment.
nlohmann::json ExportMispEvent(const nlohmann::json& document);
// A STIX 2.1 bundle: an indicator per searched value, a sighting per member hit.
nlohmann::json ExportStixBundle(const nlohmann::json& document);

}  // namespace iocgrid::portal::internal
