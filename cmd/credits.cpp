// billctl credits balance | packages | buy | deduct | refund | adjust | ledger | verify | topup
#include <memory>
#include <nlohmann/json.hpp>

#include "billctl/credits/ledger.hpp"
#include "billctl/notify/notifier.hpp"
#include "billctl/render/json.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using credits::Decimal;
using credits::Entry;
using render::Column;
using render::Form;
using render::Kind;
using render::Value;

struct Options {
  std::string organization;
  std::string actor;
  std::string key;
  std::string reference;
  std::string reason;
  std::string amount;    // --credits
  std::string package;   // buy PACKAGE, topup --package
  std::string period;
  std::string since, until;
  std::string kind;
  std::string below;
  int64_t max_per_month = 1;
  int64_t entry = 0;
  bool all = false;
  bool summary = false;
  bool off = false;
  bool allow_negative = false;
  bool new_org = false;
  std::string format = "table";
  std::string output;
};

credits::Ledger open_ledger(Env& env) {
  return credits::Ledger(env.ledger_store(), credits::parse_config(env.config_table("credits"), env.config_path()));
}

credits::Request request(const Options& o, Env& env) {
  credits::Request r;
  r.organization = o.organization;
  r.actor = env.actor(o.actor);
  r.reference = o.reference;
  r.reason = o.reason;
  r.idempotency_key = o.key;
  r.now = env.now();
  r.allow_negative = o.allow_negative;
  r.new_org = o.new_org;
  if (const toml::table* orgs = env.config_table("orgs")) r.known_org = orgs->contains(o.organization);
  return r;
}

void need_org(const Options& o, const char* verb) {
  if (o.organization.empty()) throw UsageError(std::string("credits ") + verb + " needs --org NAME");
}

Decimal parse_credits(const std::string& text, const std::string& flag) {
  auto d = Decimal::parse(text);
  if (!d) throw UsageError("invalid " + flag + " '" + text + "': " + d.error());
  return *d;
}

std::string credits_text(const Decimal& d) { return d.round(2).format(2); }

// Credits as a table cell: every digit (machines: CSV, JSON); a credits_column shows people two.
Value credits_value(const Decimal& d) {
  int digits = 0;
  while (digits < money::Decimal::k_scale && !(d.round(digits) == d)) ++digits;
  return Value::of_money(d, digits);
}

render::Column credits_column(std::string id, std::string title) {
  render::Column c{std::move(id), std::move(title), Kind::decimal};
  c.people_digits = 2;
  return c;
}

// Ledger entries: one description for the table, CSV and JSON.
render::Table entries_table(const std::vector<Entry>& list) {
  render::Table t;
  t.id = "ledger";
  t.title = "Credit ledger";
  t.columns = {{"entry", "entry", Kind::integer},
               {"at", "time", Kind::text},
               {"organization", "organization", Kind::text},
               {"kind", "kind", Kind::text},
               credits_column("credits", "credits"),
               credits_column("balance", "balance"),
               {"actor", "actor", Kind::text},
               {"reference", "reference", Kind::text},
               {"reason", "reason", Kind::text},
               Column{"idempotency_key", "idempotency key", Kind::text}.in(Form::json),
               Column{"detail", "detail", Kind::json}.in(Form::json),
               Column{"hash", "hash", Kind::text}.in(Form::json)};
  for (const auto& e : list) {
    t.rows.push_back({Value::of_int(e.seq), Value::of_text(util::format_rfc3339(e.at)), Value::of_text(e.organization),
                      Value::of_text(e.kind), credits_value(e.credits), credits_value(e.balance), Value::of_text(e.actor),
                      Value::of_text(e.reference), Value::of_text(e.reason),
                      e.idempotency_key.empty() ? Value::none() : Value::of_text(e.idempotency_key),
                      Value::of_json(render::Json::parse(e.detail)), Value::of_text(e.hash)});
  }
  return t;
}

