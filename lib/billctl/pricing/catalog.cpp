#include "billctl/pricing/catalog.hpp"

#include <simdjson.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "billctl/util/strings.hpp"
#include "billctl/util/time.hpp"

namespace billctl::pricing {

namespace od = simdjson::ondemand;

namespace {

constexpr int64_t k_million = 1'000'000;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw DataError(origin + ": " + what);
}

// Reads a JSON number or string as an exact decimal.
Decimal json_decimal(od::value v, const std::string& origin, std::string_view key) {
  std::string_view text;
  if (v.type() == od::json_type::string) {
    text = v.get_string();
  } else if (v.type() == od::json_type::number) {
    text = util::trim(v.raw_json_token());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  } else {
    fail(origin, "'" + std::string(key) + "' must be a number");
  }
  auto d = Decimal::parse(text);
  if (!d) fail(origin, "'" + std::string(key) + "': " + d.error());
  if (d->negative()) fail(origin, "'" + std::string(key) + "' must not be negative");
  return *d;
}

Decimal per_token_from_million(Decimal per_m, const std::string& origin, std::string_view key) {
  if (per_m.units() % k_million != 0)
    fail(origin, "'" + std::string(key) + "' has more precision than 1e-18 per token");
  return Decimal::from_units(per_m.units() / k_million);
}

std::string json_string(od::value v, const std::string& origin, std::string_view key) {
  if (v.type() != od::json_type::string) fail(origin, "'" + std::string(key) + "' must be a string");
  return std::string(std::string_view(v.get_string()));
}

// Reads the rate keys of an object (prices per 1M tokens). Unknown keys are left to `other`.
template <typename Other>
void read_rates(od::object obj, Rates& r, const std::string& origin, Other&& other) {
  for (auto field : obj) {
    std::string_view key = field.unescaped_key();
    od::value v = field.value();
    if (key == "input") r.input = per_token_from_million(json_decimal(v, origin, key), origin, key);
    else if (key == "cached_input") {
      r.cached_input = per_token_from_million(json_decimal(v, origin, key), origin, key);
      r.has_cached = true;
    } else if (key == "cache_write_5m") {
      r.cache_write_5m = per_token_from_million(json_decimal(v, origin, key), origin, key);
      r.has_cache_write_5m = true;
    } else if (key == "cache_write_1h") {
      r.cache_write_1h = per_token_from_million(json_decimal(v, origin, key), origin, key);
      r.has_cache_write_1h = true;
    } else if (key == "output") r.output = per_token_from_million(json_decimal(v, origin, key), origin, key);
    else other(key, v);
  }
}

Rates scale(const Rates& r, Decimal f) {
  Rates o = r;
  o.input = r.input.mul(f);
  o.cached_input = r.cached_input.mul(f);
  o.cache_write_5m = r.cache_write_5m.mul(f);
  o.cache_write_1h = r.cache_write_1h.mul(f);
  o.output = r.output.mul(f);
  return o;
}

// A tier is either a multiplier of the standard rates ("0.5") or explicit rates.
struct TierSpec {
  bool present = false;
  bool explicit_rates = false;
  Decimal factor;
  Rates rates;
  bool has_long = false;
  Rates long_rates;
};

PriceEntry parse_entry(od::object obj, const std::string& origin_base, size_t index) {
  PriceEntry e;
  std::string origin = origin_base + ": models[" + std::to_string(index) + "]";
  std::array<TierSpec, 4> tiers;
  Rates long_rates;
  bool has_long = false;
  std::string currency = "USD";
  read_rates(obj, e.tiers[0], origin, [&](std::string_view key, od::value v) {
    if (key == "model") {
      e.model = json_string(v, origin, key);
      origin = origin_base + ": model '" + e.model + "'";
    } else if (key == "provider") e.provider = json_string(v, origin, key);
    else if (key == "effective_from") {
      const std::string text = json_string(v, origin, key);
      auto d = util::parse_date(text);
      if (!d) fail(origin, "effective_from '" + text + "': " + d.error());
      e.effective_day = *d;
    } else if (key == "as_of") e.as_of = json_string(v, origin, key);
    else if (key == "source") e.source = json_string(v, origin, key);
    else if (key == "currency") currency = json_string(v, origin, key);
    else if (key == "aliases") {
      for (auto a : v.get_array()) e.aliases.push_back(json_string(a.value(), origin, key));
    } else if (key == "batch" || key == "flex" || key == "priority") {
      usage::Tier t{};
      usage::parse_tier(key, t);
      TierSpec& ts = tiers[size_t(t)];
      ts.present = true;
      if (v.type() == od::json_type::object) {
        ts.explicit_rates = true;
        read_rates(v.get_object(), ts.rates, origin, [&](std::string_view k, od::value tv) {
          if (k != "long_context") fail(origin, "unknown key '" + std::string(k) + "' in '" + std::string(key) + "'");
          ts.has_long = true;
          read_rates(tv.get_object(), ts.long_rates, origin, [&](std::string_view k2, od::value) {
            fail(origin, "unknown key '" + std::string(k2) + "' in '" + std::string(key) + ".long_context'");
          });
        });
      } else {
        ts.factor = json_decimal(v, origin, key);
      }
    } else if (key == "long_context") {
      has_long = true;
      read_rates(v.get_object(), long_rates, origin, [&](std::string_view k, od::value lv) {
        if (k == "threshold") {
          auto d = json_decimal(lv, origin, k);
          e.long_context_threshold = int64_t(d.units() / Decimal::k_one);
        } else {
          fail(origin, "unknown key '" + std::string(k) + "' in 'long_context'");
        }
      });
    } else if (key == "unit" || key == "notes") {
      // informational
    } else {
      fail(origin, "unknown key '" + std::string(key) + "'");
    }
  });
  if (e.model.empty()) fail(origin, "missing 'model'");
  auto cur = money::find_currency(currency);
  if (!cur) fail(origin, cur.error());
  e.currency = *cur;
  if (has_long && e.long_context_threshold <= 0) fail(origin, "'long_context' needs a positive 'threshold'");
  for (size_t t = 1; t < 4; ++t) {
    if (!tiers[t].present) continue;
    e.tier_available[t] = true;
    e.tiers[t] = tiers[t].explicit_rates ? tiers[t].rates : scale(e.tiers[0], tiers[t].factor);
  }
  if (has_long) {
    e.long_tiers[0] = long_rates;
    for (size_t t = 1; t < 4; ++t) {
      if (!tiers[t].present) continue;
      e.long_tiers[t] = tiers[t].has_long         ? tiers[t].long_rates
                        : tiers[t].explicit_rates ? tiers[t].rates
                                                  : scale(long_rates, tiers[t].factor);
    }
  }
  return e;
}

std::string canonical(const std::vector<PriceEntry>& entries) {
  std::string s;
  auto rates = [&](const Rates& r) {
    s += r.input.to_string() + "," + (r.has_cached ? r.cached_input.to_string() : "-") + "," +
         (r.has_cache_write_5m ? r.cache_write_5m.to_string() : "-") + "," +
         (r.has_cache_write_1h ? r.cache_write_1h.to_string() : "-") + "," + r.output.to_string() + ";";
  };
  for (const auto& e : entries) {
    s += e.model + "|" + e.provider + "|" + std::to_string(e.effective_day) + "|" + std::string(e.currency.name()) +
         "|" + e.as_of + "|";
    for (const auto& a : e.aliases) s += a + ",";
    s += "|";
    for (size_t t = 0; t < 4; ++t) {
      if (!e.tier_available[t]) continue;
      s += std::string(usage::tier_name(usage::Tier(t))) + ":";
      rates(e.tiers[t]);
      if (e.long_context_threshold > 0) {
        s += ">" + std::to_string(e.long_context_threshold) + ":";
        rates(e.long_tiers[t]);
      }
    }
    s += "\n";
  }
  return s;
}

// Strips decorations that name the same model: provider prefixes, "-latest", date suffixes,
// Vertex "@date". Returns the next candidate or empty when nothing more can be stripped.
std::string strip_once(std::string_view m) {
  if (auto slash = m.rfind('/'); slash != std::string_view::npos) return std::string(m.substr(slash + 1));
  if (auto at = m.find('@'); at != std::string_view::npos) return std::string(m.substr(0, at));
  if (util::ends_with(m, "-latest")) return std::string(m.substr(0, m.size() - 7));
  auto all_digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  // -20250929
  if (m.size() > 9 && m[m.size() - 9] == '-' && all_digits(m.substr(m.size() - 8)))
    return std::string(m.substr(0, m.size() - 9));
  // -2024-08-06
  if (m.size() > 11 && m[m.size() - 11] == '-' && all_digits(m.substr(m.size() - 10, 4)) && m[m.size() - 6] == '-' &&
      all_digits(m.substr(m.size() - 5, 2)) && m[m.size() - 3] == '-' && all_digits(m.substr(m.size() - 2)))
    return std::string(m.substr(0, m.size() - 11));
  return {};
}

}  // namespace

