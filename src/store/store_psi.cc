// Private search's storage (issue 10; docs/private-search.md "Member store"): the OPRF key, the
// tag and label of every key string of the node's data, the stale-attribute queue the schema's
// triggers fill, and the daily evaluation quota. The node computes; the store keeps.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sqlite/connection.h"
#include "store/internal/store_state.h"
#include "store/store.h"

namespace iocgrid::store {

using internal::Connection;
using internal::ReaderLease;
using internal::Statement;

namespace {

std::span<const unsigned char> Bytes(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string BlobText(const Statement& stmt, int column) {
  std::span<const unsigned char> b = stmt.Blob(column);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

Result<std::optional<PsiKey>> Store::GetPsiKey() {
  IOCGRID_ASSIGN_OR_RETURN(PsiKeys keys, GetPsiKeys());
  return std::move(keys.active);
}

Result<PsiKeys> Store::GetPsiKeys() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                           reader->Prepare("SELECT epoch, secret, created, state, changed, "
                                           "retag_after FROM psi_keys ORDER BY epoch"));
  PsiKeys keys;
  Status st = stmt.ForEachRow([&](const Statement& row) -> Status {
    PsiKey key;
    key.epoch = static_cast<uint32_t>(row.Int(0));
    key.secret = BlobText(row, 1);
    key.created = row.Int(2);
    const std::string_view state = row.Text(3);
    key.changed = row.Int(4);
    key.retag_after = BlobText(row, 5);
    std::optional<PsiKey>* slot = nullptr;
    if (state == "preparing") {
      key.state = PsiKeyState::kPreparing;
      slot = &keys.preparing;
    } else if (state == "active") {
      key.state = PsiKeyState::kActive;
      slot = &keys.active;
    } else if (state == "retired") {
      key.state = PsiKeyState::kRetired;
      slot = &keys.retired;
    } else {
      return DataLossError("private-search key " + std::to_string(key.epoch) +
                           " has an unknown state '" + std::string(state) + "'");
    }
    *slot = std::move(key);  // the newest of a state wins (there is one of each)
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  return keys;
}

Result<PsiKey> Store::BeginPsiKeyRotation(std::string_view secret) {
  PsiKey key;
  key.secret = std::string(secret);
  key.created = state_->options.clock.Now();
  key.changed = key.created;
  key.state = PsiKeyState::kPreparing;
  Status st = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t preparing,
        c.QueryInt("SELECT COALESCE((SELECT epoch FROM psi_keys WHERE state = 'preparing'), 0)"));
    if (preparing != 0) {
      return AlreadyExistsError("a key rotation to epoch " + std::to_string(preparing) +
                                " is already under way; `iocgrid node psi status` shows it");
    }
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t active,
        c.QueryInt("SELECT COALESCE((SELECT MAX(epoch) FROM psi_keys WHERE state = 'active'), 0)"));
    if (active == 0) {
      return NotFoundError(
          "private search has no key yet: the node creates one on the first private search, "
          "so there is nothing to rotate");
    }
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t retired,
        c.QueryInt("SELECT COALESCE((SELECT epoch FROM psi_keys WHERE state = 'retired'), 0)"));
    if (retired != 0) {
      return UnavailableError("the previous key (epoch " + std::to_string(retired) +
                              ") still answers searches begun before the last rotation; rotate "
                              "again once the node has dropped it (`iocgrid node psi status`)");
    }
    IOCGRID_ASSIGN_OR_RETURN(int64_t newest, c.QueryInt("SELECT MAX(epoch) FROM psi_keys"));
    if (newest >= int64_t{UINT32_MAX}) return ResourceExhaustedError("no key epoch left");
    key.epoch = static_cast<uint32_t>(newest + 1);
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO psi_keys (epoch, secret, created, state, changed) VALUES (?1, ?2, "
                  "?3, 'preparing', ?3)"));
    insert.Bind(1, key.epoch).BindBlob(2, Bytes(key.secret)).Bind(3, key.created);
    return insert.Run();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  return key;
}

