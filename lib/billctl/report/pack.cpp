#include "billctl/report/pack.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "billctl/forecast/forecast.hpp"
#include "billctl/report/breakdown.hpp"
#include "billctl/report/department_days.hpp"

namespace billctl::report {

using render::Column;
using render::Kind;
using render::Value;
using usage::Dim;

namespace {

constexpr size_t k_mom_periods = 6;
constexpr size_t k_mom_departments = 5;
constexpr Dim k_driver_dims[] = {Dim::model, Dim::department, Dim::user, Dim::feature, Dim::project};

const render::Table* find_table(const std::vector<render::Table>& ts, std::string_view id) {
  for (const auto& t : ts)
    if (t.id == id) return &t;
  return nullptr;
}

size_t column(const render::Table& t, std::string_view id) {
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (t.columns[c].id == id) return c;
  return t.columns.size();
}

// key -> rounded cost of a breakdown table (its rows, not its total).
std::map<std::string, money::Decimal> costs_of(const render::Table& t) {
  std::map<std::string, money::Decimal> out;
  const size_t c = column(t, "cost");
  if (c == t.columns.size()) return out;
  for (const auto& row : t.rows) out[row[0].text] = row[c].decimal;
  return out;
}

usage::AggQuery query(const util::Period& p, const std::vector<usage::Filter>& where, std::vector<Dim> by) {
  usage::AggQuery q{p.begin, p.end, where, std::move(by)};
  q.tokens_only = true;
  return q;
}

// Users with usage per value of the first dimension of a (dimension, user) result.
std::map<std::string, int64_t> active_users(const usage::AggResult& by_user) {
  std::map<std::string, int64_t> out;
  for (const auto& g : by_user.groups)
    if (!g.keys[1].empty() && g.totals.records > 0) ++out[g.keys[0]];
  return out;
}

// Department (or feature) economics: cost and share from the report's breakdown, active users
// from the (dimension, user) groups, requests, and the two unit costs.
render::Table economics_table(const MonthlyReport& r, const render::Table& breakdown, const usage::AggResult& by_user,
                              std::string id, std::string title, std::string key_title) {
  render::Table t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.currency = r.currency;
  t.columns = {{breakdown.columns[0].id, std::move(key_title), Kind::text},
               {"cost", "cost", Kind::money},
               {"share", "share", Kind::percent},
               {"active_users", "users", Kind::integer, false},
               {"cost_per_active_user", "per user", Kind::money, false},
               {"requests", "requests", Kind::integer},
               {"cost_per_request", "per request", Kind::decimal}};
  const int digits = r.currency.minor_units;
  const size_t cost = column(breakdown, "cost"), share = column(breakdown, "share"), req = column(breakdown, "requests");
  const auto users = active_users(by_user);
  auto per = [](const money::Decimal& c, int64_t n, int d) { return n > 0 ? Value::of_money(c.div_int(n).round(d), d) : Value::none(); };
  for (const auto& row : breakdown.rows) {
    const money::Decimal c = row[cost].decimal;
    const int64_t requests = row[req].integer;
    auto u = users.find(row[0].text);
    const int64_t n = u == users.end() ? 0 : u->second;
    t.rows.push_back({Value::of_text(row[0].text), Value::of_money(c, digits), row[share], Value::of_int(n), per(c, n, digits),
                      Value::of_int(requests), per(c, requests, 4)});
  }
  // The totals row says what the summary says (quotients of the exact total).
  auto given = [](const std::optional<money::Decimal>& v, int d) { return v ? Value::of_money(*v, d) : Value::none(); };
  t.total = {Value::of_text("Total"), Value::of_money(r.cost, digits), Value::of_percent(r.total.cost != 0 ? 1000 : 0),
             Value::of_int(r.active_users), given(r.cost_per_active_user, digits), Value::of_int(r.total.requests),
             given(r.cost_per_request, 4)};
  return t;
}

bool same_scope(std::vector<usage::Filter> a, std::vector<usage::Filter> b) {
  auto norm = [](std::vector<usage::Filter>& v) {
    for (auto& f : v) std::sort(f.values.begin(), f.values.end());
    std::sort(v.begin(), v.end(), [](const usage::Filter& x, const usage::Filter& y) { return x.dim < y.dim; });
  };
  norm(a);
  norm(b);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].dim != b[i].dim || a[i].values != b[i].values) return false;
  return true;
}

