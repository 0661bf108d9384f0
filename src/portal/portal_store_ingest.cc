// PortalStore's writes of alliance sightings (issue 12; docs/trends.md, Storage): a batch folded
// into the rows and the per-day aggregates in one transaction, the day sketches built for files
// from before them, and the retention purge. The trends questions that read them are in
// portal_store_trends.cc; the schema in portal_store_schema.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "portal/internal/distinct_sketch.h"
#include "portal/internal/staged_sightings.h"
#include "portal/internal/store_select.h"
#include "portal/portal_store.h"
#include "sql/database.h"

namespace iocgrid::portal {

using internal::kCountCap;
using internal::Params;
using internal::Signed;
using sql::Database;
using sql::Statement;

namespace {

// A batch is recorded in two passes over what the store holds of its values: reads (the ids of
// the values, this organisation's span of each, its rows of the batch's days, whether the
// sector counts a value already), then the writes, each computed here from what was read. The
// work per observable is a handful of index probes and writes, asked for only where the
// invariants leave a doubt: an organisation's rows of a value lie within its value_orgs span
// (PurgeAllianceSightings rebuilds the spans from the rows), and alliance_values.orgs counts
// the spans of a value, so that a value seen by no one else needs no look at other rows.
// (Temporary tables and INSERT ... SELECT, as before, ran 14 statements over every row of the
// batch: 27–32k sightings/s in batches of 10^4.)

// Items a statement: a round trip each on a server, and on SQLite a statement's start and
// reset per item cost about as much as its work (one item a statement: 38–46k sightings/s in
// batches of 10^4, against 45–51k; 10^5: 100–157k against 163–220k).
constexpr size_t kChunk = 64;

// One question asked of many items, kChunk items a statement and then the rest one by one:
// its two statements (`sql(n)` is the text for n items) are prepared once and reset between
// uses, as building and looking up the text per item costs as much as SQLite's work.
class Chunked {
 public:
  Chunked(Database& db, std::function<std::string(size_t)> sql) : db_(db), sql_(std::move(sql)) {}

  // Calls fn(statement, begin, n) for [0, count) in parts, the statement ready for binding.
  template <typename Fn>
  Status Each(size_t count, Fn&& fn) {
    for (size_t begin = 0; begin < count;) {
      const size_t n = count - begin >= kChunk ? kChunk : 1;
      std::optional<Statement>& s = n == kChunk ? full_ : one_;
      if (!s) {
        IOCGRID_ASSIGN_OR_RETURN(Statement prepared, db_.Prepare(sql_(n)));
        s.emplace(std::move(prepared));
      } else {
        s->Reset();
      }
      IOCGRID_RETURN_IF_ERROR(fn(*s, begin, n));
      begin += n;
    }
    return Status::Ok();
  }

