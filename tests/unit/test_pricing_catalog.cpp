#include <catch2/catch.hpp>

#include "billctl/pricing/catalog.hpp"
#include "billctl/util/io.hpp"

using namespace billctl;
using money::Decimal;
using pricing::Catalog;
using pricing::PriceOutcome;

namespace {

Decimal D(const char* s) { return Decimal::parse(s).value_or_throw(); }

usage::UsageRecord rec(const char* model, const char* ts = "2026-10-05T12:00:00Z") {
  usage::UsageRecord r;
  r.model = model;
  r.timestamp = *util::parse_rfc3339(ts);
  return r;
}

Decimal cost_of(const Catalog& c, const usage::UsageRecord& r) {
  Decimal d;
  REQUIRE(c.price(r, d) == PriceOutcome::ok);
  return d;
}

}  // namespace

TEST_CASE("the built-in catalog covers the major providers", "[pricing]") {
  const Catalog c = Catalog::builtin();
  CHECK(c.info().models >= 20);
  CHECK(c.info().hash.size() == 64);
  CHECK(c.info().as_of == "2025-11-15");
  size_t openai = 0, anthropic = 0, google = 0;
  for (const auto& e : c.entries()) {
    openai += e.provider == "openai";
    anthropic += e.provider == "anthropic";
    google += e.provider == "google";
    CHECK_FALSE(e.source.empty());
    CHECK_FALSE(e.as_of.empty());
  }
  CHECK(openai >= 5);
  CHECK(anthropic >= 5);
  CHECK(google >= 5);
  CHECK(Catalog::builtin().info().hash == c.info().hash);  // deterministic
}

TEST_CASE("token classes are priced at their own rates", "[pricing]") {
  const Catalog c = Catalog::builtin();
  auto r = rec("claude-sonnet-4-5");  // below the 200K long-context edge
  r.input_tokens = 100'000;
  CHECK(cost_of(c, r) == D("0.3"));
  r.input_tokens = 0;
  r.cached_input_tokens = 100'000;
  CHECK(cost_of(c, r) == D("0.03"));
  r.cached_input_tokens = 0;
  r.cache_write_tokens = 100'000;
  CHECK(cost_of(c, r) == D("0.375"));
  r.cache_write_tokens = 0;
  r.cache_write_1h_tokens = 100'000;
  CHECK(cost_of(c, r) == D("0.6"));
  r.cache_write_1h_tokens = 0;
  r.output_tokens = 1'000'000;
  CHECK(cost_of(c, r) == D("15"));
  r.output_tokens = 1;
  CHECK(cost_of(c, r) == D("0.000015"));
}

TEST_CASE("cache writes without their own rate cost the input rate", "[pricing]") {
  const Catalog c = Catalog::builtin();
  auto r = rec("gpt-4o");
  r.cache_write_tokens = 1'000'000;
  CHECK(cost_of(c, r) == D("2.5"));
}

TEST_CASE("long context reprices the whole request", "[pricing]") {
  const Catalog c = Catalog::builtin();
  auto r = rec("claude-sonnet-4-5");
  r.input_tokens = 200'000;
  r.output_tokens = 1'000;
  CHECK(cost_of(c, r) == D("0.615"));  // at the edge: standard rates
  r.input_tokens = 200'001;
  CHECK(cost_of(c, r) == D("1.2000060") + D("0.0225"));  // every token at the long-context rates
  SECTION("cache reads count toward the threshold") {
    r.input_tokens = 100'000;
    r.cached_input_tokens = 150'000;
    CHECK(cost_of(c, r) == D("0.6") + D("0.09") + D("0.0225"));
  }
  SECTION("a pre-aggregated bucket is judged per request") {
    r.input_tokens = 300'000;
    r.requests = 2;
    CHECK(cost_of(c, r) == D("0.9") + D("0.015"));
  }
}

TEST_CASE("service tiers", "[pricing]") {
  const Catalog c = Catalog::builtin();
  auto r = rec("gpt-5");
  r.input_tokens = 1'000'000;
  r.output_tokens = 1'000'000;
  CHECK(cost_of(c, r) == D("11.25"));
  r.tier = usage::Tier::batch;
  CHECK(cost_of(c, r) == D("5.625"));
  r.tier = usage::Tier::flex;
  CHECK(cost_of(c, r) == D("5.625"));
  r.tier = usage::Tier::priority;
  CHECK(cost_of(c, r) == D("22.5"));
  auto a = rec("claude-haiku-4-5");
  a.tier = usage::Tier::flex;
  Decimal d;
  CHECK(c.price(a, d) == PriceOutcome::tier_unavailable);
  SECTION("batch applies to long-context rates too") {
    auto g = rec("gemini-2.5-pro");
    g.tier = usage::Tier::batch;
    g.input_tokens = 300'000;
    CHECK(cost_of(c, g) == D("0.375"));
  }
}

TEST_CASE("prices are effective-dated", "[pricing]") {
  const Catalog c = Catalog::builtin();
  auto r = rec("gpt-4o", "2024-09-30T23:59:59Z");
  r.input_tokens = 1'000'000;
  CHECK(cost_of(c, r) == D("5"));
  r.timestamp = *util::parse_rfc3339("2024-10-02T00:00:00Z");
  CHECK(cost_of(c, r) == D("2.5"));
  r.timestamp = *util::parse_rfc3339("2023-01-01T00:00:00Z");
  Decimal d;
  CHECK(c.price(r, d) == PriceOutcome::not_in_force);
}

