#include "net/http_error.h"

#include <nlohmann/json.hpp>
#include <string>

namespace iocgrid::net {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

Response ErrorResponse(int http_status, std::string_view message, std::string_view url) {
  nlohmann::ordered_json body;
  body["name"] = std::string(message);
  body["message"] = std::string(message);
  body["url"] = std::string(url);
  Response r;
  r.status = http_status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response ErrorResponse(const Status& status, std::string_view url) {
  return ErrorResponse(HttpStatusFor(status.code()), status.message(), url);
}

}  // namespace iocgrid::net