 private:
  Database& db_;
  const std::function<std::string(size_t)> sql_;
  std::optional<Statement> full_, one_;
};

uint64_t CappedAdd(uint64_t a, uint64_t b) {
  return std::min(kCountCap, a + std::min(kCountCap, b));
}

// One observable of the batch and what the store holds of it.
struct BatchValue {
  const AllianceSighting* first = nullptr;  // type and value
  std::string members;  // JSON of the members of its last seen sighting (the later on a tie)
  int64_t id = -1;      // alliance_values.id, once known or added
  int64_t orgs = 0;     // organisations that saw it before this batch
  bool known = false;   // in alliance_values before this batch
  bool members_differ = false;
  bool span = false;  // this organisation's value_orgs row, [span_first, span_last]
  int64_t span_first = 0, span_last = 0;
  int64_t first_day = std::numeric_limits<int64_t>::max();  // the batch's days of it
  int64_t last_day = std::numeric_limits<int64_t>::min();
  // Other organisations may have rows of it (alliance_values.orgs counts this one's span).
  bool others() const { return orgs > (span ? 1 : 0); }
  // Two organisations or more have seen it once this batch is in.
  bool shared_after() const { return orgs + (span ? 0 : 1) >= 2; }
};

// One observable and day of the batch: the smallest class name, counts summed (capped as
// Signed caps one), first and last seen widened; where it is counted.
struct BatchRow {
  size_t value = 0;
  int64_t day = 0;
  std::string_view cls;
  uint64_t count = 0, alerted = 0;
  int64_t first_seen = 0, last_seen = 0;
  bool old = false;  // this organisation has a row of the value that day: it keeps its cell
  std::string old_sector, old_type, old_class;
  bool seen = false;  // (no old row) the sector counts the value in its class that day already
};

// A batch as the fold works on it: reports repeat observables (one line per event), so this is
// fewer rows than sightings. Values in (type, value) order, and once their ids are known, rows
// in (day, id) order and id_order, so that probes and writes walk each index in its order (a
// B-tree filled in order also keeps its pages full, which later reads of it feel).
struct Batch {
  std::vector<BatchValue> values;
  std::vector<BatchRow> rows;
  std::vector<size_t> value_of;               // sighting -> values index
  std::unordered_map<int64_t, size_t> by_id;  // alliance_values.id -> values index
  std::vector<size_t> id_order;               // values indexes in id order, once known
};

// A sighting's place in the batch's (type, value, day) order, equal ones in batch order: the
// value's first 16 bytes and its length, so that comparisons read the sighting itself only for
// longer values that share those (a sort through the sightings' own strings was half of
// combining a batch of 10^4, most of it cache misses).
struct SortKey {
  uint64_t head[2];  // the value's first 16 bytes, big-endian, zero-padded
  uint32_t type;     // the type's rank among the batch's types, in name order
  uint32_t size;     // the value's length
  int64_t day;
  uint32_t at;  // index in the batch
};

uint64_t BigEndian8(std::string_view v, size_t from) {
  uint64_t x = 0;
  for (size_t i = from; i < from + 8; ++i) {
    x = (x << 8) | (i < v.size() ? static_cast<unsigned char>(v[i]) : 0u);
  }
  return x;
}

// <0, 0, >0 as (type, value) of a against c.
int CompareValues(const SortKey& a, const SortKey& c,
                  const std::vector<AllianceSighting>& sightings) {
  if (a.type != c.type) return a.type < c.type ? -1 : 1;
  if (a.head[0] != c.head[0]) return a.head[0] < c.head[0] ? -1 : 1;
  if (a.head[1] != c.head[1]) return a.head[1] < c.head[1] ? -1 : 1;
  if (a.size <= 16 && c.size <= 16) return a.size == c.size ? 0 : (a.size < c.size ? -1 : 1);
  return sightings[a.at].value.compare(sightings[c.at].value);
}

Batch Collect(const std::vector<AllianceSighting>& sightings) {
  Batch b;
  std::vector<std::string_view> types;
  for (const AllianceSighting& s : sightings) {
    if (std::find(types.begin(), types.end(), s.type) == types.end()) types.push_back(s.type);
  }
  std::sort(types.begin(), types.end());
  std::vector<SortKey> keys(sightings.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const AllianceSighting& s = sightings[i];
    SortKey& k = keys[i];
    k.head[0] = BigEndian8(s.value, 0);
    k.head[1] = BigEndian8(s.value, 8);
    k.type =
        static_cast<uint32_t>(std::lower_bound(types.begin(), types.end(), s.type) - types.begin());
    k.size = static_cast<uint32_t>(std::min<size_t>(s.value.size(), UINT32_MAX));
    k.day = s.day;
    k.at = static_cast<uint32_t>(i);
  }
  std::sort(keys.begin(), keys.end(), [&](const SortKey& x, const SortKey& y) {
    if (int v = CompareValues(x, y, sightings); v != 0) return v < 0;
    return std::tie(x.day, x.at) < std::tie(y.day, y.at);
  });
  b.value_of.resize(sightings.size());
  uint32_t members = 0;  // the sighting whose members the current value takes
  // Reports name few distinct member lists: each is written as JSON once.
  std::map<std::vector<std::string>, std::string> json_of;
  auto take_members = [&] {
    if (b.values.empty()) return;
    const std::vector<std::string>& list = sightings[members].members;
    auto it = json_of.find(list);
    if (it == json_of.end()) it = json_of.emplace(list, nlohmann::json(list).dump()).first;
    b.values.back().members = it->second;
  };
  b.values.reserve(sightings.size());
  b.rows.reserve(sightings.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    const uint32_t at = keys[k].at;
    const AllianceSighting& s = sightings[at];
    if (k == 0 || CompareValues(keys[k - 1], keys[k], sightings) != 0) {
      take_members();
      BatchValue v;
      v.first = &s;
      b.values.push_back(std::move(v));
      members = at;
    } else if (std::tie(sightings[members].last_seen, members) < std::tie(s.last_seen, at)) {
      members = at;
    }
    BatchValue& value = b.values.back();
    const size_t v = b.values.size() - 1;
    b.value_of[at] = v;
    value.first_day = std::min(value.first_day, s.day);
    value.last_day = std::max(value.last_day, s.day);
    if (b.rows.empty() || b.rows.back().value != v || b.rows.back().day != s.day) {
      BatchRow r;
      r.value = v;
      r.day = s.day;
      r.cls = s.cls;
      r.first_seen = s.first_seen;
      r.last_seen = s.last_seen;
      b.rows.push_back(std::move(r));
    }
    BatchRow& r = b.rows.back();
    r.cls = std::min(r.cls, std::string_view(s.cls));
    r.count = CappedAdd(r.count, s.count);
    r.alerted = CappedAdd(r.alerted, s.alerted);
    r.first_seen = std::min(r.first_seen, s.first_seen);
    r.last_seen = std::max(r.last_seen, s.last_seen);
  }
  take_members();
  return b;
}

// The values index of (type, value) within [begin, end) of b.values (in order), or end.
size_t FindValue(const Batch& b, size_t begin, size_t end, std::string_view value) {
  auto it =
      std::lower_bound(b.values.begin() + static_cast<ptrdiff_t>(begin),
                       b.values.begin() + static_cast<ptrdiff_t>(end), value,
                       [](const BatchValue& v, std::string_view x) { return v.first->value < x; });
  const auto i = static_cast<size_t>(it - b.values.begin());
  return i < end && b.values[i].first->value == value ? i : end;
}

// The ids, organisation counts and members of the values the store holds (one statement per
// type and chunk), then the others added with this organisation as their first, and the
// members of known values brought up to date.
Status ResolveValues(Database& db, Batch& b) {
  Chunked lookup(db, [](size_t n) {
    return "SELECT id, value, orgs, members FROM alliance_values WHERE type = ?1 AND value IN (" +
           Params(2, n) + ")";
  });
  for (size_t begin = 0; begin < b.values.size();) {
    size_t end = begin;
    while (end < b.values.size() && b.values[end].first->type == b.values[begin].first->type) ++end;
    IOCGRID_RETURN_IF_ERROR(lookup.Each(end - begin, [&](Statement& s, size_t at, size_t n) {
      s.BindText(1, b.values[begin].first->type);
      for (size_t i = 0; i < n; ++i) {
        s.BindText(static_cast<int>(i + 2), b.values[begin + at + i].first->value);
      }
      return s.ForEachRow([&](const Statement& r) -> Status {
        const size_t i = n == 1 ? begin + at : FindValue(b, begin + at, begin + at + n, r.Text(1));
        if (i >= begin + at + n) return InternalError("alliance_values answered a value not asked");
        BatchValue& v = b.values[i];
        v.id = r.Int(0);
        v.orgs = r.Int(2);
        v.known = true;
        v.members_differ = r.Text(3) != v.members;
        return Status::Ok();
      });
    }));
    begin = end;
  }
  // New values take the ids after the largest (writers follow each other: SQLite's write lock,
  // PostgreSQL's writers' lock), so that no insert has to read its id back. This is the only
  // place values are added; PostgreSQL's identity sequence is not used.
  IOCGRID_ASSIGN_OR_RETURN(int64_t last,
                           db.QueryInt("SELECT coalesce(max(id), 0) FROM alliance_values"));
  std::vector<size_t> added;
  for (size_t i = 0; i < b.values.size(); ++i) {
    if (!b.values[i].known) {
      b.values[i].id = ++last;
      added.push_back(i);
    }
  }
  // orgs 1: this organisation's span, added by FoldBatch
  Chunked add(db, [](size_t n) {
    return "INSERT INTO alliance_values(id, type, value, members, orgs) VALUES" + Params(1, n, 5);
  });
  IOCGRID_RETURN_IF_ERROR(add.Each(added.size(), [&](Statement& s, size_t at, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const BatchValue& v = b.values[added[at + i]];
      const int p = static_cast<int>(i) * 5;
      s.Bind(p + 1, v.id).BindText(p + 2, v.first->type).BindText(p + 3, v.first->value);
      s.BindText(p + 4, v.members).Bind(p + 5, 1);
    }
    return s.Run();
  }));
  b.id_order.resize(b.values.size());
  for (size_t i = 0; i < b.values.size(); ++i) b.id_order[i] = i;
  std::sort(b.id_order.begin(), b.id_order.end(),
            [&](size_t x, size_t y) { return b.values[x].id < b.values[y].id; });
  std::sort(b.rows.begin(), b.rows.end(), [&](const BatchRow& x, const BatchRow& y) {
    return std::tie(x.day, b.values[x.value].id) < std::tie(y.day, b.values[y.value].id);
  });
  b.by_id.reserve(b.values.size());
  for (size_t i = 0; i < b.values.size(); ++i) {
    BatchValue& v = b.values[i];
    b.by_id.emplace(v.id, i);
    if (!v.known || !v.members_differ) continue;
    IOCGRID_ASSIGN_OR_RETURN(Statement s,
                             db.Prepare("UPDATE alliance_values SET members = ?1 WHERE id = ?2"));
    s.BindText(1, v.members).Bind(2, v.id);
    IOCGRID_RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

// Runs `sql` + "?1, ...)" for `ids`.
Status ForIds(Database& db, std::string_view sql, const std::vector<int64_t>& ids) {
  Chunked update(db, [sql](size_t n) { return std::string(sql) + Params(1, n) + ")"; });
  return update.Each(ids.size(), [&](Statement& s, size_t at, size_t n) {
    for (size_t i = 0; i < n; ++i) s.Bind(static_cast<int>(i + 1), ids[at + i]);
    return s.Run();
  });
}

// The rows of the values `ids` that the organisation before this one saw (each has exactly
// one: this organisation is the second) become shared, and so indexed by value for scanners.
// The primary key leads with the day: one question per day of that organisation's span (at
// most the retention, since older rows are purged and newer ones refused).
Status ShareFirstRows(Database& db, const std::vector<int64_t>& ids, const std::string& org) {
  struct Span {
    int64_t id = 0;
    std::string org;
    int64_t first = 0, last = 0;
  };
  std::vector<Span> spans;
  Chunked read(db, [](size_t n) {
    return "SELECT value_id, org, first_day, last_day FROM value_orgs WHERE value_id IN (" +
           Params(2, n) + ") AND org <> ?1";
  });
  IOCGRID_RETURN_IF_ERROR(read.Each(ids.size(), [&](Statement& s, size_t at, size_t n) {
    s.BindText(1, org);
    for (size_t i = 0; i < n; ++i) s.Bind(static_cast<int>(i + 2), ids[at + i]);
    return s.ForEachRow([&](const Statement& r) {
      spans.push_back({r.Int(0), std::string(r.Text(1)), r.Int(2), r.Int(3)});
    });
  }));
  if (spans.empty()) return Status::Ok();
  IOCGRID_ASSIGN_OR_RETURN(
      Statement mark, db.Prepare("UPDATE alliance_sightings SET shared = 1 WHERE day = ?1 AND org "
                                 "= ?2 AND value_id = ?3"));
  for (const Span& span : spans) {
    for (int64_t day = span.first; day <= span.last; ++day) {
      mark.Reset();
      mark.Bind(1, day).BindText(2, span.org).Bind(3, span.id);
      IOCGRID_RETURN_IF_ERROR(mark.Run());
    }
  }
  return Status::Ok();
}

// This organisation's span of each known value; the values it is the second organisation to
// see have the first one's span and rows marked shared (indexed by value), so that
// ReadWhereCounted finds them.
Status ReadSpans(Database& db, Batch& b, const std::string& org) {
  std::vector<size_t> known;
  for (size_t i : b.id_order) {
    if (b.values[i].known) known.push_back(i);
  }
  Chunked spans(db, [](size_t n) {
    return "SELECT value_id, first_day, last_day FROM value_orgs WHERE org = ?1 AND value_id IN (" +
           Params(2, n) + ")";
  });
  IOCGRID_RETURN_IF_ERROR(spans.Each(known.size(), [&](Statement& s, size_t at, size_t n) {
    s.BindText(1, org);
    for (size_t i = 0; i < n; ++i) s.Bind(static_cast<int>(i + 2), b.values[known[at + i]].id);
    return s.ForEachRow([&](const Statement& r) {
      BatchValue& v = b.values[b.by_id.at(r.Int(0))];
      v.span = true;
      v.span_first = r.Int(1);
      v.span_last = r.Int(2);
    });
  }));
  std::vector<int64_t> second;  // known, new to this organisation, seen by one other
  for (size_t i : known) {
    if (!b.values[i].span && b.values[i].orgs == 1) second.push_back(b.values[i].id);
  }
  IOCGRID_RETURN_IF_ERROR(ShareFirstRows(db, second, org));
  return ForIds(db, "UPDATE value_orgs SET shared = 1 WHERE shared = 0 AND value_id IN (", second);
}

// This organisation's rows of the batch's days where its span covers the day, and for the other
// rows whether the sector counts the value in its class that day already (only for values
// another organisation saw, whose rows are shared: ReadSpans).
Status ReadWhereCounted(Database& db, Batch& b, const std::string& org, const std::string& sector) {
  // One day at a time (rows are in day order): the rows this organisation has already, then
  // per class whether the sector counts the value.
  std::vector<size_t> ask;
  std::unordered_map<int64_t, size_t> row_of;  // value id -> row, within one day
  std::map<std::string_view, std::vector<size_t>> by_class;
  Chunked old_rows(db, [](size_t n) {
    return "SELECT value_id, sector, type, class FROM alliance_sightings WHERE day = ?1 AND org = "
           "?2 AND value_id IN (" +
           Params(3, n) + ")";
  });
  // Other organisations' rows of a value are shared (above, or when it reached its second), so
  // the shared rows' index answers (INDEXED BY: without statistics the planner takes the primary
  // key's day prefix and reads the whole day).
  Chunked counted(db, [sqlite = db.dialect() == sql::Dialect::kSqlite](size_t n) {
    return std::string("SELECT value_id FROM alliance_sightings ") +
           (sqlite ? "INDEXED BY alliance_sightings_shared " : "") + "WHERE value_id IN (" +
           Params(4, n) + ") AND day = ?1 AND sector = ?2 AND class = ?3 AND shared = 1";
  });
  for (size_t begin = 0; begin < b.rows.size();) {
    const int64_t day = b.rows[begin].day;
    size_t end = begin;
    row_of.clear();
    ask.clear();
    for (; end < b.rows.size() && b.rows[end].day == day; ++end) {
      const BatchValue& v = b.values[b.rows[end].value];
      row_of.emplace(v.id, end);
      if (v.span && v.span_first <= day && day <= v.span_last) ask.push_back(end);
    }
    IOCGRID_RETURN_IF_ERROR(old_rows.Each(ask.size(), [&](Statement& s, size_t at, size_t n) {
      s.Bind(1, day).BindText(2, org);
      for (size_t i = 0; i < n; ++i) {
        s.Bind(static_cast<int>(i + 3), b.values[b.rows[ask[at + i]].value].id);
      }
      return s.ForEachRow([&](const Statement& r) {
        BatchRow& row = b.rows[row_of.at(r.Int(0))];
        row.old = true;
        row.old_sector = r.Text(1);
        row.old_type = r.Text(2);
        row.old_class = r.Text(3);
      });
    }));
    by_class.clear();
    for (size_t i = begin; i < end; ++i) {
      if (!b.rows[i].old && b.values[b.rows[i].value].others()) {
        by_class[b.rows[i].cls].push_back(i);
      }
    }
    for (const auto& entry : by_class) {
      const std::string_view cls = entry.first;
      const std::vector<size_t>& rows = entry.second;
      IOCGRID_RETURN_IF_ERROR(counted.Each(rows.size(), [&](Statement& s, size_t at, size_t n) {
        s.Bind(1, day).BindText(2, sector).BindText(3, cls);
        for (size_t i = 0; i < n; ++i) {
          s.Bind(static_cast<int>(i + 4), b.values[b.rows[rows[at + i]].value].id);
        }
        return s.ForEachRow([&](const Statement& r) { b.rows[row_of.at(r.Int(0))].seen = true; });
      }));
    }
    begin = end;
  }
  return Status::Ok();
}

using internal::DistinctSketch;
using SketchKey = std::tuple<int64_t, std::string, std::string, std::string>;  // day ... class

// Merges `cells` into the stored sketches of the same cells (read, merged, written back).
Status AddToSketches(Database& db, const std::map<SketchKey, DistinctSketch>& cells) {
  for (const auto& [key, added] : cells) {
    const auto& [day, sector, type, cls] = key;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement read, db.Prepare("SELECT sketch FROM sector_sketches WHERE day = ? AND sector = "
                                   "? AND type = ? AND class = ?"));
    read.Bind(1, day).BindText(2, sector).BindText(3, type).BindText(4, cls);
    DistinctSketch sketch;
    IOCGRID_ASSIGN_OR_RETURN(bool found, read.Step());
    if (found) {
      auto blob = read.Blob(0);
      IOCGRID_ASSIGN_OR_RETURN(
          sketch,
          DistinctSketch::Decode({reinterpret_cast<const char*>(blob.data()), blob.size()}));
    }
    IOCGRID_RETURN_IF_ERROR(read.Run());  // finishes the statement
    sketch.Merge(added);
    const std::string bytes = sketch.Encode();
    IOCGRID_ASSIGN_OR_RETURN(
        Statement write,
        db.Prepare("INSERT INTO sector_sketches(day, sector, type, class, sketch) VALUES(?, ?, ?, "
                   "?, ?) ON CONFLICT(day, sector, type, class) DO UPDATE SET sketch = "
                   "excluded.sketch"));
    write.Bind(1, day).BindText(2, sector).BindText(3, type).BindText(4, cls);
    write.BindBlob(5, {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
    IOCGRID_RETURN_IF_ERROR(write.Run());
  }
  return Status::Ok();
}

// The cells' numbers and contributors (a row adds an observable to its cell unless the
// organisation had it that day or the sector counts it already), and the rows new to their
// cell into the cell's sketch.
Status CountCells(Database& db, const Batch& b, const std::string& org, const std::string& sector) {
  struct Cell {
    uint64_t observables = 0, sightings = 0, alerted = 0;
  };
  std::map<SketchKey, Cell> cells;
  std::map<SketchKey, DistinctSketch> sketches;
  for (const BatchRow& r : b.rows) {
    const BatchValue& v = b.values[r.value];
    Cell& c = r.old ? cells[{r.day, r.old_sector, r.old_type, r.old_class}]
                    : cells[{r.day, sector, v.first->type, std::string(r.cls)}];
    if (!r.old && !r.seen) ++c.observables;
    c.sightings = CappedAdd(c.sightings, r.count);
    c.alerted = CappedAdd(c.alerted, r.alerted);
    if (!r.old) {
      sketches[{r.day, sector, v.first->type, std::string(r.cls)}].Add(
          DistinctSketch::Hash(v.first->type, v.first->value));
    }
  }
  for (const auto& [key, c] : cells) {
    const auto& [day, cell_sector, type, cls] = key;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO sector_daily(day, sector, type, class, observables, sightings, "
                   "alerted) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(day, sector, type, class) DO "
                   "UPDATE SET observables = sector_daily.observables + excluded.observables, "
                   "sightings = sector_daily.sightings + excluded.sightings, alerted = "
                   "sector_daily.alerted + excluded.alerted"));
    s.Bind(1, day).BindText(2, cell_sector).BindText(3, type).BindText(4, cls);
    s.Bind(5, Signed(c.observables)).Bind(6, Signed(c.sightings)).Bind(7, Signed(c.alerted));
    IOCGRID_RETURN_IF_ERROR(s.Run());
    IOCGRID_ASSIGN_OR_RETURN(
        Statement o, db.Prepare("INSERT INTO sector_orgs(day, sector, type, class, org) VALUES(?, "
                                "?, ?, ?, ?) ON CONFLICT DO NOTHING"));
    o.Bind(1, day).BindText(2, cell_sector).BindText(3, type).BindText(4, cls).BindText(5, org);
    IOCGRID_RETURN_IF_ERROR(o.Run());
  }
  return AddToSketches(db, sketches);
}

// The rows into alliance_sightings (added to the organisation's row of the day when there is
// one), the organisations per value (one more for a value new to the organisation) and their
// spans.
Status FoldBatch(Database& db, const Batch& b, const std::string& org, const std::string& sector) {
  Chunked rows(db, [](size_t n) {
    return "INSERT INTO alliance_sightings(day, org, value_id, sector, type, class, count, "
           "alerted, first_seen, last_seen, shared) VALUES" +
           Params(1, n, 11) +
           " ON CONFLICT(day, org, value_id) DO UPDATE SET count = "
           "alliance_sightings.count + excluded.count, alerted = alliance_sightings.alerted "
           "+ excluded.alerted, first_seen = CASE WHEN excluded.first_seen < "
           "alliance_sightings.first_seen THEN excluded.first_seen ELSE "
           "alliance_sightings.first_seen END, last_seen = CASE WHEN excluded.last_seen > "
           "alliance_sightings.last_seen THEN excluded.last_seen ELSE "
           "alliance_sightings.last_seen END";
  });
  IOCGRID_RETURN_IF_ERROR(rows.Each(b.rows.size(), [&](Statement& s, size_t at, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const BatchRow& r = b.rows[at + i];
      const BatchValue& v = b.values[r.value];
      const int p = static_cast<int>(i) * 11;
      s.Bind(p + 1, r.day).BindText(p + 2, org).Bind(p + 3, v.id).BindText(p + 4, sector);
      s.BindText(p + 5, v.first->type).BindText(p + 6, r.cls).Bind(p + 7, Signed(r.count));
      s.Bind(p + 8, Signed(r.alerted)).Bind(p + 9, r.first_seen).Bind(p + 10, r.last_seen);
      s.Bind(p + 11, v.shared_after() ? 1 : 0);
    }
    return s.Run();
  }));
  // Known values new to this organisation count one more (new values were added with 1).
  std::vector<int64_t> newly;
  for (size_t i : b.id_order) {
    const BatchValue& v = b.values[i];
    if (v.known && !v.span) newly.push_back(v.id);
  }
  IOCGRID_RETURN_IF_ERROR(
      ForIds(db, "UPDATE alliance_values SET orgs = orgs + 1 WHERE id IN (", newly));
  // The spans: a new one is shared when its value has two organisations now.
  Chunked spans(db, [](size_t n) {
    return "INSERT INTO value_orgs(value_id, org, first_day, last_day, shared) VALUES" +
           Params(1, n, 5) +
           " ON CONFLICT(value_id, org) DO UPDATE SET first_day = CASE WHEN "
           "excluded.first_day < value_orgs.first_day THEN excluded.first_day ELSE "
           "value_orgs.first_day END, last_day = CASE WHEN excluded.last_day > "
           "value_orgs.last_day THEN excluded.last_day ELSE value_orgs.last_day END";
  });
  IOCGRID_RETURN_IF_ERROR(spans.Each(b.values.size(), [&](Statement& s, size_t at, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const BatchValue& v = b.values[b.id_order[at + i]];
      const int p = static_cast<int>(i) * 5;
      s.Bind(p + 1, v.id).BindText(p + 2, org).Bind(p + 3, v.first_day).Bind(p + 4, v.last_day);
      s.Bind(p + 5, v.shared_after() ? 1 : 0);
    }
    return s.Run();
  }));
  return Status::Ok();
}

// The actors' sightings, summed per actor, day and value.
Status FoldActors(Database& db, const Batch& b, const std::vector<AllianceSighting>& sightings,
                  const std::string& org) {
  std::map<std::tuple<std::string_view, int64_t, int64_t>, uint64_t> actors;
  for (const AllianceSighting& s : sightings) {
    if (s.actors.empty()) continue;
    const int64_t id = b.values[b.value_of[static_cast<size_t>(&s - sightings.data())]].id;
    for (const std::string& actor : s.actors) {
      uint64_t& n = actors[{actor, s.day, id}];
      n = CappedAdd(n, s.count);
    }
  }
  for (const auto& [key, n] : actors) {
    const auto& [actor, day, id] = key;
    IOCGRID_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO actor_daily(actor, day, value_id, org, sightings) VALUES(?, ?, ?, "
                   "?, ?) ON CONFLICT(actor, day, value_id, org) DO UPDATE SET sightings = "
                   "actor_daily.sightings + excluded.sightings"));
    s.BindText(1, actor).Bind(2, day).Bind(3, id).BindText(4, org).Bind(5, Signed(n));
    IOCGRID_RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

// One report folded into the rows and the per-day aggregates, inside the caller's transaction.
Status FoldReport(Database& db, const std::string& org, const std::string& sector,
                  const std::vector<AllianceSighting>& sightings) {
  Batch b = Collect(sightings);
  IOCGRID_RETURN_IF_ERROR(ResolveValues(db, b));
  IOCGRID_RETURN_IF_ERROR(ReadSpans(db, b, org));
  IOCGRID_RETURN_IF_ERROR(ReadWhereCounted(db, b, org, sector));
  IOCGRID_RETURN_IF_ERROR(CountCells(db, b, org, sector));
  IOCGRID_RETURN_IF_ERROR(FoldBatch(db, b, org, sector));
  return FoldActors(db, b, sightings, org);
}

}  // namespace

// A report is staged (alliance_pending, one append: schema 12) and the staged reports are folded
// together, in the order they came, once they are many: a fold's writes land on pages of the
// value, span and shared-row indexes that the reports share, each written to the WAL once at
// commit instead of once a report (per report of 10^4, the commit was ~28 ms of ~105). A report
// as large as a fold's worth, with nothing staged, is folded at once without staging.
Status PortalStore::RecordAllianceSightings(const std::string& batch_id, const std::string& org,
                                            const std::string& sector,
                                            const std::vector<AllianceSighting>& sightings) {
  std::lock_guard<std::mutex> lock(mu_);
  bool fold = false;
  {
    sql::Transaction tx(*db_);
    IOCGRID_RETURN_IF_ERROR(tx.Begin());
    IOCGRID_ASSIGN_OR_RETURN(
        Statement batch, db_->Prepare("INSERT INTO alliance_batches(id, org, created, sightings) "
                                      "VALUES(?, ?, ?, ?)"));
    batch.BindText(1, batch_id).BindText(2, org).Bind(3, clock_.Now());
    batch.Bind(4, static_cast<int64_t>(sightings.size()));
    IOCGRID_RETURN_IF_ERROR(batch.Run());  // kAlreadyExists: recorded before
    if (sightings.empty()) return tx.Commit();
    IOCGRID_ASSIGN_OR_RETURN(
        Statement staged,
        db_->Prepare("SELECT count(*), coalesce(sum(sightings), 0) FROM alliance_pending"));
    IOCGRID_ASSIGN_OR_RETURN(bool row, staged.Step());
    const uint64_t batches = row ? static_cast<uint64_t>(staged.Int(0)) : 0;
    const uint64_t total = row ? static_cast<uint64_t>(staged.Int(1)) : 0;
    IOCGRID_RETURN_IF_ERROR(staged.Run());  // finishes the statement
    if (batches == 0 && sightings.size() >= kFoldSightings) {
      IOCGRID_RETURN_IF_ERROR(FoldReport(*db_, org, sector, sightings));
      return tx.Commit();
    }
    const std::string body = internal::EncodeStagedSightings(sightings);
    IOCGRID_ASSIGN_OR_RETURN(Statement stage,
                             db_->Prepare("INSERT INTO alliance_pending(batch_id, org, sector, "
                                          "sightings, body) VALUES(?, ?, ?, ?, ?)"));
    stage.BindText(1, batch_id).BindText(2, org).BindText(3, sector);
    stage.Bind(4, static_cast<int64_t>(sightings.size()));
    stage.BindBlob(5, {reinterpret_cast<const unsigned char*>(body.data()), body.size()});
    IOCGRID_RETURN_IF_ERROR(stage.Run());
    IOCGRID_RETURN_IF_ERROR(tx.Commit());
    fold = batches + 1 >= kFoldBatches || total + sightings.size() >= kFoldSightings;
  }
  if (!fold) return Status::Ok();
  // The report is recorded: a fold that fails leaves every staged report as it was, to be
  // folded by the next report or read (which then answers the error).
  if (Status st = FoldStagedLocked(); !st.ok()) {
    std::fprintf(stderr,
                 "iocgrid portal: folding the staged alliance sightings failed (they stay staged "
                 "and are folded again at the next report or trends question): %s\n",
                 st.ToString().c_str());
  }
  return Status::Ok();
}

Status PortalStore::FoldAllianceSightings() {
  std::lock_guard<std::mutex> lock(mu_);
  return FoldStagedLocked();
}

Status PortalStore::FoldStagedLocked() {
  IOCGRID_ASSIGN_OR_RETURN(int64_t any,
                           db_->QueryInt("SELECT count(*) FROM (SELECT 1 FROM alliance_pending "
                                         "LIMIT 1) AS staged"));
  if (any == 0) return Status::Ok();
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  // Read in full first (another instance may have folded them since the question above: the
  // transaction's lock orders the two, and this one then finds none).
  struct Staged {
    int64_t seq = 0;
    std::string batch_id, org, sector, body;
  };
  std::vector<Staged> staged;
  IOCGRID_ASSIGN_OR_RETURN(
      Statement read,
      db_->Prepare("SELECT seq, batch_id, org, sector, body FROM alliance_pending ORDER BY seq"));
  IOCGRID_RETURN_IF_ERROR(read.ForEachRow([&](const Statement& r) {
    auto blob = r.Blob(4);
    staged.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)),
                      std::string(r.Text(3)),
                      std::string(reinterpret_cast<const char*>(blob.data()), blob.size())});
  }));
  if (staged.empty()) return Status::Ok();
  for (const Staged& s : staged) {
    auto sightings = internal::DecodeStagedSightings(s.body);
    if (!sightings.ok()) {
      return Status(sightings.status().code(),
                    std::string(sightings.status().message()) + " (batch " + s.batch_id + ")");
    }
    IOCGRID_RETURN_IF_ERROR(FoldReport(*db_, s.org, s.sector, *sightings));
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement done,
                           db_->Prepare("DELETE FROM alliance_pending WHERE seq <= ?"));
  done.Bind(1, staged.back().seq);
  IOCGRID_RETURN_IF_ERROR(done.Run());
  return tx.Commit();
}