std::string entries_output(const std::vector<Entry>& list, Format f, Env& env, const std::string& kind, bool replayed) {
  const render::Table t = entries_table(list);
  if (f == Format::json && kind != "billctl.credits.ledger") {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = kind;
    j["replayed"] = replayed;
    j["entries"] = render::rows_json(t);
    return render::dump(j);
  }
  return table_output(t, f, env, kind, "entries", "No ledger entries.\n");
}

void emit_outcome(const credits::Outcome& out, const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (out.replayed) env.note("idempotency key '" + o.key + "' was used before: nothing changed, the original entries follow");
  env.emit(entries_output(out.entries, f, env, "billctl.credits.entries", out.replayed), o.output);
}

// The low-balance alert: once per organization and month, through the configured channels, or
// on stderr when there are none (recorded all the same).
void low_balance_alert(const credits::Ledger& ledger, const std::string& org, const Decimal& balance, Env& env) {
  const auto& cfg = ledger.config();
  if (!cfg.low_balance || !(balance < *cfg.low_balance)) return;
  const util::Period month = util::parse_period("this-month", env.now()).value_or_throw();
  const notify::Settings settings = env.notify_settings();
  const notify::Alert a = notify::low_balance_alert(org, balance, *cfg.low_balance, month.label, env.now());
  net::CurlHttpClient http;
  net::CurlMailSender mail;
  notify::NotifyContext ctx{env.usage(), env.alerts(), http, mail, settings, env.now(), false};
  size_t failed = 0;
  for (const auto& o : notify::send_low_balance(a, cfg.channels.empty() ? settings.default_channels : cfg.channels, ctx)) {
    if (o.channel == "stderr") {
      env.err << "billctl: warning: " << util::escape_controls(o.text) << "\n";
    } else if (!o.failed) {
      env.note("sent low-balance alert for '" + org + "' via " + o.channel);
    } else {
      env.err << "billctl: error: low-balance alert for '" << util::escape_controls(org) << "' via " << o.channel
              << " " << util::escape_controls(o.result) << "\n";
      ++failed;
    }
  }
  if (failed) throw PartialFailure(std::to_string(failed) + " low-balance alert(s) could not be sent; the next run retries them");
}

void run_balance(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto ledger = open_ledger(env);
  // Due bonus expiries are recorded first, so the balance shown is the one that can be spent.
  auto balances = ledger.balances();
  for (const auto& [org, b] : balances) {
    if (!o.organization.empty() && org != o.organization) continue;
    credits::Request r;
    r.organization = org;
    r.actor = env.actor(o.actor);
    r.now = env.now();
    if (!ledger.expire(r).entries.empty()) balances[org] = ledger.balance(org);
  }
  if (!o.organization.empty() && !balances.count(o.organization)) balances[o.organization] = Decimal();
  std::map<std::string, credits::TopupRule> rules;
  for (auto& r : ledger.topup_rules()) rules[r.organization] = r;
  const auto& cfg = ledger.config();
  render::Table t;
  t.id = "balances";
  t.title = "Credit balances";
  t.columns = {{"organization", "organization", Kind::text},
               credits_column("balance", "balance (credits)"),
               {"value", "value", Kind::money},
               {"auto_topup", "auto-topup", Kind::text}};
  t.currency = cfg.currency;
  for (const auto& [org, b] : balances) {
    if (!o.organization.empty() && org != o.organization) continue;
    // What an invoice would apply: the credits' value rounded down to the minor unit, as invoices do.
    const Decimal value = Decimal::from_units(money::div_round(b.units() * Decimal::k_one, cfg.rate.units(), money::Rounding::down))
                              .round(cfg.currency.minor_units, money::Rounding::down);
    auto rule = rules.find(org);
    const Value topup = rule == rules.end() ? Value::none()
                                            : Value::of_text("below " + credits_text(rule->second.threshold) + " buy " + rule->second.package +
                                                             " (at most " + std::to_string(rule->second.max_per_month) + "/month)");
    t.rows.push_back({Value::of_text(org), credits_value(b),
                      Value::of_money(value, cfg.currency.minor_units), topup});
  }
  std::string out;
  if (f == Format::table) out = t.rows.empty() ? "No credits yet. Buy a package with 'billctl credits buy PACKAGE --org NAME --reference REF'.\n"
                                               : render::to_text(t, env.style());
  else if (f == Format::csv) out = render::to_csv(t);
  else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.credits.balances";
    j["rate"] = {{"credits_per_unit", cfg.rate.to_string()}, {"currency", std::string(cfg.currency.name())}};
    j["balances"] = render::rows_json(t);
    out = render::dump(j);
  }
  env.emit(out, o.output);
}

