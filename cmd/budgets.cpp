// billctl budgets set | list | rm | status | apply | check
#include <iostream>
#include <memory>

#include "billctl/budgets/budget.hpp"
#include "billctl/forecast/forecast.hpp"
#include "billctl/notify/notifier.hpp"
#include "billctl/render/json.hpp"
#include "billctl/render/junit.hpp"
#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using budgets::Budget;
using render::Column;
using render::Form;
using render::Kind;
using render::Value;

struct SetOptions {
  std::string name;
  std::vector<std::string> scope;
  std::string period = "monthly";
  std::string limit;
  std::string stages = "50,80,95,100";
  std::string mode = "soft";
  std::string tz;
  std::vector<std::string> channels;
};

struct NotifyOptions {
  bool dry_run = false;
  std::string format = "table";
};

struct ListOptions {
  std::vector<std::string> names;
  std::string format = "table";
  std::string output;
};

struct ApplyOptions {
  std::string file;
  bool dry_run = false;
  bool prune = false;
};

struct CheckOptions {
  std::string file;
  std::string fail_on = "exceeded";
  int probability = 0;
  std::string format = "table";
  std::string output;
  std::string user, department, organization, feature, project, model;
};

// A money budget in a currency none of the stored usage is in can never be evaluated: billctl does
// not convert currencies (no [fx] rates), so it is refused when set rather than failing later.
void check_currency(const Budget& b, const std::vector<std::string>& usage, const std::string& origin) {
  if (b.in_tokens || usage.empty() || std::find(usage.begin(), usage.end(), b.currency.name()) != usage.end()) return;
  std::string list;
  for (const auto& c : usage) list += (list.empty() ? "" : ", ") + c;
  throw UsageError(origin + ": budget '" + b.name + "' is in " + std::string(b.currency.name()) + " but the stored usage costs are in " +
                   list + "; billctl does not convert currencies: give the limit in " + usage.front());
}

void run_set(const SetOptions& o, Env& env) {
  Budget b;
  const std::string origin = "budgets set";
  b.name = o.name;
  b.scope = o.scope;
  if (o.period == "monthly") b.period = budgets::Period::monthly;
  else if (o.period == "daily") b.period = budgets::Period::daily;
  else throw UsageError("invalid --period '" + o.period + "': expected monthly or daily");
  if (o.limit.empty()) throw UsageError("budgets set needs --limit, e.g. --limit \"5000 USD\" or --limit \"2500000 tokens\"");
  budgets::parse_limit(b, o.limit, "--limit");
  b.stages = budgets::parse_stages(o.stages, "--stages");
  if (o.mode == "soft") b.mode = budgets::Mode::soft;
  else if (o.mode == "hard") b.mode = budgets::Mode::hard;
  else throw UsageError("invalid --mode '" + o.mode + "': expected soft or hard");
  b.tz = o.tz.empty() ? env.tz() : o.tz;
  if (!o.tz.empty()) {
    try {
      util::TimeZone::load(o.tz);
    } catch (const UsageError& e) {
      throw UsageError("invalid --tz '" + o.tz + "': not a known IANA time zone (expected a name such as Europe/Berlin)");
    }
  }
  b.channels = o.channels;
  budgets::validate(b, origin);
  const auto settings = env.notify_settings();  // secrets are not needed (nor resolved) to set a budget
  for (const auto& c : b.channels)
    if (!settings.find(c)) throw UsageError("invalid --channel '" + c + "': no [notify.channels." + c + "] in the config file");
  // Through --remote the server holds the usage; its currencies are not asked for here.
  if (!env.remote()) check_currency(b, env.imports().usage_currencies(), "invalid --limit '" + o.limit + "'");
  auto existing = env.budgets().list_budgets();
  const bool replaced = std::any_of(existing.begin(), existing.end(), [&](const Budget& e) { return e.name == b.name; });
  env.budgets().put_budget(b, env.now());
  env.note(std::string(replaced ? "updated" : "added") + " budget '" + b.name + "': " + budgets::amount_text(b, b.limit) + " " +
           std::string(budgets::period_name(b.period)) + " on " + budgets::scope_text(b) + " (" +
           std::string(budgets::mode_name(b.mode)) + ", " + b.tz + ")");
}

std::string stages_text(const Budget& b) {
  std::string s;
  for (int st : b.stages) {
    if (!s.empty()) s += ',';
    s += std::to_string(st);
  }
  return s;
}

