// The monthly summary (SPEC §9): totals and change against the previous period, breakdowns by
// provider, model, department, user, feature and project, top consumers, the daily trend, cost per
// request and per active user, the failed-request share, and the catalogs that priced it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/pricing/catalog.hpp"
#include "billctl/render/table.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::report {

struct MonthlyReport {
  util::Period period;
  util::Period previous;
  util::Seconds generated_at = 0;
  std::vector<usage::Filter> where;
  std::vector<pricing::CatalogInfo> catalogs;
  money::Currency currency;

  usage::Totals total;
  usage::Totals previous_total;
  money::Decimal cost;           // rounded to the minor unit
  money::Decimal previous_cost;  // rounded to the minor unit
  std::optional<int64_t> change_tenths;  // cost change in tenths of a percent; none without a previous cost
  int64_t active_users = 0;
  std::optional<money::Decimal> cost_per_request;      // 4 decimals
  std::optional<money::Decimal> cost_per_active_user;  // minor unit
  int64_t sessions = 0;                                // distinct sessions named by the records (0: none named)
  std::optional<money::Decimal> cost_per_session;      // minor unit; the cost of the records that name a session
  int64_t failed_tenths = 0;
  std::vector<std::string> unpriced_models;

  std::vector<render::Table> breakdowns;  // provider, model, department, user, feature, project
  render::Table top_users;
  render::Table daily;
  render::Table meters;  // non-token meters; no rows when there are none
};

MonthlyReport build_monthly_report(usage::Source& source, const util::Period& period,
                                   const std::vector<usage::Filter>& where, util::Seconds now);

// "+12.3 %" (with `sign`), "-4.0 %", "0.0 %" from tenths of a percent.
std::string percent_text(int64_t tenths, bool sign);

enum class OutputFormat { table, csv, json };

// `rows`: in the table format, each breakdown's first rows (largest first) and a line saying how
// many more there are; 0 for every row. CSV and JSON always hold every row.
std::string render_report(const MonthlyReport& r, OutputFormat f, const render::TextStyle& style, size_t rows = 0);

}  // namespace billctl::report
