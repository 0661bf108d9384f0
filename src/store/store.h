// Store: a node's embedded database (SQLite in WAL mode: DIR/iocgrid.db holding its
// organisations, users, API keys (as SHA-256 hashes), events, objects, attributes, tags and
// sightings, and DIR/audit.db holding its audit log). The schema and its durability argument
// are in docs/store-schema.md.
//
// Writes are transactions: each write method either commits whole or leaves the store as it
// was (a failing event in an ImportEvents batch rolls back the batch; a process killed mid-write
// leaves the previous data). Writes are serialized by a mutex on one writer connection; reads use
// pooled connections of their own and, thanks to WAL, never wait for a writer: a read sees the
// last commit before it started.
//
// Event and attribute references (`id_or_uuid`) are a decimal row id or a uuid (any case).
//
// Thread-safety: all methods are safe to call concurrently from any thread. Callbacks run on
// the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "core/event.h"
#include "store/attribute_query.h"
#include "store/options.h"
#include "store/records.h"

namespace iocgrid::store {

namespace internal {
struct StoreState;
}  // namespace internal

// True when `status` reports that the store's disk or file is full (SQLITE_FULL, ENOSPC, or
// the file's page limit): callers answer 507 Insufficient Storage rather than a rate limit.
bool IsDiskFull(const Status& status);

class Store {
 public:
  // The schema version this binary writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 6;
  // The database file inside the data directory.
  static constexpr std::string_view kFileName = "iocgrid.db";
  // The audit log's file beside it (its own file so that a request's audit rows do not make
  // reader connections of the store file drop their page caches; docs/store-schema.md).
  static constexpr std::string_view kAuditFileName = "audit.db";

  // Opens (creating DIR and the files when allowed) DIR/iocgrid.db and DIR/audit.db and
  // migrates them forward to kSchemaVersion (an older store's audit rows move to audit.db). Errors:
  // kNotFound (missing and !create_if_missing), kUnimplemented (the file has a newer schema than
  // this binary knows; the message names both versions), kInvalidArgument (not an iocgrid
  // database), kDataLoss (corrupt), kPermissionDenied / kUnavailable (cannot open or locked).
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir,
                                             const StoreOptions& options);

  // Use Open(); the state type is internal to the store.
  explicit Store(std::unique_ptr<internal::StoreState> state);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database file's path.
  const std::string& path() const;
  // Incremented by every committed write that changes events, attributes, tags or sightings;
  // the node compares it to know when its match index is stale.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // ---- Organisations, users, API keys -------------------------------------------------------

  // Returns the organisation named `name` (case-insensitive), creating it (random uuid) when
  // missing. Errors: kInvalidArgument for an empty name.
  Result<Organisation> EnsureOrganisation(std::string_view name);
  // By id, name or uuid. Errors: kNotFound.
  Result<Organisation> GetOrganisation(std::string_view id_name_or_uuid);
  // Returns the user with `email`, creating it (and its organisation) when missing; an existing
  // user keeps its org and gets `role`. Errors: kInvalidArgument for an empty email or org.
  Result<User> EnsureUser(std::string_view email, std::string_view org_name, Role role);
  // Creates a key for the user and returns it in clear, the only time it is visible: the store
  // keeps its SHA-256 and first/last 4 characters. Errors: kNotFound for an unknown user.
  Result<NewApiKey> CreateKey(int64_t user_id, const KeyOptions& options);
  // Every key, newest first, without secrets.
  Result<std::vector<ApiKeyInfo>> ListKeys();
  // Marks the key revoked (idempotent). Errors: kNotFound.
  Status RevokeKey(int64_t key_id);
  // Checks a presented key in constant time against the stored hashes. Errors:
  // kPermissionDenied for a malformed, unknown, revoked or expired key or a disabled user (the
  // message says which, for logs; never the key). Records the key's last use.
  Result<AuthContext> AuthenticateKey(std::string_view key);

  // ---- Writes ---------------------------------------------------------------------------------