// An amount of the budget's unit, rounded as the budget counts it (minor units, whole tokens).
Value amount(const Budget& b, const money::Decimal& d) {
  const int digits = b.in_tokens ? 0 : b.currency.minor_units;
  return Value::of_amount(d.round(digits), digits, b.in_tokens ? "tokens" : std::string(b.currency.name()));
}

// Columns a JSON document leaves out when their value is null.
render::Column optional(render::Column c) {
  c.json_omit_null = true;
  return c;
}

// `budgets list`: one description for the table, CSV and JSON.
render::Table budget_table(const std::vector<Budget>& list) {
  render::Table t;
  t.id = "budgets";
  t.title = "Budgets";
  t.columns = {{"name", "name", Kind::text},
               Column{"scope", "scope", Kind::text}.in(Form::people | Form::csv),
               Column{"scope", "scope", Kind::json}.in(Form::json),
               {"period", "period", Kind::text},
               Column{"limit", "limit", Kind::text}.in(Form::people | Form::csv),
               Column{"limit", "limit", Kind::amount}.in(Form::json),
               Column{"stages", "stages %", Kind::text}.in(Form::people | Form::csv),
               Column{"stages", "stages", Kind::json}.in(Form::json),
               {"mode", "mode", Kind::text},
               {"tz", "time zone", Kind::text},
               optional(Column{"channels", "channels", Kind::json}.in(Form::json)),
               optional(Column{"managed", "managed", Kind::text}.in(Form::json))};
  for (const auto& b : list)
    t.rows.push_back({Value::of_text(b.name), Value::of_text(budgets::scope_text(b)), Value::of_json(b.scope),
                      Value::of_text(std::string(budgets::period_name(b.period))), Value::of_text(budgets::amount_text(b, b.limit)),
                      amount(b, b.limit), Value::of_text(stages_text(b)), Value::of_json(b.stages),
                      Value::of_text(std::string(budgets::mode_name(b.mode))), Value::of_text(b.tz),
                      b.channels.empty() ? Value::none() : Value::of_json(b.channels),
                      b.from_file ? Value::of_text("file") : Value::none()});
  return t;
}

void run_list(const ListOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const auto list = env.budgets().list_budgets();
  std::string out;
  if (f == Format::table) out = list.empty() ? "No budgets. Add one with 'billctl budgets set' or 'billctl budgets apply -f budgets.toml'.\n"
                                             : render::to_text(budget_table(list), env.style());
  else if (f == Format::csv) out = render::to_csv(budget_table(list));
  else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.budgets";
    j["budgets"] = render::rows_json(budget_table(list));
    out = render::dump(j);
  }
  env.emit(out, o.output);
}

void run_rm(const ListOptions& o, Env& env) {
  // All or nothing: 'budgets rm a zzz' removes neither when zzz does not exist.
  const auto missing = env.budgets().remove_budgets(o.names);
  if (!missing.empty()) {
    std::vector<std::string> names;
    for (const auto& b : env.budgets().list_budgets()) names.push_back(b.name);
    const std::string hint = util::did_you_mean(missing.front(), names);
    throw DataError("no budget named '" + missing.front() + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                    "; nothing was removed");
  }
  for (const auto& name : o.names) env.note("removed budget '" + name + "'");
}


// A probability in tenths of a percent.
using budgets::p_exceed_tenths;

