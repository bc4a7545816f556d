// Recommendations (SPEC §10): what the period's usage would cost done differently, each with the
// saving over the period computed exactly from the catalog, a difficulty, and the evidence rows.
//
//  - cheaper model: each (feature, model)'s token mix repriced on the next cheaper model of the same
//    family (k_cheaper in recommendations.cpp: gpt-4o -> gpt-4o-mini, claude-opus-4-1 ->
//    claude-sonnet-4-5, ...); medium (quality must be checked on the feature).
//  - prompt caching: per model with a cached-input price, the input read from cache today against
//    an assumed hit rate of k_assumed_hit_pct; the saving is the input that would move to the
//    cached price (cache writes not counted: stated); easy to medium.
//  - batch: standard-tier traffic between 00:00 and 06:00 UTC on models with a batch tier, at the
//    batch price (about -50 %); medium (asynchronous, within 24 h).
//  - failed requests: the cost of requests that failed and were still billed, per model and
//    feature; medium (retries, validation).
//  - long-context edge: requests up to 10 % above a model's long-context threshold, priced
//    whole at the long rates, against the same requests trimmed to the threshold at the
//    standard rates; medium.
// Savings compare the same formula on both sides (standard rates, no long-context repricing) so
// they never mix provider-reported costs with list prices. None below `min_saving`.
#pragma once

#include <string>
#include <vector>

#include "billctl/money/decimal.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::report {

inline constexpr int k_assumed_hit_pct = 50;

struct Recommendation {
  std::string kind;        // cheaper_model, prompt_caching, batch, failed_requests
  std::string title;       // one line
  std::string difficulty;  // easy, medium, hard
  money::Decimal saving;   // over the period, in the usage currency
  money::Decimal current;  // the cost it would change (same formula)
  std::vector<std::pair<std::string, std::string>> evidence;  // name, value
};

struct Recommendations {
  util::Period period;
  money::Currency currency;
  std::vector<Recommendation> items;  // largest saving first
  money::Decimal total_saving;        // of the items (alternatives of one kind may overlap another)
};

Recommendations recommend(usage::Source& src, const pricing::Catalog& catalog, const util::Period& period,
                          const std::vector<usage::Filter>& where, const money::Decimal& min_saving);

}  // namespace billctl::report
