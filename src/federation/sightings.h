// Sightings back to members (issue 11): what an analyst confirmed (or found false) reaches the
// member that held the indicator, through MISP's POST /sightings/add, which iocgrid nodes and
// real MISP servers answer alike (../shared/misp-api.md 4.2).
//
// Thread-safety: SendSightings may run on any thread, several at once (one per member).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "federation/member.h"

namespace iocgrid::federation {

enum class SightingType : uint8_t { kTruePositive, kFalsePositive };  // MISP type 0 and 1
std::string_view SightingTypeName(SightingType type);  // "true-positive", "false-positive"
bool ParseSightingType(std::string_view name, SightingType* out);

enum class SightingOutcome : uint8_t {
  kSent,     // the member took it
  kRefused,  // the member (or its config) said no: nothing matched, key refused, not accepted
  kFailed,   // no answer: connection, timeout, 5xx, an answer that is not MISP's
};
std::string_view SightingOutcomeName(SightingOutcome outcome);  // "sent", "refused", "failed"

struct SightingResult {
  std::string value;
  SightingOutcome outcome = SightingOutcome::kFailed;
  std::string reason;  // empty when sent
};

// Sends a sighting of each value to `member`, `member.batch_size` values per request
// (`{"values": [...], "type": "0"|"1", "source": ...}`; MISP sights every attribute whose value1
// or value2 equals a value). `source` is left out when the member's config hides it. A batch
// the member answers "No valid attributes found" is refused for each of its values; a batch it
// takes counts each value as sent (MISP answers for the batch, not per value). Each request
// has the member's timeout; no request starts after `deadline`. A member whose config says
// accept_sightings = false, or that is disabled, is not contacted: every value is refused with
// that reason. Blocking; never throws. One result per value, in order.
std::vector<SightingResult> SendSightings(const MemberConfig& member,
                                          const std::vector<std::string>& values, SightingType type,
                                          std::string_view source,
                                          std::chrono::steady_clock::time_point deadline);

// How a member's answer to one /sightings/add request reads (exposed for tests and fuzzing):
// kSent with an empty reason, or kRefused / kFailed with the reason. `status` is the HTTP
// status, `body` the answer.
SightingResult ReadSightingAnswer(int status, std::string_view body);

}  // namespace iocgrid::federation
