// The embedded store's schema: version, migrations (all in schema.cpp, never edited once shipped).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "billctl/store/sqlite/db.hpp"

namespace billctl::store {

inline constexpr int k_schema_version = 16;
// Stores with at least this many records get a notice before an upgrade reads them all.
inline constexpr int64_t k_upgrade_notice_rows = 100000;

// PRAGMA user_version of the file.
int schema_version(Db& db);
// Switches to WAL and migrates to k_schema_version in one transaction; refuses a newer store.
// `notice` is told when an upgrade will read every record of a large store (it takes seconds).
void migrate(Db& db, const std::function<void(const std::string&)>& notice = {});
// CREATE statements of the usage table's indexes, the unique id index first (an import into an
// empty store builds them after loading), and their names in the same order: the id, the time,
// and the partial indexes of the records with a meter and of those with a session.
std::vector<std::string> usage_indexes();
inline constexpr const char* k_usage_index_names[] = {"usage_id", "usage_ts", "usage_meter_ts", "usage_session_ts"};

}  // namespace billctl::store
