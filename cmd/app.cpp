#include "app.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "billctl/render/json.hpp"
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

namespace {

void build(CLI::App& app, GlobalOptions& g, CommandTable& table) {
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", "billctl 0.1.0");
  app.add_option("--db", g.db, "The store (SQLite file); env BILLCTL_DB")->type_name("PATH");
  app.add_option("--config", g.config, "Config file; env BILLCTL_CONFIG")->type_name("PATH");
  app.add_option("--now", g.now, "Pin \"now\" (RFC 3339) for reproducible runs; env BILLCTL_NOW")->type_name("TIME");
  app.add_option("--color", g.color, "Colour and bars: auto, always or never")->type_name("WHEN");
  app.add_flag("--no-color", g.no_color, "No colour (NO_COLOR is honoured too)");
  app.add_flag("-q,--quiet", g.quiet, "No notes on stderr");
  // The explicit command table, in the order of the help text.
  add_usage(app, table);
  add_budgets(app, table);
  add_credits(app, table);
  add_invoices(app, table);
  add_report(app, table);
  add_prices(app, table);
  add_completion(app, table);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, std::cout, std::cerr);
    std::string msg = e.what();
    if (!msg.empty() && msg.back() == '\n') msg.pop_back();
    std::cerr << "billctl: error: " << msg << "\n";
    std::cerr << "Run 'billctl --help' (or 'billctl COMMAND --help') for usage.\n";
    return int(ExitCode::usage);
  }
  try {
    env.configure(g);
    for (const auto& c : table) {
      if (c.app->parsed()) {
        c.run(env);
        std::cout.flush();
        return 0;
      }
    }
    throw UsageError("no command given; run 'billctl --help'");
  } catch (const Error& e) {
    std::cout.flush();
    std::cerr << "billctl: error: " << e.what() << "\n";
    return int(e.code());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "billctl: error: " << e.what() << "\n";
    return int(ExitCode::failure);
  }
}

}  // namespace billctl::cmd
