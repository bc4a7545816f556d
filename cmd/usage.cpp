// billctl usage import | summary | top | log
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <thread>

#include "billctl/ingest/ingestor.hpp"
#include "billctl/ingest/read_ahead.hpp"
#include "billctl/providers/config.hpp"
#include "billctl/render/json.hpp"
#include "billctl/report/breakdown.hpp"
#include "billctl/util/strings.hpp"

#include "commands.hpp"

namespace billctl::cmd {

namespace {

// ---- import ---------------------------------------------------------------------------------

struct ImportOptions {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string on_error = "fail";
  std::string rejects;
  bool allow_unpriced = false;
  std::vector<std::string> set;
  std::string output_format = "table";
  std::string prices;
};

ingest::IngestOptions ingest_options(const std::string& format, const std::string& on_error, const std::string& rejects,
                                     bool allow_unpriced, const std::vector<std::string>& set) {
  ingest::IngestOptions o;
  if (!ingest::parse_format(format, o.format))
    throw UsageError("invalid --format '" + format + "': expected auto, csv, jsonl, claude-code, openai-api, anthropic-api, litellm or gcp-billing");
  if (on_error == "fail") o.on_error = ingest::OnError::fail;
  else if (on_error == "skip") o.on_error = ingest::OnError::skip;
  else throw UsageError("invalid --on-error '" + on_error + "': expected fail or skip");
  if (!rejects.empty() && o.on_error == ingest::OnError::fail)
    throw UsageError("--rejects needs --on-error skip (with fail, the first bad row stops the import)");
  o.rejects_path = rejects;
  o.allow_unpriced = allow_unpriced;
  for (const auto& s : set) o.defaults.values.push_back(ingest::parse_assignment(s, "--set"));
  return o;
}

void run_import(const ImportOptions& o, Env& env) {
  const Format out_format = parse_output_format(o.output_format, "--output-format");
  ingest::IngestOptions io = ingest_options(o.format, o.on_error, o.rejects, o.allow_unpriced, o.set);
  const std::vector<std::string> files = ingest::expand_inputs(o.files);
  env.set_prices_file(o.prices);
  // Saved provider API pages are attributed as a pull would attribute them.
  const providers::Mappings mappings = providers::read_mappings(env.config_table("providers"), env.config_path());
  io.read.mappings = &mappings;
  const pricing::Catalog& catalog = env.catalog();
  auto txn = env.imports().begin_import(catalog.info(), env.now());
  // One bar over every file: bytes read of all of them (unknown with standard input).
  auto progress = env.progress("reading");
  progress->set_units(true, "records");
  uint64_t total = 0, before_bytes = 0, before_rows = 0;
  for (const auto& f : files) {
    struct stat st{};
    if (f == "-" || ::stat(f.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      total = 0;
      break;
    }
    total += uint64_t(st.st_size);
  }
  // The files are read and priced on a second thread (with two cores) while this one writes the
  // store. The ingestor is the reading side's until read_ahead returns.
  std::optional<ingest::Ingestor> ingestor;
  const ingest::ReadFn read = [&](ingest::RecordSink& sink, const std::function<void(const ingest::SourceStats&)>& done) {
    ingestor.emplace(catalog, io, sink);
    for (const auto& f : files) {
      const ingest::SourceStats& s = ingestor->read(f, [&](uint64_t bytes, uint64_t, uint64_t rows) {
        progress->update(before_bytes + bytes, total, before_rows + rows);
      });
      done(s);
      before_bytes += s.read.bytes;
      before_rows += s.read.rows;
    }
    ingestor->finish();
  };
  ingest::ToImport to_store(*txn);
  ingest::read_ahead(read, to_store, std::thread::hardware_concurrency() >= 2);
  txn->on_step([&](const std::string& what) { progress->step("writing the store: " + what); });
  progress->step("writing the store");
  txn->commit();
  progress->clear();
  const std::vector<uint64_t> replaced = txn->source_replaced();

  // Report what happened.
  render::Table t;
  t.id = "import";
  t.columns = {{"source", "source", render::Kind::text},   {"format", "format", render::Kind::text},
               {"accepted", "accepted", render::Kind::integer}, {"replaced", "replaced", render::Kind::integer},
               {"rejected", "rejected", render::Kind::integer}, {"unpriced", "unpriced", render::Kind::integer},
               {"sha256", "sha256", render::Kind::text}};
  uint64_t acc = 0, rep = 0, rej = 0, unp = 0, billed = 0;
  for (size_t i = 0; i < ingestor->sources().size(); ++i) {
    const auto& s = ingestor->sources()[i];
    t.rows.push_back({render::Value::of_text(s.path), render::Value::of_text(std::string(ingest::format_name(s.read.format))),
                      render::Value::of_int(int64_t(s.accepted)), render::Value::of_int(int64_t(replaced[i])),
                      render::Value::of_int(int64_t(s.rejected)), render::Value::of_int(int64_t(s.unpriced)),
                      render::Value::of_text(s.read.digest.substr(0, 12))});
    acc += s.accepted;
    rep += replaced[i];
    rej += s.rejected;
    unp += s.unpriced;
    billed += s.billed;
  }
  std::string out;
  switch (out_format) {
    case Format::table:
      out = render::to_text(t, env.style());
      out += "imported " + util::group_thousands(int64_t(acc)) + " records (" + util::group_thousands(int64_t(rep)) +
             " replaced, " + util::group_thousands(int64_t(rej)) + " rejected, " + util::group_thousands(int64_t(unp)) +
             " unpriced)" + (billed ? " and " + util::group_thousands(int64_t(billed)) + " billed cost lines" : std::string()) +
             " into " + env.usage_location() + "\n";
      break;
    case Format::csv: out = render::to_csv(t); break;
    case Format::json: {
      render::Json j;
      j["schema_version"] = 1;
      j["kind"] = "billctl.usage.import";
      j["store"] = env.usage_location();
      j["catalog"] = {{"name", catalog.info().name}, {"sha256", catalog.info().hash}, {"as_of", catalog.info().as_of}};
      j["sources"] = render::rows_json(t);
      j["accepted"] = acc;
      j["replaced"] = rep;
      j["rejected"] = rej;
      j["unpriced"] = unp;
      j["billed_lines"] = billed;
      out = render::dump(j);
      break;
    }
  }
  if (!env.quiet() || out_format != Format::table) env.emit(out, "");
  if (rej > 0)
    throw PartialFailure(util::group_thousands(int64_t(rej)) + " rows rejected" +
                         (o.rejects.empty() ? std::string(" (use --rejects FILE to keep them)") : " (written to " + o.rejects + ")"));
}

// ---- summary / top ------------------------------------------------------------------------------

struct SummaryOptions {
  std::string period = "this-month";
  std::string since, until;
  std::string by;
  std::vector<std::string> where;
  std::string format = "table";
  std::string output;
  size_t limit = 0;
  InputOptions input;
};

std::string render_breakdown(const render::Table& t, Format f, Env& env, const util::Period& p,
                             const std::vector<usage::Filter>& where, const render::Table* meters) {
  switch (f) {
    case Format::table: {
      std::string head = t.title + " " + p.label;
      for (const auto& fl : where)
        for (const auto& v : fl.values) head += "  " + std::string(usage::dim_name(fl.dim)) + "=" + v;
      render::Table copy = t;
      copy.title = head;
      if (t.rows.empty()) return head + "\nNo usage in " + p.label + ".\n";
      std::string out = render::to_text(copy, env.style());
      if (meters && !meters->rows.empty()) out += "\n" + render::to_text(*meters, env.style());
      return out;
    }
    case Format::csv: return render::to_csv(t);
    case Format::json: {
      render::Json j;
      j["schema_version"] = 1;
      j["kind"] = "billctl.usage." + t.id;
      j["period"] = {{"label", p.label}, {"start", util::format_rfc3339(p.begin)}, {"end", util::format_rfc3339(p.end)}};
      render::Json filters = render::Json::object();
      for (const auto& fl : where) filters[std::string(usage::dim_name(fl.dim))] = fl.values;
      j["filters"] = filters;
      j["currency"] = std::string(t.currency.name());
      j["rows"] = render::rows_json(t);
      j["total"] = render::total_json(t);
      if (meters) j["meters"] = render::rows_json(*meters);
      return render::dump(j);
    }
  }
  return {};
}

void run_breakdown(const SummaryOptions& o, Env& env, const std::string& id, const std::string& title,
                   std::vector<usage::Dim> default_dims, size_t default_limit) {
  const Format f = parse_output_format(o.format);
  input_ingest_options(o.input);  // a bad value is refused with the store too
  const util::Period p = period_of(o.period, o.since, o.until, env);
  std::vector<usage::Dim> dims = o.by.empty() ? default_dims : usage::parse_dims(o.by, "--by");
  auto where = usage::parse_filters(o.where);
  env.set_prices_file(o.input.prices);
  std::unique_ptr<store::FileUsageSource> files;
  std::unique_ptr<render::Progress> progress;
  if (!o.input.files.empty()) {
    progress = env.progress("reading");
    progress->set_units(true, "records");
    files = open_inputs(o.input, env, [&](uint64_t bytes, uint64_t total, uint64_t rows) { progress->update(bytes, total, rows); });
  }
  usage::Source& source = files ? *files : env.usage();
  normalise_filters(where, files ? env.catalog_for_files() : env.catalog());
  usage::AggQuery q{p.begin, p.end, where, dims};
  q.meters = id == "summary";
  q.tokens_only = true;  // meter records are shown in "Metered usage", not as models
  auto res = source.aggregate({q});
  if (progress) progress->clear();
  const bool time_only = !dims.empty() && std::all_of(dims.begin(), dims.end(), [](usage::Dim d) {
    return d == usage::Dim::day || d == usage::Dim::week || d == usage::Dim::month || d == usage::Dim::hour;
  });
  report::BreakdownSpec spec{id, title, dims, time_only ? report::Order::key_asc : report::Order::cost_desc,
                             o.limit ? o.limit : default_limit};
  const render::Table t = report::breakdown_table(spec, res[0]);
  if (t.rows.empty() && res[0].meters.empty()) hint_unmatched(env, source, p, where);
  const render::Table meters = report::meters_table(res[0].meters, false);
  env.emit(render_breakdown(t, f, env, p, where, q.meters ? &meters : nullptr), o.output);
  if (files && files->rejected() > 0)
    throw PartialFailure(std::to_string(files->rejected()) + " input rows rejected and left out of the " + (id == "top" ? "ranking" : id));
}

void add_period_filters(CLI::App* c, SummaryOptions& o, const char* period_help) {
  CLI::Option* period = c->add_option("--period", o.period, period_help)->type_name("PERIOD");
  add_since_until(c, period, o.since, o.until);
  c->add_option("--where", o.where, "Only usage where KEY=VALUE (repeatable; values of one key are alternatives)")
      ->type_name("KEY=VALUE");
}

// ---- log ----------------------------------------------------------------------------------------

struct LogOptions {
  size_t limit = 20;
  std::string format = "table";
  std::string output;
};

void run_log(const LogOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto rows = env.imports().import_log(o.limit);
  render::Table t;
  t.id = "imports";
  t.title = "Imports";
  t.columns = {{"id", "id", render::Kind::integer},         {"at", "at", render::Kind::text},
               {"source", "source", render::Kind::text},    {"format", "format", render::Kind::text},
               {"accepted", "accepted", render::Kind::integer}, {"replaced", "replaced", render::Kind::integer},
               {"rejected", "rejected", render::Kind::integer}, {"unpriced", "unpriced", render::Kind::integer},
               {"sha256", "sha256", render::Kind::text},    {"catalog", "catalog", render::Kind::text}};
  for (const auto& r : rows)
    t.rows.push_back({render::Value::of_int(r.id), render::Value::of_text(r.at), render::Value::of_text(r.source),
                      render::Value::of_text(r.format), render::Value::of_int(r.accepted), render::Value::of_int(r.replaced),
                      render::Value::of_int(r.rejected), render::Value::of_int(r.unpriced),
                      render::Value::of_text(f == Format::table ? r.digest.substr(0, 12) : r.digest),
                      render::Value::of_text(r.catalog)});
  env.emit(table_output(t, f, env, "billctl.usage.log", "imports", "No imports yet.\n"), o.output);
}

}  // namespace

void add_usage(CLI::App& root, CommandTable& table) {
  CLI::App* usage = root.add_subcommand("usage", "Import usage and look at it");
  usage->require_subcommand(1);

  auto io = std::make_shared<ImportOptions>();
  CLI::App* imp = usage->add_subcommand("import", "Import usage exports (CSV, JSON Lines, Claude Code logs, provider API pages, LiteLLM, GCP billing) into the store");
  imp->add_option("files", io->files, "Files, directories (Claude Code logs) or - for stdin")->required()->type_name("FILE");
  imp->add_option("--format", io->format, "Input format: auto, csv, jsonl, claude-code, openai-api, anthropic-api, litellm or gcp-billing")->type_name("FORMAT");
  imp->add_option("--on-error", io->on_error, "On a bad row: fail (store nothing) or skip (store the good rows, exit 5)")
      ->type_name("POLICY");
  imp->add_option("--rejects", io->rejects, "With --on-error skip: write rejected rows and reasons to FILE (CSV)")
      ->type_name("FILE");
  imp->add_flag("--allow-unpriced", io->allow_unpriced, "Keep records of models without a price, reported as unpriced");
  imp->add_option("--prices", io->prices, "Price with this file too (billctl catalog or LiteLLM JSON); it wins over other prices")
      ->type_name("FILE");
  imp->add_option("--set", io->set, "Fill an empty attribution field in every record, e.g. department=eng (repeatable)")
      ->type_name("KEY=VALUE");
  imp->add_option("--output-format", io->output_format, "Format of the import summary: table, csv or json")
      ->type_name("FORMAT");
  table.push_back({imp, [io](Env& env) { run_import(*io, env); }});

  auto so = std::make_shared<SummaryOptions>();
  CLI::App* sum = usage->add_subcommand("summary", "Usage and cost totals, broken down by dimensions");
  add_period_filters(sum, *so, "Period (default this-month): 2026-10, 2026-10-05, 2026-Q3, 2026, FROM..TO, this-month, last-month, today, yesterday, mtd, ytd, this-week, last-week, 7d");
  sum->add_option("--by", so->by, "Break down by DIMS, comma-separated (provider, model, organization, department, user, feature, project, status, service_tier, day, week, month, hour)")
      ->type_name("DIMS");
  sum->add_option("--limit", so->limit, "Show the first N rows and fold the rest into one")->type_name("N")->check(whole_number(1, 1000000));
  add_input_options(sum, so->input, "Sum up export files instead of the store");
  add_output_options(sum, so->format, so->output);
  table.push_back({sum, [so](Env& env) { run_breakdown(*so, env, "summary", "Usage summary", {}, 0); }});

  auto to = std::make_shared<SummaryOptions>();
  CLI::App* top = usage->add_subcommand("top", "The biggest consumers by cost");
  add_period_filters(top, *to, "Period (default this-month)");
  top->add_option("--by", to->by, "Rank by DIMS (default user)")->type_name("DIMS");
  top->add_option("--limit", to->limit, "How many to show (default 10)")->type_name("N")->check(whole_number(1, 1000000));
  add_input_options(top, to->input, "Rank the usage of export files instead of the store");
  add_output_options(top, to->format, to->output);
  table.push_back({top, [to](Env& env) { run_breakdown(*to, env, "top", "Top consumers", {usage::Dim::user}, 10); }});

  auto lo = std::make_shared<LogOptions>();
  CLI::App* log = usage->add_subcommand("log", "The import log: what was imported, when, with which catalog");
  log->add_option("--limit", lo->limit, "How many imports to show, newest first (default 20)")->type_name("N")->check(whole_number(1, 1000000));
  add_output_options(log, lo->format, lo->output);
  table.push_back({log, [lo](Env& env) { run_log(*lo, env); }});
  add_usage_anomalies(usage, table);
  add_usage_pull(usage, table);
  add_usage_watch(usage, table);
}

}  // namespace billctl::cmd
