#include "federation/changes.h"

#include <nlohmann/json.hpp>
#include <string>

#include "common/json_depth.h"
#include "net/http_client.h"

namespace iocgrid::federation {
namespace {

using json = nlohmann::json;

// A stats answer or one attribute is small; more is not what was asked for.
constexpr size_t kMaxAnswerBytes = size_t{4} << 20;

Result<json> FetchJson(const MemberConfig& member, const std::string& method,
                       const std::string& path, const std::string& body) {
  net::ClientRequest request = MemberRequest(member, method, path, body);
  request.timeout = member.timeout;
  request.max_response_bytes = kMaxAnswerBytes;
  IOCGRID_ASSIGN_OR_RETURN(net::ClientResponse answer, net::Fetch(request));
  if (answer.status != 200) {
    return UnavailableError(path + " answered HTTP " + std::to_string(answer.status));
  }
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(answer.body));
  json j = json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError(path + ": the answer is not a JSON object");
  return j;
}

}  // namespace

Result<DataCheck> CheckMemberData(const MemberConfig& member, const std::string& previous,
                                  int64_t since) {
  DataCheck out;
  if (member.kind == MemberKind::kIocgrid) {
    IOCGRID_ASSIGN_OR_RETURN(json stats, FetchJson(member, "GET", "/grid/v1/stats", ""));
    auto g = stats.find("generation");
    if (g == stats.end() || !g->is_number_unsigned()) {
      return DataLossError("/grid/v1/stats has no data generation (a node older than 2026-12)");
    }
    out.marker = "generation:" + std::to_string(g->get<uint64_t>());
    out.changed = !previous.empty() && out.marker != previous;
    return out;
  }
  // MISP: any attribute written since the last check (MISP's `timestamp` filter, >=).
  out.marker = "since:" + std::to_string(since);
  if (previous.empty()) return out;
  // (A deletion alone is seen at the watchlist's next interval run.)
  json body = {{"returnFormat", "json"}, {"timestamp", since}, {"limit", 1}, {"page", 1}};
  IOCGRID_ASSIGN_OR_RETURN(json answer,
                           FetchJson(member, "POST", "/attributes/restSearch", body.dump()));
  auto response = answer.find("response");
  if (response == answer.end() || !response->is_object()) {
    return DataLossError("/attributes/restSearch answered without a response object");
  }
  auto attributes = response->find("Attribute");
  out.changed = attributes != response->end() && attributes->is_array() && !attributes->empty();
  return out;
}

}  // namespace iocgrid::federation
