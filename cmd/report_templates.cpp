// billctl report save | run | list | show | rm | send: saved report templates and their delivery.
#include <memory>

#include "billctl/notify/notifier.hpp"
#include "billctl/render/json.hpp"
#include "billctl/report/delivery.hpp"
#include "billctl/report/templates.hpp"
#include "billctl/util/strings.hpp"
#include "report.hpp"

namespace billctl::cmd {

namespace {

struct SaveOptions {
  std::string name, description, period = "last-month", format = "csv", min_saving = "1";
  std::vector<std::string> where;
  bool recommendations = false;
};

struct RunOptions {
  std::string name, period, output;
};

struct ListOptions {
  std::string format = "table", output;
};

struct ShowOptions {
  std::string name, format = "table";
};

struct NameOptions {
  std::string name;
};

struct SendOptions {
  std::string name, period;
  std::vector<std::string> to;
  bool force = false, dry_run = false;
  std::string format = "table";
};

std::vector<report::ReportTemplate> config_templates(Env& env) {
  return report::templates_from_config(env.config_table("reports"), env.config_path(), env.now());
}

report::ReportTemplate find_or_fail(Env& env, const std::string& name) {
  const auto all = report::all_templates(env.templates(), config_templates(env));
  if (auto t = report::find_template(all, name)) return *t;
  std::vector<std::string> names;
  for (const auto& t : all) names.push_back(t.name);
  const std::string hint = util::did_you_mean(name, names);
  throw DataError("no report template '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; save one with 'billctl report save NAME ...' or list them with 'billctl report list'");
}

ReportOptions options_of(const report::ReportTemplate& t, const std::string& period) {
  ReportOptions o;
  o.period = period.empty() ? t.period : period;
  o.where = t.where;
  o.format = t.format;
  o.recommendations = t.recommendations;
  o.min_saving = t.min_saving;
  return o;
}

void run_save(const SaveOptions& o, Env& env) {
  report::ReportTemplate t;
  t.name = o.name;
  t.description = o.description;
  t.period = o.period;
  t.where = o.where;
  t.format = o.format;
  t.recommendations = o.recommendations;
  t.min_saving = o.min_saving;
  report::validate(t, env.now());
  for (const auto& c : config_templates(env))
    if (c.name == t.name)
      throw UsageError("report template '" + t.name + "' is defined in the config file (" + c.origin + "); change it there");
  env.templates().put_template(t, env.now());
  env.note("saved report template '" + t.name + "'; run it with 'billctl report run " + t.name + "'");
}

void run_run(const RunOptions& o, Env& env) {
  const report::ReportTemplate t = find_or_fail(env, o.name);
  uint64_t rejected = 0;
  env.emit(report_document(options_of(t, o.period), env, nullptr, rejected), o.output);
}

render::Table templates_table(const std::vector<report::ReportTemplate>& all) {
  render::Table t;
  t.id = "templates";
  t.title = "Report templates";
  using render::Kind;
  using render::Value;
  t.columns = {{"name", "name", Kind::text},     {"period", "period", Kind::text},
               {"format", "format", Kind::text}, {"where", "where", Kind::text},
               {"recommendations", "recommendations", Kind::text}, {"origin", "origin", Kind::text},
               {"description", "description", Kind::text}};
  for (const auto& r : all) {
    std::string where;
    for (const auto& w : r.where) where += (where.empty() ? "" : " ") + w;
    t.rows.push_back({Value::of_text(r.name), Value::of_text(r.period), Value::of_text(r.format), Value::of_text(where),
                      Value::of_text(r.recommendations ? "yes" : "no"), Value::of_text(r.origin),
                      Value::of_text(r.description)});
  }
  return t;
}

void run_list(const ListOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const auto all = report::all_templates(env.templates(), config_templates(env));
  env.emit(table_output(templates_table(all), f, env, "billctl.report.templates", "templates",
                        "No report templates. Save one with 'billctl report save NAME --period last-month ...'.\n"),
           o.output);
}

void run_show(const ShowOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const report::ReportTemplate t = find_or_fail(env, o.name);
  if (f == Format::json) {
    render::Json j = render::Json::parse(report::to_json(t));
    render::Json out;
    out["schema_version"] = 1;
    out["kind"] = "billctl.report.template";
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = it.value();
    out["origin"] = t.origin;
    // The command that reproduces it.
    std::string cmd = "billctl report run " + t.name;
    out["command"] = cmd;
    env.emit(render::dump(out), "");
    return;
  }
  env.emit(table_output(templates_table({t}), f, env, "billctl.report.templates", "templates", ""), "");
}

void run_rm(const NameOptions& o, Env& env) {
  for (const auto& c : config_templates(env))
    if (c.name == o.name)
      throw UsageError("report template '" + o.name + "' is defined in the config file (" + c.origin + "); remove it there");
  if (!env.templates().remove_template(o.name)) find_or_fail(env, o.name);  // names the missing one
  env.note("removed report template '" + o.name + "'");
}

void run_send(const SendOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (o.to.empty()) throw UsageError("report send needs --to CHANNEL (a [notify.channels.NAME] of the config)");
  const report::ReportTemplate t = find_or_fail(env, o.name);
  const notify::Settings settings = env.notify_settings();
  std::vector<const notify::Channel*> channels;
  for (const auto& name : o.to) {
    const notify::Channel* c = settings.find(name);
    if (!c) throw UsageError("invalid --to '" + name + "': no channel of that name in [notify.channels]");
    if (c->kind == notify::Kind::pagerduty || c->kind == notify::Kind::sms)
      throw UsageError("invalid --to '" + name + "': a " + std::string(notify::kind_name(c->kind)) +
                       " channel cannot carry a report (use email, slack, teams or webhook)");
    channels.push_back(c);
  }
  report::MonthlyReport built;
  uint64_t rejected = 0;
  const std::string document = report_document(options_of(t, o.period), env, &built, rejected);
  const notify::Alert a = report::report_alert(t, built, document, env.now());

  net::CurlHttpClient http;
  net::CurlMailSender mail;
  notify::NotifyContext ctx{env.usage(), env.alerts(), http, mail, settings, env.now(), o.dry_run};
  render::Table out;
  out.id = "deliveries";
  out.title = "Report '" + t.name + "' " + built.period.label;
  out.columns = {{"channel", "channel", render::Kind::text},
                 {"to", "to", render::Kind::text},
                 {"file", "file", render::Kind::text},
                 {"result", "result", render::Kind::text}};
  size_t failed = 0;
  const std::string file = report::report_filename(t, built.period);
  for (const notify::Channel* c : channels) {
    const notify::AlertKey key{a.budget, a.period, a.stage, c->name};
    std::string result;
    if (o.dry_run) {
      result = env.alerts().alert_sent(key) && !o.force ? "already sent" : "would send";
    } else if (o.force) {
      // Sent again on request: recorded like any delivery.
      env.alerts().claim_alert(key, env.now());
      const std::string err = notify::deliver(*c, a, settings, http, mail, notify::rfc5322_date(env.now()));
      env.alerts().finish_alert(key, err.empty(), err, env.now());
      result = err.empty() ? "sent" : "failed: " + err;
    } else if (auto sent = notify::send_once(a, *c, ctx)) {
      result = sent->result;
    } else {
      result = "already sent (--force sends it again)";
    }
    failed += util::starts_with(result, "failed");
    out.rows.push_back({render::Value::of_text(c->name), render::Value::of_text(notify::describe(*c)),
                        render::Value::of_text(c->kind == notify::Kind::email ? file : "(summary)"),
                        render::Value::of_text(result)});
  }
  env.emit(table_output(out, f, env, "billctl.report.send", "deliveries", ""), "");
  if (failed) throw PartialFailure(std::to_string(failed) + " of " + std::to_string(channels.size()) + " deliveries failed");
}

}  // namespace

void add_report_templates(CLI::App* rep, CommandTable& table) {
  std::shared_ptr<SaveOptions> so;
  CLI::App* save = add_verb(rep, table, "save", "Save the report's flags as a named template", &run_save, so);
  save->add_option("name", so->name, "Template name")->required()->type_name("NAME");
  save->add_option("--description", so->description, "What the report is for, and for whom")->type_name("TEXT");
  save->add_option("--period", so->period, "Default period (default last-month; relative names roll forward)")->type_name("PERIOD");
  save->add_option("--where", so->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  save->add_option("--format", so->format, "Output format: table, csv (default), json, pdf, xlsx or focus")->type_name("FORMAT");
  save->add_flag("--recommendations", so->recommendations, "Add the recommendations section (table and json)");
  save->add_option("--min-saving", so->min_saving, "With --recommendations: leave out those that save less (default 1)")
      ->type_name("AMOUNT");

  std::shared_ptr<RunOptions> ro;
  CLI::App* run = add_verb(rep, table, "run", "Render a saved template's report", &run_run, ro);
  run->add_option("name", ro->name, "Template name")->required()->type_name("NAME");
  run->add_option("--period", ro->period, "Period (default the template's)")->type_name("PERIOD");
  run->add_option("-o,--output", ro->output, "Write the output to FILE (atomically) instead of stdout")->type_name("FILE");

  std::shared_ptr<ListOptions> lo;
  CLI::App* list = add_verb(rep, table, "list", "The saved report templates (store and config)", &run_list, lo);
  add_output_options(list, lo->format, lo->output);

  std::shared_ptr<ShowOptions> sho;
  CLI::App* show = add_verb(rep, table, "show", "One report template", &run_show, sho);
  show->add_option("name", sho->name, "Template name")->required()->type_name("NAME");
  show->add_option("--format", sho->format, "Output format: table, csv or json")->type_name("FORMAT");

  std::shared_ptr<NameOptions> rmo;
  CLI::App* rm = add_verb(rep, table, "rm", "Remove a saved report template", &run_rm, rmo);
  rm->add_option("name", rmo->name, "Template name")->required()->type_name("NAME");

  std::shared_ptr<SendOptions> sdo;
  CLI::App* send = add_verb(rep, table, "send", "Send a template's report to channels, once per period", &run_send, sdo);
  send->add_option("name", sdo->name, "Template name")->required()->type_name("NAME");
  send->add_option("--to", sdo->to, "A [notify.channels] channel: email (report attached), slack, teams, webhook (repeatable)")
      ->type_name("CHANNEL");
  send->add_option("--period", sdo->period, "Period (default the template's)")->type_name("PERIOD");
  send->add_flag("--force", sdo->force, "Send even when this period's report was sent before");
  send->add_flag("--dry-run", sdo->dry_run, "Show what would be sent; send nothing");
  send->add_option("--format", sdo->format, "Format of the delivery summary: table, csv or json")->type_name("FORMAT");
}

}  // namespace billctl::cmd
