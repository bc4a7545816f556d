// What the SQLite adapters share: the stored cost encoding, the scan-or-index choice for a time
// range of the usage table, and transactions handed to the domain as util::Txn.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "billctl/money/decimal.hpp"
#include "billctl/store/sqlite/db.hpp"
#include "billctl/util/time.hpp"
#include "billctl/util/txn.hpp"

namespace billctl::store {

// A stored cost: whole 1e-6 units (cost_micro) and the rest in 1e-12 units (cost_pico).
inline constexpr money::i128 k_cost_micro = 1'000'000;
inline money::Decimal stored_cost(int64_t micro, int64_t pico) {
  return money::Decimal::from_units(money::i128(micro) * k_cost_micro + pico);
}

// Whether reading [begin, end) of the usage table is faster as a whole-table scan than through the
// ts index: walking the index costs a random row lookup per record, worth it for a small slice of
// the stored time span only.
bool scan_whole_table(Db& db, util::Seconds begin, util::Seconds end);

// " IN (?first, ?first+1, ...)" for n bound values.
inline std::string in_list(size_t first, size_t n) {
  std::string s = " IN (";
  for (size_t i = 0; i < n; ++i) s += (i ? ", ?" : "?") + std::to_string(first + i);
  return s + ")";
}

// The first column of every row of a query without parameters.
inline std::vector<std::string> column_texts(Db& db, const char* sql) {
  std::vector<std::string> out;
  Stmt s(db, sql);
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

class SqliteTxn : public util::Txn {
 public:
  explicit SqliteTxn(Db& db) : m_txn(db) {}
  void commit() override { m_txn.commit(); }

 private:
  Transaction m_txn;
};

inline std::unique_ptr<util::Txn> begin_txn(Db& db) { return std::make_unique<SqliteTxn>(db); }

}  // namespace billctl::store
