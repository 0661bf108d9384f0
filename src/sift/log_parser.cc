#include "sift/log_parser.h"

#include <array>

#include "sift/internal/parsers.h"

namespace iocgrid::sift {
namespace {

constexpr std::array<std::string_view, 8> kFormatNames = {"auto", "combined", "common", "json",
                                                          "eve",  "modsec",   "zeek",   "csv"};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "client", "server", "host", "url", "dns", "sni", "hash"};

bool IsModsecBoundary(std::string_view line) {
  if (line.size() < 7 || line.substr(0, 2) != "--" || line.substr(line.size() - 3) != "A--") {
    return false;
  }
  return line[line.size() - 4] == '-';
}

}  // namespace

std::string_view LogFormatName(LogFormat format) {
  return kFormatNames[static_cast<size_t>(format)];
}

bool ParseLogFormat(std::string_view name, LogFormat* out) {
  for (size_t i = 0; i < kFormatNames.size(); ++i) {
    if (name == kFormatNames[i]) {
      *out = static_cast<LogFormat>(i);
      return true;
    }
  }
  if (name == "apache" || name == "nginx") {
    *out = LogFormat::kCombined;
    return true;
  }
  if (name == "suricata") {
    *out = LogFormat::kEve;
    return true;
  }
  if (name == "modsecurity") {
    *out = LogFormat::kModsec;
    return true;
  }
  return false;
}

std::string_view FieldName(Field field) { return kFieldNames[static_cast<size_t>(field)]; }

bool ParseField(std::string_view name, Field* out) {
  for (size_t i = 0; i < kFieldNames.size(); ++i) {
    if (name == kFieldNames[i]) {
      *out = static_cast<Field>(i);
      return true;
    }
  }
  return false;
}

LogFormat DetectLogFormat(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.substr(0, 10) == "#separator" || line.substr(0, 7) == "#fields" ||
      line.substr(0, 5) == "#path") {
    return LogFormat::kZeek;
  }
  if (IsModsecBoundary(line)) return LogFormat::kModsec;
  if (!line.empty() && line.front() == '{') {
    if (line.find("\"event_type\"") != std::string_view::npos) return LogFormat::kEve;
    if (line.find("\"transaction\"") != std::string_view::npos) return LogFormat::kModsec;
    return LogFormat::kJson;
  }
  size_t open = line.find(" [");
  if (open != std::string_view::npos && line.find("] \"", open) != std::string_view::npos) {
    // combined has the quoted referer and user agent after status and size
    size_t quotes = 0;
    for (char c : line) quotes += c == '"';
    return quotes >= 6 ? LogFormat::kCombined : LogFormat::kCommon;
  }
  if (line.find_first_of(",;\t") != std::string_view::npos) return LogFormat::kCsv;
  return LogFormat::kAuto;
}

JsonFieldNames JsonFieldNames::Defaults() {
  JsonFieldNames n;
  auto add = [&n](Field f, std::initializer_list<const char*> names) {
    for (const char* p : names) n.paths.emplace_back(p, f);
  };
  // nginx json log_format, Caddy, Traefik, Zeek JSON, generic.
  add(Field::kClient,
      {"remote_addr", "remote_ip", "client_ip", "clientip", "ClientHost", "request.remote_ip",
       "request.client_ip", "src_ip", "id.orig_h", "c-ip", "client.ip", "source.ip"});
  add(Field::kServer, {"server_addr", "dest_ip", "id.resp_h", "destination.ip"});
  add(Field::kHost, {"host", "http_host", "vhost", "server_name", "request.host", "RequestHost",
                     "request.headers.Host", "url.domain"});
  add(Field::kUrl,
      {"url", "request_url", "request_uri", "uri", "request.uri", "RequestPath", "url.full"});
  add(Field::kDns, {"query", "answers"});
  add(Field::kHash, {"md5", "sha1", "sha256"});
  n.time_paths = {"time_local", "time_iso8601", "time",       "timestamp", "ts",
                  "@timestamp", "StartUTC",     "StartLocal", "msec",      "start_time"};
  n.request_line_paths = {"request", "request_line"};
  return n;
}

JsonFieldNames JsonFieldNames::Modsec() {
  JsonFieldNames n;
  // ModSecurity 3 ("transaction": {client_ip, time_stamp, host_ip, request, messages}) and
  // ModSecurity 2 JSON ("transaction": {remote_address, time}, "request", "audit_data").
  n.paths = {{"transaction.client_ip", Field::kClient},
             {"transaction.remote_address", Field::kClient},
             {"transaction.host_ip", Field::kServer},
             {"transaction.local_address", Field::kServer},
             {"transaction.request.headers.Host", Field::kHost},
             {"transaction.request.headers.host", Field::kHost},
             {"request.headers.Host", Field::kHost},
             {"request.headers.host", Field::kHost},
             {"transaction.request.uri", Field::kUrl}};
  n.time_paths = {"transaction.time_stamp", "transaction.time"};
  n.request_line_paths = {"request.request_line"};
  n.alert_paths = {"transaction.messages", "audit_data.messages"};
  return n;
}

Status JsonFieldNames::Override(std::string_view spec) {
  JsonFieldNames given;
  std::vector<Field> fields_given;
  bool time_given = false, request_given = false, alert_given = false;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return InvalidArgumentError("--json-field: expected KEY=NAME, got '" + std::string(item) +
                                  "'");
    }
    std::string_view key = item.substr(0, eq);
    std::string name(item.substr(eq + 1));
    Field f;
    if (key == "time") {
      given.time_paths.push_back(name);
      time_given = true;
    } else if (key == "request") {
      given.request_line_paths.push_back(name);
      request_given = true;
    } else if (key == "alert") {
      given.alert_paths.push_back(name);
      alert_given = true;
    } else if (ParseField(key, &f)) {
      given.paths.emplace_back(name, f);
      fields_given.push_back(f);
    } else {
      return InvalidArgumentError("--json-field: unknown key '" + std::string(key) +
                                  "' (client, server, host, url, dns, sni, hash, time, request, "
                                  "alert)");
    }
  }
  for (const auto& [path, f] : paths) {
    bool replaced = false;
    for (Field g : fields_given) replaced = replaced || g == f;
    if (!replaced) given.paths.emplace_back(path, f);
  }
  paths = std::move(given.paths);
  if (time_given) time_paths = std::move(given.time_paths);
  if (request_given) request_line_paths = std::move(given.request_line_paths);
  if (alert_given) alert_paths = std::move(given.alert_paths);
  return Status::Ok();
}

std::unique_ptr<LineParser> LineParser::Create(LogFormat format, const ParserOptions& options) {
  switch (format) {
    case LogFormat::kCombined:
    case LogFormat::kCommon:
    case LogFormat::kAuto:
      return internal::NewCombinedParser(format);
    case LogFormat::kJson:
      return internal::NewJsonParser(format, options.json_fields);
    case LogFormat::kEve:
      return internal::NewEveParser();
    case LogFormat::kModsec:
      return internal::NewModsecNativeParser();
    case LogFormat::kZeek:
      return internal::NewZeekParser();
    case LogFormat::kCsv:
      return internal::NewCsvParser();
  }
  return internal::NewCombinedParser(format);
}

std::unique_ptr<LineParser> LineParser::CreateForFile(LogFormat format, std::string_view first_line,
                                                      const ParserOptions& options) {
  if (format == LogFormat::kModsec && !first_line.empty() && first_line.front() == '{') {
    return internal::NewJsonParser(LogFormat::kModsec, JsonFieldNames::Modsec());
  }
  return Create(format, options);
}

}  // namespace iocgrid::sift