void run_packages(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const auto cfg = credits::parse_config(env.config_table("credits"), env.config_path());
  const unsigned pc = Form::people | Form::csv;
  render::Table t;
  t.id = "packages";
  t.title = "Credit packages";
  t.columns = {{"package", "package", Kind::text},
               credits_column("credits", "credits"),
               credits_column("bonus", "bonus"),
               credits_column("total", "total credits"),
               Column{"price", "price", Kind::text}.in(pc),
               Column{"price", "price", Kind::amount}.in(Form::json),
               Column{"cost_per_credit", "cost per credit", Kind::text}.in(pc),
               Column{"cost_per_credit", "cost per credit", Kind::decimal}.in(Form::json),
               Column{"bonus_expires_days", "bonus expires", Kind::text}.in(pc),
               Column{"bonus_expires_days", "bonus expires", Kind::integer}.in(Form::json)};
  for (const auto& p : cfg.packages) {
    const int digits = p.price.currency.minor_units + 4;
    const std::string cur(p.price.currency.name());
    t.rows.push_back({Value::of_text(p.name), credits_value(p.credits), credits_value(p.bonus), credits_value(p.total()),
                      Value::of_text(p.price.amount.format(p.price.currency.minor_units) + " " + cur),
                      Value::of_amount(p.price.amount, p.price.currency.minor_units, cur),
                      Value::of_text(p.cost_per_credit().round(digits).format(digits, false) + " " + cur),
                      credits_value(p.cost_per_credit()),
                      Value::of_text(p.bonus_expires_days && !p.bonus.is_zero() ? std::to_string(p.bonus_expires_days) + " days" : "-"),
                      Value::of_int(p.bonus_expires_days)});
  }
  env.emit(table_output(t, f, env, "billctl.credits.packages", "packages", "No credit packages.\n"), o.output);
}

void run_buy(const Options& o, Env& env) {
  need_org(o, "buy");
  auto ledger = open_ledger(env);
  const auto out = ledger.buy(request(o, env), o.package);
  if (!out.replayed) {
    const Entry& e = out.entries.back();
    env.note("bought " + o.package + " for '" + e.organization + "': +" + credits_text(e.credits) + " credits, balance " +
             credits_text(e.balance));
  }
  emit_outcome(out, o, env);
}

void run_adjust(const Options& o, Env& env) {
  need_org(o, "adjust");
  if (o.amount.empty()) throw UsageError("credits adjust needs --credits N (negative to take credits away)");
  auto ledger = open_ledger(env);
  emit_outcome(ledger.adjust(request(o, env), parse_credits(o.amount, "--credits")), o, env);
}

void run_refund(const Options& o, Env& env) {
  auto ledger = open_ledger(env);
  std::optional<Decimal> n;
  if (!o.amount.empty()) n = parse_credits(o.amount, "--credits");
  emit_outcome(ledger.refund(request(o, env), o.entry, n), o, env);
}

