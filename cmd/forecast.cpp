// billctl forecast | forecast backtest
#include <cmath>
#include <memory>

#include "billctl/forecast/forecast.hpp"
#include "billctl/render/json.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Column;
using render::Form;
using render::Kind;
using render::Value;

struct ForecastOptions {
  std::string period = "this-month";
  std::string since, until;
  std::string by;
  std::vector<std::string> where;
  std::string levels = "80,95";
  std::string fail_above;
  int probability = 0;
  std::string format = "table";
  std::string output;
};

struct BacktestOptions {
  std::string from;
  std::string to;
  std::vector<std::string> where;
  std::string levels = "80,95";
  std::string format = "table";
  std::string output;
};

std::string level_text(int l) { return std::to_string(l) + " %"; }

// A low and a high column per level. On a narrow terminal the widest band goes first, then the
// next (--wide shows all).
void add_band_columns(std::vector<Column>& c, const std::vector<int>& levels, unsigned forms = Form::all) {
  for (size_t i = 0; i < levels.size(); ++i) {
    const int l = levels[i];
    c.push_back(Column{"lower_" + std::to_string(l), level_text(l) + " low", Kind::money, true, int(i) + 1}.in(forms));
    c.push_back(Column{"upper_" + std::to_string(l), level_text(l) + " high", Kind::money, true, int(i) + 1}.in(forms));
  }
}

// Columns shared by the total and the daily path: actual, mean, bounds per level.
std::vector<Column> outlook_columns(const std::vector<Column>& keys, const std::vector<int>& levels) {
  std::vector<Column> c = keys;
  c.push_back({"actual", "actual", Kind::money});
  c.push_back({"mean", "forecast", Kind::money});
  add_band_columns(c, levels);
  return c;
}

std::vector<Value> outlook_values(const std::optional<money::Decimal>& actual, const money::Decimal& mean,
                                  const std::vector<forecast::Band>& bands, int digits) {
  std::vector<Value> v;
  v.push_back(actual ? Value::of_money(*actual, digits) : Value::none());
  v.push_back(Value::of_money(mean, digits));
  for (const auto& b : bands) {
    v.push_back(Value::of_money(b.lower, digits));
    v.push_back(Value::of_money(b.upper, digits));
  }
  return v;
}

std::string key_text(const std::vector<std::string>& key) {
  std::string s;
  for (const auto& k : key) {
    if (!s.empty()) s += " / ";
    s += k.empty() ? "(none)" : k;
  }
  return s;
}

// Each day: one description for the table, the CSV's "day" rows and the JSON's daily path.
render::Table daily_table(const forecast::Forecast& f) {
  render::Table t;
  t.id = "daily";
  t.title = "Daily path";
  t.currency = f.currency;
  t.json_money_text = true;
  t.columns = outlook_columns({{"date", "date", Kind::text}}, f.levels);
  for (const auto& d : f.daily) {
    std::vector<Value> row{Value::of_text(d.date)};
    for (auto& v : outlook_values(d.actual, d.mean, d.bands, f.currency.minor_units)) row.push_back(std::move(v));
    t.rows.push_back(std::move(row));
  }
  return t;
}

render::Json bands_json(const std::vector<forecast::Band>& bands, int digits) {
  render::Json a = render::Json::array();
  for (const auto& b : bands) a.push_back({{"level", b.level}, {"lower", b.lower.format(digits, false)}, {"upper", b.upper.format(digits, false)}});
  return a;
}

// Each key: one description for the table (a column per dimension), the CSV's keyed rows (the
// key in one column) and the JSON (the key as an object, the bands as a list).
render::Table by_table(const forecast::Forecast& f) {
  render::Table t;
  t.id = "by";
  t.currency = f.currency;
  t.json_money_text = true;
  std::string dims;
  for (usage::Dim d : f.by) {
    dims += (dims.empty() ? "" : ", ") + std::string(usage::dim_name(d));
    t.columns.push_back(Column{std::string(usage::dim_name(d)), std::string(usage::dim_name(d)), Kind::text}.in(Form::people));
  }
  t.title = "By " + dims;
  t.columns.push_back(Column{"key", "key", Kind::text}.in(Form::csv));
  t.columns.push_back(Column{"key", "key", Kind::json}.in(Form::json));
  t.columns.push_back(Column{"actual", "to date", Kind::money}.in(Form::people | Form::csv));
  t.columns.push_back(Column{"actual_to_date", "to date", Kind::money}.in(Form::json));
  t.columns.push_back({"mean", "forecast", Kind::money});
  add_band_columns(t.columns, f.levels, Form::people | Form::csv);  // JSON has them as one list:
  t.columns.push_back(Column{"intervals", "intervals", Kind::json}.in(Form::json));
  const int digits = f.currency.minor_units;
  for (const auto& g : f.groups) {
    std::vector<Value> row;
    render::Json key = render::Json::object();
    for (size_t i = 0; i < f.by.size(); ++i) {
      row.push_back(Value::of_text(g.key[i].empty() ? "(none)" : g.key[i]));
      key[std::string(usage::dim_name(f.by[i]))] = g.key[i];
    }
    row.push_back(Value::of_text(key_text(g.key)));
    row.push_back(Value::of_json(std::move(key)));
    auto values = outlook_values(g.actual_to_date, g.mean, g.intervals, digits);
    values.insert(values.begin() + 1, values.front());
    for (auto& v : values) row.push_back(std::move(v));
    row.push_back(Value::of_json(bands_json(g.intervals, digits)));
    t.rows.push_back(std::move(row));
  }
  return t;
}

