#include "net/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "net/internal/curl_easy.h"

namespace iocgrid::net {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string ClientResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

Result<ClientResponse> Fetch(const ClientRequest& request) {
  GlobalInit();
  internal::EasyHandle curl(curl_easy_init());
  if (!curl) return InternalError("curl_easy_init failed");
  CURL* c = curl.get();
  ClientResponse response;
  internal::ResponseSink sink{&response, request.max_response_bytes};
  internal::SetRequestOptions(c, request, &sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  internal::HeaderList headers;
  IOCGRID_RETURN_IF_ERROR(internal::MakeHeaderList(request, /*no_expect=*/false, &headers));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string what = std::string(curl_easy_strerror(rc)) + " (" + request.url + ")";
    if (sink.over_cap) {
      return ResourceExhaustedError("response larger than " +
                                    std::to_string(request.max_response_bytes) + " bytes");
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status(StatusCode::kDeadlineExceeded, what);
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return InvalidArgumentError(what);
    }
    return UnavailableError(what);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace iocgrid::net
