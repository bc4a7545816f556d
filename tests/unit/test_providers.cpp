// Provider API pages mapped to canonical records and billed lines (the bodies of REFERENCE.md A5
// and B4, whose costs are worked out there by hand), and the pull client's paging, retries and
// authentication errors against a scripted HTTP client.
#include <catch2/catch.hpp>

#include <deque>

#include "billctl/pricing/catalog.hpp"
#include "billctl/providers/pages.hpp"
#include "billctl/providers/pull.hpp"
#include "helpers.hpp"

using namespace billctl;
using providers::Provider;

namespace {

const char* k_openai_completions = R"J({
  "object": "page",
  "data": [
    {
      "object": "bucket", "start_time": 1761955200, "end_time": 1762041600,
      "results": [
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 1240000, "input_cached_tokens": 480000, "input_cache_write_tokens": 0,
          "input_uncached_tokens": 760000, "output_tokens": 212000,
          "num_model_requests": 1843,
          "project_id": "proj_4BhNtYH0z7dWbBtzhibxa65W", "user_id": null, "api_key_id": null,
          "model": "gpt-5-mini-2025-08-07", "batch": null, "service_tier": null
        }
      ]
    }
  ],
  "has_more": false,
  "next_page": null
})J";

const char* k_openai_costs = R"J({
  "object": "page",
  "data": [
    {
      "object": "bucket", "start_time": 1761955200, "end_time": 1762041600,
      "results": [
        {"object": "organization.costs.result", "amount": {"value": 0.202, "currency": "usd"},
         "line_item": "gpt-5-mini-2025-08-07, input", "project_id": "proj_4BhNtYH0z7dWbBtzhibxa65W",
         "api_key_id": null, "quantity": 1240000, "quantity_unit": "tokens"},
        {"object": "organization.costs.result", "amount": {"value": 0.8958740000000000, "currency": "usd"},
         "line_item": "gpt-5-mini-2025-08-07, output", "project_id": "proj_4BhNtYH0z7dWbBtzhibxa65W",
         "api_key_id": null, "quantity": 212000, "quantity_unit": "tokens"}
      ]
    }
  ],
  "has_more": true,
  "next_page": "page_AAAA"
})J";

const char* k_anthropic_messages = R"J({
  "data": [
    {
      "starting_at": "2026-11-01T00:00:00Z",
      "ending_at": "2026-11-02T00:00:00Z",
      "results": [
        {
          "api_key_id": null, "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "model": "claude-sonnet-4-5-20250929", "service_tier": "standard",
          "context_window": null, "inference_geo": null,
          "uncached_input_tokens": 1250000,
          "cache_creation": {"ephemeral_5m_input_tokens": 600000, "ephemeral_1h_input_tokens": 150000},
          "cache_read_input_tokens": 8400000,
          "output_tokens": 310000,
          "server_tool_use": {"web_search_requests": 12}
        }
      ]
    }
  ],
  "has_more": false,
  "next_page": null
})J";

