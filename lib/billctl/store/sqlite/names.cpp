#include "billctl/store/sqlite/names.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

#include "billctl/store/sqlite/db.hpp"
#include "billctl/store/sqlite/schema.hpp"

namespace billctl::store {

namespace {

// The next value of `dim` in the rollup at or after the previous one, while it has the prefix.
constexpr const char* k_dimension_sql = R"sql(
WITH RECURSIVE v(x) AS (
  SELECT (SELECT min(value) FROM usage_dim_hourly WHERE dim = ?1 AND value >= ?2)
  UNION ALL
  SELECT (SELECT min(value) FROM usage_dim_hourly WHERE dim = ?1 AND value > x) FROM v
  WHERE x IS NOT NULL AND substr(x, 1, length(?2)) = ?2)
SELECT x FROM v WHERE x IS NOT NULL AND x != '' AND substr(x, 1, length(?2)) = ?2 LIMIT ?3)sql";

const char* sql_for(NameKind kind) {
  switch (kind) {
    case NameKind::budget: return "SELECT name FROM budgets WHERE substr(name, 1, length(?2)) = ?2 ORDER BY name LIMIT ?3";
    case NameKind::invoice:
      return "SELECT number FROM invoices WHERE substr(number, 1, length(?2)) = ?2 ORDER BY number LIMIT ?3";
    case NameKind::report_template:
      return "SELECT name FROM report_templates WHERE substr(name, 1, length(?2)) = ?2 ORDER BY name LIMIT ?3";
    case NameKind::organization:
      return "SELECT organization FROM plan_assignments WHERE substr(organization, 1, length(?2)) = ?2 "
             "UNION SELECT DISTINCT organization FROM credit_ledger WHERE substr(organization, 1, length(?2)) = ?2 "
             "ORDER BY 1 LIMIT ?3";
    case NameKind::dimension: return k_dimension_sql;
  }
  return "";
}

void collect(sqlite3* db, const char* sql, std::string_view dim, std::string_view prefix, size_t limit,
             std::vector<std::string>& out) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return;
  }
  sqlite3_bind_text(s, 1, dim.data(), int(dim.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, prefix.data(), int(prefix.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, sqlite3_int64(limit));
  while (sqlite3_step(s) == SQLITE_ROW)
    if (sqlite3_column_type(s, 0) != SQLITE_NULL)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), size_t(sqlite3_column_bytes(s, 0)));
  sqlite3_finalize(s);
}

}  // namespace

std::vector<std::string> stored_names(const std::string& path, NameKind kind, std::string_view prefix, size_t limit,
                                      std::string_view dim) {
  std::vector<std::string> out;
  struct stat st{};
  if (limit == 0 || ::stat(path.c_str(), &st) != 0) return out;
  sqlite3* db = nullptr;
  configure_sqlite();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 200);
  sqlite3_stmt* v = nullptr;
  int schema = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, nullptr) == SQLITE_OK && sqlite3_step(v) == SQLITE_ROW)
    schema = sqlite3_column_int(v, 0);
  sqlite3_finalize(v);
  if (schema == k_schema_version) {
    if (kind == NameKind::organization) collect(db, k_dimension_sql, "organization", prefix, limit, out);
    collect(db, sql_for(kind), dim, prefix, limit, out);
  }
  sqlite3_close(db);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace billctl::store
