// JSON-lines parsers on simdjson On Demand: Suricata EVE (one pass over the event's fields),
// and a path-driven walker for access logs, ModSecurity JSON audit records and Zeek JSON logs.
#include <simdjson.h>

#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sift/internal/parsers.h"
#include "sift/internal/timestamps.h"

namespace iocgrid::sift::internal {
namespace {

namespace od = simdjson::ondemand;

bool IsAbsoluteUrl(std::string_view s) {
  return s.size() > 8 && (s.substr(0, 7) == "http://" || s.substr(0, 8) == "https://");
}

// Holds one line with simdjson's padding; reused across lines.
class PaddedLine {
 public:
  simdjson::padded_string_view Set(std::string_view line) {
    if (buf_.size() < line.size() + simdjson::SIMDJSON_PADDING) {
      buf_.resize(line.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buf_.data(), line.data(), line.size());
    std::memset(buf_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(buf_.data(), line.size(), buf_.size());
  }

 private:
  std::vector<char> buf_;
};

Status JsonError(simdjson::error_code e) {
  return InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(e));
}

// Parses `line` as one JSON object; `doc` and `obj` live until the parser's next line.
Status OpenObject(std::string_view line, od::parser* parser, PaddedLine* padded, od::document* doc,
                  od::object* obj) {
  if (auto e = parser->iterate(padded->Set(line)).get(*doc); e) return JsonError(e);
  if (auto e = doc->get_object().get(*obj); e) return JsonError(e);
  return Status::Ok();
}

// A string value, or an empty view when the value is not a string.
std::string_view StringOf(od::value v) {
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS || t != od::json_type::string) return {};
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// The key and value of a field of an object being iterated; `error` when either is malformed.
Status KeyAndValue(simdjson::simdjson_result<od::field> field, const char* error,
                   std::string_view* key, od::value* value) {
  if (field.unescaped_key().get(*key) || field.value().get(*value)) {
    return InvalidArgumentError(error);
  }
  return Status::Ok();
}

// A parser of one JSON object a line: an empty line is ignored, any other is opened as an
// object for ParseObject.
class JsonObjectParser : public LineParser {
 protected:
  explicit JsonObjectParser(LogFormat format) : LineParser(format) {}

 private:
  virtual Status ParseObject(od::object obj, ParsedLine* out) = 0;

  Status DoParse(std::string_view line, ParsedLine* out) final {
    if (line.empty()) {
      out->ignored = true;
      return Status::Ok();
    }
    od::document doc;
    od::object obj;
    IOCGRID_RETURN_IF_ERROR(OpenObject(line, &parser_, &padded_, &doc, &obj));
    return ParseObject(obj, out);
  }

  od::parser parser_;
  PaddedLine padded_;
};

// --- Suricata EVE --------------------------------------------------------------------------

class EveParser final : public JsonObjectParser {
 public:
  EveParser() : JsonObjectParser(LogFormat::kEve) {}

 private:
  Status ParseObject(od::object obj, ParsedLine* out) override {
    std::string_view client, http_host, http_url, alert_source;
    bool alert = false;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key); e) return JsonError(e);
      od::value v;
      if (auto e = field.value().get(v); e) return JsonError(e);
      if (key == "timestamp") {
        std::string_view t = StringOf(v);
        if (!t.empty() && !ParseIsoTime(t, &out->time))
          return InvalidArgumentError("bad timestamp");
      } else if (key == "event_type") {
        alert = StringOf(v) == "alert";
      } else if (key == "src_ip") {
        client = StringOf(v);
        if (!client.empty()) Add(out, Field::kClient, ValueKind::kIp, client);
      } else if (key == "dest_ip") {
        Add(out, Field::kServer, ValueKind::kIp, StringOf(v));
      } else if (key == "http") {
        IOCGRID_RETURN_IF_ERROR(Http(v, out, &http_host, &http_url));
      } else if (key == "dns") {
        IOCGRID_RETURN_IF_ERROR(Dns(v, out, 0));
      } else if (key == "tls" || key == "quic") {
        IOCGRID_RETURN_IF_ERROR(Members(
            v, out, [](std::string_view k) { return k == "sni" ? 1 : 0; }, Field::kSni,
            ValueKind::kHostOrIp));
      } else if (key == "fileinfo") {
        IOCGRID_RETURN_IF_ERROR(Hashes(v, out));
      } else if (key == "alert") {
        IOCGRID_RETURN_IF_ERROR(AlertSource(v, &alert_source));
      } else if (key == "files") {
        od::array arr;
        if (v.get_array().get(arr) == simdjson::SUCCESS) {
          for (auto item : arr) {
            od::value iv;
            if (item.get(iv) != simdjson::SUCCESS)
              return InvalidArgumentError("invalid JSON in files");
            IOCGRID_RETURN_IF_ERROR(Hashes(iv, out));
          }
        }
      }
    }
    if (!http_host.empty()) {
      Add(out, Field::kHost, ValueKind::kHostOrIp, http_host);
      if (IsAbsoluteUrl(http_url)) {
        Add(out, Field::kUrl, ValueKind::kUrl, http_url);
      } else if (!http_url.empty() && http_url.front() == '/') {
        url_.assign("http://").append(http_host).append(http_url);
        Add(out, Field::kUrl, ValueKind::kUrl, url_);
      }
    }
    if (alert && !alert_source.empty() && alert_source != client) {
      // The rule named its attacker (Suricata 7 alert.source, rules with `target`): that is
      // the client the alert is about, even when the packet went the other way.
      Add(out, Field::kClient, ValueKind::kIp, alert_source);
      out->alert_client = alert_source;
    } else if (alert && !client.empty()) {
      out->alert_client = client;
    }
    return Status::Ok();
  }

