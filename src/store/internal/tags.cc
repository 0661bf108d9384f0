#include "store/internal/tags.h"

#include <algorithm>
#include <unordered_set>

#include "common/ascii.h"
#include "sqlite/api_key.h"

namespace iocgrid::store::internal {

std::vector<std::string> NormalizeTags(const std::vector<std::string>& a,
                                       const std::vector<std::string>* b) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto add = [&](const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      if (name.empty()) continue;
      if (seen.insert(AsciiLower(name)).second) out.push_back(name);
    }
  };
  add(a);
  if (b != nullptr) add(*b);
  std::sort(out.begin(), out.end(), [](const std::string& x, const std::string& y) {
    return AsciiLower(x) < AsciiLower(y);
  });
  return out;
}

bool SameTags(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string TagColour(std::string_view name) {
  const std::string digest = sqlite::Sha256(AsciiLower(name));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string colour = "#";
  for (int i = 0; i < 3; ++i) {
    const auto byte = static_cast<unsigned char>(digest[static_cast<size_t>(i)]);
    colour += kHex[byte >> 4];
    colour += kHex[byte & 0x0f];
  }
  return colour;
}

}  // namespace iocgrid::store::internal
