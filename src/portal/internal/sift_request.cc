#include "portal/internal/sift_request.h"

#include <algorithm>
#include <array>
#include <set>

#include "common/ascii.h"
#include "net/http.h"
#include "sift/log_parser.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 11> kParams = {
    "format", "fields", "json_field", "members", "relations", "since",
    "until",  "label",  "tlp",        "shared",  "share"};
constexpr size_t kMaxQueryBytes = 8192;

Status ParamError(std::string_view name, std::string_view what) {
  return InvalidArgumentError("Query parameter '" + std::string(name) + "' " + std::string(what));
}

// "a,b,,c" -> ["a", "b", "c"].
std::vector<std::string> SplitList(std::string_view v) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = std::min(v.find(',', pos), v.size());
    std::string_view item = TrimAscii(v.substr(pos, comma - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return out;
}

Status ApplyLogParam(std::string_view name, const std::string& value, SiftRequest* out) {
  sift::SiftOptions& o = out->options;
  if (name == "format") {
    if (!sift::ParseLogFormat(value, &o.format)) {
      return ParamError(name,
                        "must be auto, combined, common, json, eve, modsec, zeek or csv; got '" +
                            Printable(value) + "'.");
    }
    out->normalized["format"] = std::string(sift::LogFormatName(o.format));
  } else if (name == "fields") {
    o.fields = 0;
    json list = json::array();
    for (const std::string& f : SplitList(value)) {
      sift::Field field;
      if (!sift::ParseField(f, &field)) {
        return ParamError(name, "holds the unknown field '" + Printable(f) +
                                    "' (client, server, host, url, dns, sni, hash).");
      }
      o.fields |= sift::FieldBit(field);
      list.push_back(f);
    }
    if (o.fields == 0) return ParamError(name, "names no field.");
    out->normalized["fields"] = list;
  } else {  // json_field
    Status s = o.parser.json_fields.Override(value);
    if (!s.ok()) return ParamError(name, "is not usable: " + std::string(s.message()));
    out->normalized["json_field"] = value;
  }
  return Status::Ok();
}

Status ApplySearchParam(std::string_view name, const std::string& value, SiftRequest* out) {
  if (name == "members" || name == "relations") {
    std::vector<std::string> list = SplitList(value);
    if (list.empty()) return ParamError(name, "names nothing.");
    out->search[std::string(name)] = list;
    out->normalized[std::string(name)] = list;
  } else if (name == "shared") {
    if (value != "true" && value != "false") return ParamError(name, "must be true or false.");
    out->search["shared"] = value == "true";
    out->normalized["shared"] = value == "true";
  } else if (name == "share") {
    IOCGRID_ASSIGN_OR_RETURN(ShareMode mode, ParseShareMode(value));
    out->share = mode;
    out->normalized["share"] = std::string(ShareModeName(mode));
  } else if (name == "label") {
    out->label = value;
    out->normalized["label"] = value;
  } else {  // since, until, tlp: checked as POST /api/v1/searches checks them
    out->search[std::string(name)] = value;
    out->normalized[std::string(name)] = value;
  }
  return Status::Ok();
}

}  // namespace

Result<SiftRequest> ParseSiftQuery(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return InvalidArgumentError("The query string is longer than " +
                                std::to_string(kMaxQueryBytes) + " bytes.");
  }
  SiftRequest out;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, value] : net::QueryItems(query)) {
    if (std::find(kParams.begin(), kParams.end(), name) == kParams.end()) {
      return InvalidArgumentError("Unknown query parameter '" + Printable(name) +
                                  "' (format, fields, json_field, members, relations, since, "
                                  "until, label, tlp, shared, share).");
    }
    if (!seen.insert(name).second) return ParamError(name, "is given twice.");
    if (value.empty()) return ParamError(name, "is empty.");
    if (name == "format" || name == "fields" || name == "json_field") {
      IOCGRID_RETURN_IF_ERROR(ApplyLogParam(name, value, &out));
    } else {
      IOCGRID_RETURN_IF_ERROR(ApplySearchParam(name, value, &out));
    }
  }
  out.search["label"] = out.label.empty() ? std::string("sift") : "sift: " + out.label;
  return out;
}

Status CheckSiftContentType(std::string_view content_type, std::string_view content_encoding) {
  std::string type = AsciiLower(TrimAscii(content_type.substr(0, content_type.find(';'))));
  static const std::set<std::string, std::less<>> kTypes = {"",
                                                            "application/octet-stream",
                                                            "text/plain",
                                                            "text/csv",
                                                            "text/x-log",
                                                            "application/json",
                                                            "application/x-ndjson",
                                                            "application/jsonl",
                                                            "application/gzip",
                                                            "application/x-gzip"};
  if (kTypes.count(type) == 0) {
    return InvalidArgumentError(
        "Unsupported Content-Type '" + Printable(type) +
        "': send the log itself as the body (application/octet-stream, text/plain or "
        "application/gzip), not a form.");
  }
  std::string encoding = AsciiLower(TrimAscii(content_encoding));
  if (!encoding.empty() && encoding != "gzip" && encoding != "identity") {
    return InvalidArgumentError("Unsupported Content-Encoding '" + Printable(encoding) +
                                "' (gzip, or none).");
  }
  return Status::Ok();
}

}  // namespace iocgrid::portal::internal
