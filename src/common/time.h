// Wall-clock time and dates, one home for both.
//
// Clock: "now" in unix seconds, injected into every component that stamps or compares times
// (store, node, portal), so that tests drive time instead of sleeping (STYLE.md section 7).
//
// Dates as users and members write them, parsed strictly: one home for "2024-03-01",
// "2024-03-01T12:00:00Z", "2024-03-01 12:00:00+09:00" and "30d" (30 days before now), so that
// "2024-13-45", "yesterday" or "-5d" are errors everywhere instead of being ignored.
//
// Thread-safety: every function and every Clock method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/check.h"
#include "common/result.h"

namespace iocgrid {

// Unix seconds now (the system clock). Components take a Clock instead, so tests can set time.
int64_t UnixNow();
// Unix milliseconds now (the system clock): webhook delivery times and backoff.
int64_t UnixNowMs();

// The time a component runs on: the system clock (default-constructed), or for tests a manual
// clock that stands still until Set or Advance moves it. A Clock is a small value; copies of a
// manual clock share its time, so a test keeps one copy and hands another to the component.
class Clock {
 public:
  // The system clock.
  Clock() = default;
  // A manual clock reading `unix_seconds` until moved.
  static Clock Manual(int64_t unix_seconds) {
    Clock c;
    c.manual_ = std::make_shared<std::atomic<int64_t>>(unix_seconds);
    return c;
  }

  // Unix seconds now.
  int64_t Now() const { return manual_ ? manual_->load() : UnixNow(); }
  bool is_manual() const { return manual_ != nullptr; }
  // Move a manual clock (every copy of it). REQUIRES: is_manual().
  void Set(int64_t unix_seconds) const {
    IOCGRID_CHECK(manual_ != nullptr);
    manual_->store(unix_seconds);
  }
  void Advance(int64_t seconds) const {
    IOCGRID_CHECK(manual_ != nullptr);
    manual_->fetch_add(seconds);
  }

 private:
  std::shared_ptr<std::atomic<int64_t>> manual_;  // null: the system clock
};

// An ISO 8601 date or date-time: YYYY-MM-DD, optionally followed by 'T' or ' ' and
// HH:MM[:SS[.fraction]] and an optional 'Z' or ±HH:MM / ±HHMM offset (UTC when none).
// Years 1970-9999; days checked against the month. Errors: kInvalidArgument.
Result<int64_t> ParseIsoDateTime(std::string_view text);

// "Nd": N whole days (1-36500) before `now`. Errors: kInvalidArgument.
Result<int64_t> ParseDaysAgo(std::string_view text, int64_t now);

// A duration as written: N followed by s, m, h, d or w ("15m", "1h", "7d"), N a whole number
// of at least 1, the whole at most 366 days. Returns seconds. Errors: kInvalidArgument naming
// the forms.
Result<int64_t> ParseDuration(std::string_view text);

// A search's time bound as written: "Nd" (ParseDaysAgo) or an ISO 8601 date or date-time
// (ParseIsoDateTime). Unix seconds are the caller's (a JSON number, a digit string). Errors:
// kInvalidArgument: ParseDaysAgo's, or one naming every accepted form.
Result<int64_t> ParseTimeBound(std::string_view text, int64_t now);

// Days since 1970-01-01 of a proleptic Gregorian date, and the date of such a day number
// (Howard Hinnant's days_from_civil and civil_from_days). Every date computation uses these.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

// "YYYY-MM-DD" (UTC) of unix seconds.
std::string FormatIsoDate(int64_t unix_seconds);
// "YYYY-MM-DDTHH:MM:SSZ" of unix seconds.
std::string FormatIsoDateTime(int64_t unix_seconds);

}  // namespace iocgrid