// `budgets status` and `check`: one description for the table, CSV and JSON. People read amounts
// with their unit and the time left in words; machines get raw values in their own columns, times
// in RFC 3339 UTC. `p_exceed`: the JSON has the forecast's probability (null for token budgets).
render::Table status_table(const std::vector<budgets::Status>& list, util::Seconds now, bool p_exceed) {
  render::Table t;
  t.id = "budget_status";
  t.title = "Budget status";
  const unsigned pc = Form::people | Form::csv;
  t.columns = {{"name", "budget", Kind::text},
               Column{"scope", "scope", Kind::json}.in(Form::json),
               Column{"period", "period", Kind::text}.in(Form::json),  // the budget's period: monthly, daily
               Column{"period", "period", Kind::text}.in(pc),          // the window's label: 2026-11
               Column{"window_start", "window_start", Kind::text}.in(Form::csv),
               Column{"window_end", "window_end", Kind::text}.in(Form::csv),
               Column{"tz", "tz", Kind::text}.in(Form::csv),
               Column{"window", "window", Kind::json}.in(Form::json),
               Column{"unit", "unit", Kind::text}.in(Form::csv),
               {"spent", "spent", Kind::amount},
               {"limit", "limit", Kind::amount},
               {"remaining", "remaining", Kind::amount},
               {"used_pct", "used", Kind::percent},
               Column{"stage", "stage", Kind::text}.in(Form::people),
               Column{"stage", "stage", Kind::integer}.in(Form::machine),
               Column{"projected", "projected", Kind::text}.in(Form::people),
               Column{"projected", "projected", Kind::amount}.in(Form::machine),
               Column{"projected_pct", "projected_pct", Kind::percent}.in(Form::machine),
               Column{"p_exceed", "P(exceed)", Kind::percent}.in(Form::people),
               Column{"p_exceed_pct", "p_exceed_pct", Kind::percent}.in(Form::csv),
               Column{"p_exceed", "p_exceed", Kind::number}.in(p_exceed ? unsigned(Form::json) : 0u),
               Column{"resets_in", "resets in", Kind::text}.in(Form::people),
               Column{"resets_at", "resets_at", Kind::text}.in(Form::machine),
               Column{"resets_in_days", "resets_in_days", Kind::integer}.in(Form::json),
               {"mode", "mode", Kind::text},
               optional(Column{"error", "error", Kind::text}.in(Form::machine))};
  t.bar_column = 12;
  t.bar_full = 1000;
  for (const auto& s : list) {
    const Budget& b = s.budget;
    const bool ok = s.error.empty();
    const std::string start = util::format_rfc3339(s.window.begin), end = util::format_rfc3339(s.window.end);
    const bool has_p = s.p_exceed.has_value();
    const int64_t p = has_p ? p_exceed_tenths(*s.p_exceed) : 0;
    t.rows.push_back({Value::of_text(b.name),
                      Value::of_json(b.scope),
                      Value::of_text(std::string(budgets::period_name(b.period))),
                      Value::of_text(s.window.label),
                      Value::of_text(start),
                      Value::of_text(end),
                      Value::of_text(b.tz),
                      Value::of_json({{"label", s.window.label}, {"start", start}, {"end", end}, {"tz", b.tz}}),
                      Value::of_text(b.in_tokens ? "tokens" : std::string(b.currency.name())),
                      ok ? amount(b, s.spent) : Value::none(),
                      amount(b, b.limit),
                      ok ? amount(b, s.remaining) : Value::none(),
                      ok ? Value::of_percent(s.used_tenths) : Value::none(),
                      !ok ? Value::of_text("error") : s.stage ? Value::of_text(std::to_string(s.stage) + " %") : Value::none(),
                      s.stage ? Value::of_int(s.stage) : Value::none(),
                      ok ? Value::of_text(budgets::amount_text(b, s.projected) + " (" + render::percent_text(s.projected_tenths) + " %)")
                         : Value::none(),
                      ok ? amount(b, s.projected) : Value::none(),
                      ok ? Value::of_percent(s.projected_tenths) : Value::none(),
                      ok && has_p ? Value::of_percent(p) : Value::none(),
                      has_p ? Value::of_percent(p) : Value::none(),
                      has_p ? Value::of_number(double(p) / 1000) : Value::none(),
                      Value::of_text(budgets::time_left_text(now, s.window.end)),
                      Value::of_text(end),
                      Value::of_int(s.resets_in_days),
                      Value::of_text(std::string(budgets::mode_name(b.mode))),
                      ok ? Value::none() : Value::of_text(s.error)});
  }
  return t;
}

// Names every budget that could not be evaluated on stderr; true when there was one.
bool report_errors(const std::vector<budgets::Status>& list, Env& env) {
  bool any = false;
  for (const auto& s : list)
    if (!s.error.empty()) {
      env.err << "billctl: error: " << util::escape_controls(s.error) << "\n";
      any = true;
    }
  return any;
}

