// The portal store's row helpers (portal_store.cc and the files beside it that implement
// PortalStore by area): one statement's rows read into a vector, one row by id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/database.h"

namespace iocgrid::portal::internal {

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
