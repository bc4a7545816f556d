#include "billctl/report/recommendations.hpp"

#include <algorithm>
#include <map>

namespace billctl::report {

namespace {

using money::Decimal;

// The next cheaper model of the same family.
constexpr std::pair<const char*, const char*> k_cheaper[] = {
    {"gpt-4o", "gpt-4o-mini"},           {"gpt-4.1", "gpt-4.1-mini"},         {"gpt-4.1-mini", "gpt-4.1-nano"},
    {"gpt-5", "gpt-5-mini"},             {"gpt-5-mini", "gpt-5-nano"},        {"o1", "o3"},
    {"o3", "o4-mini"},                   {"claude-opus-4-5", "claude-sonnet-4-5"}, {"claude-opus-4-1", "claude-sonnet-4-5"},
    {"claude-opus-4", "claude-sonnet-4"}, {"claude-sonnet-4-5", "claude-haiku-4-5"}, {"claude-sonnet-4", "claude-haiku-4-5"},
    {"claude-3-7-sonnet", "claude-3-5-haiku"}, {"gemini-2.5-pro", "gemini-2.5-flash"}, {"gemini-2.5-flash", "gemini-2.5-flash-lite"},
    {"gemini-2.0-flash", "gemini-2.0-flash-lite"}, {"gemini-1.5-pro", "gemini-1.5-flash"},
};

// A token mix priced with a tier's rates (absent cache rates fall back to the input rate).
Decimal price_mix(const usage::Totals& t, const pricing::Rates& r) {
  const Decimal cached = r.has_cached ? r.cached_input : r.input;
  const Decimal w5 = r.has_cache_write_5m ? r.cache_write_5m : r.input;
  const Decimal w1 = r.has_cache_write_1h ? r.cache_write_1h : r.has_cache_write_5m ? r.cache_write_5m : r.input;
  return r.input.mul_int(t.input_tokens) + cached.mul_int(t.cached_input_tokens) + w5.mul_int(t.cache_write_tokens) +
         w1.mul_int(t.cache_write_1h_tokens) + r.output.mul_int(t.output_tokens);
}

std::string count(int64_t n) { return Decimal::from_int(n).format(0, true); }

}  // namespace

Recommendations recommend(usage::Source& src, const pricing::Catalog& catalog, const util::Period& period,
                          const std::vector<usage::Filter>& where, const Decimal& min_saving) {
  Recommendations out;
  out.period = period;
  const int64_t day = util::day_of(period.end - 1);
  auto query = [&](std::vector<usage::Dim> by) {
    usage::AggQuery q{period.begin, period.end, where, std::move(by)};
    q.tokens_only = true;
    return q;
  };
  // The models used come first (from the rollups): the records near each one's long-context
  // threshold are then counted in the same pass over the records as the groupings that read them.
  const usage::AggResult per_model = src.aggregate({query({usage::Dim::model})})[0];
  std::vector<usage::AggQuery> qs{
      // as numbered in res (per_model goes in at 1)
      query({usage::Dim::feature, usage::Dim::model}),                      // 0: token mixes
      query({usage::Dim::model, usage::Dim::hour}),                         // 2: night traffic
      query({usage::Dim::status, usage::Dim::model, usage::Dim::feature}),  // 3: failures
      query({usage::Dim::service_tier, usage::Dim::model}),                 // 4: tiers
  };
  // 5: requests just over a long-context threshold (up to 10 % above), per model that has one.
  const size_t first_edge = qs.size();
  std::vector<std::pair<std::string, const pricing::PriceEntry*>> edged;
  for (const auto& g : per_model.groups) {
    const pricing::PriceEntry* e = catalog.find(g.keys[0], day);
    if (!e || e->long_context_threshold <= 0 || !(e->currency == per_model.currency)) continue;
    usage::AggQuery q = query({});
    q.where.push_back({usage::Dim::model, {g.keys[0]}});
    q.input_above = e->long_context_threshold;
    q.input_upto = e->long_context_threshold + e->long_context_threshold / 10;
    qs.push_back(std::move(q));
    edged.emplace_back(g.keys[0], e);
  }
  auto res = src.aggregate(qs);
  res.insert(res.begin() + 1, per_model);  // 1: per model
  out.currency = res[1].currency;
  auto rates = [&](const std::string& model, usage::Tier tier) -> const pricing::Rates* {
    const pricing::PriceEntry* e = catalog.find(model, day);
    if (!e || !e->tier_available[size_t(tier)] || !(e->currency == out.currency)) return nullptr;
    return &e->tiers[size_t(tier)];
  };
  auto keep = [&](Recommendation r) {
    if (r.saving < min_saving || !r.saving.units()) return;
    out.items.push_back(std::move(r));
  };
  const int digits = out.currency.minor_units;
  auto money_text = [&](const Decimal& d) { return d.format(digits, true) + " " + std::string(out.currency.name()); };

  // 1. The same token mix on the cheaper model of the family, per feature and model.
  for (const auto& g : res[0].groups) {
    const std::string& feature = g.keys[0];
    const std::string& model = g.keys[1];
    const auto* alt_name = std::find_if(std::begin(k_cheaper), std::end(k_cheaper), [&](const auto& p) { return model == p.first; });
    if (alt_name == std::end(k_cheaper)) continue;
    const pricing::Rates* now = rates(model, usage::Tier::standard);
    const pricing::Rates* alt = rates(alt_name->second, usage::Tier::standard);
    if (!now || !alt) continue;
    Recommendation r;
    r.kind = "cheaper_model";
    r.difficulty = "medium";
    r.current = price_mix(g.totals, *now).round(digits);
    const Decimal cheaper = price_mix(g.totals, *alt).round(digits);
    r.saving = r.current - cheaper;
    r.title = "Try " + std::string(alt_name->second) + " for " + (feature.empty() ? "(no feature)" : feature) + " (now " + model + ")";
    r.evidence = {{"feature", feature}, {"model", model}, {"alternative", alt_name->second},
                  {"requests", count(g.totals.requests)}, {"input tokens", count(g.totals.input_tokens + g.totals.cached_input_tokens)},
                  {"output tokens", count(g.totals.output_tokens)}, {"cost at list prices", money_text(r.current)},
                  {"cost on the alternative", money_text(cheaper)}};
    keep(std::move(r));
  }

  // 2. Prompt caching: more of the input read from cache.
  for (const auto& g : res[1].groups) {
    const std::string& model = g.keys[0];
    const pricing::Rates* r0 = rates(model, usage::Tier::standard);
    if (!r0 || !r0->has_cached || !(r0->cached_input < r0->input)) continue;
    const usage::Totals& t = g.totals;
    const int64_t input = t.input_tokens + t.cached_input_tokens + t.cache_write_tokens + t.cache_write_1h_tokens;
    if (input <= 0) continue;
    const int64_t target = int64_t(money::div_round(money::i128(input) * k_assumed_hit_pct, 100, money::Rounding::down));
    const int64_t move = std::min<int64_t>(target - t.cached_input_tokens, t.input_tokens);
    if (move <= 0) continue;
    Recommendation r;
    r.kind = "prompt_caching";
    r.difficulty = "easy";
    r.saving = (r0->input - r0->cached_input).mul_int(move).round(digits);
    r.current = r0->input.mul_int(t.input_tokens).round(digits);
    const int64_t hit_tenths = int64_t(money::div_round(money::i128(t.cached_input_tokens) * 1000, input, money::Rounding::half_even));
    r.title = "Cache the stable prefix of " + model + " prompts: " + std::to_string(hit_tenths / 10) + "." + std::to_string(hit_tenths % 10) +
              " % of input is read from cache";
    r.evidence = {{"model", model},
                  {"input tokens", count(input)},
                  {"read from cache", count(t.cached_input_tokens)},
                  {"assumed hit rate", std::to_string(k_assumed_hit_pct) + " %"},
                  {"tokens that would move to the cached price", count(move)},
                  {"input price per MTok", pricing::per_million(r0->input).format(2, true)},
                  {"cached price per MTok", pricing::per_million(r0->cached_input).format(2, true)},
                  {"not counted", "cache writes (priced above input by some providers)"}};
    keep(std::move(r));
  }

  // 3. Batch: standard-tier night traffic (00:00-06:00 UTC) at the batch tier's price.
  std::map<std::string, usage::Totals> night;
  for (const auto& g : res[2].groups) {
    const int h = std::stoi(g.keys[1].substr(11, 2));
    if (h < 6) night[g.keys[0]].add(g.totals);
  }
  std::map<std::string, bool> all_standard;  // models used only on the standard tier
  for (const auto& g : res[4].groups) {
    auto [it, fresh] = all_standard.try_emplace(g.keys[1], true);
    if (g.keys[0] != "standard") it->second = false;
  }
  for (const auto& [model, t] : night) {
    if (!all_standard[model]) continue;  // night traffic on other tiers cannot be told apart here
    const pricing::Rates* std_rates = rates(model, usage::Tier::standard);
    const pricing::Rates* batch = rates(model, usage::Tier::batch);
    if (!std_rates || !batch) continue;
    Recommendation r;
    r.kind = "batch";
    r.difficulty = "medium";
    r.current = price_mix(t, *std_rates).round(digits);
    const Decimal at_batch = price_mix(t, *batch).round(digits);
    r.saving = r.current - at_batch;
    r.title = "Send " + model + " night traffic (00:00-06:00 UTC) through the batch API";
    r.evidence = {{"model", model}, {"requests 00:00-06:00 UTC", count(t.requests)}, {"cost at standard prices", money_text(r.current)},
                  {"cost at batch prices", money_text(at_batch)}, {"condition", "results within 24 hours are acceptable"}};
    keep(std::move(r));
  }

  // 4. Failed requests that were billed.
  for (const auto& g : res[3].groups) {
    if (g.keys[0] != "error" || g.totals.cost <= 0) continue;
    Recommendation r;
    r.kind = "failed_requests";
    r.difficulty = "medium";
    r.saving = g.totals.cost_decimal().round(digits);
    r.current = r.saving;
    const std::string& feature = g.keys[2];
    r.title = "Stop paying for failed " + g.keys[1] + " requests of " + (feature.empty() ? "(no feature)" : feature);
    r.evidence = {{"model", g.keys[1]}, {"feature", feature}, {"failed requests", count(g.totals.error_requests)},
                  {"billed for them", money_text(r.saving)}, {"look at", "retries, timeouts and input validation"}};
    keep(std::move(r));
  }

  // 5. Requests just over a long-context threshold (up to 10 % above): the whole request is
  // priced at the long rates; trimmed to the threshold it would be priced at the standard ones.
  for (size_t i = 0; i < edged.size(); ++i) {
    const usage::Totals t = res[first_edge + 1 + i].total();
    if (t.requests <= 0) continue;
    const pricing::PriceEntry& e = *edged[i].second;
    const int64_t over = t.input_tokens + t.cached_input_tokens + t.cache_write_tokens + t.cache_write_1h_tokens -
                         e.long_context_threshold * t.requests;
    usage::Totals trimmed = t;
    trimmed.input_tokens = std::max<int64_t>(0, t.input_tokens - over);
    Recommendation r;
    r.kind = "long_context_edge";
    r.difficulty = "medium";
    r.current = price_mix(t, e.long_tiers[size_t(usage::Tier::standard)]).round(digits);
    const Decimal after = price_mix(trimmed, e.tiers[size_t(usage::Tier::standard)]).round(digits);
    r.saving = r.current - after;
    r.title = "Keep " + edged[i].first + " prompts under " + count(e.long_context_threshold) + " input tokens";
    r.evidence = {{"model", edged[i].first},
                  {"long-context threshold", count(e.long_context_threshold) + " input tokens per request"},
                  {"requests up to 10 % above it", count(t.requests)},
                  {"input over the threshold", count(over)},
                  {"cost at long-context prices", money_text(r.current)},
                  {"cost trimmed to the threshold", money_text(after)}};
    keep(std::move(r));
  }

  std::sort(out.items.begin(), out.items.end(), [](const Recommendation& a, const Recommendation& b) {
    return a.saving != b.saving ? a.saving > b.saving : a.title < b.title;
  });
  for (const auto& r : out.items) out.total_saving += r.saving;
  return out;
}

}  // namespace billctl::report