void run_status(const ListOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto list = env.budgets().list_budgets();
  if (!o.names.empty()) {
    std::vector<Budget> chosen;
    for (const auto& n : o.names) {
      auto it = std::find_if(list.begin(), list.end(), [&](const Budget& b) { return b.name == n; });
      if (it == list.end()) throw DataError("no budget named '" + n + "'");
      chosen.push_back(*it);
    }
    list = chosen;
  }
  auto statuses = budgets::evaluate(env.usage(), list, env.now());
  forecast::project(env.usage(), statuses, env.now());
  std::string out;
  const render::Table t = status_table(statuses, env.now(), true);
  if (f == Format::table) out = list.empty() ? "No budgets.\n" : render::to_text(t, env.style());
  else if (f == Format::csv) out = render::to_csv(t);
  else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.budgets.status";
    j["now"] = util::format_rfc3339(env.now());
    j["budgets"] = render::rows_json(t);
    out = render::dump(j);
  }
  env.emit(out, o.output);
  if (report_errors(statuses, env)) throw PartialFailure("some budgets could not be evaluated (see above); the others are shown");
}

void check_channels(const Budget& b, const notify::Settings& settings, const std::string& origin) {
  for (const auto& c : b.channels)
    if (!settings.find(c))
      throw UsageError(origin + ": budget '" + b.name + "' names channel '" + c + "', but the config file has no [notify.channels." +
                       c + "]");
}

void run_apply(const ApplyOptions& o, Env& env) {
  const auto wanted = budgets::parse_budgets_toml(util::read_file(o.file), o.file, env.tz());
  const notify::Settings settings = env.notify_settings();
  const auto currencies = env.remote() ? std::vector<std::string>{} : env.imports().usage_currencies();
  for (const auto& b : wanted) {
    check_channels(b, settings, o.file);
    check_currency(b, currencies, o.file);
  }
  const budgets::ApplyPlan plan = budgets::plan_apply(wanted, env.budgets().list_budgets(), o.prune, o.dry_run);
  if (!o.dry_run && plan.drift()) env.budgets().apply_budgets(plan.put, plan.remove, env.now());
  env.emit(plan.text, "");
  if (o.dry_run && plan.drift()) throw CheckFailed("the file and the store differ");
}

