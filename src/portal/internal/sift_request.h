// The head of POST /api/v1/sifts (docs/portal-api.md): its query parameters and content type,
// checked before any byte of the log is read. Bounded, typed checks: an unknown, repeated or
// empty parameter, or a value that cannot be used, is a kInvalidArgument naming it, never a
// silent default.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "portal/internal/alliance_request.h"
#include "sift/sifter.h"

namespace iocgrid::portal::internal {

struct SiftRequest {
  sift::SiftOptions options;  // log format, fields, JSON field names
  std::string label;          // the sift's own label (may be empty)
  // share=matched|public: the sift's observables are reported to the alliance as the
  // uploader's organisation's sightings once its search ends (issue 12, docs/trends.md).
  std::optional<ShareMode> share;
  // The search fields for the sift's one search (members, relations, since, until, label, tlp,
  // shared), as POST /api/v1/searches takes them; the caller adds the indicators.
  nlohmann::json search = nlohmann::json::object();
  // The parameters as given, normalized, for the report ("request").
  nlohmann::json normalized = nlohmann::json::object();
};

// Parses the raw query string (without '?'). Parameters: format, fields, json_field, members,
// relations, since, until, label, tlp, shared, share. Errors: kInvalidArgument naming the
// parameter.
Result<SiftRequest> ParseSiftQuery(std::string_view query);

// Errors: kInvalidArgument (the caller answers 415) for a body that is not a log itself
// (multipart forms, url-encoded forms, ...) or a Content-Encoding other than gzip/identity.
Status CheckSiftContentType(std::string_view content_type, std::string_view content_encoding);

}  // namespace iocgrid::portal::internal
