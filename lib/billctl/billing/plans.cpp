#include "billctl/billing/plans.hpp"

#include <algorithm>

#include "billctl/money/config.hpp"
#include "billctl/usage/meters.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::billing {

using money::config_decimal;

namespace {

Decimal dec(const char* s) { return *Decimal::parse(s); }


Metric metric_of(const std::string& key, const std::string& where) {
  for (const auto& m : metrics())
    if (m.id == key) return m.metric;
  std::vector<std::string> names;
  for (const auto& m : metrics()) names.emplace_back(m.id);
  const std::string hint = util::did_you_mean(key, names);
  throw DataError(where + ": unknown metric '" + key + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

}  // namespace

const std::vector<MetricInfo>& metrics() {
  static const std::vector<MetricInfo> k = {
      {Metric::llm_tokens, "llm_tokens", "LLM tokens", "tokens", "", 1000000, "1M tokens"},
      {Metric::sql_queries, "sql_queries", "SQL queries", "queries", "sql_queries", 1000, "1K queries"},
      {Metric::storage_gb, "storage_gb", "Storage (peak daily)", "GB", "storage_gb", 1, "GB"},
      {Metric::api_requests, "api_requests", "API requests", "requests", "api_requests", 1000, "1K requests"},
      {Metric::compute_hours, "compute_hours", "Compute", "hours", "compute_minutes", 1, "hour"},
      {Metric::bandwidth_gb, "bandwidth_gb", "Bandwidth", "GB", "bandwidth_gb", 1, "GB"},
      {Metric::users, "users", "Users", "users", "", 1, "user"},
  };
  return k;
}

const MetricInfo& info(Metric m) { return metrics()[size_t(m)]; }

std::string quantity_with_unit(const money::Decimal& q, Metric m) {
  std::string unit(info(m).unit);
  if (q == money::Decimal::from_int(1) && unit != "GB") {
    if (unit == "queries") unit = "query";
    else if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  }
  return quantity_text(q, m) + " " + unit;
}

std::vector<Plan> default_plans() {
  auto plan = [](const char* name, const char* title, std::optional<Decimal> fee,
                 std::initializer_list<std::tuple<Metric, std::optional<Decimal>, const char*>> a) {
    Plan p;
    p.name = name;
    p.title = title;
    p.base_fee = fee;
    for (const auto& [m, inc, rate] : a) p.allowances[m] = Allowance{inc, dec(rate)};
    return p;
  };
  const std::optional<Decimal> unlimited;
  return {
      plan("starter", "Starter", dec("99"),
           {{Metric::llm_tokens, dec("500000"), "20.00"},
            {Metric::sql_queries, dec("10000"), "0.50"},
            {Metric::storage_gb, dec("10"), "0.25"},
            {Metric::api_requests, dec("100000"), "0.10"},
            {Metric::compute_hours, dec("10"), "0.12"},
            {Metric::bandwidth_gb, dec("10"), "0.09"},
            {Metric::users, dec("5"), "15.00"}}),
      plan("professional", "Professional", dec("499"),
           {{Metric::llm_tokens, dec("5000000"), "15.00"},
            {Metric::sql_queries, dec("100000"), "0.40"},
            {Metric::storage_gb, dec("100"), "0.20"},
            {Metric::api_requests, dec("1000000"), "0.08"},
            {Metric::compute_hours, dec("100"), "0.10"},
            {Metric::bandwidth_gb, dec("100"), "0.08"},
            {Metric::users, dec("25"), "12.00"}}),
      plan("enterprise", "Enterprise", std::nullopt,
           {{Metric::llm_tokens, unlimited, "0"},
            {Metric::sql_queries, unlimited, "0"},
            {Metric::storage_gb, dec("1000"), "0.15"},
            {Metric::api_requests, unlimited, "0"},
            {Metric::compute_hours, unlimited, "0"},
            {Metric::bandwidth_gb, unlimited, "0"},
            {Metric::users, unlimited, "0"}}),
  };
}

const Plan* find_plan(const std::vector<Plan>& plans, const std::string& name) {
  for (const auto& p : plans)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<Plan> parse_plans(const toml::table* t, const std::string& origin) {
  std::vector<Plan> plans = default_plans();
  if (!t) return plans;
  for (const auto& [k, v] : *t) {
    const std::string name(k.str());
    const std::string where = money::config_at(origin, v) + ": [plans." + name + "]";
    const auto* pt = v.as_table();
    if (!pt) throw DataError(where + ": expected a table");
    Plan* p = nullptr;
    for (auto& q : plans)
      if (q.name == name) p = &q;
    if (!p) {
      plans.push_back(Plan{});
      p = &plans.back();
      p->name = name;
      p->title = name;
      for (const auto& m : metrics()) p->allowances[m.metric] = Allowance{std::nullopt, Decimal()};
    }
    for (const auto& [fk, fv] : *pt) {
      const std::string f(fk.str());
      if (f == "title") {
        p->title = fv.value<std::string>().value_or(p->title);
      } else if (f == "price") {
        const std::string text = fv.value<std::string>().value_or("");
        if (text == "custom") {
          p->base_fee.reset();
        } else {
          auto m = money::parse_money(text);
          if (!m) throw DataError(where + " price: " + m.error() + " (or \"custom\")");
          p->base_fee = m->amount;
          p->currency = m->currency;
        }
      } else if (f == "included" || f == "overage") {
        const auto* mt = fv.as_table();
        if (!mt) throw DataError(where + " " + f + ": expected a table of metric = value");
        for (const auto& [mk, mv] : *mt) {
          const std::string key(mk.str());
          const Metric m = metric_of(key, where + " " + f);
          if (f == "included") {
            if (mv.value<std::string>().value_or("") == "unlimited") p->allowances[m].included.reset();
            else p->allowances[m].included = config_decimal(mv, where + " included." + key);
          } else {
            p->allowances[m].rate = config_decimal(mv, where + " overage." + key);
          }
        }
      } else {
        throw DataError(where + ": unknown key '" + f + "' (known: title, price, included, overage)");
      }
    }
  }
  return plans;
}

std::vector<OrgUsage> organization_usage(usage::Source& source, const util::Period& period) {
  usage::AggQuery by_org{period.begin, period.end, {}, {usage::Dim::organization}};
  by_org.meters = true;
  usage::AggQuery by_user{period.begin, period.end, {}, {usage::Dim::organization, usage::Dim::user}};
  const auto res = source.aggregate({by_org, by_user});
  std::map<std::string, OrgUsage> out;
  for (const auto& g : res[0].groups) {
    OrgUsage& u = out[g.keys[0]];
    u.used[Metric::llm_tokens] = Decimal::from_int(g.totals.tokens());
  }
  for (const auto& g : res[1].groups)
    if (!g.keys[1].empty()) out[g.keys[0]].used[Metric::users] += Decimal::from_int(1);
  for (const auto& row : res[0].meters.rows(true)) {
    for (const auto& m : metrics())
      if (!m.meter.empty() && m.meter == row.meter) out[row.organization].used[m.metric] = row.quantity;
  }
  std::vector<OrgUsage> list;
  for (auto& [org, u] : out) {
    u.organization = org;
    if (!org.empty()) list.push_back(std::move(u));
  }
  return list;
}

std::vector<MetricUse> usage_metrics(const Plan& plan, const OrgUsage& usage) {
  std::vector<MetricUse> out;
  for (const auto& m : metrics()) {
    MetricUse u;
    u.metric = m.metric;
    auto it = usage.used.find(m.metric);
    if (it != usage.used.end()) u.used = it->second;
    auto a = plan.allowances.find(m.metric);
    if (a != plan.allowances.end() && a->second.included) {
      u.limit = a->second.included;
      if (!u.limit->is_zero()) u.tenths = money::share_tenths(u.used.units(), u.limit->units());
      if (u.used > *u.limit) {
        u.overage = u.used - *u.limit;
        u.overage_amount = Decimal::from_units(
            money::div_round(u.overage.mul(a->second.rate).units(), m.per, money::Rounding::half_even));
      }
    }
    out.push_back(u);
  }
  return out;
}

std::string quantity_text(const std::optional<Decimal>& q, Metric m) {
  if (!q) return "unlimited";
  const int digits = m == Metric::storage_gb || m == Metric::compute_hours || m == Metric::bandwidth_gb ? 2 : 0;
  const Decimal r = q->round(digits);
  // Whole GB and hours print without decimals.
  if (digits && r.round(0) == r) return r.format(0);
  return r.format(digits);
}

}  // namespace billctl::billing