  // Persists the events in one transaction, idempotently by event uuid: a known uuid updates
  // the stored event (attributes matched by uuid; see ImportOptions::delete_missing), never
  // duplicates it. Events without a uuid get one derived from their source and info, and
  // attributes without a uuid one derived from their event, object, type and value, so a
  // re-imported list is idempotent too. Errors (nothing is written): kAlreadyExists when an
  // attribute uuid is repeated within an event or belongs to another event, kInvalidArgument
  // for an invalid uuid, distribution, threat level or analysis, storage errors.
  Result<ImportStats> ImportEvents(std::span<const core::Event> events,
                                   const ImportOptions& options);
  // MISP events/add: a new event (a random uuid when it has none). Returns its id.
  // Errors: kAlreadyExists when the uuid is known, others as ImportEvents.
  Result<int64_t> AddEvent(const core::Event& event, const ImportOptions& options);
  // MISP events/edit: updates the referenced event from `event` (its uuid is ignored).
  // Errors: kNotFound, others as ImportEvents.
  Result<ImportStats> EditEvent(std::string_view id_or_uuid, const core::Event& event,
                                const ImportOptions& options);
  // Soft delete marks the event and its attributes deleted; hard delete removes the event with
  // its objects, attributes, tags links and sightings. Errors: kNotFound.
  Status DeleteEvent(std::string_view id_or_uuid, bool hard);
  // Sets published and publish_timestamp = now. Errors: kNotFound.
  Status PublishEvent(std::string_view id_or_uuid);
  // MISP attributes/add: appends attributes to a live event (unpublishing it), all or none.
  // Returns the new (or, without break_on_duplicate, updated) ids in input order.
  // Errors: kNotFound (event), kAlreadyExists (duplicate value or uuid).
  Result<std::vector<int64_t>> AddAttributes(std::string_view event_id_or_uuid,
                                             std::span<const core::Attribute> attributes,
                                             const AddAttributeOptions& options);
  // Soft (MISP: deleted = 1, timestamp bumped) or hard delete. Errors: kNotFound.
  Status DeleteAttribute(std::string_view id_or_uuid, bool hard);
  // MISP sightings/add: one sighting per matching live attribute. A type-2 (expiration)
  // sighting replaces the org's previous one on that attribute. Errors: kNotFound when no live
  // attribute matches, kInvalidArgument for a bad type or an empty request.
  Result<std::vector<Sighting>> AddSighting(const SightingRequest& request);
  // MISP sightings/restSearch: the sightings `query` selects, newest first, with their
  // attribute, event and organisation.
  Result<std::vector<SightingRecord>> SearchSightings(const SightingQuery& query);
  // Appends to the audit log and returns the new row's id; `values` are kept only with
  // StoreOptions::audit_values. A server writes the row before it runs a request (status 0 =
  // running), so a request that never finishes still leaves its row. Errors: the write's, e.g.
  // kResourceExhausted on a full disk (IsDiskFull).
  Result<int64_t> AppendAudit(const AuditEntry& entry);
  // Completes row `id`: the request's final status, value count and values (kept only with
  // audit_values). Errors: kNotFound for an unknown id, or the write's.
  Status UpdateAudit(int64_t id, int status, uint64_t value_count,
                     const std::vector<std::string>& values);

  // ---- Private search (docs/private-search.md "Member store") --------------------------------
  // The node computes tags and labels (it links psi); the store keeps them, the OPRF key and the
  // quota, and its triggers record which attributes changed once a key exists.

