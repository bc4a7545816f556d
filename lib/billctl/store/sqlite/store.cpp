#include "billctl/store/sqlite/adapters.hpp"

#include "billctl/util/io.hpp"

namespace billctl::store {

namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : m_db((util::make_dirs(parent_dir(path)), path)) {
  sqlite3_busy_timeout(m_db.handle(), 600000);  // a concurrent import waits up to 10 minutes
  m_db.exec("PRAGMA foreign_keys = ON");
  const int before = store::schema_version(m_db);
  migrate(m_db);
  m_usage = std::make_unique<SqliteUsage>(m_db);
  m_prices = std::make_unique<SqlitePrices>(m_db);
  m_budgets = std::make_unique<SqliteBudgets>(m_db);
  m_alerts = std::make_unique<SqliteAlerts>(m_db);
  m_ledger = std::make_unique<SqliteLedger>(m_db);
  m_invoices = std::make_unique<SqliteInvoices>(m_db);
  m_pulls = std::make_unique<SqlitePullLog>(m_db);
  m_templates = std::make_unique<SqliteTemplates>(m_db);
  if (before > 0 && before < 8) {
    // Budgets stored before pair rollups existed get theirs now, once.
    Transaction t(m_db);
    register_scope_combos(m_db, m_budgets->list_budgets());
    t.commit();
  }
}

SqliteStore::~SqliteStore() = default;

usage::Source& SqliteStore::usage() { return *m_usage; }
ingest::ImportStore& SqliteStore::imports() { return *m_usage; }
pricing::PriceStore& SqliteStore::prices() { return *m_prices; }
budgets::BudgetStore& SqliteStore::budgets() { return *m_budgets; }
notify::AlertLog& SqliteStore::alerts() { return *m_alerts; }
credits::LedgerStore& SqliteStore::ledger() { return *m_ledger; }
billing::InvoiceStore& SqliteStore::invoices() { return *m_invoices; }
providers::PullLog& SqliteStore::pulls() { return *m_pulls; }
report::TemplateStore& SqliteStore::templates() { return *m_templates; }

void SqliteStore::set_scan_threads(unsigned n, int64_t min_rows) { m_usage->set_scan_threads(n, min_rows); }
void SqliteStore::set_use_rollups(bool on) { m_usage->set_use_rollups(on); }
void SqliteStore::set_max_rollup_slots(size_t n) { m_usage->set_max_rollup_slots(n); }

std::string default_db_path(const std::string& flag, const std::string& env_db, const std::string& xdg_data_home,
                            const std::string& home) {
  if (!flag.empty()) return flag;
  if (!env_db.empty()) return env_db;
  if (!xdg_data_home.empty()) return xdg_data_home + "/billctl/billctl.db";
  if (home.empty()) throw UsageError("cannot find a place for the store: set --db, BILLCTL_DB or HOME");
  return home + "/.local/share/billctl/billctl.db";
}

}  // namespace billctl::store
