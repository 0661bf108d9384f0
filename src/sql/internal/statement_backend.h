// What a database's statement does (sql::Statement forwards to it): the SQLite and the
// PostgreSQL implementations in sqlite_database.cc and postgres_database.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"

namespace iocgrid::sql::internal {

class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  virtual void Bind(int index, int64_t value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindBlob(int index, std::span<const unsigned char> value) = 0;
  virtual void BindNull(int index) = 0;
  virtual Result<bool> Step() = 0;
  virtual void Reset() = 0;
  virtual int64_t Int(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
  virtual std::span<const unsigned char> Blob(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

}  // namespace iocgrid::sql::internal
