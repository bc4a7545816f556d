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

// Imports wait for each other on an exclusive lock of `lock_path` (when not empty). With
// `verbatim`, the log row is that import's as another store logged it, tagged with `origin`.
std::unique_ptr<ingest::ImportTxn> begin_clickhouse_import(Client& client, const std::string& lock_path,
                                                           const usage::CatalogInfo& catalog, util::Seconds now,
                                                           const ingest::LoggedImport* verbatim = nullptr,
                                                           std::string origin = {});

}  // namespace billctl::store::ch
