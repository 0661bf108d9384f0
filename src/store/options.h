// Options of the store and of its write operations, with defaults (leveldb options.h).
//
// Thread-safety: plain values; a Store copies what it keeps at Open.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "store/records.h"

namespace iocgrid::store {

struct StoreOptions {
  // Creates DIR and an empty store when missing; false = kNotFound for a missing store.
  bool create_if_missing = true;
  // synchronous=FULL instead of NORMAL: also survives power loss of the last commits, at the
  // cost of an fsync per commit (docs/store-schema.md "Durability").
  bool sync_full = false;
  // How long a connection waits for a lock held by another process before kUnavailable.
  int busy_timeout_ms = 5000;
  // Page cache per reader connection, in KiB (SQLite cache_size = -N).
  int cache_kib = 64 * 1024;
  // Page cache of the one writer connection, in KiB. SQLite allocates it as pages are read, so
  // a small store never uses it all. Large: an import's random-keyed index inserts (uuid, value)
  // spill dirty pages to the WAL and read them back once the B-trees outgrow it (4·10^6
  // attributes in events of 10^6: 155 s at 64 MiB, 104 s at 512 MiB; BM_ImportIntoGrowingStore).
  int writer_cache_kib = 512 * 1024;
  // Idle reader connections kept for reuse; more are opened on demand and closed on release.
  int max_idle_readers = 8;
  // Largest size of the store file in KiB (SQLite max_page_count); 0 = as large as the disk
  // allows. A write that would pass it fails as on a full disk (IsDiskFull).
  int64_t max_size_kib = 0;
  // Keep the queried values in the audit log (--audit-values); off: only their count.
  bool audit_values = false;
  // The node's own organisation: owner (org) of imported events, creator when the source names
  // none. Created on first use.
  std::string local_org = "ORGNAME";
  // Stamps created/modified/last_used times and decides key expiry. Tests pass Clock::Manual.
  Clock clock;
};

struct ImportOptions {
  std::vector<std::string> extra_tags;  // added to every imported event (--tag)
  std::optional<int> distribution;      // overrides the events' distribution (--distribution)
  std::string event_info;               // overrides info of events that have none (--event-info)
  std::string org;                      // owner org name; empty = StoreOptions::local_org
  // Re-import of a known event: soft-delete its stored attributes that the new copy lacks, so
  // the store mirrors the file. false = MISP events/edit semantics (absent attributes stay).
  bool delete_missing = true;
  // Called on the importing thread about every 10,000 attributes with the count written so far
  // (CLI progress). It runs inside the write transaction: keep it short.
  std::function<void(uint64_t attributes_done)> progress;
};

struct AddAttributeOptions {
  // MISP breakOnDuplicate: true = an attribute equal in type, value and category to a live one
  // of the event fails with kAlreadyExists; false = the existing one is updated instead.
  bool break_on_duplicate = true;
};

struct GetEventOptions {
  bool include_deleted = false;    // soft-deleted attributes and objects too (MISP deleted:1)
  bool include_sightings = false;  // SightingCounts on each attribute
};

struct SightingRequest {
  std::string attribute;            // id or uuid of one attribute; empty = match by values
  std::vector<std::string> values;  // value1 = v OR value2 = v, every live attribute
  int type = 0;                     // 0 sighting, 1 false positive, 2 expiration
  std::string source;
  int64_t timestamp = 0;  // unix seconds; 0 = now
  int64_t org_id = 0;     // the sighting org; 0 = the local org
};

// MISP's sightings/restSearch filters (SightingsController::restSearch); empty lists do not
// filter. `from`/`to` bound date_sighting (inclusive).
struct SightingQuery {
  int64_t from = 0;
  int64_t to = INT64_MAX;
  std::vector<int> types;
  std::vector<std::string> sources;
  std::vector<int64_t> org_ids;
  std::vector<std::string> org_uuids;
  std::vector<int64_t> attribute_ids;  // context "attribute"
  std::vector<std::string> attribute_uuids;
  std::vector<int64_t> event_ids;  // context "event"
  std::vector<std::string> event_uuids;
  size_t limit = 100000;  // rows at most, newest first
};

struct KeyOptions {
  std::string comment;
  int64_t expires = 0;  // unix seconds; 0 = never
};

}  // namespace iocgrid::store
