// Whether a member's data changed (issue 11: watchlists re-run when it does), asked cheaply:
// an iocgrid node's data generation (GET /grid/v1/stats, which every write and every import
// beside the node moves), or, for a plain MISP member, whether any attribute carries a
// timestamp at or after the previous check (POST /attributes/restSearch, limit 1).
//
// Thread-safety: CheckMemberData may run on any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "federation/member.h"

namespace iocgrid::federation {

struct DataCheck {
  std::string marker;    // what to pass as `previous` next time
  bool changed = false;  // the data changed since `previous` / `since`
};

// `previous`: the marker of the last check ("" the first time: nothing counts as changed);
// `since`: unix seconds of the last check (MISP members). Blocking, within the member's
// timeout. Errors: the transport's, kDataLoss for an answer that is not the expected shape.
Result<DataCheck> CheckMemberData(const MemberConfig& member, const std::string& previous,
                                  int64_t since);

}  // namespace iocgrid::federation
