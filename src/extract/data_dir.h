// DataDir: where the binary finds its bundled data (warninglists, ...) at run time.
//
// An installed binary (bin/iocgrid beside share/iocgrid/, wherever the prefix or DESTDIR put
// it) finds its files relative to its own location; the checkout's source paths compiled in
// (IOCGRID_SOURCE_DATA_DIR, IOCGRID_SOURCE_WEB_DIR) are used only by a binary that still lives
// in the build tree it was compiled in, so an installed copy never reads the checkout.
//
// Thread-safety: reads the environment and the file system only; safe from any thread.
#pragma once

#include <string>

#include "common/result.h"

namespace iocgrid::extract {

// The directory of bundled data, the first that exists of: $IOCGRID_DATA_DIR;
// InstalledShareDir() (an install); the source tree's data/ compiled in as
// IOCGRID_SOURCE_DATA_DIR, only when RunningFromBuildTree(). Errors: kNotFound naming the
// places tried.
Result<std::string> DataDir();

// <directory of the running executable>/../share/iocgrid, normalised; empty when
// /proc/self/exe cannot be read. Whether it exists is the caller's question.
std::string InstalledShareDir();

// True when the running executable is inside the build directory it was compiled for
// (IOCGRID_BUILD_DIR): the one case in which the checkout's source paths may be used.
bool RunningFromBuildTree();

}  // namespace iocgrid::extract
