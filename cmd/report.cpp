// billctl report: the monthly summary, from the store or straight from export files.
#include <memory>

#include "billctl/render/json.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/report/reconcile.hpp"
#include "billctl/report/templates.hpp"
#include "billctl/report/xlsx.hpp"
#include "billctl/report/focus.hpp"
#include "billctl/report/pdf.hpp"
#include "billctl/report/recommendations.hpp"
#include "billctl/store/file_source.hpp"
#include "commands.hpp"
#include "report.hpp"

namespace billctl::cmd {

namespace {

struct RecommendOptions {
  std::string period = "last-month";
  std::string since, until;
  std::vector<std::string> where;
  std::string min_saving = "1";
  std::string format = "table";
  std::string output;
};

money::Decimal parse_min_saving(const std::string& text) {
  const money::Decimal min = money::Decimal::parse(text).flag_value("--min-saving", text);
  if (min.negative()) throw UsageError("invalid --min-saving '" + text + "': expected an amount of 0 or more");
  return min;
}

// The recommendations: one description for the table, the CSV (evidence in one cell) and the
// JSON items (their own document, or a section of the report's).
render::Table recommendations_table(const report::Recommendations& r, const util::Period& p) {
  using render::Column;
  using render::Form;
  using render::Kind;
  using render::Value;
  const unsigned pc = Form::people | Form::csv;
  const int digits = r.currency.minor_units;
  render::Table t;
  t.id = "recommendations";
  t.title = "Recommendations for " + p.label + ": savings over the period, at list prices";
  t.currency = r.currency;
  t.json_money_text = true;
  t.columns = {Column{"rank", "#", Kind::integer}.in(pc),
               Column{"kind", "kind", Kind::text}.in(Form::json),
               Column{"title", "recommendation", Kind::text}.in(Form::json),
               Column{"difficulty", "difficulty", Kind::text}.in(Form::json),
               {"saving", "saving", Kind::money},
               Column{"difficulty", "difficulty", Kind::text}.in(pc),
               Column{"kind", "kind", Kind::text}.in(pc),
               Column{"title", "recommendation", Kind::text}.in(pc),
               Column{"current", "current", Kind::money}.in(Form::json),
               Column{"evidence", "evidence", Kind::text}.in(Form::csv),
               Column{"evidence", "evidence", Kind::json}.in(Form::json)};
  for (size_t i = 0; i < r.items.size(); ++i) {
    const auto& x = r.items[i];
    std::string ev;
    render::Json evj = render::Json::object();
    for (const auto& [k, v] : x.evidence) {
      ev += (ev.empty() ? "" : "; ") + k + ": " + v;
      evj[k] = v;
    }
    t.rows.push_back({Value::of_int(int64_t(i + 1)), Value::of_text(x.kind), Value::of_text(x.title), Value::of_text(x.difficulty),
                      Value::of_money(x.saving, digits), Value::of_text(x.difficulty), Value::of_text(x.kind), Value::of_text(x.title),
                      Value::of_money(x.current, digits), Value::of_text(ev), Value::of_json(std::move(evj))});
  }
  return t;
}

std::string recommendations_output(const report::Recommendations& r, const util::Period& p, const money::Decimal& min, Format f, Env& env) {
  const int digits = r.currency.minor_units;
  const std::string cur(r.currency.name());
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.report.recommendations";
    j["period"] = {{"label", p.label}, {"start", util::format_rfc3339(p.begin)}, {"end", util::format_rfc3339(p.end)}};
    j["currency"] = cur;
    j["min_saving"] = min.format(digits, false);
    j["assumed_cache_hit_pct"] = report::k_assumed_hit_pct;
    j["total_saving"] = r.total_saving.format(digits, false);
    j["recommendations"] = render::rows_json(recommendations_table(r, p));
    out = render::dump(j);
  } else {
    const render::Table t = recommendations_table(r, p);
    if (f == Format::csv) {
      out = render::to_csv(t);
    } else if (r.items.empty()) {
      out = "No recommendation for " + p.label + " saves " + min.format(digits, true) + " " + cur + " or more.\n";
    } else {
      out = render::to_text(t, env.style()) + "\nEvidence\n";
      for (size_t i = 0; i < r.items.size(); ++i) {
        out += "  " + std::to_string(i + 1) + ". " + r.items[i].title + "\n";
        for (const auto& [k, v] : r.items[i].evidence) out += "       " + k + ": " + v + "\n";
      }
      out += "\nSavings of different kinds can overlap (a request moved to a cheaper model saves less from caching).\n";
    }
  }
  return out;
}

void run_recommendations(const RecommendOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const util::Period p = period_of(o.period, o.since, o.until, env);
  auto where = usage::parse_filters(o.where);
  normalise_filters(where, env.catalog());
  const money::Decimal min = parse_min_saving(o.min_saving);
  const report::Recommendations r = report::recommend(env.usage(), env.catalog(), p, where, min);
  env.emit(recommendations_output(r, p, min, f, env), o.output);
}

// ---- reconcile ----------------------------------------------------------------------------------

struct ReconcileOptions {
  std::string period = "last-month";
  std::string since, until;
  std::string provider;
  std::string by = "model";
  std::string tolerance = "1%";
  std::string fail_above;
  std::string format = "table";
  std::string output;
};

// "1%", "1", "0.5 %": a percentage of 0 or more.
money::Decimal parse_pct(const std::string& text, const std::string& flag) {
  std::string t = text;
  while (!t.empty() && (t.back() == '%' || t.back() == ' ')) t.pop_back();
  const money::Decimal d = money::Decimal::parse(t).flag_value(flag, text);
  if (d.negative()) throw UsageError("invalid " + flag + " '" + text + "': expected a percentage of 0 or more");
  return d;
}

std::string pct_text(const std::optional<money::Decimal>& p) {
  if (!p) return "";
  return p->round(1).to_string(1);
}

void run_reconcile(const ReconcileOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const util::Period p = period_of(o.period, o.since, o.until, env, 86400);  // providers bill by the day
  report::ReconcileQuery q;
  q.period = p;
  if (!o.provider.empty()) {
    if (!providers::parse_provider(o.provider))
      throw UsageError("invalid --provider '" + o.provider + "': expected openai or anthropic");
    q.providers = {o.provider};
  }
  if (!o.by.empty()) q.by = usage::parse_dims(o.by, "--by");
  q.tolerance_pct = parse_pct(o.tolerance, "--tolerance");
  std::optional<money::Decimal> fail_above;
  if (!o.fail_above.empty()) fail_above = parse_pct(o.fail_above, "--fail-above");
  const report::Reconciliation r = report::reconcile(q, env.usage(), env.pulls(), env.catalog());

  // One description for the table, the CSV and the JSON rows. People read amounts at the minor
  // unit; CSV has every digit, JSON the exact decimal text.
  using render::Column;
  using render::Form;
  using render::Kind;
  using render::Value;
  const unsigned pc = Form::people | Form::csv;
  render::Table t;
  t.id = "reconcile";
  t.title = "Reconciliation " + p.label + " (tolerance " + q.tolerance_pct.to_string() + " %)";
  t.currency = r.currency;
  const int digits = r.currency.minor_units;
  t.columns = {{"provider", "provider", Kind::text}};
  for (usage::Dim d : q.by) t.columns.push_back(Column{std::string(usage::dim_name(d)), std::string(usage::dim_name(d)), Kind::text}.in(pc));
  for (usage::Dim d : q.by) t.columns.push_back(Column{std::string(usage::dim_name(d)), std::string(usage::dim_name(d)), Kind::text}.in(Form::json));
  for (const char* id : {"computed", "billed", "variance"}) {
    Column c{id, id, Kind::money, true, 0, pc};
    c.people_digits = digits;
    t.columns.push_back(c);
    t.columns.push_back(Column{id, id, Kind::text}.in(Form::json));
  }
  t.columns.push_back(Column{"variance_pct", "variance %", Kind::text}.in(pc));
  t.columns.push_back(Column{"variance_pct", "variance %", Kind::text}.in(Form::json));
  t.columns.push_back(Column{"unpriced_records", "unpriced records", Kind::integer}.in(Form::json));
  t.columns.push_back({"status", "status", Kind::text});
  t.columns.push_back(Column{"cause", "likely cause", Kind::text}.in(pc));
  t.columns.push_back(Column{"cause", "likely cause", Kind::text}.in(Form::json));
  for (const auto& row : r.rows) {
    std::vector<Value> v = {Value::of_text(row.provider)};
    for (size_t i = 0; i < row.keys.size(); ++i)
      v.push_back(Value::of_text(row.keys[i].empty() && q.by[i] == usage::Dim::model ? "(no model)" : row.keys[i]));
    for (const auto& k : row.keys) v.push_back(Value::of_text(k));
    for (const money::Decimal& d : {row.computed, row.billed, row.variance}) {
      v.push_back(Value::of_money(d, 12));
      v.push_back(Value::of_text(d.to_string()));
    }
    v.push_back(row.pct ? Value::of_text(pct_text(row.pct)) : Value::none());
    v.push_back(row.pct ? Value::of_text(row.pct->round(4).to_string()) : Value::none());
    v.push_back(Value::of_int(row.unpriced_records));
    v.push_back(Value::of_text(!row.flagged ? "ok" : row.variance.negative() ? "under" : "over"));
    v.push_back(Value::of_text(row.cause));
    v.push_back(row.cause.empty() ? Value::none() : Value::of_text(row.cause));
    t.rows.push_back(std::move(v));
  }
  bool failed = false;
  std::string gate;
  for (const auto& tot : r.totals)
    if (fail_above && (tot.pct ? (tot.pct->negative() ? -*tot.pct : *tot.pct) > *fail_above : !tot.variance.is_zero())) {
      failed = true;
      gate += (gate.empty() ? "" : "; ") + tot.provider + " computed " + tot.computed.format(digits, false) + " vs billed " +
              tot.billed.format(digits, false) + " (" + (tot.pct ? pct_text(tot.pct) + " %" : std::string("nothing billed")) + ")";
    }
  std::string out;
  if (f == Format::table) {
    out = r.rows.empty() ? "Nothing to reconcile in " + p.label + ": no provider usage or billed cost (run 'billctl usage pull').\n"
                         : render::to_text(t, env.style());
    for (const auto& tot : r.totals) {
      out += tot.provider + ": computed " + tot.computed.format(digits) + " " + std::string(r.currency.name()) + ", billed " +
             tot.billed.format(digits) + " " + std::string(r.currency.name()) + ", variance " + tot.variance.format(digits) +
             (tot.pct ? " (" + pct_text(tot.pct) + " %)" : std::string());
      if (tot.provisional_days) out += "; " + std::to_string(tot.provisional_days) + " provisional days";
      out += "\n";
    }
  } else if (f == Format::csv) {
    out = render::to_csv(t);
  } else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.report.reconcile";
    j["period"] = {{"label", p.label}, {"from", util::format_rfc3339(p.begin)}, {"to", util::format_rfc3339(p.end)}};
    j["currency"] = std::string(r.currency.name());
    j["tolerance_pct"] = q.tolerance_pct.to_string();
    j["fail_above_pct"] = fail_above ? render::Json(fail_above->to_string()) : render::Json(nullptr);
    j["by"] = render::Json::array();
    for (usage::Dim d : q.by) j["by"].push_back(std::string(usage::dim_name(d)));
    j["catalog"] = {{"name", env.catalog().info().name}, {"sha256", env.catalog().info().hash}, {"as_of", env.catalog().info().as_of}};
    j["rows"] = render::rows_json(t);
    render::Json totals = render::Json::array();
    for (const auto& tot : r.totals)
      totals.push_back({{"provider", tot.provider}, {"computed", tot.computed.to_string()}, {"billed", tot.billed.to_string()},
                        {"variance", tot.variance.to_string()},
                        {"variance_pct", tot.pct ? render::Json(tot.pct->round(4).to_string()) : render::Json(nullptr)},
                        {"provisional_days", tot.provisional_days}});
    j["totals"] = std::move(totals);
    j["failed"] = failed;
    out = render::dump(j);
  }
  env.emit(out, o.output);
  if (failed) throw CheckFailed("reconcile: variance above " + fail_above->to_string() + " %: " + gate);
}

