#include "billctl/forecast/forecast.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"
#include "billctl/util/tz.hpp"

namespace billctl::forecast {

namespace {

constexpr util::Seconds k_day = 86400;

double to_double(const money::Decimal& d) { return double(d.units()) / double(money::Decimal::k_one); }

// The share of a typical day's spend done by each second of the day: cumulative hour shares,
// linear within an hour; uniform when there is no usage to learn from.
class DayProfile {
 public:
  DayProfile() {
    for (int h = 0; h <= 24; ++h) m_cum[h] = h / 24.0;
  }
  explicit DayProfile(const double (&hours)[24]) : DayProfile() {
    double sum = 0;
    for (double v : hours) sum += v;
    if (sum <= 0) return;
    m_cum[0] = 0;
    for (int h = 0; h < 24; ++h) m_cum[h + 1] = m_cum[h] + hours[h] / sum;
    m_cum[24] = 1;
  }
  // Share of the day done by second s of the day (0..86400).
  double done(util::Seconds s) const {
    if (s <= 0) return 0;
    if (s >= k_day) return 1;
    const int h = int(s / 3600);
    return m_cum[h] + (m_cum[h + 1] - m_cum[h]) * double(s % 3600) / 3600.0;
  }
  // Share of day `d`'s spend that falls in [a, b).
  double share(int64_t d, util::Seconds a, util::Seconds b) const {
    const util::Seconds start = d * k_day;
    const util::Seconds lo = std::max(a, start), hi = std::min(b, start + k_day);
    return hi <= lo ? 0 : done(hi - start) - done(lo - start);
  }

 private:
  double m_cum[25];
};

// The projection of [from, end) for a series of whole days before day `today`.
struct Projection {
  double rest = 0;           // the model's expected spend in [from, end)
  std::vector<double> days;  // per day from `today`, the expected spend inside [from, end)
  Spread spread;             // of `rest`
  Spread daily;              // of one day's total
};

Projection project(const Series& hist, int64_t today, const DayProfile& profile, util::Seconds from, util::Seconds end,
                   double today_so_far, bool want_daily) {
  Projection p;
  Fit f = fit(hist);
  Series s = hist;
  if (hist.days.empty()) {
    // No history: today's pace so far is all there is (the band is wide, see spread()).
    const double done = profile.done(from - today * k_day);
    f.level = done > 0.05 ? today_so_far / done : 0;
    f.last_weekday = (util::weekday(today) + 6) % 7;
  }
  double span = 0;
  for (int64_t d = today; d * k_day < end; ++d) {
    const double share = profile.share(d, from, end);
    const double v = f.day(int(d - today + 1)) * share;
    p.days.push_back(v);
    p.rest += v;
    span += share;
  }
  p.spread = spread(s, int(std::ceil(span - 1e-9)));
  if (want_daily) p.daily = spread(s, 1);
  if (hist.days.empty()) p.spread.sigma = p.daily.sigma = 1.0;
  return p;
}

// Daily totals in currency units from a result grouped by [keys..., day], per key.
struct DailyRows {
  std::map<std::vector<std::string>, std::map<int64_t, money::Decimal>> by_key;
  int64_t first_day = INT64_MAX;  // the first day with usage, over all keys
};

DailyRows daily_rows(const usage::AggResult& r) {
  DailyRows out;
  for (const auto& g : r.groups) {
    if (g.totals.records == 0) continue;
    std::vector<std::string> key(g.keys.begin(), g.keys.end() - 1);
    const int64_t day = util::parse_date(g.keys.back()).value_or_throw("day label");
    out.by_key[key][day] += g.totals.cost_decimal();
    out.first_day = std::min(out.first_day, day);
  }
  return out;
}

// The whole days [first, today) of one key's daily rows as a series.
Series series_of(const std::map<int64_t, money::Decimal>& days, int64_t first, int64_t today) {
  Series s;
  s.first_weekday = util::weekday(first);
  for (int64_t d = first; d < today; ++d) {
    auto it = days.find(d);
    s.days.push_back(it == days.end() ? 0.0 : to_double(it->second));
  }
  return s;
}

double lower_p(int level) { return (1 - level / 100.0) / 2; }

std::vector<Band> bands_of(const money::Decimal& actual, double rest, const Spread& sp, const std::vector<int>& levels,
                           const money::Currency& c) {
  std::vector<Band> out;
  for (int l : levels) {
    Band b;
    b.level = l;
    b.lower = actual + to_money(quantile(rest, sp, lower_p(l)), c);
    b.upper = actual + to_money(quantile(rest, sp, 1 - lower_p(l)), c);
    out.push_back(b);
  }
  return out;
}

// The point forecast of a rest: the median of its predictive distribution.
double center(double rest, const Spread& sp) { return quantile(rest, sp, 0.5); }

money::Decimal actual_in(const std::map<int64_t, money::Decimal>& days, int64_t d0, int64_t d1) {
  money::Decimal sum;
  for (auto it = days.lower_bound(d0); it != days.end() && it->first < d1; ++it) sum += it->second;
  return sum;
}

DayProfile profile_of(const usage::AggResult& hourly) {
  double hours[24] = {};
  for (const auto& g : hourly.groups) {
    // "2026-10-05T13"
    const std::string& label = g.keys[0];
    if (label.size() < 13) continue;
    const int h = (label[11] - '0') * 10 + (label[12] - '0');
    if (h >= 0 && h < 24) hours[h] += to_double(g.totals.cost_decimal());
  }
  return DayProfile(hours);
}

}  // namespace

money::Decimal decimal_of(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, std::isfinite(v) ? v : 0.0);
  return money::Decimal::parse(buf).value_or_throw("statistic");
}

