// billctl invoices plans [assign|usage] | generate | list | show | pdf | issue | mark-paid | void
#include <unistd.h>

#include <memory>

#include "billctl/billing/config.hpp"
#include "billctl/billing/invoice.hpp"
#include "billctl/util/toml_guard.hpp"
#include "billctl/money/config.hpp"
#include "billctl/render/json.hpp"
#include "billctl/render/pdf_invoice.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using billing::Invoice;
using money::Decimal;
using render::Kind;
using render::Value;

struct Options {
  std::string ref;
  std::string organization;
  std::vector<std::string> organizations;
  std::string plan;
  std::string period;
  std::string status;
  std::string tax_rate;
  int net_days = 0;
  bool no_credits = false;
  bool issue = false;
  bool partial = false;
  std::string since;
  std::string actor;
  std::string reference;
  std::string reason;
  std::string format = "table";
  std::string output;
};

using Settings = billing::InvoiceSettings;

Settings settings(Env& env) { return billing::parse_invoice_settings(env.config_table("invoices"), env.config_path()); }

render::PdfFonts fonts(const Settings& s) {
  render::PdfFonts f;
  if (!s.font.empty()) f.regular = s.font;
  if (!s.font_bold.empty()) f.bold = s.font_bold;
  return f;
}

std::vector<billing::Plan> plans(Env& env) { return billing::parse_plans(env.config_table("plans"), env.config_path()); }

billing::OrgDirectory directory(Env& env, billing::Invoices& inv, const Settings& s) {
  return billing::parse_org_directory(env.config_table("orgs"), env.config_path(), s.default_plan, inv.assignments());
}

struct Context {
  credits::Ledger ledger;
  billing::Invoices invoices;
  explicit Context(Env& env)
      : ledger(env.ledger_store(), credits::parse_config(env.config_table("credits"), env.config_path())),
        invoices(env.invoice_store(), ledger) {
    invoices.set_time_zone(util::TimeZone::load(settings(env).tz));
  }
};

std::string money_text(const Decimal& d, const money::Currency& c) { return d.round(c.minor_units).format(c.minor_units); }

std::string rate_text(const billing::Plan& p, billing::Metric m) {
  const auto& a = p.allowances.at(m);
  if (!a.included) return "-";
  return a.rate.to_string(p.currency.minor_units) + " / " + std::string(billing::info(m).per_text);
}

// ---- plans ----