const char* k_anthropic_costs = R"J({
  "data": [
    {
      "starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-02T00:00:00Z",
      "results": [
        {"amount": "375.00", "currency": "USD", "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage - Input Tokens",
         "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "context_window": "0-200k",
         "token_type": "uncached_input_tokens", "inference_geo": "global", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"},
        {"amount": "465.00", "currency": "USD", "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage - Output Tokens",
         "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "context_window": "0-200k",
         "token_type": "output_tokens", "inference_geo": "global", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"},
        {"amount": "252.00", "currency": "USD", "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage - Cache Read",
         "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "context_window": "0-200k",
         "token_type": "cache_read_input_tokens", "inference_geo": "global", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"},
        {"amount": "225.00", "currency": "USD", "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage - Cache Write (5m)",
         "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "context_window": "0-200k",
         "token_type": "cache_creation.ephemeral_5m_input_tokens", "inference_geo": "global", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"},
        {"amount": "90.00", "currency": "USD", "cost_type": "tokens", "description": "Claude Sonnet 4.5 Usage - Cache Write (1h)",
         "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "context_window": "0-200k",
         "token_type": "cache_creation.ephemeral_1h_input_tokens", "inference_geo": "global", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"},
        {"amount": "12.00", "currency": "USD", "cost_type": "web_search", "description": "Web Search Usage", "model": null,
         "service_tier": null, "context_window": null, "token_type": null, "inference_geo": null,
         "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"}
      ]
    }
  ],
  "has_more": false,
  "next_page": null
})J";

money::Decimal price(const providers::PulledRecord& r) {
  static const pricing::Catalog c = pricing::Catalog::builtin();
  usage::UsageRecord v = r.view();
  money::Decimal cost;
  REQUIRE(c.price(v, cost) == pricing::PriceOutcome::ok);
  return cost;
}

}  // namespace

TEST_CASE("OpenAI completions: uncached input, cached, output, requests; priced as REFERENCE A5 works out", "[providers]") {
  const auto p = providers::parse_page(Provider::openai, k_openai_completions, {}, "page.json");
  REQUIRE(p.records.size() == 1);
  const auto& r = p.records[0];
  CHECK(r.input_tokens == 760000);
  CHECK(r.cached_input_tokens == 480000);
  CHECK(r.output_tokens == 212000);
  CHECK(r.requests == 1843);
  CHECK(r.project == "proj_4BhNtYH0z7dWbBtzhibxa65W");
  CHECK(r.provider == "openai");
  CHECK(r.timestamp == 1761955200);
  CHECK(r.line == 7);
  CHECK(price(r) == test::dec("0.626"));
  CHECK(!p.has_more);
}

TEST_CASE("OpenAI: without input_uncached_tokens, cached and cache-write tokens come out of input_tokens", "[providers]") {
  std::string page = k_openai_completions;
  const std::string from = R"("input_uncached_tokens": 760000, )";
  page.erase(page.find(from), from.size());
  page.replace(page.find(R"("input_cache_write_tokens": 0)"), 29, R"("input_cache_write_tokens": 100000)");
  const auto p = providers::parse_page(Provider::openai, page, {}, "page.json");
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].input_tokens == 660000);
  CHECK(p.records[0].cache_write_tokens == 100000);
}

TEST_CASE("OpenAI costs: exact decimal amounts, upper-case currency, model and token class from the line item", "[providers]") {
  const auto p = providers::parse_page(Provider::openai, k_openai_costs, {}, "costs.json");
  REQUIRE(p.billed.size() == 2);
  CHECK(p.billed[0].amount == test::dec("0.202"));
  CHECK(p.billed[1].amount == test::dec("0.895874"));  // never through a double
  CHECK(p.billed[0].currency.name() == "USD");
  CHECK(p.billed[0].model == "gpt-5-mini-2025-08-07");
  CHECK(p.billed[0].token_type == "input");
  CHECK(p.billed[1].token_type == "output");
  CHECK(p.billed[0].day == 1761955200);
  CHECK(p.has_more);
  CHECK(p.next_page == "page_AAAA");
}

TEST_CASE("Anthropic messages: cache writes split 5m/1h, no request counts, web searches as a meter", "[providers]") {
  const auto p = providers::parse_page(Provider::anthropic, k_anthropic_messages, {}, "messages.json");
  REQUIRE(p.records.size() == 2);
  const auto& r = p.records[0];
  CHECK(r.input_tokens == 1250000);
  CHECK(r.cached_input_tokens == 8400000);
  CHECK(r.cache_write_tokens == 600000);
  CHECK(r.cache_write_1h_tokens == 150000);
  CHECK(r.output_tokens == 310000);
  CHECK(r.requests == 0);
  CHECK(r.project == "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ");
  // A day of a 1.25M-token bucket is not one long-context request: standard rates (REFERENCE B4).
  CHECK(price(r) == test::dec("14.07"));
  const auto& m = p.records[1];
  CHECK(m.meter == "web_search_requests");
  CHECK(m.quantity == test::dec("12"));
  CHECK(m.id != r.id);
}

