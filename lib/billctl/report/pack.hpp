// What the report hands to finance beyond the monthly summary (SPEC §9, the PDF's first page and
// its extra sections): the forecast for the period, budget status at the period's end, the largest
// drivers of change against the previous period, month over month by department, the budget
// burn-down, the chargeback table by department and feature ROI.
//
// Tables sum exactly: costs come from the report's own breakdowns (rounded once, residue
// allocated); per-user and per-request figures are rounded quotients of those.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
#include "billctl/render/table.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::report {

// One value of a dimension whose cost moved between the previous period and this one.
struct Driver {
  usage::Dim dim;
  std::string value;
  money::Decimal cost, previous_cost, change;  // minor unit
  std::optional<int64_t> change_tenths;        // none when the previous cost was zero
};

// Cost per department over the report's period and the five before it.
struct MonthOverMonth {
  std::vector<std::string> periods;      // labels, oldest first; the report's period last
  std::vector<std::string> departments;  // largest in the report's period first, then "(others)"
  std::vector<std::vector<money::Decimal>> cost;  // [department][period], minor unit; columns sum to the period's total
  std::vector<money::Decimal> totals;             // per period
  std::vector<std::vector<money::i128>> exact;    // [department][period] unrounded (changes are computed from these)
  std::vector<money::i128> exact_totals;
};

// Cumulative spend over the period's days against a budget's limit, with the forecast's path for
// the days still to come.
struct BurnDown {
  std::string budget;  // the budget drawn (its limit line); empty: none covers the report's scope
  money::Decimal limit;
  std::vector<std::string> days;
  std::vector<money::Decimal> actual;  // cumulative, one per day up to "now" (every day when the period is over)
  std::vector<money::Decimal> mean, lower, upper;  // cumulative, one per day after "now"; empty when over
  int level = 80;
};

struct ReportPack {
  // The period's forecast: only when the period is still running (an ended period is all actual).
  bool forecast = false;
  money::Decimal forecast_mean, forecast_lower, forecast_upper;
  int forecast_level = 80;
  bool little_history = false;
  util::Seconds as_of = 0;  // budgets and actuals are taken at min(now, end of the period)
  std::vector<budgets::Status> budgets;  // monthly budgets, evaluated at as_of (forecast-projected)
  std::vector<Driver> drivers;            // up to three, largest absolute change first
  MonthOverMonth mom;
  BurnDown burn;
  render::Table budget_table;  // budget, window, spent, limit, used, projected, P(exceed)
  render::Table chargeback;    // department, cost, share, active users, per active user, requests, per request
  render::Table feature_roi;   // feature, cost, share, active users, requests, per active user, per request
  render::Table mom_table;     // department x periods
};

// `budgets_list`: the stored budgets (those that are monthly and in the report's currency are
// shown; a budget whose scope is the report's filters, or all usage without filters, is the one
// the burn-down draws).
ReportPack build_pack(usage::Source& source, const MonthlyReport& r, const std::vector<budgets::Budget>& budgets_list,
                      util::Seconds now, const std::string& tzdir = "/usr/share/zoneinfo");

}  // namespace billctl::report
