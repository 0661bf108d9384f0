// Hand-written scanners for the line formats: Apache/nginx combined and common, ModSecurity's
// native audit log, Zeek TSV and CSV exports. No allocation per line on the hot path.
#include <array>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"
#include "sift/internal/parsers.h"
#include "sift/internal/timestamps.h"

namespace iocgrid::sift::internal {
namespace {

bool IsAbsoluteUrl(std::string_view s) {
  return (s.size() > 7 && (s.substr(0, 7) == "http://" || s.substr(0, 7) == "HTTP://")) ||
         (s.size() > 8 && (s.substr(0, 8) == "https://" || s.substr(0, 8) == "HTTPS://"));
}

// The target of a request line "GET http://x/ HTTP/1.1" (empty when none).
std::string_view RequestTarget(std::string_view request) {
  size_t a = request.find(' ');
  if (a == std::string_view::npos) return {};
  size_t b = request.find(' ', a + 1);
  return request.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1);
}

bool Unset(std::string_view v) { return v.empty() || v == "-" || v == "(empty)"; }

// --- Apache/nginx combined and common ---------------------------------------------------

class CombinedParser final : public LineParser {
 public:
  explicit CombinedParser(LogFormat format) : LineParser(format) {}
  bool ObservablesPointIntoLine() const override { return true; }

 private:
  // Busy logs write many lines a second: the last timestamp's text and value are kept.
  bool ParseTime(std::string_view text, int64_t* out) {
    if (last_time_size_ != 0 && text.size() == last_time_size_ &&
        std::memcmp(text.data(), last_time_text_, text.size()) == 0) {
      *out = last_time_;
      return true;
    }
    if (!ParseApacheTime(text, out)) return false;
    if (!text.empty() && text.size() <= sizeof last_time_text_) {
      std::memcpy(last_time_text_, text.data(), text.size());
      last_time_size_ = text.size();
      last_time_ = *out;
    }
    return true;
  }

  char last_time_text_[40] = {};
  size_t last_time_size_ = 0;
  int64_t last_time_ = 0;

 private:
  Status DoParse(std::string_view line, ParsedLine* out) override {
    if (line.empty()) {
      out->ignored = true;
      return Status::Ok();
    }
    size_t open = line.find(" [");
    if (open == std::string_view::npos) return InvalidArgumentError("no [timestamp]");
    // Tokens before the timestamp: host ident user, or vhost host ident user.
    std::array<std::string_view, 4> tok;
    size_t n = 0, pos = 0;
    std::string_view head = line.substr(0, open);
    while (pos < head.size()) {
      size_t sp = head.find(' ', pos);
      if (sp == std::string_view::npos) sp = head.size();
      if (sp > pos) {
        if (n == tok.size()) return InvalidArgumentError("too many fields before [timestamp]");
        tok[n++] = head.substr(pos, sp - pos);
      }
      pos = sp + 1;
    }
    if (n < 3) return InvalidArgumentError("expected 'host ident user [timestamp]'");
    size_t close = line.find(']', open + 2);
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated [timestamp");
    if (!ParseTime(line.substr(open + 2, close - open - 2), &out->time)) {
      return InvalidArgumentError("bad timestamp");
    }
    size_t q = close + 1;
    if (q + 1 >= line.size() || line[q] != ' ' || line[q + 1] != '"') {
      return InvalidArgumentError("no quoted request after the timestamp");
    }
    q += 2;
    size_t end = q;
    while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
    if (end >= line.size()) return InvalidArgumentError("unterminated request");
    std::string_view request = line.substr(q, end - q);
    const std::string_view client = n == 4 ? tok[1] : tok[0];
    if (n == 4 && !Unset(tok[0])) {
      out->observables.push_back({Field::kHost, ValueKind::kHostOrIp, tok[0]});
    }
    if (!Unset(client)) out->observables.push_back({Field::kClient, ValueKind::kHostOrIp, client});
    std::string_view target = RequestTarget(request);
    if (IsAbsoluteUrl(target)) out->observables.push_back({Field::kUrl, ValueKind::kUrl, target});
    return Status::Ok();
  }
};

// --- ModSecurity 2 native audit log (sections A..Z) ---------------------------------------

class ModsecNativeParser final : public LineParser {
 public:
  ModsecNativeParser() : LineParser(LogFormat::kModsec) {}

