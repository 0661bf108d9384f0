#include "net/router.h"

#include <algorithm>

#include "net/http_error.h"

namespace iocgrid::net {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

void Router::Add(std::vector<std::string> methods, std::string_view pattern, Handler handler) {
  routes_.push_back(Route{std::move(methods), SplitPath(pattern), std::move(handler)});
}

Response Router::Dispatch(Request& request) const {
  std::vector<std::string> segments = SplitPath(request.path);
  // MISP accepts a ".json" suffix on any path (misp-api.md section 9).
  if (!segments.empty()) {
    std::string& last = segments.back();
    if (last.size() > 5 && last.compare(last.size() - 5, 5, ".json") == 0) {
      last.resize(last.size() - 5);
    }
  }
  bool path_matched = false;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& p = route.segments[i];
      if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = segments[i];
      } else {
        ok = p == segments[i];
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (std::find(route.methods.begin(), route.methods.end(), request.method) ==
        route.methods.end()) {
      continue;
    }
    request.params = std::move(params);
    return route.handler(request);
  }
  if (path_matched) {
    Response r = ErrorResponse(405, "Method Not Allowed", request.path);
    return r;
  }
  return ErrorResponse(404, "Not Found", request.path);
}

}  // namespace iocgrid::net
