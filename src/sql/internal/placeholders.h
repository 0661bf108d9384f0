// SQLite's placeholders as PostgreSQL's: `?N` becomes `$N`, and a bare `?` takes one more than
// the largest number given so far (SQLite's rule), so the same SQL text runs on both. Quoted
// strings and identifiers are copied as they are.
#pragma once

#include <string>
#include <string_view>

namespace iocgrid::sql::internal {

std::string ToDollarPlaceholders(std::string_view sql);

}  // namespace iocgrid::sql::internal
