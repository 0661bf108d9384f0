// SiftJob: one log upload to POST /api/v1/sifts (issue 9). While the upload streams in, its
// pieces go through the sift library's parsers (sift::Sifter, the code `iocgrid sift` runs);
// what is kept is the distinct observables with their counts, the line groups (which
// observables share lines, as ids) and the summary counts: never a log line. Then the
// observables run as one search, and the report (SiftReport) joins the two.
//
// Thread-safety: Write/End are called by one upload at a time (net::BodySink's contract); the
// progress counters and status are read concurrently by GET handlers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "sift/report.h"
#include "sift/rules.h"
#include "sift/sifter.h"

namespace iocgrid::portal::internal {

struct SiftMeta {
  std::string id;
  std::string owner;
  std::string label;
  std::string tlp = "amber";
  bool shared = false;
  int64_t created = 0;
  nlohmann::json request;  // the query parameters, normalized (sift_request.h)
  // For share=...: the uploader's organisation and its sector when the sift started (the
  // sightings are recorded under them when its search ends).
  std::string org;
  std::string sector;
};

// Lines holding exactly these observables (ids into observables), as Sifter::ForEachLineGroup
// yields them, merged.
struct LineGroup {
  std::vector<uint32_t> ids;
  uint64_t lines = 0;
};

// What an upload leaves: everything the report needs, nothing of the log.
struct SiftResult {
  std::string format;  // detected (or given) log format
  uint64_t bytes = 0;  // bytes received (compressed, for gzip)
  sift::SiftCounts counts;
  std::vector<sift::MalformedLine> malformed;  // first few, line number and reason
  std::vector<sift::Observable> observables;
  std::vector<LineGroup> groups;
};

// The store's forms of a SiftResult: JSON text for everything but the line groups, a compact
// binary blob (varints) for them. Decode errors: kDataLoss.
std::string EncodeSiftResult(const SiftResult& r);
std::string EncodeLineGroups(const std::vector<LineGroup>& groups);
Result<SiftResult> DecodeSiftResult(std::string_view json_text, std::string_view groups_blob);

struct SiftLimits {
  size_t max_observables = 100000;         // the portal's max_indicators: one search takes them all
  uint64_t max_inflated_bytes = 0;         // what a gzip upload may inflate to
  uint64_t detect_within_bytes = 1 << 20;  // the log format must be told within this much
};

class SiftJob {
 public:
  SiftJob(SiftMeta meta, const sift::SiftOptions& options, SiftLimits limits);
  // A job whose observables are known already (a sightings batch, POST /api/v1/sightings):
  // no upload; result() is `done` from the start.
  SiftJob(SiftMeta meta, SiftResult done);
  ~SiftJob();

  const SiftMeta& meta() const { return meta_; }

  // The upload (net::BodySink). Write errors: kDataLoss (corrupt gzip), kResourceExhausted
  // (more distinct observables than max_observables, or a gzip that inflates past its cap),
  // kInvalidArgument (within the first detect_within_bytes, the log format cannot be told or
  // nothing parses as it: binary garbage, the wrong file).
  // Every message says how far the upload got. After an error, write_failed() is true.
  Status Write(std::string_view piece);
  bool write_failed() const { return write_failed_; }
  // Ends the upload: the result, with the sifter (and its spool) freed. Errors: kDataLoss for a
  // truncated gzip, kInvalidArgument when the format cannot be told, no line parses, or the
  // upload is empty.
  Result<std::shared_ptr<const SiftResult>> End();

  // "uploading", "searching", "done", "interrupted" (set by the portal).
  std::string status() const;
  void set_status(std::string status);
  std::string search_id() const;
  void set_search_id(std::string id);
  // Progress while uploading: bytes received, lines read, distinct observables so far.
  nlohmann::json Progress() const;
  // The result once End succeeded (null before).
  std::shared_ptr<const SiftResult> result() const;

 private:
  Status CheckLooksLikeALog(const std::string& where) const;
  std::string FirstProblem() const;

  const SiftMeta meta_;
  const SiftLimits limits_;
  std::unique_ptr<sift::Sifter> sifter_;  // during the upload only
  bool write_failed_ = false;
  std::atomic<uint64_t> bytes_{0}, lines_{0}, observables_{0};

  mutable Mutex mu_;
  std::string status_ IOCGRID_GUARDED_BY(mu_) = "uploading";
  std::string search_id_ IOCGRID_GUARDED_BY(mu_);
  std::shared_ptr<const SiftResult> result_ IOCGRID_GUARDED_BY(mu_);
};

// The report of GET /api/v1/sifts/{id} (docs/portal-api.md): summary, the four alert cells,
// the class and hits of every observable (from `search`, the search document, whose hits get
// their member's class from `member_kinds`: name -> data_kind), the top `top` observables per
// class. `search` may be null (no search: nothing public to match, or it was deleted).
// `with_observables`: include the whole per-observable list.
nlohmann::json SiftReport(const SiftMeta& meta, std::string_view status, const SiftResult& result,
                          const std::string& search_id, const nlohmann::json* search,
                          const std::unordered_map<std::string, std::string>& member_kinds,
                          const sift::ClassRules& rules, size_t top, bool with_observables);

// The metadata part of a sift as JSON (id, label, owner, created, tlp, shared, status, request).
nlohmann::json SiftMetaJson(const SiftMeta& meta, std::string_view status);

}  // namespace iocgrid::portal::internal
