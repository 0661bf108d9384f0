// MirrorSweep (node/mirror.h; docs/mirror.md): the MISP's event index, page by page, then each
// new or changed event fetched, filtered by distribution and written to the store.
#include "node/mirror.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/json_depth.h"
#include "common/time.h"
#include "ingest/loader.h"
#include "net/http_client.h"
#include "store/number.h"

namespace iocgrid::node {

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxPages = 10'000'000;
constexpr size_t kMaxIndexPageBytes = size_t{64} << 20;

std::string BaseUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

net::ClientRequest Request(const MirrorOptions& o, std::string method, const std::string& path) {
  net::ClientRequest r;
  r.method = std::move(method);
  r.url = BaseUrl(o.url) + path;
  r.headers = {{"Authorization", o.key},
               {"Accept", "application/json"},
               {"Content-Type", "application/json"},
               {"User-Agent", "iocgrid-mirror"}};
  r.timeout = o.timeout;
  r.verify_tls = o.verify_tls;
  r.ca_file = o.ca_file;
  r.client_cert_file = o.client_cert_file;
  r.client_key_file = o.client_key_file;
  r.proxy = o.proxy;
  return r;
}

// The MISP's error for a non-200 answer: its "message" when the body is MISP's error shape.
Status HttpError(const net::ClientResponse& r, const std::string& what) {
  std::string message;
  if (CheckJsonDepth(r.body).ok()) {
    json body = json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
      message = body["message"].get<std::string>();
    }
  }
  if (message.empty()) message = r.body.substr(0, 200);
  const std::string text =
      what + ": HTTP " + std::to_string(r.status) + (message.empty() ? "" : " (" + message + ")");
  if (r.status == 401 || r.status == 403) {
    return PermissionDeniedError(text + "; check the key and that its user may read the events");
  }
  return UnavailableError(text);
}

// A MISP timestamp: unix seconds as a JSON number or a digit string, at most 18 digits.
Result<int64_t> Timestamp(const json& v) {
  std::optional<uint64_t> n;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_string()) {
    n = store::ParseDecimal<uint64_t>(v.get<std::string>());
  }
  if (!n || *n > 999'999'999'999'999'999) return InvalidArgumentError("bad timestamp");
  return static_cast<int64_t>(*n);
}

// Whether an event may leave the MISP for the alliance: a community level at or above the
// minimum, or a sharing group listed.
bool EventAllowed(const core::Event& e, const MirrorOptions& o) {
  if (e.distribution == 4) {
    return std::any_of(o.sharing_groups.begin(), o.sharing_groups.end(), [&](const std::string& g) {
      return EqualsIgnoreAsciiCase(g, e.sharing_group_uuid);
    });
  }
  return e.distribution >= o.min_distribution && e.distribution <= 3;
}

// The same for one attribute of an allowed event: inheriting (5) follows the event; a sharing
// group only when it is the event's own (MISP names an attribute's group by a local id, which
// can be checked against the event's alone); a level at or above the minimum.
bool AttributeAllowed(const core::Attribute& a, const core::Event& e, const MirrorOptions& o) {
  if (a.distribution == 5) return true;
  if (a.distribution == 4) return e.distribution == 4 && a.sharing_group_id == e.sharing_group_id;
  return a.distribution >= o.min_distribution && a.distribution <= 3;
}

class Sweep {
 public:
  Sweep(store::Store& store, const MirrorOptions& o,
        const std::function<void(const MirrorProgress&)>& progress, const std::atomic<bool>* stop)
      : store_(store), o_(o), progress_(progress), stop_(stop) {}

  Status Run(bool full, int64_t since) {
    std::string previous_first;
    for (uint64_t page = 1; page <= kMaxPages; ++page) {
      IOCGRID_ASSIGN_OR_RETURN(std::vector<MirrorIndexRow> rows, IndexPage(full, since, page));
      if (rows.empty()) return Status();
      // A MISP that ignores `page` would answer the first page forever.
      if (page > 1 && rows.front().uuid == previous_first) {
        return DataLossError(
            "events/index answered the same page twice: the MISP ignores "
            "paging");
      }
      previous_first = rows.front().uuid;
      IOCGRID_RETURN_IF_ERROR(Apply(rows, full));
      if (rows.size() < o_.page_size) return Status();
    }
    return ResourceExhaustedError("events/index has more than " + std::to_string(kMaxPages) +
                                  " pages");
  }

