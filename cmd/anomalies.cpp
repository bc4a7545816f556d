// billctl usage anomalies | patterns
#include <cmath>
#include <memory>

#include "billctl/forecast/anomalies.hpp"
#include "billctl/forecast/forecast.hpp"
#include "billctl/forecast/patterns.hpp"
#include "billctl/net/http.hpp"
#include "billctl/notify/notifier.hpp"
#include "billctl/render/json.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Column;
using render::Form;
using render::Kind;
using render::Value;

struct AnomalyFlags {
  std::string period = "this-month";
  std::string since, until;
  std::string granularity = "day";
  std::string metric = "cost,errors";
  std::string sensitivity = "medium";
  std::string by;
  std::vector<std::string> where;
  std::string format = "table";
  std::string output;
  bool notify = false;
  std::vector<std::string> channels;
};

// An amount of a metric for a table: money at the minor unit, counts whole, error shares in percent.
Value metric_value(forecast::Metric m, double v, const money::Currency& c) {
  if (m == forecast::Metric::errors) return Value::of_money(forecast::decimal_of(v * 100, 1), 1);
  if (m == forecast::Metric::cost) return Value::of_money(forecast::to_money(v, c), c.minor_units);
  return Value::of_money(money::Decimal::from_int(int64_t(std::llround(v))), 0);
}

render::Json metric_json(forecast::Metric m, double v, const money::Currency& c) {
  if (m == forecast::Metric::cost) return forecast::to_money(v, c).format(c.minor_units, false);
  if (m == forecast::Metric::errors) return std::round(v * 10000) / 10000;
  return int64_t(std::llround(v));
}

std::string bucket_label(const forecast::Anomaly& a, forecast::Granularity g) {
  const std::string t = util::format_rfc3339(a.start);
  return g == forecast::Granularity::day ? t.substr(0, 10) : t.substr(0, 13) + ":00Z";
}

// Sends each anomaly once (per metric, bucket and channel) through the channels given, else the
// config's [notify] default_channels.
void notify_anomalies(const forecast::AnomalyReport& rep, forecast::Granularity g, const std::vector<std::string>& names, Env& env) {
  const notify::Settings settings = env.notify_settings();
  const std::vector<std::string>& use = names.empty() ? settings.default_channels : names;
  if (use.empty()) throw UsageError("--notify needs a channel: --channel NAME, or [notify] default_channels in the config file");
  std::vector<const notify::Channel*> channels;
  for (const auto& n : use) {
    const notify::Channel* c = settings.find(n);
    if (!c) throw UsageError("invalid --channel '" + n + "': the config file has no [notify.channels." + n + "]");
    channels.push_back(c);
  }
  net::CurlHttpClient http;
  net::CurlMailSender mail;
  notify::NotifyContext ctx{env.usage(), env.alerts(), http, mail, settings, env.now(), false};
  size_t failed = 0;
  for (const auto& a : rep.anomalies) {
    const notify::Alert alert = notify::anomaly_alert(a, bucket_label(a, g), rep.currency, env.now());
    for (const notify::Channel* c : channels) {
      const auto o = notify::send_once(alert, *c, ctx);
      if (!o) continue;
      if (o->failed) {
        env.err << "billctl: error: anomaly alert " << alert.period << " " << alert.budget << " via " << o->channel << " "
                << util::escape_controls(o->result) << "\n";
        ++failed;
      } else {
        env.note("sent anomaly alert " + alert.period + " " + std::string(forecast::metric_name(a.metric)) + " via " + o->channel);
      }
    }
  }
  if (failed) throw PartialFailure(std::to_string(failed) + " anomaly alert(s) could not be sent; the next run retries them");
}

