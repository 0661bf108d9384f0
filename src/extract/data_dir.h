// DataDir: where the binary finds its bundled data (warninglists, ...) at run time.
//
// Thread-safety: reads the environment and the file system only; safe from any thread.
#pragma once

#include <string>

#include "common/result.h"

namespace iocgrid::extract {

// The directory of bundled data, the first that exists of: $IOCGRID_DATA_DIR;
// <directory of the executable>/../share/iocgrid (an install); the source tree's data/ compiled
// in as IOCGRID_SOURCE_DATA_DIR (a build tree). Errors: kNotFound naming the places tried.
Result<std::string> DataDir();

}  // namespace iocgrid::extract
