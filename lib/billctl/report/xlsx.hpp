// The monthly report as an Excel workbook (libxlsxwriter): a Summary sheet with the key figures and
// two native charts (daily spend stacked by department, top users), and one sheet per breakdown
// with real numeric cells in currency formats, a frozen header row, an autofilter, fitted column
// widths and SUBTOTAL totals that stay right when a user filters. Byte-identical for the same
// input: the document's creation time is the report's pinned "now".
#pragma once

#include <string>

#include "billctl/report/monthly.hpp"
#include "billctl/report/pack.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::report {

// `daily_by_department`: the period's cost by day and department (for the stacked chart).
// Returns the .xlsx file's bytes; throws DataError when libxlsxwriter fails.
// `pack`: budget status, chargeback, feature ROI and month over month, each a sheet after the
// summary (totals of distinct users and unit costs are values, not sums).
std::string report_xlsx(const MonthlyReport& r, const usage::AggResult& daily_by_department, const ReportPack& pack);

}  // namespace billctl::report
