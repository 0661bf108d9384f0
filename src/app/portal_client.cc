#include "app/portal_client.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "core/indicator_type.h"
#include "ingest/query_reader.h"

namespace iocgrid::app {

using json = nlohmann::json;

Result<net::ClientResponse> PortalCall(const PortalConnection& portal, const std::string& method,
                                       const std::string& path, const std::string& body,
                                       const std::string& content_type) {
  net::ClientRequest req;
  req.method = method;
  req.url = portal.url + path;
  req.body = body;
  req.headers = {{"Authorization", portal.key},
                 {"Accept", "application/json"},
                 {"Content-Type", content_type}};
  req.verify_tls = !portal.insecure;
  req.ca_file = portal.ca_file;
  req.timeout = std::chrono::seconds(60);
  return net::Fetch(req);
}

Result<ingest::QueryFile> ParseQueryList(const std::string& path, const std::string& content,
                                         bool quiet) {
  ingest::QueryFile q = ingest::ParseQueries(path, content);
  if (q.items.empty()) {
    return InvalidArgumentError("no valid indicator in " + path +
                                (q.issues.empty()
                                     ? std::string()
                                     : " (" + std::to_string(q.issues.size()) +
                                           " lines are not indicators): if it is report text, "
                                           "give --from-text to extract its indicators"));
  }
  for (const auto& issue : q.issues) {
    if (!quiet) {
      std::fprintf(stderr, "%s:%u: %s\n", issue.path.c_str(), issue.line, issue.message.c_str());
    }
  }
  return q;
}

Result<json> QueryInputBody(const std::string& path, bool from_text, bool quiet) {
  IOCGRID_ASSIGN_OR_RETURN(std::string content, ingest::ReadQueryText(path));
  if (from_text) return json{{"text", std::move(content)}};
  IOCGRID_ASSIGN_OR_RETURN(ingest::QueryFile q, ParseQueryList(path, content, quiet));
  json list = json::array();
  for (const auto& item : q.items) {
    json i = {{"value", item.raw}, {"type", core::TypeName(item.indicator.type)}};
    if (!item.date.empty()) i["date"] = item.date;
    list.push_back(i);
  }
  return json{{"indicators", std::move(list)}};
}

std::string PortalApiError(const net::ClientResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    return fmt::format("portal answered {}: {}", r.status, j["message"].get<std::string>());
  }
  return fmt::format("portal answered {}", r.status);
}

Result<json> RunPortalSearch(const PortalConnection& portal, const json& body, int timeout_s,
                             bool progress, std::string* id) {
  auto created = PortalCall(portal, "POST", "/api/v1/searches", body.dump());
  if (!created.ok()) return created.status();
  if (created->status != 201) return UnavailableError(PortalApiError(*created));
  json created_doc = json::parse(created->body, nullptr, false);
  *id = created_doc.is_object() ? created_doc.value("id", "") : "";
  if (id->empty()) return UnavailableError("the portal's answer holds no search id");

  bool tty = progress && isatty(STDERR_FILENO) != 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  json doc;
  for (;;) {
    auto r = PortalCall(portal, "GET", "/api/v1/searches/" + *id);
    if (!r.ok()) return r.status();
    if (r->status != 200) return UnavailableError(PortalApiError(*r));
    doc = json::parse(r->body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return UnavailableError("the portal sent invalid JSON");
    }
    const json& p = doc["progress"];
    if (tty) {
      size_t total = p.value("members_total", 0), done = p.value("members_done", 0);
      std::string bar(20, ' ');
      for (size_t i = 0; total && i < 20 * done / total; ++i) bar[i] = '#';
      std::fprintf(stderr, "\r[%s] %zu/%zu members answered, %llu hit(s)", bar.c_str(), done, total,
                   static_cast<unsigned long long>(p.value("hits", 0)));
    }
    if (doc.value("status", "") != "running") break;
    if (std::chrono::steady_clock::now() > deadline) {
      if (tty) std::fprintf(stderr, "\n");
      return Status(StatusCode::kDeadlineExceeded,
                    "search " + *id + " still running after " + std::to_string(timeout_s) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  return doc;
}

void PrintMemberStatuses(const json& doc) {
  if (!doc.contains("members") || !doc["members"].is_array()) return;
  for (const auto& m : doc["members"]) {
    std::string err = m.value("error", "");
    std::fprintf(
        stderr, "member %-14s %-9s %5lld ms %s%s\n", m.value("member", "").c_str(),
        m.value("status", "").c_str(), static_cast<long long>(m.value("elapsed_ms", 0)),
        m["hits"].is_number() ? fmt::format("{} hit(s)", m["hits"].get<uint64_t>()).c_str() : "",
        err.empty() ? "" : ("  " + err).c_str());
  }
}

}  // namespace iocgrid::app
