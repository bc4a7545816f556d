// The providers' billing API pages, mapped to billctl's canonical records (SPEC §3.1) and billed
// cost lines: the OpenAI organization Usage and Costs APIs and the Anthropic Admin API usage and
// cost reports (REFERENCE.md A and B). One parser serves `usage pull` (pages fetched over HTTP) and
// `usage import` (the same pages saved as files). Provider semantics are normalised here, at the
// edge: OpenAI's input_tokens includes cached and cache-write tokens; Anthropic reports uncached
// input, splits cache writes into 5m and 1h, and gives costs as decimal strings in cents.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/record.hpp"
#include "billctl/util/time.hpp"

namespace billctl::providers {

enum class Provider : uint8_t { openai, anthropic };
std::string_view provider_name(Provider p);
std::optional<Provider> parse_provider(std::string_view s);

// Where a provider id lands among billctl's dimensions; empty fields leave the value as it was.
struct Attribution {
  std::string organization, department, user, feature, project;
};

// [providers.NAME] attribution: provider ids (OpenAI projects, Anthropic workspaces, API keys,
// users) to billctl's dimensions. Unmapped ids keep the provider's id as the project (or user).
struct Mapping {
  std::string organization;                              // for every record of the provider
  std::map<std::string, Attribution, std::less<>> projects;  // OpenAI project_id, Anthropic workspace_id
  std::map<std::string, Attribution, std::less<>> api_keys;
  std::map<std::string, Attribution, std::less<>> users;
  // The attribution of a group: defaults, then the project's, the API key's and the user's entries.
  Attribution resolve(std::string_view project_id, std::string_view api_key_id, std::string_view user_id) const;
};

struct Mappings {
  Mapping openai, anthropic;
  const Mapping& of(Provider p) const { return p == Provider::openai ? openai : anthropic; }
};

// A usage record that owns its text (a page is small; the hot import path never sees these).
struct PulledRecord {
  std::string id, provider, model, organization, department, user, feature, project, meter, unit;
  util::Seconds timestamp = 0;
  int64_t input_tokens = 0, cached_input_tokens = 0, cache_write_tokens = 0, cache_write_1h_tokens = 0;
  int64_t output_tokens = 0, requests = 0;
  usage::Tier tier = usage::Tier::standard;
  usage::Context context = usage::Context::by_request;
  money::Decimal quantity;
  uint64_t line = 0;  // line of the page text where the result starts
  // A canonical record viewing this one's text.
  usage::UsageRecord view() const;
};

// One line of what the provider billed for a day.
struct BilledLine {
  std::string provider;
  util::Seconds day = 0;   // start of the UTC day
  std::string key;         // the provider's group; unique within (provider, day)
  std::string project;     // billctl project after attribution ("" when not grouped by project)
  std::string model;       // as the provider names it; "" for lines without a model
  std::string line_item;   // the provider's description
  std::string token_type;  // input, cached_input, cache_write_5m, cache_write_1h, output, or the cost type
  money::Decimal amount;   // in currency units
  money::Currency currency;
  uint64_t line = 0;
  friend bool operator==(const BilledLine&, const BilledLine&) = default;
};

// One page of any endpoint, or several pages saved in one file.
struct Page {
  std::vector<PulledRecord> records;
  std::vector<BilledLine> billed;
  bool has_more = false;
  std::string next_page;
  util::Seconds min_start = INT64_MAX, max_end = INT64_MIN;  // bucket bounds seen
};

// Parses the text of one page (a JSON object), or of several (a JSON array of pages, or pages one
// after another). Throws DataError "ORIGIN:LINE: reason" naming the bad value.
Page parse_page(Provider p, std::string_view json, const Mapping& mapping, const std::string& origin);

// The provider whose pages a text holds, from its first bytes; nullopt for other text.
std::optional<Provider> sniff_page(std::string_view head);

}  // namespace billctl::providers