// The period's cost by day and department (the workbook's stacked chart).
usage::AggResult daily_by_department(usage::Source& source, const util::Period& p, const std::vector<usage::Filter>& where) {
  usage::AggQuery q{p.begin, p.end, where, {usage::Dim::day, usage::Dim::department}};
  q.tokens_only = true;
  return source.aggregate({q})[0];
}

}  // namespace

std::string report_document(const ReportOptions& o, Env& env, report::MonthlyReport* built, uint64_t& rejected) {
  const bool pdf = o.format == "pdf", xlsx = o.format == "xlsx" || pdf, focus = o.format == "focus";
  if (xlsx && o.output.empty() && env.out_tty)
    throw UsageError("--format " + o.format + " writes a binary file: give -o FILE." + o.format + " (or pipe it)");
  if ((xlsx || focus) && o.recommendations) throw UsageError("--recommendations is for table and json output");
  if (!report::is_report_format(o.format))
    throw UsageError("invalid --format '" + o.format + "': expected " + report::k_report_formats);
  if ((o.limit >= 0 || o.all) && o.format != "table")
    throw UsageError(std::string(o.all ? "--all" : "--limit") + " is for --format table (csv, json and the files hold every row)");
  const Format f = xlsx || focus ? Format::csv : parse_output_format(o.format);
  if (o.recommendations && f == Format::csv)
    throw UsageError("--recommendations is for table and json output (CSV: 'billctl report recommendations --format csv')");
  if (o.recommendations && !o.input.files.empty()) throw UsageError("--recommendations reads the store; it cannot be used with --input");
  input_ingest_options(o.input);  // a bad value is refused with the store too
  env.set_prices_file(o.input.prices);
  const util::Period p = period_of(o.period, o.since, o.until, env);
  auto where = usage::parse_filters(o.where);
  // A report that takes more than a second says what it is doing: reading files (a bar), or its
  // steps. The line is gone before the report is written.
  auto progress = env.progress("reading");
  progress->set_units(true, "records");
  report::MonthlyReport r;
  rejected = 0;
  usage::AggResult by_day_department;
  report::ReportPack pack;  // what PDF and Excel add: forecast, budgets, drivers, chargeback, ROI
  if (!o.input.files.empty()) {
    normalise_filters(where, env.catalog_for_files());
    // Each pass over the files (the report, and for PDF and Excel the pack) shows its progress.
    auto source = open_inputs(o.input, env, [&](uint64_t bytes, uint64_t total, uint64_t rows) {
      progress->update(bytes, total, rows);
    });
    store::FileUsageSource& files = *source;
    r = report::build_monthly_report(files, p, where, env.now());
    if (r.total.records == 0) {
      progress->clear();
      hint_unmatched(env, files, p, where);
    }
    rejected = files.rejected();
    if (xlsx) by_day_department = daily_by_department(files, p, where);
    // The report is of the files: the store's budgets are not theirs.
    if (xlsx) pack = report::build_pack(files, r, {}, env.now());
    if (focus) return report::focus_csv(files, env.catalog_for_files(), p, where);
  } else {
    normalise_filters(where, env.catalog());
    progress->step("adding up the usage of " + p.label);
    r = report::build_monthly_report(env.usage(), p, where, env.now());
    if (r.total.records == 0) {
      progress->clear();  // the note goes to the same terminal
      hint_unmatched(env, env.usage(), p, where);
    }
    if (xlsx) by_day_department = daily_by_department(env.usage(), p, where);
    if (xlsx) progress->step("the forecast, budgets, drivers and chargeback");
    if (xlsx) pack = report::build_pack(env.usage(), r, env.budgets().list_budgets(), env.now());
    if (focus) {
      if (built) *built = std::move(r);
      return report::focus_csv(env.usage(), env.catalog(), p, where);
    }
  }
  if (xlsx) {
    std::string out;
    progress->step(pdf ? "drawing the PDF" : "writing the workbook");
    if (pdf) {
      out = report::report_pdf(r, by_day_department, pack, render::PdfFonts{});
    } else {
      out = report::report_xlsx(r, by_day_department, pack);
    }
    if (built) *built = std::move(r);
    return out;
  }
  const report::OutputFormat of = f == Format::table ? report::OutputFormat::table
                                  : f == Format::csv ? report::OutputFormat::csv
                                                     : report::OutputFormat::json;
  // On a terminal the breakdowns show their top rows; piped, written or --all, every row.
  const size_t rows = o.all ? 0 : o.limit >= 0 ? size_t(o.limit) : env.out_tty && o.output.empty() ? 10 : 0;
  std::string out = report::render_report(r, of, env.style(), rows);
  if (o.recommendations) {
    // A section of the report: the same recommendations as 'report recommendations'.
    const money::Decimal min = parse_min_saving(o.min_saving);
    const report::Recommendations rec =
        o.input.files.empty() ? report::recommend(env.usage(), env.catalog(), p, where, min) : report::Recommendations{};
    if (f == Format::json) {
      render::Json j = render::Json::parse(out);
      j["recommendations"] = render::rows_json(recommendations_table(rec, p));
      out = render::dump(j);
    } else {
      out += "\n" + recommendations_output(rec, p, min, Format::table, env);
    }
  }
  if (built) *built = std::move(r);
  return out;
}

