// Result<T>: a T, or a non-OK Status explaining why there is none (STYLE.md section 5).
//
// Access the value only after checking ok(); value() on an error aborts (a bug, not bad input).
// Propagate with IOCGRID_ASSIGN_OR_RETURN(lhs, expr).
//
// Thread-safety: a value type, like T.
#pragma once

#include <optional>
#include <utility>

#include "common/check.h"
#include "common/status.h"

namespace iocgrid {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose, so that `return value;` and `return SomeError(...);` both work.
  Result(T value) : value_(std::move(value)) {}         // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    IOCGRID_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    IOCGRID_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    IOCGRID_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    IOCGRID_CHECK(ok());
    return std::move(*value_);
  }
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace iocgrid

#define IOCGRID_CONCAT_INNER_(a, b) a##b
#define IOCGRID_CONCAT_(a, b) IOCGRID_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Result<T>); on error returns its Status, else moves the value into `lhs`
// (which may be a declaration: `IOCGRID_ASSIGN_OR_RETURN(auto x, Parse(s));`).
#define IOCGRID_ASSIGN_OR_RETURN(lhs, expr) \
  IOCGRID_ASSIGN_OR_RETURN_IMPL_(IOCGRID_CONCAT_(iocgrid_result_, __LINE__), lhs, expr)
// bugprone-macro-parentheses is off for this one macro, for two reasons: `tmp` is always the
// identifier made by IOCGRID_CONCAT_ (no expression to bracket), and `lhs` may be a declaration
// (`auto x`), which brackets would turn into an expression.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define IOCGRID_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
