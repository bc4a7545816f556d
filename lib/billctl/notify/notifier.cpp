#include "billctl/notify/notifier.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "billctl/forecast/forecast.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::notify {

namespace {

using nlohmann::ordered_json;

std::string tenths(int64_t t) { return std::to_string(t / 10) + "." + std::to_string(t % 10); }

struct Drivers {
  std::vector<std::pair<std::string, money::Decimal>> users, models, features;
};

std::vector<std::pair<std::string, money::Decimal>> top3(const usage::AggResult& r) {
  std::vector<const usage::Group*> g;
  for (const auto& x : r.groups)
    if (!x.keys[0].empty()) g.push_back(&x);
  std::stable_sort(g.begin(), g.end(), [](const usage::Group* a, const usage::Group* b) { return a->totals.cost > b->totals.cost; });
  std::vector<std::pair<std::string, money::Decimal>> out;
  for (size_t i = 0; i < g.size() && i < 3; ++i) out.emplace_back(g[i]->keys[0], g[i]->totals.cost_decimal());
  return out;
}

std::string drivers_line(const char* what, const std::vector<std::pair<std::string, money::Decimal>>& list,
                         const budgets::Budget& b) {
  if (list.empty()) return {};
  std::string s = std::string("Top ") + what + ": ";
  for (size_t i = 0; i < list.size(); ++i)
    s += (i ? ", " : "") + list[i].first + " " + list[i].second.format(b.currency.minor_units);
  return s + "\n";
}

ordered_json drivers_json(const std::vector<std::pair<std::string, money::Decimal>>& list, const budgets::Budget& b) {
  ordered_json a = ordered_json::array();
  for (const auto& [name, cost] : list)
    a.push_back({{"name", name},
                 {"cost", {{"amount", cost.format(b.currency.minor_units, false)}, {"currency", std::string(b.currency.name())}}}});
  return a;
}

ordered_json amount_json(const budgets::Budget& b, const money::Decimal& d) {
  if (b.in_tokens) return {{"tokens", int64_t(d.units() / money::Decimal::k_one)}};
  return {{"amount", d.round(b.currency.minor_units).format(b.currency.minor_units, false)},
          {"currency", std::string(b.currency.name())}};
}

Alert make_alert(const budgets::Status& s, const std::string& stage, const Drivers& d) {
  const budgets::Budget& b = s.budget;
  Alert a;
  a.budget = b.name;
  a.period = s.window.label;
  a.stage = stage;
  const bool forecast = stage == "forecast";
  const std::string spent = budgets::amount_text(b, b.in_tokens ? s.spent : s.spent.round(b.currency.minor_units));
  const std::string limit = budgets::amount_text(b, b.limit);
  if (forecast) {
    a.title = "[billctl] Budget '" + b.name + "' is projected to exceed its limit in " + s.window.label + ": " +
              budgets::amount_text(b, s.projected) + " of " + limit;
    a.severity = "warning";
  } else {
    a.title = "[billctl] Budget '" + b.name + "' reached " + stage + " % in " + s.window.label + ": " + spent + " of " + limit;
    const int st = std::stoi(stage);
    a.severity = st >= 100 ? "critical" : st >= 95 ? "error" : "warning";
  }
  a.text = a.title.substr(10) + "\n";
  a.text += "Budget: " + b.name + " (" + std::string(budgets::period_name(b.period)) + ", " +
            std::string(budgets::mode_name(b.mode)) + ") on " + budgets::scope_text(b) + "\n";
  a.text += "Spent: " + spent + " of " + limit + " (" + tenths(s.used_tenths) + " %), " +
            budgets::amount_text(b, s.remaining) + " left\n";
  const int64_t p_tenths = s.p_exceed ? int64_t(*s.p_exceed * 1000 + 0.5) : 0;
  a.text += "Projected by the end of " + s.window.label + ": " + budgets::amount_text(b, s.projected) + " (" +
            tenths(s.projected_tenths) + " %" + (s.p_exceed ? ", chance of exceeding " + tenths(p_tenths) + " %" : "") +
            "); resets in " + std::to_string(s.resets_in_days) + " days\n";
  a.text += drivers_line("users", d.users, b) + drivers_line("models", d.models, b) + drivers_line("features", d.features, b);
  while (!a.text.empty() && a.text.back() == '\n') a.text.pop_back();

  ordered_json j;
  j["schema_version"] = 1;
  j["kind"] = "billctl.budget.alert";
  j["budget"] = b.name;
  j["scope"] = b.scope;
  j["mode"] = budgets::mode_name(b.mode);
  j["period"] = {{"label", s.window.label},
                 {"start", util::format_rfc3339(s.window.begin)},
                 {"end", util::format_rfc3339(s.window.end)},
                 {"tz", b.tz}};
  j["stage"] = forecast ? ordered_json("forecast") : ordered_json(std::stoi(stage));
  j["severity"] = a.severity;
  j["spent"] = amount_json(b, s.spent);
  j["limit"] = amount_json(b, b.limit);
  j["remaining"] = amount_json(b, s.remaining);
  j["used_pct"] = tenths(s.used_tenths);
  j["projected"] = amount_json(b, s.projected);
  j["projected_pct"] = tenths(s.projected_tenths);
  j["p_exceed"] = s.p_exceed ? ordered_json(double(p_tenths) / 1000) : ordered_json(nullptr);
  j["resets_at"] = util::format_rfc3339(s.window.end);
  j["resets_in_days"] = s.resets_in_days;
  j["top_drivers"] = {{"users", drivers_json(d.users, b)},
                      {"models", drivers_json(d.models, b)},
                      {"features", drivers_json(d.features, b)}};
  j["text"] = a.text;
  a.json = j.dump();
  return a;
}

}  // namespace

