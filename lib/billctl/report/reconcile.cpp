#include "billctl/report/reconcile.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "billctl/util/error.hpp"

namespace billctl::report {

namespace {

using money::Decimal;

// variance / billed × 100 with 12 decimals; nullopt when nothing was billed.
std::optional<Decimal> percent_of(Decimal variance, Decimal billed) {
  if (billed.is_zero()) return std::nullopt;
  money::i128 num = variance.units() * 100 * Decimal::k_one;
  money::i128 den = billed.units();
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return Decimal::from_units(money::div_round(num, den, money::Rounding::half_even));
}

Decimal abs(Decimal d) { return d.negative() ? -d : d; }

struct Cell {
  Decimal computed, billed;
  int64_t unpriced = 0;
  int64_t records = 0;
  bool token_lines = false;  // billed lines of token usage (a model and a token class)
  bool other_lines = false;  // billed lines of something else (web search, tools, storage)
};

}  // namespace

Reconciliation reconcile(const ReconcileQuery& q, usage::Source& usage, providers::PullLog& pulls,
                         const pricing::Catalog& catalog) {
  for (usage::Dim d : q.by)
    if (d != usage::Dim::day && d != usage::Dim::model && d != usage::Dim::project)
      throw UsageError("invalid --by '" + std::string(usage::dim_name(d)) + "': reconcile breaks down by day, model or project");
  Reconciliation out;
  const size_t nd = q.by.size();
  // provider, keys... -> cell
  std::map<std::vector<std::string>, Cell> cells;

  // Computed: token usage only (billctl prices tokens; meters are for plans).
  usage::AggQuery aq;
  aq.begin = q.period.begin;
  aq.end = q.period.end;
  aq.where = {{usage::Dim::provider, q.providers}};
  aq.by = {usage::Dim::provider};
  aq.by.insert(aq.by.end(), q.by.begin(), q.by.end());
  aq.tokens_only = true;
  const usage::AggResult r = usage.aggregate({aq})[0];
  out.currency = r.currency;
  for (const usage::Group& g : r.groups) {
    Cell& c = cells[g.keys];
    c.computed += g.totals.cost_decimal();
    c.unpriced += g.totals.unpriced_records;
    c.records += g.totals.records;
  }

  // Billed: the providers' lines, their models named as the catalog names them.
  std::set<std::string> currencies;
  for (const std::string& p : q.providers) {
    for (const providers::BilledLine& b : pulls.billed_lines(p, q.period.begin - q.period.begin % 86400, q.period.end)) {
      if (b.day < q.period.begin - 86399 || b.day >= q.period.end) continue;
      std::vector<std::string> key = {b.provider};
      for (usage::Dim d : q.by) {
        if (d == usage::Dim::day) {
          key.push_back(usage::time_label(usage::Dim::day, b.day));
        } else if (d == usage::Dim::project) {
          key.push_back(b.project);
        } else {
          const pricing::PriceEntry* e = b.model.empty() ? nullptr : catalog.find(b.model, util::day_of(b.day));
          key.push_back(e ? e->model : b.model);
        }
      }
      Cell& c = cells[key];
      c.billed += b.amount;
      (b.model.empty() ? c.other_lines : c.token_lines) = true;
      currencies.insert(std::string(b.currency.name()));
      if (r.groups.empty()) out.currency = b.currency;
    }
  }
  for (const std::string& c : currencies)
    if (c != out.currency.name())
      throw DataError("billed cost in " + c + " and usage in " + std::string(out.currency.name()) +
                      ": reconcile compares one currency");

  // Provisional days: pulled inside the provider's settle window.
  std::map<std::string, std::set<std::string>> provisional;
  std::map<std::string, std::set<std::string>> pulled;
  for (const std::string& p : q.providers)
    for (const providers::PullDay& d : pulls.pull_days(p, q.period.begin - q.period.begin % 86400, q.period.end)) {
      pulled[p].insert(usage::time_label(usage::Dim::day, d.day));
      if (d.state == "provisional") provisional[p].insert(usage::time_label(usage::Dim::day, d.day));
    }
  const auto day_index = std::find(q.by.begin(), q.by.end(), usage::Dim::day) - q.by.begin();

  std::map<std::string, ProviderTotal> totals;
  for (const auto& [key, c] : cells) {
    ReconcileRow row;
    row.provider = key[0];
    row.keys.assign(key.begin() + 1, key.end());
    row.computed = c.computed;
    row.billed = c.billed;
    row.variance = c.computed - c.billed;
    row.pct = percent_of(row.variance, row.billed);
    row.unpriced_records = c.unpriced;
    const bool beyond = row.pct ? abs(*row.pct) > q.tolerance_pct : !row.variance.is_zero();
    row.flagged = beyond;
    if (beyond) {
      const bool by_day = size_t(day_index) < nd;
      const bool is_provisional = by_day && provisional[row.provider].count(row.keys[size_t(day_index)]);
      const bool not_pulled = by_day && !pulled[row.provider].count(row.keys[size_t(day_index)]);
      if (c.unpriced > 0) {
        row.cause = "model without a price (" + std::to_string(c.unpriced) + " unpriced record" + (c.unpriced > 1 ? "s)" : ")");
      } else if (c.other_lines && !c.token_lines && c.computed.is_zero()) {
        row.cause = "not token usage (web search, tools, storage): billctl prices tokens only";
      } else if (c.records == 0 && c.computed.is_zero()) {
        row.cause = "usage not pulled or imported";
      } else if (row.billed.is_zero()) {
        row.cause = is_provisional || not_pulled ? "not billed yet (provisional day)" : "no billed cost pulled";
      } else if (is_provisional) {
        row.cause = "provisional day: the provider may still revise it";
      } else if (row.pct && *row.pct >= Decimal::from_int(90) && *row.pct <= Decimal::from_int(110)) {
        row.cause = "billed at about half: batch or flex tier not flagged in the usage";
      } else if (row.pct && *row.pct >= Decimal::from_int(-55) && *row.pct <= Decimal::from_int(-40)) {
        row.cause = "billed at about double: priority or long-context rates not in the usage";
      } else {
        row.cause = "price differs from the catalog: a price change missing from the catalog?";
      }
    }
    ProviderTotal& t = totals[row.provider];
    t.provider = row.provider;
    t.computed += row.computed;
    t.billed += row.billed;
    out.rows.push_back(std::move(row));
  }
  for (const std::string& p : q.providers) {
    if (!totals.count(p)) continue;
    ProviderTotal t = totals[p];
    t.variance = t.computed - t.billed;
    t.pct = percent_of(t.variance, t.billed);
    t.provisional_days = int64_t(provisional[p].size());
    out.totals.push_back(std::move(t));
  }
  return out;
}

}  // namespace billctl::report
