// Where the credit ledger is kept: entries appended in sequence with the recorded head, the
// auto-topup rules, and the charges (which usage record was charged how many credits, so a
// record is charged once and a replaced record is corrected).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/money/decimal.hpp"
#include "billctl/util/time.hpp"
#include "billctl/util/txn.hpp"

namespace billctl::credits {

using money::Decimal;

struct Entry {
  int64_t seq = 0;
  util::Seconds at = 0;
  std::string organization;
  std::string kind;
  Decimal credits;  // signed
  Decimal balance;  // the organization's balance after the entry
  std::string actor, reference, reason;
  std::string idempotency_key;  // empty: none
  std::string detail;           // JSON object
  std::string prev_hash, hash;
};

// An entry as stored, its amounts as the stored text: verify reads what is there, even an entry
// whose amounts do not parse (entry.credits and entry.balance are then zero).
struct RawEntry {
  Entry entry;
  std::string credits, balance;
  bool amounts_parse = true;
};

struct LedgerFilter {
  std::string organization;
  std::optional<util::Period> period;  // entries made in it
  std::string kind;
  std::string actor;
  std::vector<std::string> kinds;      // any of these (with kind: both must hold)
  int64_t after_seq = 0;               // entries after this one
};

struct TopupRule {
  std::string organization;
  Decimal threshold;
  std::string package;
  int64_t max_per_month = 1;
};

// One usage record of a period, with what it was charged before (none: never charged).
struct ChargeRow {
  std::string_view organization, id, meter, quantity, currency;
  util::Seconds ts = 0;
  bool priced = false;  // a token record with a cost (a meter record has a quantity instead)
  Decimal cost;
  std::optional<Decimal> charged;
  int64_t charged_run = 0;  // the deduct run that made the earlier charge (see put_run_rates)
  int64_t row = 0;  // the store's own key of the record, handed back to put_charge (0: none)
};

// A stored charge: a usage record (organization, time, id) and the credits it was charged.
struct Charge {
  util::Seconds ts = 0;
  std::string usage_id;
  Decimal credits;
};

// A stored charge with its key, as listed in (organization, ts, usage_id) order.
struct StoredCharge {
  std::string organization;
  util::Seconds ts = 0;
  std::string usage_id;
  Decimal credits;
  int64_t run = 0;
};

// What a deduct run left uncharged of an organization's records (no conversion rate).
struct Skipped {
  int64_t records = 0;
  std::vector<std::string> meters;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;
  // Everything between this and commit() lands together (other stores of the same file join in).
  virtual std::unique_ptr<util::Txn> transaction() = 0;

  // The last entry of the whole ledger (the chain's head).
  virtual std::optional<Entry> last_entry() = 0;
  // The balance after the organization's last entry; nullopt when it has none.
  virtual std::optional<Decimal> balance(const std::string& organization) = 0;
  // Every organization with entries, with its balance.
  virtual std::map<std::string, Decimal> balances() = 0;
  virtual std::optional<Entry> entry(int64_t seq) = 0;
  // The entry made with this idempotency key, then the later entries of the same request (their
  // detail's request_key is the key), in sequence; empty when the key was never used.
  virtual std::vector<Entry> request_entries(const std::string& key) = 0;
  virtual std::vector<Entry> entries(const LedgerFilter& f) = 0;
  // Every entry in sequence, as stored, until fn returns false.
  virtual void scan_entries(const std::function<bool(const RawEntry&)>& fn) = 0;
  // Appends an entry (seq, hashes and balance set by the caller) and moves the recorded head to it.
  virtual void append(const Entry& e) = 0;
  // The head recorded with the last append, "SEQ HASH" ("" for an empty ledger).
  virtual std::string recorded_head() = 0;

  // Does the organization have usage, a plan, an invoice or a ledger entry?
  virtual bool organization_known(const std::string& organization) = 0;
  // Organizations with a ledger or a plan (for "did you mean").
  virtual std::vector<std::string> organization_names() = 0;

  virtual std::vector<TopupRule> topup_rules() = 0;
  virtual void put_topup_rule(const TopupRule& rule, util::Seconds now) = 0;
  virtual bool remove_topup_rule(const std::string& organization) = 0;

  // Every usage record of [begin, end) with an organization (only `organization`'s when it is
  // not empty), each with its earlier charge. fn may call put_charge.
  virtual void scan_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                            const std::function<void(const ChargeRow&)>& fn) = 0;
  // Records (or replaces) the charge of a record scan_charges handed out, tagged with the deduct run
  // that made it.
  virtual void put_charge(const ChargeRow& record, const Decimal& credits, int64_t run) = 0;
  // Charges of the organization's records in [begin, end), made by runs before `run`, whose record
  // is gone, or moved to another organization or time. `unchanged`: how many of the period's records
  // the scan found with their earlier charge (a store may compare it with its own count of charges
  // to spare the search).
  virtual std::vector<Charge> orphaned_charges(const std::string& organization, util::Seconds begin, util::Seconds end,
                                               int64_t run, int64_t unchanged) = 0;
  virtual void delete_charge(const std::string& organization, util::Seconds ts, const std::string& usage_id) = 0;
  // Organizations with charges of records in [begin, end), made by runs before `run`, whose record
  // is gone or moved (after scan_charges over the period): a run over every organization refunds
  // them even when none of their records is left.
  virtual std::vector<std::string> orphan_organizations(util::Seconds begin, util::Seconds end, int64_t run) = 0;
  // Stored charges of records in [begin, end) (only `organization`'s when not empty), keyed by
  // (organization, ts, usage_id) whatever the store keeps them by, in
  // (organization, ts, usage_id) order (bytewise), at most `limit` of them after `after` (from the
  // first when null). For stores whose usage lives elsewhere: the ledger then merges them with the records.
  virtual std::vector<StoredCharge> stored_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                                                   const StoredCharge* after, size_t limit) = 0;

  // The rates each deduct run charged at, by run, as the ledger wrote them (put_run_rates); runs
  // made before billctl kept them have none.
  virtual std::map<int64_t, std::string> run_rates() = 0;
  // Records the rates a run charged at (written by a run that charged a record, in its transaction).
  virtual void put_run_rates(int64_t run, const std::string& rates) = 0;

  // A number that changes whenever stored usage changes (an import, a deleted record).
  virtual int64_t usage_version() = 0;
  // The organizations a deduct run over [begin, end) for `scope` ("*": every organization, else one)
  // charged at usage version `version`, with what it skipped; nullopt when no run did at that version.
  virtual std::optional<std::map<std::string, Skipped>> charged_at(util::Seconds begin, util::Seconds end,
                                                                    const std::string& scope, int64_t version) = 0;
  // Records such a run (replacing the scope's earlier one).
  virtual void record_charged(util::Seconds begin, util::Seconds end, const std::string& scope, int64_t version,
                              const std::map<std::string, Skipped>& organizations) = 0;
};

}  // namespace billctl::credits
