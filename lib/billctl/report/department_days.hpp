// What the report's charts draw, shared by the PDF and the Excel workbook: each day's cost per
// department, the largest departments named and the rest folded into "(others)".
#pragma once

#include <string>
#include <vector>

#include "billctl/report/monthly.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::report {

struct DepartmentDays {
  std::vector<std::string> days;                // every day of the report's trend, in order
  std::vector<std::string> names;               // departments by cost ("(none)" for no department), then "(others)"
  std::vector<std::vector<money::i128>> cost;   // [day][series], exact
};

// `by`: the period's cost grouped by day and department.
DepartmentDays department_days(const MonthlyReport& r, const usage::AggResult& by, size_t largest);

// An exact amount as a chart or spreadsheet number (a double: only for drawing and cells that
// spreadsheets store as doubles anyway; never for arithmetic).
double chart_value(const money::Decimal& d);

}  // namespace billctl::report
