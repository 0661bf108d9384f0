#include "node/internal/grid.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/json_depth.h"
#include "common/json_writer.h"
#include "core/indicator.h"
#include "index/match_index.h"
#include "net/http_error.h"
#include "node/internal/misp_dto.h"
#include "node/internal/search_params.h"
#include "store/number.h"

namespace iocgrid::node {

namespace {

// The indicators of one request, packed: all values in one buffer and a small id per type
// name. A std::string per value and per type cost 64 bytes an indicator before any text, so a
// 15 MB body of 10^6 indicators took 140 MB (issue 8); packed, they cost about their text.
class IndicatorList {
 public:
  // Errors: kInvalidArgument beyond kMaxTypeNames distinct type names.
  Status Add(std::string_view value, std::string_view type) {
    uint16_t id = 0;
    if (!type.empty()) {
      auto it = std::find(type_names_.begin(), type_names_.end(), type);
      if (it == type_names_.end()) {
        if (type_names_.size() >= kMaxTypeNames) {
          return InvalidArgumentError("more than " + std::to_string(kMaxTypeNames) +
                                      " distinct indicator types in one request");
        }
        it = type_names_.emplace(type_names_.end(), type);
      }
      id = static_cast<uint16_t>(it - type_names_.begin());
    }
    text_.append(value);
    ends_.push_back(text_.size());
    type_ids_.push_back(id);
    return Status();
  }
  size_t size() const { return ends_.size(); }
  std::string_view value(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(text_).substr(begin, ends_[i] - begin);
  }
  // The type name given for indicator i; empty = guess.
  const std::string& type(size_t i) const { return type_names_[type_ids_[i]]; }