 private:
  // "--d67af501-A--" -> 'A'; 0 when the line is no boundary.
  static char Boundary(std::string_view line) {
    if (line.size() < 7 || line.substr(0, 2) != "--" || line.substr(line.size() - 2) != "--") {
      return 0;
    }
    std::string_view mid = line.substr(2, line.size() - 4);
    size_t dash = mid.rfind('-');
    if (dash == std::string_view::npos || dash + 2 != mid.size() || dash == 0) return 0;
    char s = mid[dash + 1];
    if (s < 'A' || s > 'Z') return 0;
    for (size_t i = 0; i < dash; ++i) {
      char c = mid[i];
      if (!IsAsciiHex(c)) return 0;
    }
    return s;
  }

  Status DoParse(std::string_view line, ParsedLine* out) override {
    if (char s = Boundary(line); s != 0) {
      section_ = s;
      section_line_ = 0;
      if (s == 'A') {
        client_.clear();
        time_ = 0;
        alerted_ = false;
      }
      out->ignored = true;
      return Status::Ok();
    }
    if (section_ == 0) {
      if (line.empty()) {
        out->ignored = true;
        return Status::Ok();
      }
      return InvalidArgumentError("outside any audit log section");
    }
    ++section_line_;
    out->time = time_;
    switch (section_) {
      case 'A':
        if (section_line_ == 1) return ParseA(line, out);
        break;
      case 'B':
        if (section_line_ == 1) {
          std::string_view target = RequestTarget(line);
          if (IsAbsoluteUrl(target)) {
            out->observables.push_back({Field::kUrl, ValueKind::kUrl, target});
          }
        } else if (line.size() > 5 && (line[0] == 'H' || line[0] == 'h') &&
                   (line.substr(0, 5) == "Host:" || line.substr(0, 5) == "host:")) {
          std::string_view v = line.substr(5);
          while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
          if (!v.empty()) out->observables.push_back({Field::kHost, ValueKind::kHostOrIp, v});
        }
        break;
      case 'H':
        if (!alerted_ && !client_.empty() && line.substr(0, 8) == "Message:") {
          alerted_ = true;  // one alert per transaction, however many rules fired
          out->alert_client = client_;
        }
        break;
      default:
        break;
    }
    return Status::Ok();
  }

  // "[07/Jun/2023:17:45:31 --0400] UNIQUEID 192.168.45.191 43614 192.168.210.12 80"
  Status ParseA(std::string_view line, ParsedLine* out) {
    if (line.empty() || line[0] != '[') return InvalidArgumentError("section A: no [timestamp]");
    size_t close = line.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("section A: unterminated [");
    if (!ParseApacheTime(line.substr(1, close - 1), &time_)) {
      return InvalidArgumentError("section A: bad timestamp");
    }
    out->time = time_;
    std::array<std::string_view, 5> tok;
    size_t n = 0, pos = close + 1;
    while (pos < line.size() && n < tok.size()) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      if (sp > pos) tok[n++] = line.substr(pos, sp - pos);
      pos = sp + 1;
    }
    if (n < 4) return InvalidArgumentError("section A: expected 'id client port server port'");
    client_.assign(tok[1]);
    out->observables.push_back({Field::kClient, ValueKind::kIp, client_});
    out->observables.push_back({Field::kServer, ValueKind::kIp, tok[3]});
    return Status::Ok();
  }

  char section_ = 0;
  size_t section_line_ = 0;
  std::string client_;
  int64_t time_ = 0;
  bool alerted_ = false;
};

// --- Zeek TSV ------------------------------------------------------------------------------

class ZeekParser final : public LineParser {
 public:
  ZeekParser() : LineParser(LogFormat::kZeek) {}