void run_plans(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const auto list = plans(env);
  using render::Column;
  using render::Form;
  const unsigned pc = Form::people | Form::csv;
  render::Table t;
  t.id = "plans";
  t.title = "Plans";
  t.columns = {{"plan", "plan", Kind::text}, {"title", "title", Kind::text}, Column{"price", "price / month", Kind::text}.in(pc),
               Column{"price", "price", Kind::json}.in(Form::json)};
  for (const auto& m : billing::metrics()) t.columns.push_back(Column{std::string(m.id), std::string(m.id), Kind::text}.in(pc));
  t.columns.push_back(Column{"included", "included", Kind::json}.in(Form::json));
  t.columns.push_back(Column{"overage", "overage", Kind::json}.in(Form::json));
  for (const auto& p : list) {
    std::vector<Value> row{Value::of_text(p.name), Value::of_text(p.title),
                           Value::of_text(p.base_fee ? money_text(*p.base_fee, p.currency) + " " + std::string(p.currency.name()) : "custom"),
                           Value::of_json(p.base_fee ? render::money_json(*p.base_fee, p.currency.minor_units, p.currency) : render::Json("custom"))};
    render::Json inc = render::Json::object(), ov = render::Json::object();
    for (const auto& m : billing::metrics()) {
      const auto& al = p.allowances.at(m.metric);
      row.push_back(Value::of_text(billing::quantity_text(al.included, m.metric)));
      inc[std::string(m.id)] = al.included ? render::Json(al.included->to_string()) : render::Json("unlimited");
      ov[std::string(m.id)] = {{"rate", al.rate.to_string()}, {"per", m.per}, {"unit", std::string(m.unit)}};
    }
    row.push_back(Value::of_json(std::move(inc)));
    row.push_back(Value::of_json(std::move(ov)));
    t.rows.push_back(std::move(row));
  }
  render::Table r;
  r.id = "overage";
  r.title = "Overage rates";
  r.columns = {{"plan", "plan", Kind::text}};
  for (const auto& m : billing::metrics()) r.columns.push_back({std::string(m.id), std::string(m.id), Kind::text});
  for (const auto& p : list) {
    std::vector<Value> row{Value::of_text(p.name)};
    for (const auto& m : billing::metrics()) row.push_back(Value::of_text(rate_text(p, m.metric)));
    r.rows.push_back(std::move(row));
  }
  Context ctx(env);
  const auto dir = directory(env, ctx.invoices, settings(env));
  render::Table a;
  a.id = "assignments";
  a.title = "Organizations";
  a.columns = {{"organization", "organization", Kind::text}, {"plan", "plan", Kind::text}};
  for (const auto& [org, plan] : dir.plan) a.rows.push_back({Value::of_text(org), Value::of_text(plan)});
  std::string out;
  if (f == Format::table) {
    out = render::to_text(t, env.style()) + "\n" + render::to_text(r, env.style());
    if (!a.rows.empty()) out += "\n" + render::to_text(a, env.style());
    if (!dir.default_plan.empty()) out += "\nOther organizations: " + dir.default_plan + " ([invoices] default_plan)\n";
  } else if (f == Format::csv) {
    out = render::to_csv(t);
  } else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.invoices.plans";
    j["plans"] = render::rows_json(t);
    render::Json asg = render::Json::object();
    for (const auto& [org, plan] : dir.plan) asg[org] = plan;
    j["assignments"] = asg;
    j["default_plan"] = dir.default_plan.empty() ? render::Json(nullptr) : render::Json(dir.default_plan);
    out = render::dump(j);
  }
  env.emit(out, o.output);
}