Decimal per_million(const Decimal& per_token) { return per_token.mul_int(k_million); }

Catalog::Catalog(std::vector<PriceEntry> entries, std::string name) : m_entries(std::move(entries)) {
  std::stable_sort(m_entries.begin(), m_entries.end(), [](const PriceEntry& a, const PriceEntry& b) {
    return a.model != b.model ? a.model < b.model : a.effective_day < b.effective_day;
  });
  build_index();
  m_info.name = std::move(name);
  m_info.hash = util::sha256_hex(canonical(m_entries));
  for (const auto& e : m_entries) m_info.as_of = std::max(m_info.as_of, e.as_of);
  m_info.models = m_timelines.size();
}

void Catalog::build_index() {
  m_index.clear();
  m_timelines.clear();
  for (size_t i = 0; i < m_entries.size(); ++i) {
    const auto& e = m_entries[i];
    if (i == 0 || m_entries[i - 1].model != e.model) {
      m_timelines.emplace_back();
      m_index[e.model] = int(m_timelines.size() - 1);
    }
    m_timelines.back().push_back(i);
  }
  for (size_t i = 0; i < m_entries.size(); ++i)
    for (const auto& a : m_entries[i].aliases) m_index.emplace(a, m_index.at(m_entries[i].model));
}

Catalog Catalog::overlay(const Catalog& base, const std::vector<PriceEntry>& overrides, std::string name) {
  std::vector<PriceEntry> out;
  for (const auto& e : base.m_entries) {
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const PriceEntry& o) { return o.model == e.model; });
    if (!replaced) out.push_back(e);
  }
  for (const auto& o : overrides) out.push_back(o);
  return Catalog(std::move(out), std::move(name));
}

