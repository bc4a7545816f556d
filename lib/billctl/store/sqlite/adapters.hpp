// The SQLite adapters, one per domain interface, all on one connection (so a transaction begun
// through one covers writes through the others). Internal to store/sqlite: the rest of billctl
// sees them as the interfaces SqliteStore hands out.
#pragma once

#include <optional>
#include <thread>

#include "billctl/billing/invoice.hpp"
#include "billctl/store/sqlite/common.hpp"
#include "billctl/store/sqlite/rollup.hpp"
#include "billctl/store/sqlite/store.hpp"

namespace billctl::store {

// The usage table with its hourly rollup: aggregation (usage::Source) and imports.
class SqliteUsage : public usage::Source, public ingest::ImportStore {
 public:
  explicit SqliteUsage(Db& db) : m_db(db) {}
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override;
  std::unique_ptr<ingest::ImportTxn> begin_import(const usage::CatalogInfo& catalog, util::Seconds now) override;
  std::vector<ingest::ImportLogRow> import_log(size_t limit) override;
  std::vector<std::string> usage_currencies() override;
  void set_scan_threads(unsigned n, int64_t min_rows) {
    m_scan_threads = n;
    m_parallel_min_rows = min_rows;
  }
  void set_use_rollups(bool on) { m_use_rollups = on; }
  // Both bounds (into a store with records, and into an empty one).
  void set_max_rollup_slots(size_t n) { m_max_slots = m_max_bulk_slots = n; }
  // Records with a meter (or with a session) an import into an empty store keeps their partial
  // index up to while it loads.
  void set_partial_index_rows(uint64_t n) { m_partial_rows = n; }

 private:
  // The columns a scan for some queries reads (scan_columns), as SQL and as what to read back.
  struct ScanColumns {
    std::vector<usage::Dim> texts;  // text dimensions, in the order read
    bool tier = false, status = false;
    bool totals = false;  // tokens, requests, status and cost (no query only counts records)
    bool meters = false;  // quantity and unit
    std::string sql;
  };
  static ScanColumns scan_columns(const std::vector<usage::AggQuery>& queries);
  // One scan of the records for every query.
  std::vector<usage::AggResult> scan_all(const std::vector<usage::AggQuery>& queries);
  usage::AggResult from_rollup(const usage::AggQuery& q, const std::optional<Combo>& combo);
  usage::AggResult from_presence(const usage::AggQuery& q, usage::Dim dim);
  usage::AggResult rollup_hours(const usage::AggQuery& q, int64_t h0, int64_t h1, const std::optional<Combo>& combo);
  std::vector<usage::AggResult> scan(Db& db, const std::string& sql, util::Seconds begin, util::Seconds end,
                                     const std::optional<usage::Filter>& shared, int64_t rowid_after, int64_t rowid_upto,
                                     const std::vector<usage::AggQuery>& queries, const ScanColumns& cols);
  Db& m_db;
  unsigned m_scan_threads = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  int64_t m_parallel_min_rows = 500000;
  bool m_use_rollups = true;
  size_t m_max_slots = k_max_slots;
  size_t m_max_bulk_slots = k_max_bulk_slots;
  uint64_t m_partial_rows = 100'000;
};

class SqliteAccess : public serve::AccessStore {
 public:
  explicit SqliteAccess(Db& db) : m_db(db) {}
  bool add_client(const serve::Client& c) override;
  std::optional<serve::Client> find_client(const std::string& name) override;
  std::vector<serve::Client> list_clients() override;
  bool remove_client(const std::string& name) override;
  std::optional<serve::MutationRecord> find_mutation(const std::string& actor, const std::string& key) override;
  void record_mutation(const serve::MutationRecord& m) override;
  std::vector<serve::MutationRecord> mutations(size_t limit) override;
  int64_t add_plan_request(const serve::PlanRequest& r) override;
  std::vector<serve::PlanRequest> plan_requests() override;

 private:
  Db& m_db;
};

class SqlitePullLog : public providers::PullLog {
 public:
  explicit SqlitePullLog(Db& db) : m_db(db) {}
  std::vector<providers::BilledLine> billed_lines(std::string_view provider, util::Seconds begin, util::Seconds end) override;
  std::vector<providers::PullDay> pull_days(std::string_view provider, util::Seconds begin, util::Seconds end) override;
  std::optional<util::Seconds> pull_cursor(std::string_view provider) override;

 private:
  Db& m_db;
};

class SqliteTemplates : public report::TemplateStore {
 public:
  explicit SqliteTemplates(Db& db) : m_db(db) {}
  std::vector<report::ReportTemplate> list_templates() override;
  void put_template(const report::ReportTemplate& t, util::Seconds now) override;
  bool remove_template(const std::string& name) override;

 private:
  Db& m_db;
};

class SqlitePrices : public pricing::PriceStore {
 public:
  explicit SqlitePrices(Db& db) : m_db(db) {}
  std::vector<pricing::PriceEntry> user_prices() override;
  size_t save_user_prices(const std::vector<pricing::PriceEntry>& entries, const std::string& name, util::Seconds now) override;
  std::string user_catalog_name() override;