std::string rfc5322_date(util::Seconds t) {
  static const char* k_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t day = util::day_of(t);
  const util::Date d = util::civil_from_days(day);
  const int64_t sod = t - day * 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", k_days[util::weekday(day)], d.day,
                k_months[d.month - 1], d.year, int(sod / 3600), int(sod / 60 % 60), int(sod % 60));
  return buf;
}

std::vector<Outcome> run_notify(const std::vector<budgets::Budget>& list, NotifyContext& ctx) {
  std::vector<Outcome> out;
  auto statuses = budgets::evaluate(ctx.usage, list, ctx.now);
  forecast::project(ctx.usage, statuses, ctx.now);
  for (const auto& s : statuses) {
    const budgets::Budget& b = s.budget;
    // One budget's problem is reported as its own failure; the other budgets are still sent.
    if (!s.error.empty()) {
      out.push_back({b.name, s.window.label, "-", "", "failed: " + s.error, true, {}});
      continue;
    }
    std::vector<std::string> names = b.channels.empty() ? ctx.settings.default_channels : b.channels;
    std::vector<const Channel*> channels;
    for (const auto& n : names) {
      if (const Channel* c = ctx.settings.find(n)) channels.push_back(c);
      else out.push_back({b.name, s.window.label, "-", n, "failed: the config file defines no [notify.channels." + n + "]", true, {}});
    }
    // What is due: the highest stage reached, and a projection crossing the limit.
    std::vector<std::string> due;
    if (s.stage) due.push_back(std::to_string(s.stage));
    // The forecast alert: likely (80 %) to end the window above the limit; a token budget (no
    // forecast) on its run rate.
    if (s.used_tenths < 1000 && (s.p_exceed ? *s.p_exceed >= 0.8 : s.projected_tenths >= 1000)) due.push_back("forecast");
    if (channels.empty()) {
      // A due alert nobody receives is a failure: a cron job must not report success for it.
      if (names.empty())
        for (const auto& st : due)
          out.push_back({b.name, s.window.label, st, "",
                         "not sent: no channel (give the budget channels, or set [notify] default_channels)", true, {}});
      continue;
    }
    std::optional<Drivers> drivers;
    auto get_drivers = [&]() -> const Drivers& {
      if (!drivers) {
        const util::Seconds end = std::clamp(ctx.now + 1, s.window.begin, s.window.end);
        const auto f = budgets::scope_filters(b);
        auto r = ctx.usage.aggregate({{s.window.begin, end, f, {usage::Dim::user}},
                                      {s.window.begin, end, f, {usage::Dim::model}},
                                      {s.window.begin, end, f, {usage::Dim::feature}}});
        drivers = Drivers{top3(r[0]), top3(r[1]), top3(r[2])};
      }
      return *drivers;
    };
    for (const Channel* c : channels) {
      std::vector<Alert> alerts;
      // PagerDuty: resolve incidents of periods that have ended.
      if (c->kind == Kind::pagerduty) {
        for (const auto& p : ctx.alerts.alerted_periods(b.name, c->name)) {
          if (p == s.window.label) continue;
          Alert r;
          r.budget = b.name;
          r.period = p;
          r.stage = "resolve";
          r.resolve = true;
          r.title = "[billctl] Budget '" + b.name + "': period " + p + " has ended";
          r.text = r.title;
          alerts.push_back(r);
        }
      }
      for (const auto& st : due) alerts.push_back(make_alert(s, st, get_drivers()));
      for (const auto& a : alerts) {
        const AlertKey key{a.budget, a.period, a.stage, c->name};
        if (ctx.dry_run) {
          if (!ctx.alerts.alert_sent(key))
            out.push_back({a.budget, a.period, a.stage, c->name, "would send " + describe(*c), false, a.text});
          continue;
        }
        auto sent = send_once(a, *c, ctx);
        if (!sent) continue;  // sent before, or another run is sending it
        if (!sent->failed && a.stage != "forecast" && a.stage != "resolve") {
          for (int lower : b.stages)
            if (lower < std::stoi(a.stage)) ctx.alerts.supersede_alert({a.budget, a.period, std::to_string(lower), c->name}, ctx.now);
        }
        out.push_back(std::move(*sent));
      }
    }
  }
  return out;
}