TEST_CASE("Anthropic: the 200k-1M context window is priced at the long-context rates", "[providers]") {
  std::string page = k_anthropic_messages;
  page.replace(page.find(R"("context_window": null)"), 22, R"("context_window": "200k-1M")");
  const auto p = providers::parse_page(Provider::anthropic, page, {}, "messages.json");
  // 1.25×6 + 0.31×22.5 + 8.4×0.6 + 0.6×7.5 + 0.15×12
  CHECK(price(p.records[0]) == test::dec("25.815"));
}

TEST_CASE("Anthropic costs: decimal strings in cents", "[providers]") {
  const auto p = providers::parse_page(Provider::anthropic, k_anthropic_costs, {}, "cost.json");
  REQUIRE(p.billed.size() == 6);
  money::Decimal tokens;
  for (size_t i = 0; i < 5; ++i) tokens += p.billed[i].amount;
  CHECK(tokens == test::dec("14.07"));
  CHECK(p.billed[5].amount == test::dec("0.12"));
  CHECK(p.billed[5].model.empty());
  CHECK(p.billed[5].token_type == "web_search");
  CHECK(p.billed[3].token_type == "cache_write_5m");
  CHECK(p.billed[0].key != p.billed[1].key);
}

TEST_CASE("attribution maps provider ids to billctl's dimensions; unmapped ids stay the project", "[providers]") {
  providers::Mapping m;
  m.organization = "acme";
  m.projects["proj_4BhNtYH0z7dWbBtzhibxa65W"] = {"", "eng", "", "search", "search-api"};
  const auto p = providers::parse_page(Provider::openai, k_openai_completions, m, "page.json");
  CHECK(p.records[0].organization == "acme");
  CHECK(p.records[0].department == "eng");
  CHECK(p.records[0].feature == "search");
  CHECK(p.records[0].project == "search-api");
  const auto q = providers::parse_page(Provider::anthropic, k_anthropic_messages, m, "m.json");
  CHECK(q.records[0].project == "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ");
  CHECK(q.records[0].organization == "acme");
}

TEST_CASE("bad pages are refused naming the file, the line and the value", "[providers]") {
  std::string page = k_openai_completions;
  page.replace(page.find("\"output_tokens\": 212000"), 23, "\"output_tokens\": -5");
  try {
    providers::parse_page(Provider::openai, page, {}, "bad.json");
    FAIL("accepted");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()) == "bad.json:7: invalid output_tokens '-5': expected a count");
  }
  CHECK_THROWS_WITH(providers::parse_page(Provider::openai, "{\"object\": \"page\"}", {}, "x.json"),
                    Catch::Contains("x.json:1: not a openai API page"));
  CHECK_THROWS_WITH(providers::parse_page(Provider::anthropic, "{\"data\": [", {}, "y.json"),
                    Catch::Contains("y.json:1: invalid JSON"));
  CHECK_THROWS_WITH(providers::parse_page(Provider::openai,
                                          R"({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})",
                                          {}, "e.json"),
                    Catch::Contains("an API error"));
}

TEST_CASE("pages are told apart from other JSON by their first bytes", "[providers]") {
  CHECK(providers::sniff_page(k_openai_completions) == Provider::openai);
  CHECK(providers::sniff_page(k_anthropic_costs) == Provider::anthropic);
  CHECK(!providers::sniff_page(R"({"id":"a","timestamp":"2026-10-01T00:00:00Z","model":"gpt-4o"})"));
}

namespace {

// Answers GETs from a script, recording what was asked.
class ScriptedHttp : public net::HttpClient {
 public:
  std::deque<net::HttpResponse> script;
  std::vector<net::HttpRequest> seen;
  net::HttpResponse post(const net::HttpRequest& r) override { return get(r); }
  net::HttpResponse get(const net::HttpRequest& r) override {
    seen.push_back(r);
    if (script.empty()) return ok(R"({"data": [], "has_more": false, "next_page": null})");
    net::HttpResponse res = script.front();
    script.pop_front();
    return res;
  }
  static net::HttpResponse ok(std::string body) {
    net::HttpResponse r;
    r.status = 200;
    r.body = std::move(body);
    return r;
  }
  static net::HttpResponse status(long code, std::string body, long retry_after = -1) {
    net::HttpResponse r;
    r.status = code;
    r.body = std::move(body);
    r.retry_after_s = retry_after;
    return r;
  }
};

providers::PullOptions anthropic_options() {
  providers::PullOptions o;
  o.provider = Provider::anthropic;
  o.base_url = "http://127.0.0.1:1/v1";
  o.api_key = "sk-ant-admin-secret";
  o.key_name = "ANTHROPIC_ADMIN_KEY";
  o.begin = 1793491200;  // 2026-11-01
  o.end = o.begin + 86400;
  return o;
}

}  // namespace