 private:
  static constexpr size_t kMaxTypeNames = 1024;  // MISP has 194
  std::string text_;
  std::vector<size_t> ends_;
  std::vector<uint16_t> type_ids_;
  std::vector<std::string> type_names_{std::string()};
};

struct MatchRequest {
  IndicatorList indicators;
  std::optional<int64_t> since;
  std::optional<int64_t> until;
  index::MatchOptions match;
  bool include_misses = false;
};

Status SetRelations(std::string_view list, index::MatchOptions* match) {
  match->relations = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    IOCGRID_RETURN_IF_ERROR(index::AddRelation(name, &match->relations));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (match->relations == 0) match->relations = index::kAllRelations;
  return Status();
}

namespace od = simdjson::ondemand;

constexpr const char* kInvalidJsonMessage =
    "Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string. This "
    "request has been blocked to avoid an unfiltered request.";

Status JsonStatus(simdjson::error_code) { return InvalidArgumentError(kInvalidJsonMessage); }

// A time given as a JSON string or integer; empty for anything else.
std::string TimeText(od::value& v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  int64_t i;
  if (v.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  return {};
}

Status AddObjectItem(od::object obj, size_t position, MatchRequest* out);

// True when nothing follows the root value once it has been read (On Demand reads lazily, so
// trailing text is found only by asking; simdjson 3.0 has no document::at_end).
bool AtEnd(od::document& doc) {
  const char* at = nullptr;
  return doc.current_location().get(at) != simdjson::SUCCESS;
}

// One indicator: a JSON string, or {"value": ..., "type": ...}. Read with On Demand, straight
// from the request text: a DOM (tape and string copies) cost several times the body (issue 8).
Status AddItem(od::value item, size_t position, MatchRequest* out) {
  od::json_type kind;
  if (auto error = item.type().get(kind)) return JsonStatus(error);
  std::string_view s;
  if (kind == od::json_type::string) {
    if (auto error = item.get_string().get(s)) return JsonStatus(error);
    return out->indicators.Add(s, {});
  }
  od::object obj;
  if (kind != od::json_type::object || item.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgumentError("indicator " + std::to_string(position) +
                                " must be a string or an object with a \"value\"");
  }
  return AddObjectItem(obj, position, out);
}

Status AddObjectItem(od::object obj, size_t position, MatchRequest* out) {
  std::string_view s;
  // Copied: On Demand's string views of one object do not outlive the next field.
  std::string value, type;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (auto error = std::move(field_result).get(field)) return JsonStatus(error);
    if (auto error = field.unescaped_key().get(key)) return JsonStatus(error);
    if (key != "value" && key != "type") continue;  // "date", "comment"...: the portal's
    if (field.value().get_string().get(s) != simdjson::SUCCESS) {
      return InvalidArgumentError("indicator " + std::to_string(position) + ": \"" +
                                  std::string(key) + "\" must be a string");
    }
    (key == "value" ? value : type) = std::string(s);
  }
  if (value.empty()) {
    return InvalidArgumentError("indicator " + std::to_string(position) + " has no \"value\"");
  }
  return out->indicators.Add(value, type);
}

// The list of indicators, up to max_values + 1 (the caller refuses more).
Status AddItems(od::array items, size_t max_values, MatchRequest* out) {
  size_t position = 0;
  for (auto item_result : items) {
    od::value item;
    if (auto error = std::move(item_result).get(item)) return JsonStatus(error);
    IOCGRID_RETURN_IF_ERROR(AddItem(item, position++, out));
    if (out->indicators.size() > max_values) break;
  }
  return Status();
}

// The members of {"indicators": [...], "since", "until", "relations", ...}, in any order.
// `now`: what "since": "30d" counts back from.
Status ReadMatchObject(od::object obj, size_t max_values, int64_t now, MatchRequest* out) {
  bool has_indicators = false;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (auto error = std::move(field_result).get(field)) return JsonStatus(error);
    if (auto error = field.unescaped_key().get(key)) return JsonStatus(error);
    od::value v = field.value();
    od::json_type kind;
    if (auto error = v.type().get(kind)) return JsonStatus(error);
    if (key == "indicators") {
      od::array items;
      if (v.get_array().get(items) != simdjson::SUCCESS) {
        return InvalidArgumentError("\"indicators\" must be a list");
      }
      IOCGRID_RETURN_IF_ERROR(AddItems(items, max_values, out));
      has_indicators = true;
      if (out->indicators.size() > max_values) return Status();
    } else if ((key == "since" || key == "until") && kind != od::json_type::null) {
      const std::string name = "\"" + std::string(key) + "\"";
      std::string t = TimeText(v);
      if (t.empty()) return InvalidArgumentError(name + " must be a time");
      auto resolved = ResolveTime(t, now);
      if (!resolved.ok()) return resolved.status().WithContext(name);
      (name == "\"since\"" ? out->since : out->until) = *resolved;
    } else if (key == "relations") {
      od::array rels;
      if (v.get_array().get(rels) != simdjson::SUCCESS) {
        return InvalidArgumentError("\"relations\" must be a list of names");
      }
      std::string joined;
      for (auto r : rels) {
        std::string_view name;
        if (r.get_string().get(name) != simdjson::SUCCESS) {
          return InvalidArgumentError("\"relations\" must be a list of names");
        }
        joined += (joined.empty() ? "" : ",") + std::string(name);
      }
      IOCGRID_RETURN_IF_ERROR(SetRelations(joined, &out->match));
    } else if (key == "max_hits_per_indicator") {
      uint64_t n;
      if (v.get_uint64().get(n) != simdjson::SUCCESS) {
        return InvalidArgumentError("\"max_hits_per_indicator\" must be a number");
      }
      out->match.max_hits_per_query = static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
    } else if (key == "include_misses") {
      bool b;
      if (v.get_bool().get(b) != simdjson::SUCCESS) {
        return InvalidArgumentError("\"include_misses\" must be true or false");
      }
      out->include_misses = b;
    }
  }
  if (!has_indicators) return InvalidArgumentError("\"indicators\" must be a list");
  return Status();
}

Status ParseOptionsFromQuery(const net::Request& req, int64_t now, MatchRequest* out) {
  for (auto [name, target] : {std::pair{"since", &out->since}, std::pair{"until", &out->until}}) {
    std::string v = req.QueryParam(name);
    if (v.empty()) continue;
    auto t = ResolveTime(v, now);
    if (!t.ok()) return t.status().WithContext(name);
    *target = *t;
  }
  if (std::string v = req.QueryParam("relations"); !v.empty()) {
    IOCGRID_RETURN_IF_ERROR(SetRelations(v, &out->match));
  }
  if (std::string v = req.QueryParam("max_hits_per_indicator"); !v.empty()) {
    auto n = store::ParseDecimal<uint32_t>(v);
    if (!n) return InvalidArgumentError("max_hits_per_indicator must be a number");
    out->match.max_hits_per_query = *n;
  }
  if (std::string v = req.QueryParam("include_misses"); !v.empty()) {
    out->include_misses = v == "1" || v == "true";
  }
  return Status();
}

// NDJSON: one indicator per line, a JSON string or object, or the bare value; reading stops
// past max_values (the caller refuses the request).
Status ReadNdjson(std::string_view body, size_t max_values, od::parser& parser, MatchRequest* out) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty()) continue;
    if (line.front() == '"' || line.front() == '{') {
      const simdjson::padded_string padded(line);  // one line: a small copy
      Status invalid =
          InvalidArgumentError("line " + std::to_string(line_no) + " is not valid JSON");
      od::document doc;
      if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return invalid;
      Status st;
      std::string_view text;
      od::object obj;
      if (line.front() == '"') {
        if (doc.get_string().get(text) != simdjson::SUCCESS) return invalid;
        st = out->indicators.Add(text, {});
      } else {
        if (doc.get_object().get(obj) != simdjson::SUCCESS) return invalid;
        st = AddObjectItem(obj, line_no, out);
      }
      if (!st.ok() && st.message() == kInvalidJsonMessage) return invalid;
      IOCGRID_RETURN_IF_ERROR(st);
      if (!AtEnd(doc)) return invalid;
    } else {
      IOCGRID_RETURN_IF_ERROR(out->indicators.Add(line, {}));
    }
    if (out->indicators.size() > max_values) break;
  }
  return Status();
}

