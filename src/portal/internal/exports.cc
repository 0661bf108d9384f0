#include "portal/internal/exports.h"

#include <sodium.h>

#include <ctime>
#include <string>

#include "common/csv.h"
#include "core/indicator.h"

namespace iocgrid::portal::internal {

using json = nlohmann::json;

namespace {

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string IsoTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

}  // namespace

std::string StableUuid(const std::string& text) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  h[6] = static_cast<unsigned char>((h[6] & 0x0f) | 0x50);
  h[8] = static_cast<unsigned char>((h[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[h[i] >> 4];
    out += kHex[h[i] & 0xf];
  }
  return out;
}

namespace {

std::string StixEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string StixPattern(const std::string& type, const std::string& value) {
  auto eq = [](const std::string& path, const std::string& v) {
    return "[" + path + " = '" + StixEscape(v) + "']";
  };
  std::string left = value, right;
  if (size_t bar = value.find('|'); bar != std::string::npos) {
    left = value.substr(0, bar);
    right = value.substr(bar + 1);
  }
  if (type == "ip-src" || type == "ip-dst" || type == "ip-src|port" || type == "ip-dst|port") {
    return eq(left.find(':') != std::string::npos ? "ipv6-addr:value" : "ipv4-addr:value", left);
  }
  if (type == "domain" || type == "hostname" || type == "hostname|port")
    return eq("domain-name:value", left);
  if (type == "domain|ip") return eq("domain-name:value", left);
  if (type == "url" || type == "link") return eq("url:value", value);
  if (type.find("email") != std::string::npos) return eq("email-addr:value", value);
  static const std::pair<const char*, const char*> kHashes[] = {
      {"md5", "MD5"},        {"sha1", "SHA-1"},     {"sha256", "SHA-256"}, {"sha512", "SHA-512"},
      {"sha224", "SHA-224"}, {"sha384", "SHA-384"}, {"ssdeep", "SSDEEP"},  {"tlsh", "TLSH"}};
  for (const auto& [misp, stix] : kHashes) {
    if (type == misp)
      return "[file:hashes.'" + std::string(stix) + "' = '" + StixEscape(value) + "']";
    if (type == std::string("filename|") + misp) {
      return "[file:name = '" + StixEscape(left) + "' AND file:hashes.'" + stix + "' = '" +
             StixEscape(right) + "']";
    }
  }
  if (type == "filename") return eq("file:name", value);
  if (type == "AS") return "[autonomous-system:number = " + value + "]";
  return {};
}

std::string ExportCsv(const json& d) {
  std::string out =
      "query,query_type,member,relation,matched,type,category,event_info,event_date,first_seen,"
      "last_seen,to_ids,tags,time_gap\n";
  for (const auto& ind : d["indicators"]) {
    for (const auto& h : ind["hits"]) {
      std::string tags;
      if (h.contains("tags")) {
        for (const auto& t : h["tags"]) tags += (tags.empty() ? "" : ";") + t.get<std::string>();
      }
      out += CsvField(Str(ind, "value")) + "," + CsvField(Str(ind, "type")) + "," +
             CsvField(Str(h, "member")) + "," + CsvField(Str(h, "relation")) + "," +
             CsvField(Str(h, "matched")) + "," + CsvField(Str(h, "type")) + "," +
             CsvField(Str(h, "category")) + "," + CsvField(Str(h, "event_info")) + "," +
             CsvField(Str(h, "event_date")) + "," + CsvField(Str(h, "first_seen")) + "," +
             CsvField(Str(h, "last_seen")) + "," + (h.value("to_ids", false) ? "1" : "0") + "," +
             CsvField(tags) + "," + (h.value("time_gap", false) ? "1" : "0") + "\n";
    }
  }
  return out;
}

json ExportMispEvent(const json& d) {
  int64_t created = d.value("created", int64_t{0});
  json attributes = json::array();
  for (const auto& ind : d["indicators"]) {
    std::string type = Str(ind, "type");
    auto t = core::TypeFromName(type);
    json tags = json::array();
    std::string comment;
    for (const auto& h : ind["hits"]) {
      std::string tag = "iocgrid:member=\"" + Str(h, "member") + "\"";
      bool seen = false;
      for (const auto& existing : tags) seen |= existing["name"] == tag;
      if (!seen) tags.push_back({{"name", tag}});
      comment += (comment.empty() ? "" : "; ") + Str(h, "member") + " " + Str(h, "relation");
      if (!Str(h, "matched").empty()) comment += " " + Str(h, "matched");
      if (!Str(h, "event_info").empty()) comment += " (" + Str(h, "event_info") + ")";
    }
    if (ind.value("held_by", 0) > 0 && ind["hits"].empty()) {
      comment = "held by " + std::to_string(ind.value("held_by", 0)) + " member(s)";
    }
    json a = {{"uuid", StableUuid(d.value("id", "") + "/" + Str(ind, "normalized") + "/" + type)},
              {"type", type},
              {"category", t ? std::string(core::DefaultCategory(*t)) : "Other"},
              {"value", Str(ind, "normalized")},
              {"to_ids", t ? core::DefaultToIds(*t) : false},
              {"comment", comment.empty() ? "no member holds it" : "iocgrid: " + comment},
              {"timestamp", std::to_string(created)}};
    if (!tags.empty()) a["Tag"] = tags;
    attributes.push_back(a);
  }
  std::string info = "iocgrid search " + d.value("id", "");
  if (!Str(d, "label").empty()) info += ": " + Str(d, "label");
  char date[16];
  time_t tt = static_cast<time_t>(created);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
  json tags = json::array({{{"name", "iocgrid:search"}}});
  if (!Str(d, "tlp").empty()) tags.push_back({{"name", "tlp:" + Str(d, "tlp")}});
  return {{"Event",
           {{"uuid", StableUuid("event/" + d.value("id", ""))},
            {"info", info},
            {"date", date},
            {"distribution", "0"},
            {"threat_level_id", "4"},
            {"analysis", "0"},
            {"published", false},
            {"timestamp", std::to_string(created)},
            {"Attribute", attributes},
            {"Tag", tags}}}};
}

json ExportStixBundle(const json& d) {
  int64_t created = d.value("created", int64_t{0});
  std::string now = IsoTime(created);
  std::string identity = "identity--" + StableUuid("iocgrid-portal");
  json objects = json::array();
  objects.push_back({{"type", "identity"},
                     {"spec_version", "2.1"},
                     {"id", identity},
                     {"created", now},
                     {"modified", now},
                     {"name", "iocgrid portal"},
                     {"identity_class", "system"}});
  for (const auto& ind : d["indicators"]) {
    std::string pattern = StixPattern(Str(ind, "type"), Str(ind, "normalized"));
    if (pattern.empty()) continue;
    std::string id = "indicator--" + StableUuid(d.value("id", "") + "/" + Str(ind, "normalized"));
    objects.push_back({{"type", "indicator"},
                       {"spec_version", "2.1"},
                       {"id", id},
                       {"created", now},
                       {"modified", now},
                       {"created_by_ref", identity},
                       {"name", Str(ind, "value")},
                       {"pattern", pattern},
                       {"pattern_type", "stix"},
                       {"valid_from", now},
                       {"labels", {Str(ind, "type")}}});
    for (const auto& h : ind["hits"]) {
      json s = {
          {"type", "sighting"},
          {"spec_version", "2.1"},
          {"id", "sighting--" + StableUuid(id + "/" + Str(h, "member") + "/" + Str(h, "matched") +
                                           "/" + Str(h, "event_uuid"))},
          {"created", now},
          {"modified", now},
          {"created_by_ref", identity},
          {"sighting_of_ref", id},
          {"count", 1},
          {"description", "held by member " + Str(h, "member") + " (" + Str(h, "relation") +
                              (Str(h, "matched").empty() ? "" : ": " + Str(h, "matched")) + ")"}};
      if (!Str(h, "first_seen").empty()) s["first_seen"] = Str(h, "first_seen");
      if (!Str(h, "last_seen").empty()) s["last_seen"] = Str(h, "last_seen");
      objects.push_back(s);
    }
  }
  return {{"type", "bundle"},
          {"id", "bundle--" + StableUuid("bundle/" + d.value("id", ""))},
          {"objects", objects}};
}

}  // namespace iocgrid::portal::internal