  // The active OPRF key, or nullopt before private search was first used.
  Result<std::optional<PsiKey>> GetPsiKey();
  // Every key by state. Errors: kDataLoss for a state this version does not know.
  Result<PsiKeys> GetPsiKeys();
  // Key rotation (docs/private-search.md "Key rotation"): stores `secret` as the next epoch's
  // key, preparing; the node re-tags the active epoch's keys under it, then switches. Not a
  // data write. Errors: kNotFound before the first key, kAlreadyExists while another
  // rotation is preparing, kUnavailable while the previous rotation's old key remains.
  Result<PsiKey> BeginPsiKeyRotation(std::string_view secret);
  // Live key strings of `epoch` after `after` in byte order, at most `limit` (a re-tag walk).
  Result<std::vector<std::string>> ListPsiKeys(uint32_t epoch, std::string_view after,
                                               size_t limit);
  // A preparing key's re-tag progress: every key string <= `after` is tagged under it.
  // Errors: kNotFound unless `epoch` is preparing.
  Status SetPsiRetagCursor(uint32_t epoch, std::string_view after);
  // In one transaction: the active key retired and the preparing `epoch` active. Errors:
  // kNotFound unless `epoch` is preparing; kUnavailable while a retired key remains.
  Status ActivatePsiKey(uint32_t epoch);
  // Deletes retired key `epoch` and every tag and label under it. Errors: kNotFound unless
  // `epoch` is retired.
  Status DropPsiKey(uint32_t epoch);
  // Stores the first key (epoch 1) and marks every attribute stale, in one transaction, so
  // that the first precompute covers all data; counts as a data write (DataGeneration).
  // Errors: kAlreadyExists when a key exists (another request created it first).
  Result<PsiKey> CreatePsiKey(std::string_view secret);
  // The highest stale-attribute sequence number (0 when none): read before a snapshot of the
  // attributes, it bounds what that snapshot can re-tag.
  Result<int64_t> PsiDirtyHighWater();
  // Stale attributes with seq <= `max_seq`, oldest first, at most `limit`.
  Result<std::vector<PsiDirty>> ReadPsiDirty(int64_t max_seq, size_t limit);
  // The stored rows of `keys` under `epoch` (live or not), in no particular order; keys
  // without a row are absent.
  Result<std::vector<PsiTagRow>> GetPsiTags(uint32_t epoch, std::span<const std::string> keys);
  // In one transaction: a new PSI generation; each row upserted under `epoch` with it (a row
  // with live = false only marks an existing live row removed and drops its label); stale
  // attributes with seq <= `done_seq` deleted. Not a data write (the index stays valid).
  Status ApplyPsiChanges(uint32_t epoch, std::span<const PsiTagRow> rows, int64_t done_seq);
  // The same for rows under several epochs (a rotation keeps two current), in one transaction.
  Status ApplyPsiChanges(std::span<const PsiEpochRows> changes, int64_t done_seq);
  // Tags in (generation, id) order after the cursor (after_generation, after_id), of one class
  // (below or not): live ones only when `live_only` (a full download), else removals too (an
  // incremental one). At most `limit` rows.
  Result<std::vector<PsiTagListing>> ListPsiTags(uint32_t epoch, bool below, bool live_only,
                                                 int64_t after_generation, int64_t after_id,
                                                 size_t limit);
  // Live tags of one class in the byte ranges [lo, hi) of `ranges` (tag prefixes, a bucket
  // each), sorted. Errors: kResourceExhausted when there are more than `max_tags`.
  Result<std::vector<std::string>> PsiTagsInRanges(
      uint32_t epoch, bool below, std::span<const std::pair<std::string, std::string>> ranges,
      size_t max_tags);
  // The sealed labels of live rows with these tags, as (tag, label) pairs; a tag two keys share
  // appears twice, an unknown tag not at all.
  Result<std::vector<std::pair<std::string, std::string>>> GetPsiLabels(
      uint32_t epoch, std::span<const std::string> tags);
  // Adds `count` OPRF evaluations to org's use on `day` (days since the epoch, UTC) unless that
  // would exceed `limit`; returns what is left. Errors: kResourceExhausted (nothing added), the
  // message naming the limit and what is left.
  Result<uint64_t> ConsumePsiQuota(int64_t org_id, int64_t day, uint64_t count, uint64_t limit);
  // Evaluations `org_id` used on `day`.
  Result<uint64_t> PsiQuotaUsed(int64_t org_id, int64_t day);
  Result<PsiStats> GetPsiStats(uint32_t epoch);

  // ---- MISP mirror (issue 14; docs/mirror.md) -------------------------------------------------
  // The node keeps, per mirrored event, the source timestamp it holds; node/mirror.h decides.