// The anomalies: one description for the table, the CSV and the JSON. People (and CSV) read the
// bucket, the metric in words and the top three drivers in a line; the JSON has the bucket's bounds,
// the key as an object and every driver with its figures.
render::Table anomaly_table(const forecast::AnomalyReport& rep, const forecast::AnomalyOptions& o, const AnomalyFlags& f) {
  const unsigned pc = Form::people | Form::csv;
  const money::Currency& cur = rep.currency;
  render::Table t;
  t.id = "anomalies";
  t.title = "Anomalies in " + o.period.label + " (" + f.granularity + "s, sensitivity " + f.sensitivity + ", " +
            std::to_string(rep.buckets) + " judged)";
  t.columns = {Column{"start", f.granularity, Kind::text}.in(pc), Column{"key", "key", Kind::json}.in(Form::json),
               Column{"start", "start", Kind::text}.in(Form::json), Column{"end", "end", Kind::text}.in(Form::json)};
  if (o.by) t.columns.push_back(Column{std::string(usage::dim_name(*o.by)), std::string(usage::dim_name(*o.by)), Kind::text}.in(pc));
  for (const Column& c : {Column{"metric", "metric", Kind::text}.in(pc), Column{"metric", "metric", Kind::text}.in(Form::json),
                          Column{"direction", "direction", Kind::text}.in(Form::json),
                          Column{"observed", "observed", Kind::decimal}.in(pc), Column{"observed", "observed", Kind::json}.in(Form::json),
                          Column{"expected", "expected", Kind::decimal}.in(pc), Column{"expected", "expected", Kind::json}.in(Form::json),
                          Column{"score", "score", Kind::decimal}.in(pc), Column{"score", "score", Kind::number}.in(Form::json),
                          Column{"severity", "severity", Kind::text},
                          Column{"drivers", "top drivers (share of the excess)", Kind::text}.in(pc),
                          Column{"drivers", "drivers", Kind::json}.in(Form::json)})
    t.columns.push_back(c);
  for (const auto& a : rep.anomalies) {
    std::string drivers;
    for (size_t i = 0; i < a.drivers.size() && i < 3; ++i) {
      const auto& d = a.drivers[i];
      drivers += (i ? ", " : "") + std::string(usage::dim_name(d.dim)) + " " + (d.value.empty() ? "(none)" : d.value) + " " +
                 std::to_string(std::lround(d.share * 100)) + " %";
    }
    // Drivers of an error surge are counted in failed requests.
    const forecast::Metric dm = a.metric == forecast::Metric::errors ? forecast::Metric::requests : a.metric;
    render::Json all = render::Json::array();
    for (const auto& d : a.drivers)
      all.push_back({{"dimension", std::string(usage::dim_name(d.dim))}, {"value", d.value},
                     {"observed", metric_json(dm, d.observed, cur)}, {"expected", metric_json(dm, d.expected, cur)},
                     {"share", std::round(d.share * 1000) / 1000}});
    std::vector<Value> row{Value::of_text(bucket_label(a, o.granularity)),
                           Value::of_json(o.by ? render::Json{{std::string(usage::dim_name(*o.by)), a.key}} : render::Json(nullptr)),
                           Value::of_text(util::format_rfc3339(a.start)), Value::of_text(util::format_rfc3339(a.end))};
    if (o.by) row.push_back(Value::of_text(a.key.empty() ? "(none)" : a.key));
    for (auto& v : std::vector<Value>{
             Value::of_text(std::string(forecast::metric_name(a.metric)) + (a.metric == forecast::Metric::errors ? " (% failed)" : "") +
                            (a.below ? " (drop)" : "")),
             Value::of_text(std::string(forecast::metric_name(a.metric))), Value::of_text(a.below ? "below" : "above"),
             metric_value(a.metric, a.observed, cur), Value::of_json(metric_json(a.metric, a.observed, cur)),
             metric_value(a.metric, a.expected, cur), Value::of_json(metric_json(a.metric, a.expected, cur)),
             Value::of_money(forecast::decimal_of(a.score, 1), 1), Value::of_number(std::round(a.score * 10) / 10),
             Value::of_text(a.severity), Value::of_text(drivers), Value::of_json(std::move(all))})
      row.push_back(std::move(v));
    t.rows.push_back(std::move(row));
  }
  return t;
}

