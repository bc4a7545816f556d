// The credit ledger when usage lives in ClickHouse: ledger entries, charges and runs stay in the
// embedded store (`state`); what depends on usage — the records a deduct run charges, charges whose
// record is gone, whether an organization has usage, the usage version — comes from ClickHouse.
// A deduct run streams the period's live records sorted by (organization, ts, id) and merges them
// with the stored charges read in the same order, a page at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "billctl/credits/ledger_store.hpp"
#include "billctl/store/clickhouse/client.hpp"

namespace billctl::store::ch {

class ClickHouseLedger : public credits::LedgerStore {
 public:
  ClickHouseLedger(credits::LedgerStore& state, Client& client) : m_state(state), m_client(client) {}

  std::unique_ptr<util::Txn> transaction() override { return m_state.transaction(); }
  std::optional<credits::Entry> last_entry() override { return m_state.last_entry(); }
  std::optional<money::Decimal> balance(const std::string& o) override { return m_state.balance(o); }
  std::map<std::string, money::Decimal> balances() override { return m_state.balances(); }
  std::optional<credits::Entry> entry(int64_t seq) override { return m_state.entry(seq); }
  std::vector<credits::Entry> request_entries(const std::string& key) override { return m_state.request_entries(key); }
  std::vector<credits::Entry> entries(const credits::LedgerFilter& f) override { return m_state.entries(f); }
  void scan_entries(const std::function<bool(const credits::RawEntry&)>& fn) override { m_state.scan_entries(fn); }
  void append(const credits::Entry& e) override { m_state.append(e); }
  std::string recorded_head() override { return m_state.recorded_head(); }
  bool organization_known(const std::string& organization) override;
  std::vector<std::string> organization_names() override { return m_state.organization_names(); }
  std::vector<credits::TopupRule> topup_rules() override { return m_state.topup_rules(); }
  void put_topup_rule(const credits::TopupRule& rule, util::Seconds now) override { m_state.put_topup_rule(rule, now); }
  bool remove_topup_rule(const std::string& o) override { return m_state.remove_topup_rule(o); }
  void scan_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                    const std::function<void(const credits::ChargeRow&)>& fn) override;
  void put_charge(const credits::ChargeRow& record, const money::Decimal& credits, int64_t run) override;
  std::vector<credits::Charge> orphaned_charges(const std::string& organization, util::Seconds begin, util::Seconds end,
                                                int64_t run, int64_t unchanged) override;
  void delete_charge(const std::string& o, util::Seconds ts, const std::string& id) override { m_state.delete_charge(o, ts, id); }
  std::vector<std::string> orphan_organizations(util::Seconds begin, util::Seconds end, int64_t run) override;
  std::vector<credits::StoredCharge> stored_charges(util::Seconds begin, util::Seconds end, const std::string& o,
                                                    const credits::StoredCharge* after, size_t limit) override {
    return m_state.stored_charges(begin, end, o, after, limit);
  }
  std::map<int64_t, std::string> run_rates() override { return m_state.run_rates(); }
  void put_run_rates(int64_t run, const std::string& rates) override { m_state.put_run_rates(run, rates); }
  int64_t usage_version() override;
  std::optional<std::map<std::string, credits::Skipped>> charged_at(util::Seconds begin, util::Seconds end,
                                                                     const std::string& scope, int64_t version) override {
    return m_state.charged_at(begin, end, scope, version);
  }
  void record_charged(util::Seconds begin, util::Seconds end, const std::string& scope, int64_t version,
                      const std::map<std::string, credits::Skipped>& organizations) override {
    m_state.record_charged(begin, end, scope, version, organizations);
  }

 private:
  credits::LedgerStore& m_state;
  Client& m_client;
  int64_t m_run = -1;  // the run whose charges put_charge wrote (skipped when merging)
  // Charges of the last scan whose record is gone or moved, by organization.
  std::map<std::string, std::vector<credits::StoredCharge>> m_orphans;
  util::Seconds m_scan_begin = 0, m_scan_end = 0;
};

}  // namespace billctl::store::ch