TEST_CASE("fetch follows next_page, retries 429 and 5xx as told, and asks with the key and version", "[providers][pull]") {
  ScriptedHttp http;
  http.script.push_back(ScriptedHttp::status(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})", 0));
  std::string first = k_anthropic_messages;
  first.replace(first.find("\"has_more\": false"), 17, "\"has_more\": true");
  first.replace(first.find("\"next_page\": null"), 17, "\"next_page\": \"page_2\"");
  http.script.push_back(ScriptedHttp::ok(first));
  http.script.push_back(ScriptedHttp::status(503, "upstream", 0));
  http.script.push_back(ScriptedHttp::ok(k_anthropic_messages));
  http.script.push_back(ScriptedHttp::ok(k_anthropic_costs));
  int pages = 0;
  const providers::Page p = providers::fetch(anthropic_options(), http, pages);
  CHECK(pages == 3);
  CHECK(p.records.size() == 4);
  CHECK(p.billed.size() == 6);
  REQUIRE(http.seen.size() == 5);
  CHECK(http.seen[0].url.find("/organizations/usage_report/messages?starting_at=2026-11-01T00%3A00%3A00Z") != std::string::npos);
  CHECK(http.seen[0].url.find("group_by%5B%5D=context_window") != std::string::npos);
  CHECK(http.seen[2].url.find("&page=page_2") != std::string::npos);
  CHECK(http.seen[4].url.find("/organizations/cost_report?") != std::string::npos);
  bool has_key = false, has_version = false;
  for (const auto& [k, v] : http.seen[0].headers) {
    has_key |= k == "x-api-key" && v == "sk-ant-admin-secret";
    has_version |= k == "anthropic-version" && v == "2023-06-01";
  }
  CHECK(has_key);
  CHECK(has_version);
}

TEST_CASE("fetch: 401 is an authentication error naming the variable, never the key", "[providers][pull]") {
  ScriptedHttp http;
  http.script.push_back(ScriptedHttp::status(401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"));
  int pages = 0;
  try {
    providers::fetch(anthropic_options(), http, pages);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::auth);
    const std::string m = e.what();
    CHECK(m.find("ANTHROPIC_ADMIN_KEY") != std::string::npos);
    CHECK(m.find("invalid x-api-key") != std::string::npos);
    CHECK(m.find("sk-ant-admin-secret") == std::string::npos);
  }
}

TEST_CASE("fetch: a provider that keeps failing stops after the attempts with its message", "[providers][pull]") {
  ScriptedHttp http;
  for (int i = 0; i < 5; ++i)
    http.script.push_back(ScriptedHttp::status(500, R"({"error":{"message":"The server had an error"}})", 0));
  providers::PullOptions o = anthropic_options();
  o.max_attempts = 3;
  int pages = 0;
  CHECK_THROWS_WITH(providers::fetch(o, http, pages),
                    Catch::Contains("failed after 3 attempts: HTTP 500: The server had an error; nothing was stored"));
  CHECK(http.seen.size() == 3);
  // A page cursor that comes back again would loop forever: refused.
  ScriptedHttp loop;
  std::string again = k_anthropic_messages;
  again.replace(again.find("\"has_more\": false"), 17, "\"has_more\": true");
  again.replace(again.find("\"next_page\": null"), 17, "\"next_page\": \"page_x\"");
  for (int i = 0; i < 3; ++i) loop.script.push_back(ScriptedHttp::ok(again));
  CHECK_THROWS_WITH(providers::fetch(anthropic_options(), loop, pages), Catch::Contains("returned the page cursor 'page_x' twice"));
}
