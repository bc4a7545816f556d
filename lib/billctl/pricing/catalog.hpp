// The price catalog: effective-dated per-token prices per model and service tier, with
// long-context tiers that reprice the whole request. The built-in list prices are loaded
// through the same parser as user catalogs (billctl's JSON format, or LiteLLM's
// model_prices_and_context_window.json); a user catalog replaces a model's whole timeline.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/record.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/intern.hpp"
#include "billctl/util/simd.hpp"

namespace billctl::pricing {

using money::Decimal;

// Prices per token (exact, 1e-12 units). A rate that is absent falls back as documented in
// billctl-prices(1): cached input and cache writes to the input rate.
struct Rates {
  Decimal input, cached_input, cache_write_5m, cache_write_1h, output;
  bool has_cached = false, has_cache_write_5m = false, has_cache_write_1h = false;
};

struct PriceEntry {
  std::string model;
  std::string provider;
  int64_t effective_day = 0;  // first day (days since epoch, UTC) this entry is in force
  std::string as_of;          // when the price was read from its source, YYYY-MM-DD
  std::string source;         // where it was read
  money::Currency currency;
  std::vector<std::string> aliases;
  std::array<bool, 4> tier_available{true, false, false, false};
  std::array<Rates, 4> tiers;       // indexed by usage::Tier
  int64_t long_context_threshold = 0;  // input tokens per request above which long rates apply; 0 = none
  std::array<Rates, 4> long_tiers;
};

enum class PriceOutcome { ok, unknown_model, not_in_force, tier_unavailable };

using CatalogInfo = usage::CatalogInfo;

class Catalog {
 public:
  // The built-in list prices.
  static Catalog builtin();
  // Entries of `overrides` replace the timelines of the same models in `base`.
  static Catalog overlay(const Catalog& base, const std::vector<PriceEntry>& overrides, std::string name);
  explicit Catalog(std::vector<PriceEntry> entries, std::string name);

  // Prices a record at the price in force on its day; cost is exact. Provider-reported costs
  // are not looked at here.
  PriceOutcome price(const usage::UsageRecord& r, Decimal& cost, const PriceEntry** used = nullptr) const;
  // The entry in force for `model` on `day`, after name normalisation; null if none.
  const PriceEntry* find(std::string_view model, int64_t day) const;
  // Every entry of a model (oldest first), or empty.
  std::vector<const PriceEntry*> timeline(std::string_view model) const;
  const std::vector<PriceEntry>& entries() const { return m_entries; }
  const CatalogInfo& info() const { return m_info; }

 private:
  int resolve(std::string_view model) const;  // timeline index or -1
  void build_index();

  std::vector<PriceEntry> m_entries;                 // sorted by model, effective_day
  std::vector<std::vector<size_t>> m_timelines;      // entry indexes per model
  std::unordered_map<std::string, int, util::FastHash, std::equal_to<>> m_index;  // name or alias → timeline
  mutable util::Interner m_memo_names;  // raw record names, as they came
  mutable std::vector<int> m_memo;       // per name: its timeline or -1
  CatalogInfo m_info;
};

// Parses billctl's catalog format (JSON). `origin` names the file in errors.
std::vector<PriceEntry> parse_catalog_json(std::string_view json, const std::string& origin);
// Parses LiteLLM's model_prices_and_context_window.json; entries without token prices and
// "sample_spec" are skipped (counted in *skipped). Every entry is in force from `effective_day`;
// the file carries no dates, so entries are "as of" `as_of_day` (the day it was read) and name
// the file as their source.
std::vector<PriceEntry> parse_litellm_json(std::string_view json, const std::string& origin,
                                           int64_t effective_day, size_t* skipped, int64_t as_of_day);

struct PriceFile {
  std::vector<PriceEntry> entries;
  std::string format;  // "billctl" or "litellm"
  size_t skipped = 0;  // LiteLLM entries without token prices
};
// A price file in either format: billctl's catalog or LiteLLM's, detected when `format` is
// "auto". The one reader behind 'prices import', --prices and config [prices] file.
PriceFile parse_price_file(std::string_view text, const std::string& origin, std::string_view format,
                           int64_t effective_day, int64_t as_of_day);
// billctl's catalog format for the entries (the inverse of parse_catalog_json).
std::string to_catalog_json(const std::vector<PriceEntry>& entries, const std::string& name);
// Price per million tokens for display.
Decimal per_million(const Decimal& per_token);

}  // namespace billctl::pricing
