// PortalStore's alliance sightings (issue 12; docs/trends.md): the rows organisations reported
// and the per-day aggregates the trends endpoints read, kept in step in one transaction per
// batch. The schema is migration 7 in portal_store.cc.
//
// Why aggregates: a trends answer must not scan every sighting of the window. sector_daily
// holds, per day, sector, type and class, the distinct observables and the sighting counts;
// sector_orgs which organisations contributed to each of those cells (for k-anonymity);
// value_orgs the first and last day each organisation saw each observable (for scanners);
// alliance_values.orgs how many organisations ever saw it, so that scanners start from the
// observables most organisations reported; and sector_sketches the distinct observables of each
// sector_daily cell as a mergeable sketch, for buckets of several days.
#include <algorithm>
#include <chrono>
#include <cstdint>
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
#include <vector>

#include "portal/internal/distinct_sketch.h"
#include "portal/portal_store.h"
#include "sql/database.h"

namespace iocgrid::portal {

using sql::Database;
using sql::Statement;

namespace {

// How long a trends question that reads the rows themselves (not the per-day totals) may hold
// the store: an analyst's multi-day buckets over a large alliance must not stall every search.
constexpr std::chrono::milliseconds kRowQueryBudget{2000};

// A row-reading question that ran out of kRowQueryBudget: what to ask instead (`instead`).
Status TooLarge(const Status& s, std::string_view what, std::string_view instead) {
  if (s.code() != StatusCode::kDeadlineExceeded) return s;
  return DeadlineExceededError(std::string(what) +
                               " reads more sightings than the portal answers within 2 s; ask "
                               "for a shorter window, or " +
                               std::string(instead) + ".");
}

int64_t Signed(uint64_t n) {
  return static_cast<int64_t>(std::min<uint64_t>(n, uint64_t{1} << 62));
}

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

// `n` groups of `width` numbered placeholders from ?first on: "?3, ?4" (width 1), or
// "(?3, ?4), (?5, ?6)" (width 2, each in parentheses when `rows`).
std::string Params(int first, size_t n, int width, bool rows) {
  std::string out;
  int at = first;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    if (rows) out += '(';
    for (int c = 0; c < width; ++c) {
      if (c > 0) out += ", ";
      out += '?' + std::to_string(at++);
    }
    if (rows) out += ')';
  }
  return out;
}

constexpr uint64_t kCap = uint64_t{1} << 62;

uint64_t CappedAdd(uint64_t a, uint64_t b) { return std::min(kCap, a + std::min(kCap, b)); }

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

Batch Collect(const std::vector<AllianceSighting>& sightings) {
  Batch b;
  // The sightings in (type, value, day) order, equal ones in batch order: a value's members
  // are those of its last seen sighting, the later in the batch on a tie.
  std::vector<uint32_t> order(sightings.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const AllianceSighting& a = sightings[x];
    const AllianceSighting& c = sightings[y];
    if (int t = a.type.compare(c.type); t != 0) return t < 0;
    if (int v = a.value.compare(c.value); v != 0) return v < 0;
    return std::tie(a.day, x) < std::tie(c.day, y);
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
  for (uint32_t at : order) {
    const AllianceSighting& s = sightings[at];
    if (b.values.empty() || b.values.back().first->type != s.type ||
        b.values.back().first->value != s.value) {
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
           Params(2, n, 1, false) + ")";
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
    return "INSERT INTO alliance_values(id, type, value, members, orgs) VALUES" +
           Params(1, n, 5, true);
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

// This organisation's span of each known value, its rows of the batch's days where a span
// covers the day, and for the other rows whether the sector counts the value in its class that
// day already (only for values another organisation saw).
Status ReadWhereCounted(Database& db, Batch& b, const std::string& org, const std::string& sector) {
  std::vector<size_t> known;
  for (size_t i : b.id_order) {
    if (b.values[i].known) known.push_back(i);
  }
  Chunked spans(db, [](size_t n) {
    return "SELECT value_id, first_day, last_day FROM value_orgs WHERE org = ?1 AND value_id IN (" +
           Params(2, n, 1, false) + ")";
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
  // One day at a time (rows are in day order): the rows this organisation has already, then
  // per class whether the sector counts the value.
  std::vector<size_t> ask;
  std::unordered_map<int64_t, size_t> row_of;  // value id -> row, within one day
  std::map<std::string_view, std::vector<size_t>> by_class;
  Chunked old_rows(db, [](size_t n) {
    return "SELECT value_id, sector, type, class FROM alliance_sightings WHERE day = ?1 AND org = "
           "?2 AND value_id IN (" +
           Params(3, n, 1, false) + ")";
  });
  // INDEXED BY: without statistics the planner takes the primary key's day prefix and reads the
  // whole day.
  Chunked counted(db, [sqlite = db.dialect() == sql::Dialect::kSqlite](size_t n) {
    return std::string("SELECT value_id FROM alliance_sightings ") +
           (sqlite ? "INDEXED BY alliance_sightings_cell " : "") +
           "WHERE day = ?1 AND sector = ?2 AND value_id IN (" + Params(4, n, 1, false) +
           ") AND class = ?3";
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

// Runs `sql` + "?1, ...)" for `ids`.
Status ForIds(Database& db, std::string_view sql, const std::vector<int64_t>& ids) {
  Chunked update(db, [sql](size_t n) { return std::string(sql) + Params(1, n, 1, false) + ")"; });
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
           Params(2, n, 1, false) + ") AND org <> ?1";
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

// The rows into alliance_sightings (added to the organisation's row of the day when there is
// one), the organisations per value (one more for a value new to the organisation) and their
// spans.
Status FoldBatch(Database& db, const Batch& b, const std::string& org, const std::string& sector) {
  Chunked rows(db, [](size_t n) {
    return "INSERT INTO alliance_sightings(day, org, value_id, sector, type, class, count, "
           "alerted, first_seen, last_seen, shared) VALUES" +
           Params(1, n, 11, true) +
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
  // Known values new to this organisation count one more (new values were added with 1); a
  // value this organisation is the second to see: the first one's span and rows become shared.
  std::vector<int64_t> newly, second;
  for (size_t i : b.id_order) {
    const BatchValue& v = b.values[i];
    if (!v.known || v.span) continue;
    newly.push_back(v.id);
    if (v.orgs == 1) second.push_back(v.id);
  }
  IOCGRID_RETURN_IF_ERROR(
      ForIds(db, "UPDATE alliance_values SET orgs = orgs + 1 WHERE id IN (", newly));
  IOCGRID_RETURN_IF_ERROR(ShareFirstRows(db, second, org));
  IOCGRID_RETURN_IF_ERROR(
      ForIds(db, "UPDATE value_orgs SET shared = 1 WHERE shared = 0 AND value_id IN (", second));
  // The spans: a new one is shared when its value has two organisations now.
  Chunked spans(db, [](size_t n) {
    return "INSERT INTO value_orgs(value_id, org, first_day, last_day, shared) VALUES" +
           Params(1, n, 5, true) +
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

Result<std::vector<SectorDayRow>> SectorDaysRows(Database& db, int64_t from, int64_t to) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT day, sector, type, class, observables, sightings, alerted "
                              "FROM sector_daily WHERE day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  std::vector<SectorDayRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   static_cast<uint64_t>(r.Int(4)), static_cast<uint64_t>(r.Int(5)),
                   static_cast<uint64_t>(r.Int(6))});
  }));
  return out;
}

Result<std::vector<SectorOrgRow>> SectorOrgsRows(Database& db, int64_t from, int64_t to) {
  IOCGRID_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT day, sector, type, class, org FROM sector_orgs "
                                      "WHERE day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  std::vector<SectorOrgRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), std::string(r.Text(3)),
                   std::string(r.Text(4))});
  }));
  return out;
}

// Distinct observables per bucket: the union of the bucket's day sketches per cell.
Result<std::vector<SectorDistinctRow>> SectorDistinctRows(Database& db, int64_t from, int64_t to,
                                                          int64_t bucket_days) {
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT day, sector, type, class, sketch FROM sector_sketches WHERE "
                              "day BETWEEN ? AND ?"));
  s.Bind(1, from).Bind(2, to);
  const int64_t bucket = std::max<int64_t>(bucket_days, 1);
  std::map<SketchKey, DistinctSketch> merged;  // (bucket, sector, type, class)
  sql::QueryBudget budget(db, kRowQueryBudget);
  Status st = s.ForEachRow([&](const Statement& r) -> Status {
    auto blob = r.Blob(4);
    IOCGRID_ASSIGN_OR_RETURN(
        DistinctSketch day,
        DistinctSketch::Decode({reinterpret_cast<const char*>(blob.data()), blob.size()}));
    merged[{(r.Int(0) - from) / bucket, std::string(r.Text(1)), std::string(r.Text(2)),
            std::string(r.Text(3))}]
        .Merge(day);
    return Status::Ok();
  });
  if (!st.ok())
    return TooLarge(st, "Buckets of several days", "bucket=1d (answered from the per-day totals)");
  std::vector<SectorDistinctRow> out;
  out.reserve(merged.size());
  for (const auto& [key, sketch] : merged) {
    const auto& [index, sector, type, cls] = key;
    out.push_back({index, sector, type, cls, sketch.Count()});
  }
  return out;
}

}  // namespace

Status PortalStore::RecordAllianceSightings(const std::string& batch_id, const std::string& org,
                                            const std::string& sector,
                                            const std::vector<AllianceSighting>& sightings) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());
  IOCGRID_ASSIGN_OR_RETURN(Statement batch,
                           db_->Prepare("INSERT INTO alliance_batches(id, org, created, sightings) "
                                        "VALUES(?, ?, ?, ?)"));
  batch.BindText(1, batch_id).BindText(2, org).Bind(3, clock_.Now());
  batch.Bind(4, static_cast<int64_t>(sightings.size()));
  IOCGRID_RETURN_IF_ERROR(batch.Run());  // kAlreadyExists: recorded before
  Batch b = Collect(sightings);
  IOCGRID_RETURN_IF_ERROR(ResolveValues(*db_, b));
  IOCGRID_RETURN_IF_ERROR(ReadWhereCounted(*db_, b, org, sector));
  IOCGRID_RETURN_IF_ERROR(CountCells(*db_, b, org, sector));
  IOCGRID_RETURN_IF_ERROR(FoldBatch(*db_, b, org, sector));
  IOCGRID_RETURN_IF_ERROR(FoldActors(*db_, b, sightings, org));
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

Result<std::vector<SectorDayRow>> PortalStore::SectorDays(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  return SectorDaysRows(*db_, from, to);
}

Result<std::vector<SectorOrgRow>> PortalStore::SectorOrgs(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  return SectorOrgsRows(*db_, from, to);
}

Result<std::vector<SectorDistinctRow>> PortalStore::SectorDistinct(int64_t from, int64_t to,
                                                                   int64_t bucket_days) {
  std::lock_guard<std::mutex> lock(mu_);
  return SectorDistinctRows(*db_, from, to, bucket_days);
}

Result<SectorTrendData> PortalStore::SectorTrendRows(int64_t days_from, int64_t from, int64_t to,
                                                     int64_t bucket_days) {
  // One snapshot, so that numbers and contributors agree: the mutex keeps this instance's
  // writers out, the transaction another instance's (on PostgreSQL).
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(*db_);
  IOCGRID_RETURN_IF_ERROR(tx.Begin(Database::TransactionKind::kSnapshot));
  SectorTrendData d;
  IOCGRID_ASSIGN_OR_RETURN(d.days, SectorDaysRows(*db_, days_from, to));
  IOCGRID_ASSIGN_OR_RETURN(d.orgs, SectorOrgsRows(*db_, from, to));
  if (bucket_days > 1) {
    IOCGRID_ASSIGN_OR_RETURN(d.distinct, SectorDistinctRows(*db_, from, to, bucket_days));
  }
  IOCGRID_RETURN_IF_ERROR(tx.Commit());
  return d;
}

namespace {

// A scanner candidate: `n` organisations saw it within the window (their first-to-last day
// spans meet it), `orgs` within the retention.
struct Ranked {
  int64_t id = 0, orgs = 0, n = 0;
};

// Answer order: most organisations in the window, then overall, then the oldest value.
bool RanksBefore(const Ranked& a, const Ranked& b) {
  return std::tie(b.n, b.orgs, a.id) < std::tie(a.n, a.orgs, b.id);
}

// The `limit` values most organisations saw within [from, to], best first. Values come in
// order of alliance_values.orgs (alliance_values_rank), which bounds their count in any window
// from above; a page at a time, each with its window count from value_orgs, until no value
// left can rank above the last one kept (threshold algorithm): a question about the head of the
// alliance reads a few pages, not every value more than one organisation saw.
Result<std::vector<Ranked>> RankScanners(Database& db, int64_t from, int64_t to, int64_t min_orgs,
                                         size_t limit) {
  constexpr int64_t kPage = 256;
  // The window count reads value_orgs_recent from the window's first day on (INDEXED BY: the
  // planner without statistics takes the primary key and reads every organisation's span). A
  // value with orgs >= 2 has every span shared.
  const std::string page_sql =
      std::string("SELECT c.id, c.orgs, (SELECT COUNT(*) FROM value_orgs o ") +
      (db.dialect() == sql::Dialect::kSqlite ? "INDEXED BY value_orgs_recent " : "") +
      "WHERE o.value_id = c.id AND o.shared = 1 AND o.last_day >= ?1 AND o.first_day <= ?2) "
      "FROM (SELECT id, orgs "
      "FROM alliance_values WHERE orgs >= 2 AND orgs >= ?3 AND (orgs < ?4 OR (orgs = ?4 AND id > "
      "?5)) ORDER BY orgs DESC, id LIMIT ?6) c ORDER BY c.orgs DESC, c.id";
  std::vector<Ranked> best;  // sorted by RanksBefore, at most `limit`
  Ranked last{-1, std::numeric_limits<int64_t>::max(), 0};
  for (bool more = true; more;) {
    IOCGRID_ASSIGN_OR_RETURN(Statement page, db.Prepare(page_sql));
    page.Bind(1, from).Bind(2, to).Bind(3, min_orgs).Bind(4, last.orgs).Bind(5, last.id);
    page.Bind(6, kPage);
    int64_t rows = 0;
    IOCGRID_RETURN_IF_ERROR(page.ForEachRow([&](const Statement& r) {
      ++rows;
      last = {r.Int(0), r.Int(1), r.Int(2)};
      // Every value from here on has orgs <= last.orgs, so at best n = orgs = last.orgs, which
      // ranks after a kept value of that n (more or as many organisations overall, smaller id).
      if (best.size() == limit && last.orgs <= best.back().n) more = false;
      if (!more || last.n < min_orgs) return;
      best.insert(std::upper_bound(best.begin(), best.end(), last, RanksBefore), last);
      if (best.size() > limit) best.pop_back();
    }));
    if (rows < kPage) more = false;
  }
  return best;
}

}  // namespace

Result<std::vector<ScannerRow>> PortalStore::Scanners(int64_t from, int64_t to, uint64_t min_orgs,
                                                      size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::QueryBudget budget(*db_, kRowQueryBudget);
  auto ranked = RankScanners(*db_, from, to, Signed(min_orgs), limit);
  if (!ranked.ok()) return TooLarge(ranked.status(), "This scanners question", "a higher min_orgs");
  // The chosen values' rows of the window (alliance_sightings_shared: every row of a value two
  // organisations saw is shared), kParts ids a statement.
  constexpr size_t kParts = 32;
  const bool sqlite = db_->dialect() == sql::Dialect::kSqlite;
  std::string sql =
      "SELECT v.id, v.value, v.type, v.members, a.org, a.sector, a.class, a.first_seen, "
      "a.last_seen, a.count, a.alerted FROM alliance_values v JOIN alliance_sightings a " +
      std::string(sqlite ? "INDEXED BY alliance_sightings_shared " : "") +
      "ON a.value_id = v.id AND a.shared = 1 AND a.day BETWEEN ?1 AND ?2 WHERE v.id IN (?3";
  for (size_t i = 1; i < kParts; ++i) sql += ", ?" + std::to_string(i + 3);
  sql += ")";
  std::vector<ScannerRow> out(ranked->size());
  std::unordered_map<int64_t, size_t> slot;  // value id -> index in out
  for (size_t i = 0; i < ranked->size(); ++i) slot[(*ranked)[i].id] = i;
  auto add = [](std::vector<std::string>* set, std::string_view v) {
    if (std::find(set->begin(), set->end(), v) == set->end()) set->emplace_back(v);
  };
  for (size_t start = 0; start < ranked->size(); start += kParts) {
    IOCGRID_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    s.Bind(1, from).Bind(2, to);
    for (size_t i = 0; i < kParts; ++i) {
      const size_t at = start + i;
      s.Bind(static_cast<int>(i + 3), at < ranked->size() ? (*ranked)[at].id : -1);
    }
    Status st = s.ForEachRow([&](const Statement& r) {
      ScannerRow& row = out[slot.at(r.Int(0))];
      if (row.value.empty()) {
        row.value = std::string(r.Text(1));
        row.type = std::string(r.Text(2));
        row.members = std::string(r.Text(3));
        row.first_seen = r.Int(7);
      }
      add(&row.orgs, r.Text(4));
      add(&row.sectors, r.Text(5));
      add(&row.classes, r.Text(6));
      row.first_seen = std::min(row.first_seen, r.Int(7));
      row.last_seen = std::max(row.last_seen, r.Int(8));
      row.sightings += static_cast<uint64_t>(r.Int(9));
      row.alerted += static_cast<uint64_t>(r.Int(10));
    });
    if (!st.ok()) return TooLarge(st, "This scanners question", "a higher min_orgs");
  }
  // value_orgs counts spans of days: the window's rows may hold fewer organisations at its
  // edges.
  std::erase_if(out, [&](const ScannerRow& r) { return r.orgs.size() < min_orgs; });
  return out;
}

Result<std::vector<ActorRow>> PortalStore::Actors(int64_t from, int64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("SELECT a.actor, a.day, v.value, v.type, a.org, a.sightings FROM "
                                "actor_daily a JOIN alliance_values v ON v.id = a.value_id "
                                "WHERE a.day BETWEEN ? AND ? ORDER BY a.actor, a.day"));
  s.Bind(1, from).Bind(2, to);
  std::vector<ActorRow> out;
  IOCGRID_RETURN_IF_ERROR(s.ForEachRow([&](const Statement& r) {
    out.push_back({std::string(r.Text(0)), r.Int(1), std::string(r.Text(2)), std::string(r.Text(3)),
                   std::string(r.Text(4)), static_cast<uint64_t>(r.Int(5))});
  }));
  return out;
}

}  // namespace iocgrid::portal
