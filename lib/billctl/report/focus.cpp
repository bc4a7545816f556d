#include "billctl/report/focus.hpp"

#include <nlohmann/json.hpp>

#include <array>

#include "billctl/money/money.hpp"
#include "billctl/render/table.hpp"
#include "billctl/util/error.hpp"

namespace billctl::report {

namespace {

using money::Decimal;
using money::i128;
using usage::Dim;

const std::vector<Dim> k_dims = {Dim::day,          Dim::provider,   Dim::model,   Dim::service_tier, Dim::organization,
                                 Dim::department,   Dim::user,       Dim::feature, Dim::project};

struct Component {
  const char* key;          // SkuPriceId part
  const char* description;  // ChargeDescription part
  const char* meter;        // SkuMeter
  const char* cache;        // x_TokenCacheAction
  const char* ttl;          // x_CacheTtl, "" for none
};
constexpr std::array<Component, 5> k_components = {{
    {"input", "input tokens", "Input Tokens", "None", ""},
    {"cached_input", "cached input tokens", "Input Tokens", "Read", ""},
    {"cache_write_5m", "5-minute cache write tokens", "Input Tokens", "Write", "5m"},
    {"cache_write_1h", "1-hour cache write tokens", "Input Tokens", "Write", "1h"},
    {"output", "output tokens", "Output Tokens", "None", ""},
}};

std::string provider_display(const std::string& p) {
  if (p == "openai") return "OpenAI";
  if (p == "anthropic") return "Anthropic";
  if (p == "google") return "Google";
  if (p.empty()) return "Unknown";
  return p;
}

// Splits `total` over weights exactly (largest remainder, ties to the earlier part).
std::vector<i128> split(i128 total, const std::vector<i128>& weights) {
  i128 w = 0;
  for (i128 x : weights) w += x;
  std::vector<i128> out(weights.size(), 0);
  if (w == 0) return out;
  const bool neg = total < 0;
  const i128 t = neg ? -total : total;
  i128 given = 0;
  std::vector<std::pair<i128, size_t>> rem;
  for (size_t i = 0; i < weights.size(); ++i) {
    out[i] = t * weights[i] / w;
    rem.emplace_back(t * weights[i] % w, i);
    given += out[i];
  }
  std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < t && k < rem.size(); ++k, ++given) ++out[rem[k].second];
  if (neg)
    for (i128& x : out) x = -x;
  return out;
}

// Numbers (costs, quantities, prices) are written as they are; text is neutralised as in every CSV.
bool numeric_column(size_t i) {
  return i <= 3 || i == 15 || i == 17 || i == 19 || i == 21 || i == 35 || i == 36;
}

std::string csv_row(const std::vector<std::string>& cells, bool header = false) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    line += render::csv_cell(cells[i], header || !numeric_column(i));
  }
  return line + "\r\n";
}

struct Row {
  std::vector<std::string> cells;  // BilledCost etc. filled in after the rounding
  i128 billed = 0;                 // exact
  Decimal list;
};

}  // namespace

const std::vector<std::string>& focus_columns() {
  static const std::vector<std::string> k = {
      "BilledCost",        "EffectiveCost",       "ListCost",         "ContractedCost",     "BillingAccountId",
      "BillingAccountName", "BillingCurrency",    "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory",
      "ChargeClass",       "ChargeDescription",   "ChargeFrequency",  "ChargePeriodStart",  "ChargePeriodEnd",
      "ConsumedQuantity",  "ConsumedUnit",        "ContractedUnitPrice", "InvoiceIssuerName", "ListUnitPrice",
      "PricingCategory",   "PricingQuantity",     "PricingUnit",      "ProviderName",       "PublisherName",
      "ServiceCategory",   "ServiceName",         "ServiceSubcategory", "SkuId",            "SkuMeter",
      "SkuPriceDetails",   "SkuPriceId",          "SubAccountId",     "SubAccountName",     "Tags",
      "x_UnpricedRecords", "x_Requests"};
  return k;
}

