#include "billctl/report/live.hpp"

#include <algorithm>

#include "billctl/forecast/anomalies.hpp"
#include "billctl/forecast/forecast.hpp"
#include "billctl/money/money.hpp"
#include "billctl/render/table.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::report {

namespace {

constexpr util::Seconds k_hour = 3600, k_day = 86400;

std::vector<LiveTop> top_of(const usage::AggResult& r, size_t n) {
  std::vector<LiveTop> out;
  for (const auto& g : r.groups) out.push_back({g.keys[0].empty() ? "(none)" : g.keys[0], g.totals.cost_decimal()});
  std::stable_sort(out.begin(), out.end(), [](const LiveTop& a, const LiveTop& b) { return a.cost.units() > b.cost.units(); });
  if (out.size() > n) out.resize(n);
  return out;
}


}  // namespace

LiveView build_live(usage::Source& src, const std::vector<budgets::Budget>& budgets, util::Seconds now,
                    const std::string& tzdir) {
  LiveView v;
  v.now = now;
  const util::Seconds day_start = util::day_of(now) * k_day;
  const util::Period month = util::parse_period("this-month", now).value_or_throw();
  const util::Period last = util::previous_period(month);
  v.month = month.label;
  v.last_month = last.label;
  const util::Seconds same_point = std::min(last.begin + (now - month.begin), last.end);
  // One batch of queries: today by hour, the last hour (total and its top keys), month to date
  // and last month to the same point.
  std::vector<usage::AggQuery> q(7);
  q[0] = {day_start, now, {}, {usage::Dim::hour}};
  q[1] = {now - k_hour, now, {}, {}};
  q[2] = {now - k_hour, now, {}, {usage::Dim::user}};
  q[3] = {now - k_hour, now, {}, {usage::Dim::model}};
  q[4] = {now - k_hour, now, {}, {usage::Dim::feature}};
  q[5] = {month.begin, now, {}, {}};
  q[6] = {last.begin, same_point, {}, {}};
  const auto res = src.aggregate(q);
  v.currency = res[5].currency;
  const int hours = int((now - day_start) / k_hour) + 1;
  v.today_by_hour.assign(size_t(hours), money::Decimal());
  for (const auto& g : res[0].groups) {
    // Hour keys are "YYYY-MM-DDTHH": the last two digits.
    const std::string& k = g.keys[0];
    const int h = k.size() >= 2 ? (k[k.size() - 2] - '0') * 10 + (k.back() - '0') : -1;
    if (h >= 0 && h < hours) v.today_by_hour[size_t(h)] += g.totals.cost_decimal();
    v.today += g.totals.cost_decimal();
    v.today_requests += g.totals.requests;
  }
  v.last_hour = res[1].total().cost_decimal();
  v.last_hour_requests = res[1].total().requests;
  v.top_users = top_of(res[2], 5);
  v.top_models = top_of(res[3], 5);
  v.top_features = top_of(res[4], 5);
  v.month_to_date = res[5].total().cost_decimal();
  v.last_month_same_point = res[6].total().cost_decimal();

  forecast::Options fo;
  fo.period = month;
  fo.now = now;
  fo.levels = {80};
  const forecast::Forecast f = forecast::make_forecast(src, fo);
  v.forecast_insufficient = f.insufficient_history;
  if (f.projected && !f.total.intervals.empty()) {
    v.forecast = f.total.mean;
    v.forecast_low = f.total.intervals[0].lower;
    v.forecast_high = f.total.intervals[0].upper;
  }

  v.budgets = budgets::evaluate(src, budgets, now, tzdir);
  forecast::project(src, v.budgets, now, tzdir);

  forecast::AnomalyOptions ao;
  ao.period = {now - 7 * k_day, now, "7d", util::Period::Kind::range};
  ao.now = now;
  ao.granularity = forecast::Granularity::hour;
  const forecast::AnomalyReport ar = forecast::find_anomalies(src, ao);
  for (auto it = ar.anomalies.rbegin(); it != ar.anomalies.rend() && v.anomalies.size() < 3; ++it) {
    LiveAnomaly a;
    a.start = it->start;
    a.metric = std::string(forecast::metric_name(it->metric));
    a.severity = it->severity;
    if (!it->drivers.empty()) a.driver = std::string(usage::dim_name(it->drivers[0].dim)) + " " + it->drivers[0].value;
    a.times_tenths = it->expected > 0 ? int64_t(it->observed / it->expected * 10 + 0.5) : 0;
    v.anomalies.push_back(std::move(a));
  }
  return v;
}