Status PortalStore::BuildSketchesIfMissing() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(
      int64_t missing,
      db_->QueryInt("SELECT CASE WHEN EXISTS (SELECT 1 FROM alliance_sightings) AND NOT EXISTS "
                    "(SELECT 1 FROM sector_sketches) THEN 1 ELSE 0 END"));
  if (missing == 0) return Status::Ok();
  // Each row is in the cell it was counted in (its own sector, type and class).
  IOCGRID_ASSIGN_OR_RETURN(
      Statement rows, db_->Prepare("SELECT a.day, a.sector, a.type, a.class, v.type, v.value FROM "
                                   "alliance_sightings a JOIN alliance_values v ON v.id = "
                                   "a.value_id"));
  std::map<SketchKey, DistinctSketch> cells;
  IOCGRID_RETURN_IF_ERROR(rows.ForEachRow([&](const Statement& r) {
    cells[{r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3))}].Add(
        DistinctSketch::Hash(r.Text(4), r.Text(5)));
  }));
  IOCGRID_RETURN_IF_ERROR(AddToSketches(*db_, cells));
  return tx.Commit();
}

Result<uint64_t> PortalStore::PurgeAllianceSightings(int64_t first_kept_day) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_RETURN_IF_ERROR(FoldStagedLocked());
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  uint64_t deleted = 0;
  for (std::string_view table :
       {"alliance_sightings", "sector_daily", "sector_orgs", "sector_sketches", "actor_daily"}) {
    IOCGRID_ASSIGN_OR_RETURN(Statement del,
                             db_->Prepare("DELETE FROM " + std::string(table) + " WHERE day < ?"));
    del.Bind(1, first_kept_day);
    IOCGRID_RETURN_IF_ERROR(del.Run());
    if (table == "alliance_sightings") deleted = static_cast<uint64_t>(db_->Changes());
  }
  // What each organisation saw of each value, and how many saw it, from the rows kept.
  IOCGRID_ASSIGN_OR_RETURN(Statement bounds, db_->Prepare("DELETE FROM value_orgs WHERE true"));
  IOCGRID_RETURN_IF_ERROR(bounds.Run());
  IOCGRID_RETURN_IF_ERROR(
      db_->Exec("INSERT INTO value_orgs(value_id, org, first_day, last_day) SELECT value_id, org, "
                "min(day), max(day) FROM alliance_sightings GROUP BY value_id, org;"
                "UPDATE alliance_values SET orgs = (SELECT COUNT(*) FROM value_orgs WHERE "
                "value_id = alliance_values.id);"
                "DELETE FROM alliance_values WHERE orgs = 0;"
                "UPDATE value_orgs SET shared = 1 WHERE value_id IN (SELECT id FROM "
                "alliance_values WHERE orgs >= 2);"
                "UPDATE alliance_sightings SET shared = 1 WHERE shared = 0 AND value_id IN "
                "(SELECT id FROM alliance_values WHERE orgs >= 2);"));
  IOCGRID_ASSIGN_OR_RETURN(Statement batches,
                           db_->Prepare("DELETE FROM alliance_batches WHERE created < ?"));
  batches.Bind(1, first_kept_day * 86400);
  IOCGRID_RETURN_IF_ERROR(batches.Run());
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return deleted;
}

}  // namespace iocgrid::portal
