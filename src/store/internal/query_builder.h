// Turns AttributeQuery / EventQuery filters into SQL WHERE clauses with bound parameters only:
// the SQL text depends on which filters are present, never on their values (lists travel as one
// JSON array parameter read through json_each), so built statements are cache-friendly.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "sqlite/connection.h"
#include "store/attribute_query.h"

namespace iocgrid::store::internal {

// The store names the shared SQLite layer's types as its own.
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

using BindValue = std::variant<int64_t, std::string>;

struct SqlFilter {
  std::string where = "1";       // a boolean SQL expression
  std::vector<BindValue> binds;  // for ?1..?N in order

  // Appends " AND (expr)".
  void And(std::string_view expr) {
    where += " AND (";
    where += expr;
    where += ')';
  }
  // Adds a parameter and returns its placeholder ("?7").
  std::string Param(BindValue value);
};

// Binds filter.binds to ?1..?N.
void BindAll(Statement& stmt, const std::vector<BindValue>& binds);

// A JSON array of strings, for json_each.
std::string JsonStringArray(const std::vector<std::string>& values);
// A JSON array of integers (ids), for json_each.
std::string JsonIntArray(const std::vector<int64_t>& values);

// The WHERE expression over `attributes a JOIN events e ON e.id = a.event_id`.
SqlFilter BuildAttributeFilter(const AttributeQuery& query);

// The WHERE expression over `events e`.
SqlFilter BuildEventFilter(const EventQuery& query);

// "ORDER BY ..." for an attribute search.
std::string AttributeOrderBy(AttributeOrder order, bool descending);

}  // namespace iocgrid::store::internal
