// The command table: each command file adds its subcommands (binding flags only) and registers
// a runner that is called after parsing succeeded.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "billctl/store/file_source.hpp"
#include "env.hpp"

namespace billctl::cmd {

struct Command {
  CLI::App* app;
  std::function<void(Env&)> run;
  bool diagnoses_config = false;  // runs with a config that does not load (doctor), told why by Env::config_error()
};
using CommandTable = std::vector<Command>;

void add_usage(CLI::App& root, CommandTable& table);
void add_report(CLI::App& root, CommandTable& table);
void add_budgets(CLI::App& root, CommandTable& table);
void add_forecast(CLI::App& root, CommandTable& table);
void add_usage_anomalies(CLI::App* usage, CommandTable& table);
void add_usage_pull(CLI::App* usage, CommandTable& table);
void add_usage_watch(CLI::App* usage, CommandTable& table);
void add_credits(CLI::App& root, CommandTable& table);
void add_invoices(CLI::App& root, CommandTable& table);
void add_prices(CLI::App& root, CommandTable& table);
void add_store(CLI::App& root, CommandTable& table);
void add_serve(CLI::App& root, CommandTable& table);
void add_completion(CLI::App& root, CommandTable& table);
void add_doctor(CLI::App& root, CommandTable& table);
void add_config(CLI::App& root, CommandTable& table);
void add_examples(CLI::App& root, CommandTable& table);
// Ends every command's --help with the global options and the command's examples (after every
// command was added).
void add_help_footers(CLI::App& root);

// Output formats shared by the reporting commands.
enum class Format { table, csv, json };
Format parse_output_format(const std::string& s, const std::string& flag = "--format");
// Adds --format (table|csv|json) and -o/--output.
void add_output_options(CLI::App* app, std::string& format, std::string& output);

// Adds --since TIME and --until TIME, alternatives to `period` (the command's --period option).
void add_since_until(CLI::App* app, CLI::Option* period, std::string& since, std::string& until);
// The period a command reads: [--since, --until) when given, else --period. Throws UsageError
// naming the flag and the value. With `align` (86400: whole days, 3600: hours), --since and
// --until must fall on such boundaries (UTC) and --until defaults to the end of the current one.
util::Period period_of(const std::string& period, const std::string& since, const std::string& until, Env& env,
                       int64_t align = 0);

// A table in the chosen format: the terminal table (or `empty` when it has no rows), RFC 4180
// CSV, or a JSON document {"schema_version": 1, "kind": KIND, KEY: [rows]}.
std::string table_output(const render::Table& t, Format f, Env& env, const std::string& kind, const std::string& key,
                         const std::string& empty);

// --where values as import stores them: model names through the catalog's normalisation
// ("gpt-4o-2024-08-06" -> the catalog's name), so a filter matches what was imported.
void normalise_filters(std::vector<usage::Filter>& where, const pricing::Catalog& catalog);
// When a filtered query found nothing: a note naming each --where value that matches no usage in
// the period, with the nearest existing value ("did you mean 'sales'?").
void hint_unmatched(Env& env, usage::Source& source, const util::Period& p, const std::vector<usage::Filter>& where);

// --input FILE (repeatable) and its companions: read export files instead of the store
// (report, usage summary, usage top).
struct InputOptions {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string on_error = "fail";
  std::string prices;  // --prices: also for the store's filters, so set before anything reads the catalog
  bool allow_unpriced = false;
};
// Adds --input, --input-format, --on-error, --prices and --allow-unpriced; `what` says what --input does.
void add_input_options(CLI::App* app, InputOptions& o, const std::string& what);
// How the flags ask the files to be read. A bad --input-format or --on-error value is a
// UsageError naming the flag, also without --input (commands check it before anything else).
ingest::IngestOptions input_ingest_options(const InputOptions& o);
// The files as a usage source, read with the catalog for files; `progress` is told the bytes and
// rows read.
std::unique_ptr<store::FileUsageSource> open_inputs(const InputOptions& o, Env& env, ingest::ProgressFn progress = {});

// "budgets set": the words after "billctl" that name `app` (empty for the top level).
std::string verb_path(const CLI::App* app);
// A command kept out of help, completion and suggestions (the "__" ones, in no help group).
bool hidden_command(const CLI::App* app);
// The flag `name` ("--limit", "-o") of `app` or of a command above it (flags fall through).
const CLI::Option* find_flag(const CLI::App* app, const std::string& name);

// A validator for a whole-number flag: accepts lo..hi, and names the value and the range otherwise.
CLI::Validator whole_number(int64_t lo, int64_t hi);

// A verb with its own options object, run through `fn` when it was parsed.
template <typename O>
CLI::App* add_verb(CLI::App* parent, CommandTable& table, const char* name, const char* help, void (*fn)(const O&, Env&),
                   std::shared_ptr<O>& o) {
  o = std::make_shared<O>();
  CLI::App* c = parent->add_subcommand(name, help);
  table.push_back({c, [o, fn](Env& env) { fn(*o, env); }});
  return c;
}

}  // namespace billctl::cmd