int Catalog::resolve(std::string_view model) const {
  const int32_t name = m_memo_names.id(model);
  if (size_t(name) < m_memo.size()) return m_memo[size_t(name)];
  int found = -1;
  std::string cand = util::to_lower(model);
  for (int guard = 0; guard < 6 && !cand.empty(); ++guard) {
    if (auto it = m_index.find(std::string_view(model)); guard == 0 && it != m_index.end()) {
      found = it->second;
      break;
    }
    if (auto it = m_index.find(std::string_view(cand)); it != m_index.end()) {
      found = it->second;
      break;
    }
    cand = strip_once(cand);
  }
  m_memo.push_back(found);  // ids are dense: this one is m_memo.size() - 1
  return found;
}

const PriceEntry* Catalog::find(std::string_view model, int64_t day) const {
  const int t = resolve(model);
  if (t < 0) return nullptr;
  const PriceEntry* best = nullptr;
  for (size_t idx : m_timelines[size_t(t)]) {
    if (m_entries[idx].effective_day <= day) best = &m_entries[idx];
  }
  return best;
}

std::vector<const PriceEntry*> Catalog::timeline(std::string_view model) const {
  std::vector<const PriceEntry*> out;
  const int t = resolve(model);
  if (t >= 0)
    for (size_t idx : m_timelines[size_t(t)]) out.push_back(&m_entries[idx]);
  return out;
}

PriceOutcome Catalog::price(const usage::UsageRecord& r, Decimal& cost, const PriceEntry** used) const {
  const int t = resolve(r.model);
  if (t < 0) return PriceOutcome::unknown_model;
  const int64_t day = util::day_of(r.timestamp);
  const PriceEntry* e = nullptr;
  for (size_t idx : m_timelines[size_t(t)])
    if (m_entries[idx].effective_day <= day) e = &m_entries[idx];
  if (!e) return PriceOutcome::not_in_force;
  const size_t tier = size_t(r.tier);
  if (!e->tier_available[tier]) return PriceOutcome::tier_unavailable;
  // Long context is decided per request; a pre-aggregated bucket uses its average request.
  const int64_t reqs = r.requests > 0 ? r.requests : 1;
  const bool long_ctx = e->long_context_threshold > 0 &&
                        (r.context == usage::Context::by_request ? r.total_input() > e->long_context_threshold * reqs
                                                                 : r.context == usage::Context::long_context);
  const Rates& rt = long_ctx ? e->long_tiers[tier] : e->tiers[tier];
  Decimal c = rt.input.mul_int(r.input_tokens);
  c += (rt.has_cached ? rt.cached_input : rt.input).mul_int(r.cached_input_tokens);
  c += (rt.has_cache_write_5m ? rt.cache_write_5m : rt.input).mul_int(r.cache_write_tokens);
  c += (rt.has_cache_write_1h ? rt.cache_write_1h : rt.has_cache_write_5m ? rt.cache_write_5m : rt.input)
           .mul_int(r.cache_write_1h_tokens);
  c += rt.output.mul_int(r.output_tokens);
  cost = c;
  if (used) *used = e;
  return PriceOutcome::ok;
}