std::vector<Driver> drivers_of(const MonthlyReport& r, const std::vector<usage::AggResult>& previous) {
  std::vector<Driver> all;
  for (size_t i = 0; i < std::size(k_driver_dims); ++i) {
    const Dim d = k_driver_dims[i];
    const render::Table* now_t = find_table(r.breakdowns, "by_" + std::string(usage::dim_name(d)));
    if (!now_t) continue;
    usage::AggResult prev = previous[i];
    prev.currency = r.currency;
    const render::Table before_t = breakdown_table({"prev", "prev", {d}}, prev);
    auto now_c = costs_of(*now_t), before_c = costs_of(before_t);
    std::set<std::string> keys;
    for (const auto& [k, v] : now_c) keys.insert(k);
    for (const auto& [k, v] : before_c) keys.insert(k);
    keys.erase("");
    if (keys.size() < 2) continue;  // one value is the whole: it explains nothing
    for (const auto& k : keys) {
      Driver dr{d, k, now_c[k], before_c[k], now_c[k] - before_c[k], std::nullopt};
      if (dr.change.is_zero()) continue;
      if (!dr.previous_cost.is_zero()) dr.change_tenths = share_tenths(dr.change.units(), dr.previous_cost.units());
      all.push_back(std::move(dr));
    }
  }
  auto abs_units = [](const money::Decimal& x) { return x.negative() ? -x.units() : x.units(); };
  std::stable_sort(all.begin(), all.end(), [&](const Driver& a, const Driver& b) { return abs_units(a.change) > abs_units(b.change); });
  if (all.size() > 3) all.resize(3);
  return all;
}