std::optional<Outcome> send_once(const Alert& a, const Channel& c, NotifyContext& ctx) {
  const AlertKey key{a.budget, a.period, a.stage, c.name};
  if (!ctx.alerts.claim_alert(key, ctx.now)) return std::nullopt;
  const std::string err = deliver(c, a, ctx.settings, ctx.http, ctx.mail, rfc5322_date(ctx.now));
  ctx.alerts.finish_alert(key, err.empty(), err, ctx.now);
  return Outcome{a.budget, a.period, a.stage, c.name, err.empty() ? "sent" : "failed: " + err, !err.empty(), a.text};
}

Alert low_balance_alert(const std::string& org, const money::Decimal& balance, const money::Decimal& threshold,
                        const std::string& month, util::Seconds now) {
  auto credits = [](const money::Decimal& d) { return d.round(2).format(2); };
  Alert a;
  a.budget = "credits:" + org;
  a.period = month;
  a.stage = "low-balance";
  a.severity = "warning";
  a.title = "Credit balance of '" + org + "' is low: " + credits(balance) + " credits (alert below " + credits(threshold) + ")";
  a.text = a.title + "\nBuy credits with 'billctl credits buy PACKAGE --org " + org +
           " --reference PAYMENT_REF', or set an auto-topup rule with 'billctl credits topup'.";
  nlohmann::ordered_json j{{"schema_version", 1},
                           {"kind", "billctl.credits.low_balance"},
                           {"organization", org},
                           {"balance", balance.to_string()},
                           {"threshold", threshold.to_string()},
                           {"period", month},
                           {"at", util::format_rfc3339(now)}};
  a.json = j.dump();
  return a;
}

