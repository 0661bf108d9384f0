#include "sift/rules.h"

#include <toml++/toml.h>

#include <algorithm>

#include "common/ascii.h"

namespace iocgrid::sift {
namespace {

constexpr std::array<std::string_view, kClassCount> kClassNames = {"threat", "noise", "anonymizer",
                                                                   "benign", "unknown"};

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string w;
  for (char c : text) {
    if (IsAsciiAlnum(c)) {
      w += AsciiToLower(c);
    } else if (!w.empty()) {
      words.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

}  // namespace

std::string_view ClassName(Class c) { return kClassNames[static_cast<size_t>(c)]; }

bool ParseClass(std::string_view name, Class* out) {
  for (size_t i = 0; i < kClassNames.size(); ++i) {
    if (name == kClassNames[i]) {
      *out = static_cast<Class>(i);
      return true;
    }
  }
  return false;
}

Result<Class> ClassRules::ClassOfKind(std::string_view kind) const {
  for (const auto& [name, c] : kinds) {
    if (name == kind) return c;
  }
  return InvalidArgumentError("unknown data kind '" + std::string(kind) + "'");
}

std::string ClassRules::KindOfList(std::string_view path, std::string_view name,
                                   std::string_view fallback) const {
  // The list's own name and file/folder name speak first, the folders above it last.
  std::vector<std::string> words = Words(name);
  std::string_view p = path;
  size_t slash = p.rfind('/');
  std::string_view file = slash == std::string_view::npos ? p : p.substr(slash + 1);
  std::string_view dir = slash == std::string_view::npos ? std::string_view() : p.substr(0, slash);
  if (file == "list.json" || file == "list.txt") {  // warninglist layout: <name>/list.json
    size_t up = dir.rfind('/');
    file = up == std::string_view::npos ? dir : dir.substr(up + 1);
    dir = up == std::string_view::npos ? std::string_view() : dir.substr(0, up);
  }
  for (auto& w : Words(file)) words.push_back(std::move(w));
  size_t near = words.size();
  for (auto& w : Words(dir)) words.push_back(std::move(w));
  // Pass 1: the list's own words; pass 2: its folders.
  for (int pass = 0; pass < 2; ++pass) {
    for (const ListRule& rule : lists) {
      for (size_t i = pass == 0 ? 0 : near; i < (pass == 0 ? near : words.size()); ++i) {
        if (std::find(rule.tokens.begin(), rule.tokens.end(), words[i]) != rule.tokens.end()) {
          return rule.kind;
        }
      }
    }
  }
  return std::string(fallback);
}

Class ClassRules::Decide(std::span<const Class> hit_classes) const {
  for (Class c : precedence) {
    if (std::find(hit_classes.begin(), hit_classes.end(), c) != hit_classes.end()) return c;
  }
  return hit_classes.empty() ? Class::kUnknown : hit_classes.front();
}

ClassRules DefaultRules() {
  ClassRules r;
  r.kinds = {{"threat", Class::kThreat},         {"ioc", Class::kThreat},
             {"honeypot", Class::kNoise},        {"scanner", Class::kNoise},
             {"anonymizer", Class::kAnonymizer}, {"proxy", Class::kAnonymizer},
             {"vpn", Class::kAnonymizer},        {"tor", Class::kAnonymizer},
             {"cloud", Class::kAnonymizer},      {"benign", Class::kBenign},
             {"warninglist", Class::kBenign}};
  r.lists = {
      // scanners and sensors first: "tenable-cloud" is a scanner, not a cloud
      {{"honeypot", "honeypots", "ipsum", "probes", "scanner", "scanners", "tenable", "shodan",
        "censys", "stretchoid", "unauthorized", "bruteforce", "blocklist", "greynoise"},
       "honeypot"},
      {{"tor", "onion", "exit", "exits", "relays"}, "tor"},
      {{"vpn", "tunnels", "tunnel", "relay", "zscaler"}, "vpn"},
      {{"proxy", "proxies"}, "proxy"},
      {{"aws", "amazon", "azure", "gcp", "oci", "oracle", "ovh", "digitalocean", "linode",
        "hetzner", "vultr", "datacenter", "hosting"},
       "cloud"},
      {{"akamai",   "cloudflare", "fastly",    "bunny",   "stackpath", "cdn",
        "crawler",  "crawlers",   "googlebot", "bingbot", "tranco",    "alexa",
        "majestic", "top1000",    "top10k",    "google",  "microsoft", "apple",
        "dns",      "resolvers",  "whats",     "rfc1918", "rfc5735",   "multicast"},
       "benign"},
      {{"threat", "threats", "ioc", "iocs", "malware", "c2", "botnet", "apt", "ransomware"},
       "threat"},
  };
  return r;
}

namespace {

// [[lists]]: token lists put before the built-in ones (the first that matches wins).
Status ParseListRules(const toml::node& node, ClassRules* r) {
  const toml::array* a = node.as_array();
  if (a == nullptr) return InvalidArgumentError("rules: lists must be [[lists]] tables");
  std::vector<ListRule> added;
  for (const auto& e : *a) {
    const toml::table* lt = e.as_table();
    if (lt == nullptr) return InvalidArgumentError("rules: lists must be [[lists]] tables");
    ListRule rule;
    auto kind = (*lt)["kind"].value<std::string>();
    const toml::array* tokens = (*lt)["tokens"].as_array();
    if (!kind || tokens == nullptr) {
      return InvalidArgumentError("rules: each [[lists]] needs tokens = [...] and kind = \"...\"");
    }
    rule.kind = *kind;
    for (const auto& tok : *tokens) {
      auto s = tok.value<std::string>();
      if (!s) return InvalidArgumentError("rules: lists.tokens must be strings");
      rule.tokens.push_back(*s);
    }
    added.push_back(std::move(rule));
  }
  r->lists.insert(r->lists.begin(), added.begin(), added.end());
  return Status::Ok();
}

// [defaults]: the kind of data a source that names none is taken to be.
Status ParseDefaults(const toml::node& node, ClassRules* r) {
  const toml::table* dt = node.as_table();
  if (dt == nullptr) return InvalidArgumentError("rules: [defaults] must be a table");
  for (const auto& [dk, dv] : *dt) {
    auto s = dv.value<std::string>();
    std::string name(dk.str());
    if (!s) return InvalidArgumentError("rules: defaults." + name + " must be a string");
    if (name == "event")
      r->default_event_kind = *s;
    else if (name == "warninglist")
      r->default_warninglist_kind = *s;
    else if (name == "list")
      r->default_list_kind = *s;
    else if (name == "member")
      r->default_member_kind = *s;
    else
      return InvalidArgumentError("rules: unknown key defaults." + name);
  }
  return Status::Ok();
}

}  // namespace

Result<ClassRules> ParseRules(std::string_view toml_text, ClassRules base) {
  toml::table t;
  try {  // toml++ throws on a syntax error (exceptions are on); it stays in this function
    t = toml::parse(toml_text);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError("rules: " + std::string(err.description()) + " at line " +
                                std::to_string(err.source().begin.line));
  }
  ClassRules r = std::move(base);
  auto class_of = [](const toml::node& n, const std::string& where) -> Result<Class> {
    auto s = n.value<std::string>();
    Class c;
    if (!s || !ParseClass(*s, &c)) {
      return InvalidArgumentError("rules: " + where +
                                  " must be threat, noise, anonymizer, benign or unknown");
    }
    return c;
  };
  for (const auto& [key, node] : t) {
    std::string k(key.str());
    if (k == "precedence") {
      const toml::array* a = node.as_array();
      if (a == nullptr) return InvalidArgumentError("rules: precedence must be an array");
      r.precedence.clear();
      for (const auto& e : *a) {
        IOCGRID_ASSIGN_OR_RETURN(Class c, class_of(e, "precedence"));
        r.precedence.push_back(c);
      }
    } else if (k == "kinds") {
      const toml::table* kt = node.as_table();
      if (kt == nullptr) return InvalidArgumentError("rules: [kinds] must be a table");
      for (const auto& [kind, cn] : *kt) {
        IOCGRID_ASSIGN_OR_RETURN(Class c, class_of(cn, "kinds." + std::string(kind.str())));
        std::string name(kind.str());
        auto it = std::find_if(r.kinds.begin(), r.kinds.end(),
                               [&](const auto& p) { return p.first == name; });
        if (it != r.kinds.end())
          it->second = c;
        else
          r.kinds.emplace_back(name, c);
      }
    } else if (k == "lists") {
      IOCGRID_RETURN_IF_ERROR(ParseListRules(node, &r));
    } else if (k == "defaults") {
      IOCGRID_RETURN_IF_ERROR(ParseDefaults(node, &r));
    } else {
      return InvalidArgumentError("rules: unknown key '" + k + "'");
    }
  }
  // Every kind a rule or default names must have a class.
  for (const ListRule& rule : r.lists) {
    IOCGRID_RETURN_IF_ERROR(r.ClassOfKind(rule.kind).status().WithContext("rules: lists"));
  }
  for (const std::string* d : {&r.default_event_kind, &r.default_warninglist_kind,
                               &r.default_list_kind, &r.default_member_kind}) {
    IOCGRID_RETURN_IF_ERROR(r.ClassOfKind(*d).status().WithContext("rules: defaults"));
  }
  return r;
}

}  // namespace iocgrid::sift
