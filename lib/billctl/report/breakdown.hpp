// Breakdown tables: usage totals by one or more dimensions, rounded once to the currency's minor
// unit with the residue allocated so that the rows sum exactly to the totals row.
#pragma once

#include <string>
#include <vector>

#include "billctl/render/table.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::report {

enum class Order { cost_desc, key_asc };

struct BreakdownSpec {
  std::string id;
  std::string title;
  std::vector<usage::Dim> dims;
  Order order = Order::cost_desc;
  size_t limit = 0;  // 0: every group; else the first `limit` and one "(N others)" row
};

render::Table breakdown_table(const BreakdownSpec& spec, const usage::AggResult& result);

// The billed quantities of the non-token meters (meter, quantity, unit, aggregation, records);
// with by_org, one row per organization and meter.
render::Table meters_table(const usage::MeterTotals& meters, bool by_org);
// Digits a meter quantity is shown with: 0 for counts, 2 for GB and hours.
int meter_digits(std::string_view unit);

using money::share_tenths;

}  // namespace billctl::report
