// The portal store's row helpers (portal_store.cc and the files beside it that implement
// PortalStore by area): one statement's rows read into a vector, one row by id, counts capped.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/database.h"

namespace iocgrid::portal::internal {

// A count as the store keeps it: capped at 2^62, so that adding a few stays within SQL's
// 64-bit integers.
constexpr uint64_t kCountCap = uint64_t{1} << 62;
inline int64_t Signed(uint64_t n) { return static_cast<int64_t>(std::min(n, kCountCap)); }

// `n` numbered placeholders from ?first on ("?3, ?4"), or with `width` > 1 n parenthesised
// rows of them ("(?3, ?4), (?5, ?6)"), for lists and multi-row VALUES.
inline std::string Params(int first, size_t n, int width = 1) {
  std::string out;
  int at = first;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    if (width > 1) out += '(';
    for (int c = 0; c < width; ++c) {
      if (c > 0) out += ", ";
      out += '?' + std::to_string(at++);
    }
    if (width > 1) out += ')';
  }
  return out;
}

// The row of `select` (which binds the id as its one parameter), stepped to; NotFound as
// "no <noun> <id>" when there is none.
inline Result<sql::Statement> SelectById(sql::Database& db, const std::string& select,
                                         const std::string& id, std::string_view noun) {
  IOCGRID_ASSIGN_OR_RETURN(sql::Statement s, db.Prepare(select));
  s.BindText(1, id);
  IOCGRID_ASSIGN_OR_RETURN(bool found, s.Step());
  if (!found) return NotFoundError("no " + std::string(noun) + " " + id);
  return s;
}

// Every row of `select`, read by `read`; `param`, when given, is bound as its one parameter.
template <typename Row>
Result<std::vector<Row>> SelectRows(sql::Database& db, const std::string& select,
                                    Row (*read)(const sql::Statement&),
                                    const std::optional<std::string>& param = std::nullopt) {
  IOCGRID_ASSIGN_OR_RETURN(sql::Statement s, db.Prepare(select));
  if (param) s.BindText(1, *param);
  std::vector<Row> out;
  IOCGRID_RETURN_IF_ERROR(
      s.ForEachRow([&](const sql::Statement& row) { out.push_back(read(row)); }));
  return out;
}

}  // namespace iocgrid::portal::internal