// A JSON array of indicators or an object with "indicators" and options, parsed in place.
Status ReadJsonBody(net::Request& req, size_t max_values, int64_t now, od::parser& parser,
                    MatchRequest* out) {
  // Measured before the DOM is built: the nesting, and a bound on the values (an indicator
  // object has up to a few keys and values), so a huge body is refused before it costs
  // memory (issue 8).
  JsonShape shape = ScanJsonShape(req.body);
  if (shape.max_depth > kMaxJsonDepth) {
    return InvalidArgumentError("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels");
  }
  if (shape.scalars > 8 * static_cast<uint64_t>(max_values) + 64) {
    return ResourceExhaustedError("more than " + std::to_string(max_values) +
                                  " indicators in one request; split it");
  }
  // Parsed in place rather than from a padded copy of a body that may be 100s of MB:
  // simdjson only needs SIMDJSON_PADDING bytes of capacity after the text.
  req.body.reserve(req.body.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (auto error = parser.iterate(req.body.data(), req.body.size(), req.body.capacity()).get(doc)) {
    return JsonStatus(error);
  }
  od::json_type kind;
  if (auto error = doc.type().get(kind)) return JsonStatus(error);
  if (kind == od::json_type::object) {
    od::object obj;
    if (auto error = doc.get_object().get(obj)) return JsonStatus(error);
    IOCGRID_RETURN_IF_ERROR(ReadMatchObject(obj, max_values, now, out));
  } else if (kind == od::json_type::array) {
    od::array items;
    if (auto error = doc.get_array().get(items)) return JsonStatus(error);
    IOCGRID_RETURN_IF_ERROR(AddItems(items, max_values, out));
  } else {
    return InvalidArgumentError(
        "send a JSON array of indicators, an object with \"indicators\", "
        "or NDJSON lines");
  }
  // On Demand reads lazily: text after the value (or a broken tail) is found only here.
  if (out->indicators.size() <= max_values && !AtEnd(doc)) {
    return InvalidArgumentError(kInvalidJsonMessage);
  }
  return Status();
}

Result<MatchRequest> ParseMatchRequest(net::Request& req, size_t max_values, int64_t now) {
  MatchRequest out;
  out.match.max_hits_per_query = 10000;
  IOCGRID_RETURN_IF_ERROR(ParseOptionsFromQuery(req, now, &out));
  std::string_view body = req.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return InvalidArgumentError("empty request: send a JSON array of indicators or NDJSON lines");
  }
  bool ndjson = req.Header("content-type").find("ndjson") != std::string_view::npos ||
                (body[first] != '[' && body[first] != '{');
  od::parser parser;
  if (ndjson) {
    IOCGRID_RETURN_IF_ERROR(ReadNdjson(body, max_values, parser, &out));
  } else {
    IOCGRID_RETURN_IF_ERROR(ReadJsonBody(req, max_values, now, parser, &out));
  }
  if (out.indicators.size() > max_values) {
    return ResourceExhaustedError("more than " + std::to_string(max_values) +
                                  " indicators in one request; split it");
  }
  return out;
}

