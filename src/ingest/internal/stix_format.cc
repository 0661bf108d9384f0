// STIX 2.1 bundles: the indicators' patterns for simple comparisons become attributes
// ("[ipv4-addr:value = '198.51.100.7']", "[file:hashes.'SHA-256' = '...']", joined by OR or AND).
// Anything a pattern holds beyond `path = 'value'` comparisons (LIKE, MATCHES, IN, qualifiers
// such as WITHIN) is reported and skipped: an exact-match store cannot honour it.
#include <simdjson.h>

#include <string>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/json_depth.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "ingest/internal/formats.h"

namespace iocgrid::ingest::internal {
namespace {

struct Comparison {
  std::string path;   // e.g. "ipv4-addr:value", "file:hashes.'SHA-256'"
  std::string value;  // unquoted, unescaped
};

// Splits a STIX pattern into its `path = value` comparisons. Returns false (with *why) when the
// pattern holds an operator other than `=` or a qualifier.
bool ParsePattern(std::string_view p, std::vector<Comparison>* out, std::string* why) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < p.size() && IsAsciiSpace(p[i])) ++i;
  };
  while (i < p.size()) {
    skip_space();
    if (i >= p.size()) break;
    char c = p[i];
    if (c == '[' || c == ']' || c == '(' || c == ')') {
      ++i;
      continue;
    }
    // Keywords between comparisons.
    auto word_at = [&](std::string_view w) {
      return p.substr(i, w.size()) == w && (i + w.size() == p.size() || p[i + w.size()] == ' ' ||
                                            p[i + w.size()] == '[' || p[i + w.size()] == '(');
    };
    if (word_at("OR") || word_at("AND")) {
      i += word_at("OR") ? 2 : 3;
      continue;
    }
    if (word_at("FOLLOWEDBY") || word_at("WITHIN") || word_at("REPEATS") || word_at("START") ||
        word_at("STOP") || word_at("NOT")) {
      *why = "qualifiers and NOT are not supported";
      return false;
    }
    // A comparison: object-path, operator, literal.
    size_t start = i;
    while (i < p.size() && p[i] != ' ' && p[i] != '=' && p[i] != '!' && p[i] != '<' &&
           p[i] != '>') {
      if (p[i] == '\'') {  // quoted path component: hashes.'SHA-256'
        ++i;
        while (i < p.size() && p[i] != '\'') ++i;
      }
      ++i;
    }
    std::string path(p.substr(start, i - start));
    skip_space();
    if (i >= p.size() || p[i] != '=') {
      *why = "only '=' comparisons are supported (near '" + path + "')";
      return false;
    }
    ++i;
    skip_space();
    std::string value;
    if (i < p.size() && p[i] == '\'') {
      ++i;
      while (i < p.size() && p[i] != '\'') {
        if (p[i] == '\\' && i + 1 < p.size()) ++i;
        value += p[i++];
      }
      if (i >= p.size()) {
        *why = "unterminated string";
        return false;
      }
      ++i;
    } else {
      size_t v = i;
      while (i < p.size() && p[i] != ' ' && p[i] != ']' && p[i] != ')') ++i;
      value = std::string(p.substr(v, i - v));
    }
    if (path.empty() || value.empty()) {
      *why = "empty comparison";
      return false;
    }
    out->push_back(Comparison{std::move(path), std::move(value)});
  }
  if (out->empty()) *why = "no comparison";
  return !out->empty();
}

// The MISP type for a STIX object path; empty when unsupported.
std::string TypeForPath(const std::string& path, const std::string& value) {
  const std::string lower = AsciiLower(path);
  if (lower == "ipv4-addr:value" || lower == "ipv6-addr:value") return "ip-dst";
  if (lower == "domain-name:value") {
    size_t dots = 0;
    for (char c : value) dots += c == '.';
    return dots >= 2 ? "hostname" : "domain";
  }
  if (lower == "url:value") return "url";
  if (lower == "email-addr:value") return "email";
  if (lower == "email-message:from_ref.value") return "email-src";
  if (lower == "email-message:subject") return "email-subject";
  if (lower == "file:name") return "filename";
  if (lower == "mutex:name") return "mutex";
  if (lower == "windows-registry-key:key") return "regkey";
  if (lower == "autonomous-system:number") return "AS";
  static const std::pair<const char*, const char*> kHashes[] = {
      {"md5", "md5"},       {"sha-1", "sha1"},       {"sha1", "sha1"},     {"sha-256", "sha256"},
      {"sha256", "sha256"}, {"sha-512", "sha512"},   {"sha512", "sha512"}, {"ssdeep", "ssdeep"},
      {"tlsh", "tlsh"},     {"sha3-256", "sha3-256"}};
  for (const char* prefix : {"file:hashes.", "artifact:hashes."}) {
    if (lower.rfind(prefix, 0) != 0) continue;
    std::string algo = lower.substr(std::string_view(prefix).size());
    if (algo.size() >= 2 && algo.front() == '\'' && algo.back() == '\'')
      algo = algo.substr(1, algo.size() - 2);
    for (const auto& [name, type] : kHashes) {
      if (algo == name) return type;
    }
  }
  if (lower.rfind("x509-certificate:hashes.", 0) == 0) {
    if (lower.find("sha-1") != std::string::npos || lower.find("sha1") != std::string::npos)
      return "x509-fingerprint-sha1";
    if (lower.find("sha-256") != std::string::npos || lower.find("sha256") != std::string::npos)
      return "x509-fingerprint-sha256";
    if (lower.find("md5") != std::string::npos) return "x509-fingerprint-md5";
  }
  return {};
}