void run_check(const CheckOptions& o, Env& env) {
  // --fail-on forecast: fail when a budget is likely (--probability, default 80 %) to end its
  // window above the limit; otherwise on the share of the limit used so far.
  const bool on_forecast = o.fail_on == "forecast";
  const int fail_pct = on_forecast ? (o.probability ? o.probability : 80) : budgets::parse_fail_on(o.fail_on);
  if (o.probability && !on_forecast) throw UsageError("--probability needs --fail-on forecast");
  if (o.format != "table" && o.format != "json" && o.format != "junit")
    throw UsageError("invalid --format '" + o.format + "': expected table, json or junit");
  std::vector<Budget> list = o.file.empty() ? env.budgets().list_budgets()
                                            : budgets::parse_budgets_toml(util::read_file(o.file), o.file, env.tz());
  // A quota question: is this user (department, ...) allowed to make another request?
  budgets::Identity who;
  const std::pair<usage::Dim, const std::string*> ids[] = {
      {usage::Dim::user, &o.user},       {usage::Dim::department, &o.department}, {usage::Dim::organization, &o.organization},
      {usage::Dim::feature, &o.feature}, {usage::Dim::project, &o.project},       {usage::Dim::model, &o.model}};
  for (const auto& [dim, v] : ids)
    if (!v->empty()) who.values.emplace_back(dim, *v);
  const bool quota = !who.values.empty();
  if (quota) {
    std::erase_if(list, [&](const Budget& b) { return b.mode != budgets::Mode::hard || !budgets::applies_to(b, who); });
  }
  if (quota && on_forecast) throw UsageError("--fail-on forecast is for the CI gate, not for quota checks (--user, ...)");
  auto statuses = budgets::evaluate(env.usage(), list, env.now());
  if (on_forecast) forecast::project(env.usage(), statuses, env.now());
  // Hard quotas deny at 100 %; the CI gate fails at --fail-on.
  const int64_t threshold = quota ? 1000 : int64_t(fail_pct) * 10;
  auto fails = [&](const budgets::Status& s) {
    if (!s.error.empty()) return false;
    if (!on_forecast) return s.used_tenths >= threshold;
    // Token budgets have no forecast: their run-rate projection reaching the limit.
    return s.p_exceed ? p_exceed_tenths(*s.p_exceed) >= threshold : s.projected_tenths >= 1000;
  };
  std::vector<const budgets::Status*> failed;
  for (const auto& s : statuses)
    if (fails(s)) failed.push_back(&s);
  auto result_of = [&](const budgets::Status& s) -> std::string {
    if (!s.error.empty()) return "error";
    return fails(s) ? (quota ? "deny" : "fail") : (quota ? "allow" : "pass");
  };
  auto forecast_text = [&](const budgets::Status& s) {
    return ", forecast " + budgets::amount_text(s.budget, s.projected) +
           (s.p_exceed ? " (P(exceed) " + render::percent_text(p_exceed_tenths(*s.p_exceed)) + " %)" : " (run rate)");
  };

  std::string out;
  if (o.format == "json") {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = quota ? "billctl.budgets.quota" : "billctl.budgets.check";
    j["now"] = util::format_rfc3339(env.now());
    if (quota) {
      render::Json idj = render::Json::object();
      for (const auto& [dim, v] : who.values) idj[std::string(usage::dim_name(dim))] = v;
      j["identity"] = idj;
      j["decision"] = failed.empty() ? "allow" : "deny";
    } else {
      j["fail_on_pct"] = fail_pct;
      if (on_forecast) j["fail_on"] = "forecast";
      j["passed"] = failed.empty();
    }
    render::Table t = status_table(statuses, env.now(), on_forecast);
    t.columns.push_back(Column{"result", "result", Kind::text}.in(Form::json));
    for (size_t i = 0; i < statuses.size(); ++i) t.rows[i].push_back(Value::of_text(result_of(statuses[i])));
    j["budgets"] = render::rows_json(t);
    out = render::dump(j);
  } else if (o.format == "junit") {
    render::TestSuite suite{"billctl budgets", "budgets", util::format_rfc3339(env.now()), "budget", {}};
    for (const auto& s : statuses) {
      const std::string what = s.budget.name + " at " + render::percent_text(s.used_tenths) + " % of " +
                               budgets::amount_text(s.budget, s.budget.limit) + " (" + budgets::amount_text(s.budget, s.spent) +
                               " spent in " + s.window.label + ")" + (on_forecast ? forecast_text(s) : "");
      render::TestCase c{"billctl.budgets", s.budget.name, {}, s.error};
      if (fails(s))
        c.failure = what + (on_forecast ? ", fails at " + std::to_string(fail_pct) + " % likely to exceed"
                                        : ", fails at " + std::to_string(quota ? 100 : fail_pct) + " %");
      suite.cases.push_back(std::move(c));
    }
    out = render::to_junit(suite);
  } else {
    if (quota) {
      out = failed.empty() ? "allow" : "deny";
      for (const auto* s : failed)
        out += std::string(out.size() > 5 ? ";" : ":") + " budget '" + s->budget.name + "' is used up (" +
               budgets::amount_text(s->budget, s->spent) + " of " + budgets::amount_text(s->budget, s->budget.limit) + ")";
      out += "\n";
    } else {
      for (const auto& s : statuses)
        out += std::string(!s.error.empty() ? "ERROR " : fails(s) ? "FAIL " : "ok   ") + s.budget.name + "  " + render::percent_text(s.used_tenths) +
               " % of " + budgets::amount_text(s.budget, s.budget.limit) + (s.stage ? "  (stage " + std::to_string(s.stage) + " %)" : "") +
               (on_forecast && s.error.empty() ? forecast_text(s) : "") + "\n";
      const auto errors = size_t(std::count_if(statuses.begin(), statuses.end(), [](const auto& s) { return !s.error.empty(); }));
      out += std::to_string(statuses.size() - failed.size() - errors) + " of " + std::to_string(statuses.size()) +
             (on_forecast ? " budgets less than " + std::to_string(fail_pct) + " % likely to exceed their limit\n"
                          : " budgets below " + std::to_string(fail_pct) + " %\n");
    }
  }
  env.emit(out, o.output);
  // A budget that cannot be evaluated is a runtime failure, never a pass (nor an allow).
  if (report_errors(statuses, env)) throw DataError("some budgets could not be evaluated (see above)");
  if (!failed.empty()) {
    if (quota) throw CheckFailed("denied: " + std::to_string(failed.size()) + " hard quota(s) used up");
    if (on_forecast)
      throw CheckFailed(std::to_string(failed.size()) + " budget(s) at least " + std::to_string(fail_pct) + " % likely to exceed their limit");
    throw CheckFailed(std::to_string(failed.size()) + " budget(s) at or above " + std::to_string(fail_pct) + " %");
  }
}

