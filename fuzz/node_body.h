// The first steps of the node's JSON endpoints, as src/node/node.cc ParseBody takes them:
// nlohmann's non-throwing parse, then `{"request": ...}` unwrapped by copy. Kept the same here
// so that the fuzz targets exercise what a request exercises.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace iocgrid::fuzz {

inline std::optional<nlohmann::json> NodeBody(std::string_view text) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return std::nullopt;
  if (body.is_object() && body.contains("request") && body.size() == 1) {
    nlohmann::json inner = body["request"];
    return inner;
  }
  return body;
}

}  // namespace iocgrid::fuzz
