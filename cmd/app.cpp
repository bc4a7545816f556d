#include "app.hpp"
#include "complete.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <iostream>

#include "billctl/render/json.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

Format parse_output_format(const std::string& s, const std::string& flag) {
  if (s == "table") return Format::table;
  if (s == "csv") return Format::csv;
  if (s == "json") return Format::json;
  throw UsageError("invalid " + flag + " '" + s + "': expected table, csv or json");
}

void add_output_options(CLI::App* app, std::string& format, std::string& output) {
  app->add_option("--format", format, "Output format: table, csv or json")->type_name("FORMAT");
  app->add_option("-o,--output", output, "Write the output to FILE (atomically) instead of stdout")->type_name("FILE");
}

void add_since_until(CLI::App* app, CLI::Option* period, std::string& since, std::string& until) {
  CLI::Option* s = app->add_option("--since", since,
                                   "From TIME instead of --period: RFC 3339, a date, or a period's start (7d, last-week)")
                       ->type_name("TIME");
  CLI::Option* u = app->add_option("--until", until, "With --since: up to TIME (RFC 3339, or a period's end: yesterday); default now")
                       ->type_name("TIME");
  s->excludes(period);
  u->excludes(period);
}

util::Period period_of(const std::string& period, const std::string& since, const std::string& until, Env& env,
                       int64_t align) {
  if (since.empty() && until.empty()) return env.period(period, "--period");
  // A command that works on whole days (or hours) runs to the end of the current one by default.
  std::string to = until;
  if (to.empty() && align > 1) to = util::format_rfc3339((env.now() / align + 1) * align);
  auto p = util::since_until(since, to, env.now(), env.week_start());
  if (!p) throw UsageError(p.error());
  if (align > 1) {
    const char* unit = align == 3600 ? "hours" : "days";
    if (p->begin % align != 0)
      throw UsageError("invalid --since '" + since + "': this command works on whole " + unit + " (UTC), and " +
                       util::format_rfc3339(p->begin) + " is not the start of one");
    if (p->end % align != 0)
      throw UsageError("invalid --until '" + until + "': this command works on whole " + unit + " (UTC), and " +
                       util::format_rfc3339(p->end) + " is not the end of one");
  }
  return *p;
}

CLI::Validator whole_number(int64_t lo, int64_t hi) {
  const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& v) -> std::string {
        int64_t n = 0;
        if (util::parse_u63(v, n) && n >= lo && n <= hi) return {};
        return "'" + v + "': expected " + range;
      },
      range, "WHOLE");
}

void add_input_options(CLI::App* app, InputOptions& o, const std::string& what) {
  app->add_option("--input", o.files, what + " (repeatable)")->type_name("FILE");
  app->add_option("--input-format", o.format, "Format of --input files: auto, csv, jsonl, claude-code, openai-api, anthropic-api, litellm or gcp-billing")
      ->type_name("FORMAT");
  app->add_option("--on-error", o.on_error, "With --input, on a bad row: fail, or skip it (exit 5)")->type_name("POLICY");
  app->add_option("--prices", o.prices, "With --input, price with this file too (billctl catalog or LiteLLM JSON); it wins over other prices")
      ->type_name("FILE");
  app->add_flag("--allow-unpriced", o.allow_unpriced, "With --input, keep records of models without a price");
}

ingest::IngestOptions input_ingest_options(const InputOptions& o) {
  ingest::IngestOptions io;
  if (!ingest::parse_format(o.format, io.format))
    throw UsageError("invalid --input-format '" + o.format + "': expected auto, csv, jsonl, claude-code, openai-api, anthropic-api, litellm or gcp-billing");
  if (o.on_error == "skip") io.on_error = ingest::OnError::skip;
  else if (o.on_error != "fail") throw UsageError("invalid --on-error '" + o.on_error + "': expected fail or skip");
  io.allow_unpriced = o.allow_unpriced;
  return io;
}

std::unique_ptr<store::FileUsageSource> open_inputs(const InputOptions& o, Env& env, ingest::ProgressFn progress) {
  return std::make_unique<store::FileUsageSource>(o.files, env.catalog_for_files(), input_ingest_options(o), std::move(progress));
}

void normalise_filters(std::vector<usage::Filter>& where, const pricing::Catalog& catalog) {
  for (auto& f : where) {
    if (f.dim != usage::Dim::model) continue;
    for (auto& v : f.values)
      if (auto tl = catalog.timeline(v); !tl.empty()) v = tl.front()->model;
  }
}

