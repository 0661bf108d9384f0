// SearchJob: one analyst search across the alliance while it runs and after: per-member status,
// hits merged per indicator under each member's disclosure, the time-gap flag, a summary, and
// the server-sent event log that live clients follow.
//
// Thread-safety: all methods are thread-safe. Federation callbacks write, HTTP handlers read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "core/indicator.h"
#include "federation/member.h"

namespace iocgrid::portal::internal {

struct SearchInput {
  std::vector<std::string> raw;                              // as the analyst wrote each indicator
  std::vector<core::Indicator> indicators;                   // normalized, parallel to raw
  std::vector<std::string> dates;                            // the indicator's own date, or empty
  std::vector<std::pair<std::string, std::string>> invalid;  // (value, reason)
};

// bugprone-exception-escape sees nlohmann::json's destructor, which may throw std::bad_alloc (it
// frees nested values through a heap stack instead of recursing); out of memory there ends the
// process either way, so SearchMeta's implicit noexcept members stay as they are.
struct SearchMeta {  // NOLINT(bugprone-exception-escape)
  std::string id;
  std::string owner;
  std::string label;
  std::string tlp;
  bool shared = false;
  int64_t created = 0;
  int time_gap_days = 365;
  nlohmann::json request;  // the normalized request (search_request.h), for re-runs
  std::string sift_id;     // the sift whose observables this search matches, if any
};

class SearchJob {
 public:
  SearchJob(SearchMeta meta, SearchInput input, std::vector<federation::MemberConfig> members);

  const SearchMeta& meta() const { return meta_; }
  const SearchInput& input() const { return input_; }

  void OnStatus(const std::string& member, federation::MemberStatus status);
  void OnReply(federation::MemberReply reply);
  void OnDone();
  // Before OnDone: the search ends "interrupted" with this reason instead of "done".
  void MarkInterrupted(std::string reason);
  // "running", "done" or "interrupted".
  std::string status() const;

  bool done() const;
  // The serialized final document, set once after the search is done (so that reads of a
  // finished search do not rebuild it). Returns false while it is not set.
  bool FinalDocument(std::string* out) const;
  void SetFinalDocument(std::string document);
  bool has_final_document() const;
  uint64_t hit_count() const;
  // The whole document of GET /api/v1/searches/{id} (docs/portal-api.md).
  nlohmann::json Document() const;
  // The event log so far ("event: x\ndata: {...}\n\n" blocks).
  std::string EventLog() const;
  // Appends the events after *cursor (a byte offset into the log) to *out, without waiting
  // (the HTTP server polls; a stream never holds a worker). Returns false once the search is
  // done and everything was delivered.
  bool NextEvents(size_t* cursor, std::string* out);
  // `wake` is called whenever an event is appended (an open event stream's wake-up, so the
  // server does not wait for its poll). Kept until the job is dropped.
  void AddWaker(std::function<void()> wake);

 private:
  struct Hit {
    size_t member;              // index into members_
    federation::MemberHit hit;  // already reduced to the member's disclosure
    bool time_gap = false;
  };
  struct MemberState {
    federation::MemberConfig config;
    federation::MemberStatus status = federation::MemberStatus::kQueued;
    std::string error;
    int64_t elapsed_ms = 0;
    uint64_t hits = 0;
    index::RelationMask relations = 0;
  };

  void AppendEvent(const std::string& name, const nlohmann::json& data) IOCGRID_REQUIRES(mu_);
  nlohmann::json ProgressJson() const IOCGRID_REQUIRES(mu_);
  nlohmann::json SummaryJson() const IOCGRID_REQUIRES(mu_);
  nlohmann::json MemberJson(const MemberState& m) const;
  nlohmann::json HitJson(const Hit& h) const IOCGRID_REQUIRES(mu_);

  const SearchMeta meta_;
  const SearchInput input_;
  std::vector<int64_t> input_times_;  // the indicators' own dates as unix seconds, 0 = none

  mutable Mutex mu_;
  std::vector<MemberState> members_ IOCGRID_GUARDED_BY(mu_);
  std::vector<std::vector<Hit>> hits_ IOCGRID_GUARDED_BY(mu_);      // per indicator
  std::vector<std::vector<bool>> held_by_ IOCGRID_GUARDED_BY(mu_);  // [indicator][member]
  uint64_t total_hits_ IOCGRID_GUARDED_BY(mu_) = 0;
  bool done_ IOCGRID_GUARDED_BY(mu_) = false;
  std::string interrupted_ IOCGRID_GUARDED_BY(mu_);  // the reason
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  int64_t elapsed_ms_ IOCGRID_GUARDED_BY(mu_) = 0;
  std::string events_ IOCGRID_GUARDED_BY(mu_);
  std::vector<std::function<void()>> wakers_ IOCGRID_GUARDED_BY(mu_);
  std::string final_document_ IOCGRID_GUARDED_BY(mu_);
};

// The names of the relations in `mask`, in strength order ("exact", ..., "in-range").
std::vector<std::string> RelationNames(index::RelationMask mask);

}  // namespace iocgrid::portal::internal
