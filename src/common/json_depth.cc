#include "common/json_depth.h"

#include <string>

namespace iocgrid {

JsonShape ScanJsonShape(std::string_view text, int max_depth_cap) {
  JsonShape shape;
  int depth = 0;
  bool in_string = false;
  bool in_token = false;  // inside a bare number or literal
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        in_token = false;
        ++shape.scalars;
        break;
      case '[':
      case '{':
        in_token = false;
        if (++depth > shape.max_depth) {
          shape.max_depth = depth;
          if (depth > max_depth_cap) return shape;
        }
        break;
      case ']':
      case '}':
        in_token = false;
        if (depth > 0) --depth;
        break;
      case ',':
      case ':':
      case ' ':
      case '\t':
      case '\r':
      case '\n':
        in_token = false;
        break;
      default:
        if (!in_token) ++shape.scalars;
        in_token = true;
    }
  }
  return shape;
}

Status CheckJsonDepth(std::string_view text, int max_depth) {
  if (ScanJsonShape(text, max_depth).max_depth <= max_depth) return Status();
  return InvalidArgumentError("JSON nested deeper than " + std::to_string(max_depth) + " levels");
}

}  // namespace iocgrid
