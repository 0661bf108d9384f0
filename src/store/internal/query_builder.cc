#include "store/internal/query_builder.h"

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "common/ascii.h"
#include "store/number.h"

namespace iocgrid::store::internal {
namespace {

// MISP's wildcard rule: only a leading or trailing '%' makes a value a LIKE pattern.
bool IsPattern(std::string_view value) {
  return !value.empty() && (value.front() == '%' || value.back() == '%');
}

bool AllDigits(std::string_view value) {
  if (value.empty() || value.size() > 18) return false;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "column IN (SELECT value FROM json_each(?N))" for the exact values, "column LIKE ?M" for the
// patterns, joined by OR. Returns "0" when both are empty.
class ValueMatcher {
 public:
  ValueMatcher(SqlFilter& filter, const std::vector<std::string>& values) {
    std::vector<std::string> exact;
    for (const std::string& value : values) {
      if (IsPattern(value)) {
        patterns_.push_back(filter.Param(value));
      } else {
        exact.push_back(value);
      }
    }
    if (!exact.empty()) exact_ = filter.Param(JsonStringArray(exact));
  }

  std::string On(std::string_view column) const {
    std::string out;
    auto add = [&](const std::string& term) {
      if (!out.empty()) out += " OR ";
      out += term;
    };
    if (!exact_.empty()) {
      add(std::string(column) + " IN (SELECT value FROM json_each(" + exact_ + "))");
    }
    for (const std::string& pattern : patterns_) add(std::string(column) + " LIKE " + pattern);
    return out.empty() ? "0" : out;
  }

 private:
  std::string exact_;
  std::vector<std::string> patterns_;
};

// OR over the columns. A NULL (value2 of a non-composite) is no match: plain WHERE treats NULL
// as false, and `negated` wraps the OR in COALESCE(.., 0) so NOT keeps those rows. The positive
// form stays a bare OR of INs, which the planner runs as a MULTI-INDEX OR over the value indexes.
std::string MatchColumns(const ValueMatcher& matcher, std::initializer_list<std::string_view> cols,
                         bool negated) {
  std::string out = negated ? "COALESCE((" : "((";
  bool first = true;
  for (std::string_view col : cols) {
    if (!first) out += ") OR (";
    out += matcher.On(col);
    first = false;
  }
  out += negated ? "), 0)" : "))";
  return out;
}

void AddValueFilter(SqlFilter& filter, const ListFilter& list,
                    std::initializer_list<std::string_view> columns) {
  if (!list.any.empty()) {
    ValueMatcher matcher(filter, list.any);
    filter.And(MatchColumns(matcher, columns, /*negated=*/false));
  }
  if (!list.none.empty()) {
    ValueMatcher matcher(filter, list.none);
    filter.And("NOT " + MatchColumns(matcher, columns, /*negated=*/true));
  }
}

// Exact list membership (no wildcards), with MISP's email alias for types.
void AddInFilter(SqlFilter& filter, const ListFilter& list, std::string_view column,
                 bool email_alias = false) {
  auto expand = [&](std::vector<std::string> values) {
    if (email_alias) {
      bool has_email = false;
      for (const std::string& v : values) has_email |= v == "email-src" || v == "email-dst";
      if (has_email) values.emplace_back("email");
    }
    return values;
  };
  if (!list.any.empty()) {
    filter.And(std::string(column) + " IN (SELECT value FROM json_each(" +
               filter.Param(JsonStringArray(expand(list.any))) + "))");
  }
  if (!list.none.empty()) {
    filter.And("COALESCE(" + std::string(column) + ", '') NOT IN (SELECT value FROM json_each(" +
               filter.Param(JsonStringArray(expand(list.none))) + "))");
  }
}

// Tag names: exact (NOCASE column) or '%' anywhere as LIKE.
std::string TagMatch(SqlFilter& filter, const std::vector<std::string>& names) {
  std::vector<std::string> exact;
  std::string out;
  for (const std::string& name : names) {
    if (name.find('%') != std::string::npos) {
      if (!out.empty()) out += " OR ";
      out += "t.name LIKE " + filter.Param(name);
    } else {
      exact.push_back(name);
    }
  }
  if (!exact.empty()) {
    if (!out.empty()) out += " OR ";
    out += "t.name IN (SELECT value FROM json_each(" + filter.Param(JsonStringArray(exact)) + "))";
  }
  return out;
}

std::string AttributeTagged(SqlFilter& filter, const std::vector<std::string>& names) {
  std::string match = TagMatch(filter, names);
  return "a.id IN (SELECT at.attribute_id FROM attribute_tags at JOIN tags t ON t.id = "
         "at.tag_id WHERE " +
         match +
         ") OR a.event_id IN (SELECT et.event_id FROM event_tags et "
         "JOIN tags t ON t.id = et.tag_id WHERE " +
         match + ")";
}

std::string EventTagged(SqlFilter& filter, const std::vector<std::string>& names) {
  return "e.id IN (SELECT et.event_id FROM event_tags et JOIN tags t ON t.id = et.tag_id "
         "WHERE " +
         TagMatch(filter, names) + ")";
}

// Event references: numeric ids and uuids.
std::string EventRefMatch(SqlFilter& filter, const std::vector<std::string>& refs,
                          std::string_view id_column) {
  std::vector<int64_t> ids;
  std::vector<std::string> uuids;
  for (const std::string& ref : refs) {
    if (auto id = ParseDecimal<int64_t>(ref); id && AllDigits(ref)) {
      ids.push_back(*id);
    } else {
      uuids.push_back(AsciiLower(ref));
    }
  }
  std::string out = "0";
  if (!ids.empty()) {
    out += " OR " + std::string(id_column) + " IN (SELECT value FROM json_each(" +
           filter.Param(JsonIntArray(ids)) + "))";
  }
  if (!uuids.empty()) {
    out += " OR " + std::string(id_column) + " IN (SELECT id FROM events WHERE uuid IN " +
           "(SELECT value FROM json_each(" + filter.Param(JsonStringArray(uuids)) + ")))";
  }
  return out;
}

// Organisations by id, name (NOCASE) or uuid.
std::string OrgMatch(SqlFilter& filter, const std::vector<std::string>& refs,
                     std::string_view org_column) {
  std::vector<int64_t> ids;
  std::vector<std::string> names;
  for (const std::string& ref : refs) {
    if (auto id = ParseDecimal<int64_t>(ref); id && AllDigits(ref)) ids.push_back(*id);
    names.push_back(ref);
    names.push_back(AsciiLower(ref));  // uuids are stored lower-case
  }
  return std::string(org_column) + " IN (SELECT id FROM organisations WHERE id IN (SELECT value " +
         "FROM json_each(" + filter.Param(JsonIntArray(ids)) + ")) OR name IN (SELECT value FROM " +
         "json_each(" + filter.Param(JsonStringArray(names)) + ")) OR uuid IN (SELECT value FROM " +
         "json_each(" + filter.Param(JsonStringArray(names)) + ")))";
}

void AddRange(SqlFilter& filter, const TimeRange& range, std::string_view column) {
  if (range.from) filter.And(std::string(column) + " >= " + filter.Param(*range.from));
  if (range.to) filter.And(std::string(column) + " <= " + filter.Param(*range.to));
}

void AddListRef(SqlFilter& filter, const ListFilter& list,
                const std::function<std::string(const std::vector<std::string>&)>& match) {
  if (!list.any.empty()) filter.And(match(list.any));
  if (!list.none.empty()) filter.And("NOT (" + match(list.none) + ")");
}

}  // namespace

std::string SqlFilter::Param(BindValue value) {
  binds.push_back(std::move(value));
  return "?" + std::to_string(binds.size());
}

void BindAll(Statement& stmt, const std::vector<BindValue>& binds) {
  for (size_t i = 0; i < binds.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    if (const int64_t* number = std::get_if<int64_t>(&binds[i])) {
      stmt.Bind(index, *number);
    } else {
      stmt.BindText(index, std::get<std::string>(binds[i]));
    }
  }
}

std::string JsonIntArray(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += ']';
  return out;
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (byte < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", byte);
        out += escape;
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

SqlFilter BuildAttributeFilter(const AttributeQuery& query) {
  SqlFilter filter;
  AddValueFilter(filter, query.value, {"a.value1", "a.value2"});
  AddValueFilter(filter, query.value1, {"a.value1"});
  AddValueFilter(filter, query.value2, {"a.value2"});
  AddInFilter(filter, query.type, "a.type", /*email_alias=*/true);
  AddInFilter(filter, query.category, "a.category");
  AddInFilter(filter, query.object_relation, "a.object_relation");
  {
    ListFilter uuids;
    for (const std::string& u : query.uuid.any) uuids.any.push_back(AsciiLower(u));
    for (const std::string& u : query.uuid.none) uuids.none.push_back(AsciiLower(u));
    AddInFilter(filter, uuids, "a.uuid");
  }
  AddListRef(filter, query.tags,
             [&](const std::vector<std::string>& names) { return AttributeTagged(filter, names); });
  AddListRef(filter, query.event, [&](const std::vector<std::string>& refs) {
    return EventRefMatch(filter, refs, "a.event_id");
  });
  AddListRef(filter, query.org, [&](const std::vector<std::string>& refs) {
    return OrgMatch(filter, refs, "e.orgc_id");
  });
  if (query.eventinfo) filter.And("e.info LIKE " + filter.Param(*query.eventinfo));
  if (query.to_ids) filter.And("a.to_ids = " + filter.Param(int64_t{*query.to_ids ? 1 : 0}));
  if (query.published) {
    filter.And("e.published = " + filter.Param(int64_t{*query.published ? 1 : 0}));
  }
  if (query.threat_level_id) {
    filter.And("e.threat_level_id = " + filter.Param(int64_t{*query.threat_level_id}));
  }
  switch (query.deleted) {
    case DeletedFilter::kExclude:
      filter.And("a.deleted = 0");
      break;
    case DeletedFilter::kOnly:
      filter.And("a.deleted = 1");
      break;
    case DeletedFilter::kBoth:
      break;
  }
  if (!query.include_deleted_events) filter.And("e.deleted = 0");
  AddRange(filter, query.timestamp, "a.timestamp");
  AddRange(filter, query.event_timestamp, "e.timestamp");
  AddRange(filter, query.publish_timestamp, "e.publish_timestamp");
  AddRange(filter, query.first_seen_us, "a.first_seen");
  AddRange(filter, query.last_seen_us, "a.last_seen");
  if (query.date_from) filter.And("e.date >= " + filter.Param(*query.date_from));
  if (query.date_to) filter.And("e.date <= " + filter.Param(*query.date_to));
  return filter;
}

SqlFilter BuildEventFilter(const EventQuery& query) {
  SqlFilter filter;
  AddListRef(filter, query.event, [&](const std::vector<std::string>& refs) {
    return EventRefMatch(filter, refs, "e.id");
  });
  AddListRef(filter, query.org, [&](const std::vector<std::string>& refs) {
    return OrgMatch(filter, refs, "e.orgc_id");
  });
  AddListRef(filter, query.tags,
             [&](const std::vector<std::string>& names) { return EventTagged(filter, names); });
  if (!query.value.empty()) {
    AttributeQuery values;
    values.value = query.value;
    // Reuse the attribute value predicate inside a subquery over the event's attributes.
    SqlFilter inner;
    inner.binds = std::move(filter.binds);
    AddValueFilter(inner, values.value, {"a.value1", "a.value2"});
    filter.binds = std::move(inner.binds);
    filter.And("e.id IN (SELECT a.event_id FROM attributes a WHERE a.deleted = 0 AND " +
               inner.where + ")");
  }
  if (query.eventinfo) filter.And("e.info LIKE " + filter.Param(*query.eventinfo));
  if (query.published) {
    filter.And("e.published = " + filter.Param(int64_t{*query.published ? 1 : 0}));
  }
  if (query.threat_level_id) {
    filter.And("e.threat_level_id = " + filter.Param(int64_t{*query.threat_level_id}));
  }
  if (query.analysis) filter.And("e.analysis = " + filter.Param(int64_t{*query.analysis}));
  if (query.distribution) {
    filter.And("e.distribution = " + filter.Param(int64_t{*query.distribution}));
  }
  if (query.date_from) filter.And("e.date >= " + filter.Param(*query.date_from));
  if (query.date_to) filter.And("e.date <= " + filter.Param(*query.date_to));
  AddRange(filter, query.timestamp, "e.timestamp");
  AddRange(filter, query.publish_timestamp, "e.publish_timestamp");
  if (!query.include_deleted) filter.And("e.deleted = 0");
  return filter;
}

std::string AttributeOrderBy(AttributeOrder order, bool descending) {
  std::string column;
  switch (order) {
    case AttributeOrder::kId:
      column = "a.id";
      break;
    case AttributeOrder::kEventId:
      column = "a.event_id";
      break;
    case AttributeOrder::kObjectId:
      column = "a.object_id";
      break;
    case AttributeOrder::kType:
      column = "a.type";
      break;
    case AttributeOrder::kCategory:
      column = "a.category";
      break;
    case AttributeOrder::kValue:
      column = "a.value1";
      break;
    case AttributeOrder::kDistribution:
      column = "a.distribution";
      break;
    case AttributeOrder::kTimestamp:
      column = "a.timestamp";
      break;
    case AttributeOrder::kObjectRelation:
      column = "a.object_relation";
      break;
    case AttributeOrder::kEventPublishTimestamp:
      column = "e.publish_timestamp";
      break;
  }
  const char* direction = descending ? " DESC" : " ASC";
  std::string out = "ORDER BY " + column + direction;
  if (order == AttributeOrder::kValue) out += std::string(", a.value2") + direction;
  if (order != AttributeOrder::kId) out += std::string(", a.id") + direction;
  return out;
}

}  // namespace iocgrid::store::internal
