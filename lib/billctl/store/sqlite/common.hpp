// What the SQLite adapters share: the stored cost encoding, the scan-or-index choice for a time
// range of the usage table, and transactions handed to the domain as util::Txn.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/store/sqlite/db.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/usage/record.hpp"
#include "billctl/util/time.hpp"
#include "billctl/util/txn.hpp"

namespace billctl::store {

// A stored cost: whole 1e-6 units (cost_micro) and the rest in 1e-12 units (cost_pico).
inline constexpr money::i128 k_cost_micro = 1'000'000;
inline money::Decimal stored_cost(int64_t micro, int64_t pico) {
  return money::Decimal::from_units(money::i128(micro) * k_cost_micro + pico);
}

// The columns of a stored record that every reader of records selects, in the order read_record
// reads them (a query may select columns before and after them).
inline constexpr const char* k_record_columns =
    "ts, provider, model, organization, department, user, feature, project, input_tokens, cached_input_tokens,"
    " cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status, cost_micro, cost_pico,"
    " currency, cost_source, meter";
inline constexpr int k_record_column_count = 21;

// A stored status (as usage::status_name wrote it).
inline usage::Status stored_status(std::string_view text) { return text == "error" ? usage::Status::error : usage::Status::ok; }

// Reads input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens
// and requests from column `at` on into `r`.
inline void read_counts(const Stmt& s, int at, usage::UsageRecord& r) {
  r.input_tokens = s.int64(at);
  r.cached_input_tokens = s.int64(at + 1);
  r.cache_write_tokens = s.int64(at + 2);
  r.cache_write_1h_tokens = s.int64(at + 3);
  r.output_tokens = s.int64(at + 4);
  r.requests = s.int64(at + 5);
}

// Reads cost_micro, cost_pico, currency and cost_source from column `at` on into `pr` and `r`;
// `code` and `currency` remember the last currency read, so that a scan resolves a code once per change.
inline void read_cost(const Stmt& s, int at, usage::UsageRecord& r, usage::PricedRecord& pr, std::string& code,
                      money::Currency& currency) {
  pr.cost = stored_cost(s.int64(at), s.int64(at + 1));
  if (s.text(at + 2) != code) {
    code = s.text(at + 2);
    currency = money::currency(code);
  }
  r.currency = currency;
  pr.source = usage::CostSource(s.int64(at + 3));
}

// Reads the k_record_columns of the current row, starting at column `at`, into `r` and `pr` (its
// cost and where the cost came from). The texts are views into the row. `code` and `currency`
// remember the last currency read, so that a scan resolves a code once per change.
inline void read_record(const Stmt& s, int at, usage::UsageRecord& r, usage::PricedRecord& pr, std::string& code,
                        money::Currency& currency) {
  r.timestamp = s.int64(at);
  r.provider = s.text(at + 1);
  r.model = s.text(at + 2);
  r.organization = s.text(at + 3);
  r.department = s.text(at + 4);
  r.user = s.text(at + 5);
  r.feature = s.text(at + 6);
  r.project = s.text(at + 7);
  read_counts(s, at + 8, r);
  usage::parse_tier(s.text(at + 14), r.tier);
  r.status = stored_status(s.text(at + 15));
  read_cost(s, at + 16, r, pr, code, currency);
  r.meter = s.text(at + 20);
}

// Totals from 11 consecutive columns starting at `col`, in this order: records, requests,
// error_requests, input, cached input, cache write 5m, cache write 1h, output, unpriced records,
// cost_micro, cost_pico.
inline usage::Totals totals_at(const Stmt& s, int col) {
  usage::Totals t;
  t.records = s.int64(col);
  t.requests = s.int64(col + 1);
  t.error_requests = s.int64(col + 2);
  t.input_tokens = s.int64(col + 3);
  t.cached_input_tokens = s.int64(col + 4);
  t.cache_write_tokens = s.int64(col + 5);
  t.cache_write_1h_tokens = s.int64(col + 6);
  t.output_tokens = s.int64(col + 7);
  t.unpriced_records = s.int64(col + 8);
  t.cost = stored_cost(s.int64(col + 9), s.int64(col + 10)).units();
  return t;
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