MonthOverMonth mom_of(const MonthlyReport& r, const std::vector<util::Period>& periods, const std::vector<usage::AggResult>& by_dept) {
  MonthOverMonth m;
  std::vector<std::map<std::string, money::Decimal>> costs;
  std::vector<std::map<std::string, money::i128>> exact(periods.size());
  for (size_t i = 0; i < periods.size(); ++i) {
    m.periods.push_back(periods[i].label);
    for (const auto& g : by_dept[i].groups) exact[i][g.keys[0]] += g.totals.cost;
    m.exact_totals.push_back(by_dept[i].total().cost);
    usage::AggResult res = by_dept[i];
    res.currency = r.currency;
    const render::Table t = breakdown_table({"mom", "mom", {Dim::department}}, res);
    costs.push_back(costs_of(t));
    const size_t c = column(t, "cost");
    m.totals.push_back(!t.total.empty() && c < t.total.size() ? t.total[c].decimal : money::Decimal());
  }
  // The largest departments of the report's period (the last), then the rest as "(others)".
  std::vector<std::pair<std::string, money::Decimal>> order(costs.back().begin(), costs.back().end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::set<std::string> all;
  for (const auto& c : costs)
    for (const auto& [k, v] : c) all.insert(k);
  std::vector<std::string> named;
  for (size_t i = 0; i < order.size() && i < k_mom_departments; ++i) named.push_back(order[i].first);
  const bool others = all.size() > named.size();
  for (const auto& n : named) m.departments.push_back(n.empty() ? "(none)" : n);
  if (others) m.departments.push_back("(others)");
  m.cost.assign(m.departments.size(), std::vector<money::Decimal>(periods.size()));
  m.exact.assign(m.departments.size(), std::vector<money::i128>(periods.size(), 0));
  for (size_t p = 0; p < periods.size(); ++p) {
    money::Decimal named_sum;
    money::i128 named_exact = 0;
    for (size_t k = 0; k < named.size(); ++k) {
      auto it = costs[p].find(named[k]);
      if (it != costs[p].end()) m.cost[k][p] = it->second;
      named_sum += m.cost[k][p];
      auto e = exact[p].find(named[k]);
      if (e != exact[p].end()) m.exact[k][p] = e->second;
      named_exact += m.exact[k][p];
    }
    if (others) {
      m.cost.back()[p] = m.totals[p] - named_sum;  // columns sum exactly to the total
      m.exact.back()[p] = m.exact_totals[p] - named_exact;
    }
  }
  return m;
}

render::Table mom_table(const MonthlyReport& r, const MonthOverMonth& m) {
  render::Table t;
  t.id = "month_over_month";
  t.title = "Month over month by department";
  t.currency = r.currency;
  const int digits = r.currency.minor_units;
  t.columns.push_back({"department", "department", Kind::text});
  for (const auto& p : m.periods) t.columns.push_back({p, p, Kind::money});
  t.columns.push_back({"change", "change", Kind::percent});
  auto change = [&](money::i128 now, money::i128 before) {
    return before == 0 ? Value::none() : Value::of_percent(share_tenths(now - before, before));
  };
  const size_t n = m.periods.size();
  for (size_t k = 0; k < m.departments.size(); ++k) {
    std::vector<Value> row{Value::of_text(m.departments[k])};
    for (const auto& c : m.cost[k]) row.push_back(Value::of_money(c, digits));
    row.push_back(n >= 2 ? change(m.exact[k][n - 1], m.exact[k][n - 2]) : Value::none());
    t.rows.push_back(std::move(row));
  }
  t.total.push_back(Value::of_text("Total"));
  for (const auto& c : m.totals) t.total.push_back(Value::of_money(c, digits));
  t.total.push_back(n >= 2 ? change(m.exact_totals[n - 1], m.exact_totals[n - 2]) : Value::none());
  return t;
}

render::Table budget_table(const std::vector<budgets::Status>& list) {
  render::Table t;
  t.id = "budget_status";
  t.title = "Budget status";
  t.columns = {{"budget", "budget", Kind::text},     {"scope", "scope", Kind::text},   {"window", "period", Kind::text},
               {"spent", "spent", Kind::text},       {"limit", "limit", Kind::text},   {"used", "used", Kind::percent},
               {"projected", "projected", Kind::text}, {"p_exceed", "P(exceed)", Kind::percent}};
  for (const auto& s : list) {
    const budgets::Budget& b = s.budget;
    if (!s.error.empty()) {
      t.rows.push_back({Value::of_text(b.name), Value::of_text(budgets::scope_text(b)), Value::of_text(s.window.label),
                        Value::of_text("error"), Value::of_text(budgets::amount_text(b, b.limit)), Value::none(), Value::none(),
                        Value::none()});
      continue;
    }
    t.rows.push_back({Value::of_text(b.name), Value::of_text(budgets::scope_text(b)), Value::of_text(s.window.label),
                      Value::of_text(budgets::amount_text(b, s.spent)), Value::of_text(budgets::amount_text(b, b.limit)),
                      Value::of_percent(s.used_tenths), Value::of_text(budgets::amount_text(b, s.projected)),
                      s.p_exceed ? Value::of_percent(budgets::p_exceed_tenths(*s.p_exceed))
                                 : Value::none()});
  }
  return t;
}

}  // namespace

