#include "billctl/forecast/patterns.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace billctl::forecast {

namespace {

constexpr util::Seconds k_day = 86400;

std::optional<int64_t> change_tenths(const money::Decimal& now, const money::Decimal& before) {
  if (before.units() <= 0) return std::nullopt;
  return int64_t(money::div_round((now.units() - before.units()) * 1000, before.units(), money::Rounding::half_even));
}

util::Period span(util::Seconds begin, util::Seconds end) {
  util::Period p;
  p.begin = begin;
  p.end = end;
  p.label = util::format_date(util::day_of(begin)) + ".." + util::format_date(util::day_of(end - 1));
  return p;
}

}  // namespace

Patterns find_patterns(usage::Source& src, const util::Period& period, const std::vector<usage::Filter>& where) {
  Patterns p;
  p.period = period;
  const util::Seconds end = period.end;
  // The last four weeks of the period against the four before (for growth and movers).
  const util::Seconds w4 = end - 28 * k_day, w8 = end - 56 * k_day;
  std::vector<usage::AggQuery> qs{
      {period.begin, end, where, {usage::Dim::hour}},                       // 0: the heatmap
      {std::min(period.begin, w8), end, where, {usage::Dim::day}},          // 1: days
      {w4, end, where, {usage::Dim::model}},                                // 2..5: movers
      {w8, w4, where, {usage::Dim::model}},
      {w4, end, where, {usage::Dim::feature}},
      {w8, w4, where, {usage::Dim::feature}},
      {period.begin, end, where, {usage::Dim::feature, usage::Dim::user, usage::Dim::week}},  // 6: adoption
  };
  for (auto& q : qs) q.tokens_only = true;  // meters are not requests of a feature
  qs[6].records_only = true;                  // adoption counts who has records (a lighter scan)
  const auto res = src.aggregate(qs);
  p.currency = res[0].currency;

  for (const auto& g : res[0].groups) {
    const std::string& label = g.keys[0];  // "2026-10-05T13"
    const int64_t day = util::parse_date(label.substr(0, 10)).value_or_throw("hour label");
    const int h = std::stoi(label.substr(11, 2));
    const int wd = util::weekday(day);
    p.heat_cost[wd][h] += g.totals.cost_decimal();
    p.heat_requests[wd][h] += g.totals.requests;
  }

  // Weekdays: every day of the period counts, with or without usage.
  std::map<int64_t, money::Decimal> days;
  for (const auto& g : res[1].groups) days[util::parse_date(g.keys[0]).value_or_throw("day label")] += g.totals.cost_decimal();
  money::Decimal total;
  int ndays = 0;
  for (int64_t d = util::day_of(period.begin); d * k_day < end; ++d) {
    const int wd = util::weekday(d);
    auto it = days.find(d);
    const money::Decimal c = it == days.end() ? money::Decimal() : it->second;
    p.weekday_cost[wd] += c;
    p.weekday_days[wd] += 1;
    total += c;
    ++ndays;
  }
  const double mean_day = ndays ? double(total.units()) / ndays : 0;
  for (int wd = 0; wd < 7; ++wd)
    p.weekday_index[wd] = p.weekday_days[wd] && mean_day > 0 ? double(p.weekday_cost[wd].units()) / p.weekday_days[wd] / mean_day : 0;

  auto sum = [&](util::Seconds a, util::Seconds b) {
    money::Decimal s;
    for (auto it = days.lower_bound(util::day_of(a)); it != days.end() && it->first < util::day_of(b - 1) + 1; ++it) s += it->second;
    return s;
  };
  auto change = [&](std::string label, util::Seconds len) {
    Change c;
    c.label = std::move(label);
    c.current = span(end - len, end);
    c.previous = span(end - 2 * len, end - len);
    c.now_cost = sum(end - len, end);
    c.before_cost = sum(end - 2 * len, end - len);
    c.tenths = change_tenths(c.now_cost, c.before_cost);
    return c;
  };
  p.growth.push_back(change("week over week", 7 * k_day));
  p.growth.push_back(change("4 weeks over 4 weeks", 28 * k_day));

  // Movers: the change in cost of each model and feature, the last 4 weeks against the 4 before.
  std::vector<Mover> movers;
  for (size_t k = 0; k < 2; ++k) {
    const usage::Dim dim = k == 0 ? usage::Dim::model : usage::Dim::feature;
    std::map<std::string, std::pair<money::Decimal, money::Decimal>> by;
    for (const auto& g : res[2 + 2 * k].groups) by[g.keys[0]].first += g.totals.cost_decimal();
    for (const auto& g : res[3 + 2 * k].groups) by[g.keys[0]].second += g.totals.cost_decimal();
    for (const auto& [v, nb] : by)
      if (nb.first != nb.second) movers.push_back({dim, v, nb.first, nb.second, change_tenths(nb.first, nb.second)});
  }
  auto delta = [](const Mover& m) { return m.now_cost - m.before_cost; };
  std::vector<Mover> up, down;
  for (const auto& m : movers) (delta(m).negative() ? down : up).push_back(m);
  std::sort(up.begin(), up.end(), [&](const Mover& a, const Mover& b) { return delta(a) != delta(b) ? delta(a) > delta(b) : a.value < b.value; });
  std::sort(down.begin(), down.end(), [&](const Mover& a, const Mover& b) { return delta(a) != delta(b) ? delta(a) < delta(b) : a.value < b.value; });
  if (up.size() > 5) up.resize(5);
  if (down.size() > 5) down.resize(5);
  p.rising = std::move(up);
  p.falling = std::move(down);

  // Adoption: distinct users per feature and week; "new" the first week a user appears on it.
  std::set<std::string> week_set;
  std::map<std::string, std::map<std::string, std::set<std::string>>> users;  // feature -> week -> users
  for (const auto& g : res[6].groups) {
    if (g.totals.records == 0 || g.keys[1].empty()) continue;
    users[g.keys[0]][g.keys[2]].insert(g.keys[1]);
    week_set.insert(g.keys[2]);
  }
  p.weeks.assign(week_set.begin(), week_set.end());
  for (const auto& [feature, weeks] : users) {
    Adoption a;
    a.feature = feature;
    std::set<std::string> seen;
    for (const auto& w : p.weeks) {
      auto it = weeks.find(w);
      int64_t active = 0, fresh = 0;
      if (it != weeks.end())
        for (const auto& u : it->second) {
          ++active;
          fresh += seen.insert(u).second;
        }
      a.active.push_back(active);
      a.fresh.push_back(fresh);
    }
    p.adoption.push_back(std::move(a));
  }
  std::sort(p.adoption.begin(), p.adoption.end(), [](const Adoption& a, const Adoption& b) {
    const int64_t x = a.active.empty() ? 0 : a.active.back(), y = b.active.empty() ? 0 : b.active.back();
    return x != y ? x > y : a.feature < b.feature;
  });
  return p;
}

}  // namespace billctl::forecast