Alert anomaly_alert(const forecast::Anomaly& an, const std::string& bucket, const money::Currency& currency, util::Seconds now) {
  const std::string metric(forecast::metric_name(an.metric));
  auto amount = [&](forecast::Metric m, double v) -> std::string {
    char buf[64];
    if (m == forecast::Metric::errors) std::snprintf(buf, sizeof buf, "%.1f %% failed", v * 100);
    else if (m == forecast::Metric::cost) return forecast::to_money(v, currency).format(currency.minor_units) + " " + std::string(currency.name());
    else std::snprintf(buf, sizeof buf, "%.0f %s", v, m == forecast::Metric::tokens ? "tokens" : "requests");
    return buf;
  };
  Alert a;
  a.budget = "anomaly:" + metric;
  a.period = bucket;
  a.stage = "anomaly";
  a.severity = an.severity == "critical" ? "critical" : an.severity == "major" ? "error" : "warning";
  a.title = "[billctl] " + std::string(an.below ? "Drop" : "Spike") + " in " + metric + " on " + bucket + ": " +
            amount(an.metric, an.observed) + ", expected " + amount(an.metric, an.expected);
  a.text = a.title.substr(10) + "\n";
  const forecast::Metric dm = an.metric == forecast::Metric::errors ? forecast::Metric::requests : an.metric;
  nlohmann::ordered_json drivers = nlohmann::ordered_json::array();
  for (size_t i = 0; i < an.drivers.size(); ++i) {
    const auto& d = an.drivers[i];
    const std::string name = std::string(usage::dim_name(d.dim)) + " " + (d.value.empty() ? "(none)" : d.value);
    if (i < 5)
      a.text += (i ? ", " : "Drivers: ") + name + " " + std::to_string(int64_t(d.share * 100 + (d.share >= 0 ? 0.5 : -0.5))) + " % (" +
                amount(dm, d.observed) + ", expected " + amount(dm, d.expected) + ")";
    drivers.push_back({{"dimension", std::string(usage::dim_name(d.dim))}, {"value", d.value}, {"share", std::round(d.share * 1000) / 1000}});
  }
  char score[32];
  std::snprintf(score, sizeof score, "%.1f", an.score);
  a.text += std::string(an.drivers.empty() ? "" : "\n") + "Severity " + an.severity + ", score " + score;
  nlohmann::ordered_json j{{"schema_version", 1},
                           {"kind", "billctl.usage.anomaly"},
                           {"metric", metric},
                           {"bucket", bucket},
                           {"start", util::format_rfc3339(an.start)},
                           {"end", util::format_rfc3339(an.end)},
                           {"direction", an.below ? "below" : "above"},
                           {"observed", amount(an.metric, an.observed)},
                           {"expected", amount(an.metric, an.expected)},
                           {"score", std::round(an.score * 10) / 10},
                           {"severity", an.severity},
                           {"drivers", drivers},
                           {"text", a.text},
                           {"at", util::format_rfc3339(now)}};
  a.json = j.dump();
  return a;
}

std::vector<Outcome> send_low_balance(const Alert& a, const std::vector<std::string>& names, NotifyContext& ctx) {
  std::vector<Outcome> out;
  if (names.empty()) {
    const AlertKey k{a.budget, a.period, a.stage, "stderr"};
    if (ctx.alerts.claim_alert(k, ctx.now)) {
      ctx.alerts.finish_alert(k, true, "", ctx.now);
      out.push_back({a.budget, a.period, a.stage, "stderr", "sent", false, a.title});
    }
    return out;
  }
  std::vector<const Channel*> channels;
  for (const auto& name : names) {
    const Channel* c = ctx.settings.find(name);
    if (!c) throw DataError("[credits] channels names '" + name + "', which is not in [notify.channels]");
    channels.push_back(c);
  }
  for (const Channel* c : channels)
    if (auto o = send_once(a, *c, ctx)) out.push_back(std::move(*o));
  return out;
}

}  // namespace billctl::notify
