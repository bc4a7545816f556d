// In-memory stores for unit tests of domain logic: one object implements every domain interface
// (as one SQLite file does), so a transaction begun through one covers writes through the others.
// A transaction snapshots the whole state and puts it back unless committed, so tests see exactly
// what a rolled-back SQLite transaction leaves. Nested transactions are refused, as SQLite's
// BEGIN IMMEDIATE refuses them.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "billctl/billing/invoice.hpp"
#include "billctl/budgets/budget_store.hpp"
#include "billctl/credits/ledger_store.hpp"
#include "billctl/notify/alert_log.hpp"
#include "billctl/usage/source.hpp"

namespace test {

namespace bc = billctl;

// A usage record that owns its text.
struct FakeRecord {
  std::string id;
  bc::util::Seconds ts = 0;
  std::string provider = "openai", model = "gpt-4o", organization, department, user, feature, project;
  int64_t input = 0, output = 0, requests = 1;
  bool failed = false;  // status error
  bc::money::Decimal cost;  // the priced cost
  bool priced = true;
  std::string currency = "USD";
  std::string meter, quantity, unit;
};

class FakeStore : public bc::usage::Source,
                  public bc::budgets::BudgetStore,
                  public bc::notify::AlertLog,
                  public bc::credits::LedgerStore,
                  public bc::billing::InvoiceStore {
 public:
  struct State {
    std::vector<FakeRecord> usage;
    std::map<std::string, bc::budgets::Budget> budgets;
    std::map<std::tuple<std::string, std::string, std::string, std::string>, std::pair<std::string, bc::util::Seconds>> alerts;
    std::vector<bc::credits::Entry> ledger;
    std::string head;
    std::map<std::string, bc::credits::TopupRule> topups;
    std::map<std::tuple<std::string, bc::util::Seconds, std::string>, std::pair<bc::money::Decimal, int64_t>> charges;
    std::map<std::string, std::pair<std::string, bc::util::Seconds>> plans;
    std::map<int, int64_t> numbers;
    std::vector<bc::billing::Invoice> invoices;
    int64_t usage_version = 1;
    std::map<int64_t, std::string> run_rates;
    std::map<std::tuple<bc::util::Seconds, bc::util::Seconds, std::string>, std::pair<int64_t, std::map<std::string, bc::credits::Skipped>>> scans;
  };
  int scans_skipped = 0;  // deduct runs that did not read the records
  State state;
  int transactions_committed = 0;
  int transactions_rolled_back = 0;

  // Replaces a record of the same id, as an import does.
  void put_record(FakeRecord r) {
    auto it = std::find_if(state.usage.begin(), state.usage.end(), [&](const FakeRecord& o) { return o.id == r.id; });
    if (it != state.usage.end()) *it = std::move(r);
    else state.usage.push_back(std::move(r));
    ++state.usage_version;
  }
  void remove_record(const std::string& id) {
    std::erase_if(state.usage, [&](const FakeRecord& r) { return r.id == id; });
    ++state.usage_version;
  }

  // --- transactions
  class Txn : public bc::util::Txn {
   public:
    explicit Txn(FakeStore& s) : m_s(s), m_saved(s.state) {
      if (s.m_in_txn) throw std::logic_error("nested transaction");
      s.m_in_txn = true;
    }
    ~Txn() override {
      m_s.m_in_txn = false;
      if (!m_done) {
        m_s.state = std::move(m_saved);
        ++m_s.transactions_rolled_back;
      }
    }
    void commit() override {
      m_done = true;
      ++m_s.transactions_committed;
    }

   private:
    FakeStore& m_s;
    State m_saved;
    bool m_done = false;
  };
  std::unique_ptr<bc::util::Txn> transaction() override { return std::make_unique<Txn>(*this); }

  // --- usage::Source
  std::vector<bc::usage::AggResult> aggregate(const std::vector<bc::usage::AggQuery>& queries) override {
    bc::usage::Aggregator agg(queries);
    for (const auto& f : state.usage) {
      bc::usage::UsageRecord r;
      r.id = f.id;
      r.timestamp = f.ts;
      r.provider = f.provider;
      r.model = f.model;
      r.organization = f.organization;
      r.department = f.department;
      r.user = f.user;
      r.feature = f.feature;
      r.project = f.project;
      r.input_tokens = f.input;
      r.output_tokens = f.output;
      r.requests = f.requests;
      r.status = f.failed ? bc::usage::Status::error : bc::usage::Status::ok;
      r.currency = bc::money::currency(f.currency);
      r.meter = f.meter;
      r.unit = f.unit;
      if (!f.meter.empty()) r.quantity = bc::money::Decimal::parse(f.quantity).value_or_throw("fake quantity");
      bc::usage::PricedRecord pr{&r, f.cost, f.priced ? bc::usage::CostSource::catalog : bc::usage::CostSource::unpriced};
      agg.add(pr);
    }
    return agg.results();
  }
  std::vector<bc::usage::CatalogInfo> catalogs_used(bc::util::Seconds, bc::util::Seconds) override { return {}; }

  // --- budgets::BudgetStore
  std::vector<bc::budgets::Budget> list_budgets() override {
    std::vector<bc::budgets::Budget> out;
    for (const auto& [n, b] : state.budgets) out.push_back(b);
    return out;
  }
  void put_budget(const bc::budgets::Budget& b, bc::util::Seconds) override { state.budgets[b.name] = b; }
  std::vector<std::string> remove_budgets(const std::vector<std::string>& names) override {
    std::vector<std::string> missing;
    for (const auto& n : names)
      if (!state.budgets.count(n)) missing.push_back(n);
    if (missing.empty())
      for (const auto& n : names) state.budgets.erase(n);
    return missing;
  }
  void apply_budgets(const std::vector<bc::budgets::Budget>& put, const std::vector<std::string>& remove,
                     bc::util::Seconds) override {
    for (const auto& n : remove) state.budgets.erase(n);
    for (const auto& b : put) state.budgets[b.name] = b;
  }

  // --- notify::AlertLog
  static auto key(const bc::notify::AlertKey& k) { return std::make_tuple(k.budget, k.period, k.stage, k.channel); }
  bool claim_alert(const bc::notify::AlertKey& k, bc::util::Seconds now) override {
    auto it = state.alerts.find(key(k));
    if (it != state.alerts.end()) {
      const auto& [st, at] = it->second;
      if (st == "sent" || st == "superseded") return false;
      if (st == "sending" && at > now - 600) return false;
    }
    state.alerts[key(k)] = {"sending", now};
    return true;
  }
  void finish_alert(const bc::notify::AlertKey& k, bool sent, const std::string&, bc::util::Seconds now) override {
    state.alerts[key(k)] = {sent ? "sent" : "failed", now};
  }
  void supersede_alert(const bc::notify::AlertKey& k, bc::util::Seconds now) override {
    auto& a = state.alerts[key(k)];
    if (a.first != "sent") a = {"superseded", now};
  }
  bool alert_sent(const bc::notify::AlertKey& k) override {
    auto it = state.alerts.find(key(k));
    return it != state.alerts.end() && (it->second.first == "sent" || it->second.first == "superseded");
  }
  std::vector<std::string> alerted_periods(const std::string& budget, const std::string& channel) override {
    std::set<std::string> out;
    for (const auto& [k, v] : state.alerts)
      if (std::get<0>(k) == budget && std::get<3>(k) == channel && v.first == "sent" && std::get<2>(k) != "resolve")
        out.insert(std::get<1>(k));
    return {out.begin(), out.end()};
  }

  // --- credits::LedgerStore
  std::optional<bc::credits::Entry> last_entry() override {
    if (state.ledger.empty()) return std::nullopt;
    return state.ledger.back();
  }
  std::optional<bc::money::Decimal> balance(const std::string& org) override {
    for (auto it = state.ledger.rbegin(); it != state.ledger.rend(); ++it)
      if (it->organization == org) return it->balance;
    return std::nullopt;
  }
  std::map<std::string, bc::money::Decimal> balances() override {
    std::map<std::string, bc::money::Decimal> out;
    for (const auto& e : state.ledger) out[e.organization] = e.balance;
    return out;
  }
  std::optional<bc::credits::Entry> entry(int64_t seq) override {
    for (const auto& e : state.ledger)
      if (e.seq == seq) return e;
    return std::nullopt;
  }
  std::vector<bc::credits::Entry> request_entries(const std::string& k) override {
    std::vector<bc::credits::Entry> out;
    for (const auto& e : state.ledger) {
      if (out.empty()) {
        if (e.idempotency_key == k) out.push_back(e);
      } else if (nlohmann::json::parse(e.detail).value("request_key", "") == k) {
        out.push_back(e);
      }
    }
    return out;
  }
  std::vector<bc::credits::Entry> entries(const bc::credits::LedgerFilter& f) override {
    std::vector<bc::credits::Entry> out;
    for (const auto& e : state.ledger) {
      if (!f.organization.empty() && e.organization != f.organization) continue;
      if (f.period && !f.period->contains(e.at)) continue;
      if (!f.kind.empty() && e.kind != f.kind) continue;
      if (!f.actor.empty() && e.actor != f.actor) continue;
      if (e.seq <= f.after_seq) continue;
      if (!f.kinds.empty() && std::find(f.kinds.begin(), f.kinds.end(), e.kind) == f.kinds.end()) continue;
      out.push_back(e);
    }
    return out;
  }
  void scan_entries(const std::function<bool(const bc::credits::RawEntry&)>& fn) override {
    for (const auto& e : state.ledger) {
      bc::credits::RawEntry raw{e, e.credits.to_string(), e.balance.to_string(), true};
      if (!fn(raw)) return;
    }
  }
  void append(const bc::credits::Entry& e) override {
    state.ledger.push_back(e);
    state.head = std::to_string(e.seq) + " " + e.hash;
  }
  std::string recorded_head() override { return state.head; }
  bool organization_known(const std::string& org) override {
    if (balance(org) || state.plans.count(org)) return true;
    return std::any_of(state.usage.begin(), state.usage.end(), [&](const FakeRecord& r) { return r.organization == org; });
  }
  std::vector<std::string> organization_names() override {
    std::set<std::string> out;
    for (const auto& e : state.ledger) out.insert(e.organization);
    for (const auto& [o, p] : state.plans) out.insert(o);
    return {out.begin(), out.end()};
  }
  std::vector<bc::credits::TopupRule> topup_rules() override {
    std::vector<bc::credits::TopupRule> out;
    for (const auto& [o, r] : state.topups) out.push_back(r);
    return out;
  }
  void put_topup_rule(const bc::credits::TopupRule& rule, bc::util::Seconds) override { state.topups[rule.organization] = rule; }
  bool remove_topup_rule(const std::string& org) override { return state.topups.erase(org) > 0; }
  void scan_charges(bc::util::Seconds begin, bc::util::Seconds end, const std::string& org,
                    const std::function<void(const bc::credits::ChargeRow&)>& fn) override {
    const std::vector<FakeRecord> records = state.usage;  // fn writes charges while we read
    for (const auto& r : records) {
      if (r.ts < begin || r.ts >= end || r.organization.empty() || (!org.empty() && r.organization != org)) continue;
      bc::credits::ChargeRow row;
      row.organization = r.organization;
      row.id = r.id;
      row.meter = r.meter;
      row.quantity = r.quantity;
      row.currency = r.currency;
      row.ts = r.ts;
      row.priced = r.priced;
      row.cost = r.cost;
      auto c = state.charges.find({r.organization, r.ts, r.id});
      if (c != state.charges.end()) {
        row.charged = c->second.first;
        row.charged_run = c->second.second;
      }
      fn(row);
    }
  }
  void put_charge(const bc::credits::ChargeRow& r, const bc::money::Decimal& credits, int64_t run) override {
    state.charges[{std::string(r.organization), r.ts, std::string(r.id)}] = {credits, run};
  }
  std::vector<bc::credits::StoredCharge> stored_charges(bc::util::Seconds begin, bc::util::Seconds end, const std::string& org,
                                                       const bc::credits::StoredCharge* after, size_t limit) override {
    std::vector<bc::credits::StoredCharge> out;
    for (const auto& [k, v] : state.charges) {
      const auto& [o, ts, id] = k;
      if (ts < begin || ts >= end || (!org.empty() && o != org)) continue;
      if (after && std::tie(o, ts, id) <= std::tie(after->organization, after->ts, after->usage_id)) continue;
      out.push_back({o, ts, id, v.first, v.second});
      if (out.size() == limit) break;
    }
    return out;
  }
  std::vector<bc::credits::Charge> orphaned_charges(const std::string& org, bc::util::Seconds begin, bc::util::Seconds end,
                                                    int64_t run, int64_t unchanged) override {
    std::vector<bc::credits::Charge> out;
    int64_t n = 0;  // as the SQLite store once did: no search when every earlier charge was found unchanged
    for (const auto& [k, v] : state.charges)
      if (std::get<0>(k) == org && std::get<1>(k) >= begin && std::get<1>(k) < end && v.second < run) ++n;
    if (n == unchanged) return out;
    for (const auto& [k, v] : state.charges) {
      const auto& [o, ts, id] = k;
      if (o != org || ts < begin || ts >= end || v.second >= run) continue;
      const bool there = std::any_of(state.usage.begin(), state.usage.end(), [&](const FakeRecord& r) {
        return r.id == id && r.organization == o && r.ts == ts;
      });
      if (!there) out.push_back({ts, id, v.first});
    }
    return out;
  }
  std::vector<std::string> orphan_organizations(bc::util::Seconds begin, bc::util::Seconds end, int64_t run) override {
    std::vector<std::string> out;
    for (const auto& [k, v] : state.charges) {
      const auto& [o, ts, id] = k;
      if (ts < begin || ts >= end || v.second >= run || (!out.empty() && out.back() == o)) continue;
      const bool there = std::any_of(state.usage.begin(), state.usage.end(), [&](const FakeRecord& r) {
        return r.id == id && r.organization == o && r.ts == ts;
      });
      if (!there) out.push_back(o);
    }
    return out;
  }
  void delete_charge(const std::string& org, bc::util::Seconds ts, const std::string& id) override {
    state.charges.erase({org, ts, id});
  }
  std::map<int64_t, std::string> run_rates() override { return state.run_rates; }
  void put_run_rates(int64_t run, const std::string& rates) override { state.run_rates[run] = rates; }
  int64_t usage_version() override { return state.usage_version; }
  std::optional<std::map<std::string, bc::credits::Skipped>> charged_at(bc::util::Seconds begin, bc::util::Seconds end,
                                                                        const std::string& scope, int64_t version) override {
    auto it = state.scans.find({begin, end, scope});
    if (it == state.scans.end() || it->second.first != version) return std::nullopt;
    ++scans_skipped;
    return it->second.second;
  }
  void record_charged(bc::util::Seconds begin, bc::util::Seconds end, const std::string& scope, int64_t version,
                      const std::map<std::string, bc::credits::Skipped>& orgs) override {
    state.scans[{begin, end, scope}] = {version, orgs};
  }

  // --- billing::InvoiceStore
  std::map<std::string, std::string> assignments() override {
    std::map<std::string, std::string> out;
    for (const auto& [o, p] : state.plans) out[o] = p.first;
    return out;
  }
  std::map<std::string, bc::util::Seconds> assignment_starts() override {
    std::map<std::string, bc::util::Seconds> out;
    for (const auto& [o, p] : state.plans) out[o] = p.second;
    return out;
  }
  void assign(const std::string& org, const std::string& plan, bc::util::Seconds start, bool move_start) override {
    auto it = state.plans.find(org);
    if (it == state.plans.end()) state.plans[org] = {plan, start};
    else it->second = {plan, move_start ? start : it->second.second};
  }
  std::optional<std::pair<std::string, std::string>> open_invoice(const std::string& org, const std::string& period) override {
    for (const auto& i : state.invoices)
      if (i.organization == org && i.period == period && i.status != "void") return std::make_pair(i.number, i.status);
    return std::nullopt;
  }
  int64_t next_number(int year) override { return ++state.numbers[year]; }
  int64_t insert(const bc::billing::Invoice& inv) override {
    state.invoices.push_back(inv);
    state.invoices.back().id = int64_t(state.invoices.size());
    return state.invoices.back().id;
  }
  void update(const bc::billing::Invoice& inv) override { state.invoices.at(size_t(inv.id - 1)) = inv; }
  std::optional<bc::billing::Invoice> find_by_id(int64_t id) override {
    if (id < 1 || id > int64_t(state.invoices.size())) return std::nullopt;
    return state.invoices[size_t(id - 1)];
  }
  std::optional<bc::billing::Invoice> find_by_number(const std::string& number) override {
    for (const auto& i : state.invoices)
      if (i.number == number) return i;
    return std::nullopt;
  }
  std::vector<bc::billing::Invoice> list(const std::string& period, const std::string& org) override {
    std::vector<bc::billing::Invoice> out;
    for (const auto& i : state.invoices)
      if ((period.empty() || i.period == period) && (org.empty() || i.organization == org)) out.push_back(i);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    return out;
  }

 private:
  bool m_in_txn = false;
};

}  // namespace test
