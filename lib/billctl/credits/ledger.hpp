// Prepaid credits (SPEC §7): packages, and a per-organisation balance kept as an append-only,
// hash-chained ledger in the store. Every movement is an entry (purchase, usage deduction,
// correction, refund, adjustment, expiry, auto-topup, invoice); entries are never updated or
// deleted, corrections are new entries, and each entry's hash covers the previous one, so
// `verify` finds any edit, deletion, insertion or reordering of the stored history.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "billctl/money/money.hpp"
#include "billctl/credits/ledger_store.hpp"
#include "billctl/util/time.hpp"

#include <toml++/toml.h>

namespace billctl::credits {

struct Package {
  std::string name;
  Decimal credits;
  Decimal bonus;
  money::Money price;
  int bonus_expires_days = 0;  // 0: the bonus does not expire

  Decimal total() const { return credits + bonus; }
  // Price per credit received (credits + bonus), full precision.
  Decimal cost_per_credit() const;
};

struct Config {
  Decimal rate = Decimal::from_int(100);        // credits per currency unit of priced usage
  money::Currency currency = money::k_usd;      // the currency usage is converted from
  std::map<std::string, Decimal, std::less<>> meter_rates;  // credits per billed unit of a meter
  std::vector<Package> packages;
  std::optional<Decimal> low_balance;           // alert below this balance
  std::vector<std::string> channels;            // notification channels for the alert
  std::string actor;                            // default actor

  const Package* find_package(const std::string& name) const;
};

// The defaults: packages starter, growth and scale; 100 credits per USD.
Config default_config();
// Applies the config file's [credits] table over the defaults. `origin` names the file.
Config parse_config(const toml::table* credits, const std::string& origin);

enum class Kind { purchase, usage, correction, refund, adjustment, expiry, topup, invoice };
std::string_view kind_name(Kind k);
std::optional<Kind> find_kind(std::string_view name);

// SHA-256 over the previous hash and every field of the entry (length-prefixed).
std::string entry_hash(const Entry& e);

// Who and when, for every mutation.
struct Request {
  std::string organization;
  std::string actor;
  std::string reference;
  std::string reason;
  std::string idempotency_key;
  util::Seconds now = 0;
  bool allow_negative = false;  // adjust: a balance below zero is intended
  bool new_org = false;         // buy/adjust: open the ledger of an organization never seen before
  bool known_org = false;       // the caller knows the organization (config [orgs.NAME])
};

// The outcome of a mutation: the entries it made, or (replayed) the ones an earlier request
// with the same idempotency key made.
struct Outcome {
  std::vector<Entry> entries;
  bool replayed = false;
};

struct DeductResult {
  std::string organization;
  int64_t charged_records = 0;    // charged for the first time
  int64_t corrected_records = 0;  // charged before with a different amount (replaced by an import)
  int64_t skipped_records = 0;    // no conversion rate (unpriced, or a meter without a rate)
  std::vector<std::string> skipped_meters;
  Outcome outcome;                // usage / correction / expiry / topup entries
  Decimal balance;
};

struct VerifyResult {
  bool ok = true;
  int64_t entries = 0;
  std::string head;                       // hash of the last entry
  std::map<std::string, Decimal> balances;
  int64_t bad_seq = 0;                    // first bad entry
  std::string problem;
};

// One row of the ledger by month and type: usage and corrections split by what was used
// ("usage:llm_tokens"), other entries by kind.
struct SummaryRow {
  std::string month;  // "2026-10"
  std::string organization;
  std::string type;
  int64_t entries = 0;
  Decimal credits;  // signed: debits are negative
};
// Sums entries by month, organization and type, sorted. Usage belongs to the month it was used in
// (the deduction's period), not the month the entry was written.
std::vector<SummaryRow> summarize(const std::vector<Entry>& entries);

class Ledger {
 public:
  Ledger(LedgerStore& store, Config cfg);

  const Config& config() const { return m_cfg; }
  Decimal balance(const std::string& organization);
  // Every organization with ledger entries, with its balance.
  std::map<std::string, Decimal> balances();

  Outcome buy(const Request& r, const std::string& package);
  // Has the organization usage, a plan, an invoice or a ledger entry?
  bool knows(const std::string& organization);
  // Refunds credits of a purchase (all that is left of it when `credits` is empty). The bonus
  // that came with it goes back in proportion.
  Outcome refund(const Request& r, int64_t purchase_seq, std::optional<Decimal> credits);
  Outcome adjust(const Request& r, Decimal credits);
  // Charges the organization's usage of [begin, end) not charged yet, corrects records charged
  // with a different amount, then runs due expiries and the auto-topup rule.
  DeductResult deduct(const Request& r, util::Seconds begin, util::Seconds end, const std::string& period_label);
  // The same for several organizations (none: every organization with usage in the period) in
  // one pass over the period and one transaction. With several, a request's idempotency key is
  // suffixed with ":ORGANIZATION". Results are sorted by organization.
  std::vector<DeductResult> deduct(const Request& r, const std::vector<std::string>& organizations, util::Seconds begin,
                                   util::Seconds end, const std::string& period_label);
  // Told how many usage records a deduct has read so far (now and then), for a progress line.
  void on_progress(std::function<void(uint64_t records)> fn) { m_progress = std::move(fn); }
  // Applies credits to an invoice (or, negative, returns them when it is voided).
  Outcome apply_to_invoice(const Request& r, Decimal credits, const std::string& invoice_number);
  // Records expiry entries for bonus credits whose time has come.
  Outcome expire(const Request& r);

  std::vector<Entry> entries(const LedgerFilter& f);
  std::optional<Entry> entry(int64_t seq);
  VerifyResult verify();

  std::vector<TopupRule> topup_rules();
  void set_topup_rule(const TopupRule& rule, util::Seconds now);
  bool remove_topup_rule(const std::string& organization);

 private:
  // Why an earlier entry with the same key is another request ("credits -12.5 then, 999 now"), or empty.
  using Mismatch = std::function<std::string(const Entry&)>;
  std::optional<Outcome> replay(const Request& r, std::string_view kind, const Mismatch& mismatch = {});
  // Refuses an organization billctl has never seen unless the request says it is new.
  void require_known(const Request& r);
  Entry append(Entry e);
  Outcome expire_locked(const Request& r);
  // Refund entries of a purchase.
  std::vector<Entry> refunds_of(const std::string& organization, int64_t purchase_seq);
  void run_topups(const Request& r, Outcome& out);
  Entry purchase_entry(const Request& r, const Package& p, Kind kind);

  LedgerStore& m_store;
  Config m_cfg;
  std::function<void(uint64_t)> m_progress;
};

}  // namespace billctl::credits
