#include "federation/sightings.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/json_depth.h"
#include "common/utf8.h"
#include "federation/internal/dto.h"
#include "net/http_client.h"

namespace iocgrid::federation {
namespace {

using json = nlohmann::json;

// An answer to /sightings/add is one small object; anything larger is not MISP's.
constexpr size_t kMaxAnswerBytes = size_t{1} << 20;
// What a reason quotes of a member's message.
constexpr size_t kMaxQuotedBytes = 300;

std::string Quote(std::string_view text) {
  return SanitizeUtf8(TruncateUtf8(text, kMaxQuotedBytes));
}

SightingResult Refused(std::string reason) {
  return {.value = {}, .outcome = SightingOutcome::kRefused, .reason = std::move(reason)};
}

SightingResult Sent() { return {.value = {}, .outcome = SightingOutcome::kSent, .reason = {}}; }

SightingResult Failed(std::string reason) {
  return {.value = {}, .outcome = SightingOutcome::kFailed, .reason = std::move(reason)};
}

// The message of a MISP error body ({"name", "message", "url"}), else the start of the body.
std::string ErrorMessage(std::string_view body) {
  return SanitizeUtf8(TruncateUtf8(internal::ErrorBodySummary(body), kMaxQuotedBytes));
}

}  // namespace

std::string_view SightingTypeName(SightingType type) {
  return type == SightingType::kTruePositive ? "true-positive" : "false-positive";
}

bool ParseSightingType(std::string_view name, SightingType* out) {
  if (name == "true-positive") {
    *out = SightingType::kTruePositive;
  } else if (name == "false-positive") {
    *out = SightingType::kFalsePositive;
  } else {
    return false;
  }
  return true;
}

std::string_view SightingOutcomeName(SightingOutcome outcome) {
  switch (outcome) {
    case SightingOutcome::kSent:
      return "sent";
    case SightingOutcome::kRefused:
      return "refused";
    case SightingOutcome::kFailed:
      return "failed";
  }
  return "failed";
}

SightingResult ReadSightingAnswer(int status, std::string_view body) {
  if (status == 401 || status == 403 || status == 405) {
    return Refused("the member refused the portal's key (HTTP " + std::to_string(status) +
                   "): " + ErrorMessage(body));
  }
  if (status == 404) return Refused("the member has no /sightings/add (HTTP 404)");
  if (status != 200) {
    return Failed("the member answered HTTP " + std::to_string(status) + ": " + ErrorMessage(body));
  }
  if (body.size() > kMaxAnswerBytes) return Failed("the member's answer is over 1 MiB");
  if (Status depth = CheckJsonDepth(body); !depth.ok()) {
    return Failed("the member's answer is not MISP's: " + std::string(depth.message()));
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Failed("the member's answer is not a JSON object");
  // MISP 2.5 answers the last sighting created; older MISP a message, also for success.
  if (j.contains("Sighting") && j["Sighting"].is_object()) return Sent();
  if (j.contains("saved") && j["saved"].is_boolean() && !j["saved"].get<bool>()) {
    std::string why = j.contains("errors") ? Quote(j["errors"].dump()) : "not saved";
    return Refused("the member did not save it: " + why);
  }
  if (j.contains("message") && j["message"].is_string()) {
    const std::string& message = j["message"].get_ref<const std::string&>();
    if (message.find("Could not add") != std::string::npos) {
      return Refused("the member: " + Quote(message));
    }
    if (message.find("dded") != std::string::npos)
      return Sent();  // "Sighting added", "3 ... added"
    return Failed("the member's answer is not MISP's: " + Quote(message));
  }
  return Failed("the member's answer has neither a Sighting nor a message");
}

std::vector<SightingResult> SendSightings(const MemberConfig& member,
                                          const std::vector<std::string>& values, SightingType type,
                                          std::string_view source,
                                          std::chrono::steady_clock::time_point deadline) {
  std::vector<SightingResult> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i].value = values[i];
  auto settle = [&](size_t begin, size_t end, const SightingResult& r) {
    for (size_t i = begin; i < end; ++i) {
      out[i].outcome = r.outcome;
      out[i].reason = r.reason;
    }
  };
  if (!member.enabled) {
    settle(0, values.size(), Refused("the member is disabled in the portal's config"));
    return out;
  }
  if (!member.accept_sightings) {
    settle(0, values.size(),
           Refused("the member does not take sightings (accept_sightings = false)"));
    return out;
  }
  const size_t batch = std::max<size_t>(1, member.batch_size);
  for (size_t begin = 0; begin < values.size(); begin += batch) {
    const size_t end = std::min(values.size(), begin + batch);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      settle(begin, end, Failed("the portal's deadline for sightings passed before this batch"));
      continue;
    }
    json chunk = json::array();
    for (size_t i = begin; i < end; ++i) chunk.push_back(values[i]);
    json body = {{"values", std::move(chunk)},
                 {"type", type == SightingType::kTruePositive ? "0" : "1"}};
    if (!member.hide_sighting_source && !source.empty()) body["source"] = std::string(source);
    net::ClientRequest request =
        MemberRequest(member, "POST", "/sightings/add",
                      body.dump(-1, ' ', false, json::error_handler_t::replace));
    request.timeout = std::min(member.timeout, left);
    request.max_response_bytes = kMaxAnswerBytes;
    Result<net::ClientResponse> answer = net::Fetch(request);
    if (!answer.ok()) {
      settle(begin, end, Failed("no answer: " + std::string(answer.status().message())));
      continue;
    }
    settle(begin, end, ReadSightingAnswer(answer->status, answer->body));
  }
  return out;
}

}  // namespace iocgrid::federation
