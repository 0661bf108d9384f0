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

net::Response Node::Impl::GetVersion(net::Request&, Call&) {
  json j = {{"version", options.misp_version},
            {"pymisp_recommended_version", options.misp_version},
            {"perm_sync", false},
            {"perm_sighting", true},
            {"perm_galaxy_editor", false},
            {"perm_analyst_data", false},
            {"uuid", "-"},
            {"request_encoding", json::array()},
            {"filter_sightings", true},
            {"iocgrid", {{"grid_api", "v1"}}}};
  return JsonResponse(j.dump());
}

net::Response Node::Impl::GetPyMispVersion(net::Request&, Call&) {
  return JsonResponse(json{{"version", options.misp_version}}.dump());
}

net::Response Node::Impl::ViewMe(net::Request&, Call& call) {
  const store::AuthContext& auth = call.auth;
  bool admin = auth.user.role == store::Role::kAdmin;
  json user = {{"id", std::to_string(auth.user.id)},
               {"org_id", std::to_string(auth.org.id)},
               {"server_id", "0"},
               {"email", auth.user.email},
               {"autoalert", false},
               {"invited_by", "0"},
               {"gpgkey", nullptr},
               {"certif_public", ""},
               {"nids_sid", "0"},
               {"termsaccepted", true},
               {"newsread", "0"},
               {"role_id", admin ? "1" : "3"},
               {"change_pw", "0"},
               {"contactalert", false},
               {"disabled", auth.user.disabled},
               {"expiration", nullptr},
               {"current_login", "0"},
               {"last_login", "0"},
               {"force_logout", false},
               {"date_created", std::to_string(auth.user.created)},
               {"date_modified", std::to_string(auth.user.created)}};
  json role = {{"id", admin ? "1" : "3"},
               {"name", admin ? "admin" : "User"},
               {"perm_add", admin},
               {"perm_modify", admin},
               {"perm_modify_org", admin},
               {"perm_publish", admin},
               {"perm_delegate", false},
               {"perm_sync", false},
               {"perm_admin", admin},
               {"perm_audit", admin},
               {"perm_auth", true},
               {"perm_site_admin", admin},
               {"perm_regexp_access", false},
               {"perm_tagger", admin},
               {"perm_template", false},
               {"perm_sharing_group", false},
               {"perm_tag_editor", admin},
               {"perm_sighting", true},
               {"perm_object_template", false},
               {"default_role", !admin},
               {"memory_limit", ""},
               {"max_execution_time", ""},
               {"restricted_to_site_admin", false},
               {"perm_publish_zmq", false},
               {"perm_publish_kafka", false},
               {"perm_decaying", false},
               {"enforce_rate_limit", false},
               {"rate_limit_count", "0"},
               {"perm_galaxy_editor", false},
               {"perm_warninglist", false},
               {"perm_view_feed_correlations", false},
               {"perm_analyst_data", false},
               {"permission", admin ? "3" : "1"},
               {"permission_description", admin ? "publish" : "read_only"}};
  json org = {{"id", std::to_string(auth.org.id)},
              {"name", auth.org.name},
              {"uuid", auth.org.uuid},
              {"local", auth.org.local}};
  json body = {
      {"User", user}, {"Role", role}, {"UserSetting", json::array()}, {"Organisation", org}};
  return JsonResponse(body.dump());
}

net::Response Node::Impl::DescribeTypes(net::Request&, Call&) {
  return JsonResponse(std::string(DescribeTypesJson()));
}

}  // namespace iocgrid::node