  static void Add(ParsedLine* out, Field f, ValueKind k, std::string_view v) {
    if (!v.empty() && out->observables.size() < 256) out->observables.push_back({f, k, v});
  }

  Status Http(od::value v, ParsedLine*, std::string_view* host, std::string_view* url) {
    od::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return Status::Ok();
    for (auto field : o) {
      std::string_view key;
      od::value fv;
      IOCGRID_RETURN_IF_ERROR(KeyAndValue(field, "invalid JSON in http", &key, &fv));
      if (key == "hostname")
        *host = StringOf(fv);
      else if (key == "url")
        *url = StringOf(fv);
    }
    return Status::Ok();
  }

  // alert.source.ip, if the alert has one.
  static Status AlertSource(od::value v, std::string_view* ip) {
    od::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return Status::Ok();
    for (auto field : o) {
      std::string_view key;
      od::value fv;
      IOCGRID_RETURN_IF_ERROR(KeyAndValue(field, "invalid JSON in alert", &key, &fv));
      if (key != "source") continue;
      od::object src;
      if (fv.get_object().get(src) != simdjson::SUCCESS) return Status::Ok();
      for (auto sf : src) {
        std::string_view sk;
        od::value sv;
        IOCGRID_RETURN_IF_ERROR(KeyAndValue(sf, "invalid JSON in alert.source", &sk, &sv));
        if (sk == "ip") *ip = StringOf(sv);
      }
    }
    return Status::Ok();
  }

  template <typename Pick>
  Status Members(od::value v, ParsedLine* out, Pick pick, Field f, ValueKind k) {
    od::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return Status::Ok();
    for (auto field : o) {
      std::string_view key;
      od::value fv;
      IOCGRID_RETURN_IF_ERROR(KeyAndValue(field, "invalid JSON", &key, &fv));
      if (pick(key)) Add(out, f, k, StringOf(fv));
    }
    return Status::Ok();
  }

  Status Hashes(od::value v, ParsedLine* out) {
    return Members(
        v, out, [](std::string_view k) { return k == "md5" || k == "sha1" || k == "sha256"; },
        Field::kHash, ValueKind::kHash);
  }

  // Every EVE DNS layout: v1 (rrname, rdata), v2 (answers[], grouped{}), v3 (queries[]).
  Status Dns(od::value v, ParsedLine* out, int depth) {
    if (depth > 3) return Status::Ok();
    od::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) return InvalidArgumentError("invalid JSON in dns");
    if (t == od::json_type::array) {
      od::array arr;
      if (v.get_array().get(arr)) return InvalidArgumentError("invalid JSON in dns");
      for (auto item : arr) {
        od::value iv;
        if (item.get(iv)) return InvalidArgumentError("invalid JSON in dns");
        std::string_view s = StringOf(iv);
        if (!s.empty()) {
          Add(out, Field::kDns, ValueKind::kHostOrIp, s);
        } else {
          IOCGRID_RETURN_IF_ERROR(Dns(iv, out, depth + 1));
        }
      }
      return Status::Ok();
    }
    if (t != od::json_type::object) return Status::Ok();
    od::object o;
    if (v.get_object().get(o)) return InvalidArgumentError("invalid JSON in dns");
    for (auto field : o) {
      std::string_view key;
      od::value fv;
      IOCGRID_RETURN_IF_ERROR(KeyAndValue(field, "invalid JSON in dns", &key, &fv));
      if (key == "rrname" || key == "rdata") {
        Add(out, Field::kDns, ValueKind::kHostOrIp, StringOf(fv));
      } else if (key == "answers" || key == "queries" || key == "authorities" || key == "grouped" ||
                 IsRecordType(key)) {
        IOCGRID_RETURN_IF_ERROR(Dns(fv, out, depth + 1));
      }
    }
    return Status::Ok();
  }

  static bool IsRecordType(std::string_view k) {
    return k == "A" || k == "AAAA" || k == "CNAME" || k == "PTR" || k == "MX" || k == "NS";
  }

  std::string url_;
};