Result<std::vector<std::string>> Store::ListPsiKeys(uint32_t epoch, std::string_view after,
                                                    size_t limit) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  // The UNIQUE (epoch, key) index gives the order and the start.
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT key FROM psi_tags WHERE epoch = ?1 AND key > ?2 AND live = 1 "
                      "ORDER BY key LIMIT ?3"));
  stmt.Bind(1, epoch).BindBlob(2, Bytes(after)).Bind(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  IOCGRID_RETURN_IF_ERROR(
      stmt.ForEachRow([&](const Statement& row) { out.push_back(BlobText(row, 0)); }));
  return out;
}

Status Store::SetPsiRetagCursor(uint32_t epoch, std::string_view after) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(Statement update,
                             c.Prepare("UPDATE psi_keys SET retag_after = ?2 WHERE epoch = ?1 AND "
                                       "state = 'preparing'"));
    update.Bind(1, epoch).BindBlob(2, Bytes(after));
    IOCGRID_RETURN_IF_ERROR(update.Run());
    if (c.Changes() == 0) {
      return NotFoundError("no private-search key " + std::to_string(epoch) + " is preparing");
    }
    return Status();
  });
}

Status Store::ActivatePsiKey(uint32_t epoch) {
  const int64_t now = state_->options.clock.Now();
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t preparing,
        c.QueryInt("SELECT COALESCE((SELECT epoch FROM psi_keys WHERE state = 'preparing'), 0)"));
    if (preparing != int64_t{epoch}) {
      return NotFoundError("no private-search key " + std::to_string(epoch) + " is preparing");
    }
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t retired,
        c.QueryInt("SELECT COALESCE((SELECT epoch FROM psi_keys WHERE state = 'retired'), 0)"));
    if (retired != 0) {
      return UnavailableError("private-search key " + std::to_string(retired) +
                              " is still retiring; drop it first");
    }
    IOCGRID_ASSIGN_OR_RETURN(Statement retire,
                             c.Prepare("UPDATE psi_keys SET state = 'retired', changed = ?1 WHERE "
                                       "state = 'active'"));
    retire.Bind(1, now);
    IOCGRID_RETURN_IF_ERROR(retire.Run());
    IOCGRID_ASSIGN_OR_RETURN(
        Statement activate,
        c.Prepare("UPDATE psi_keys SET state = 'active', changed = ?2, retag_after = x'' WHERE "
                  "epoch = ?1 AND state = 'preparing'"));
    activate.Bind(1, epoch).Bind(2, now);
    return activate.Run();
  });
}

Status Store::DropPsiKey(uint32_t epoch) {
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement key, c.Prepare("DELETE FROM psi_keys WHERE epoch = ?1 AND state = 'retired'"));
    key.Bind(1, epoch);
    IOCGRID_RETURN_IF_ERROR(key.Run());
    if (c.Changes() == 0) {
      return NotFoundError("no private-search key " + std::to_string(epoch) + " is retired");
    }
    IOCGRID_ASSIGN_OR_RETURN(Statement tags, c.Prepare("DELETE FROM psi_tags WHERE epoch = ?1"));
    tags.Bind(1, epoch);
    return tags.Run();
  });
}

Result<PsiKey> Store::CreatePsiKey(std::string_view secret) {
  PsiKey key;
  key.epoch = 1;
  key.secret = std::string(secret);
  key.created = state_->options.clock.Now();
  // A data write: other processes' index snapshots see a new generation and re-read the
  // stale-attribute high water, so the first precompute starts without waiting for an import.
  Status st = internal::RunDataWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(int64_t keys, c.QueryInt("SELECT COUNT(*) FROM psi_keys"));
    if (keys != 0) return AlreadyExistsError("private search already has a key");
    IOCGRID_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO psi_keys (epoch, secret, created) VALUES (?1, ?2, ?3)"));
    insert.Bind(1, key.epoch).BindBlob(2, Bytes(key.secret)).Bind(3, key.created);
    IOCGRID_RETURN_IF_ERROR(insert.Run());
    return c.Exec("INSERT INTO psi_dirty (attribute_id) SELECT id FROM attributes ORDER BY id");
  });
  IOCGRID_RETURN_IF_ERROR(st);
  return key;
}