void run_anomalies(const AnomalyFlags& f, Env& env) {
  const Format fmt = parse_output_format(f.format);
  forecast::AnomalyOptions o;
  o.now = env.now();
  if (f.granularity == "day") o.granularity = forecast::Granularity::day;
  else if (f.granularity == "hour") o.granularity = forecast::Granularity::hour;
  else throw UsageError("invalid --granularity '" + f.granularity + "': expected day or hour");
  o.period = period_of(f.period, f.since, f.until, env, o.granularity == forecast::Granularity::hour ? 3600 : 86400);
  o.metrics = forecast::parse_metrics(f.metric);
  o.k = forecast::parse_sensitivity(f.sensitivity);
  o.where = usage::parse_filters(f.where);
  normalise_filters(o.where, env.catalog());
  if (!f.by.empty()) {
    const auto dims = usage::parse_dims(f.by, "--by");
    if (dims.size() != 1 || size_t(dims[0]) >= usage::k_text_dims)
      throw UsageError("invalid --by '" + f.by + "': expected one attribution dimension (user, model, feature, department, ...)");
    o.by = dims[0];
  }
  const forecast::AnomalyReport rep = forecast::find_anomalies(env.usage(), o);
  const render::Table t = anomaly_table(rep, o, f);
  std::string out;
  if (fmt == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.usage.anomalies";
    j["period"] = {{"label", o.period.label}, {"start", util::format_rfc3339(o.period.begin)}, {"end", util::format_rfc3339(o.period.end)}};
    j["granularity"] = f.granularity;
    j["sensitivity"] = f.sensitivity;
    j["currency"] = std::string(rep.currency.name());
    j["buckets_judged"] = rep.buckets;
    j["anomalies"] = render::rows_json(t);
    out = render::dump(j);
  } else if (fmt == Format::csv) {
    out = render::to_csv(t);
  } else {
    out = rep.anomalies.empty() ? "No anomalies in " + o.period.label + " (" + std::to_string(rep.buckets) + " " + f.granularity + "s judged).\n"
                                : render::to_text(t, env.style());
  }
  env.emit(out, f.output);
  if (f.notify) notify_anomalies(rep, o.granularity, f.channels, env);
}

struct PatternFlags {
  std::string period;
  std::string since, until;
  std::vector<std::string> where;
  std::string format = "table";
  std::string output;
};

const char* const k_weekdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::string pct_text(const std::optional<int64_t>& tenths) {
  return tenths ? render::percent_text(*tenths, true) + " %" : "new";
}

// The sections of `usage patterns`, one description each for the terminal and the JSON.
render::Table weekday_table(const forecast::Patterns& p) {
  render::Table t;
  t.id = "weekdays";
  t.title = "Weekdays";
  t.currency = p.currency;
  t.json_money_text = true;
  t.columns = {{"weekday", "weekday", Kind::text}, {"days", "days", Kind::integer}, {"cost", "cost", Kind::money},
               Column{"index", "index (1 = average day)", Kind::decimal}.in(Form::people),
               Column{"index", "index", Kind::number}.in(Form::json)};
  for (int d = 0; d < 7; ++d)
    t.rows.push_back({Value::of_text(k_weekdays[d]), Value::of_int(p.weekday_days[d]), Value::of_money(p.weekday_cost[d], p.currency.minor_units),
                      Value::of_money(forecast::decimal_of(p.weekday_index[d], 2), 2), Value::of_number(std::round(p.weekday_index[d] * 100) / 100)});
  return t;
}

render::Table growth_table(const forecast::Patterns& p) {
  const int digits = p.currency.minor_units;
  render::Table t;
  t.id = "growth";
  t.title = "Growth";
  t.currency = p.currency;
  t.json_money_text = true;
  t.columns = {{"label", "", Kind::text},
               {"current", "period", Kind::text},
               {"cost", "cost", Kind::money},
               {"previous", "before", Kind::text},
               {"previous_cost", "cost before", Kind::money},
               Column{"change", "change", Kind::text}.in(Form::people),
               Column{"change_pct", "change", Kind::percent}.in(Form::json)};
  for (const auto& g : p.growth)
    t.rows.push_back({Value::of_text(g.label), Value::of_text(g.current.label), Value::of_money(g.now_cost, digits),
                      Value::of_text(g.previous.label), Value::of_money(g.before_cost, digits), Value::of_text(pct_text(g.tenths)),
                      g.tenths ? Value::of_percent(*g.tenths) : Value::none()});
  return t;
}

