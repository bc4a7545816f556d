#include "billctl/store/sqlite/inspect.hpp"

#include "billctl/store/sqlite/db.hpp"
#include "billctl/store/sqlite/schema.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

namespace billctl::store {

namespace {

int64_t file_size(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? int64_t(st.st_size) : 0;
}

// The first column of the first row of `sql`; nullopt for no row or NULL.
std::optional<std::string> one(sqlite3* db, const char* sql, std::string& error) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    if (error.empty()) error = sqlite3_errmsg(db);
    return std::nullopt;
  }
  std::optional<std::string> out;
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
    out = std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), size_t(sqlite3_column_bytes(s, 0)));
  else if (rc != SQLITE_ROW && rc != SQLITE_DONE && error.empty())
    error = sqlite3_errmsg(db);
  sqlite3_finalize(s);
  return out;
}

}  // namespace

StoreFacts inspect_store(const std::string& path) {
  StoreFacts f;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return f;
  f.exists = true;
  f.file_bytes = int64_t(st.st_size);
  f.wal_bytes = file_size(path + "-wal");
  sqlite3* db = nullptr;
  configure_sqlite();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    f.error = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return f;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string error;
  f.schema = std::stoi(one(db, "PRAGMA user_version", error).value_or("0"));
  f.integrity = one(db, "PRAGMA quick_check", error).value_or("");
  // A schema this billctl knows has the usage table (a newer one may not).
  if (f.schema > 0 && f.schema <= k_schema_version && error.empty()) {
    f.records = std::stoll(one(db, "SELECT count(*) FROM usage", error).value_or("0"));
    // Two statements: SQLite answers a lone min() or max() from the index.
    if (auto v = one(db, "SELECT min(ts) FROM usage", error)) f.first_ts = std::stoll(*v);
    if (auto v = one(db, "SELECT max(ts) FROM usage", error)) f.last_ts = std::stoll(*v);
  }
  f.error = error;
  sqlite3_close(db);
  return f;
}

}  // namespace billctl::store