void run_assign(const Options& o, Env& env) {
  const auto list = plans(env);
  if (!billing::find_plan(list, o.plan)) {
    std::vector<std::string> names;
    for (const auto& p : list) names.push_back(p.name);
    const std::string hint = util::did_you_mean(o.plan, names);
    throw UsageError("unknown plan '" + o.plan + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  std::optional<util::Seconds> since;
  if (!o.since.empty()) {
    const util::Period p = env.period(o.since, "--since");
    if (p.kind != util::Period::Kind::month) throw UsageError("invalid --since '" + o.since + "': expected a month, e.g. 2026-10");
    since = p.begin;
  }
  Context ctx(env);
  ctx.invoices.assign(o.organization, o.plan, env.now(), since);
  env.note("'" + o.organization + "' is on the " + o.plan + " plan");
}

void run_usage(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const util::Period p = env.period(o.period, "--period");
  const auto list = plans(env);
  Context ctx(env);
  const auto dir = directory(env, ctx.invoices, settings(env));
  auto usage = billing::organization_usage(env.usage(), p);
  render::Table t;
  t.id = "plan_usage";
  t.title = "Usage against plan " + p.label;
  t.columns = {{"organization", "organization", Kind::text}, {"plan", "plan", Kind::text},   {"metric", "metric", Kind::text},
               {"used", "used", Kind::text},                 {"limit", "limit", Kind::text}, {"percentage", "used %", Kind::percent},
               {"overage", "overage", Kind::text}};
  t.bar_column = 5;
  t.bar_full = 1000;
  render::Json orgs = render::Json::array();
  for (const auto& u : usage) {
    if (!o.organization.empty() && u.organization != o.organization) continue;
    auto it = dir.plan.find(u.organization);
    const std::string name = it != dir.plan.end() ? it->second : dir.default_plan;
    const billing::Plan* plan = billing::find_plan(list, name);
    if (!plan) {
      env.note("'" + u.organization + "' has no plan; assign one with 'billctl invoices plans assign'");
      continue;
    }
    render::Json oj{{"organization", u.organization}, {"plan", plan->name}, {"period", p.label}};
    for (const auto& m : billing::usage_metrics(*plan, u)) {
      const auto& mi = billing::info(m.metric);
      t.rows.push_back({Value::of_text(u.organization), Value::of_text(plan->name), Value::of_text(std::string(mi.id)),
                        Value::of_text(billing::quantity_text(m.used, m.metric)), Value::of_text(billing::quantity_text(m.limit, m.metric)),
                        m.tenths ? Value::of_percent(*m.tenths) : Value::none(),
                        Value::of_text(m.overage.is_zero() ? "-" : billing::quantity_text(m.overage, m.metric))});
      // UsageMetrics of seed 002: used, limit, percentage.
      render::Json mj{{"used", m.used.to_string()}};
      mj["limit"] = m.limit ? render::Json(m.limit->to_string()) : render::Json(nullptr);
      mj["percentage"] = m.tenths ? render::Json(render::plain({"", "", Kind::percent}, Value::of_percent(*m.tenths))) : render::Json(nullptr);
      oj[std::string(mi.id)] = mj;
    }
    orgs.push_back(oj);
  }
  std::string out;
  if (f == Format::table) out = t.rows.empty() ? "No usage in " + p.label + ".\n" : render::to_text(t, env.style());
  else if (f == Format::csv) out = render::to_csv(t);
  else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.invoices.usage";
    j["period"] = p.label;
    j["organizations"] = orgs;
    out = render::dump(j);
  }
  env.emit(out, o.output);
}

// ---- invoices ----

render::Table list_table(const std::vector<Invoice>& list, util::Seconds now, bool table) {
  render::Table t;
  t.id = "invoices";
  t.title = "Invoices";
  t.columns = {{"number", "invoice", Kind::text}, {"organization", "organization", Kind::text}, {"period", "period", Kind::text},
               {"plan", "plan", Kind::text},      {"status", "status", Kind::text},             {"total", "amount", Kind::decimal},
               {"currency", "currency", Kind::text}, {"due", "due date", Kind::text},           {"paid", "paid", Kind::text}};
  for (const auto& inv : list) {
    const int d = inv.currency.minor_units;
    t.rows.push_back({Value::of_text(inv.number), Value::of_text(inv.organization), Value::of_text(inv.period),
                      Value::of_text(inv.plan), Value::of_text(inv.status_at(now)),
                      Value::of_money(inv.total.round(d), d), Value::of_text(std::string(inv.currency.name())),
                      Value::of_text(table || inv.status != "draft" ? inv.due_text() : std::string()),
                      Value::of_text(inv.paid_at ? util::format_date(util::day_of(inv.paid_at)) : "")});
  }
  return t;
}

render::Json invoice_json(const Invoice& inv, util::Seconds now) {
  render::Json j = render::Json::parse(billing::to_json(inv));
  j["status"] = inv.status_at(now);
  for (const char* k : {"created_at", "issued_at", "due_at", "paid_at"}) {
    const int64_t t = j[k].get<int64_t>();
    j[k] = t ? render::Json(util::format_rfc3339(t)) : render::Json(nullptr);
  }
  if (inv.status == "draft") {  // a draft has no issue or due date until it is issued
    j["issued_at"] = nullptr;
    j["due_at"] = nullptr;
    j["due_date"] = nullptr;
  } else {
    j["due_date"] = inv.due_text();
  }
  for (auto& h : j["history"]) h["at"] = util::format_rfc3339(h["at"].get<int64_t>());
  return j;
}

std::string show_text(const Invoice& inv, util::Seconds now, const render::TextStyle& style) {
  const money::Currency& c = inv.currency;
  const std::string cur(c.name());
  std::string out = "Invoice " + inv.number + "  " + inv.status_at(now) + "\n";
  out += "  organization  " + inv.organization + " (" + inv.bill_to.name + ")\n";
  out += "  plan          " + inv.plan_title + "\n";
  out += "  period        " + inv.period + "\n";
  if (inv.status == "draft") {
    out += "  issued        - (a draft: 'billctl invoices issue " + inv.number + "' issues it)\n";
  } else {
    out += "  issued        " + inv.issue_text() + "\n";
    out += "  due           " + inv.due_text() + " (net " + std::to_string(inv.net_days) + ")\n";
  }
  if (inv.partial) out += "  partial       generated before the period ended\n";
  if (inv.paid_at) out += "  paid          " + util::format_date(util::day_of(inv.paid_at)) + (inv.payment_reference.empty() ? "" : " ref " + inv.payment_reference) + "\n";
  out += "\n";
  render::Table t;
  t.id = "lines";
  t.title = "Lines";
  t.currency = c;
  t.columns = {{"description", "description", Kind::text}, {"quantity", "quantity", Kind::text},
               {"unit_price", "unit price", Kind::text},    {"amount", "amount", Kind::money}};
  for (const auto& l : inv.lines)
    t.rows.push_back({Value::of_text(l.description), Value::of_text(l.quantity), Value::of_text(l.unit_price),
                      Value::of_money(l.amount, c.minor_units)});
  auto total_row = [&](std::string label, const Decimal& d) {
    t.rows.push_back({Value::of_text(std::move(label)), Value::of_text(""), Value::of_text(""), Value::of_money(d, c.minor_units)});
  };
  out += render::to_text(t, style);
  t.rows.clear();
  t.title = "Totals";
  total_row("Subtotal", inv.subtotal);
  if (!inv.credits_applied.is_zero()) total_row("Credits applied (" + inv.credits_used.round(2).format(2) + " credits)", -inv.credits_applied);
  if (!inv.tax_rate.empty()) total_row(inv.tax_name + " (" + inv.tax_rate + " %)", inv.tax);
  total_row("Total", inv.total);
  out += "\n" + render::to_text(t, style);
  out += "\nHistory\n";
  for (const auto& h : inv.history)
    out += "  " + util::format_rfc3339(h.at) + "  " + h.status + "  " + h.actor + (h.note.empty() ? "" : "  " + h.note) + "\n";
  return out;
}

void run_generate(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (o.period.empty()) throw UsageError("invoices generate needs --period, e.g. --period 2026-10");
  const util::Period p = env.period(o.period, "--period");
  if (p.kind != util::Period::Kind::month) throw UsageError("invalid --period '" + o.period + "': invoices are monthly, e.g. 2026-10");
  const Settings s = settings(env);
  const auto list = plans(env);
  Context ctx(env);
  billing::GenerateOptions g;
  g.period_label = p.label;
  g.period = p;
  g.organizations = o.organizations;
  g.tax_rate = !o.tax_rate.empty() ? std::optional<std::string>(o.tax_rate) : s.tax_rate;
  g.tax_name = s.tax_name;
  g.net_days = o.net_days > 0 ? o.net_days : s.net_days;
  g.apply_credits = !o.no_credits;
  g.issue = o.issue;
  g.actor = env.actor(o.actor);
  g.now = env.now();
  g.issuer = s.issuer;
  g.partial = o.partial;
  if (p.end > env.now() && !o.partial)  // before any work
    throw UsageError("invalid --period '" + o.period + "': the month has not ended (it ends " + util::format_rfc3339(p.end) +
                     "); pass --partial for an interim invoice");
  const auto dir = directory(env, ctx.invoices, s);
  billing::check_directory(list, dir);  // config problems first, before the month's usage is read
  const auto res = ctx.invoices.generate(g, list, dir, billing::organization_usage(env.usage(), p));
  for (const auto& [org, why] : res.skipped) env.note("skipped '" + org + "': " + why);
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.invoices.generate";
    j["period"] = p.label;
    j["invoices"] = render::Json::array();
    for (const auto& inv : res.created) j["invoices"].push_back(invoice_json(inv, env.now()));
    render::Json sk = render::Json::array();
    for (const auto& [org, why] : res.skipped) sk.push_back({{"organization", org}, {"reason", why}});
    j["skipped"] = sk;
    out = render::dump(j);
  } else if (f == Format::csv) {
    out = render::to_csv(list_table(res.created, env.now(), false));
  } else {
    out = res.created.empty() ? "No new invoices for " + p.label + ".\n" : render::to_text(list_table(res.created, env.now(), true), env.style());
  }
  env.emit(out, o.output);
}

