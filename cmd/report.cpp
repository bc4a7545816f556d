// billctl report: the monthly summary, from the store or straight from export files.
#include <memory>

#include "billctl/render/json.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/report/recommendations.hpp"
#include "billctl/store/file_source.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

struct ReportOptions {
  std::string period = "last-month";
  std::vector<std::string> where;
  std::vector<std::string> inputs;
  std::string input_format = "auto";
  std::string on_error = "fail";
  bool allow_unpriced = false;
  std::string format = "table";
  std::string output;
  std::string prices;
  bool recommendations = false;
  std::string min_saving = "1";
};

struct RecommendOptions {
  std::string period = "last-month";
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

// The recommendations as JSON items (their own document, or a section of the report's).
render::Json recommendations_json(const report::Recommendations& r) {
  const int digits = r.currency.minor_units;
  render::Json a = render::Json::array();
  for (const auto& x : r.items) {
    render::Json ev = render::Json::object();
    for (const auto& [k, v] : x.evidence) ev[k] = v;
    a.push_back({{"kind", x.kind}, {"title", x.title}, {"difficulty", x.difficulty}, {"saving", x.saving.format(digits, false)},
                 {"current", x.current.format(digits, false)}, {"evidence", ev}});
  }
  return a;
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
    j["recommendations"] = recommendations_json(r);
    out = render::dump(j);
  } else {
    render::Table t;
    t.id = "recommendations";
    t.title = "Recommendations for " + p.label + ": savings over the period, at list prices";
    t.currency = r.currency;
    t.columns = {{"rank", "#", render::Kind::integer}, {"saving", "saving", render::Kind::money},
                 {"difficulty", "difficulty", render::Kind::text}, {"kind", "kind", render::Kind::text},
                 {"title", "recommendation", render::Kind::text}};
    if (f == Format::csv) t.columns.push_back({"evidence", "evidence", render::Kind::text});
    for (size_t i = 0; i < r.items.size(); ++i) {
      const auto& x = r.items[i];
      std::vector<render::Value> row{render::Value::of_int(int64_t(i + 1)), render::Value::of_money(x.saving, digits),
                                     render::Value::of_text(x.difficulty), render::Value::of_text(x.kind), render::Value::of_text(x.title)};
      if (f == Format::csv) {
        std::string ev;
        for (const auto& [k, v] : x.evidence) ev += (ev.empty() ? "" : "; ") + k + ": " + v;
        row.push_back(render::Value::of_text(ev));
      }
      t.rows.push_back(std::move(row));
    }
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
  const util::Period p = util::parse_period(o.period, env.now()).flag_value("--period", o.period);
  auto where = usage::parse_filters(o.where);
  normalise_filters(where, env.catalog());
  const money::Decimal min = parse_min_saving(o.min_saving);
  const report::Recommendations r = report::recommend(env.usage(), env.catalog(), p, where, min);
  env.emit(recommendations_output(r, p, min, f, env), o.output);
}

void run_report(const ReportOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (o.recommendations && f == Format::csv)
    throw UsageError("--recommendations is for table and json output (CSV: 'billctl report recommendations --format csv')");
  if (o.recommendations && !o.inputs.empty()) throw UsageError("--recommendations reads the store; it cannot be used with --input");
  env.set_prices_file(o.prices);
  const util::Period p = util::parse_period(o.period, env.now()).flag_value("--period", o.period);
  auto where = usage::parse_filters(o.where);
  report::MonthlyReport r;
  uint64_t rejected = 0;
  if (!o.inputs.empty()) {
    ingest::IngestOptions io;
    if (!ingest::parse_format(o.input_format, io.format))
      throw UsageError("invalid --input-format '" + o.input_format + "': expected auto, csv, jsonl or claude-code");
    if (o.on_error == "skip") io.on_error = ingest::OnError::skip;
    else if (o.on_error != "fail") throw UsageError("invalid --on-error '" + o.on_error + "': expected fail or skip");
    io.allow_unpriced = o.allow_unpriced;
    normalise_filters(where, env.catalog_for_files());
    store::FileUsageSource files(o.inputs, env.catalog_for_files(), io);
    r = report::build_monthly_report(files, p, where, env.now());
    if (r.total.records == 0) hint_unmatched(env, files, p, where);
    rejected = files.rejected();
  } else {
    normalise_filters(where, env.catalog());
    r = report::build_monthly_report(env.usage(), p, where, env.now());
    if (r.total.records == 0) hint_unmatched(env, env.usage(), p, where);
  }
  const report::OutputFormat of = f == Format::table ? report::OutputFormat::table
                                  : f == Format::csv ? report::OutputFormat::csv
                                                     : report::OutputFormat::json;
  std::string out = report::render_report(r, of, env.style());
  if (o.recommendations) {
    // A section of the report: the same recommendations as 'report recommendations'.
    const money::Decimal min = parse_min_saving(o.min_saving);
    const report::Recommendations rec =
        o.inputs.empty() ? report::recommend(env.usage(), env.catalog(), p, where, min) : report::Recommendations{};
    if (f == Format::json) {
      render::Json j = render::Json::parse(out);
      j["recommendations"] = recommendations_json(rec);
      out = render::dump(j);
    } else {
      out += "\n" + recommendations_output(rec, p, min, Format::table, env);
    }
  }
  env.emit(out, o.output);
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
  rec->add_option("--period", ro->period, "Period (default last-month)")->type_name("PERIOD");
  rec->add_option("--where", ro->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  rec->add_option("--min-saving", ro->min_saving, "Leave out recommendations that save less (default 1)")->type_name("AMOUNT");
  add_output_options(rec, ro->format, ro->output);
  rep->add_option("--period", o->period, "Period (default last-month): 2026-10, 2026-10-05, FROM..TO, this-month, last-month, today, mtd")
      ->type_name("PERIOD");
  rep->add_option("--where", o->where, "Only usage where KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  rep->add_option("--input", o->inputs, "Report straight from export files instead of the store (repeatable)")
      ->type_name("FILE");
  rep->add_option("--input-format", o->input_format, "Format of --input files: auto, csv, jsonl or claude-code")
      ->type_name("FORMAT");
  rep->add_option("--on-error", o->on_error, "With --input, on a bad row: fail, or skip it (exit 5)")->type_name("POLICY");
  rep->add_option("--prices", o->prices, "With --input, price with this file too (billctl catalog or LiteLLM JSON); it wins over other prices")
      ->type_name("FILE");
  rep->add_flag("--allow-unpriced", o->allow_unpriced, "With --input, keep records of models without a price");
  rep->add_flag("--recommendations", o->recommendations, "Add the recommendations section (table and JSON; reads the store)");
  rep->add_option("--min-saving", o->min_saving, "With --recommendations: leave out those that save less (default 1)")->type_name("AMOUNT");
  add_output_options(rep, o->format, o->output);
  table.push_back({rep, [o](Env& env) { run_report(*o, env); }});
}

}  // namespace billctl::cmd
