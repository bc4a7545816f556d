#include "billctl/store/sqlite/db.hpp"

namespace billctl::store {

void configure_sqlite() {
  // Too late (SQLITE_MISUSE) once SQLite is initialised; the default then stays, which is correct too.
  static const bool once = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)once;
}

Db::Db(const std::string& path) : m_path(path) {
  configure_sqlite();
  const int rc = sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    sqlite3_close(m_db);
    m_db = nullptr;
    throw DataError("cannot open store '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(m_db, 1);
}

Db::~Db() { sqlite3_close_v2(m_db); }

void Db::fail(const std::string& what) const {
  throw DataError("store '" + m_path + "': " + what + ": " + sqlite3_errmsg(m_db));
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw DataError("store '" + m_path + "': " + msg);
  }
}

Stmt::Stmt(Db& db, const char* sql) : m_db(db) {
  if (sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr) != SQLITE_OK)
    db.fail("cannot prepare statement");
}

Stmt::~Stmt() { sqlite3_finalize(m_stmt); }

Stmt& Stmt::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(m_stmt, i, v) != SQLITE_OK) m_db.fail("bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  // An empty view may have no data pointer, which SQLite would store as NULL.
  const char* p = v.data() ? v.data() : "";
  if (sqlite3_bind_text(m_stmt, i, p, int(v.size()), SQLITE_STATIC) != SQLITE_OK) m_db.fail("bind");
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(m_stmt, i) != SQLITE_OK) m_db.fail("bind");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  m_db.fail("query failed");
}

void Stmt::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

void Stmt::rewind() { sqlite3_reset(m_stmt); }

std::string_view Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
  return p ? std::string_view(p, size_t(sqlite3_column_bytes(m_stmt, col))) : std::string_view();
}

Transaction::Transaction(Db& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!m_done) sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  m_db.exec("COMMIT");
  m_done = true;
}

}  // namespace billctl::store