int64_t p_tenths(double p) { return int64_t(std::llround(std::clamp(p, 0.0, 1.0) * 1000)); }
double p_rounded(double p) { return double(p_tenths(p)) / 1000; }

// The budgets' outlook: one description for the table and the JSON (the CSV has none).
render::Table budget_table(const forecast::Forecast& f) {
  render::Table t;
  t.id = "budgets";
  t.title = "Budgets";
  t.currency = f.currency;
  t.columns = {{"name", "budget", Kind::text},
               Column{"scope", "scope", Kind::json}.in(Form::json),
               {"window", "window", Kind::text},
               Column{"unit", "unit", Kind::text}.in(Form::json),
               Column{"limit", "limit", Kind::text}.in(Form::people),
               Column{"limit", "limit", Kind::text}.in(Form::json),
               Column{"currency", "currency", Kind::text}.in(Form::json),
               Column{"spent", "spent", Kind::text}.in(Form::people),
               Column{"spent", "spent", Kind::text}.in(Form::json),
               Column{"projected", "projected", Kind::text}.in(Form::people),
               Column{"mean", "projected", Kind::text}.in(Form::json),
               Column{"p_exceed", "P(exceed)", Kind::percent}.in(Form::people),
               Column{"p_exceed", "P(exceed)", Kind::number}.in(Form::json),
               Column{"error", "error", Kind::text}.in(Form::json)};
  for (const auto& b : f.budgets) {
    const bool ok = b.error.empty();
    const int digits = b.currency.minor_units;
    auto amount = [&](const money::Decimal& d) {
      return Value::of_text(b.in_tokens ? d.format(0, true) + " tokens" : d.format(digits, true) + " " + std::string(b.currency.name()));
    };
    auto plain = [&](const money::Decimal& d) { return ok ? Value::of_text(d.format(digits, false)) : Value::none(); };
    t.rows.push_back({Value::of_text(b.name), Value::of_json(b.scope), Value::of_text(b.window),
                      Value::of_text(b.in_tokens ? "tokens" : "money"), amount(b.limit),
                      Value::of_text(b.limit.format(b.in_tokens ? 0 : digits, false)),
                      b.in_tokens ? Value::none() : Value::of_text(std::string(b.currency.name())),
                      ok ? amount(b.spent) : Value::of_text("-"), plain(b.spent), ok ? amount(b.mean) : Value::of_text("-"),
                      plain(b.mean), ok ? Value::of_percent(p_tenths(b.p_exceed)) : Value::none(),
                      ok ? Value::of_number(p_rounded(b.p_exceed)) : Value::none(), ok ? Value::none() : Value::of_text(b.error)});
  }
  return t;
}