ReportPack build_pack(usage::Source& source, const MonthlyReport& r, const std::vector<budgets::Budget>& budgets_list,
                      util::Seconds now, const std::string& tzdir) {
  ReportPack pack;
  pack.as_of = std::clamp(now, r.period.begin, r.period.end - 1);

  // One batch: the previous period per driver dimension, the earlier periods by department, and
  // the (department, user) and (feature, user) groups for active users.
  std::vector<util::Period> periods{r.period};
  while (periods.size() < k_mom_periods) periods.insert(periods.begin(), util::previous_period(periods.front()));
  std::vector<usage::AggQuery> qs;
  for (Dim d : k_driver_dims) qs.push_back(query(r.previous, r.where, {d}));
  for (const auto& p : periods) qs.push_back(query(p, r.where, {Dim::department}));
  qs.push_back(query(r.period, r.where, {Dim::department, Dim::user}));
  qs.push_back(query(r.period, r.where, {Dim::feature, Dim::user}));
  qs[qs.size() - 2].records_only = qs.back().records_only = true;  // active users: only who has records
  const std::vector<usage::AggResult> res = source.aggregate(qs);
  const size_t nd = std::size(k_driver_dims);
  pack.drivers = drivers_of(r, std::vector<usage::AggResult>(res.begin(), res.begin() + nd));
  pack.mom = mom_of(r, periods, std::vector<usage::AggResult>(res.begin() + nd, res.begin() + nd + periods.size()));
  pack.mom_table = mom_table(r, pack.mom);
  if (const render::Table* t = find_table(r.breakdowns, "by_department"))
    pack.chargeback = economics_table(r, *t, res[nd + periods.size()], "chargeback", "Chargeback by department", "department");
  if (const render::Table* t = find_table(r.breakdowns, "by_feature"))
    pack.feature_roi = economics_table(r, *t, res[nd + periods.size() + 1], "feature_roi", "Feature ROI", "feature");

  // Budgets at the period's end (or now): monthly ones, projected by the forecast.
  std::vector<budgets::Budget> monthly;
  for (const auto& b : budgets_list)
    if (b.period == budgets::Period::monthly) monthly.push_back(b);
  pack.budgets = budgets::evaluate(source, monthly, pack.as_of, tzdir);
  if (now < r.period.end) {
    forecast::project(source, pack.budgets, pack.as_of, tzdir);
  } else {
    // The period is over: what was spent is what it ends at.
    for (auto& s : pack.budgets)
      if (s.error.empty() && s.window.end <= r.period.end) {
        s.projected = s.spent;
        s.projected_tenths = s.used_tenths;
        if (!s.budget.in_tokens) s.p_exceed = s.spent > s.budget.limit ? 1.0 : 0.0;
      }
  }
  pack.budget_table = budget_table(pack.budgets);

  // The forecast, while the period runs.
  std::optional<forecast::Forecast> f;
  if (now >= r.period.begin && now < r.period.end && r.total.records > 0) {
    forecast::Options o;
    o.period = r.period;
    o.now = now;
    o.where = r.where;
    o.levels = {pack.forecast_level};
    f = forecast::make_forecast(source, o);
    if (f->projected && !f->total.intervals.empty()) {
      pack.forecast = true;
      pack.forecast_mean = f->total.mean;
      pack.forecast_lower = f->total.intervals[0].lower;
      pack.forecast_upper = f->total.intervals[0].upper;
      pack.little_history = f->insufficient_history;
    }
  }

  // The burn-down: the budget of the report's scope, cumulative actual, then the forecast's path.
  BurnDown& bd = pack.burn;
  bd.level = pack.forecast_level;
  for (const auto& b : monthly)
    if (!b.in_tokens && b.currency == r.currency && same_scope(budgets::scope_filters(b), r.where)) {
      bd.budget = b.name;
      bd.limit = b.limit;
      break;
    }
  const size_t cost_col = column(r.daily, "cost");
  money::Decimal cum;
  const int64_t today = util::day_of(pack.as_of);
  for (const auto& row : r.daily.rows) {
    bd.days.push_back(row[0].text);
    if (cost_col >= row.size()) continue;
    const auto day = util::parse_date(row[0].text);
    if (day && day.value_or_throw() > today) continue;
    cum += row[cost_col].decimal;
    bd.actual.push_back(cum);
  }
  if (pack.forecast && f) {
    const money::Decimal rest = pack.forecast_mean - cum;
    money::Decimal ahead;
    for (const auto& p : f->daily) {
      if (p.actual) continue;
      ahead += p.mean;
      const money::Decimal m = cum + ahead;
      // The band widens with the share of the projected rest reached by that day.
      const double share = rest.is_zero() ? 1.0 : std::clamp(chart_value(ahead) / chart_value(rest), 0.0, 1.0);
      bd.mean.push_back(m);
      bd.lower.push_back(m - forecast::to_money(chart_value(pack.forecast_mean - pack.forecast_lower) * share, r.currency));
      bd.upper.push_back(m + forecast::to_money(chart_value(pack.forecast_upper - pack.forecast_mean) * share, r.currency));
    }
  }
  return pack;
}

}  // namespace billctl::report
