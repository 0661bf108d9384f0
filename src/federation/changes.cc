#include "federation/changes.h"

#include <string>
#include <utility>

#include "federation/internal/dto.h"
#include "net/http_client.h"

namespace iocgrid::federation {
namespace {

// A stats answer or one attribute is small; more is not what was asked for.
constexpr size_t kMaxAnswerBytes = size_t{4} << 20;

Result<std::string> Fetch(const MemberConfig& member, const std::string& method,
                          const std::string& path, const std::string& body) {
  net::ClientRequest request = MemberRequest(member, method, path, body);
  request.timeout = member.timeout;
  request.max_response_bytes = kMaxAnswerBytes;
  IOCGRID_ASSIGN_OR_RETURN(net::ClientResponse answer, net::Fetch(request));
  if (answer.status != 200) {
    return UnavailableError(path + " answered HTTP " + std::to_string(answer.status) + ": " +
                            internal::ErrorBodySummary(answer.body));
  }
  return std::move(answer.body);
}

}  // namespace

Result<DataCheck> CheckMemberData(const MemberConfig& member, const std::string& previous,
                                  int64_t since) {
  DataCheck out;
  if (member.kind == MemberKind::kIocgrid) {
    IOCGRID_ASSIGN_OR_RETURN(std::string body, Fetch(member, "GET", "/grid/v1/stats", ""));
    IOCGRID_ASSIGN_OR_RETURN(internal::GridStats stats, internal::ParseGridStats(body));
    if (!stats.generation) {
      return DataLossError("/grid/v1/stats has no data generation (a node older than 2026-12)");
    }
    out.marker = "generation:" + std::to_string(*stats.generation);
    out.changed = !previous.empty() && out.marker != previous;
    return out;
  }
  // MISP: any attribute written since the last check (MISP's `timestamp` filter, >=).
  // (A deletion alone is seen at the watchlist's next interval run.)
  out.marker = "since:" + std::to_string(since);
  if (previous.empty()) return out;
  const std::string query = "{\"returnFormat\":\"json\",\"timestamp\":" + std::to_string(since) +
                            ",\"limit\":1,\"page\":1}";
  IOCGRID_ASSIGN_OR_RETURN(std::string body,
                           Fetch(member, "POST", "/attributes/restSearch", query));
  IOCGRID_ASSIGN_OR_RETURN(auto attributes, internal::ParseMispAttributes(body));
  out.changed = !attributes.empty();
  return out;
}

}  // namespace iocgrid::federation
