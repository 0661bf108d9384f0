// The CLI's side of the portal API: authenticated calls, MISP-style error bodies turned into
// one line, and a search posted and polled to its end (`iocgrid search`, `iocgrid sift`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "net/http_client.h"

namespace iocgrid::app {

struct PortalConnection {
  std::string url;  // base URL without a trailing slash
  std::string key;
  std::string ca_file;
  bool insecure = false;
};

// One API call with the key and JSON headers (60 s deadline).
Result<net::ClientResponse> PortalCall(const PortalConnection& portal, const std::string& method,
                                       const std::string& path, const std::string& body = "");

// "portal answered 400: <message>" from a MISP-style error body.
std::string PortalApiError(const net::ClientResponse& response);

// POSTs `body` to /api/v1/searches and polls GET /api/v1/searches/{id} until the search is no
// longer running, showing a progress bar on stderr when `progress` (and stderr is a terminal).
// Returns the final search document; *id receives the search id.
Result<nlohmann::json> RunPortalSearch(const PortalConnection& portal, const nlohmann::json& body,
                                       int timeout_s, bool progress, std::string* id);

// One line per member on stderr: name, status, time, hits, error (as `iocgrid search`).
void PrintMemberStatuses(const nlohmann::json& doc);

}  // namespace iocgrid::app