  // Removes what a full listing did not name.
  Status RemoveUnlisted() {
    IOCGRID_ASSIGN_OR_RETURN(std::vector<std::string> held, store_.MirroredEventUuids());
    for (const std::string& uuid : held) {
      if (listed_.count(uuid)) continue;
      IOCGRID_RETURN_IF_ERROR(Remove(uuid));
      IOCGRID_RETURN_IF_ERROR(store_.ForgetMirroredEvent(uuid));
    }
    return Status();
  }

  MirrorSweepStats& stats() { return stats_; }
  int64_t newest() const { return newest_; }

 private:
  Status Stopped() const {
    return stop_ != nullptr && stop_->load() ? UnavailableError("stopped") : Status();
  }

  Result<std::vector<MirrorIndexRow>> IndexPage(bool full, int64_t since, uint64_t page) {
    IOCGRID_RETURN_IF_ERROR(Stopped());
    json filter = {{"minimal", 1},
                   {"limit", o_.page_size},
                   {"page", page},
                   {"sort", "timestamp"},
                   {"direction", "asc"}};
    if (!full && since > 0) filter["timestamp"] = since;
    net::ClientRequest req = Request(o_, "POST", "/events/index");
    req.body = filter.dump();
    req.max_response_bytes = kMaxIndexPageBytes;
    Result<net::ClientResponse> fetched = net::Fetch(req);
    if (!fetched.ok()) {
      return fetched.status().WithContext("events/index page " + std::to_string(page));
    }
    const net::ClientResponse& r = *fetched;
    if (r.status != 200) return HttpError(r, "events/index page " + std::to_string(page));
    return ParseMirrorIndex(r.body);
  }

  Status Apply(const std::vector<MirrorIndexRow>& rows, bool full) {
    std::vector<std::string> uuids;
    uuids.reserve(rows.size());
    for (const MirrorIndexRow& row : rows) uuids.push_back(row.uuid);
    IOCGRID_ASSIGN_OR_RETURN(std::vector<store::MirroredVersion> held,
                             store_.MirroredEventVersions(uuids));
    std::vector<const MirrorIndexRow*> todo;
    for (size_t i = 0; i < rows.size(); ++i) {
      ++stats_.listed;
      if (full) listed_.insert(rows[i].uuid);
      newest_ = std::max(newest_, rows[i].timestamp);
      // Unchanged, and no sighting since the copy (new sightings leave the timestamp alone).
      if (held[i].timestamp == rows[i].timestamp &&
          rows[i].sighting_timestamp <= held[i].sighting_timestamp) {
        continue;
      }
      todo.push_back(&rows[i]);
    }
    // `concurrency` downloads at a time (MISP answers one event view at a time per request);
    // written in listing order, one transaction each.
    for (size_t start = 0; start < todo.size(); start += o_.concurrency) {
      IOCGRID_RETURN_IF_ERROR(Stopped());
      const size_t end = std::min(todo.size(), start + o_.concurrency);
      std::vector<std::future<Result<Fetched>>> downloads;
      for (size_t k = start; k < end; ++k) {
        downloads.push_back(
            std::async(std::launch::async, [this, row = todo[k]] { return Download(*row); }));
      }
      std::vector<Result<Fetched>> got;
      got.reserve(downloads.size());
      for (auto& d : downloads) got.push_back(d.get());
      IOCGRID_RETURN_IF_ERROR(LandWindow(std::span(todo).subspan(start, end - start), got));
      if (progress_) progress_(MirrorProgress{stats_.listed, stats_.fetched});
    }
    if (progress_) progress_(MirrorProgress{stats_.listed, stats_.fetched});
    return Status();
  }

