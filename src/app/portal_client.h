// The CLI's side of the portal API: authenticated calls, MISP-style error bodies turned into
// one line, and a search posted and polled to its end (`iocgrid search`, `iocgrid sift`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "ingest/query_reader.h"
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
                                       const std::string& path, const std::string& body = "",
                                       const std::string& content_type = "application/json");

// "portal answered 400: <message>" from a MISP-style error body.
std::string PortalApiError(const net::ClientResponse& response);

// POSTs `body` to /api/v1/searches and polls GET /api/v1/searches/{id} until the search is no
// longer running, showing a progress bar on stderr when `progress` (and stderr is a terminal).
// Returns the final search document; *id receives the search id.
Result<nlohmann::json> RunPortalSearch(const PortalConnection& portal, const nlohmann::json& body,
                                       int timeout_s, bool progress, std::string* id);

// The indicators of a query file's `content`, each line that holds none reported on stderr
// unless `quiet`. Errors: kInvalidArgument when none is valid, pointing at --from-text for
// report text (issue 8).
Result<ingest::QueryFile> ParseQueryList(const std::string& path, const std::string& content,
                                         bool quiet);

// The input of a search or watchlist body from a query file (- for stdin): "indicators", each
// typed by the query reader (lines that hold none reported on stderr unless `quiet`), or with
// `from_text` the whole text as "text". Errors: kInvalidArgument saying what to fix (an
// unreadable file; no indicator, pointing at --from-text for report text).
Result<nlohmann::json> QueryInputBody(const std::string& path, bool from_text, bool quiet);

// One line per member on stderr: name, status, time, hits, error (as `iocgrid search`).
void PrintMemberStatuses(const nlohmann::json& doc);

}  // namespace iocgrid::app
