// Portal: the analysts' side of the alliance. It authenticates portal users, turns a search
// request (a list, CSV text, or free text) into normalized indicators, runs it as a job across
// the members through the Federation, keeps results per indicator under each member's
// disclosure, streams progress as server-sent events, persists finished searches, exports them
// (CSV, JSON, MISP event, STIX 2.1) and serves the web UI. API: docs/portal-api.md.
//
// Thread-safety: Handle() is called concurrently by the HTTP server's workers.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "federation/federation.h"
#include "net/http.h"
#include "portal/config.h"
#include "portal/portal_store.h"

namespace iocgrid::portal {

class Portal {
 public:
  // Opens the portal store in config.data and starts the federation.
  static Result<std::unique_ptr<Portal>> Open(const PortalConfig& config);
  ~Portal();
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  net::Response Handle(net::Request& request);
  // For net::ServerOptions::admit: an API request needs a valid key before its body is read;
  // anything else may only GET or HEAD the web UI, without a body.
  std::optional<net::Response> Admit(const net::Request& head, size_t* body_limit);
  // For net::ServerOptions::stream_body: POST /api/v1/sifts takes its log as a stream (checked
  // on the head first: key, query parameters, content type, running budget); other requests
  // are read whole.
  net::BodyStream StreamBody(const net::Request& head);

  PortalStore& store();
  federation::Federation& federation();

  // Opaque to users; defined in portal.cc.
  struct Impl;

 private:
  explicit Portal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The web UI folder: config.web_dir, else $IOCGRID_WEB_DIR, else <exe>/../share/iocgrid/web,
// else the source tree's web/.
std::string FindWebDir(const std::string& configured);

}  // namespace iocgrid::portal