std::vector<PriceEntry> parse_catalog_json(std::string_view json, const std::string& origin) {
  std::vector<PriceEntry> out;
  try {
    od::parser parser;
    simdjson::padded_string ps(json);
    od::document doc = parser.iterate(ps);
    od::object root = doc.get_object();
    bool has_models = false;
    for (auto field : root) {
      std::string_view key = field.unescaped_key();
      if (key == "models") {
        has_models = true;
        size_t i = 0;
        for (auto m : field.value().get_array()) out.push_back(parse_entry(m.get_object(), origin, i++));
      }
    }
    if (!has_models) fail(origin, "not a billctl catalog: no \"models\" array");
  } catch (const simdjson::simdjson_error& e) {
    fail(origin, std::string("invalid JSON: ") + e.what());
  }
  return out;
}

std::vector<PriceEntry> parse_litellm_json(std::string_view json, const std::string& origin, int64_t effective_day,
                                           size_t* skipped, int64_t as_of_day) {
  const auto slash = origin.find_last_of('/');
  const std::string file = slash == std::string::npos ? origin : origin.substr(slash + 1);
  std::vector<PriceEntry> out;
  size_t skip = 0;
  try {
    od::parser parser;
    simdjson::padded_string ps(json);
    od::document doc = parser.iterate(ps);
    for (auto field : doc.get_object()) {
      std::string name(std::string_view(field.unescaped_key()));
      od::value v = field.value();
      if (name == "sample_spec" || v.type() != od::json_type::object) {
        ++skip;
        continue;
      }
      PriceEntry e;
      e.model = name;
      e.effective_day = effective_day;
      e.source = "LiteLLM format, file " + file;
      e.as_of = util::format_date(as_of_day);
      const std::string eo = origin + ": '" + name + "'";
      bool has_in = false, has_out = false, unusable = false;
      Rates& r = e.tiers[0];
      Rates lr;
      Rates batch;
      bool has_batch_in = false, has_batch_out = false;
      int64_t threshold = 0;
      auto tok = [&](od::value val, std::string_view key, Decimal& dst) {
        if (val.type() != od::json_type::number && val.type() != od::json_type::string) {
          unusable = true;
          return false;
        }
        auto d = Decimal::parse(val.type() == od::json_type::string ? std::string_view(val.get_string())
                                                                    : util::trim(val.raw_json_token()));
        if (!d || d->negative()) {
          (void)key;
          unusable = true;
          return false;
        }
        dst = *d;
        return true;
      };
      for (auto f : v.get_object()) {
        std::string_view k = f.unescaped_key();
        od::value fv = f.value();
        if (k == "input_cost_per_token") has_in = tok(fv, k, r.input);
        else if (k == "output_cost_per_token") has_out = tok(fv, k, r.output);
        else if (k == "cache_read_input_token_cost") r.has_cached = tok(fv, k, r.cached_input);
        else if (k == "cache_creation_input_token_cost") r.has_cache_write_5m = tok(fv, k, r.cache_write_5m);
        else if (k == "cache_creation_input_token_cost_above_1hr") r.has_cache_write_1h = tok(fv, k, r.cache_write_1h);
        else if (k == "input_cost_per_token_batches") has_batch_in = tok(fv, k, batch.input);
        else if (k == "output_cost_per_token_batches") has_batch_out = tok(fv, k, batch.output);
        else if (k == "litellm_provider" && fv.type() == od::json_type::string) e.provider = std::string(std::string_view(fv.get_string()));
        else if (util::starts_with(k, "input_cost_per_token_above_") && util::ends_with(k, "k_tokens")) {
          std::string_view n = k.substr(27, k.size() - 27 - 8);
          int64_t kt = 0;
          if (util::parse_u63(n, kt) && tok(fv, k, lr.input)) threshold = kt * 1000;
        } else if (util::starts_with(k, "output_cost_per_token_above_") && util::ends_with(k, "k_tokens")) {
          tok(fv, k, lr.output);
        } else if (util::starts_with(k, "cache_read_input_token_cost_above_") && util::ends_with(k, "k_tokens")) {
          lr.has_cached = tok(fv, k, lr.cached_input);
        }
      }
      (void)eo;
      if (!has_in || !has_out || unusable) {
        ++skip;
        continue;
      }
      if (has_batch_in && has_batch_out) {
        e.tier_available[size_t(usage::Tier::batch)] = true;
        batch.cached_input = r.cached_input;
        batch.has_cached = r.has_cached;
        e.tiers[size_t(usage::Tier::batch)] = batch;
      }
      if (threshold > 0) {
        e.long_context_threshold = threshold;
        if (lr.output.is_zero()) lr.output = r.output;
        if (!lr.has_cached) {
          lr.cached_input = r.cached_input;
          lr.has_cached = r.has_cached;
        }
        lr.cache_write_5m = r.cache_write_5m;
        lr.has_cache_write_5m = r.has_cache_write_5m;
        lr.cache_write_1h = r.cache_write_1h;
        lr.has_cache_write_1h = r.has_cache_write_1h;
        e.long_tiers[0] = lr;
        if (e.tier_available[1]) e.long_tiers[1] = e.tiers[1];
      }
      out.push_back(std::move(e));
    }
  } catch (const simdjson::simdjson_error& e) {
    fail(origin, std::string("invalid JSON: ") + e.what());
  }
  if (skipped) *skipped = skip;
  return out;
}

