// What `billctl report` and its saved templates share: the report's options and its rendering.
#pragma once

#include <string>
#include <vector>

#include "billctl/report/monthly.hpp"
#include "commands.hpp"

namespace billctl::cmd {

struct ReportOptions {
  std::string period = "last-month";
  std::string since, until;  // instead of period (not saved in templates)
  std::vector<std::string> where;
  InputOptions input;
  std::string format = "table";
  std::string output;
  bool recommendations = false;
  std::string min_saving = "1";
  // Rows per breakdown in the table format: 0 every row (piped, -o, --all); default 10 on a
  // terminal (not saved in templates).
  int64_t limit = -1;  // -1: the default for where the output goes
  bool all = false;
};

// The report document in o.format; `built` (when given) receives the report it was made of, and
// `rejected` the input rows left out (with --input and --on-error skip).
std::string report_document(const ReportOptions& o, Env& env, report::MonthlyReport* built, uint64_t& rejected);

// report save | run | list | show | rm | send
void add_report_templates(CLI::App* report, CommandTable& table);

}  // namespace billctl::cmd
