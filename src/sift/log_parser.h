// Log parsers for `iocgrid sift` (issue 9): one line in, the observables it holds out.
//
// Formats: Apache/nginx combined and common (with or without a leading vhost), JSON-lines access
// logs (nginx/Caddy/Traefik field names, overridable), Suricata EVE JSON, ModSecurity audit logs
// (native A-Z sections and JSON), Zeek TSV logs (#fields header) and CSV firewall/WAF exports
// with a header naming columns. docs/sift.md lists which field of each format yields what.
//
// Parsers are bounded: a line is parsed in time linear in its length, nothing is thrown, and a
// line that is not the format yields a Status (the caller counts it as malformed). Parsers of
// formats with a header (Zeek, CSV) or multi-line records (ModSecurity native) keep state
// between lines, so one parser reads one file, in order.
//
// Thread-safety: a LineParser is single-threaded; use one per file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace iocgrid::sift {

enum class LogFormat : uint8_t { kAuto, kCombined, kCommon, kJson, kEve, kModsec, kZeek, kCsv };

// "auto", "combined", "common", "json", "eve", "modsec", "zeek", "csv".
std::string_view LogFormatName(LogFormat format);
// Inverse of LogFormatName; false when unknown.
bool ParseLogFormat(std::string_view name, LogFormat* out);

// Guesses the format from the first non-empty line of a file (kAuto when nothing fits).
LogFormat DetectLogFormat(std::string_view first_line);

// Where in a log line an observable came from (the --fields names).
enum class Field : uint8_t { kClient = 0, kServer, kHost, kUrl, kDns, kSni, kHash };
inline constexpr int kFieldCount = 7;
using FieldMask = uint8_t;
inline constexpr FieldMask kAllFields = (1u << kFieldCount) - 1;
inline constexpr FieldMask FieldBit(Field f) {
  return static_cast<FieldMask>(1u << static_cast<unsigned>(f));
}
// "client", "server", "host", "url", "dns", "sni", "hash".
std::string_view FieldName(Field field);
bool ParseField(std::string_view name, Field* out);

// What shape a raw value is expected to have; the sifter normalizes it accordingly.
enum class ValueKind : uint8_t {
  kIp,        // an address, maybe with a port ("1.2.3.4:5678", "[2001:db8::1]:443")
  kHost,      // a host name, maybe with a port
  kHostOrIp,  // either (Host headers, DNS answers, SNI)
  kUrl,       // an absolute URL
  kHash,      // a hex digest (md5, sha1, sha256)
};

struct RawObservable {
  Field field = Field::kClient;
  ValueKind kind = ValueKind::kIp;
  std::string_view raw;  // into the line or the parser's scratch; valid until the next Parse
};

// What one line holds.
struct ParsedLine {
  std::vector<RawObservable> observables;
  int64_t time = 0;  // unix seconds; 0 when the line has none
  // An alert (IDS/WAF) about `alert_client`: EVE alert events, ModSecurity transactions with
  // rule messages, CSV rows with an alert column. Empty when the line is no alert.
  std::string_view alert_client;
  bool ignored = false;  // a header, comment or separator line: neither data nor malformed

  void Clear() {
    observables.clear();
    time = 0;
    alert_client = {};
    ignored = false;
  }
};

// Field names of JSON access logs, as dotted paths ("request.remote_ip"); each Field may have
// several names, tried in the order given. Defaults cover nginx (json log_format), Caddy and
// Traefik; --json-field client=remote_addr,host=vhost adds names in front of the defaults.
struct JsonFieldNames {
  std::vector<std::pair<std::string, Field>> paths;
  std::vector<std::string> time_paths;
  std::vector<std::string>
      request_line_paths;                // "GET /x HTTP/1.1": its target is a URL if absolute
  std::vector<std::string> alert_paths;  // a non-empty value or array here makes the line an alert
  static JsonFieldNames Defaults();
  // ModSecurity JSON audit records (v2 and v3 layouts).
  static JsonFieldNames Modsec();
  // Parses "client=remote_addr,host=vhost,time=ts" (also "request=", "alert="): each named key
  // replaces the default names of that key. Errors: kInvalidArgument naming the bad item.
  Status Override(std::string_view spec);
};

struct ParserOptions {
  JsonFieldNames json_fields = JsonFieldNames::Defaults();
};

class LineParser {
 public:
  virtual ~LineParser() = default;
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // REQUIRES: format != kAuto.
  static std::unique_ptr<LineParser> Create(LogFormat format, const ParserOptions& options);

  // As Create, but a ModSecurity log whose first line is JSON gets the JSON audit record parser.
  static std::unique_ptr<LineParser> CreateForFile(LogFormat format, std::string_view first_line,
                                                   const ParserOptions& options);

  LogFormat format() const { return format_; }
  // True when every RawObservable that Parse gives points into the line itself (not into a
  // buffer of the parser's, which the next Parse reuses): the sifter may then parse several
  // lines before it looks their values up.
  virtual bool ObservablesPointIntoLine() const { return false; }

  // Parses one line (without its newline; a trailing '\r' is ignored). On error `out` holds
  // nothing and the Status (kInvalidArgument) says why, e.g. "no [timestamp]".
  Status Parse(std::string_view line, ParsedLine* out) {
    out->Clear();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Status status = DoParse(line, out);
    if (!status.ok()) out->Clear();  // a parser may fail after finding some observables
    return status;
  }

 protected:
  explicit LineParser(LogFormat format) : format_(format) {}

 private:
  virtual Status DoParse(std::string_view line, ParsedLine* out) = 0;
  LogFormat format_;
};

}  // namespace iocgrid::sift