std::string focus_csv(usage::Source& source, const pricing::Catalog& catalog, const util::Period& p,
                      const std::vector<usage::Filter>& where) {
  usage::AggQuery q{p.begin, p.end, where, k_dims};
  q.tokens_only = true;
  const usage::AggResult res = source.aggregate({q})[0];
  const money::Currency cur = res.currency;
  const std::string period_start = util::format_rfc3339(p.begin), period_end = util::format_rfc3339(p.end);

  std::vector<Row> rows;
  for (const usage::Group& g : res.groups) {
    const std::string &day = g.keys[0], &provider = g.keys[1], &model = g.keys[2], &tier_name = g.keys[3];
    const std::string &org = g.keys[4], &dept = g.keys[5], &user = g.keys[6], &feature = g.keys[7], &project = g.keys[8];
    const util::Seconds start = util::parse_date(day).value_or_throw("day of a usage group") * 86400;
    usage::Tier tier = usage::Tier::standard;
    usage::parse_tier(tier_name, tier);
    const pricing::PriceEntry* e = catalog.find(model, util::day_of(start));
    const usage::Totals& t = g.totals;
    const std::array<int64_t, 5> tokens = {t.input_tokens, t.cached_input_tokens, t.cache_write_tokens,
                                           t.cache_write_1h_tokens, t.output_tokens};
    // List rates of each component (standard context); without a price, tokens weigh the split.
    std::array<Decimal, 5> rate{};
    if (e && e->tier_available[size_t(tier)]) {
      const pricing::Rates& r = e->tiers[size_t(tier)];
      rate = {r.input, r.has_cached ? r.cached_input : r.input, r.has_cache_write_5m ? r.cache_write_5m : r.input,
              r.has_cache_write_1h ? r.cache_write_1h : r.has_cache_write_5m ? r.cache_write_5m : r.input, r.output};
    }
    std::vector<i128> weights;
    std::vector<size_t> which;
    for (size_t i = 0; i < 5; ++i) {
      if (tokens[i] == 0) continue;
      const i128 w = e ? rate[i].mul_int(tokens[i]).units() : i128(tokens[i]);
      weights.push_back(w > 0 ? w : 0);
      which.push_back(i);
    }
    nlohmann::ordered_json tags = nlohmann::ordered_json::object();
    if (!dept.empty()) tags["department"] = dept;
    if (!user.empty()) tags["user"] = user;
    if (!feature.empty()) tags["feature"] = feature;
    if (!project.empty()) tags["project"] = project;
    const std::string account = org.empty() ? "default" : org;
    const std::string pname = provider_display(provider);
    auto base = [&](std::vector<std::string>& c) {
      c.resize(focus_columns().size());
      c[4] = account;
      c[5] = account;
      c[6] = std::string(cur.name());
      c[7] = period_start;
      c[8] = period_end;
      c[9] = "Usage";
      c[12] = "Usage-Based";
      c[13] = util::format_rfc3339(start);
      c[14] = util::format_rfc3339(start + 86400);
      c[18] = pname;
      c[20] = "Standard";
      c[23] = pname;
      c[24] = pname;
      c[25] = "AI and Machine Learning";
      c[26] = pname + " API";
      c[27] = "Generative AI";
      c[28] = model;
      c[32] = project;
      c[33] = project;
      c[34] = tags.dump();
      c[35] = std::to_string(t.unpriced_records);
      c[36] = std::to_string(t.requests);
    };
    const bool all_zero = std::all_of(weights.begin(), weights.end(), [](i128 w) { return w == 0; });
    if (which.empty() || all_zero) {
      // No tokens (a charge billed per request or per unit): one row, counted in requests.
      Row r;
      base(r.cells);
      r.billed = t.cost;
      r.list = Decimal::from_units(t.cost);
      // Tax and adjustment rows of a cloud bill (gcp-billing imports name them by cost type).
      if (model == "tax") r.cells[9] = "Tax";
      else if (model == "adjustment" || model == "rounding_error") r.cells[9] = "Adjustment";
      const bool usage_row = r.cells[9] == "Usage";
      r.cells[11] = usage_row ? model + " (" + tier_name + " tier)" : "Google Cloud " + model;
      if (!usage_row) r.cells[20].clear();  // no pricing category for a tax or an adjustment
      if (usage_row) {  // quantities belong to usage; a tax or an adjustment has none
        r.cells[15] = std::to_string(t.requests);
        r.cells[16] = "Requests";
        r.cells[21] = std::to_string(t.requests);
        r.cells[22] = "Requests";
        r.cells[29] = "Requests";
      }
      r.cells[30] = "{}";
      r.cells[31] = model + ":" + tier_name + ":other";
      rows.push_back(std::move(r));
      continue;
    }
    const std::vector<i128> parts = split(t.cost, weights);
    for (size_t k = 0; k < which.size(); ++k) {
      const Component& comp = k_components[which[k]];
      const int64_t n = tokens[which[k]];
      Row r;
      base(r.cells);
      r.billed = parts[k];
      r.list = e ? rate[which[k]].mul_int(n) : Decimal::from_units(parts[k]);
      r.cells[11] = model + " " + comp.description + " (" + tier_name + " tier)";
      r.cells[15] = std::to_string(n);
      r.cells[16] = "Tokens";
      // Prices per million tokens; without a catalog price the unit price columns stay empty.
      if (e) {
        const std::string unit_price = rate[which[k]].mul_int(1000000).to_string();
        r.cells[17] = unit_price;
        r.cells[19] = unit_price;
      }
      r.cells[21] = Decimal::from_int(n).div_int(1000000, money::Rounding::half_even).to_string();
      r.cells[22] = "1000000 Tokens";
      r.cells[29] = comp.meter;
      nlohmann::ordered_json d;
      d["x_TokenDirection"] = std::string(comp.meter) == "Output Tokens" ? "Output" : "Input";
      d["x_TokenCacheAction"] = comp.cache;
      if (*comp.ttl) d["x_CacheTtl"] = comp.ttl;
      r.cells[30] = d.dump();
      r.cells[31] = model + ":" + tier_name + ":" + comp.key;
      // Counts of the group go on its first row, so that columns add up across rows.
      if (k > 0) r.cells[35] = r.cells[36] = "0";
      rows.push_back(std::move(r));
    }
  }
  // Billed cost in the currency's minor unit, the rounding residue allocated by largest remainder:
  // the rows add up to the rounded total exactly, as the report's breakdowns do.
  std::vector<Decimal> exact;
  for (const Row& r : rows) exact.push_back(Decimal::from_units(r.billed));
  const std::vector<Decimal> rounded = money::allocate(exact, cur.minor_units);
  std::string out = csv_row(focus_columns(), true);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string>& c = rows[i].cells;
    const std::string billed = rounded[i].to_string(cur.minor_units);
    c[0] = billed;
    c[1] = billed;
    c[2] = rows[i].list.to_string();
    c[3] = billed;
    out += csv_row(c);
  }
  return out;
}

}  // namespace billctl::report
