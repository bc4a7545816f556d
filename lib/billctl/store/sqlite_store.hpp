// The embedded store: one SQLite file (WAL) holding usage, the import log and the user's prices.
// The schema is versioned (PRAGMA user_version) and migrated forward on open.
#pragma once

#include <memory>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
#include "billctl/store/sqlite.hpp"
#include "billctl/store/store.hpp"

namespace billctl::store {

struct ImportLogRow {
  int64_t id = 0;
  std::string at, source, digest, format, catalog;
  int64_t accepted = 0, rejected = 0, replaced = 0, unpriced = 0;
};

// One alert on one channel: sent at most once.
struct AlertKey {
  std::string budget, period, stage, channel;
};

class SqliteStore : public UsageStore {
 public:
  static constexpr int k_schema_version = 7;

  // Opens (creating the file and its directory when missing) and migrates.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;

  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<pricing::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;

  // Starts an atomic import priced by `catalog` at time `now`; waits while another writer works.
  std::unique_ptr<ImportTxn> begin_import(const pricing::CatalogInfo& catalog, util::Seconds now);
  std::vector<ImportLogRow> import_log(size_t limit);

  // User price entries (prices import): they replace the built-in timelines of their models.
  std::vector<pricing::PriceEntry> user_prices();
  // Stores the entries, replacing earlier user entries of the same models. Returns models stored.
  size_t save_user_prices(const std::vector<pricing::PriceEntry>& entries, const std::string& name, util::Seconds now);
  std::string user_catalog_name();

  // Budgets (replaced whole by name).
  std::vector<budgets::Budget> list_budgets();
  // The currencies of the stored usage costs (from the rollup: cheap).
  std::vector<std::string> usage_currencies();
  void put_budget(const budgets::Budget& b, util::Seconds now);
  // Removes all the named budgets, or none: returns the names not found (nothing removed then).
  std::vector<std::string> remove_budgets(const std::vector<std::string>& names);
  // Stores `put` and removes `remove` in one transaction (budgets apply).
  void apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove, util::Seconds now);

  // Alert bookkeeping for budgets notify. claim_alert is true when this run should send it
  // (not sent, not being sent by another run); finish_alert records the outcome; a failed alert
  // is claimed again by the next run.
  bool claim_alert(const AlertKey& k, util::Seconds now);
  void finish_alert(const AlertKey& k, bool sent, const std::string& error, util::Seconds now);
  // Records a lower stage as covered by a higher one that was sent.
  void supersede_alert(const AlertKey& k, util::Seconds now);
  bool alert_sent(const AlertKey& k);
  // Periods for which alerts were sent on a channel (PagerDuty resolves the ended ones).
  std::vector<std::string> alerted_periods(const std::string& budget, const std::string& channel);

  int schema_version();
  // Reading threads for large scans (1 or 2) and the row count from which a scan is split (tests).
  void set_scan_threads(unsigned n, int64_t min_rows = 500000) {
    m_scan_threads = n;
    m_parallel_min_rows = min_rows;
  }
  Db& db() { return m_db; }

 private:
  void migrate();
  std::vector<usage::AggResult> scan(Db& db, const std::string& sql, util::Seconds begin, util::Seconds end,
                                     const std::optional<usage::Filter>& shared, int64_t rowid_after, int64_t rowid_upto,
                                     const std::vector<usage::AggQuery>& queries);
  Db m_db;
  unsigned m_scan_threads = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  int64_t m_parallel_min_rows = 500000;
};

// A stored cost: whole 1e-6 units (cost_micro) and the rest in 1e-12 units (cost_pico).
inline constexpr money::i128 k_cost_micro = 1'000'000;
inline money::Decimal stored_cost(int64_t micro, int64_t pico) {
  return money::Decimal::from_units(money::i128(micro) * k_cost_micro + pico);
}

// Whether reading [begin, end) of the usage table is faster as a whole-table scan than through the
// ts index: walking the index costs a random row lookup per record, worth it for a small slice of
// the stored time span only.
bool scan_whole_table(Db& db, util::Seconds begin, util::Seconds end);

// The store path: --db, else $BILLCTL_DB, else $XDG_DATA_HOME/billctl/billctl.db
// (XDG_DATA_HOME defaulting to $HOME/.local/share).
std::string default_db_path(const std::string& flag, const std::string& env_db, const std::string& xdg_data_home,
                            const std::string& home);

}  // namespace billctl::store
