#include "billctl/report/department_days.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace billctl::report {

DepartmentDays department_days(const MonthlyReport& r, const usage::AggResult& by, size_t largest) {
  DepartmentDays out;
  std::map<std::string, money::i128> total;
  for (const auto& g : by.groups) total[g.keys[1]] += g.totals.cost;
  std::vector<std::pair<std::string, money::i128>> order(total.begin(), total.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::map<std::string, size_t> series;
  for (size_t i = 0; i < order.size() && i < largest; ++i) {
    series[order[i].first] = i;
    out.names.push_back(order[i].first.empty() ? "(none)" : order[i].first);
  }
  if (order.size() > largest) out.names.push_back("(others)");
  std::map<std::string, size_t> day_index;
  for (const auto& row : r.daily.rows) {
    day_index[row[0].text] = out.days.size();
    out.days.push_back(row[0].text);
  }
  out.cost.assign(out.days.size(), std::vector<money::i128>(out.names.size(), 0));
  for (const auto& g : by.groups) {
    auto d = day_index.find(g.keys[0]);
    if (d == day_index.end()) continue;
    auto s = series.find(g.keys[1]);
    out.cost[d->second][s != series.end() ? s->second : out.names.size() - 1] += g.totals.cost;
  }
  return out;
}

double chart_value(const money::Decimal& d) { return std::strtod(d.to_string().c_str(), nullptr); }

}  // namespace billctl::report