  // One event view, read (any thread: it touches neither the store nor the counters).
  struct Fetched {
    bool gone = false;  // 404: deleted between the listing and now
    core::Event event;
  };
  Result<Fetched> Download(const MirrorIndexRow& row) const {
    net::ClientRequest req = Request(o_, "GET", "/events/view/" + row.uuid);
    req.max_response_bytes = o_.max_event_bytes;
    Result<net::ClientResponse> fetched = net::Fetch(req);
    if (!fetched.ok()) return fetched.status().WithContext("events/view/" + row.uuid);
    const net::ClientResponse& r = *fetched;
    if (r.status == 404) return Fetched{true, {}};
    if (r.status != 200) return HttpError(r, "events/view/" + row.uuid);
    std::vector<core::Event> events;
    ingest::LoadOptions load;
    load.format = ingest::InputFormat::kMispEvent;
    Result<ingest::LoadStats> loaded = ingest::LoadContent(
        "events/view/" + row.uuid, r.body, load,
        [&](core::Event&& e) { events.push_back(std::move(e)); }, [](const ingest::LoadIssue&) {});
    if (!loaded.ok()) return DataLossError(std::string(loaded.status().message()));
    if (events.size() != 1 || AsciiLower(events[0].uuid) != row.uuid) {
      return DataLossError("events/view/" + row.uuid + " did not answer that event");
    }
    return Fetched{false, std::move(events[0])};
  }

  // A window of downloads written in listing order: the events kept in one ImportEvents (one
  // transaction), then their versions in one more; an error stops before anything of the
  // window is recorded, so the next sweep fetches it again.
  Status LandWindow(std::span<const MirrorIndexRow* const> rows,
                    std::vector<Result<Fetched>>& got) {
    std::vector<core::Event> keep;
    std::vector<store::MirroredEventRecord> records;
    for (size_t k = 0; k < rows.size(); ++k) {
      ++stats_.fetched;
      if (!got[k].ok()) return got[k].status();
      const MirrorIndexRow& row = *rows[k];
      if (got[k]->gone) {
        IOCGRID_RETURN_IF_ERROR(Remove(row.uuid));
        IOCGRID_RETURN_IF_ERROR(store_.ForgetMirroredEvent(row.uuid));
        continue;
      }
      core::Event event = std::move(got[k]->event);
      const bool allowed = FilterForAlliance(&event, o_);
      records.push_back({row.uuid, {row.timestamp, row.sighting_timestamp}, allowed});
      if (allowed) {
        keep.push_back(std::move(event));
      } else {
        ++stats_.filtered;
        IOCGRID_RETURN_IF_ERROR(Remove(row.uuid));
      }
    }
    if (!keep.empty()) {
      store::ImportOptions import;
      import.delete_missing = true;  // the store holds what the MISP holds now
      IOCGRID_ASSIGN_OR_RETURN(store::ImportStats written, store_.ImportEvents(keep, import));
      stats_.kept += keep.size();
      stats_.attributes += written.attributes_added + written.attributes_updated;
    }
    return records.empty() ? Status() : store_.RecordMirroredEvents(records);
  }

  Status Remove(const std::string& uuid) {
    Status st = store_.DeleteEvent(uuid, /*hard=*/true);
    if (st.ok()) {
      ++stats_.removed;
      return st;
    }
    return st.code() == StatusCode::kNotFound ? Status() : st;
  }

  store::Store& store_;
  const MirrorOptions& o_;
  const std::function<void(const MirrorProgress&)>& progress_;
  const std::atomic<bool>* stop_;
  std::set<std::string> listed_;
  MirrorSweepStats stats_;
  int64_t newest_ = 0;
};

}  // namespace

Result<std::vector<MirrorIndexRow>> ParseMirrorIndex(std::string_view body) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(body).WithContext("events/index"));
  json page = json::parse(body, nullptr, false);
  if (!page.is_array()) {
    return DataLossError("events/index did not answer a JSON list of events");
  }
  std::vector<MirrorIndexRow> rows;
  rows.reserve(page.size());
  for (size_t i = 0; i < page.size(); ++i) {
    const json& row = page[i];
    // MISP's rows are flat; some versions wrap each in {"Event": {...}}.
    const json& e = row.is_object() && row.contains("Event") ? row["Event"] : row;
    if (!e.is_object() || !e.contains("uuid") || !e["uuid"].is_string() ||
        !LooksLikeUuid(e["uuid"].get<std::string>()) || !e.contains("timestamp")) {
      return DataLossError("events/index row " + std::to_string(i) +
                           " has no event uuid and timestamp");
    }
    Result<int64_t> ts = Timestamp(e["timestamp"]);
    Result<int64_t> sighting_ts = int64_t{0};
    if (e.contains("sighting_timestamp") && !e["sighting_timestamp"].is_null()) {
      sighting_ts = Timestamp(e["sighting_timestamp"]);
    }
    if (!ts.ok() || !sighting_ts.ok()) {
      return DataLossError("events/index row " + std::to_string(i) + ": unusable timestamp");
    }
    rows.push_back({AsciiLower(e["uuid"].get<std::string>()), *ts, *sighting_ts});
  }
  return rows;
}

