// billctl usage anomalies
#include <cmath>
#include <memory>

#include "billctl/forecast/anomalies.hpp"
#include "billctl/forecast/forecast.hpp"
#include "billctl/render/json.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Kind;
using render::Value;

struct AnomalyFlags {
  std::string period = "this-month";
  std::string granularity = "day";
  std::string metric = "cost,errors";
  std::string sensitivity = "medium";
  std::vector<std::string> where;
  std::string format = "table";
  std::string output;
};

// An amount of a metric for a table: money at the minor unit, counts whole, error shares in percent.
Value metric_value(forecast::Metric m, double v, const money::Currency& c) {
  if (m == forecast::Metric::errors) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", v * 100);
    return Value::of_money(money::Decimal::parse(buf).value_or_throw("share"), 1);
  }
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

void run_anomalies(const AnomalyFlags& f, Env& env) {
  const Format fmt = parse_output_format(f.format);
  forecast::AnomalyOptions o;
  o.period = util::parse_period(f.period, env.now()).flag_value("--period", f.period);
  o.now = env.now();
  if (f.granularity == "day") o.granularity = forecast::Granularity::day;
  else if (f.granularity == "hour") o.granularity = forecast::Granularity::hour;
  else throw UsageError("invalid --granularity '" + f.granularity + "': expected day or hour");
  o.metrics = forecast::parse_metrics(f.metric);
  o.k = forecast::parse_sensitivity(f.sensitivity);
  o.where = usage::parse_filters(f.where);
  normalise_filters(o.where, env.catalog());
  const forecast::AnomalyReport rep = forecast::find_anomalies(env.usage(), o);
  const money::Currency& cur = rep.currency;
  std::string out;
  if (fmt == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.usage.anomalies";
    j["period"] = {{"label", o.period.label}, {"start", util::format_rfc3339(o.period.begin)}, {"end", util::format_rfc3339(o.period.end)}};
    j["granularity"] = f.granularity;
    j["sensitivity"] = f.sensitivity;
    j["currency"] = std::string(cur.name());
    j["buckets_judged"] = rep.buckets;
    j["anomalies"] = render::Json::array();
    for (const auto& a : rep.anomalies) {
      render::Json x;
      x["start"] = util::format_rfc3339(a.start);
      x["end"] = util::format_rfc3339(a.end);
      x["metric"] = forecast::metric_name(a.metric);
      x["direction"] = a.below ? "below" : "above";
      x["observed"] = metric_json(a.metric, a.observed, cur);
      x["expected"] = metric_json(a.metric, a.expected, cur);
      x["score"] = std::round(a.score * 10) / 10;
      x["severity"] = a.severity;
      x["drivers"] = render::Json::array();
      // Drivers of an error surge are counted in failed requests.
      const forecast::Metric dm = a.metric == forecast::Metric::errors ? forecast::Metric::requests : a.metric;
      for (const auto& d : a.drivers)
        x["drivers"].push_back({{"dimension", std::string(usage::dim_name(d.dim))}, {"value", d.value},
                                {"observed", metric_json(dm, d.observed, cur)}, {"expected", metric_json(dm, d.expected, cur)},
                                {"share", std::round(d.share * 1000) / 1000}});
      j["anomalies"].push_back(x);
    }
    out = render::dump(j);
  } else {
    render::Table t;
    t.id = "anomalies";
    t.title = "Anomalies in " + o.period.label + " (" + f.granularity + "s, sensitivity " + f.sensitivity + ", " +
              std::to_string(rep.buckets) + " judged)";
    t.columns = {{"start", f.granularity, Kind::text},  {"metric", "metric", Kind::text},     {"observed", "observed", Kind::decimal},
                 {"expected", "expected", Kind::decimal}, {"score", "score", Kind::decimal},    {"severity", "severity", Kind::text},
                 {"drivers", "top drivers (share of the excess)", Kind::text}};
    for (const auto& a : rep.anomalies) {
      std::string drivers;
      for (size_t i = 0; i < a.drivers.size() && i < 3; ++i) {
        const auto& d = a.drivers[i];
        drivers += (i ? ", " : "") + std::string(usage::dim_name(d.dim)) + " " + (d.value.empty() ? "(none)" : d.value) + " " +
                   std::to_string(std::lround(d.share * 100)) + " %";
      }
      char score[32];
      std::snprintf(score, sizeof score, "%.1f", a.score);
      t.rows.push_back({Value::of_text(bucket_label(a, o.granularity)),
                        Value::of_text(std::string(forecast::metric_name(a.metric)) + (a.metric == forecast::Metric::errors ? " (% failed)" : "") +
                                       (a.below ? " (drop)" : "")),
                        metric_value(a.metric, a.observed, cur), metric_value(a.metric, a.expected, cur),
                        Value::of_money(money::Decimal::parse(score).value_or_throw("score"), 1), Value::of_text(a.severity),
                        Value::of_text(drivers)});
    }
    if (fmt == Format::csv) out = render::to_csv(t);
    else out = rep.anomalies.empty() ? "No anomalies in " + o.period.label + " (" + std::to_string(rep.buckets) + " " + f.granularity + "s judged).\n"
                                     : render::to_text(t, env.style());
  }
  env.emit(out, f.output);
}

}  // namespace

void add_usage_anomalies(CLI::App* usage, CommandTable& table) {
  auto f = std::make_shared<AnomalyFlags>();
  CLI::App* c = usage->add_subcommand("anomalies", "Spikes in cost, tokens, requests or failed requests, and who or what drove them");
  c->add_option("--period", f->period, "Period to look at (default this-month): 2026-10, FROM..TO, today, ...")->type_name("PERIOD");
  c->add_option("--granularity", f->granularity, "Buckets: day (default) or hour")->type_name("G");
  c->add_option("--metric", f->metric, "cost, tokens, requests, errors, or a list (default cost,errors)")->type_name("METRIC");
  c->add_option("--sensitivity", f->sensitivity, "low, medium (default) or high")->type_name("LEVEL");
  c->add_option("--where", f->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  add_output_options(c, f->format, f->output);
  table.push_back({c, [f](Env& env) { run_anomalies(*f, env); }});
}

}  // namespace billctl::cmd
