// Gateway and cloud exports: LiteLLM spend logs and the Google Cloud Billing export, in each of
// their containers (CSV with JSON cells, a JSON array, JSON Lines), mapped to the same records.
#include <catch2/catch.hpp>

#include "billctl/ingest/gateways.hpp"
#include "helpers.hpp"

using namespace billctl;

namespace {

const std::string k_litellm_header =
    "request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend,user,end_user,team_id,metadata,status\n";

}  // namespace

TEST_CASE("LiteLLM: prompt tokens include cache reads and writes; team alias, key alias, end user", "[gateways]") {
  const std::string csv = k_litellm_header +
                          "r-1,2026-10-05 09:14:02.311,gpt-4o,openai,5210,412,0.0173,ana,,team-1,"
                          "\"{\"\"user_api_key_alias\"\": \"\"search-backend\"\", \"\"user_api_key_team_alias\"\": \"\"search\"\","
                          " \"\"usage_object\"\": {\"\"prompt_tokens_details\"\": {\"\"cached_tokens\"\": 4096}}}\",success\n"
                          "r-2,2026-10-05T10:00:00Z,claude-sonnet-4-5,anthropic,12000,760,0.05,li,bob,team-2,"
                          "\"{\"\"usage_object\"\": {\"\"cache_creation_input_tokens\"\": 2000, \"\"cache_read_input_tokens\"\": 8000}}\",failure\n";
  const auto c = test::read_text(csv, "spend.csv");
  REQUIRE(c.rejects.empty());
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].id == "litellm:r-1");
  CHECK(c.records[0].input == 5210 - 4096);
  CHECK(c.records[0].user == "ana");
  CHECK(c.records[0].ts == 1791191642);
  CHECK(c.records[1].input == 12000 - 8000 - 2000);
  CHECK(c.records[1].user == "bob");  // the end user wins over the key's user
}

TEST_CASE("LiteLLM: a row whose cached tokens exceed its prompt is refused with its line", "[gateways]") {
  const std::string csv = k_litellm_header +
                          "r-1,2026-10-05 09:14:02,gpt-4o,openai,100,1,0,ana,,,"
                          "\"{\"\"usage_object\"\": {\"\"prompt_tokens_details\"\": {\"\"cached_tokens\"\": 400}}}\",success\n";
  const auto c = test::read_text(csv, "spend.csv");
  REQUIRE(c.rejects.size() == 1);
  CHECK(c.rejects[0].first == 2);
  CHECK(c.rejects[0].second == "prompt_tokens 100 is less than its cached (400) and cache-write (0) parts");
}

TEST_CASE("GCP billing: token SKUs by model and class, credits netted, other services skipped", "[gateways]") {
  const std::string jsonl =
      R"({"service":{"description":"Gemini API"},"sku":{"id":"A","description":"Generate content cached input token count Gemini 2.5 Pro long input"},)"
      R"("usage_start_time":"2026-10-05 00:00:00 UTC","project":{"id":"p1"},"labels":[{"key":"team","value":"research"}],)"
      R"("cost":1.5,"currency":"USD","usage":{"amount":2000000.0,"unit":"count"},"credits":[{"name":"FreeTier","amount":-0.25}],"cost_type":"regular"})"
      "\n"
      R"({"service":{"description":"Compute Engine"},"sku":{"id":"B","description":"N2 core"},"usage_start_time":"2026-10-05 00:00:00 UTC",)"
      R"("cost":0.12,"currency":"USD","usage":{"amount":3600,"unit":"seconds"},"credits":[],"cost_type":"regular"})"
      "\n";
  test::TempDir dir;
  const std::string p = dir.file("billing.jsonl", jsonl);
  struct H : test::Collector {
    std::vector<usage::UsageRecord> full;
    std::vector<std::string> models;
    void on_record(usage::UsageRecord& r, const ingest::Row& row) override {
      Collector::on_record(r, row);
      full.push_back(r);
      models.emplace_back(r.model);
    }
  } h;
  const auto res = ingest::read_source(p, ingest::Format::auto_detect, {}, h);
  CHECK(res.format == ingest::Format::gcp_billing);
  CHECK(res.ignored == 1);
  REQUIRE(h.full.size() == 1);
  CHECK(h.models[0] == "gemini-2.5-pro");
  CHECK(h.full[0].cached_input_tokens == 2000000);
  CHECK(h.full[0].context == usage::Context::long_context);
  CHECK(h.full[0].has_cost);
  CHECK(h.full[0].cost == test::dec("1.25"));
}