bool FilterForAlliance(core::Event* event, const MirrorOptions& options) {
  if (!EventAllowed(*event, options)) return false;
  std::erase_if(event->attributes,
                [&](const core::Attribute& a) { return !AttributeAllowed(a, *event, options); });
  return true;
}

Status ValidateMirrorOptions(const MirrorOptions& o) {
  const std::string url = AsciiLower(o.url);
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return InvalidArgumentError("the MISP URL must start with https:// (or http://), got '" +
                                o.url + "'");
  }
  if (o.key.empty()) return InvalidArgumentError("the MISP API key is empty");
  for (char c : o.key) {
    if (c <= ' ' || c == 0x7f) {
      return InvalidArgumentError(
          "the MISP API key holds a space, a control or a non-ASCII character");
    }
  }
  if (o.min_distribution < 1 || o.min_distribution > 3) {
    return InvalidArgumentError(
        "the minimum distribution must be 1 (this community), 2 (connected communities) or 3 "
        "(all communities): organisation-only events never leave the MISP");
  }
  for (const std::string& g : o.sharing_groups) {
    if (!LooksLikeUuid(g)) {
      return InvalidArgumentError("sharing group '" + g + "' is not a uuid");
    }
  }
  if (o.page_size < 1 || o.page_size > 10000) {
    return InvalidArgumentError("the page size must be 1 to 10000 events");
  }
  if (o.concurrency < 1 || o.concurrency > 16) {
    return InvalidArgumentError("the download concurrency must be 1 to 16");
  }
  return Status();
}

Result<MirrorSweepStats> MirrorSweep(store::Store& store, const MirrorOptions& options, bool full,
                                     const std::function<void(const MirrorProgress&)>& progress,
                                     const std::atomic<bool>* stop) {
  IOCGRID_RETURN_IF_ERROR(ValidateMirrorOptions(options));
  const auto started = std::chrono::steady_clock::now();
  IOCGRID_ASSIGN_OR_RETURN(store::MirrorState state, store.GetMirrorState());
  const std::string source = BaseUrl(options.url);
  if (!state.source.empty() && state.source != source) {
    // A mistyped URL that never answered must not pin the store: only a source with events
    // mirrored here does (its deletions would otherwise remove the other's events).
    IOCGRID_ASSIGN_OR_RETURN(std::vector<std::string> held, store.MirroredEventUuids());
    if (!held.empty()) {
      return AlreadyExistsError("this node mirrors " + state.source +
                                "; a node mirrors one MISP (give another --data for " + source +
                                ")");
    }
    state = store::MirrorState{};
  }
  const int64_t now = UnixNow();
  state.source = source;
  state.last_attempt = now;
  full = full || state.last_full == 0;
  IOCGRID_RETURN_IF_ERROR(store.SetMirrorState(state));

  Sweep sweep(store, options, progress, stop);
  Status st = sweep.Run(full, state.since);
  if (st.ok() && full) st = sweep.RemoveUnlisted();
  // The outcome is recorded either way, so that `portal members check` shows it.
  IOCGRID_ASSIGN_OR_RETURN(state, store.GetMirrorState());
  if (st.ok()) {
    // Everything changed before this sweep started is mirrored now.
    state.since = std::max(state.since, sweep.newest());
    state.last_success = now;
    if (full) state.last_full = now;
    state.error.clear();
  } else {
    state.error = std::string(st.message());
  }
  IOCGRID_RETURN_IF_ERROR(store.SetMirrorState(state));
  IOCGRID_RETURN_IF_ERROR(st);
  MirrorSweepStats stats = sweep.stats();
  stats.full = full;
  stats.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
  return stats;
}

}  // namespace iocgrid::node
