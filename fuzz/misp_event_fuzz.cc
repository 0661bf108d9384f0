// libFuzzer target for MISP event JSON (issue 8), read by both of its parsers: the importer
// (ingest::LoadContent as misp: one event, a list, {"response": [...]}, simdjson) and the node's
// events/add and attributes/add bodies (node::ParseEventJson / ParseAttributeJson, nlohmann).
// Properties: no crash, no exception, no hang; every attribute either parser accepts is normalized.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "fuzz/node_body.h"
#include "node/internal/misp_dto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::LoadAndCheck("event.json", text, ingest::InputFormat::kMispEvent);

  auto body = fuzz::NodeBody(text);
  if (!body) return 0;
  for (bool require_info : {true, false}) {  // events/add, events/edit
    auto event = node::ParseEventJson(*body, require_info);
    if (event.ok()) {
      for (const auto& a : event->attributes) fuzz::CheckNormalized(a.indicator);
    }
  }
  // attributes/add: one attribute or a list of them.
  const nlohmann::json items = body->is_array() ? *body : nlohmann::json::array({*body});
  for (const nlohmann::json& item : items) {
    auto attribute = node::ParseAttributeJson(item);
    if (attribute.ok()) fuzz::CheckNormalized(attribute->indicator);
  }
  return 0;
}
