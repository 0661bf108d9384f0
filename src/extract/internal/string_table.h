// StringTable: an open-addressing hash table from strings to a 32-bit set of
// flags, built once and then only read. The extractor's warninglists (hundreds
// of thousands of lookups per megabyte of an indicator-dense report) use it
// instead of std::unordered_set<std::string>, whose lookups by std::string_view
// allocate a key each time.
//
// Thread-safety: Add() is not thread-safe; Find() is const and safe from any
// thread once the table is no longer modified.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iocgrid::extract::internal {

// A fast 64-bit hash of a short byte string (8 bytes per step; not for
// untrusted keys in a table whose collisions an attacker could exploit beyond
// linear probing's cost).
uint64_t HashBytes(std::string_view s);

class StringTable {
 public:
  // ORs `flags` (non-zero) into the flags of `key`, inserting it when new.
  void Add(std::string_view key, uint32_t flags);

  // The flags of `key`; 0 when absent.
  uint32_t Find(std::string_view key) const { return Find(key, HashBytes(key)); }
  uint32_t Find(std::string_view key, uint64_t hash) const;

  size_t size() const { return used_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t flags = 0;  // 0: empty
  };

  void Rehash(size_t capacity);

  std::string keys_;         // every key, back to back
  std::vector<Slot> slots_;  // a power of two, at most half full
  size_t used_ = 0;
};

}  // namespace iocgrid::extract::internal
