#include "billctl/report/templates.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "billctl/money/decimal.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/error.hpp"

namespace billctl::report {

bool is_report_format(std::string_view f) {
  return f == "table" || f == "csv" || f == "json" || f == "pdf" || f == "xlsx" || f == "focus";
}

void validate(const ReportTemplate& t, util::Seconds now) {
  if (t.name.empty() || t.name.size() > 64 ||
      !std::all_of(t.name.begin(), t.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      }))
    throw UsageError("invalid template name '" + t.name + "': use 1-64 letters, digits, '-', '_' or '.'");
  util::parse_period(t.period, now).flag_value("--period", t.period);
  usage::parse_filters(t.where);
  if (!is_report_format(t.format))
    throw UsageError("invalid --format '" + t.format + "': expected " + k_report_formats);
  if (t.recommendations && t.format != "table" && t.format != "json")
    throw UsageError("--recommendations is for table and json output");
  const money::Decimal min = money::Decimal::parse(t.min_saving).flag_value("--min-saving", t.min_saving);
  if (min.negative()) throw UsageError("invalid --min-saving '" + t.min_saving + "': expected an amount of 0 or more");
}

std::string to_json(const ReportTemplate& t) {
  nlohmann::ordered_json j;
  j["name"] = t.name;
  j["description"] = t.description;
  j["period"] = t.period;
  j["where"] = t.where;
  j["format"] = t.format;
  j["recommendations"] = t.recommendations;
  j["min_saving"] = t.min_saving;
  return j.dump();
}

ReportTemplate from_json(const std::string& json, const std::string& origin) {
  try {
    const auto j = nlohmann::json::parse(json);
    ReportTemplate t;
    t.name = j.at("name").get<std::string>();
    t.description = j.value("description", "");
    t.period = j.value("period", "last-month");
    t.where = j.value("where", std::vector<std::string>{});
    t.format = j.value("format", "csv");
    t.recommendations = j.value("recommendations", false);
    t.min_saving = j.value("min_saving", "1");
    t.origin = "store";
    return t;
  } catch (const std::exception& e) {
    throw DataError(origin + ": unreadable report template: " + e.what());
  }
}

std::vector<ReportTemplate> templates_from_config(const toml::table* reports, const std::string& origin, util::Seconds now) {
  std::vector<ReportTemplate> out;
  if (!reports) return out;
  for (const auto& [name, v] : *reports) {
    const std::string at = origin + ":" + std::to_string(v.source().begin.line);
    const toml::table* t = v.as_table();
    if (!t) throw DataError(at + ": reports." + std::string(name.str()) + " must be a table ([reports.NAME])");
    ReportTemplate r;
    r.name = std::string(name.str());
    r.origin = at;
    for (const auto& [k, node] : *t) {
      const std::string key(k.str());
      const toml::node& fv = node;  // lambdas cannot capture structured bindings (clang, C++20)
      const std::string fat = origin + ":" + std::to_string(fv.source().begin.line);
      auto str = [&]() {
        auto s = fv.value<std::string>();
        if (!s) throw DataError(fat + ": reports." + r.name + "." + key + " must be a string");
        return *s;
      };
      if (key == "description") r.description = str();
      else if (key == "period") r.period = str();
      else if (key == "format") r.format = str();
      else if (key == "min_saving") r.min_saving = str();
      else if (key == "recommendations") {
        auto b = fv.value<bool>();
        if (!b) throw DataError(fat + ": reports." + r.name + ".recommendations must be true or false");
        r.recommendations = *b;
      } else if (key == "where") {
        const toml::array* a = fv.as_array();
        if (!a) throw DataError(fat + ": reports." + r.name + ".where must be an array of \"KEY=VALUE\"");
        for (const auto& e : *a) {
          auto s = e.value<std::string>();
          if (!s) throw DataError(fat + ": reports." + r.name + ".where must be an array of \"KEY=VALUE\"");
          r.where.push_back(*s);
        }
      } else {
        throw DataError(fat + ": unknown key 'reports." + r.name + "." + key +
                        "' (known: description, period, where, format, recommendations, min_saving)");
      }
    }
    try {
      validate(r, now);
    } catch (const Error& e) {
      throw DataError(at + ": reports." + r.name + ": " + e.what());
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ReportTemplate> all_templates(TemplateStore& store, const std::vector<ReportTemplate>& config) {
  std::map<std::string, ReportTemplate> by_name;
  for (auto& t : store.list_templates()) by_name[t.name] = std::move(t);
  for (const auto& t : config) by_name[t.name] = t;
  std::vector<ReportTemplate> out;
  for (auto& [n, t] : by_name) out.push_back(std::move(t));
  return out;
}

std::optional<ReportTemplate> find_template(const std::vector<ReportTemplate>& all, const std::string& name) {
  for (const auto& t : all)
    if (t.name == name) return t;
  return std::nullopt;
}

}  // namespace billctl::report