void run_deduct(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (o.organization.empty() == !o.all) throw UsageError("credits deduct needs --org NAME or --all");
  const util::Period p = period_of(o.period, o.since, o.until, env);
  auto ledger = open_ledger(env);
  // The bar's length: the period's records, from the store's rollups (an organization's share
  // only when one is named).
  auto progress = env.progress("charging");
  progress->set_units(false, "", "records");
  uint64_t total = 0;
  if (env.err_tty && !env.quiet()) {
    usage::AggQuery q;
    q.begin = p.begin;
    q.end = p.end;
    if (!o.all) q.where.push_back({usage::Dim::organization, {o.organization}});
    total = uint64_t(env.usage().aggregate({q}).front().total().records);
  }
  ledger.on_progress([&](uint64_t records) { progress->update(records, total); });
  const std::vector<credits::DeductResult> results =
      ledger.deduct(request(o, env), o.all ? std::vector<std::string>{} : std::vector<std::string>{o.organization}, p.begin, p.end,
                    p.label);
  progress->clear();
  render::Table t;
  t.id = "deductions";
  t.title = "Credit deductions " + p.label;
  t.columns = {{"organization", "organization", Kind::text}, {"charged", "records charged", Kind::integer},
               {"corrected", "corrected", Kind::integer},    {"skipped", "skipped", Kind::integer},
               credits_column("credits", "credits"),          credits_column("balance", "balance")};
  std::vector<Entry> entries;
  for (const auto& r : results) {
    Decimal moved;
    for (const auto& e : r.outcome.entries)
      if (e.kind == "usage" || e.kind == "correction") moved += e.credits;
    t.rows.push_back({Value::of_text(r.organization), Value::of_int(r.charged_records), Value::of_int(r.corrected_records),
                      Value::of_int(r.skipped_records), credits_value(moved), credits_value(r.balance)});
    entries.insert(entries.end(), r.outcome.entries.begin(), r.outcome.entries.end());
    if (!r.skipped_meters.empty()) {
      std::string m;
      for (const auto& x : r.skipped_meters) m += (m.empty() ? "" : ", ") + x;
      env.note("'" + r.organization + "': no credit rate for the meter(s) " + m + " (set [credits.meter_rates]); those records were not charged");
    }
  }
  std::string out;
  if (f == Format::table) {
    out = results.empty() ? "No usage to charge in " + p.label + ".\n" : render::to_text(t, env.style());
    if (!entries.empty()) out += "\n" + render::to_text(entries_table(entries), env.style());
  } else if (f == Format::csv) {
    out = render::to_csv(t);
  } else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.credits.deduct";
    j["period"] = {{"label", p.label}, {"start", util::format_rfc3339(p.begin)}, {"end", util::format_rfc3339(p.end)}};
    j["organizations"] = render::rows_json(t);
    j["entries"] = render::rows_json(entries_table(entries));
    out = render::dump(j);
  }
  env.emit(out, o.output);
  for (const auto& r : results) low_balance_alert(ledger, r.organization, r.balance, env);
}

void run_ledger(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto ledger = open_ledger(env);
  credits::LedgerFilter filter;
  filter.organization = o.organization;
  if (!o.period.empty() || !o.since.empty() || !o.until.empty()) filter.period = period_of(o.period, o.since, o.until, env);
  if (!o.kind.empty() && !credits::find_kind(o.kind))
    throw UsageError("invalid --kind '" + o.kind + "': expected purchase, usage, correction, refund, adjustment, expiry, topup or invoice");
  filter.kind = o.kind;
  filter.actor = o.actor;
  const auto list = ledger.entries(filter);
  if (!o.summary) {
    env.emit(entries_output(list, f, env, "billctl.credits.ledger", false), o.output);
    return;
  }
  render::Table t;
  t.id = "ledger_summary";
  t.title = "Credit ledger by month and type";
  t.columns = {{"month", "month", Kind::text}, {"organization", "organization", Kind::text}, {"type", "type", Kind::text},
               {"entries", "entries", Kind::integer}, credits_column("credits", "credits")};
  for (const auto& r : credits::summarize(list))
    t.rows.push_back({Value::of_text(r.month), Value::of_text(r.organization), Value::of_text(r.type), Value::of_int(r.entries),
                      credits_value(r.credits)});
  env.emit(table_output(t, f, env, "billctl.credits.ledger_summary", "rows", "No ledger entries.\n"), o.output);
}