void hint_unmatched(Env& env, usage::Source& source, const util::Period& p, const std::vector<usage::Filter>& where) {
  if (where.empty()) return;
  std::vector<usage::AggQuery> queries;
  for (const auto& f : where) queries.push_back({p.begin, p.end, {}, {f.dim}});
  const auto res = source.aggregate(queries);
  for (size_t i = 0; i < where.size(); ++i) {
    std::vector<std::string> seen;
    for (const auto& g : res[i].groups) seen.push_back(g.keys[0]);
    for (const auto& v : where[i].values) {
      if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
      std::string hint;
      for (const auto& s : seen)
        if (util::to_lower(s) == util::to_lower(v)) hint = s;  // values are case-sensitive, as imported
      if (hint.empty()) hint = util::did_you_mean(v, seen);
      env.note("note: no usage in " + p.label + " has " + std::string(usage::dim_name(where[i].dim)) + " '" + v + "'" +
               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
}

std::string table_output(const render::Table& t, Format f, Env& env, const std::string& kind, const std::string& key,
                         const std::string& empty) {
  if (f == Format::csv) return render::to_csv(t);
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = kind;
    j[key] = render::rows_json(t);
    return render::dump(j);
  }
  return t.rows.empty() ? empty : render::to_text(t, env.style());
}

const CLI::Option* find_flag(const CLI::App* app, const std::string& name) {
  for (; app; app = app->get_parent())
    for (const CLI::Option* o : app->get_options({}))
      if (!o->get_positional() && o->check_name(name)) return o;
  return nullptr;
}

std::string verb_path(const CLI::App* app) {
  std::string path;
  for (; app && app->get_parent(); app = app->get_parent()) path = app->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

bool hidden_command(const CLI::App* a) { return a->get_group().empty() || a->get_name().rfind("__", 0) == 0; }

namespace {

bool takes_value(const CLI::Option* o) { return o->get_type_size_max() > 0 && o->get_expected_max() > 0; }

// "billctl budgets set".
std::string command_path(const CLI::App* app) {
  const CLI::App* root = app;
  while (root->get_parent()) root = root->get_parent();
  return app == root ? root->get_name() : root->get_name() + " " + verb_path(app);
}

std::string known_commands(const CLI::App* app) {
  std::string out;
  for (const CLI::App* c : app->get_subcommands({}))
    if (!hidden_command(c)) out += (out.empty() ? "" : ", ") + c->get_name();
  return out;
}

// Checks the words of the command line against the command tree before CLI11 parses them, so
// that a mistyped command or option is named as such, with the nearest real one ("did you
// mean"), instead of CLI11's "A subcommand is required" or its reversed list of extras.
void check_words(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& w = args[i];
    if (w == "--") return;
    if (w.size() > 1 && w[0] == '-' && !(w[1] >= '0' && w[1] <= '9')) {
      const bool is_long = w.rfind("--", 0) == 0;
      const std::string name = is_long ? w.substr(0, w.find('=')) : w.substr(0, 2);
      const CLI::Option* o = find_flag(app, name);
      if (!o) {
        std::vector<std::string> names;
        for (const CLI::App* a = app; a; a = a->get_parent())
          for (const CLI::Option* c : a->get_options({}))
            for (const auto& l : c->get_lnames()) names.push_back("--" + l);
        const std::string hint = is_long ? util::did_you_mean(name, names) : std::string();
        throw UsageError("unknown option '" + name + "' for '" + command_path(app) + "'" +
                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; see '" + command_path(app) +
                         " --help'");
      }
      if (o->check_name("--help") || o->check_name("--version")) return;  // CLI11 answers these
      const bool inline_value = is_long ? w.find('=') != std::string::npos : w.size() > 2;
      if (takes_value(o) && !inline_value) {
        ++i;  // the value, whatever it looks like
        if (o->get_expected_max() > 1)  // a list option takes the following words up to the next option
          while (i + 1 < args.size() && !(args[i + 1].size() > 1 && args[i + 1][0] == '-')) ++i;
      }
      continue;
    }
    const auto subs = app->get_subcommands({});
    if (subs.empty()) continue;  // a positional argument of a leaf command
    const CLI::App* next = nullptr;
    for (const CLI::App* c : subs)
      if (c->check_name(w)) next = c;
    if (next) {
      app = next;
      continue;
    }
    // An app with verbs and positionals of its own would take the word; none of ours has both.
    bool has_positionals = false;
    for (const CLI::Option* o : app->get_options({}))
      if (o->get_positional()) has_positionals = true;
    if (has_positionals) continue;
    std::vector<std::string> names;
    for (const CLI::App* c : subs)
      if (!hidden_command(c)) names.push_back(c->get_name());
    const std::string hint = util::did_you_mean(w, names);
    const std::string where = app == &root ? std::string() : command_path(app).substr(root.get_name().size() + 1) + " ";
    throw UsageError("unknown command '" + where + w + "'" + (hint.empty() ? "" : " (did you mean '" + where + hint + "'?)") +
                     "; commands: " + known_commands(app));
  }
  if (app->get_require_subcommand_min() > 0)
    throw UsageError("'" + command_path(app) + "' needs a command: " + known_commands(app) + "; see '" +
                     command_path(app) + " --help'");
}

// Flushes stdout and tells why writing it failed (a full disk, a closed pipe), empty when it did
// not: a failed write is an error with the OS's reason, never a silent exit 0.
std::string stdout_error() {
  errno = 0;
  std::cout.flush();
  if (std::cout) return {};
  std::cout.clear();
  return std::string("cannot write to standard output: ") + std::strerror(errno ? errno : EIO);
}

// `billctl help [COMMAND...]` is `billctl [COMMAND...] --help`; `billctl version` is `--version`.
std::vector<std::string> rewrite_help_and_version(std::vector<std::string> args) {
  if (!args.empty() && args[0] == "help") {
    args.erase(args.begin());
    args.push_back("--help");
  } else if (args.size() == 1 && args[0] == "version") {
    args[0] = "--version";
  }
  return args;
}

void build(CLI::App& app, GlobalOptions& g, CommandTable& table) {
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", "billctl 0.1.0");
  app.add_option("--db", g.db, "The store: a SQLite file, or clickhouse://HOST:PORT/DATABASE for usage; env BILLCTL_DB")
      ->type_name("PATH|URL");
  app.add_option("--cluster", g.cluster, "With usage on several ClickHouse servers, the cluster joining them (remote_servers)")
      ->type_name("NAME");
  app.add_option("--state", g.state, "With usage in ClickHouse, the SQLite file for everything else; env BILLCTL_STATE")
      ->type_name("PATH");
  app.add_option("--remote", g.remote, "Read usage, budgets, credits and invoices from a billctl serve at URL; env BILLCTL_REMOTE, credentials BILLCTL_CLIENT_ID, BILLCTL_CLIENT_SECRET")
      ->type_name("URL");
  app.add_option("--config", g.config, "Config file; env BILLCTL_CONFIG")->type_name("PATH");
  app.add_option("--now", g.now, "Pin \"now\" (RFC 3339) for reproducible runs; env BILLCTL_NOW")->type_name("TIME");
  app.add_option("--color", g.color, "Colour and bars: auto, always or never")->type_name("WHEN");
  app.add_flag("--no-color", g.no_color, "No colour (NO_COLOR is honoured too)");
  app.add_flag("-q,--quiet", g.quiet, "No notes on stderr");
  app.add_flag("--no-pager", g.no_pager, "Never page long output on a terminal ($BILLCTL_PAGER, $PAGER, default less -FRX)");
  app.add_flag("--wide", g.wide, "Tables as wide as they are: no column hidden or shortened to fit the terminal");
  // The explicit command table, in the order of the help text.
  add_usage(app, table);
  add_budgets(app, table);
  add_credits(app, table);
  add_invoices(app, table);
  add_report(app, table);
  add_forecast(app, table);
  add_prices(app, table);
  add_store(app, table);
  add_serve(app, table);
  add_completion(app, table);
  add_doctor(app, table);
  add_config(app, table);
  add_examples(app, table);
  add_help_footers(app);
}

std::optional<std::string> real_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

}  // namespace

int run_main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const auto wall = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  Env env(std::cout, std::cerr, ::isatty(1) != 0, ::isatty(2) != 0, real_getenv, wall);
  CLI::App app{"billctl: AI-spend billing and reporting", "billctl"};
  GlobalOptions g;
  CommandTable table;
  build(app, g, table);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "__complete") {
    // Completion never fails and never writes to stderr: the shell would show it mid-line.
    args.erase(args.begin());
    std::cout << complete(app, env, args, g);
    std::cout.flush();
    return 0;
  }
  args = rewrite_help_and_version(std::move(args));
  try {
    check_words(app, args);
  } catch (const UsageError& e) {
    std::cerr << "billctl: error: " << util::escape_controls(e.what()) << "\n";
    return int(ExitCode::usage);
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the words back to front
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, std::cout, std::cerr);
    std::string msg = e.what();
    if (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (const size_t k = msg.find(": '"); msg.rfind("--", 0) == 0 && k != std::string::npos)
      msg = "invalid " + msg.substr(0, k) + " " + msg.substr(k + 2);  // from whole_number()
    std::cerr << "billctl: error: " << util::escape_controls(msg) << "\n";
    std::cerr << "Run 'billctl --help' (or 'billctl COMMAND --help') for usage.\n";
    return int(ExitCode::usage);
  }
  auto failed_stdout = [] {
    const std::string why = stdout_error();
    if (!why.empty()) std::cerr << "billctl: error: " << why << "\n";
    return !why.empty();
  };
  try {
    try {
      env.configure(g);
    } catch (const DataError& e) {
      // A config that does not load stops every command but the one that diagnoses it.
      auto doctor = std::find_if(table.begin(), table.end(), [](const Command& c) { return c.diagnoses_config && c.app->parsed(); });
      if (doctor == table.end()) throw;
      env.set_config_error(e.what());
    }
    for (const auto& c : table) {
      if (c.app->parsed()) {
        c.run(env);
        return failed_stdout() ? int(ExitCode::failure) : 0;
      }
    }
    throw UsageError("no command given; run 'billctl --help'");
  } catch (const Error& e) {
    const bool out_failed = failed_stdout();
    std::cerr << "billctl: error: " << util::escape_controls(e.what()) << "\n";
    return out_failed ? int(ExitCode::failure) : int(e.code());
  } catch (const std::exception& e) {
    failed_stdout();
    std::cerr << "billctl: error: " << util::escape_controls(e.what()) << "\n";
    return int(ExitCode::failure);
  }
}

}  // namespace billctl::cmd