// The streaming state of one match request.
struct MatchStream {
  MatchRequest request;
  GridContext context;
  size_t cursor = 0;
  uint64_t matched = 0;
  uint64_t hits = 0;
  uint64_t invalid = 0;
  bool done = false;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::vector<index::Hit> hit_buffer;
  // The chunk's parsed indicators, compacted (invalid ones left out) for MatchAll; slot[k] is
  // the position of the chunk's k-th value in `indicators`, or -1 when it did not parse.
  std::vector<core::Indicator> indicators;
  std::vector<int32_t> slot;
  std::vector<std::string> errors;
  std::vector<int64_t> ids;
  store::AttributeSearchResult rows;  // the chunk's hits' attributes and events
  std::unordered_map<int64_t, const store::AttributeRecord*> by_id;  // into rows
  std::string line;

  bool InScope(const store::AttributeRecord& a) const {
    if (!request.since && !request.until) return true;
    int64_t lo = a.first_seen_us ? *a.first_seen_us / 1000000 : a.timestamp;
    int64_t hi = a.last_seen_us ? *a.last_seen_us / 1000000 : a.timestamp;
    if (request.since && hi < *request.since) return false;
    if (request.until && lo > *request.until) return false;
    return true;
  }

  // Appends the next chunk's lines to *out; false once the summary line has been written.
  bool Next(std::string* out);
  // Parses the queries [cursor, end) into `indicators`, `slot` and `errors`.
  void ParseChunk(size_t end);
  // Reads the stored context of every hit in hit_buffer, in one store read, into rows/by_id.
  void FetchContext();
  // Writes hit_buffer[first, last) (those still stored and in scope) into `line`; returns how
  // many it wrote.
  size_t WriteHits(size_t first, size_t last);
  void WriteSummary(JsonWriter& w, std::string* out);
};

Result<core::Indicator> ParseQuery(const std::string& type, std::string_view value) {
  if (!type.empty()) return core::ParseIndicator(type, value);
  return core::GuessIndicator(value);  // plain values take the fast path (core/fast_value.h)
}

// One hit: its relation and context (WriteHitContext, shared with private-search labels).
void WriteHitObject(JsonWriter& lw, const index::Hit& hit, const store::AttributeRecord& a,
                    const store::EventInfo* e) {
  lw.BeginObject();
  lw.Field("relation", index::RelationName(hit.relation));
  WriteHitContext(lw, a, e);
  lw.EndObject();
}

void MatchStream::ParseChunk(size_t end) {
  const size_t count = end - cursor;
  indicators.clear();
  slot.assign(count, -1);
  errors.resize(count);
  for (size_t i = cursor; i < end; ++i) {
    auto parsed = ParseQuery(request.indicators.type(i), request.indicators.value(i));
    if (!parsed.ok()) {
      errors[i - cursor] = std::string(parsed.status().message());
      continue;
    }
    errors[i - cursor].clear();
    slot[i - cursor] = static_cast<int32_t>(indicators.size());
    indicators.push_back(std::move(*parsed));
  }
}

void MatchStream::FetchContext() {
  ids.clear();
  ids.reserve(hit_buffer.size());
  for (const auto& h : hit_buffer) ids.push_back(context.snapshot->AttributeOf(h.record));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  rows = store::AttributeSearchResult();
  if (!ids.empty()) {
    auto fetched = context.store->GetAttributes(ids, /*include_event_tags=*/true);
    if (fetched.ok()) rows = std::move(*fetched);
  }
  by_id.clear();
  for (const auto& a : rows.attributes) by_id[a.id] = &a;
}

size_t MatchStream::WriteHits(size_t first, size_t last) {
  size_t written = 0;
  line.clear();
  JsonWriter lw(&line);
  for (size_t k = first; k < last; ++k) {
    const index::Hit& hit = hit_buffer[k];
    auto it = by_id.find(context.snapshot->AttributeOf(hit.record));
    if (it == by_id.end()) continue;  // deleted since the snapshot was built
    const store::AttributeRecord& a = *it->second;
    if (!InScope(a)) continue;
    WriteHitObject(lw, hit, a, rows.FindEvent(a.event_id));
    ++written;
  }
  return written;
}

void MatchStream::WriteSummary(JsonWriter& w, std::string* out) {
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  w.Reset();
  w.BeginObject();
  w.Field("done", true);
  w.FieldInt("indicators", static_cast<int64_t>(request.indicators.size()));
  w.FieldInt("matched", static_cast<int64_t>(matched));
  w.FieldInt("hits", static_cast<int64_t>(hits));
  w.FieldInt("invalid", static_cast<int64_t>(invalid));
  w.FieldInt("elapsed_us", elapsed.count());
  w.EndObject();
  *out += '\n';
}

