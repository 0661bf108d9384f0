#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/json_depth.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "net/http_error.h"
#include "net/router.h"
#include "node/internal/describe_types.h"
#include "node/internal/grid.h"
#include "node/internal/misp_dto.h"
#include "node/internal/node_impl.h"
#include "node/internal/search_params.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

net::Response Node::Impl::EventResponse(std::string_view id, const net::Request& req,
                                        bool metadata) {
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) {
    if (event.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(event.status(), req);
  }
  net::Response r;
  JsonWriter w(&r.body);
  WriteEvent(w, *event, metadata);
  return r;
}

net::Response Node::Impl::EventsView(net::Request& req, Call&) {
  const std::string& id = req.params["id"];
  store::GetEventOptions get_options;
  get_options.include_sightings = true;  // MISP's view lists them (noSightings turns it off)
  if (req.method == "POST" && !req.body.empty()) {
    auto body = ParseBody(req);
    if (!body.ok()) return Error(405, kInvalidJson, req);
    if (body->is_object() && body->contains("deleted")) {
      get_options.include_deleted = LooseBool((*body)["deleted"]).value_or(false);
    }
  }
  auto event = store->GetEvent(id, get_options);
  if (!event.ok()) {
    if (event.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(event.status(), req);
  }
  net::Response r;
  JsonWriter w(&r.body);
  WriteEvent(w, *event, false);
  return r;
}

net::Response Node::Impl::EventsAdd(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  if (Status shape = CheckEventShape(*body); !shape.ok()) return StatusError(shape, req);
  auto event = ParseEventJson(*body, /*require_info=*/true);
  if (!event.ok()) {
    return SaveFail("Could not add Event", "Event", event.status(), req);
  }
  store::ImportOptions import_options;
  import_options.org = auth.org.name;
  auto id = store->AddEvent(*event, import_options);
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kAlreadyExists) {
      net::Response r = Error(
          404,
          "Event already exists, if you would like to edit it, use the url in the location header.",
          req);
      r.headers.emplace_back("Location", "/events/view/" + event->uuid);
      return r;
    }
    if (id.status().code() == StatusCode::kInvalidArgument) {
      return SaveFail("Could not add Event", "Event", id.status(), req);
    }
    return StatusError(id.status(), req);
  }
  call.Note(event->attributes.size());
  Status fresh = Refresh();
  if (!fresh.ok()) return StatusError(fresh, req);
  bool metadata = req.params.count("flag") && req.params["flag"] == "metadata:1";
  return EventResponse(std::to_string(*id), req, metadata);
}

net::Response Node::Impl::EventsEdit(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  if (Status shape = CheckEventShape(*body); !shape.ok()) return StatusError(shape, req);
  auto event = ParseEventJson(*body, /*require_info=*/false);
  if (!event.ok()) {
    return SaveFail("Could not edit Event", "Event", event.status(), req);
  }
  store::ImportOptions import_options;
  import_options.org = auth.org.name;
  import_options.delete_missing = false;  // MISP events/edit: absent attributes stay
  auto stats = store->EditEvent(req.params["id"], *event, import_options);
  if (!stats.ok()) {
    if (stats.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(stats.status(), req);
  }
  call.Note(event->attributes.size());
  Status fresh = Refresh();
  if (!fresh.ok()) return StatusError(fresh, req);
  return EventResponse(req.params["id"], req, false);
}

net::Response Node::Impl::EventsDelete(net::Request& req, Call& call) {
  const std::string& id = req.params["id"];
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) return Error(404, "Invalid event", req);
  Status st = store->DeleteEvent(id, /*hard=*/true);
  if (!st.ok()) {
    if (st.code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(st, req);
  }
  call.Note(0);
  Status fresh = Refresh();
  if (!fresh.ok()) return StatusError(fresh, req);
  json body = {{"saved", true},
               {"success", true},
               {"name", "Event deleted."},
               {"message", "Event deleted."},
               {"url", req.path},
               {"id", std::to_string(event->event.id)}};
  return JsonResponse(body.dump());
}

net::Response Node::Impl::EventsPublish(net::Request& req, Call& call) {
  const std::string& id = req.params["id"];
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) return Error(404, "Invalid event", req);
  Status st = store->PublishEvent(id);
  if (!st.ok()) return StatusError(st, req);
  call.Note(0);
  json body = {{"name", "Publish"},
               {"message", "Event published without alerts"},
               {"url", req.path},
               {"id", std::to_string(event->event.id)}};
  return JsonResponse(body.dump());
}

}  // namespace iocgrid::node