std::string Text(simdjson::dom::object o, const char* key) {
  std::string_view s;
  if (o[key].get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return {};
}

}  // namespace

bool LooksLikeStixBundle(std::string_view json) {
  std::string_view head = json.substr(0, 4096);
  size_t t = head.find("\"bundle\"");
  return t != std::string_view::npos && head.find("\"type\"") != std::string_view::npos &&
         (head.find("\"objects\"") != std::string_view::npos ||
          head.find("\"spec_version\"") != std::string_view::npos ||
          head.find("bundle--") != std::string_view::npos);
}

// The attributes of one STIX indicator object (one per comparison of its pattern); what
// cannot be imported is reported as skipped, naming the object's position in the bundle.
void AddStixIndicator(const LoadContext& context, simdjson::dom::object o, uint32_t position,
                      Event* event) {
  std::string pattern_type = Text(o, "pattern_type");
  if (!pattern_type.empty() && pattern_type != "stix") {
    context.Skip(0, "indicator " + std::to_string(position) + ": pattern_type '" + pattern_type +
                        "' is not a STIX pattern");
    return;
  }
  std::string pattern = Text(o, "pattern");
  std::vector<Comparison> comparisons;
  std::string why;
  if (!ParsePattern(pattern, &comparisons, &why)) {
    context.Skip(0, "indicator " + std::to_string(position) + ": " + why + ": " +
                        std::string(TruncateUtf8(pattern, 120)));
    return;
  }
  std::string id = Text(o, "id");
  std::string comment = Text(o, "name");
  std::string description = Text(o, "description");
  if (!description.empty()) {
    comment += (comment.empty() ? "" : ": ") + std::string(TruncateUtf8(description, 200));
  }
  std::vector<std::string> tags;
  for (const char* list : {"labels", "indicator_types"}) {
    simdjson::dom::array a;
    if (o[list].get_array().get(a) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element t : a) {
      std::string_view s;
      if (t.get_string().get(s) == simdjson::SUCCESS) tags.emplace_back(s);
    }
  }
  for (const Comparison& c : comparisons) {
    std::string misp_type = TypeForPath(c.path, c.value);
    if (misp_type.empty()) {
      context.Skip(0, "indicator " + std::to_string(position) + ": unsupported object path '" +
                          c.path + "'");
      continue;
    }
    auto indicator = core::ParseIndicator(misp_type, c.value);
    if (!indicator.ok()) {
      context.Skip(0, "indicator " + std::to_string(position) + ": " +
                          std::string(indicator.status().message()));
      continue;
    }
    Attribute a;
    a.indicator = std::move(*indicator);
    a.to_ids = true;
    a.comment = comment;
    a.tags = tags;
    a.first_seen = Text(o, "valid_from");
    a.last_seen = Text(o, "valid_until");
    // One comparison: the attribute is the indicator, keep its uuid for idempotent re-imports.
    if (comparisons.size() == 1 && id.rfind("indicator--", 0) == 0) a.uuid = id.substr(11);
    event->attributes.push_back(std::move(a));
  }
}

Status LoadStixBundle(const LoadContext& context, std::string_view content) {
  IOCGRID_RETURN_IF_ERROR(CheckJsonDepth(content));  // issue 8: bounded before parsing
  simdjson::dom::parser parser;
  simdjson::padded_string padded(content);
  simdjson::dom::element doc;
  if (auto error = parser.parse(padded).get(doc)) {
    return InvalidArgumentError(std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object bundle;
  std::string_view type;
  if (doc.get_object().get(bundle) != simdjson::SUCCESS ||
      bundle["type"].get_string().get(type) != simdjson::SUCCESS || type != "bundle") {
    return InvalidArgumentError("not a STIX 2.1 bundle (no top-level \"type\": \"bundle\")");
  }
  simdjson::dom::array objects;
  if (bundle["objects"].get_array().get(objects) != simdjson::SUCCESS) {
    return InvalidArgumentError("a STIX bundle needs an \"objects\" list");
  }
  Event event;
  event.info = context.FileName();
  event.source = std::string(context.path());
  std::string bundle_id = Text(bundle, "id");
  if (bundle_id.rfind("bundle--", 0) == 0) event.uuid = bundle_id.substr(8);
  uint64_t others = 0;
  uint32_t position = 0;
  for (simdjson::dom::element element : objects) {
    ++position;
    simdjson::dom::object o;
    if (element.get_object().get(o) != simdjson::SUCCESS) continue;
    if (Text(o, "type") != "indicator") {
      ++others;
      continue;
    }
    AddStixIndicator(context, o, position, &event);
  }
  if (others > 0) {
    context.Note(
        0, std::to_string(others) + " STIX object(s) that are not indicators were not imported");
  }
  context.Emit(std::move(event));
  return Status();
}

}  // namespace iocgrid::ingest::internal
