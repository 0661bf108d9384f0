#include "node/node.h"

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
#include "psi/oprf.h"
#include "psi/wire.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

void Node::Impl::Routes() {
  Add({"GET"}, "/servers/getVersion", &Impl::GetVersion);
  Add({"GET"}, "/servers/getPyMISPVersion", &Impl::GetPyMispVersion);
  Add({"GET"}, "/users/view/me", &Impl::ViewMe);
  Add({"GET"}, "/attributes/describeTypes", &Impl::DescribeTypes);
  Add({"POST", "GET"}, "/attributes/restSearch", &Impl::AttributesRestSearch);
  Add({"POST", "GET"}, "/events/restSearch", &Impl::EventsRestSearch);
  Add({"GET", "HEAD", "POST"}, "/events/view/{id}", &Impl::EventsView);
  Add({"POST"}, "/events/add", &Impl::EventsAdd, true);
  Add({"POST"}, "/events/add/{flag}", &Impl::EventsAdd, true);
  Add({"POST", "PUT"}, "/events/edit/{id}", &Impl::EventsEdit, true);
  Add({"POST", "DELETE"}, "/events/delete/{id}", &Impl::EventsDelete, true);
  Add({"POST"}, "/events/publish/{id}", &Impl::EventsPublish, true);
  Add({"POST", "GET"}, "/events/index", &Impl::EventsIndex);
  Add({"POST"}, "/attributes/add/{event}", &Impl::AttributesAdd, true);
  Add({"POST"}, "/attributes/add/{event}/{flag}", &Impl::AttributesAdd, true);
  Add({"GET", "HEAD"}, "/attributes/view/{id}", &Impl::AttributesView);
  Add({"POST", "DELETE"}, "/attributes/delete/{id}", &Impl::AttributesDelete, true);
  Add({"POST", "DELETE"}, "/attributes/delete/{id}/{hard}", &Impl::AttributesDelete, true);
  Add({"POST"}, "/sightings/add", &Impl::SightingsAdd);
  Add({"POST"}, "/sightings/add/{id}", &Impl::SightingsAdd);
  Add({"POST", "GET"}, "/sightings/restSearch", &Impl::SightingsRestSearch);
  Add({"POST", "GET"}, "/sightings/restSearch/{context}", &Impl::SightingsRestSearch);
  // NDJSON or JSON, measured by the grid parser itself.
  Add({"POST"}, "/grid/v1/match", &Impl::GridMatch, false, /*json_body=*/false);
  Add({"GET"}, "/grid/v1/stats", &Impl::GridStats);
  // Private search: binary frames (psi/wire.h), not JSON; info answers JSON.
  Add({"GET"}, "/grid/v1/psi/info", &Impl::PsiInfo);
  Add({"POST"}, "/grid/v1/psi/evaluate", &Impl::PsiEvaluate, false, /*json_body=*/false);
  Add({"GET"}, "/grid/v1/psi/tags", &Impl::PsiTags);
  Add({"POST"}, "/grid/v1/psi/buckets", &Impl::PsiBuckets, false, /*json_body=*/false);
  Add({"POST"}, "/grid/v1/psi/labels", &Impl::PsiLabels, false, /*json_body=*/false);
  // MISP's short form /events/{id}; last, so that /events/add and friends win.
  Add({"GET", "HEAD"}, "/events/{id}", &Impl::EventsView);
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() {
  impl_->StopPsi();
  impl_->StopBackground();
}

Result<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  IOCGRID_ASSIGN_OR_RETURN(impl->store, store::Store::Open(options.data_dir, options.store));
  IOCGRID_RETURN_IF_ERROR(psi::InitCrypto());
  IOCGRID_RETURN_IF_ERROR(impl->LoadPsiKey());
  IOCGRID_ASSIGN_OR_RETURN(bool loaded, impl->LoadPersistedSnapshot());
  if (!loaded) IOCGRID_RETURN_IF_ERROR(impl->Refresh());
  impl->Routes();
  impl->StartBackground();
  impl->StartPsi();
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

net::Response Node::Handle(net::Request& request) { return impl_->router.Dispatch(request); }

std::optional<net::Response> Node::Admit(const net::Request& head, size_t* body_limit) {
  if (impl_->Authenticate(head).ok()) {
    // A private-search body is one frame of bounded items: refuse more before reading it.
    if (head.path.rfind("/grid/v1/psi/", 0) == 0) {
      const PsiOptions& o = impl_->options.psi;
      const size_t most = std::max({o.max_points_per_request * psi::kPointBytes,
                                    o.max_labels_per_request * psi::kTagBytes,
                                    o.max_buckets_per_request * size_t{4}});
      *body_limit = std::min(*body_limit, psi::kFrameHeaderBytes + most);
    }
    return std::nullopt;
  }
  auto row = impl_->store->AppendAudit(impl_->AuditRow(head, nullptr, 403));
  if (!row.ok()) std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
  bool ajax = head.Header("x-requested-with") == "XMLHttpRequest";
  return Error(403, ajax ? "Authentication failed." : kAuthFailed, head);
}

store::Store& Node::store() { return *impl_->store; }

std::shared_ptr<const IndexSnapshot> Node::snapshot() const {
  MutexLock lock(impl_->snapshot_mu);
  return impl_->current;
}

Status Node::RefreshIndex() { return impl_->Refresh(); }

Status Node::MergeIndex() { return impl_->Merge(); }

}  // namespace iocgrid::node