 private:
  Db& m_db;
};

// Registers the rollup of each dimension pair the budgets' scopes combine (in the caller's transaction).
void register_scope_combos(Db& db, const std::vector<budgets::Budget>& list);

class SqliteBudgets : public budgets::BudgetStore {
 public:
  explicit SqliteBudgets(Db& db) : m_db(db) {}
  std::vector<budgets::Budget> list_budgets() override;
  void put_budget(const budgets::Budget& b, util::Seconds now) override;
  std::vector<std::string> remove_budgets(const std::vector<std::string>& names) override;
  void apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove, util::Seconds now) override;

 private:
  Db& m_db;
};

class SqliteAlerts : public notify::AlertLog {
 public:
  explicit SqliteAlerts(Db& db) : m_db(db) {}
  bool claim_alert(const notify::AlertKey& k, util::Seconds now) override;
  void finish_alert(const notify::AlertKey& k, bool sent, const std::string& error, util::Seconds now) override;
  void supersede_alert(const notify::AlertKey& k, util::Seconds now) override;
  bool alert_sent(const notify::AlertKey& k) override;
  std::vector<std::string> alerted_periods(const std::string& budget, const std::string& channel) override;

 private:
  Db& m_db;
};

class SqliteLedger : public credits::LedgerStore {
 public:
  explicit SqliteLedger(Db& db) : m_db(db) {}
  std::unique_ptr<util::Txn> transaction() override { return begin_txn(m_db); }
  std::optional<credits::Entry> last_entry() override;
  std::optional<money::Decimal> balance(const std::string& organization) override;
  std::map<std::string, money::Decimal> balances() override;
  std::optional<credits::Entry> entry(int64_t seq) override;
  std::vector<credits::Entry> request_entries(const std::string& key) override;
  std::vector<credits::Entry> entries(const credits::LedgerFilter& f) override;
  void scan_entries(const std::function<bool(const credits::RawEntry&)>& fn) override;
  void append(const credits::Entry& e) override;
  std::string recorded_head() override;
  bool organization_known(const std::string& organization) override;
  std::vector<std::string> organization_names() override;
  std::vector<credits::TopupRule> topup_rules() override;
  void put_topup_rule(const credits::TopupRule& rule, util::Seconds now) override;
  bool remove_topup_rule(const std::string& organization) override;
  void scan_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                    const std::function<void(const credits::ChargeRow&)>& fn) override;
  void put_charge(const credits::ChargeRow& record, const money::Decimal& credits, int64_t run) override;
  std::vector<credits::Charge> orphaned_charges(const std::string& organization, util::Seconds begin, util::Seconds end,
                                                int64_t run, int64_t unchanged) override;
  void delete_charge(const std::string& organization, util::Seconds ts, const std::string& usage_id) override;
  std::vector<std::string> orphan_organizations(util::Seconds begin, util::Seconds end, int64_t run) override;
  std::vector<credits::StoredCharge> stored_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                                                    const credits::StoredCharge* after, size_t limit) override;
  std::map<int64_t, std::string> run_rates() override;
  void put_run_rates(int64_t run, const std::string& rates) override;
  int64_t usage_version() override;
  std::optional<std::map<std::string, credits::Skipped>> charged_at(util::Seconds begin, util::Seconds end,
                                                                     const std::string& scope, int64_t version) override;
  void record_charged(util::Seconds begin, util::Seconds end, const std::string& scope, int64_t version,
                      const std::map<std::string, credits::Skipped>& organizations) override;

 private:
  // Moves every charge to the form in use: by record (usage here) or by key (usage elsewhere).
  void charges_by_row();
  void charges_by_key();

  Db& m_db;
  std::unique_ptr<Stmt> m_put_charge, m_put_keyed;  // prepared on first use
};

class SqliteInvoices : public billing::InvoiceStore {
 public:
  explicit SqliteInvoices(Db& db) : m_db(db) {}
  std::unique_ptr<util::Txn> transaction() override { return begin_txn(m_db); }
  std::map<std::string, std::string> assignments() override;
  std::map<std::string, util::Seconds> assignment_starts() override;
  void assign(const std::string& organization, const std::string& plan, util::Seconds start, bool move_start) override;
  std::optional<std::pair<std::string, std::string>> open_invoice(const std::string& organization,
                                                                  const std::string& period) override;
  int64_t next_number(int year) override;
  int64_t insert(const billing::Invoice& inv) override;
  void update(const billing::Invoice& inv) override;
  std::optional<billing::Invoice> find_by_id(int64_t id) override;
  std::optional<billing::Invoice> find_by_number(const std::string& number) override;
  std::vector<billing::Invoice> list(const std::string& period, const std::string& organization) override;

 private:
  Db& m_db;
};

}  // namespace billctl::store
