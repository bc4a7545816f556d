// billctl report: the monthly summary, from the store or straight from export files.
#include <memory>

#include "billctl/report/monthly.hpp"
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
};

void run_report(const ReportOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
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
  env.emit(report::render_report(r, of, env.style()), o.output);
  if (rejected > 0) throw PartialFailure(std::to_string(rejected) + " input rows rejected and left out of the report");
}

}  // namespace

void add_report(CLI::App& root, CommandTable& table) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* rep = root.add_subcommand("report", "The monthly report: totals, change, breakdowns, top consumers, trend");
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
  add_output_options(rep, o->format, o->output);
  table.push_back({rep, [o](Env& env) { run_report(*o, env); }});
}

}  // namespace billctl::cmd