 private:
  enum class Col : uint8_t { kNone, kTs, kOrig, kResp, kHost, kUri, kQuery, kAnswers, kSni, kHash };

  static Col ColumnOf(std::string_view name) {
    if (name == "ts") return Col::kTs;
    if (name == "id.orig_h") return Col::kOrig;
    if (name == "id.resp_h") return Col::kResp;
    if (name == "host") return Col::kHost;
    if (name == "uri") return Col::kUri;
    if (name == "query") return Col::kQuery;
    if (name == "answers") return Col::kAnswers;
    if (name == "server_name") return Col::kSni;
    if (name == "md5" || name == "sha1" || name == "sha256") return Col::kHash;
    return Col::kNone;
  }

  // A `#separator` or `#fields` header line; other comments change nothing.
  void ReadHeader(std::string_view line) {
    if (line.substr(0, 11) == "#separator ") {
      std::string_view v = line.substr(11);
      if (v == "\\x09")
        sep_ = '\t';
      else if (v.size() == 4 && v.substr(0, 2) == "\\x") {
        unsigned code = 0;
        std::from_chars(v.data() + 2, v.data() + 4, code, 16);
        if (code > 0 && code < 128) sep_ = static_cast<char>(code);
      } else if (v.size() == 1) {
        sep_ = v[0];
      }
    } else if (line.substr(0, 7) == "#fields") {
      cols_.clear();
      size_t pos = 8;
      while (pos <= line.size()) {
        size_t e = line.find(sep_, pos);
        if (e == std::string_view::npos) e = line.size();
        cols_.push_back(ColumnOf(line.substr(pos, e - pos)));
        pos = e + 1;
      }
    }
  }

  Status DoParse(std::string_view line, ParsedLine* out) override {
    if (line.empty() || line[0] == '#') {
      out->ignored = true;
      ReadHeader(line);
      return Status::Ok();
    }
    if (cols_.empty()) return InvalidArgumentError("data line before the #fields header");
    std::string_view host, uri;
    size_t pos = 0;
    for (size_t i = 0; i < cols_.size() && pos <= line.size(); ++i) {
      size_t e = line.find(sep_, pos);
      if (e == std::string_view::npos) e = line.size();
      std::string_view v = line.substr(pos, e - pos);
      pos = e + 1;
      if (Unset(v)) continue;
      switch (cols_[i]) {
        case Col::kTs:
          if (!ParseEpochTime(v, &out->time)) return InvalidArgumentError("bad ts");
          break;
        case Col::kOrig:
          out->observables.push_back({Field::kClient, ValueKind::kIp, v});
          break;
        case Col::kResp:
          out->observables.push_back({Field::kServer, ValueKind::kIp, v});
          break;
        case Col::kHost:
          host = v;
          out->observables.push_back({Field::kHost, ValueKind::kHostOrIp, v});
          break;
        case Col::kUri:
          uri = v;
          break;
        case Col::kQuery:
          out->observables.push_back({Field::kDns, ValueKind::kHost, v});
          break;
        case Col::kAnswers: {
          size_t p = 0;
          while (p <= v.size()) {  // a set: "a,b"
            size_t c = v.find(',', p);
            if (c == std::string_view::npos) c = v.size();
            if (c > p)
              out->observables.push_back({Field::kDns, ValueKind::kHostOrIp, v.substr(p, c - p)});
            p = c + 1;
          }
          break;
        }
        case Col::kSni:
          out->observables.push_back({Field::kSni, ValueKind::kHostOrIp, v});
          break;
        case Col::kHash:
          out->observables.push_back({Field::kHash, ValueKind::kHash, v});
          break;
        case Col::kNone:
          break;
      }
    }
    if (!host.empty() && !uri.empty()) {
      if (IsAbsoluteUrl(uri)) {
        out->observables.push_back({Field::kUrl, ValueKind::kUrl, uri});
      } else if (uri.front() == '/') {
        url_.assign("http://").append(host).append(uri);
        out->observables.push_back({Field::kUrl, ValueKind::kUrl, url_});
      }
    }
    return Status::Ok();
  }