money::Decimal to_money(double v, const money::Currency& c) {
  if (!(v > 0)) return money::Decimal();
  if (!(v < 1e13)) v = 1e13;  // an estimate this large is "unbounded"; Decimal holds it exactly
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", c.minor_units, v);
  return money::Decimal::parse(buf).value_or_throw("forecast amount");
}

std::vector<int> parse_levels(const std::string& text) {
  std::vector<int> out;
  for (std::string_view part : util::split(text, ',')) {
    part = util::trim(part);
    int v = 0;
    bool ok = !part.empty() && part.size() <= 2;
    for (char ch : part) ok = ok && ch >= '0' && ch <= '9';
    if (ok) v = std::stoi(std::string(part));
    if (!ok || v < 1 || v > 99)
      throw UsageError("invalid --levels '" + text + "': expected whole percents between 1 and 99, e.g. 80,95");
    out.push_back(v);
  }
  if (out.empty()) throw UsageError("invalid --levels '" + text + "': expected whole percents between 1 and 99, e.g. 80,95");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Forecast make_forecast(usage::Source& src, const Options& o) {
  Forecast fc;
  fc.period = o.period;
  fc.as_of = o.now;
  fc.by = o.by;
  fc.levels = o.levels;
  const util::Seconds cut = std::clamp(o.now + 1, o.period.begin, o.period.end);  // actual is [begin, cut)
  const int64_t today = util::day_of(o.now);
  const util::Seconds h0 = std::min(o.period.begin, (today - k_history_days) * k_day);
  const util::Seconds upto = std::max(o.now + 1, o.period.begin);
  // 1: daily totals over history and period; 2: the hour-of-day profile of the last 4 weeks;
  // 3: the same per --by key.
  std::vector<usage::AggQuery> qs;
  qs.push_back({h0, upto, o.where, {usage::Dim::day}});
  qs.push_back({(today - 28) * k_day, today * k_day, o.where, {usage::Dim::hour}});
  if (!o.by.empty()) {
    std::vector<usage::Dim> by = o.by;
    by.push_back(usage::Dim::day);
    qs.push_back({h0, upto, o.where, by});
  }
  const auto res = src.aggregate(qs);
  fc.currency = res[0].currency;
  const DayProfile profile = profile_of(res[1]);
  DailyRows total = daily_rows(res[0]);
  const auto& tdays = total.by_key[{}];
  const int64_t first = std::min(total.first_day, today);
  const int64_t hist_first = std::max(first, today - k_history_days);
  fc.history_days = int(today - first);
  fc.insufficient_history = fc.history_days < k_min_history;
  fc.projected = o.now + 1 < o.period.end;
  const int64_t pb = util::day_of(o.period.begin), pe = util::day_of(o.period.end - 1) + 1;  // days of the period

  // Actual to date, exact: the period's days before today, and today's part before the cut.
  auto outlook = [&](const std::map<int64_t, money::Decimal>& days, std::vector<std::string> key, bool want_daily,
                     Projection* keep) {
    Outlook out;
    out.key = std::move(key);
    out.actual_to_date = actual_in(days, pb, std::min(pe, util::day_of(cut - 1) + 1));
    if (cut <= o.period.begin) out.actual_to_date = money::Decimal();
    if (!fc.projected) {
      out.mean = out.actual_to_date;
      for (int l : o.levels) out.intervals.push_back({l, out.actual_to_date, out.actual_to_date});
      return out;
    }
    const Series s = series_of(days, hist_first, today);
    const double today_so_far = to_double(actual_in(days, today, today + 1));
    Projection p = project(s, today, profile, std::max(o.now + 1, o.period.begin), o.period.end, today_so_far, want_daily);
    out.rest = p.rest;
    out.spread = p.spread;
    out.mean = out.actual_to_date + to_money(center(p.rest, p.spread), fc.currency);
    out.intervals = bands_of(out.actual_to_date, p.rest, p.spread, o.levels, fc.currency);
    if (keep) *keep = std::move(p);
    return out;
  };
  Projection p;
  fc.total = outlook(tdays, {}, true, &p);

  // The daily path over the period.
  for (int64_t d = pb; d < pe; ++d) {
    DayPoint pt;
    pt.date = util::format_date(d);
    const money::Decimal actual = actual_in(tdays, d, d + 1);
    if (!fc.projected || d < today) {
      pt.actual = actual;
      pt.mean = actual;
      for (int l : o.levels) pt.bands.push_back({l, actual, actual});
    } else {
      const size_t k = size_t(d - today);
      const double rest = k < p.days.size() ? p.days[k] : 0;
      const money::Decimal so_far = d == today ? actual : money::Decimal();
      if (d == today) pt.actual = actual;
      pt.mean = so_far + to_money(center(rest, p.daily), fc.currency);
      pt.bands = bands_of(so_far, rest, p.daily, o.levels, fc.currency);
    }
    fc.daily.push_back(std::move(pt));
  }

  // Per key: each key's own model; the projected rests are then scaled to add up to the total's.
  if (!o.by.empty()) {
    const DailyRows keyed = daily_rows(res[2]);
    for (const auto& [key, days] : keyed.by_key) fc.groups.push_back(outlook(days, key, false, nullptr));
    if (fc.projected && !fc.groups.empty()) {
      const money::Decimal total_rest = fc.total.mean - fc.total.actual_to_date;
      double sum = 0;
      for (const auto& g : fc.groups) sum += center(g.rest, g.spread);
      // Largest remainder in minor units, so the keys' means add up exactly to the total's mean.
      int64_t minor = 1;
      for (int i = 0; i < fc.currency.minor_units; ++i) minor *= 10;
      const money::i128 unit = money::Decimal::k_one / minor;
      const money::i128 total_minor = total_rest.units() / unit;
      std::vector<std::pair<double, size_t>> rema;
      money::i128 given = 0;
      for (size_t i = 0; i < fc.groups.size(); ++i) {
        const double share = sum > 0 ? center(fc.groups[i].rest, fc.groups[i].spread) / sum : 1.0 / double(fc.groups.size());
        const double exact = share * double(total_minor);
        const money::i128 whole = money::i128(std::floor(exact));
        fc.groups[i].mean = fc.groups[i].actual_to_date + money::Decimal::from_units(whole * unit);
        given += whole;
        rema.push_back({exact - std::floor(exact), i});
      }
      std::sort(rema.begin(), rema.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
      for (size_t j = 0; given < total_minor && j < rema.size(); ++j, ++given)
        fc.groups[rema[j].second].mean += money::Decimal::from_units(unit);
    }
    std::sort(fc.groups.begin(), fc.groups.end(), [](const Outlook& a, const Outlook& b) {
      return a.mean != b.mean ? a.mean > b.mean : a.key < b.key;
    });
  }
  return fc;
}

std::vector<BudgetRisk> budget_risks(usage::Source& src, const std::vector<budgets::Budget>& list, util::Seconds now,
                                     const std::string& tzdir) {
  std::vector<BudgetRisk> out;
  std::vector<usage::AggQuery> qs;
  std::vector<budgets::Window> windows;
  const int64_t today = util::day_of(now);
  for (const auto& b : list) {
    const budgets::Window w = budgets::current_window(b, util::TimeZone::load(b.tz, tzdir), now);
    windows.push_back(w);
    const util::Seconds h0 = std::min(w.begin, (today - k_history_days) * k_day);
    qs.push_back({h0, now + 1, budgets::scope_filters(b), {usage::Dim::day}});
    qs.push_back({w.begin, std::clamp(now + 1, w.begin, w.end), budgets::scope_filters(b), {}});
  }
  qs.push_back({(today - 28) * k_day, today * k_day, {}, {usage::Dim::hour}});
  const auto res = src.aggregate(qs);
  const DayProfile profile = profile_of(res.back());
  for (size_t i = 0; i < list.size(); ++i) {
    const budgets::Budget& b = list[i];
    BudgetRisk r;
    r.name = b.name;
    r.scope = b.scope.empty() ? std::vector<std::string>{"organization"} : b.scope;
    r.limit = b.limit;
    r.currency = b.currency;
    r.in_tokens = b.in_tokens;
    r.window = windows[i].label;
    const usage::AggResult& daily = res[2 * i];
    const usage::Totals spent = res[2 * i + 1].total();
    if (b.in_tokens) {
      r.error = "a token budget: forecasts are of cost";
    } else if ((spent.cost != 0 || daily.total().cost != 0) && !(daily.currency == b.currency)) {
      r.error = "usage is in " + std::string(daily.currency.name()) + ", the budget in " + std::string(b.currency.name());
    } else {
      r.spent = spent.cost_decimal();
      const DailyRows rows = daily_rows(daily);
      const auto it = rows.by_key.find({});
      const std::map<int64_t, money::Decimal> none;
      const auto& days = it == rows.by_key.end() ? none : it->second;
      const int64_t first = std::max(std::min(rows.first_day, today), today - k_history_days);
      const Series s = series_of(days, first, today);
      const double today_so_far = to_double(actual_in(days, today, today + 1));
      const util::Seconds from = std::max(now + 1, windows[i].begin);
      const Projection p = project(s, today, profile, from, windows[i].end, today_so_far, false);
      r.mean = r.spent + to_money(center(p.rest, p.spread), b.currency);
      r.p_exceed = from >= windows[i].end ? (r.spent > b.limit ? 1.0 : 0.0) : p_exceed(p.rest, p.spread, to_double(b.limit - r.spent));
    }
    out.push_back(std::move(r));
  }
  return out;
}

void project(usage::Source& src, std::vector<budgets::Status>& statuses, util::Seconds now, const std::string& tzdir) {
  std::vector<budgets::Budget> list;
  std::vector<size_t> at;
  for (size_t i = 0; i < statuses.size(); ++i)
    if (statuses[i].error.empty() && !statuses[i].budget.in_tokens) {
      list.push_back(statuses[i].budget);
      at.push_back(i);
    }
  if (list.empty()) return;
  const auto risks = budget_risks(src, list, now, tzdir);
  for (size_t k = 0; k < risks.size(); ++k) {
    if (!risks[k].error.empty()) continue;
    budgets::Status& s = statuses[at[k]];
    s.projected = std::max(risks[k].mean, s.spent);
    s.projected_tenths = int64_t(money::div_round(s.projected.units() * 1000, s.budget.limit.units(), money::Rounding::down));
    s.p_exceed = risks[k].p_exceed;
  }
}

Backtest backtest(usage::Source& src, const util::Period& from, const util::Period& to, const std::vector<usage::Filter>& where,
                  const std::vector<int>& levels) {
  Backtest bt;
  bt.from = from.label;
  bt.to = to.label;
  bt.levels = levels;
  const int64_t d_from = util::day_of(from.begin), d_to = util::day_of(to.end - 1) + 1;
  const auto res = src.aggregate({{(d_from - k_history_days) * k_day, d_to * k_day, where, {usage::Dim::day}}});
  bt.currency = res[0].currency;
  DailyRows rows = daily_rows(res[0]);
  const auto& days = rows.by_key[{}];
  const DayProfile profile;  // forecasts are made at midnight: whole days only
  const size_t nl = levels.size();
  struct Acc {
    int n = 0;
    double ape = 0, ape_rr = 0;
    std::vector<int> inside;
  };
  std::map<int, Acc> per_day;
  Acc all;
  all.inside.assign(nl, 0);
  util::Date m = util::civil_from_days(d_from);
  for (int64_t first = util::days_from_civil({m.year, m.month, 1}); first < d_to;) {
    const util::Date dm = util::civil_from_days(first);
    const int len = util::days_in_month(dm.year, dm.month);
    const int64_t next = first + len;
    char label[16];
    std::snprintf(label, sizeof label, "%04d-%02d", dm.year, dm.month);
    const double actual = to_double(actual_in(days, first, next));
    const int64_t hist_first = std::max(rows.first_day, first - k_history_days);
    if (actual <= 0) {
      bt.skipped.push_back(std::string(label) + ": no spend");
    } else if (rows.first_day == INT64_MAX || first - rows.first_day < k_min_history) {
      bt.skipped.push_back(std::string(label) + ": under " + std::to_string(k_min_history) + " days of history before it");
    } else {
      for (int c = 2; c <= len; ++c) {
        const int64_t today = first + c - 1;  // the forecast is made at the start of this day
        const Series s = series_of(days, hist_first, today);
        const double so_far = to_double(actual_in(days, first, today));
        const Projection p = project(s, today, profile, today * k_day, next * k_day, 0, false);
        const double fcst = so_far + center(p.rest, p.spread);
        const double rr = so_far * len / (c - 1);
        Acc& a = per_day[c];
        if (a.inside.empty()) a.inside.assign(nl, 0);
        a.n += 1;
        a.ape += std::fabs(fcst - actual) / actual;
        a.ape_rr += std::fabs(rr - actual) / actual;
        all.n += 1;
        all.ape += std::fabs(fcst - actual) / actual;
        all.ape_rr += std::fabs(rr - actual) / actual;
        for (size_t l = 0; l < nl; ++l) {
          const double lo = so_far + quantile(p.rest, p.spread, lower_p(levels[l]));
          const double hi = so_far + quantile(p.rest, p.spread, 1 - lower_p(levels[l]));
          // Compared at the precision the forecast is printed with.
          const bool in = actual >= lo - 0.005 && actual <= hi + 0.005;
          a.inside[l] += in;
          all.inside[l] += in;
        }
      }
    }
    first = next;
  }
  auto score = [&](int day, const Acc& a) {
    CutoffScore s;
    s.day = day;
    s.months = a.n;
    s.mape = a.n ? 100 * a.ape / a.n : 0;
    s.mape_run_rate = a.n ? 100 * a.ape_rr / a.n : 0;
    for (size_t l = 0; l < nl; ++l) s.coverage.push_back(a.n ? double(a.inside[l]) / a.n : 0);
    return s;
  };
  for (const auto& [day, a] : per_day) bt.cutoffs.push_back(score(day, a));
  bt.overall = score(0, all);
  return bt;
}

}  // namespace billctl::forecast