Result<int64_t> Store::PsiDirtyHighWater() {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  return reader->QueryInt("SELECT COALESCE(MAX(seq), 0) FROM psi_dirty");
}

Result<std::vector<PsiDirty>> Store::ReadPsiDirty(int64_t max_seq, size_t limit) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT seq, attribute_id, old_type, old_value FROM psi_dirty "
                      "WHERE seq <= ?1 ORDER BY seq LIMIT ?2"));
  stmt.Bind(1, max_seq).Bind(2, static_cast<int64_t>(limit));
  std::vector<PsiDirty> out;
  IOCGRID_RETURN_IF_ERROR(stmt.ForEachRow([&](const Statement& row) {
    PsiDirty d;
    d.seq = row.Int(0);
    d.attribute_id = row.Int(1);
    d.old_type = std::string(row.Text(2));
    d.old_value = std::string(row.Text(3));
    out.push_back(std::move(d));
  }));
  return out;
}

Result<std::vector<PsiTagRow>> Store::GetPsiTags(uint32_t epoch,
                                                 std::span<const std::string> keys) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  std::vector<PsiTagRow> out;
  for (const std::string& key : keys) {
    IOCGRID_ASSIGN_OR_RETURN(Statement stmt,
                             reader->Prepare("SELECT below, tag, prf, label, live FROM psi_tags "
                                             "WHERE epoch = ?1 AND key = ?2"));
    stmt.Bind(1, epoch).BindBlob(2, Bytes(key));
    IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) continue;
    PsiTagRow r;
    r.key = key;
    r.below = stmt.Int(0) != 0;
    r.tag = BlobText(stmt, 1);
    r.prf = BlobText(stmt, 2);
    r.label = BlobText(stmt, 3);
    r.live = stmt.Int(4) != 0;
    out.push_back(std::move(r));
  }
  return out;
}

Status Store::ApplyPsiChanges(uint32_t epoch, std::span<const PsiTagRow> rows, int64_t done_seq) {
  const PsiEpochRows one{epoch, rows};
  return ApplyPsiChanges(std::span(&one, 1), done_seq);
}

Status Store::ApplyPsiChanges(std::span<const PsiEpochRows> changes, int64_t done_seq) {
  // Not RunDataWrite: tags and labels are derived data; bumping the data generation would make
  // every node rebuild its index after each precompute batch.
  return internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        int64_t generation,
        c.QueryInt("SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                   "'psi_generation'), 0) + 1"));
    IOCGRID_ASSIGN_OR_RETURN(
        Statement meta, c.Prepare("INSERT INTO meta (key, value) VALUES ('psi_generation', ?1) "
                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    meta.BindText(1, std::to_string(generation));
    IOCGRID_RETURN_IF_ERROR(meta.Run());
    for (const auto& [epoch, rows] : changes) {
      for (const PsiTagRow& r : rows) {
        if (r.live) {
          IOCGRID_ASSIGN_OR_RETURN(
              Statement upsert,
              c.Prepare(
                  "INSERT INTO psi_tags (epoch, key, below, tag, prf, label, live, generation) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) ON CONFLICT (epoch, key) DO UPDATE "
                  "SET below = excluded.below, tag = excluded.tag, prf = excluded.prf, "
                  "label = excluded.label, live = 1, generation = excluded.generation"));
          upsert.Bind(1, epoch)
              .BindBlob(2, Bytes(r.key))
              .Bind(3, r.below ? 1 : 0)
              .BindBlob(4, Bytes(r.tag))
              .BindBlob(5, Bytes(r.prf))
              .BindBlob(6, Bytes(r.label))
              .Bind(7, generation);
          IOCGRID_RETURN_IF_ERROR(upsert.Run());
        } else {
          IOCGRID_ASSIGN_OR_RETURN(
              Statement remove,
              c.Prepare("UPDATE psi_tags SET live = 0, label = NULL, generation = ?3 "
                        "WHERE epoch = ?1 AND key = ?2 AND live = 1"));
          remove.Bind(1, epoch).BindBlob(2, Bytes(r.key)).Bind(3, generation);
          IOCGRID_RETURN_IF_ERROR(remove.Run());
        }
      }
    }
    IOCGRID_ASSIGN_OR_RETURN(Statement done, c.Prepare("DELETE FROM psi_dirty WHERE seq <= ?1"));
    done.Bind(1, done_seq);
    return done.Run();
  });
}