std::string render_forecast(const forecast::Forecast& f, Format fmt, Env& env) {
  const int digits = f.currency.minor_units;
  const std::string cur(f.currency.name());
  if (fmt == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.forecast";
    j["period"] = {{"label", f.period.label}, {"start", util::format_rfc3339(f.period.begin)}, {"end", util::format_rfc3339(f.period.end)}};
    j["as_of"] = util::format_rfc3339(f.as_of);
    j["currency"] = cur;
    j["actual_to_date"] = f.total.actual_to_date.format(digits, false);
    j["mean"] = f.total.mean.format(digits, false);
    j["intervals"] = bands_json(f.total.intervals, digits);
    j["daily"] = render::rows_json(daily_table(f));
    j["by"] = render::rows_json(by_table(f));
    j["budgets"] = render::rows_json(budget_table(f));
    j["history_days"] = f.history_days;
    j["method"] = forecast::k_method;
    j["insufficient_history"] = f.insufficient_history;
    return render::dump(j);
  }
  if (fmt == Format::csv) {
    // One tidy table: the total, each day, each key; the section says which.
    render::Table total;
    total.currency = f.currency;
    total.columns = outlook_columns({{"key", "key", Kind::text}}, f.levels);
    std::vector<Value> row{Value::of_text("")};
    for (auto& v : outlook_values(f.total.actual_to_date, f.total.mean, f.total.intervals, digits)) row.push_back(std::move(v));
    total.rows.push_back(std::move(row));
    std::string out = render::to_csv(total, true, "total");
    render::Table days = daily_table(f);
    days.columns[0].id = "key";
    out += render::to_csv(days, false, "day");
    if (!f.by.empty()) {
      const render::Table keyed = by_table(f);
      std::string section;
      for (usage::Dim d : f.by) section += (section.empty() ? "" : "/") + std::string(usage::dim_name(d));
      out += render::to_csv(keyed, false, section);
    }
    return out;
  }
  // The terminal: the headline, then the tables.
  std::string out = "Forecast for " + f.period.label + " (as of " + util::format_rfc3339(f.as_of) + ")\n";
  auto money_text = [&](const money::Decimal& d) { return d.format(digits, true) + " " + cur; };
  out += "  actual to date   " + money_text(f.total.actual_to_date) + "\n";
  out += std::string(f.projected ? "  forecast         " : "  final            ") + money_text(f.total.mean) + "\n";
  if (f.projected)
    for (const auto& b : f.total.intervals)
      out += "  " + level_text(b.level) + " interval" + std::string(b.level < 10 ? "  " : " ") + "   " + money_text(b.lower) + " .. " +
             money_text(b.upper) + "\n";
  out += "  history          " + std::to_string(f.history_days) + " days" + (f.insufficient_history ? " (insufficient: wide intervals)" : "") + "\n";
  // The method's name wraps after its comma on a terminal too narrow for it.
  const std::string method = forecast::k_method;
  const size_t comma = method.find(", ");
  const render::TextStyle style = env.style();
  if (style.width && 19 + util::display_width(method) > style.width && comma != std::string::npos)
    out += "  method           " + method.substr(0, comma + 1) + "\n                   " + method.substr(comma + 2) + "\n\n";
  else
    out += "  method           " + method + "\n\n";
  if (!f.budgets.empty()) out += render::to_text(budget_table(f), env.style()) + "\n";
  if (!f.by.empty()) out += render::to_text(by_table(f), env.style()) + "\n";
  out += render::to_text(daily_table(f), env.style());
  return out;
}

// Do the budget's filters say the same as --where (as sets)?
bool same_scope(const std::vector<usage::Filter>& a, const std::vector<usage::Filter>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& f : a) {
    auto it = std::find_if(b.begin(), b.end(), [&](const usage::Filter& g) { return g.dim == f.dim; });
    if (it == b.end()) return false;
    std::vector<std::string> x = f.values, y = it->values;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    if (x != y) return false;
  }
  return true;
}

