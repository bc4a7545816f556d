// Plans (SPEC §8, seed 002): a monthly base fee, included quantities per metric and overage
// rates, with Starter, Professional and Enterprise as defaults that the config can override or
// extend. Usage metrics per organization: used, limit, percentage, overage.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "billctl/money/money.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

#include <toml++/toml.h>

namespace billctl::billing {

using money::Decimal;

enum class Metric { llm_tokens, sql_queries, storage_gb, api_requests, compute_hours, bandwidth_gb, users };

struct MetricInfo {
  Metric metric;
  std::string_view id;     // config key and JSON name: "llm_tokens"
  std::string_view title;  // "LLM tokens"
  std::string_view unit;   // "tokens"
  std::string_view meter;  // the usage meter it reads ("" for tokens and users)
  int64_t per;             // overage rates are per this many units (1M tokens, 1K queries)
  std::string_view per_text;  // "1M tokens"
};

const std::vector<MetricInfo>& metrics();
const MetricInfo& info(Metric m);

struct Allowance {
  std::optional<Decimal> included;  // none: unlimited
  Decimal rate;                     // overage price per `per` units, in the plan currency
};

struct Plan {
  std::string name;   // "starter"
  std::string title;  // "Starter"
  money::Currency currency = money::k_usd;
  std::optional<Decimal> base_fee;  // none: a custom price the config must give
  std::map<Metric, Allowance> allowances;
};

std::vector<Plan> default_plans();
// The defaults with the config file's [plans.NAME] tables applied (a table for an existing name
// changes only the keys it gives).
std::vector<Plan> parse_plans(const toml::table* plans, const std::string& origin);
const Plan* find_plan(const std::vector<Plan>& plans, const std::string& name);

// What an organization used in a period, per metric (billed units: tokens, GB, hours, ...).
struct OrgUsage {
  std::string organization;
  std::map<Metric, Decimal> used;
};
// Every organization with usage in the period, sorted by name.
std::vector<OrgUsage> organization_usage(usage::Source& source, const util::Period& period);

struct MetricUse {
  Metric metric;
  Decimal used;
  std::optional<Decimal> limit;   // none: unlimited
  std::optional<int64_t> tenths;  // used / limit in tenths of a percent
  Decimal overage;                // units above the limit
  Decimal overage_amount;         // exact, in the plan currency (rounded on the invoice line)
};
std::vector<MetricUse> usage_metrics(const Plan& plan, const OrgUsage& usage);

// "5M", "10,000", "unlimited"
std::string quantity_text(const std::optional<Decimal>& q, Metric m);
// "1 user", "3 users", "1.5 hours", "2 GB": the quantity with its unit, singular for exactly 1.
std::string quantity_with_unit(const money::Decimal& q, Metric m);

}  // namespace billctl::billing
