// What `billctl doctor` reports about a store file, read without changing it (no migration, no
// WAL switch, read-only connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace billctl::store {

struct StoreFacts {
  bool exists = false;
  std::string error;      // the file could not be opened or read as a store
  int schema = 0;         // PRAGMA user_version
  std::string integrity;  // PRAGMA quick_check: "ok" or its first complaint
  int64_t file_bytes = 0;
  int64_t wal_bytes = 0;
  int64_t records = 0;
  std::optional<int64_t> first_ts, last_ts;  // of the stored usage
};

StoreFacts inspect_store(const std::string& path);

}  // namespace billctl::store
