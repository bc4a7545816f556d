#include "billctl/store/sqlite/adapters.hpp"
#include "billctl/store/sqlite/common.hpp"

#include "billctl/util/io.hpp"

namespace billctl::store {

namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, const std::function<void(const std::string&)>& notice)
    : m_db((util::make_dirs(parent_dir(path)), path)) {
  sqlite3_busy_timeout(m_db.handle(), k_busy_ms);
  m_db.exec("PRAGMA foreign_keys = ON");
  const int before = store::schema_version(m_db);
  migrate(m_db, notice);
  m_usage = std::make_unique<SqliteUsage>(m_db);
  m_prices = std::make_unique<SqlitePrices>(m_db);
  m_budgets = std::make_unique<SqliteBudgets>(m_db);
  m_alerts = std::make_unique<SqliteAlerts>(m_db);
  m_ledger = std::make_unique<SqliteLedger>(m_db);
  m_invoices = std::make_unique<SqliteInvoices>(m_db);
  m_pulls = std::make_unique<SqlitePullLog>(m_db);
  m_templates = std::make_unique<SqliteTemplates>(m_db);
  m_access = std::make_unique<SqliteAccess>(m_db);
  if (before > 0 && before < 8) {
    // Budgets stored before pair rollups existed get theirs now, once.
    Transaction t(m_db);
    register_scope_combos(m_db, m_budgets->list_budgets());
    t.commit();
  }
}

SqliteStore::~SqliteStore() = default;

std::vector<Combo> SqliteStore::rollup_combos() { return registered_combos(m_db); }

usage::Source& SqliteStore::usage() { return *m_usage; }
ingest::ImportStore& SqliteStore::imports() { return *m_usage; }
pricing::PriceStore& SqliteStore::prices() { return *m_prices; }
budgets::BudgetStore& SqliteStore::budgets() { return *m_budgets; }
notify::AlertLog& SqliteStore::alerts() { return *m_alerts; }
credits::LedgerStore& SqliteStore::ledger() { return *m_ledger; }
billing::InvoiceStore& SqliteStore::invoices() { return *m_invoices; }
providers::PullLog& SqliteStore::pulls() { return *m_pulls; }
report::TemplateStore& SqliteStore::templates() { return *m_templates; }
serve::AccessStore& SqliteStore::access() { return *m_access; }

void SqliteStore::set_scan_threads(unsigned n, int64_t min_rows) { m_usage->set_scan_threads(n, min_rows); }
void SqliteStore::set_use_rollups(bool on) { m_usage->set_use_rollups(on); }
void SqliteStore::set_max_rollup_slots(size_t n) { m_usage->set_max_rollup_slots(n); }
void SqliteStore::set_partial_index_rows(uint64_t n) { m_usage->set_partial_index_rows(n); }

std::vector<ingest::LoggedImport> SqliteStore::stored_imports() {
  Stmt s(m_db,
         "SELECT i.id, i.at, i.source, i.digest, i.format, i.bytes, i.rows_accepted, i.rows_rejected, i.rows_replaced,"
         " i.rows_unpriced, i.min_ts, i.max_ts, c.name, c.hash, c.as_of FROM imports i LEFT JOIN catalogs c ON c.id = i.catalog_id"
         " ORDER BY i.id");
  std::vector<ingest::LoggedImport> out;
  while (s.step()) {
    ingest::LoggedImport i;
    i.log = {s.int64(0), std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3)), std::string(s.text(4)),
             std::string(s.text(12)), s.int64(6), s.int64(7), s.int64(8), s.int64(9)};
    i.bytes = s.int64(5);
    if (!s.is_null(10) && !s.is_null(11)) {
      i.min_ts = s.int64(10);
      i.max_ts = s.int64(11);
    }
    i.catalog = {std::string(s.text(12)), std::string(s.text(13)), std::string(s.text(14)), 0};
    out.push_back(std::move(i));
  }
  return out;
}

void SqliteStore::scan_import_records(int64_t import_id, const std::function<void(const usage::PricedRecord&)>& fn) {
  std::string sql = std::string("SELECT id, ") + k_record_columns + ", quantity, unit, session FROM usage";
  sql += import_id > 0 ? " WHERE import_id = ?1 ORDER BY rowid" : " WHERE import_id NOT IN (SELECT id FROM imports) ORDER BY rowid";
  Stmt s(m_db, sql.c_str());
  if (import_id > 0) s.bind(1, import_id);
  usage::UsageRecord r;
  usage::PricedRecord pr;
  pr.record = &r;
  std::string last_currency;
  money::Currency currency;
  constexpr int q = 1 + k_record_column_count;  // quantity, unit, session follow the record's columns
  while (s.step()) {
    r.id = s.text(0);
    read_record(s, 1, r, pr, last_currency, currency);
    r.quantity = r.meter.empty() ? money::Decimal()
                                 : money::Decimal::parse(s.text(q)).value_or_throw("stored quantity of record '" + std::string(r.id) + "'");
    r.unit = s.text(q + 1);
    r.session = s.text(q + 2);
    fn(pr);
  }
}

std::string default_db_path(const std::string& flag, const std::string& env_db, const std::string& xdg_data_home,
                            const std::string& home) {
  if (!flag.empty()) return flag;
  if (!env_db.empty()) return env_db;
  if (!xdg_data_home.empty()) return xdg_data_home + "/billctl/billctl.db";
  if (home.empty()) throw UsageError("cannot find a place for the store: set --db, BILLCTL_DB or HOME");
  return home + "/.local/share/billctl/billctl.db";
}

}  // namespace billctl::store