void run_forecast(const ForecastOptions& o, Env& env) {
  const Format fmt = parse_output_format(o.format);
  forecast::Options fo;
  fo.period = period_of(o.period, o.since, o.until, env, 86400);
  fo.now = env.now();
  fo.by = usage::parse_dims(o.by, "--by");
  for (usage::Dim d : fo.by)
    if (size_t(d) >= usage::k_text_dims) throw UsageError("invalid --by '" + o.by + "': the forecast is daily; group by attribution dimensions only");
  fo.where = usage::parse_filters(o.where);
  fo.levels = forecast::parse_levels(o.levels);
  if (o.probability && o.fail_above.empty()) throw UsageError("--probability needs --fail-above");
  // --fail-above: an amount ("5000", "5000 USD") or a stored budget ("budget:NAME").
  std::optional<budgets::Budget> gate_budget;
  std::optional<money::Decimal> gate_amount;
  if (!o.fail_above.empty()) {
    if (o.fail_above.rfind("budget:", 0) == 0) {
      const std::string name = o.fail_above.substr(7);
      for (const auto& b : env.budgets().list_budgets())
        if (b.name == name) gate_budget = b;
      if (!gate_budget) throw UsageError("invalid --fail-above '" + o.fail_above + "': no budget named '" + name + "'");
      if (gate_budget->in_tokens) throw UsageError("invalid --fail-above '" + o.fail_above + "': '" + name + "' is a token budget; forecasts are of cost");
    } else {
      budgets::Budget tmp;
      budgets::parse_limit(tmp, o.fail_above, "--fail-above");
      if (tmp.in_tokens) throw UsageError("invalid --fail-above '" + o.fail_above + "': forecasts are of cost, not tokens");
      gate_amount = tmp.limit;
    }
  }
  normalise_filters(fo.where, env.catalog());
  forecast::Forecast f = forecast::make_forecast(env.usage(), fo);
  // Budgets of the same scope as --where (all stored ones without --where).
  std::vector<budgets::Budget> matching;
  for (const auto& b : env.budgets().list_budgets())
    if (fo.where.empty() || same_scope(budgets::scope_filters(b), fo.where)) matching.push_back(b);
  if (gate_budget && std::none_of(matching.begin(), matching.end(), [&](const auto& b) { return b.name == gate_budget->name; }))
    matching.push_back(*gate_budget);
  f.budgets = forecast::budget_risks(env.usage(), matching, env.now());
  if (f.insufficient_history && f.projected)
    env.note("note: only " + std::to_string(f.history_days) + " days of usage before now (under " + std::to_string(forecast::k_min_history) +
             "); the forecast is a rough pace with wide intervals");
  env.emit(render_forecast(f, fmt, env), o.output);
  // The CI gate.
  if (gate_amount) {
    {
      const money::Decimal rest = *gate_amount - f.total.actual_to_date;
      const double p = rest.negative() ? 1.0
                       : forecast::p_exceed(f.total.rest, f.total.spread, double(rest.units()) / double(money::Decimal::k_one));
      const bool fail = o.probability ? f.projected ? p * 100 >= o.probability : f.total.mean > *gate_amount : f.total.mean > *gate_amount;
      if (fail)
        throw CheckFailed("forecast for " + f.period.label + " " + f.total.mean.format(f.currency.minor_units, true) + " " +
                          std::string(f.currency.name()) + " exceeds " + o.fail_above +
                          (o.probability ? " (P(exceed) " + std::to_string(p_tenths(p) / 10) + " %, fails at " + std::to_string(o.probability) + " %)" : ""));
    }
  }
  if (gate_budget) {
    for (const auto& r : f.budgets) {
      if (r.name != gate_budget->name) continue;
      if (!r.error.empty()) throw DataError("budget '" + r.name + "' cannot be forecast: " + r.error);
      const bool fail = o.probability ? r.p_exceed * 100 >= o.probability : r.mean > r.limit;
      if (fail)
        throw CheckFailed("budget '" + r.name + "' is projected to reach " + r.mean.format(r.currency.minor_units, true) + " " +
                          std::string(r.currency.name()) + " of " + r.limit.format(r.currency.minor_units, true) + " " +
                          std::string(r.currency.name()) + " in " + r.window + " (P(exceed) " + std::to_string(p_tenths(r.p_exceed) / 10) +
                          " %" + (o.probability ? ", fails at " + std::to_string(o.probability) + " %" : "") + ")");
    }
  }
}