void run_list(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  std::string period;
  if (!o.period.empty()) period = env.period(o.period, "--period").label;
  if (!o.status.empty() && o.status != "draft" && o.status != "pending" && o.status != "paid" && o.status != "overdue" && o.status != "void")
    throw UsageError("invalid --status '" + o.status + "': expected draft, pending, overdue, paid or void");
  Context ctx(env);
  auto list = ctx.invoices.list(period, o.organization);
  if (!o.status.empty()) std::erase_if(list, [&](const Invoice& i) { return i.status_at(env.now()) != o.status; });
  env.emit(table_output(list_table(list, env.now(), f == Format::table), f, env, "billctl.invoices", "invoices", "No invoices.\n"),
           o.output);
}

void run_show(const Options& o, Env& env) {
  if (o.format != "table" && o.format != "json") throw UsageError("invalid --format '" + o.format + "': expected table or json");
  Context ctx(env);
  const Invoice inv = ctx.invoices.get(o.ref);
  if (o.format == "json") {
    render::Json j = invoice_json(inv, env.now());
    j = render::Json{{"schema_version", 1}, {"kind", "billctl.invoice"}, {"invoice", j}};
    env.emit(render::dump(j), o.output);
  } else {
    env.emit(show_text(inv, env.now(), env.style()), o.output);
  }
}

