// The command table: each command file adds its subcommands (binding flags only) and registers
// a runner that is called after parsing succeeded.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "env.hpp"

namespace billctl::cmd {

struct Command {
  CLI::App* app;
  std::function<void(Env&)> run;
};
using CommandTable = std::vector<Command>;

void add_usage(CLI::App& root, CommandTable& table);
void add_report(CLI::App& root, CommandTable& table);
void add_budgets(CLI::App& root, CommandTable& table);
void add_credits(CLI::App& root, CommandTable& table);
void add_invoices(CLI::App& root, CommandTable& table);
void add_prices(CLI::App& root, CommandTable& table);
void add_completion(CLI::App& root, CommandTable& table);

// Output formats shared by the reporting commands.
enum class Format { table, csv, json };
Format parse_output_format(const std::string& s, const std::string& flag = "--format");
// Adds --format (table|csv|json) and -o/--output.
void add_output_options(CLI::App* app, std::string& format, std::string& output);

}  // namespace billctl::cmd
