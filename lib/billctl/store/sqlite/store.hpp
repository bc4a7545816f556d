// The embedded store: one SQLite file (WAL) holding usage, the import log, the user's prices,
// budgets, the alert log, the credit ledger and invoices. SqliteStore opens (and migrates) the file
// and hands out one adapter per domain interface; nothing outside store/ sees its SQL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "billctl/billing/invoice_store.hpp"
#include "billctl/budgets/budget_store.hpp"
#include "billctl/credits/ledger_store.hpp"
#include "billctl/ingest/import_store.hpp"
#include "billctl/notify/alert_log.hpp"
#include "billctl/pricing/price_store.hpp"
#include "billctl/providers/pull_store.hpp"
#include "billctl/report/templates.hpp"
#include "billctl/serve/access.hpp"
#include "billctl/store/combo.hpp"
#include "billctl/store/sqlite/db.hpp"
#include "billctl/store/sqlite/schema.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::store {

class SqliteUsage;
class SqlitePrices;
class SqliteBudgets;
class SqliteAlerts;
class SqliteLedger;
class SqliteInvoices;
class SqlitePullLog;
class SqliteTemplates;
class SqliteAccess;

class SqliteStore {
 public:
  // Opens (creating the file and its directory when missing) and migrates; `notice` is told when
  // an upgrade will take a while (see migrate()).
  explicit SqliteStore(const std::string& path, const std::function<void(const std::string&)>& notice = {});
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  usage::Source& usage();
  ingest::ImportStore& imports();
  pricing::PriceStore& prices();
  budgets::BudgetStore& budgets();
  notify::AlertLog& alerts();
  credits::LedgerStore& ledger();
  billing::InvoiceStore& invoices();
  providers::PullLog& pulls();
  report::TemplateStore& templates();
  serve::AccessStore& access();

  const std::string& path() const { return m_db.path(); }
  // Every logged import, oldest first.
  std::vector<ingest::LoggedImport> stored_imports();
  // The records an import wrote and still holds (id 0: records whose import is not logged), in
  // the order they were stored.
  void scan_import_records(int64_t import_id, const std::function<void(const usage::PricedRecord&)>& fn);
  int schema_version() { return store::schema_version(m_db); }
  // The pairs and triples of dimensions with a rollup of their own.
  std::vector<Combo> rollup_combos();
  // Reading threads for large scans (1 or 2) and the row count from which a scan is split (tests).
  void set_scan_threads(unsigned n, int64_t min_rows = 500000);
  // Answer every query by scanning the records (tests compare the rollups with this).
  void set_use_rollups(bool on);
  // Rollup slots an import keeps in memory before writing them (tests lower it).
  void set_max_rollup_slots(size_t n);
  // Records with a meter (or a session) an import into an empty store loads with their partial
  // index in place, before it drops it to build afterwards (tests lower it).
  void set_partial_index_rows(uint64_t n);

 private:
  Db m_db;
  std::unique_ptr<SqliteUsage> m_usage;
  std::unique_ptr<SqlitePrices> m_prices;
  std::unique_ptr<SqliteBudgets> m_budgets;
  std::unique_ptr<SqliteAlerts> m_alerts;
  std::unique_ptr<SqliteLedger> m_ledger;
  std::unique_ptr<SqliteInvoices> m_invoices;
  std::unique_ptr<SqlitePullLog> m_pulls;
  std::unique_ptr<SqliteTemplates> m_templates;
  std::unique_ptr<SqliteAccess> m_access;
};

// The store path: --db, else $BILLCTL_DB, else $XDG_DATA_HOME/billctl/billctl.db
// (XDG_DATA_HOME defaulting to $HOME/.local/share).
std::string default_db_path(const std::string& flag, const std::string& env_db, const std::string& xdg_data_home,
                            const std::string& home);

}  // namespace billctl::store