  char sep_ = '\t';
  std::vector<Col> cols_;
  std::string url_;
};

// --- CSV firewall / WAF exports ---------------------------------------------------------------

class CsvParser final : public LineParser {
 public:
  CsvParser() : LineParser(LogFormat::kCsv) {}

 private:
  enum class Col : uint8_t { kNone, kTime, kClient, kServer, kHost, kUrl, kHash, kAlert, kAction };

  static Col ColumnOf(std::string_view raw) {
    std::string n;
    for (char c : raw) {
      if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '"' || c == '@') continue;
      n += AsciiToLower(c);
    }
    static const std::vector<std::pair<std::string_view, Col>> kNames = {
        {"time", Col::kTime},
        {"timestamp", Col::kTime},
        {"date", Col::kTime},
        {"datetime", Col::kTime},
        {"ts", Col::kTime},
        {"eventtime", Col::kTime},
        {"receivetime", Col::kTime},
        {"generatedtime", Col::kTime},
        {"starttime", Col::kTime},
        {"src", Col::kClient},
        {"srcip", Col::kClient},
        {"srcaddr", Col::kClient},
        {"source", Col::kClient},
        {"sourceip", Col::kClient},
        {"sourceaddress", Col::kClient},
        {"client", Col::kClient},
        {"clientip", Col::kClient},
        {"clientaddress", Col::kClient},
        {"remoteaddr", Col::kClient},
        {"remoteip", Col::kClient},
        {"cip", Col::kClient},
        {"attackerip", Col::kClient},
        {"ip", Col::kClient},
        {"ipaddress", Col::kClient},
        {"dst", Col::kServer},
        {"dstip", Col::kServer},
        {"dstaddr", Col::kServer},
        {"dest", Col::kServer},
        {"destip", Col::kServer},
        {"destination", Col::kServer},
        {"destinationip", Col::kServer},
        {"destinationaddress", Col::kServer},
        {"serverip", Col::kServer},
        {"host", Col::kHost},
        {"hostname", Col::kHost},
        {"domain", Col::kHost},
        {"httphost", Col::kHost},
        {"servername", Col::kHost},
        {"vhost", Col::kHost},
        {"requesthost", Col::kHost},
        {"sni", Col::kHost},
        {"url", Col::kUrl},
        {"requesturl", Col::kUrl},
        {"fullurl", Col::kUrl},
        {"md5", Col::kHash},
        {"sha1", Col::kHash},
        {"sha256", Col::kHash},
        {"filehash", Col::kHash},
        {"hash", Col::kHash},
        {"signature", Col::kAlert},
        {"rule", Col::kAlert},
        {"ruleid", Col::kAlert},
        {"rulename", Col::kAlert},
        {"alert", Col::kAlert},
        {"attack", Col::kAlert},
        {"attacktype", Col::kAlert},
        {"threat", Col::kAlert},
        {"signatureid", Col::kAlert},
        {"action", Col::kAction},
        {"disposition", Col::kAction},
    };
    for (const auto& [name, col] : kNames) {
      if (n == name) return col;
    }
    return Col::kNone;
  }