namespace {

std::string pad(std::string s, size_t width) {
  const size_t w = util::display_width(s);
  if (w < width) s.append(width - w, ' ');
  return s;
}

// A bar of `cells` for a share in tenths of a percent (capped at 100 %).
std::string bar(int64_t tenths, int cells, bool unicode) {
  const int64_t filled = std::clamp<int64_t>(tenths, 0, 1000) * cells / 1000;
  std::string out;
  for (int i = 0; i < cells; ++i) out += i < filled ? (unicode ? "█" : "#") : (unicode ? "░" : ".");
  return out;
}

std::string sparkline(const std::vector<money::Decimal>& xs, bool unicode) {
  static const char* const blocks[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static const char levels[8] = {'_', '.', '-', '~', '=', '+', '*', '#'};
  money::i128 top = 0;
  for (const auto& x : xs) top = std::max(top, x.units());
  std::string out;
  for (const auto& x : xs) {
    // Level 0 for nothing, else 1..7 rounded up, the largest hour at 7.
    const int k = top > 0 && x.units() > 0 ? int(std::min<money::i128>(7, (x.units() * 7 + top - 1) / top)) : 0;
    if (unicode) out += blocks[k];
    else out += levels[k];
  }
  return out;
}

std::string change_text(const money::Decimal& now, const money::Decimal& before) {
  if (before.units() <= 0) return "";
  const money::i128 tenths = (now.units() - before.units()) * 1000 / before.units();
  return " (" + render::percent_text(int64_t(tenths), true) + " %)";
}

}  // namespace

std::vector<std::string> render_live(const LiveView& v, const LiveStyle& st) {
  const size_t width = size_t(std::max(st.width, 40));
  const money::Currency& c = v.currency;
  auto money = [&](const money::Decimal& d) { return money::format_money(money::round_minor({d, c}).amount, c); };
  auto bold = [&](const std::string& s) { return st.color ? "\x1b[1m" + s + "\x1b[0m" : s; };
  std::vector<std::string> out;
  auto line = [&](const std::string& s) {
    std::string l = util::shorten_end(s, width);
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out.push_back(std::move(l));
  };
  std::string head = "billctl usage watch  " + util::format_rfc3339(v.now);
  if (!st.footer.empty()) head += "  (" + st.footer + ")";
  out.push_back(bold(util::shorten_end(head, width)));
  line("");
  line(pad("Today", 15) + money(v.today) + "  " + util::group_thousands(v.today_requests) + (v.today_requests == 1 ? " request" : " requests"));
  line(pad("Last hour", 15) + money(v.last_hour) + "  " + util::group_thousands(v.last_hour_requests) + (v.last_hour_requests == 1 ? " request" : " requests"));
  if (!v.today_by_hour.empty()) {
    const std::string last_hour = std::to_string(v.today_by_hour.size() - 1);
    line(pad("Today by hour", 15) + sparkline(v.today_by_hour, st.unicode) + "  00.." + (last_hour.size() < 2 ? "0" : "") + last_hour + " UTC");
  }
  line(pad("Month to date", 15) + money(v.month_to_date) + " in " + v.month + "; " + money(v.last_month_same_point) +
       " at this point of " + v.last_month + change_text(v.month_to_date, v.last_month_same_point));
  if (v.forecast)
    line(pad("Forecast", 15) + money(*v.forecast) + " for " + v.month + " (80 %: " + money(*v.forecast_low) + " to " +
         money(*v.forecast_high) + ")");
  else
    line(pad("Forecast", 15) + (v.forecast_insufficient ? "not yet: under 14 days of history" : "none"));

  line("");
  out.push_back(bold("Budgets"));
  if (v.budgets.empty()) line("  none (billctl budgets set)");
  size_t name_w = 0;
  for (const auto& s : v.budgets) name_w = std::max(name_w, std::min<size_t>(util::display_width(s.budget.name), 24));
  for (const auto& s : v.budgets) {
    std::string l = "  " + pad(util::shorten_end(s.budget.name, 24), name_w) + "  ";
    if (!s.error.empty()) {
      line(l + "error: " + s.error);
      continue;
    }
    const std::string pct = render::percent_text(s.used_tenths) + " %";
    l += bar(s.used_tenths, 16, st.unicode) + " " + std::string(pct.size() < 7 ? 7 - pct.size() : 0, ' ') + pct;
    // "1,684.12 of 5,000.00 USD": the unit once.
    const std::string spent = budgets::amount_text(s.budget, s.spent);
    l += "  " + spent.substr(0, spent.rfind(' ')) + " of " + budgets::amount_text(s.budget, s.budget.limit);
    if (s.p_exceed) l += "  P(exceed) " + render::percent_text(budgets::p_exceed_tenths(*s.p_exceed)) + " %";
    line(l);
  }

  line("");
  out.push_back(bold("Last hour"));
  const std::vector<std::pair<const char*, const std::vector<LiveTop>*>> tops = {
      {"users", &v.top_users}, {"models", &v.top_models}, {"features", &v.top_features}};
  // Side by side when the width allows three columns of 26, else one under another.
  if (v.top_users.empty() && v.top_models.empty() && v.top_features.empty()) {
    line("  no usage in the last hour");
  } else if (width >= 3 * 26) {
    const size_t col = width / 3;
    std::string h;
    for (const auto& [name, list] : tops) h += pad(std::string("  top ") + name, col);
    line(h);
    for (size_t i = 0; i < 5; ++i) {
      std::string r;
      bool any = false;
      for (const auto& [name, list] : tops) {
        std::string cell;
        if (i < list->size()) {
          const std::string amount = money((*list)[i].cost);
          cell = "  " + util::shorten_end((*list)[i].value, col - 3 - amount.size() - 1) + " ";
          cell = pad(cell, col - 1 - amount.size()) + amount;
          any = true;
        }
        r += pad(cell, col);
      }
      if (any) line(r);
    }
  } else {
    for (const auto& [name, list] : tops) {
      line(std::string("  top ") + name);
      for (const auto& t : *list) line("    " + t.value + "  " + money(t.cost));
    }
  }

  line("");
  out.push_back(bold("Anomalies (last 7 days, hourly)"));
  if (v.anomalies.empty()) line("  none");
  for (const auto& a : v.anomalies) {
    std::string l = "  " + util::format_rfc3339(a.start).substr(0, 16) + "Z  " + a.metric + " " + a.severity;
    if (a.times_tenths > 0) l += "  " + render::percent_text(a.times_tenths) + "x expected";
    if (!a.driver.empty()) l += "  (" + a.driver + ")";
    line(l);
  }
  return out;
}

}  // namespace billctl::report
