// Usage patterns (SPEC §10): when the organisation works (an hour x weekday heatmap of cost and
// requests, in UTC), weekday seasonality, growth week over week and four weeks over four, feature
// adoption (active users per feature per ISO week, new and returning), and the models and features
// whose cost rose or fell most. Amounts are exact sums; indices and changes are ratios.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::forecast {

struct Change {
  std::string label;  // "week over week", "4 weeks over 4 weeks"
  util::Period current, previous;
  money::Decimal now_cost, before_cost;
  std::optional<int64_t> tenths;  // percent change in tenths; none when the earlier cost is 0
};

struct Mover {
  usage::Dim dim;
  std::string value;
  money::Decimal now_cost, before_cost;  // the last 4 weeks of the period, the 4 before
  std::optional<int64_t> tenths;
};

struct Adoption {
  std::string feature;
  std::vector<int64_t> active;  // per week of Patterns::weeks: distinct users
  std::vector<int64_t> fresh;   // of them, first seen on the feature that week (in the period)
};

struct Patterns {
  util::Period period;
  money::Currency currency;
  money::Decimal heat_cost[7][24];  // [weekday 0 = Monday][UTC hour]
  int64_t heat_requests[7][24] = {};
  money::Decimal weekday_cost[7];
  int weekday_days[7] = {};  // days of each weekday in the period
  double weekday_index[7] = {};  // mean cost of the weekday over the mean day (1 = average)
  std::vector<Change> growth;
  std::vector<std::string> weeks;  // ISO weeks of the period, "2026-W41"
  std::vector<Adoption> adoption;  // by active users in the last week, then name
  std::vector<Mover> rising, falling;  // up to 5 each, largest change in cost first
};

Patterns find_patterns(usage::Source& src, const util::Period& period, const std::vector<usage::Filter>& where);

}  // namespace billctl::forecast
