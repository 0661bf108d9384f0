// The one mapping from Status to HTTP at the edge (STYLE.md section 5), with MISP's error body
// {"name": ..., "message": ..., "url": ...} (misp-api.md section 1.3).
#pragma once

#include <string_view>

#include "common/status.h"
#include "net/http.h"

namespace iocgrid::net {

// kInvalidArgument 400, kUnauthenticated and kPermissionDenied 403 (MISP answers 403 for a bad
// key), kNotFound 404, kAlreadyExists 409, kResourceExhausted 429, kUnimplemented 501,
// kUnavailable 503, kDeadlineExceeded 504, otherwise 500.
int HttpStatusFor(StatusCode code);

// A MISP-style JSON error response with the given status; `url` is the request path.
Response ErrorResponse(int http_status, std::string_view message, std::string_view url);

// ErrorResponse(HttpStatusFor(status.code()), status.message(), url).
Response ErrorResponse(const Status& status, std::string_view url);

}  // namespace iocgrid::net
