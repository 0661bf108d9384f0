// The relations' names (match_index.h): what the CLI, the grid API and the portal read and write.
#include <string>
#include <string_view>

#include "index/match_index.h"

namespace iocgrid::index {

std::string_view RelationName(Relation relation) {
  switch (relation) {
    case Relation::kExact:
      return "exact";
    case Relation::kComponent:
      return "component";
    case Relation::kUrlHost:
      return "url-host";
    case Relation::kSubdomain:
      return "subdomain";
    case Relation::kInRange:
      return "in-range";
  }
  return "unknown";
}

bool ParseRelation(std::string_view name, Relation* out) {
  for (int i = 0; i < kRelationCount; ++i) {
    auto relation = static_cast<Relation>(i);
    if (RelationName(relation) == name) {
      *out = relation;
      return true;
    }
  }
  return false;
}

Status AddRelation(std::string_view name, RelationMask* mask) {
  Relation r;
  if (!ParseRelation(name, &r)) {
    return InvalidArgumentError("unknown relation '" + std::string(name) +
                                "' (exact, component, url-host, subdomain, in-range)");
  }
  *mask |= RelationBit(r);
  return Status::Ok();
}

}  // namespace iocgrid::index
