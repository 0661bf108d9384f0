// The persisted index's file (MatchIndex::SaveToFile / LoadFromFile): a header (magic, format
// version, byte-order mark), the caller's meta bytes and record map, the index's sections, and
// a trailer with the checksum of everything before it. Written to PATH.tmp, synced, renamed.
//
// Thread-safety: functions of their arguments; one writer of a path at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/internal/binary_io.h"

namespace iocgrid::index::internal {

// Bump when any section's layout changes: older files are then refused (and rebuilt).
inline constexpr uint64_t kIndexFormatVersion = 1;

Status WriteIndexFile(const std::string& path, std::string_view meta,
                      std::span<const int64_t> record_map,
                      const std::function<void(BinaryWriter&)>& sections);

// `sections` reads the index's sections (false: out of shape), given the record map's size.
Status ReadIndexFile(const std::string& path, std::string* meta, std::vector<int64_t>* record_map,
                     const std::function<bool(BinaryReader&, size_t records)>& sections);

}  // namespace iocgrid::index::internal
