// Budgets and quotas (SPEC §6): a named limit in money or tokens on a scope of usage, for a
// calendar period in a time zone, with alert stages and a soft (alert) or hard (deny) mode.
// This module parses and checks budgets (flags, budgets.toml) and evaluates them against usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/tz.hpp"

namespace billctl::budgets {

enum class Period { monthly, daily };
enum class Mode { soft, hard };

struct Budget {
  std::string name;
  std::vector<std::string> scope;  // "organization", "department:eng", "model:gpt-4o", ... (all must match)
  Period period = Period::monthly;
  bool in_tokens = false;          // the limit counts tokens, not money
  money::Decimal limit;            // money, or a whole number of tokens
  money::Currency currency;        // of a money limit
  std::vector<int> stages{50, 80, 95, 100};  // alert stages, percent of the limit, ascending
  Mode mode = Mode::soft;
  std::string tz = "UTC";
  std::vector<std::string> channels;  // notification channels (config [notify.channels.NAME])
  bool from_file = false;             // managed by 'budgets apply -f' (else set by hand)

  friend bool operator==(const Budget&, const Budget&) = default;
};

std::string_view period_name(Period p);
std::string_view mode_name(Mode m);

// Checks a budget and normalises it (sorted unique stages, canonical scope). `origin` prefixes
// messages ("budgets.toml:12", "budgets set"). Throws UsageError.
void validate(Budget& b, const std::string& origin);
// Parses a --limit value: "5000 USD", "5000" (USD), "2500000 tokens".
void parse_limit(Budget& b, const std::string& text, const std::string& origin);
// Parses "50,80,95,100".
std::vector<int> parse_stages(const std::string& text, const std::string& origin);
// The usage filters a scope stands for ("organization" alone is all usage).
std::vector<usage::Filter> scope_filters(const Budget& b);
// "department:eng model:gpt-4o", or "organization".
std::string scope_text(const Budget& b);
// "5,000.00 USD" or "2,500,000 tokens".
std::string amount_text(const Budget& b, const money::Decimal& amount);

// The fields in which two versions of a budget differ: "limit 100.00 USD -> 200.00 USD", ...
std::vector<std::string> changed_fields(const Budget& before, const Budget& after);

// What 'budgets apply' does to make the store match a file: budgets to put (new or changed),
// names to remove (those the file put there before, or every other one with prune), and the plan
// as text ("+ name: ...", "~ name:\n    field a -> b", "- name", then the counts).
struct ApplyPlan {
  std::vector<Budget> put;
  std::vector<std::string> remove;
  std::string text;
  bool drift() const { return !put.empty() || !remove.empty(); }
};
ApplyPlan plan_apply(const std::vector<Budget>& wanted, const std::vector<Budget>& current, bool prune, bool dry_run);

// Storage form (JSON) and back.
std::string to_json(const Budget& b);
Budget from_json(const std::string& json, const std::string& origin);

// Budgets as code: every [[budget]] of a TOML file, checked; errors name file and line. A budget
// without `tz` gets `default_tz` (the config's tz), as 'budgets set' does.
std::vector<Budget> parse_budgets_toml(const std::string& text, const std::string& origin,
                                       const std::string& default_tz = "UTC");

// The calendar period of a budget that contains `now`, in the budget's time zone.
struct Window {
  util::Seconds begin = 0;
  util::Seconds end = 0;
  std::string label;  // "2026-10" or "2026-10-05"
};
Window current_window(const Budget& b, const util::TimeZone& tz, util::Seconds now);

struct Status {
  Budget budget;
  Window window;
  money::Decimal spent;      // money, or tokens as a whole number
  money::Decimal remaining;  // never negative
  int64_t used_tenths = 0;   // percent of the limit, in tenths
  int stage = 0;             // highest stage reached, 0 for none
  money::Decimal projected;  // end-of-period spend: the run rate here, the forecast once forecast::project() ran
  int64_t projected_tenths = 0;
  std::optional<double> p_exceed;  // the chance of ending above the limit (forecast::project(), money budgets)
  int64_t resets_in_days = 0;  // whole days, rounded up
  util::Seconds at = 0;        // when it was evaluated ("now")
  std::string error;           // why this budget could not be evaluated (the others still are)
};

// A chance (0..1) in tenths of a percent, as every output shows P(exceed).
int64_t p_exceed_tenths(double p);

// "3 days", "1 day 4 hours", "2 hours", "1 hour", "45 minutes": how long until `end`.
std::string time_left_text(util::Seconds now, util::Seconds end);

// Evaluates budgets against usage at `now` (one aggregation for all of them). A budget that cannot
// be evaluated (usage in another currency than its limit) gets Status::error; the others do not
// suffer for it.
std::vector<Status> evaluate(usage::Source& usage, const std::vector<Budget>& budgets, util::Seconds now,
                             const std::string& tzdir = "/usr/share/zoneinfo");

// --fail-on: "warning" (80), "critical" (95), "exceeded" (100) or a percent. Returns the percent.
int parse_fail_on(const std::string& text);

// Identity of a request for a hard-quota check: dimension values (user, department, ...).
struct Identity {
  std::vector<std::pair<usage::Dim, std::string>> values;
};
// Does the budget's scope cover this identity (every scope term names one of its values)?
bool applies_to(const Budget& b, const Identity& who);

}  // namespace billctl::budgets
