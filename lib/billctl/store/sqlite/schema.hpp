// The embedded store's schema: version, migrations (all in schema.cpp, never edited once shipped).
#pragma once

#include "billctl/store/sqlite/db.hpp"

namespace billctl::store {

inline constexpr int k_schema_version = 11;

// PRAGMA user_version of the file.
int schema_version(Db& db);
// Switches to WAL and migrates to k_schema_version in one transaction; refuses a newer store.
void migrate(Db& db);

}  // namespace billctl::store