std::string to_catalog_json(const std::vector<PriceEntry>& entries, const std::string& name) {
  using nlohmann::ordered_json;
  auto rates_json = [](const Rates& r) {
    ordered_json j;
    j["input"] = per_million(r.input).to_string();
    if (r.has_cached) j["cached_input"] = per_million(r.cached_input).to_string();
    if (r.has_cache_write_5m) j["cache_write_5m"] = per_million(r.cache_write_5m).to_string();
    if (r.has_cache_write_1h) j["cache_write_1h"] = per_million(r.cache_write_1h).to_string();
    j["output"] = per_million(r.output).to_string();
    return j;
  };
  ordered_json root;
  root["billctl_catalog"] = 1;
  root["name"] = name;
  root["unit"] = "per 1M tokens";
  root["models"] = ordered_json::array();
  for (const auto& e : entries) {
    ordered_json j;
    j["model"] = e.model;
    j["provider"] = e.provider;
    j["effective_from"] = util::format_date(e.effective_day);
    j["as_of"] = e.as_of;
    j["source"] = e.source;
    j["currency"] = std::string(e.currency.name());
    if (!e.aliases.empty()) j["aliases"] = e.aliases;
    const ordered_json base = rates_json(e.tiers[0]);
    for (auto it = base.begin(); it != base.end(); ++it) j[it.key()] = it.value();
    for (size_t t = 1; t < 4; ++t) {
      if (!e.tier_available[t]) continue;
      ordered_json tj = rates_json(e.tiers[t]);
      if (e.long_context_threshold > 0) tj["long_context"] = rates_json(e.long_tiers[t]);
      j[std::string(usage::tier_name(usage::Tier(t)))] = tj;
    }
    if (e.long_context_threshold > 0) {
      ordered_json lc = rates_json(e.long_tiers[0]);
      lc["threshold"] = e.long_context_threshold;
      j["long_context"] = lc;
    }
    root["models"].push_back(j);
  }
  return root.dump(2) + "\n";
}

}  // namespace billctl::pricing

namespace billctl::pricing {

PriceFile parse_price_file(std::string_view text, const std::string& origin, std::string_view format,
                           int64_t effective_day, int64_t as_of_day) {
  PriceFile f;
  f.format = std::string(format);
  if (f.format == "auto")
    f.format = text.find("\"billctl_catalog\"") != std::string_view::npos && text.find("\"models\"") != std::string_view::npos
                   ? "billctl"
                   : "litellm";
  if (f.format == "billctl") f.entries = parse_catalog_json(text, origin);
  else if (f.format == "litellm") f.entries = parse_litellm_json(text, origin, effective_day, &f.skipped, as_of_day);
  else throw UsageError("invalid price file format '" + f.format + "': expected auto, billctl or litellm");
  if (f.entries.empty()) throw DataError(origin + ": no usable prices found (neither a billctl catalog nor LiteLLM's format)");
  return f;
}

}  // namespace billctl::pricing