TEST_CASE("model names are normalised", "[pricing]") {
  const Catalog c = Catalog::builtin();
  Decimal d;
  for (const char* m : {"claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5", "Claude-Sonnet-4-5",
                        "gpt-4o-2024-08-06", "openai/gpt-4o", "claude-3-5-haiku-latest", "gemini-2.5-pro@001"}) {
    INFO(m);
    CHECK(c.price(rec(m), d) == PriceOutcome::ok);
  }
  CHECK(c.price(rec("acme-llm-7b"), d) == PriceOutcome::unknown_model);
  CHECK(c.price(rec("gpt-4"), d) == PriceOutcome::unknown_model);
}

TEST_CASE("user catalogs replace a model's whole timeline", "[pricing]") {
  const std::string json = util::read_file(std::string(BILLCTL_FIXTURES) + "/prices-acme.json");
  const auto entries = pricing::parse_catalog_json(json, "prices-acme.json");
  REQUIRE(entries.size() == 2);
  const Catalog c = Catalog::overlay(Catalog::builtin(), entries, "builtin+acme");
  auto r = rec("gpt-4o");
  r.input_tokens = 1'000'000;
  CHECK(cost_of(c, r) == D("2"));
  r.timestamp = *util::parse_rfc3339("2025-06-01T00:00:00Z");
  Decimal d;
  CHECK(c.price(r, d) == PriceOutcome::not_in_force);
  CHECK(c.info().hash != Catalog::builtin().info().hash);
  SECTION("round trip through billctl's format") {
    const auto again = pricing::parse_catalog_json(pricing::to_catalog_json(c.entries(), "x"), "x");
    CHECK(Catalog(again, "x").info().hash == Catalog(c.entries(), "y").info().hash);
  }
}

TEST_CASE("catalog errors name the file and the key", "[pricing]") {
  CHECK_THROWS_WITH(pricing::parse_catalog_json("{\"models\":[{\"model\":\"m\",\"input\":\"-1\"}]}", "f.json"),
                    Catch::Contains("f.json") && Catch::Contains("'input' must not be negative"));
  CHECK_THROWS_WITH(pricing::parse_catalog_json("{\"models\":[{\"model\":\"m\",\"inptu\":\"1\"}]}", "f.json"),
                    Catch::Contains("unknown key 'inptu'"));
  CHECK_THROWS_WITH(pricing::parse_catalog_json("{\"x\":1}", "f.json"), Catch::Contains("no \"models\" array"));
  CHECK_THROWS_WITH(pricing::parse_catalog_json("{\"models\":[", "f.json"), Catch::Contains("invalid JSON"));
  CHECK_THROWS_WITH(pricing::parse_catalog_json("{\"models\":[{\"model\":\"m\",\"input\":\"0.0000001\"}]}", "f.json"),
                    Catch::Contains("more precision"));
}

TEST_CASE("LiteLLM's price file", "[pricing]") {
  const std::string json = util::read_file(std::string(BILLCTL_FIXTURES) + "/litellm-sample.json");
  size_t skipped = 0;
  const auto entries = pricing::parse_litellm_json(json, "dir/litellm.json", 0, &skipped, 20759);
  CHECK(skipped == 2);  // sample_spec and the image model
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].as_of == "2026-11-02");  // the day it was read, not the (undated) 1970 start
  CHECK(entries[0].source == "LiteLLM format, file litellm.json");
  const Catalog c(entries, "litellm");
  auto r = rec("claude-sonnet-4-5");
  r.input_tokens = 100'000;
  r.cached_input_tokens = 10'000;
  r.cache_write_tokens = 10'000;
  r.cache_write_1h_tokens = 10'000;
  r.output_tokens = 10'000;
  CHECK(cost_of(c, r) == D("0.5505"));  // 0.3 + 0.003 + 0.0375 + 0.06 + 0.15
  r.input_tokens = 300'000;             // above 200K: input, cache reads and output at the long rates
  CHECK(cost_of(c, r) == D("1.8") + D("0.006") + D("0.0375") + D("0.06") + D("0.225"));
  r.tier = usage::Tier::batch;
  r.input_tokens = 1'000'000;
  r.cached_input_tokens = r.cache_write_tokens = r.cache_write_1h_tokens = r.output_tokens = 0;
  CHECK(cost_of(c, r) == D("1.5"));
  auto small = rec("acme-llm-7b");
  small.input_tokens = 1'000'000;
  small.output_tokens = 1'000'000;
  CHECK(cost_of(c, small) == D("0.16"));
}

TEST_CASE("a price file in either format is detected", "[pricing]") {
  const std::string litellm = util::read_file(std::string(BILLCTL_FIXTURES) + "/litellm-sample.json");
  const auto a = pricing::parse_price_file(litellm, "l.json", "auto", 0, 0);
  CHECK(a.format == "litellm");
  CHECK(a.entries.size() == 2);
  const std::string own = util::read_file(std::string(BILLCTL_FIXTURES) + "/prices-acme.json");
  const auto b = pricing::parse_price_file(own, "p.json", "auto", 0, 0);
  CHECK(b.format == "billctl");
  CHECK_FALSE(b.entries.empty());
  CHECK_THROWS_WITH(pricing::parse_price_file("{}", "e.json", "auto", 0, 0), Catch::Contains("e.json: no usable prices"));
}