Result<std::vector<PsiTagListing>> Store::ListPsiTags(uint32_t epoch, bool below, bool live_only,
                                                      int64_t after_generation, int64_t after_id,
                                                      size_t limit) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  // The row value comparison walks psi_tags_changes (epoch, below, generation, id) from the
  // cursor: a page costs its rows, not the rows before it.
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare(live_only
                          ? "SELECT id, generation, tag, live FROM psi_tags WHERE epoch = ?1 AND "
                            "below = ?2 AND (generation, id) > (?3, ?4) AND live = 1 "
                            "ORDER BY generation, id LIMIT ?5"
                          : "SELECT id, generation, tag, live FROM psi_tags WHERE epoch = ?1 AND "
                            "below = ?2 AND (generation, id) > (?3, ?4) "
                            "ORDER BY generation, id LIMIT ?5"));
  stmt.Bind(1, epoch)
      .Bind(2, below ? 1 : 0)
      .Bind(3, after_generation)
      .Bind(4, after_id)
      .Bind(5, static_cast<int64_t>(limit));
  std::vector<PsiTagListing> out;
  IOCGRID_RETURN_IF_ERROR(stmt.ForEachRow([&](const Statement& row) {
    out.push_back(PsiTagListing{row.Int(0), row.Int(1), BlobText(row, 2), row.Int(3) != 0});
  }));
  return out;
}

Result<std::vector<std::string>> Store::PsiTagsInRanges(
    uint32_t epoch, bool below, std::span<const std::pair<std::string, std::string>> ranges,
    size_t max_tags) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  std::vector<std::string> out;
  for (const auto& [lo, hi] : ranges) {
    // An empty upper bound is the end of the tag space (the last bucket). Two statements, so
    // that both bounds reach the index psi_tags_tag (epoch, tag) and a bucket costs its rows.
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt,
        reader->Prepare(hi.empty() ? "SELECT tag FROM psi_tags WHERE epoch = ?1 AND tag >= ?2 AND "
                                     "below = ?4 AND live = 1 ORDER BY tag"
                                   : "SELECT tag FROM psi_tags WHERE epoch = ?1 AND tag >= ?2 AND "
                                     "tag < ?3 AND below = ?4 AND live = 1 ORDER BY tag"));
    stmt.Bind(1, epoch).BindBlob(2, Bytes(lo)).Bind(4, below ? 1 : 0);
    if (!hi.empty()) stmt.BindBlob(3, Bytes(hi));
    Status st = stmt.ForEachRow([&](const Statement& row) -> Status {
      if (out.size() >= max_tags) {
        return ResourceExhaustedError("more than " + std::to_string(max_tags) +
                                      " tags in the requested buckets; ask with more bits");
      }
      out.push_back(BlobText(row, 0));
      return Status();
    });
    IOCGRID_RETURN_IF_ERROR(st);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Store::GetPsiLabels(
    uint32_t epoch, std::span<const std::string> tags) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& tag : tags) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement stmt, reader->Prepare("SELECT label FROM psi_tags WHERE epoch = ?1 AND tag = ?2 "
                                        "AND live = 1 ORDER BY id"));
    stmt.Bind(1, epoch).BindBlob(2, Bytes(tag));
    IOCGRID_RETURN_IF_ERROR(
        stmt.ForEachRow([&](const Statement& row) { out.emplace_back(tag, BlobText(row, 0)); }));
  }
  return out;
}