void run_verify(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto ledger = open_ledger(env);
  const auto v = ledger.verify();
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.credits.verify";
    j["ok"] = v.ok;
    j["entries"] = v.entries;
    if (v.ok) {
      j["head"] = v.head;
      render::Json b = render::Json::object();
      for (const auto& [org, bal] : v.balances) b[org] = bal.to_string();
      j["balances"] = b;
    } else {
      j["bad_entry"] = v.bad_seq;
      j["problem"] = v.problem;
    }
    out = render::dump(j);
  } else if (v.ok) {
    out = "ok: " + std::to_string(v.entries) + " ledger entries, hash chain intact" +
          (v.head.empty() ? std::string() : ", head " + v.head) + "\n";
    for (const auto& [org, bal] : v.balances) out += "  " + org + ": " + credits_text(bal) + " credits\n";
  } else {
    out = "FAILED at entry #" + std::to_string(v.bad_seq) + ": " + v.problem + "\n";
  }
  env.emit(out, o.output);
  if (!v.ok) throw CheckFailed("credit ledger verification failed: " + v.problem);
}

void run_topup(const Options& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto ledger = open_ledger(env);
  if (o.off) {
    need_org(o, "topup --off");
    if (!ledger.remove_topup_rule(o.organization)) throw DataError("'" + o.organization + "' has no auto-topup rule");
    env.note("removed the auto-topup rule of '" + o.organization + "'");
  } else if (!o.below.empty() || !o.package.empty()) {
    need_org(o, "topup");
    if (o.below.empty() || o.package.empty()) throw UsageError("credits topup needs both --below CREDITS and --package NAME");
    credits::TopupRule rule{o.organization, parse_credits(o.below, "--below"), o.package, o.max_per_month};
    if (rule.threshold.negative()) throw UsageError("invalid --below '" + o.below + "': must not be negative");
    ledger.set_topup_rule(rule, env.now());
    env.note("auto-topup for '" + o.organization + "': below " + credits_text(rule.threshold) + " credits buy " + rule.package +
             ", at most " + std::to_string(rule.max_per_month) + " times a month");
  }
  render::Table t;
  t.id = "topup_rules";
  t.title = "Auto-topup rules";
  t.columns = {{"organization", "organization", Kind::text}, credits_column("below", "below (credits)"),
               {"package", "package", Kind::text}, {"max_per_month", "at most per month", Kind::integer}};
  for (const auto& r : ledger.topup_rules())
    if (o.organization.empty() || r.organization == o.organization)
      t.rows.push_back({Value::of_text(r.organization), credits_value(r.threshold), Value::of_text(r.package),
                        Value::of_int(r.max_per_month)});
  env.emit(table_output(t, f, env, "billctl.credits.topup_rules", "rules", "No auto-topup rules.\n"), o.output);
}

void mutation_flags(CLI::App* c, Options& o) {
  c->add_option("--actor", o.actor, "Who does this (default: config [credits] actor, else the OS user)")->type_name("NAME");
  c->add_option("--idempotency-key", o.key, "A repeat with the same key changes nothing and prints the original entry")->type_name("KEY");
  add_output_options(c, o.format, o.output);
}

}  // namespace

