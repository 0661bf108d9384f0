// The per-format LineParser implementations (log_parser.cc creates them).
#pragma once

#include <memory>

#include "sift/log_parser.h"

namespace iocgrid::sift::internal {

std::unique_ptr<LineParser> NewCombinedParser(LogFormat format);  // combined and common
std::unique_ptr<LineParser> NewModsecNativeParser();
std::unique_ptr<LineParser> NewZeekParser();
std::unique_ptr<LineParser> NewCsvParser();
std::unique_ptr<LineParser> NewEveParser();
// JSON lines: access logs by field names, ModSecurity JSON audit records, Zeek JSON logs.
std::unique_ptr<LineParser> NewJsonParser(LogFormat format, const JsonFieldNames& names);

}  // namespace iocgrid::sift::internal
