// End-of-period forecasts (SPEC §10) from a usage source: the period's actual spend to "now",
// the model's projection of the rest (forecast/model.hpp) with prediction intervals, the daily
// path, the same per --by key, and each budget's probability of ending above its limit; and the
// backtest that measures all of it on the stored history.
//
// Days are UTC days, as report periods are. Actual amounts are exact; projected amounts are
// estimates rounded to the currency's minor unit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
#include "billctl/forecast/model.hpp"
#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::forecast {

inline constexpr int k_history_days = 112;  // days before "now" a forecast reads (16 weeks)
inline constexpr const char* k_method = "weekday-seasonal robust trend, rolling-origin log-error intervals";

struct Band {
  int level = 0;  // percent
  money::Decimal lower, upper;
};

// One series' outlook for the period: the total, or one --by key.
struct Outlook {
  std::vector<std::string> key;  // values of the --by dimensions (empty for the total)
  money::Decimal actual_to_date;
  money::Decimal mean;           // actual to date + the projected rest
  std::vector<Band> intervals;   // of the period total, one per level
  // For probabilities: the projected rest in currency units and its error spread.
  double rest = 0;
  Spread spread;
};

struct DayPoint {
  std::string date;                     // "2026-10-05"
  std::optional<money::Decimal> actual;  // none for days after "now"
  money::Decimal mean;
  std::vector<Band> bands;  // of that day's total
};

struct BudgetRisk {
  std::string name;
  std::vector<std::string> scope;  // the budget's scope terms
  money::Decimal limit;
  money::Currency currency;
  bool in_tokens = false;
  std::string window;  // "2026-10"
  money::Decimal spent;
  money::Decimal mean;
  double p_exceed = 0;  // 0..1
  std::string error;    // why it could not be forecast (token budgets, currency)
};

struct Options {
  util::Period period;
  util::Seconds now = 0;
  std::vector<usage::Filter> where;
  std::vector<usage::Dim> by;
  std::vector<int> levels{80, 95};
};

struct Forecast {
  util::Period period;
  util::Seconds as_of = 0;
  money::Currency currency;
  Outlook total;
  std::vector<DayPoint> daily;
  std::vector<usage::Dim> by;
  std::vector<Outlook> groups;  // per --by key, largest mean first
  std::vector<BudgetRisk> budgets;
  std::vector<int> levels;
  int history_days = 0;  // whole days of usage history before "now" the model had
  bool insufficient_history = false;
  bool projected = false;  // false when the period is over: everything is actual
};

// Parses "--levels 80,95": whole percents in 1..99, ascending, unique. Throws UsageError naming the flag.
std::vector<int> parse_levels(const std::string& text);

Forecast make_forecast(usage::Source& src, const Options& o);

// Each budget's chance of ending its current window above its limit (money budgets; a token
// budget gets an error). Windows are in the budget's time zone.
std::vector<BudgetRisk> budget_risks(usage::Source& src, const std::vector<budgets::Budget>& list, util::Seconds now,
                                     const std::string& tzdir = "/usr/share/zoneinfo");

// Replaces the run-rate projection of evaluated budgets (budgets::evaluate) with the forecast:
// `projected` becomes the forecast's median for the window and `p_exceed` is set. Token budgets,
// and budgets that could not be evaluated or forecast, keep what they had.
void project(usage::Source& src, std::vector<budgets::Status>& statuses, util::Seconds now,
             const std::string& tzdir = "/usr/share/zoneinfo");

// --- backtest ------------------------------------------------------------------------------

struct CutoffScore {
  int day = 0;                // the forecast was made at the start of this day of the month
  int months = 0;             // months scored
  double mape = 0;            // mean absolute percentage error of the month total, percent
  double mape_run_rate = 0;   // of spent so far / elapsed fraction
  std::vector<double> coverage;  // per level, the share of months inside the interval (0..1)
};

struct Backtest {
  std::string from, to;  // "2026-01", "2026-10"
  std::vector<int> levels;
  std::vector<CutoffScore> cutoffs;
  CutoffScore overall;  // every (month, cutoff) pair
  std::vector<std::string> skipped;  // months with no spend or too little history, with why
  money::Currency currency;
};

// Forecasts every month of [from, to] from every cutoff day (2..last) with only the usage before
// the cutoff, and scores each against the month's actual total.
Backtest backtest(usage::Source& src, const util::Period& from, const util::Period& to, const std::vector<usage::Filter>& where,
                  const std::vector<int>& levels);

// A statistic (a percent, an index, a score) as a decimal with `digits` fraction digits, rounded
// as printf rounds; for display only.
money::Decimal decimal_of(double v, int digits);

// Converts an estimate to money at the currency's minor unit (negative estimates are 0).
money::Decimal to_money(double v, const money::Currency& c);

}  // namespace billctl::forecast