bool MatchStream::Next(std::string* out) {
  if (done) return false;
  const size_t n = request.indicators.size();
  const size_t end = std::min(n, cursor + context.chunk);
  ParseChunk(end);
  // One batch lookup per chunk (it prefetches ahead); hits come in query order, and their
  // query numbers are positions in `indicators`.
  hit_buffer = context.snapshot->MatchAll(indicators, request.match);
  FetchContext();

  JsonWriter w(out);
  size_t h = 0;
  for (size_t i = cursor; i < end; ++i) {
    const int32_t q = slot[i - cursor];  // its position in `indicators`
    size_t first_hit = h;
    while (q >= 0 && h < hit_buffer.size() && hit_buffer[h].query == static_cast<uint32_t>(q)) ++h;
    if (q < 0) {
      ++invalid;
      w.Reset();
      w.BeginObject();
      w.FieldInt("i", static_cast<int64_t>(i));
      w.Field("query", request.indicators.value(i));
      w.Field("error", errors[i - cursor]);
      w.EndObject();
      *out += '\n';
      continue;
    }
    if (h == first_hit && !request.include_misses) continue;  // a miss: nothing to write
    const size_t written = WriteHits(first_hit, h);
    if (written == 0 && !request.include_misses) continue;
    if (written > 0) ++matched;
    hits += written;
    w.Reset();
    w.BeginObject();
    w.FieldInt("i", static_cast<int64_t>(i));
    w.Field("query", request.indicators.value(i));
    w.Field("type", core::TypeName(indicators[static_cast<size_t>(q)].type));
    w.Field("normalized", indicators[static_cast<size_t>(q)].value);
    w.Key("hits");
    w.BeginArray();
    if (!line.empty()) w.Raw(line);
    w.EndArray();
    if (request.match.max_hits_per_query > 0 && h - first_hit >= request.match.max_hits_per_query) {
      w.Field("truncated", true);
    }
    w.EndObject();
    *out += '\n';
  }
  cursor = end;
  if (cursor < n) return true;
  WriteSummary(w, out);
  done = true;
  return false;
}

}  // namespace

void WriteHitContext(JsonWriter& w, const store::AttributeRecord& a, const store::EventInfo* e) {
  w.Field("matched", a.value);
  w.Field("type", core::TypeName(a.type));
  w.Field("category", a.category);
  w.Field("to_ids", a.to_ids);
  w.Field("comment", a.comment);
  w.FieldId("attribute_id", a.id);
  w.Field("attribute_uuid", a.uuid);
  w.FieldInt("timestamp", a.timestamp);
  w.Key("first_seen");
  WriteSeen(w, a.first_seen_us);
  w.Key("last_seen");
  WriteSeen(w, a.last_seen_us);
  w.FieldInt("sightings", a.import_sightings);
  if (e) {
    w.Key("event");
    w.BeginObject();
    w.FieldId("id", e->id);
    w.Field("uuid", e->uuid);
    w.Field("info", e->info);
    w.Field("date", e->date);
    w.Field("org", e->orgc_name);
    w.FieldInt("threat_level_id", e->threat_level_id);
    w.Field("published", e->published);
    w.EndObject();
  }
  w.Key("tags");
  w.BeginArray();
  for (const auto& t : a.tags) w.String(t.name);
  w.EndArray();
}

net::Response HandleGridMatch(net::Request& request, const GridContext& context,
                              uint64_t* value_count, std::vector<std::string>* audit_values) {
  auto parsed = ParseMatchRequest(request, context.max_values, context.now);
  if (!parsed.ok()) {
    int status = parsed.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
    return net::ErrorResponse(status, parsed.status().message(), request.path);
  }
  *value_count = parsed->indicators.size();
  if (audit_values != nullptr) {
    audit_values->reserve(parsed->indicators.size());
    for (size_t i = 0; i < parsed->indicators.size(); ++i) {
      audit_values->emplace_back(parsed->indicators.value(i));
    }
  }
  auto stream = std::make_shared<MatchStream>();
  stream->request = std::move(*parsed);
  stream->context = context;
  net::Response r;
  r.content_type = "application/x-ndjson";
  r.stream = [stream](std::string* chunk) { return stream->Next(chunk); };
  return r;
}

}  // namespace iocgrid::node
