#include "extract/internal/hyperscan.h"

#include "extract/internal/text.h"

namespace iocgrid::extract::internal {

Result<HsDatabase> Compile(const std::vector<Pattern>& patterns) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (patterns[i].expression.empty()) continue;  // an anchor found without Hyperscan
    exprs.push_back(patterns[i].expression.c_str());
    flags.push_back(patterns[i].flags);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    std::string msg = "hyperscan: ";
    msg += err != nullptr && err->message != nullptr ? err->message : "compile failed";
    if (err != nullptr && err->expression >= 0) {
      msg += " in pattern " + patterns[static_cast<size_t>(err->expression)].expression;
    }
    hs_free_compile_error(err);
    return InternalError(msg);
  }
  return HsDatabase(db);
}

std::string Literal(std::string_view s) {
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    if (IsAlnum(c)) {
      out += c;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace iocgrid::extract::internal
