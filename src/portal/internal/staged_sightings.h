// A batch of alliance sightings as the portal store stages it (alliance_pending.body, issue 12)
// between the report and its fold into the rows and the per-day aggregates: reports are made
// durable in one append each, and folded several at a time (docs/trends.md, Storage).
//
// The encoding is stored, so it is fixed (a change needs a new first byte and a reader of both):
//   'S', varint n, then n sightings, each: string value, string type, string class,
//   signed varints day, first_seen, last_seen, varints count, alerted, then the members and
//   the actors, each a varint n and n strings; a string is a varint length and its bytes.
// The decoder is bounded: any bytes give the batch or kDataLoss naming what is wrong.
//
// Thread-safety: free functions on values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "portal/portal_store.h"

namespace iocgrid::portal::internal {

std::string EncodeStagedSightings(const std::vector<AllianceSighting>& sightings);
Result<std::vector<AllianceSighting>> DecodeStagedSightings(std::string_view bytes);

}  // namespace iocgrid::portal::internal