  // The version mirrored for each of `uuids` (timestamp -1: not mirrored yet), in input order.
  Result<std::vector<MirroredVersion>> MirroredEventVersions(std::span<const std::string> uuids);
  // Records events mirrored at their source versions, kept (held in the store) or filtered
  // out by distribution, in one transaction.
  Status RecordMirroredEvents(std::span<const MirroredEventRecord> records);
  // Forgets a mirrored event (gone from the source).
  Status ForgetMirroredEvent(std::string_view uuid);
  // Every mirrored event's uuid, sorted (a full sweep finds the ones its source lost).
  Result<std::vector<std::string>> MirroredEventUuids();
  Result<MirrorState> GetMirrorState();
  // Stores `state`; events and filtered are counted from the mirrored events, not taken.
  Status SetMirrorState(const MirrorState& state);

  // ---- Reads ----------------------------------------------------------------------------------

  // The event with its attributes, objects and tags. Soft-deleted events are kNotFound unless
  // options.include_deleted. Errors: kNotFound.
  Result<EventRecord> GetEvent(std::string_view id_or_uuid, const GetEventOptions& options);
  // One attribute with its tags and sighting counts. Errors: kNotFound.
  Result<AttributeRecord> GetAttribute(std::string_view id_or_uuid);
  // MISP attributes/restSearch semantics (attribute_query.h), one page of rows with their
  // events. Errors: kInvalidArgument for an unusable filter.
  Result<AttributeSearchResult> SearchAttributes(const AttributeQuery& query);
  // Number of rows SearchAttributes would return without limit/page.
  Result<uint64_t> CountAttributes(const AttributeQuery& query);
  // The event index (MISP events/index), without attributes.
  Result<std::vector<EventInfo>> ListEvents(const EventQuery& query);
  // Rows for attribute ids (e.g. the match index's hits), with event, tags and sightings;
  // unknown ids are skipped. Event tags are appended as inherited tags when asked.
  Result<AttributeSearchResult> GetAttributes(std::span<const int64_t> ids,
                                              bool include_event_tags);
  // Calls `fn` for every live attribute (not deleted, in a live event) in id order, over one
  // SELECT on a reader connection. A non-OK status from `fn` stops and is returned.
  Status ForEachLiveAttribute(const std::function<Status(const LiveAttribute&)>& fn);
  // ForEachLiveAttribute over the attributes among `ids` only (the index change log's delta);
  // ids that are unknown, deleted or in a deleted event are skipped.
  Status ForEachLiveAttributeIn(std::span<const int64_t> ids,
                                const std::function<Status(const LiveAttribute&)>& fn);
  // The index change log (docs/index.md "Live writes"): every write that changes what the
  // match index holds appends the ids of the attributes concerned, from any process (schema
  // triggers). IndexChangeHighWater is the highest sequence number assigned so far (0 when
  // none; numbers are never reused): read before a scan of the attributes, every change up to
  // it is in the scan.
  Result<int64_t> IndexChangeHighWater();
  // The distinct attribute ids changed after `after_seq` (sorted), at most `limit` of them
  // (counted before duplicates are removed); see IndexChanges for what else it reports.
  Result<IndexChanges> ReadIndexChanges(int64_t after_seq, size_t limit);
  // Deletes the changes up to `upto` (what the node's kept index covers) and remembers that
  // they are gone: a later ReadIndexChanges after an earlier sequence number reports a gap.
  // Not a data write.
  Status TrimIndexChanges(int64_t upto);
  // A counter that every committed data write bumps, whichever process made it (kept in the
  // file, unlike generation()). 0 for a store never written. Cheap: one indexed read.
  Result<uint64_t> DataGeneration();
  // Counts by type, data time span and last import (/grid/v1/stats).
  Result<StoreStats> Stats();
  // The newest audit entries first, at most `limit` (0 = all).
  Result<std::vector<AuditEntry>> ListAudit(uint32_t limit);
  // SQL statements started by this Store's connections since Open (SQLite's statement trace;
  // trigger bodies not counted). For tests and benchmarks that check what an operation costs,
  // e.g. that a 1,000-value filter is one statement, not 1,000.
  int64_t StatementsRun() const;
  // PRAGMA integrity_check and foreign_key_check. Errors: kDataLoss with SQLite's first report.
  Status CheckIntegrity();

 private:
  std::unique_ptr<internal::StoreState> state_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace iocgrid::store