render::Table mover_table(const forecast::Patterns& p, const std::vector<forecast::Mover>& list, const std::string& title) {
  const int digits = p.currency.minor_units;
  render::Table t;
  t.id = "movers";
  t.title = title;
  t.currency = p.currency;
  t.json_money_text = true;
  t.columns = {Column{"dim", "", Kind::text}.in(Form::people),
               Column{"dimension", "", Kind::text}.in(Form::json),
               Column{"value", "", Kind::text}.in(Form::people),
               Column{"value", "", Kind::text}.in(Form::json),
               {"cost", "last 4 weeks", Kind::money},
               {"previous_cost", "4 weeks before", Kind::money},
               Column{"change", "change", Kind::text}.in(Form::people),
               Column{"change_pct", "change", Kind::percent}.in(Form::json)};
  for (const auto& m : list)
    t.rows.push_back({Value::of_text(std::string(usage::dim_name(m.dim))), Value::of_text(std::string(usage::dim_name(m.dim))),
                      Value::of_text(m.value.empty() ? "(none)" : m.value), Value::of_text(m.value), Value::of_money(m.now_cost, digits),
                      Value::of_money(m.before_cost, digits), Value::of_text(pct_text(m.tenths)),
                      m.tenths ? Value::of_percent(*m.tenths) : Value::none()});
  return t;
}

render::Table adoption_table(const forecast::Patterns& p) {
  render::Table t;
  t.id = "adoption";
  t.title = "Feature adoption: active users per week (new in brackets)";
  t.columns = {Column{"feature", "feature", Kind::text}.in(Form::people), Column{"feature", "feature", Kind::text}.in(Form::json)};
  for (const auto& w : p.weeks) t.columns.push_back(Column{w, w, Kind::text}.in(Form::people));
  t.columns.push_back(Column{"active_users", "active users", Kind::json}.in(Form::json));
  t.columns.push_back(Column{"new_users", "new users", Kind::json}.in(Form::json));
  for (const auto& a : p.adoption) {
    std::vector<Value> row{Value::of_text(a.feature.empty() ? "(none)" : a.feature), Value::of_text(a.feature)};
    for (size_t i = 0; i < a.active.size(); ++i)
      row.push_back(Value::of_text(std::to_string(a.active[i]) + (a.fresh[i] ? " (" + std::to_string(a.fresh[i]) + ")" : "")));
    row.push_back(Value::of_json(a.active));
    row.push_back(Value::of_json(a.fresh));
    t.rows.push_back(std::move(row));
  }
  return t;
}

void run_patterns(const PatternFlags& f, Env& env) {
  const Format fmt = parse_output_format(f.format);
  util::Period period;
  if (!f.since.empty() || !f.until.empty()) {
    period = period_of(f.period, f.since, f.until, env, 86400);
  } else if (f.period.empty()) {
    // The 8 whole weeks (UTC days) before today.
    const int64_t today = util::day_of(env.now());
    period.begin = (today - 56) * 86400;
    period.end = today * 86400;
    period.label = util::format_date(today - 56) + ".." + util::format_date(today - 1);
  } else {
    period = env.period(f.period, "--period");
  }
  auto where = usage::parse_filters(f.where);
  normalise_filters(where, env.catalog());
  const forecast::Patterns p = forecast::find_patterns(env.usage(), period, where);
  const int digits = p.currency.minor_units;
  const std::string cur(p.currency.name());
  std::string out;
  if (fmt == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.usage.patterns";
    j["period"] = {{"label", period.label}, {"start", util::format_rfc3339(period.begin)}, {"end", util::format_rfc3339(period.end)}};
    j["currency"] = cur;
    render::Json cost = render::Json::array(), req = render::Json::array();
    for (int d = 0; d < 7; ++d) {
      render::Json cr = render::Json::array(), rr = render::Json::array();
      for (int h = 0; h < 24; ++h) {
        cr.push_back(p.heat_cost[d][h].format(digits, false));
        rr.push_back(p.heat_requests[d][h]);
      }
      cost.push_back(cr);
      req.push_back(rr);
    }
    j["heatmap"] = {{"weekdays", std::vector<std::string>(std::begin(k_weekdays), std::end(k_weekdays))}, {"timezone", "UTC"},
                    {"cost", cost}, {"requests", req}};
    j["weekdays"] = render::rows_json(weekday_table(p));
    j["growth"] = render::rows_json(growth_table(p));
    j["rising"] = render::rows_json(mover_table(p, p.rising, ""));
    j["falling"] = render::rows_json(mover_table(p, p.falling, ""));
    j["adoption"] = {{"weeks", p.weeks}, {"features", render::rows_json(adoption_table(p))}};
    out = render::dump(j);
  } else if (fmt == Format::csv) {
    // The heatmap in long form (one row per weekday and hour), for a pivot table.
    render::Table t;
    t.currency = p.currency;
    t.columns = {{"weekday", "weekday", Kind::text}, {"hour", "hour", Kind::integer}, {"cost", "cost", Kind::money}, {"requests", "requests", Kind::integer}};
    for (int d = 0; d < 7; ++d)
      for (int h = 0; h < 24; ++h)
        t.rows.push_back({Value::of_text(k_weekdays[d]), Value::of_int(h), Value::of_money(p.heat_cost[d][h], digits), Value::of_int(p.heat_requests[d][h])});
    out = render::to_csv(t);
  } else {
    const bool shades = env.style().bars;
    out = "Usage patterns " + period.label + " (" + cur + ", hours in UTC)\n\n";
    out += "When: cost by weekday and hour (" + std::string(shades ? "darker is more" : "0 none .. 4 most") + ")\n      ";
    for (int h = 0; h < 24; ++h) out += (h < 10 ? "0" : "") + std::to_string(h) + " ";
    out += "\n";
    money::Decimal top;
    for (int d = 0; d < 7; ++d)
      for (int h = 0; h < 24; ++h) top = std::max(top, p.heat_cost[d][h]);
    const char* shade[5] = {"  ", "░░", "▒▒", "▓▓", "██"};
    for (int d = 0; d < 7; ++d) {
      out += std::string("  ") + k_weekdays[d] + " ";
      for (int h = 0; h < 24; ++h) {
        const money::Decimal c = p.heat_cost[d][h];
        const int level = c.units() <= 0 || top.units() <= 0 ? 0 : 1 + int(money::div_round(c.units() * 4 - 1, top.units(), money::Rounding::down));
        const int l = std::clamp(level, 0, 4);
        out += shades ? std::string(shade[l]) + " " : " " + std::to_string(l) + " ";
      }
      out += "\n";
    }
    out += "\n";
    out += render::to_text(weekday_table(p), env.style()) + "\n";
    out += render::to_text(growth_table(p), env.style()) + "\n";
    for (const auto& [list, title] : {std::pair{&p.rising, "Rising (models and features)"}, std::pair{&p.falling, "Falling (models and features)"}})
      out += (list->empty() ? std::string(title) + ": none\n" : render::to_text(mover_table(p, *list, title), env.style())) + "\n";
    out += p.adoption.empty() ? "Feature adoption: no usage with a user and a feature\n" : render::to_text(adoption_table(p), env.style());
  }
  env.emit(out, f.output);
}

}  // namespace