// --- Path-driven JSON walker ---------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class JsonParser final : public JsonObjectParser {
 public:
  JsonParser(LogFormat format, const JsonFieldNames& names) : JsonObjectParser(format) {
    // Earlier names win for the same path; the action order keeps each field's priority.
    for (const auto& [path, field] : names.paths) actions_.emplace(path, Action{kField, field});
    for (const auto& p : names.time_paths) actions_.emplace(p, Action{kTime, Field::kClient});
    for (const auto& p : names.request_line_paths) {
      actions_.emplace(p, Action{kRequest, Field::kUrl});
    }
    for (const auto& p : names.alert_paths) actions_.emplace(p, Action{kAlert, Field::kClient});
  }

 private:
  enum Kind : uint8_t { kField, kTime, kRequest, kAlert };
  struct Action {
    Kind kind;
    Field field;
  };

  Status ParseObject(od::object obj, ParsedLine* out) override {
    path_.clear();
    alert_ = false;
    client_ = {};
    url_count_ = 0;
    IOCGRID_RETURN_IF_ERROR(Walk(obj, out, 0));
    if (alert_ && !client_.empty()) out->alert_client = client_;
    return Status::Ok();
  }

  Status Walk(od::object obj, ParsedLine* out, int depth) {
    for (auto field : obj) {
      std::string_view key;
      od::value v;
      IOCGRID_RETURN_IF_ERROR(KeyAndValue(field, "invalid JSON", &key, &v));
      size_t len = path_.size();
      if (!path_.empty()) path_ += '.';
      path_ += key;
      IOCGRID_RETURN_IF_ERROR(Value(v, out, depth));
      path_.resize(len);
    }
    return Status::Ok();
  }

  Status Value(od::value v, ParsedLine* out, int depth) {
    od::json_type t;
    if (v.type().get(t)) return InvalidArgumentError("invalid JSON");
    auto it = actions_.find(std::string_view(path_));
    if (t == od::json_type::object) {
      if (depth >= 6) return Status::Ok();  // deeper values are skipped, not read
      od::object o;
      if (v.get_object().get(o)) return InvalidArgumentError("invalid JSON");
      return Walk(o, out, depth + 1);
    }
    if (t == od::json_type::array) {
      od::array arr;
      if (v.get_array().get(arr)) return InvalidArgumentError("invalid JSON");
      size_t count = 0;
      for (auto item : arr) {
        od::value iv;
        if (item.get(iv)) return InvalidArgumentError("invalid JSON");
        ++count;
        if (it == actions_.end() || it->second.kind == kAlert) continue;  // skipped unread
        std::string_view s = StringOf(iv);
        if (!s.empty()) Apply(it->second, s, out);
      }
      if (it != actions_.end() && it->second.kind == kAlert && count > 0) alert_ = true;
      return Status::Ok();
    }
    if (it == actions_.end()) return Status::Ok();
    std::string_view s;
    if (t == od::json_type::string) {
      if (v.get_string().get(s)) return InvalidArgumentError("invalid JSON string");
    } else if (t == od::json_type::number) {
      s = v.raw_json_token();
      while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' ||
                            s.back() == '\r' || s.back() == ',' || s.back() == '}')) {
        s.remove_suffix(1);
      }
    } else if (t == od::json_type::boolean) {
      bool b = false;
      if (v.get_bool().get(b)) return InvalidArgumentError("invalid JSON");
      if (it->second.kind == kAlert && b) alert_ = true;
      return Status::Ok();
    } else {
      return Status::Ok();
    }
    if (!s.empty()) Apply(it->second, s, out);
    return Status::Ok();
  }

  void Apply(const Action& a, std::string_view s, ParsedLine* out) {
    if (out->observables.size() >= 256) return;
    switch (a.kind) {
      case kField:
        if (s == "-") return;
        if (a.field == Field::kUrl) {
          if (IsAbsoluteUrl(s)) out->observables.push_back({Field::kUrl, ValueKind::kUrl, s});
          return;
        }
        if (a.field == Field::kClient && client_.empty()) client_ = s;
        out->observables.push_back({a.field, KindOf(a.field), s});
        return;
      case kTime:
        if (out->time == 0) {
          int64_t t = 0;
          if (ParseAnyTime(s, &t)) out->time = t;
        }
        return;
      case kRequest: {
        size_t a1 = s.find(' ');
        if (a1 == std::string_view::npos) return;
        size_t b = s.find(' ', a1 + 1);
        std::string_view target =
            s.substr(a1 + 1, b == std::string_view::npos ? s.npos : b - a1 - 1);
        if (IsAbsoluteUrl(target))
          out->observables.push_back({Field::kUrl, ValueKind::kUrl, target});
        return;
      }
      case kAlert:
        alert_ = true;
        return;
    }
  }

  static ValueKind KindOf(Field f) {
    switch (f) {
      case Field::kClient:
      case Field::kServer:
        return ValueKind::kHostOrIp;
      case Field::kHash:
        return ValueKind::kHash;
      case Field::kUrl:
        return ValueKind::kUrl;
      default:
        return ValueKind::kHostOrIp;
    }
  }

  std::unordered_map<std::string, Action, StringHash, std::equal_to<>> actions_;
  std::string path_;
  bool alert_ = false;
  std::string_view client_;
  size_t url_count_ = 0;
};

}  // namespace

std::unique_ptr<LineParser> NewEveParser() { return std::make_unique<EveParser>(); }
std::unique_ptr<LineParser> NewJsonParser(LogFormat format, const JsonFieldNames& names) {
  return std::make_unique<JsonParser>(format, names);
}

}  // namespace iocgrid::sift::internal
