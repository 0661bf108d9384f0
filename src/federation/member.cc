#include "federation/member.h"

#include <utility>

namespace iocgrid::federation {

index::RelationMask SupportedRelations(MemberKind kind) {
  if (kind == MemberKind::kIocgrid) return index::kAllRelations;
  return static_cast<index::RelationMask>(index::RelationBit(index::Relation::kExact) |
                                          index::RelationBit(index::Relation::kComponent) |
                                          index::RelationBit(index::Relation::kInRange));
}

std::string_view MemberKindName(MemberKind kind) {
  switch (kind) {
    case MemberKind::kIocgrid:
      return "iocgrid";
    case MemberKind::kMisp:
      return "misp";
  }
  return "iocgrid";
}

bool ParseMemberKind(std::string_view name, MemberKind* out) {
  if (name == "iocgrid") {
    *out = MemberKind::kIocgrid;
  } else if (name == "misp") {
    *out = MemberKind::kMisp;
  } else {
    return false;
  }
  return true;
}

std::string_view DisclosureName(Disclosure disclosure) {
  switch (disclosure) {
    case Disclosure::kFull:
      return "full";
    case Disclosure::kExistence:
      return "existence";
    case Disclosure::kCount:
      return "count";
    case Disclosure::kPrivate:
      return "private";
  }
  return "full";
}

bool ParseDisclosure(std::string_view name, Disclosure* out) {
  if (name == "full") {
    *out = Disclosure::kFull;
  } else if (name == "existence") {
    *out = Disclosure::kExistence;
  } else if (name == "count") {
    *out = Disclosure::kCount;
  } else if (name == "private") {
    *out = Disclosure::kPrivate;
  } else {
    return false;
  }
  return true;
}

std::string_view PsiModeName(PsiMode mode) {
  return mode == PsiMode::kBucketed ? "bucketed" : "full-set";
}

bool ParsePsiMode(std::string_view name, PsiMode* out) {
  if (name == "full-set") {
    *out = PsiMode::kFullSet;
  } else if (name == "bucketed") {
    *out = PsiMode::kBucketed;
  } else {
    return false;
  }
  return true;
}

std::string_view MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kQueued:
      return "queued";
    case MemberStatus::kRunning:
      return "running";
    case MemberStatus::kDone:
      return "done";
    case MemberStatus::kFailed:
      return "failed";
    case MemberStatus::kTimedOut:
      return "timed_out";
    case MemberStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

net::ClientRequest MemberRequest(const MemberConfig& member, std::string method,
                                 std::string_view path, std::string body) {
  net::ClientRequest r;
  r.method = std::move(method);
  std::string base = member.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  r.url = base.append(path);
  r.body = std::move(body);
  r.headers = {{"Authorization", member.key},
               {"Accept", "application/json"},
               {"Content-Type", "application/json"},
               {"User-Agent", "iocgrid-portal"}};
  r.connect_timeout = member.timeout;
  r.verify_tls = member.verify_tls;
  r.ca_file = member.ca_file;
  r.client_cert_file = member.client_cert_file;
  r.client_key_file = member.client_key_file;
  r.proxy = member.proxy;
  r.max_response_bytes = member.max_response_bytes;
  return r;
}

void SetOctetStream(net::ClientRequest* request) {
  for (auto& [name, value] : request->headers) {
    if (name == "Accept" || name == "Content-Type") value = "application/octet-stream";
  }
}

}  // namespace iocgrid::federation
