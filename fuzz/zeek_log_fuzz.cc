// libFuzzer target: the zeek log parser (issue 9); see sift_fuzz_common.h for the properties.
#include "fuzz/sift_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzLogParser(iocgrid::sift::LogFormat::kZeek, data, size);
  return 0;
}