namespace {

void run_report(const ReportOptions& o, Env& env) {
  uint64_t rejected = 0;
  env.emit(report_document(o, env, nullptr, rejected), o.output);
  if (rejected > 0) throw PartialFailure(std::to_string(rejected) + " input rows rejected and left out of the report");
}

}  // namespace

void add_report(CLI::App& root, CommandTable& table) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* rep = root.add_subcommand("report", "The monthly report: totals, change, breakdowns, top consumers, trend");
  // The verb first: the command table runs the first parsed command.
  std::shared_ptr<RecommendOptions> ro;
  CLI::App* rec = add_verb(rep, table, "recommendations", "What the period's usage would cost done differently, with savings and evidence",
                           &run_recommendations, ro);
  add_since_until(rec, rec->add_option("--period", ro->period, "Period (default last-month)")->type_name("PERIOD"), ro->since,
                  ro->until);
  rec->add_option("--where", ro->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  rec->add_option("--min-saving", ro->min_saving, "Leave out recommendations that save less (default 1)")->type_name("AMOUNT");
  add_output_options(rec, ro->format, ro->output);
  add_report_templates(rep, table);
  std::shared_ptr<ReconcileOptions> co;
  CLI::App* rc = add_verb(rep, table, "reconcile", "billctl's computed cost beside what the providers billed, with variances and likely causes",
                          &run_reconcile, co);
  add_since_until(rc, rc->add_option("--period", co->period, "Period (default last-month)")->type_name("PERIOD"), co->since,
                  co->until);
  rc->add_option("--provider", co->provider, "Only this provider: openai or anthropic")->type_name("NAME");
  rc->add_option("--by", co->by, "Break down by DIMS: day, model, project (default model)")->type_name("DIMS");
  rc->add_option("--tolerance", co->tolerance, "Flag rows whose variance is above PCT of the billed cost (default 1%)")->type_name("PCT");
  rc->add_option("--fail-above", co->fail_above, "Exit 3 when a provider's total variance is above PCT (CI gate)")->type_name("PCT");
  add_output_options(rc, co->format, co->output);
  CLI::Option* period =
      rep->add_option("--period", o->period, "Period (default last-month): 2026-10, 2026-10-05, 2026-Q3, 2026, FROM..TO, this-month, last-month, today, yesterday, mtd, ytd, this-week, last-week, 7d")
          ->type_name("PERIOD");
  add_since_until(rep, period, o->since, o->until);
  rep->add_option("--where", o->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  add_input_options(rep, o->input, "Report straight from export files instead of the store");
  rep->add_flag("--recommendations", o->recommendations, "Add the recommendations section (table and JSON; reads the store)");
  rep->add_option("--min-saving", o->min_saving, "With --recommendations: leave out those that save less (default 1)")->type_name("AMOUNT");
  rep->add_option("--format", o->format, "Output format: table, csv, json, pdf or xlsx (with -o FILE), or focus (FinOps FOCUS 1.2 CSV)")->type_name("FORMAT");
  rep->add_option("-o,--output", o->output, "Write the output to FILE (atomically) instead of stdout")->type_name("FILE");
  CLI::Option* limit = rep->add_option("--limit", o->limit, "Table: the top N rows of each breakdown (default 10 on a terminal, all when piped)")
                           ->type_name("N")
                           ->check(whole_number(1, 1000000));
  rep->add_flag("--all", o->all, "Table: every row of each breakdown, also on a terminal")->excludes(limit);
  table.push_back({rep, [o](Env& env) { run_report(*o, env); }});
}

}  // namespace billctl::cmd
