// Status: the outcome of a fallible operation, as a value (STYLE.md section 5).
//
// An OK status allocates nothing. A non-OK status carries a code and a human-readable message
// that names what failed and where ("feed x.json line 12: invalid IPv4 address"). Statuses are
// [[nodiscard]]: dropping one must be written `.IgnoreError()` with a comment saying why.
//
// Thread-safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace iocgrid {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kDeadlineExceeded,
  kUnavailable,
  kDataLoss,
  kUnimplemented,
  kInternal,
};

// Returns the enumerator's name without the k, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // Returns a copy whose message is prefixed by `context` and ": ". OK stays OK.
  Status WithContext(std::string_view context) const;

  // "InvalidArgument: message", or "OK".
  std::string ToString() const;

  // Marks a deliberately ignored status. Say why in a comment next to the call.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status InvalidArgumentError(std::string_view m) { return {StatusCode::kInvalidArgument, m}; }
inline Status NotFoundError(std::string_view m) { return {StatusCode::kNotFound, m}; }
inline Status AlreadyExistsError(std::string_view m) { return {StatusCode::kAlreadyExists, m}; }
inline Status PermissionDeniedError(std::string_view m) {
  return {StatusCode::kPermissionDenied, m};
}
inline Status ResourceExhaustedError(std::string_view m) {
  return {StatusCode::kResourceExhausted, m};
}
inline Status UnavailableError(std::string_view m) { return {StatusCode::kUnavailable, m}; }
inline Status DeadlineExceededError(std::string_view m) {
  return {StatusCode::kDeadlineExceeded, m};
}
inline Status DataLossError(std::string_view m) { return {StatusCode::kDataLoss, m}; }
inline Status InternalError(std::string_view m) { return {StatusCode::kInternal, m}; }

}  // namespace iocgrid

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define IOCGRID_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::iocgrid::Status iocgrid_status_ = (expr);        \
    if (!iocgrid_status_.ok()) return iocgrid_status_; \
  } while (false)