void run_notify(const NotifyOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const notify::Settings settings = env.notify_settings();
  net::CurlHttpClient http;
  net::CurlMailSender mail;
  notify::NotifyContext ctx{env.usage(), env.alerts(), http, mail, settings, env.now(), o.dry_run};
  const auto outcomes = notify::run_notify(env.budgets().list_budgets(), ctx);
  render::Table t;
  t.id = "alerts";
  t.title = "Alerts";
  t.columns = {{"budget", "budget", Kind::text}, {"period", "period", Kind::text}, {"stage", "stage", Kind::text},
               {"channel", "channel", Kind::text}, {"result", "result", Kind::text},
               // A dry run shows the messages it would send: on the terminal after the table.
               Column{"message", "message", Kind::text}.in(o.dry_run ? unsigned(Form::json) : 0u)};
  size_t failed = 0, sent = 0;
  for (const auto& x : outcomes) {
    failed += x.failed;
    sent += x.result == "sent";
    // --quiet (cron): only what was sent; the failures go to stderr below.
    if (env.quiet() && x.result != "sent" && !o.dry_run) continue;
    t.rows.push_back({Value::of_text(x.budget), Value::of_text(x.period), Value::of_text(x.stage), Value::of_text(x.channel),
                      Value::of_text(x.result), Value::of_text(x.text)});
  }
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.budgets.notify";
    j["dry_run"] = o.dry_run;
    j["alerts"] = render::rows_json(t);
    out = render::dump(j);
  } else if (f == Format::csv) {
    out = render::to_csv(t);
  } else if (t.rows.empty()) {
    out = o.dry_run ? "Nothing to send.\n" : "";  // a cron job every minute stays quiet
  } else {
    out = render::to_text(t, env.style());
    if (o.dry_run)
      for (const auto& x : outcomes)
        if (!x.text.empty()) out += "\n--- " + x.budget + " / " + x.stage + " via " + x.channel + "\n" + x.text + "\n";
  }
  env.emit(out, "");
  if (failed) {
    std::string what;
    for (const auto& x : outcomes)
      if (x.failed) what += "; " + x.budget + (x.stage == "-" ? "" : " " + x.stage + (x.stage == "forecast" ? "" : " %")) +
                            (x.channel.empty() ? "" : " via " + x.channel) + ": " + x.result;
    throw PartialFailure(std::to_string(failed) + " alert(s) not sent, " + std::to_string(sent) +
                         " sent; the next run retries them" + what);
  }
}

}  // namespace

