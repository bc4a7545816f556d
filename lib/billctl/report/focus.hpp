// The period's usage as a FinOps FOCUS 1.2 cost-and-usage dataset (CSV): one row per day,
// provider, model, service tier, organization, attribution (department, user, feature, project)
// and price component (input, cached input, 5-minute and 1-hour cache writes, output), with every
// mandatory FOCUS 1.2 column and the conditional ones that apply to token-priced AI APIs.
// BilledCost is rounded to the currency's minor unit by largest remainder, so the rows add up
// exactly to the monthly report's total.
#pragma once

#include <string>
#include <vector>

#include "billctl/pricing/catalog.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::report {

// The FOCUS columns, in the order they are written.
const std::vector<std::string>& focus_columns();

// Builds the dataset for [p.begin, p.end) (the billing period) with the filters; RFC 4180 CSV.
std::string focus_csv(usage::Source& source, const pricing::Catalog& catalog, const util::Period& p,
                      const std::vector<usage::Filter>& where);

}  // namespace billctl::report
