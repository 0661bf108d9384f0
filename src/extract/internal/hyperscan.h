// Hyperscan handles and database compilation for the extractor's two Hyperscan passes (the
// refang literals of refang.cc and the candidate anchors of anchors.cc).
//
// Thread-safety: a compiled database is immutable and may be scanned from any thread; a scratch
// serves one scan at a time (Extractor::Impl pools them).
#pragma once

#include <hs/hs.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace iocgrid::extract::internal {

struct HsDatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct HsScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;
using HsScratch = std::unique_ptr<hs_scratch_t, HsScratchDeleter>;

struct Pattern {
  std::string expression;
  unsigned flags;
};

// Compiles `patterns` into one block-mode database in which pattern i reports id i. Patterns
// with an empty expression are left out (anchors found without Hyperscan). Errors: kInternal
// naming the pattern Hyperscan refused.
Result<HsDatabase> Compile(const std::vector<Pattern>& patterns);

// Escapes a literal for a Hyperscan expression (every non-alphanumeric byte as \xHH).
std::string Literal(std::string_view s);

}  // namespace iocgrid::extract::internal
