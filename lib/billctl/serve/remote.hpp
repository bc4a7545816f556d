// billctl --remote: the CLI as a client of billctl serve. A RemoteClient holds the OAuth token
// (client credentials) and sends GraphQL; RemoteUsage and RemoteBudgets implement the domain's
// store interfaces over it, so the commands that read usage and budgets run unchanged and print
// what they print against a local store.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "billctl/billing/invoice_store.hpp"
#include "billctl/budgets/budget_store.hpp"
#include "billctl/credits/ledger_store.hpp"
#include "billctl/net/http.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

#include <nlohmann/json.hpp>

namespace billctl::serve {

struct RemoteConfig {
  std::string url;  // https://billing.example.com:8443 (the server's root)
  std::string client_id, client_secret;
  std::string ca_file;  // trust this certificate bundle (a self-signed server)
  long timeout_ms = 120000;
};

class RemoteClient {
 public:
  RemoteClient(net::HttpClient& http, RemoteConfig config);
  // Runs a query or mutation; returns its data. Errors: the server unreachable or failing (exit 1),
  // refused credentials or FORBIDDEN (exit 4), bad input (exit 2), naming the server.
  nlohmann::json run(const std::string& query, const nlohmann::json& variables = nlohmann::json::object());
  const RemoteConfig& config() const { return m_config; }

 private:
  void fetch_token();
  net::HttpClient& m_http;
  RemoteConfig m_config;
  std::string m_token;
};

class RemoteUsage : public usage::Source {
 public:
  explicit RemoteUsage(RemoteClient& client) : m_client(client) {}
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override;

 private:
  RemoteClient& m_client;
};

class RemoteBudgets : public budgets::BudgetStore {
 public:
  explicit RemoteBudgets(RemoteClient& client) : m_client(client) {}
  std::vector<budgets::Budget> list_budgets() override;
  void put_budget(const budgets::Budget& b, util::Seconds now) override;
  std::vector<std::string> remove_budgets(const std::vector<std::string>& names) override;
  // Not one transaction over the network: puts, then removals, each acknowledged by the server.
  void apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove, util::Seconds now) override;

 private:
  RemoteClient& m_client;
};

// The credit ledger read through the server (credits balance, ledger). Changes go through the
// server's mutations or its own billctl: appending here is refused (exit 2).
class RemoteLedger : public credits::LedgerStore {
 public:
  explicit RemoteLedger(RemoteClient& client) : m_client(client) {}
  std::unique_ptr<util::Txn> transaction() override;
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
  std::vector<credits::TopupRule> topup_rules() override { return {}; }
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
  std::optional<std::map<std::string, credits::Skipped>> charged_at(util::Seconds begin, util::Seconds end, const std::string& scope,
                                                                    int64_t version) override;
  void record_charged(util::Seconds begin, util::Seconds end, const std::string& scope, int64_t version,
                      const std::map<std::string, credits::Skipped>& organizations) override;

 private:
  RemoteClient& m_client;
};

// Invoices read through the server (invoices list, show, pdf); issuing and generating are the
// server's own (exit 2 here).
class RemoteInvoices : public billing::InvoiceStore {
 public:
  explicit RemoteInvoices(RemoteClient& client) : m_client(client) {}
  std::unique_ptr<util::Txn> transaction() override;
  std::map<std::string, std::string> assignments() override;
  std::map<std::string, util::Seconds> assignment_starts() override;
  void assign(const std::string& organization, const std::string& plan, util::Seconds start, bool move_start) override;
  std::optional<std::pair<std::string, std::string>> open_invoice(const std::string& organization, const std::string& period) override;
  int64_t next_number(int year) override;
  int64_t insert(const billing::Invoice& inv) override;
  void update(const billing::Invoice& inv) override;
  std::optional<billing::Invoice> find_by_id(int64_t id) override;
  std::optional<billing::Invoice> find_by_number(const std::string& number) override;
  std::vector<billing::Invoice> list(const std::string& period, const std::string& organization) override;

 private:
  std::vector<billing::Invoice> documents(const nlohmann::json& variables);
  RemoteClient& m_client;
};

// "https://host:8443" with a path or a trailing slash taken off; throws UsageError naming `what`.
std::string remote_root(const std::string& url, const std::string& what);

}  // namespace billctl::serve
