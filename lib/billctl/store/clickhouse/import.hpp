// An import into ClickHouse (see usage.hpp for the design): records stream out in RowBinary
// batches tagged with the import's transaction, their hourly rollup is summed here and written
// under the same transaction, and commit() cancels the versions they replace and writes the import
// log rows, the one INSERT that makes all of it visible. Destroyed uncommitted, it deletes its rows.
#pragma once

#include <memory>
#include <string>

#include "billctl/ingest/import_store.hpp"
#include "billctl/store/clickhouse/client.hpp"

namespace billctl::store::ch {

// An exclusive lock of a file (none when the path is empty), held while it lives: imports and
// rollup registrations into one database take it through the same state file, one at a time.
class WriterLock {
 public:
  WriterLock(const std::string& path, const char* what);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int m_fd = -1;
};

// Imports that started more than this long ago and never committed were killed: the next import
// takes out their rows (invisible all along). A day, so that a writer through another state file
// (which does not share the lock) is never mistaken for one.
inline constexpr int64_t k_garbage_age = 86400;
// Takes out the rows of imports killed before their commit point (logged in `pending` when they
// started, at `wall_now`), from the records and the rollup.
void collect_garbage(Client& client, int64_t wall_now);

// Imports wait for each other on an exclusive lock of `lock_path` (when not empty). Provider data
// (billed lines, pulled days, the pull cursor) goes to `state`, the embedded store, in a
// transaction committed after this one. With `verbatim`, the log row is that import's as another
// store logged it, tagged with `origin`.
std::unique_ptr<ingest::ImportTxn> begin_clickhouse_import(Client& client, const std::string& lock_path,
                                                           ingest::ImportStore* state, const usage::CatalogInfo& catalog,
                                                           util::Seconds now,
                                                           const ingest::LoggedImport* verbatim = nullptr,
                                                           std::string origin = {});

}  // namespace billctl::store::ch
