// Router: maps (method, path pattern) to handlers. Patterns are literal segments and "{name}"
// parameters ("/events/view/{id}"); a ".json" suffix on the last segment of a request path is
// ignored, as MISP does. Unknown paths get 404 and known paths with another method 405, both
// with MISP's error body.
//
// Thread-safety: build it on one thread, then Dispatch concurrently (const).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"

namespace iocgrid::net {

class Router {
 public:
  // `methods` is a list like {"GET", "HEAD"}. Later routes never shadow earlier ones.
  void Add(std::vector<std::string> methods, std::string_view pattern, Handler handler);
  Response Dispatch(Request& request) const;

 private:
  struct Route {
    std::vector<std::string> methods;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace iocgrid::net
