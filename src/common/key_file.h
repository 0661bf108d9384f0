// An API key kept in a file (a portal member's key_file, a mirror's --key-file): the first
// line, trimmed. The one reader of key files, so that every caller refuses the same things.
//
// Thread-safety: a pure function of the file.
#pragma once

#include <string>

#include "common/result.h"

namespace iocgrid {

// The key in `path`. Only a regular file (never /dev/zero or a FIFO), read with a 4 KiB cap.
// Errors: kInvalidArgument naming the file (missing, not regular, unreadable, too long).
Result<std::string> ReadKeyFile(const std::string& path);

}  // namespace iocgrid