void run_pdf(const Options& o, Env& env) {
  if (o.output.empty() && env.out_tty) throw UsageError("invoices pdf writes a binary file: give -o FILE (or redirect stdout)");
  Context ctx(env);
  const Invoice inv = ctx.invoices.get(o.ref);
  const std::string bytes = render::invoice_pdf(inv, fonts(settings(env)), env.now());
  env.emit(bytes, o.output);
  if (!o.output.empty()) env.note("wrote " + o.output + " (invoice " + inv.number + ")");
}

void run_issue(const Options& o, Env& env) {
  Context ctx(env);
  const Invoice inv = ctx.invoices.issue(o.ref, env.actor(o.actor), env.now());
  env.note("issued " + inv.number + ": " + money_text(inv.total, inv.currency) + " " + std::string(inv.currency.name()) + " due " +
           inv.due_text());
}

void run_paid(const Options& o, Env& env) {
  Context ctx(env);
  const Invoice inv = ctx.invoices.mark_paid(o.ref, env.actor(o.actor), o.reference, env.now());
  env.note("marked " + inv.number + " paid");
}

void run_void(const Options& o, Env& env) {
  Context ctx(env);
  const Invoice inv = ctx.invoices.void_invoice(o.ref, env.actor(o.actor), o.reason, env.now());
  env.note("voided " + inv.number + (inv.credits_used.is_zero() ? "" : "; " + inv.credits_used.round(2).format(2) + " credits returned to '" + inv.organization + "'"));
}

void add_ref(CLI::App* c, Options& o) {
  c->add_option("invoice", o.ref, "Invoice number (INV-2026-000001) or id")->required()->type_name("INVOICE");
}

}  // namespace

