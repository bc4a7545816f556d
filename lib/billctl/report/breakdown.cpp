#include "billctl/report/breakdown.hpp"

#include <algorithm>

#include "billctl/money/money.hpp"

namespace billctl::report {

using render::Column;
using render::Kind;
using render::Value;

render::Table breakdown_table(const BreakdownSpec& spec, const usage::AggResult& result) {
  render::Table t;
  t.id = spec.id;
  t.title = spec.title;
  t.currency = result.currency;
  for (auto d : spec.dims) t.columns.push_back(Column{std::string(usage::dim_name(d)), std::string(usage::dim_name(d)), Kind::text});
  const size_t nkeys = spec.dims.size();
  t.columns.push_back({"requests", "requests", Kind::integer, true, 1});
  t.columns.push_back({"input_tokens", "input", Kind::integer});
  t.columns.push_back({"cached_input_tokens", "cached", Kind::integer, true, 3});
  // cache_write_tokens means 5-minute writes everywhere (as in the usage record); 1-hour writes
  // have their own column.
  t.columns.push_back({"cache_write_tokens", "writes 5m", Kind::integer, true, 4});
  t.columns.push_back({"cache_write_1h_tokens", "writes 1h", Kind::integer, true, 5});
  t.columns.push_back({"output_tokens", "output", Kind::integer});
  t.columns.push_back({"cost", "cost", Kind::money});
  t.columns.push_back({"share", "share", Kind::percent});
  t.bar_column = int(nkeys) + 6;
  // Unpriced usage is never a silent 0.00: when there is any, every row says how many of its
  // records have no price.
  const bool unpriced = result.total().unpriced_records > 0;
  if (unpriced) t.columns.push_back({"unpriced_records", "unpriced", Kind::integer});

  std::vector<const usage::Group*> groups;
  for (const auto& g : result.groups) groups.push_back(&g);
  if (spec.order == Order::cost_desc)
    std::stable_sort(groups.begin(), groups.end(), [](const usage::Group* a, const usage::Group* b) {
      if (a->totals.cost != b->totals.cost) return a->totals.cost > b->totals.cost;
      if (a->totals.tokens() != b->totals.tokens()) return a->totals.tokens() > b->totals.tokens();
      return a->keys < b->keys;
    });

  // Rows: the groups, or the first `limit` and the rest folded into one.
  struct Row {
    std::vector<std::string> keys;
    usage::Totals totals;
  };
  std::vector<Row> rows;
  const size_t shown = spec.limit && groups.size() > spec.limit ? spec.limit : groups.size();
  for (size_t i = 0; i < shown; ++i) rows.push_back({groups[i]->keys, groups[i]->totals});
  if (shown < groups.size()) {
    Row others;
    others.keys.assign(nkeys, "");
    others.keys[0] = "(" + std::to_string(groups.size() - shown) + " others)";
    for (size_t i = shown; i < groups.size(); ++i) others.totals.add(groups[i]->totals);
    rows.push_back(std::move(others));
  }

  const usage::Totals total = result.total();
  const int digits = result.currency.minor_units;
  std::vector<money::Decimal> exact;
  for (const auto& r : rows) exact.push_back(r.totals.cost_decimal());
  const std::vector<money::Decimal> rounded = money::allocate(exact, digits);
  const money::Decimal total_rounded = total.cost_decimal().round(digits);

  auto values = [&](const std::vector<std::string>& keys, const usage::Totals& tt, const money::Decimal& cost) {
    std::vector<Value> v;
    for (const auto& k : keys) v.push_back(Value::of_text(k));
    v.push_back(Value::of_int(tt.requests));
    v.push_back(Value::of_int(tt.input_tokens));
    v.push_back(Value::of_int(tt.cached_input_tokens));
    v.push_back(Value::of_int(tt.cache_write_tokens));
    v.push_back(Value::of_int(tt.cache_write_1h_tokens));
    v.push_back(Value::of_int(tt.output_tokens));
    v.push_back(Value::of_money(cost, digits));
    v.push_back(Value::of_percent(share_tenths(tt.cost, total.cost)));
    if (unpriced) v.push_back(Value::of_int(tt.unpriced_records));
    return v;
  };
  for (size_t i = 0; i < rows.size(); ++i) t.rows.push_back(values(rows[i].keys, rows[i].totals, rounded[i]));
  std::vector<std::string> total_keys(nkeys, "");
  if (nkeys) total_keys[0] = "Total";
  t.total = values(total_keys, total, total_rounded);
  t.total[nkeys + 7] = Value::of_percent(total.cost == 0 ? 0 : 1000);
  return t;
}

int meter_digits(std::string_view unit) {
  return unit == "queries" || unit == "requests" || unit == "calls" ? 0 : 2;
}

render::Table meters_table(const usage::MeterTotals& meters, bool by_org) {
  using render::Kind;
  using render::Value;
  render::Table t;
  t.id = "meters";
  t.title = "Metered usage";
  if (by_org) t.columns.push_back({"organization", "organization", Kind::text});
  t.columns.insert(t.columns.end(), {{"meter", "meter", Kind::text},
                                     {"quantity", "quantity", Kind::decimal},
                                     {"unit", "unit", Kind::text},
                                     {"aggregation", "aggregation", Kind::text},
                                     {"records", "records", Kind::integer}});
  for (const auto& r : meters.rows(by_org)) {
    std::vector<Value> row;
    if (by_org) row.push_back(Value::of_text(r.organization));
    const int digits = meter_digits(r.unit);
    row.insert(row.end(), {Value::of_text(r.meter), Value::of_money(r.quantity.round(digits), digits), Value::of_text(r.unit),
                           Value::of_text(std::string(usage::meter_agg_name(r.agg))), Value::of_int(r.records)});
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace billctl::report