void add_budgets(CLI::App& root, CommandTable& table) {
  CLI::App* bud = root.add_subcommand("budgets", "Budgets and quotas: set, status, and the CI gate");
  bud->require_subcommand(1);

  auto so = std::make_shared<SetOptions>();
  CLI::App* set = bud->add_subcommand("set", "Add or replace a budget");
  set->add_option("name", so->name, "Budget name")->required()->type_name("NAME");
  set->add_option("--scope", so->scope, "organization, department:NAME, user:NAME, feature:NAME, project:NAME, model:NAME (repeatable, all must match)")
      ->type_name("SCOPE");
  set->add_option("--period", so->period, "monthly (default) or daily, calendar-aligned in --tz")->type_name("PERIOD");
  set->add_option("--limit", so->limit, "\"5000 USD\" or \"2500000 tokens\"")->type_name("LIMIT");
  set->add_option("--stages", so->stages, "Alert stages in percent (default 50,80,95,100)")->type_name("PCTS");
  set->add_option("--mode", so->mode, "soft (alert only, default) or hard (the quota denies)")->type_name("MODE");
  set->add_option("--tz", so->tz, "Time zone of the period (default: config tz, else UTC)")->type_name("ZONE");
  set->add_option("--channel", so->channels, "Send alerts through this channel of the config file (repeatable)")
      ->type_name("NAME");
  table.push_back({set, [so](Env& env) { run_set(*so, env); }});

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = bud->add_subcommand("list", "The stored budgets");
  add_output_options(list, lo->format, lo->output);
  table.push_back({list, [lo](Env& env) { run_list(*lo, env); }});

  auto ro = std::make_shared<ListOptions>();
  CLI::App* rm = bud->add_subcommand("rm", "Remove budgets");
  rm->add_option("names", ro->names, "Budget names")->required()->type_name("NAME");
  table.push_back({rm, [ro](Env& env) { run_rm(*ro, env); }});

  auto st = std::make_shared<ListOptions>();
  CLI::App* status = bud->add_subcommand("status", "Spent, limit, remaining, stage, projection and reset of each budget");
  status->add_option("names", st->names, "Only these budgets")->type_name("NAME");
  add_output_options(status, st->format, st->output);
  table.push_back({status, [st](Env& env) { run_status(*st, env); }});

  auto ao = std::make_shared<ApplyOptions>();
  CLI::App* apply = bud->add_subcommand("apply", "Make the stored budgets match a budgets.toml file");
  apply->add_option("-f,--file", ao->file, "The budgets file (TOML)")->required()->type_name("FILE");
  apply->add_flag("--dry-run", ao->dry_run, "Print the plan, change nothing; exit 3 when the file and the store differ");
  apply->add_flag("--prune", ao->prune, "Also remove budgets set by hand that the file does not name");
  table.push_back({apply, [ao](Env& env) { run_apply(*ao, env); }});

  auto co = std::make_shared<CheckOptions>();
  CLI::App* check = bud->add_subcommand("check", "CI gate: exit 3 when a budget reaches --fail-on; or a hard-quota allow/deny");
  check->add_option("-f,--file", co->file, "Check the budgets of this TOML file instead of the stored ones")->type_name("FILE");
  check->add_option("--fail-on", co->fail_on, "warning (80 %), critical (95 %), exceeded (100 %, default), a percent, or forecast")
      ->type_name("STAGE");
  check->add_option("--probability", co->probability, "With --fail-on forecast: fail at this chance of exceeding (default 80)")
      ->type_name("PCT")
      ->check(whole_number(1, 99));
  check->add_option("--format", co->format, "table, json or junit")->type_name("FORMAT");
  check->add_option("-o,--output", co->output, "Write the report to FILE (atomically)")->type_name("FILE");
  check->add_option("--user", co->user, "Quota check: may this user make a request? (hard budgets only)")->type_name("NAME");
  check->add_option("--department", co->department, "Quota check: the user's department")->type_name("NAME");
  check->add_option("--organization", co->organization, "Quota check: the organization")->type_name("NAME");
  check->add_option("--feature", co->feature, "Quota check: the feature")->type_name("NAME");
  check->add_option("--project", co->project, "Quota check: the project")->type_name("NAME");
  check->add_option("--model", co->model, "Quota check: the model")->type_name("NAME");
  table.push_back({check, [co](Env& env) { run_check(*co, env); }});

  auto no = std::make_shared<NotifyOptions>();
  CLI::App* notify = bud->add_subcommand("notify", "Send due alerts, each once per budget, stage and period (for cron)");
  notify->add_flag("--dry-run", no->dry_run, "Print what would be sent, send and record nothing");
  notify->add_option("--format", no->format, "table, csv or json")->type_name("FORMAT");
  table.push_back({notify, [no](Env& env) { run_notify(*no, env); }});

  // Hidden, for the time-zone test: reads "ZONE YYYY-MM-DD EXPECTED_EPOCH" lines on stdin (the
  // instant the local day starts, from Python's zoneinfo) and prints every day whose start
  // differs; exit 1 when any does.
  CLI::App* tzc = root.add_subcommand("__tz-check", "");
  tzc->group("");
  table.push_back({tzc, [](Env& env) {
                     std::string zone, day, expected, cached;
                     util::TimeZone tz;
                     uint64_t checked = 0, wrong = 0;
                     std::string out;
                     while (std::cin >> zone >> day >> expected) {
                       if (zone != cached) {
                         tz = util::TimeZone::load(zone);
                         cached = zone;
                       }
                       const int64_t d = util::parse_date(day).value_or_throw("__tz-check");
                       int64_t want = 0;
                       if (!util::parse_u63(expected[0] == '-' ? expected.substr(1) : expected, want))
                         throw DataError("__tz-check: bad instant '" + expected + "'");
                       if (expected[0] == '-') want = -want;
                       ++checked;
                       const int64_t got = tz.day_start(d);
                       if (got != want && ++wrong <= 50)
                         out += zone + " " + day + ": billctl " + util::format_rfc3339(got) + ", zoneinfo " +
                                util::format_rfc3339(want) + "\n";
                     }
                     out += std::to_string(checked) + " day starts checked, " + std::to_string(wrong) + " differ\n";
                     env.emit(out, "");
                     if (wrong) throw CheckFailed("local day starts differ from zoneinfo");
                   }});
}

}  // namespace billctl::cmd
