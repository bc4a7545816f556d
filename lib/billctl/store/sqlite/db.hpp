// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Errors become DataError with SQLite's message and the database path.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "billctl/util/error.hpp"

namespace billctl::store {

// How long a connection waits for another's lock: a concurrent import waits up to 10 minutes.
inline constexpr int k_busy_ms = 600000;

// Settings SQLite takes once, before its first connection: no memory statistics, so its
// allocations do not take a process-wide mutex each (billctl reads none of them). Connections call it.
void configure_sqlite();

class Db {
 public:
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);
  sqlite3* handle() const { return m_db; }
  const std::string& path() const { return m_path; }
  [[noreturn]] void fail(const std::string& what) const;
  int64_t changes() const { return sqlite3_changes64(m_db); }
  int64_t last_rowid() const { return sqlite3_last_insert_rowid(m_db); }

 private:
  sqlite3* m_db = nullptr;
  std::string m_path;
};

class Stmt {
 public:
  Stmt(Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, std::string_view v);  // the bytes must outlive the step
  Stmt& bind_null(int i);
  // Steps once: true when a row is available.
  bool step();
  void reset();
  // Resets without clearing the bound values: for a hot loop that binds every parameter before
  // each step (clearing 26 of them a row cost ~3 % of an import's writing).
  void rewind();
  int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
  std::string_view text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
  sqlite3_stmt* handle() const { return m_stmt; }

 private:
  Db& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

// BEGIN IMMEDIATE on construction (waiting for other writers up to the busy timeout);
// ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();

 private:
  Db& m_db;
  bool m_done = false;
};

}  // namespace billctl::store
