// Invoices (SPEC §8): one per organization and period, with the plan's base fee, overage per
// metric, credits applied and tax. Every line is rounded once to the currency's minor unit and
// the total is the exact sum of the lines. Numbers are gapless per year (INV-2026-000001);
// status runs draft -> pending -> paid, or void; a pending invoice past its due date is overdue.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/billing/plans.hpp"
#include "billctl/credits/ledger.hpp"
#include "billctl/billing/invoice_store.hpp"
#include "billctl/util/tz.hpp"

namespace billctl::billing {

struct Party {
  std::string name;
  std::vector<std::string> address;  // lines
  std::string email;
  std::string tax_id;
};

struct Line {
  std::string kind;         // base, overage, credits, tax
  std::string description;
  std::string quantity;     // as printed ("1", "1,234,567 tokens")
  std::string unit_price;   // as printed ("499.00", "15.00 / 1M tokens")
  Decimal amount;           // rounded to the minor unit, signed
};

struct Event {
  util::Seconds at = 0;
  std::string status, actor, note;
};

struct Invoice {
  int64_t id = 0;
  std::string number;
  std::string organization;
  std::string period;  // "2026-10"
  std::string plan, plan_title;
  std::string status;  // draft, pending, paid, void (stored)
  money::Currency currency = money::k_usd;
  util::Seconds created_at = 0, issued_at = 0, due_at = 0, paid_at = 0;
  std::string due_date;  // the last day to pay, in the issuer's time zone (due_at is the end of it)
  int net_days = 30;
  bool partial = false;  // generated before its period ended (--partial)
  std::vector<Line> lines;  // base and overage lines
  Decimal subtotal;
  Decimal credits_applied;  // currency amount (positive)
  Decimal credits_used;     // credits taken from the ledger
  std::string tax_rate;     // percent as given ("19"), empty: no tax
  std::string tax_name = "Tax";
  Decimal tax;
  Decimal total;
  Party issuer, bill_to;
  std::string payment_reference;
  std::vector<MetricUse> usage;
  std::vector<Event> history;

  // "overdue" for a pending invoice past its due date, else the stored status.
  std::string status_at(util::Seconds now) const;
  // The due date as YYYY-MM-DD; "-" for a draft (it has none until issued).
  std::string due_text() const;
  // The issue date as YYYY-MM-DD; "-" for a draft.
  std::string issue_text() const;
};

std::string to_json(const Invoice& inv);
Invoice from_json(const std::string& doc, const std::string& origin);

struct GenerateOptions {
  std::string period_label;
  util::Period period;
  std::vector<std::string> organizations;  // empty: every organization with usage or a plan
  std::optional<std::string> tax_rate;     // percent
  std::string tax_name = "Tax";
  int net_days = 30;
  bool apply_credits = true;
  bool issue = false;                      // pending right away instead of draft
  bool partial = false;                    // allow a period that has not ended (marked on the invoice)
  std::string actor;
  util::Seconds now = 0;
  Party issuer;
};

// Where an organization's plan and bill-to details come from (store assignment, config).
struct OrgDirectory {
  std::map<std::string, std::string> plan;     // organization -> plan name
  std::map<std::string, Party> party;          // organization -> bill-to
  std::string default_plan;
};

struct GenerateResult {
  std::vector<Invoice> created;
  std::vector<std::pair<std::string, std::string>> skipped;  // organization, why
};

// Checks every plan the directory names (assignments, [orgs], default_plan) before any usage is
// read: an undefined plan or a custom price without one is an error listing all such problems.
void check_directory(const std::vector<Plan>& plans, const OrgDirectory& dir);

class Invoices {
 public:
  Invoices(InvoiceStore& store, credits::Ledger& ledger);
  // The issuer's time zone: an invoice is due until the end of its due date there (default UTC).
  void set_time_zone(util::TimeZone tz) { m_tz = std::move(tz); }

  GenerateResult generate(const GenerateOptions& o, const std::vector<Plan>& plans, const OrgDirectory& dir,
                          const std::vector<OrgUsage>& usage);
  std::vector<Invoice> list(const std::string& period, const std::string& organization);
  // By number (INV-2026-000001) or id.
  Invoice get(const std::string& ref);
  Invoice issue(const std::string& ref, const std::string& actor, util::Seconds now);
  Invoice mark_paid(const std::string& ref, const std::string& actor, const std::string& reference, util::Seconds now);
  Invoice void_invoice(const std::string& ref, const std::string& actor, const std::string& reason, util::Seconds now);

  // Plan assignments kept in the store.
  std::map<std::string, std::string> assignments();
  // Puts an organization on a plan. Billing on it starts with the month of its first assignment,
  // or of `since` (a backdated assignment); a later change of plan keeps that start.
  void assign(const std::string& organization, const std::string& plan, util::Seconds now,
              std::optional<util::Seconds> since = std::nullopt);

 private:
  // Sets issued_at, due_date and due_at for an invoice issued at `now`.
  void set_due(Invoice& inv, util::Seconds now) const;
  InvoiceStore& m_store;
  credits::Ledger& m_ledger;
  util::TimeZone m_tz;
};

}  // namespace billctl::billing