Result<uint64_t> Store::ConsumePsiQuota(int64_t org_id, int64_t day, uint64_t count,
                                        uint64_t limit) {
  uint64_t left = 0;
  Status st = internal::RunWrite(*state_, [&](Connection& c) -> Status {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement used_stmt,
        c.Prepare("SELECT COALESCE((SELECT used FROM psi_quota WHERE org_id = ?1 AND day = ?2), "
                  "0)"));
    used_stmt.Bind(1, org_id).Bind(2, day);
    IOCGRID_ASSIGN_OR_RETURN(bool row, used_stmt.Step());
    const auto used = static_cast<uint64_t>(row ? used_stmt.Int(0) : 0);
    used_stmt.Reset();
    if (used > limit || count > limit - used) {
      return ResourceExhaustedError("Private search quota exceeded: " + std::to_string(limit) +
                                    " OPRF evaluations per organisation per day, " +
                                    std::to_string(used > limit ? 0 : limit - used) +
                                    " left today; asked for " + std::to_string(count) + ".");
    }
    IOCGRID_ASSIGN_OR_RETURN(
        Statement add,
        c.Prepare("INSERT INTO psi_quota (org_id, day, used) VALUES (?1, ?2, ?3) ON CONFLICT "
                  "(org_id, day) DO UPDATE SET used = used + excluded.used"));
    add.Bind(1, org_id).Bind(2, day).Bind(3, static_cast<int64_t>(count));
    IOCGRID_RETURN_IF_ERROR(add.Run());
    // Yesterday's counts are history; keep a week for the operator.
    IOCGRID_ASSIGN_OR_RETURN(Statement prune, c.Prepare("DELETE FROM psi_quota WHERE day < ?1"));
    prune.Bind(1, day - 7);
    IOCGRID_RETURN_IF_ERROR(prune.Run());
    left = limit - used - count;
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  return left;
}

Result<uint64_t> Store::PsiQuotaUsed(int64_t org_id, int64_t day) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  IOCGRID_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT COALESCE((SELECT used FROM psi_quota WHERE org_id = ?1 AND day = "
                      "?2), 0)"));
  stmt.Bind(1, org_id).Bind(2, day);
  IOCGRID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return static_cast<uint64_t>(row ? stmt.Int(0) : 0);
}

Result<PsiStats> Store::GetPsiStats(uint32_t epoch) {
  IOCGRID_ASSIGN_OR_RETURN(ReaderLease reader, state_->AcquireReader());
  PsiStats stats;
  IOCGRID_ASSIGN_OR_RETURN(
      int64_t generation,
      reader->QueryInt("SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                       "'psi_generation'), 0)"));
  stats.generation = static_cast<uint64_t>(generation);
  IOCGRID_ASSIGN_OR_RETURN(
      Statement counts, reader->Prepare("SELECT below, COUNT(*) FROM psi_tags WHERE epoch = ?1 AND "
                                        "live = 1 GROUP BY below"));
  counts.Bind(1, epoch);
  IOCGRID_RETURN_IF_ERROR(counts.ForEachRow([&](const Statement& row) {
    (row.Int(0) != 0 ? stats.below_tags : stats.tags) = static_cast<uint64_t>(row.Int(1));
  }));
  IOCGRID_ASSIGN_OR_RETURN(int64_t pending, reader->QueryInt("SELECT COUNT(*) FROM psi_dirty"));
  stats.pending = static_cast<uint64_t>(pending);
  return stats;
}

}  // namespace iocgrid::store
