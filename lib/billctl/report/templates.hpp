// Saved report templates (SPEC §9): a name for the flags of `billctl report` that a stakeholder
// asks for every month, kept in the store (`report save`) or in the config file ([reports.NAME]),
// and the once-per-period delivery of a template's report to notification channels.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "billctl/util/time.hpp"

namespace billctl::report {

struct ReportTemplate {
  std::string name;
  std::string description;
  std::string period = "last-month";  // the period when none is given: relative names roll forward
  std::vector<std::string> where;     // K=V filters as `report --where` takes them
  std::string format = "csv";         // table, csv or json
  bool recommendations = false;
  std::string min_saving = "1";
  std::string origin;                 // "store", or "FILE:LINE" for a config template
  friend bool operator==(const ReportTemplate&, const ReportTemplate&) = default;
};

// The formats `report` writes: table, csv, json, pdf, xlsx, focus.
bool is_report_format(std::string_view f);
inline constexpr const char* k_report_formats = "table, csv, json, pdf, xlsx or focus";

// Checks a template (name, period, filters, format, amounts); throws UsageError naming the flag.
void validate(const ReportTemplate& t, util::Seconds now);
std::string to_json(const ReportTemplate& t);
ReportTemplate from_json(const std::string& json, const std::string& origin);

// [reports.NAME] tables of the config file; throws DataError "FILE:LINE: ..." for bad ones.
std::vector<ReportTemplate> templates_from_config(const toml::table* reports, const std::string& origin, util::Seconds now);

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;
  // Every stored template, by name.
  virtual std::vector<ReportTemplate> list_templates() = 0;
  virtual void put_template(const ReportTemplate& t, util::Seconds now) = 0;
  // False when there was none of that name.
  virtual bool remove_template(const std::string& name) = 0;
};

// The store's templates and the config's, by name; a config template wins over a stored one of
// the same name (the file is the source of truth where an admin keeps it).
std::vector<ReportTemplate> all_templates(TemplateStore& store, const std::vector<ReportTemplate>& config);
std::optional<ReportTemplate> find_template(const std::vector<ReportTemplate>& all, const std::string& name);

}  // namespace billctl::report