  // Splits one CSV record (RFC 4180 quotes, no embedded newlines) into fields_.
  bool Split(std::string_view line) {
    fields_.clear();
    unquoted_.clear();
    size_t pos = 0;
    for (;;) {
      if (pos < line.size() && line[pos] == '"') {
        std::string& f = unquoted_.emplace_back();
        ++pos;
        for (;;) {
          if (pos >= line.size()) return false;
          if (line[pos] == '"') {
            if (pos + 1 < line.size() && line[pos + 1] == '"') {
              f += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          f += line[pos++];
        }
        fields_.push_back(kQuoted + unquoted_.size() - 1);
        if (pos < line.size() && line[pos] != sep_) return false;
      } else {
        size_t e = line.find(sep_, pos);
        if (e == std::string_view::npos) e = line.size();
        plain_.resize(fields_.size() + 1);
        plain_[fields_.size()] = line.substr(pos, e - pos);
        fields_.push_back(fields_.size());
        pos = e;
      }
      if (pos >= line.size()) return true;
      ++pos;  // separator
      if (fields_.size() > 4096) return false;
    }
  }

  std::string_view FieldAt(size_t i) const {
    size_t f = fields_[i];
    if (f >= kQuoted) return unquoted_[f - kQuoted];
    return plain_[i];
  }

  static bool AlertAction(std::string_view v) {
    const std::string a = AsciiLower(v);
    return a == "block" || a == "blocked" || a == "deny" || a == "denied" || a == "drop" ||
           a == "dropped" || a == "reject" || a == "rejected" || a == "alert" || a == "detected" ||
           a == "prevented";
  }

  Status DoParse(std::string_view line, ParsedLine* out) override {
    if (line.empty()) {
      out->ignored = true;
      return Status::Ok();
    }
    if (cols_.empty()) {  // the header
      size_t commas = 0, semis = 0, tabs = 0;
      for (char c : line) {
        commas += c == ',';
        semis += c == ';';
        tabs += c == '\t';
      }
      sep_ = tabs > commas && tabs > semis ? '\t' : (semis > commas ? ';' : ',');
      if (!Split(line)) return InvalidArgumentError("unparsable CSV header");
      bool any = false;
      for (size_t i = 0; i < fields_.size(); ++i) {
        cols_.push_back(ColumnOf(FieldAt(i)));
        any = any || (cols_.back() != Col::kNone && cols_.back() != Col::kTime);
      }
      if (!any) {
        cols_.clear();
        return InvalidArgumentError("CSV header names no address, host, URL or hash column");
      }
      out->ignored = true;
      return Status::Ok();
    }
    if (!Split(line)) return InvalidArgumentError("unterminated quoted field");
    if (fields_.size() != cols_.size()) {
      return InvalidArgumentError("expected " + std::to_string(cols_.size()) + " fields, got " +
                                  std::to_string(fields_.size()));
    }
    std::string_view client;
    bool alert = false;
    for (size_t i = 0; i < cols_.size(); ++i) {
      std::string_view v = FieldAt(i);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      if (Unset(v)) continue;
      switch (cols_[i]) {
        case Col::kTime:
          if (out->time == 0 && !ParseAnyTime(v, &out->time))
            return InvalidArgumentError("bad time");
          break;
        case Col::kClient:
          if (client.empty()) client = v;
          out->observables.push_back({Field::kClient, ValueKind::kIp, v});
          break;
        case Col::kServer:
          out->observables.push_back({Field::kServer, ValueKind::kIp, v});
          break;
        case Col::kHost:
          out->observables.push_back({Field::kHost, ValueKind::kHostOrIp, v});
          break;
        case Col::kUrl:
          if (IsAbsoluteUrl(v)) out->observables.push_back({Field::kUrl, ValueKind::kUrl, v});
          break;
        case Col::kHash:
          out->observables.push_back({Field::kHash, ValueKind::kHash, v});
          break;
        case Col::kAlert:
          alert = true;
          break;
        case Col::kAction:
          alert = alert || AlertAction(v);
          break;
        case Col::kNone:
          break;
      }
    }
    if (alert && !client.empty()) out->alert_client = client;
    return Status::Ok();
  }

  static constexpr size_t kQuoted = size_t{1} << 40;
  char sep_ = ',';
  std::vector<Col> cols_;
  std::vector<size_t> fields_;
  std::vector<std::string_view> plain_;
  std::vector<std::string> unquoted_;
};

}  // namespace

std::unique_ptr<LineParser> NewCombinedParser(LogFormat format) {
  return std::make_unique<CombinedParser>(format);
}
std::unique_ptr<LineParser> NewModsecNativeParser() {
  return std::make_unique<ModsecNativeParser>();
}
std::unique_ptr<LineParser> NewZeekParser() { return std::make_unique<ZeekParser>(); }
std::unique_ptr<LineParser> NewCsvParser() { return std::make_unique<CsvParser>(); }

}  // namespace iocgrid::sift::internal
