// MISP's describeTypes document (data/misp/describeTypes.json, embedded at build time), served
// as-is at /attributes/describeTypes.json.
#pragma once

#include <string_view>

namespace iocgrid::node {

std::string_view DescribeTypesJson();

}  // namespace iocgrid::node