void add_credits(CLI::App& root, CommandTable& table) {
  CLI::App* cr = root.add_subcommand("credits", "Prepaid credits: packages, balance, an append-only hash-chained ledger");
  cr->require_subcommand(1);
  std::shared_ptr<Options> o;

  CLI::App* c = add_verb(cr, table, "balance", "Credit balance per organization (records due bonus expiries first)", run_balance, o);
  c->add_option("--org", o->organization, "Only this organization")->type_name("NAME");
  add_output_options(c, o->format, o->output);

  c = add_verb(cr, table, "packages", "Credit packages with bonus and effective cost per credit", run_packages, o);
  add_output_options(c, o->format, o->output);

  c = add_verb(cr, table, "buy", "Buy a package: adds its credits and bonus", run_buy, o);
  c->add_option("package", o->package, "Package name (see 'credits packages')")->required()->type_name("PACKAGE");
  c->add_option("--org", o->organization, "The organization")->type_name("NAME");
  c->add_option("--reference", o->reference, "The payment reference (required)")->type_name("REF");
  mutation_flags(c, *o);

  c = add_verb(cr, table, "deduct", "Charge imported usage to the balance, once per usage record", run_deduct, o);
  c->add_option("--org", o->organization, "The organization")->type_name("NAME");
  c->add_flag("--all", o->all, "Every organization with usage in the period");
  add_since_until(c, c->add_option("--period", o->period, "Usage period (default this-month)")->type_name("PERIOD"), o->since, o->until);
  c->add_option("--reference", o->reference, "Reference of the entries (default \"usage PERIOD\")")->type_name("REF");
  mutation_flags(c, *o);
  o->period = "this-month";

  c = add_verb(cr, table, "refund", "Refund credits of a purchase (never more than was bought)", run_refund, o);
  c->add_option("entry", o->entry, "The purchase's ledger entry number")->required()->type_name("ENTRY");
  c->add_option("--credits", o->amount, "Credits to refund (default: all that is left of the purchase)")->type_name("N");
  c->add_option("--reference", o->reference, "The refund's payment reference (required)")->type_name("REF");
  c->add_option("--reason", o->reason, "Why")->type_name("TEXT");
  mutation_flags(c, *o);

  c = add_verb(cr, table, "adjust", "Add or take away credits by hand, with a reason", run_adjust, o);
  c->add_option("--org", o->organization, "The organization")->type_name("NAME");
  c->add_option("--credits", o->amount, "Credits to add (negative: to take away)")->type_name("N");
  c->add_option("--reason", o->reason, "Why (required)")->type_name("TEXT");
  c->add_option("--reference", o->reference, "A ticket or document reference")->type_name("REF");
  c->add_flag("--allow-negative", o->allow_negative, "Allow the adjustment to take the balance below zero");
  c->add_flag("--new-org", o->new_org, "The organization is new: open its ledger (else a name never seen is refused)");
  mutation_flags(c, *o);

  c = add_verb(cr, table, "ledger", "The ledger entries, or a monthly summary by usage type", run_ledger, o);
  c->add_option("--org", o->organization, "Only this organization")->type_name("NAME");
  add_since_until(c, c->add_option("--period", o->period, "Only entries made in this period")->type_name("PERIOD"), o->since,
                  o->until);
  c->add_option("--kind", o->kind, "Only this kind: purchase, usage, correction, refund, adjustment, expiry, topup, invoice")
      ->type_name("KIND");
  c->add_option("--actor", o->actor, "Only entries made by this actor")->type_name("NAME");
  c->add_flag("--summary", o->summary, "Monthly totals by organization and usage type");
  add_output_options(c, o->format, o->output);

  c = add_verb(cr, table, "verify", "Recompute the hash chain and the balances; exit 3 naming the first bad entry", run_verify, o);
  c->add_option("--format", o->format, "Output format: table or json")->type_name("FORMAT");

  c = add_verb(cr, table, "topup", "Show or set the auto-topup rule (below a threshold, buy a package)", run_topup, o);
  c->add_option("--org", o->organization, "The organization")->type_name("NAME");
  c->add_option("--below", o->below, "Buy when the balance falls below this many credits")->type_name("CREDITS");
  c->add_option("--package", o->package, "The package to buy")->type_name("PACKAGE");
  c->add_option("--max-per-month", o->max_per_month, "At most this many auto-topups a month (default 1)")->type_name("N")->check(whole_number(1, 1000));
  c->add_flag("--off", o->off, "Remove the organization's rule");
  add_output_options(c, o->format, o->output);
}

}  // namespace billctl::cmd