void run_backtest(const BacktestOptions& o, Env& env) {
  const Format fmt = parse_output_format(o.format);
  const util::Period from = env.period(o.from, "--from");
  const util::Period to = env.period(o.to, "--to");
  if (from.kind != util::Period::Kind::month) throw UsageError("invalid --from '" + o.from + "': expected a month (2026-01)");
  if (to.kind != util::Period::Kind::month) throw UsageError("invalid --to '" + o.to + "': expected a month (2026-10)");
  if (to.begin < from.begin) throw UsageError("invalid --to '" + o.to + "': before --from '" + o.from + "'");
  auto where = usage::parse_filters(o.where);
  normalise_filters(where, env.catalog());
  const std::vector<int> levels = forecast::parse_levels(o.levels);
  const forecast::Backtest bt = forecast::backtest(env.usage(), from, to, where, levels);
  for (const auto& s : bt.skipped) env.note("note: skipped " + s);
  // One description for the table, the CSV and the JSON: a row per cutoff day, the overall score
  // as the totals row (the JSON's "overall", without a day). People read percentages with one
  // decimal; the JSON has the measured ratios.
  const unsigned pc = Form::people | Form::csv;
  render::Table t;
  t.id = "backtest";
  t.title = "Backtest " + bt.from + ".." + bt.to + ": forecast of the month total made at the start of each day";
  t.columns = {Column{"day", "day", Kind::text}.in(pc), Column{"day", "day", Kind::integer}.in(Form::json),
               {"months", "months", Kind::integer}, Column{"mape", "MAPE %", Kind::decimal}.in(pc),
               Column{"mape", "MAPE %", Kind::number}.in(Form::json), Column{"mape_run_rate", "run-rate MAPE %", Kind::decimal}.in(pc),
               Column{"mape_run_rate", "run-rate MAPE %", Kind::number}.in(Form::json)};
  t.columns[1].json_omit_null = true;
  for (int l : levels) t.columns.push_back(Column{"coverage_" + std::to_string(l), "in " + level_text(l), Kind::decimal}.in(pc));
  t.columns.push_back(Column{"coverage", "coverage", Kind::json}.in(Form::json));
  auto pct = [](double v) { return Value::of_money(forecast::decimal_of(v, 1), 1); };
  auto row = [&](const forecast::CutoffScore& s, Value first, Value day) {
    std::vector<Value> r{std::move(first), std::move(day), Value::of_int(s.months), pct(s.mape), Value::of_number(std::round(s.mape * 100) / 100),
                         pct(s.mape_run_rate), Value::of_number(std::round(s.mape_run_rate * 100) / 100)};
    render::Json coverage = render::Json::object();
    for (size_t l = 0; l < levels.size(); ++l) {
      r.push_back(pct(s.coverage[l] * 100));
      coverage[std::to_string(levels[l])] = std::round(s.coverage[l] * 1000) / 1000;
    }
    r.push_back(Value::of_json(std::move(coverage)));
    return r;
  };
  for (const auto& s : bt.cutoffs) t.rows.push_back(row(s, Value::of_text(std::to_string(s.day)), Value::of_int(s.day)));
  const std::vector<Value> overall = row(bt.overall, Value::of_text("all"), Value::none());
  if (!bt.cutoffs.empty()) t.total = overall;
  std::string out;
  if (fmt == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.forecast.backtest";
    j["from"] = bt.from;
    j["to"] = bt.to;
    j["method"] = forecast::k_method;
    j["cutoffs"] = render::rows_json(t);
    j["overall"] = render::row_json(t, overall);
    j["skipped"] = bt.skipped;
    out = render::dump(j);
  } else {
    out = fmt == Format::csv ? render::to_csv(t) : render::to_text(t, env.style());
    if (fmt == Format::table && bt.cutoffs.empty()) out = "No month in " + bt.from + ".." + bt.to + " could be backtested.\n";
  }
  env.emit(out, o.output);
}

}  // namespace

void add_forecast(CLI::App& root, CommandTable& table) {
  auto o = std::make_shared<ForecastOptions>();
  CLI::App* fc = root.add_subcommand("forecast", "Where spend will land: end-of-period forecast with intervals, per key, budget risk");
  // The verb first: the command table runs the first parsed command.
  std::shared_ptr<BacktestOptions> bo;
  CLI::App* bt = add_verb(fc, table, "backtest", "Measure forecast accuracy and interval coverage on past months", &run_backtest, bo);
  bt->add_option("--from", bo->from, "First month to forecast (2026-01)")->type_name("MONTH")->required();
  bt->add_option("--to", bo->to, "Last month to forecast (2026-10)")->type_name("MONTH")->required();
  bt->add_option("--where", bo->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  bt->add_option("--levels", bo->levels, "Interval levels in percent (default 80,95)")->type_name("LIST");
  add_output_options(bt, bo->format, bo->output);

  CLI::Option* period =
      fc->add_option("--period", o->period, "Period to forecast (default this-month): 2026-10, FROM..TO, this-month, today")->type_name("PERIOD");
  add_since_until(fc, period, o->since, o->until);
  fc->add_option("--by", o->by, "Also per key of these dimensions (user, model, department, ...)")->type_name("DIM,...");
  fc->add_option("--where", o->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  fc->add_option("--levels", o->levels, "Interval levels in percent (default 80,95)")->type_name("LIST");
  fc->add_option("--fail-above", o->fail_above, "CI gate: exit 3 when the forecast exceeds AMOUNT or budget:NAME's limit")
      ->type_name("AMOUNT|budget:NAME");
  fc->add_option("--probability", o->probability, "With --fail-above: fail when the chance of exceeding is at least PCT %")
      ->type_name("PCT")
      ->check(whole_number(1, 99));
  add_output_options(fc, o->format, o->output);
  table.push_back({fc, [o](Env& env) { run_forecast(*o, env); }});
}

}  // namespace billctl::cmd