void add_usage_anomalies(CLI::App* usage, CommandTable& table) {
  auto f = std::make_shared<AnomalyFlags>();
  CLI::App* c = usage->add_subcommand("anomalies", "Spikes in cost, tokens, requests or failed requests, and who or what drove them");
  CLI::Option* period =
      c->add_option("--period", f->period, "Period to look at (default this-month): 2026-10, FROM..TO, today, ...")->type_name("PERIOD");
  add_since_until(c, period, f->since, f->until);
  c->add_option("--granularity", f->granularity, "Buckets: day (default) or hour")->type_name("G");
  c->add_option("--metric", f->metric, "cost, tokens, requests, errors, or a list (default cost,errors)")->type_name("METRIC");
  c->add_option("--sensitivity", f->sensitivity, "low, medium (default) or high")->type_name("LEVEL");
  c->add_option("--by", f->by, "Judge each value of this dimension as its own series (user, model, feature, ...)")->type_name("DIM");
  c->add_option("--where", f->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  c->add_flag("--notify", f->notify, "Send each new anomaly once through the notification channels");
  c->add_option("--channel", f->channels, "With --notify: this channel of the config (repeatable; default [notify] default_channels)")
      ->type_name("NAME");
  add_output_options(c, f->format, f->output);
  table.push_back({c, [f](Env& env) { run_anomalies(*f, env); }});

  auto pf = std::make_shared<PatternFlags>();
  CLI::App* pc = usage->add_subcommand("patterns", "When the organisation works, weekday seasonality, growth, feature adoption, rising and falling");
  CLI::Option* pperiod = pc->add_option("--period", pf->period, "Period (default: the 8 weeks before today)")->type_name("PERIOD");
  add_since_until(pc, pperiod, pf->since, pf->until);
  pc->add_option("--where", pf->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  add_output_options(pc, pf->format, pf->output);
  table.push_back({pc, [pf](Env& env) { run_patterns(*pf, env); }});
}

}  // namespace billctl::cmd