void add_invoices(CLI::App& root, CommandTable& table) {
  CLI::App* iv = root.add_subcommand("invoices", "Plans and monthly invoices: generate, list, show, PDF, payment status");
  iv->require_subcommand(1);
  std::shared_ptr<Options> o;

  // Nested verbs go into the table before their parent: the first parsed command runs.
  auto po = std::make_shared<Options>();
  CLI::App* plans_cmd = iv->add_subcommand("plans", "The plans (included quantities, overage rates) and who is on which");
  plans_cmd->require_subcommand(0, 1);
  CLI::App* c = add_verb(plans_cmd, table, "assign", "Put an organization on a plan", run_assign, o);
  c->add_option("organization", o->organization, "The organization")->required()->type_name("ORG");
  c->add_option("plan", o->plan, "The plan")->required()->type_name("PLAN");
  c->add_option("--since", o->since, "Bill on it from this month (default: the month of the first assignment)")->type_name("MONTH");
  c = add_verb(plans_cmd, table, "usage", "Usage against the plan per organization: used, limit, percentage", run_usage, o);
  c->add_option("--period", o->period, "Period (default this-month)")->type_name("PERIOD");
  c->add_option("--org", o->organization, "Only this organization")->type_name("NAME");
  add_output_options(c, o->format, o->output);
  o->period = "this-month";
  add_output_options(plans_cmd, po->format, po->output);
  table.push_back({plans_cmd, [po](Env& env) { run_plans(*po, env); }});

  c = add_verb(iv, table, "generate", "One invoice per organization for a month: base fee, overage, credits, tax", run_generate, o);
  c->add_option("--period", o->period, "The month, e.g. 2026-10 or last-month")->type_name("PERIOD");
  c->add_option("--org", o->organizations, "Only these organizations (repeatable)")->type_name("NAME");
  c->add_option("--tax-rate", o->tax_rate, "Tax in percent (default: config [invoices] tax_rate, else none)")->type_name("PCT");
  c->add_option("--net-days", o->net_days, "Payment due after N days (default: config, else 30)")->type_name("N")->check(whole_number(1, 3650));
  c->add_flag("--no-credits", o->no_credits, "Do not apply the organizations' credit balances");
  c->add_flag("--issue", o->issue, "Issue at once (pending) instead of leaving drafts");
  c->add_flag("--partial", o->partial, "Allow a month that has not ended (an interim invoice, marked partial)");
  c->add_option("--actor", o->actor, "Who generates them")->type_name("NAME");
  add_output_options(c, o->format, o->output);

  c = add_verb(iv, table, "list", "Invoices with status, amount, period and due date", run_list, o);
  c->add_option("--period", o->period, "Only this month")->type_name("PERIOD");
  c->add_option("--org", o->organization, "Only this organization")->type_name("NAME");
  c->add_option("--status", o->status, "Only draft, pending, overdue, paid or void")->type_name("STATUS");
  add_output_options(c, o->format, o->output);

  c = add_verb(iv, table, "show", "One invoice: lines, totals, history", run_show, o);
  add_ref(c, *o);
  c->add_option("--format", o->format, "table or json")->type_name("FORMAT");
  c->add_option("-o,--output", o->output, "Write to FILE (atomically)")->type_name("FILE");

  c = add_verb(iv, table, "pdf", "The invoice as a PDF document", run_pdf, o);
  add_ref(c, *o);
  c->add_option("-o,--output", o->output, "The PDF file to write (atomically)")->type_name("FILE");

  c = add_verb(iv, table, "issue", "Issue a draft: pending, due after the net days", run_issue, o);
  add_ref(c, *o);
  c->add_option("--actor", o->actor, "Who issues it")->type_name("NAME");

  c = add_verb(iv, table, "mark-paid", "Record the payment of a pending or overdue invoice", run_paid, o);
  add_ref(c, *o);
  c->add_option("--reference", o->reference, "The payment reference")->type_name("REF");
  c->add_option("--actor", o->actor, "Who records it")->type_name("NAME");

  c = add_verb(iv, table, "void", "Void an unpaid invoice (its number stays used; applied credits go back)", run_void, o);
  add_ref(c, *o);
  c->add_option("--reason", o->reason, "Why (required)")->type_name("TEXT");
  c->add_option("--actor", o->actor, "Who voids it")->type_name("NAME");
}

}  // namespace billctl::cmd
