#pragma once
// One gzip member of `text`, made in memory with zlib, for tests of gzip input (the one copy
// for the sift and portal tests). Needs zlib linked (ZLIB::ZLIB).

#include <zlib.h>

#include <string>

namespace iocgrid::test {

inline std::string Gzip(const std::string& text, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace iocgrid::test
