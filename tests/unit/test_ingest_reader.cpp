#include <catch2/catch.hpp>

#include <set>

#include "helpers.hpp"

using billctl::ingest::Format;

namespace {
const std::string k_header = "id,timestamp,model,user,input_tokens,output_tokens,requests\n";
}

TEST_CASE("canonical CSV rows become records", "[ingest]") {
  auto c = test::read_text(k_header + "r1,2026-10-01T00:00:00Z,gpt-4o,alice,10,20,\nr2,2026-10-01T00:00:00+01:00,gpt-4o,bob,1,2,3\n");
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].id == "r1");
  CHECK(c.records[0].requests == 1);
  CHECK(c.records[1].ts == c.records[0].ts - 3600);
  CHECK(c.records[1].line == 3);
  CHECK(c.rejects.empty());
}

TEST_CASE("bad values are rejected with the reason", "[ingest]") {
  auto c = test::read_text(k_header +
                           "a,2026-10-01T00:00:00Z,gpt-4o,u,-5,1,1\n"
                           "b,2026-10-01T00:00:00Z,gpt-4o,u,99999999999999999999,1,1\n"
                           "c,not-a-time,gpt-4o,u,1,1,1\n"
                           "d,2026-10-01T00:00:00Z,,u,1,1,1\n"
                           "e,2026-10-01T00:00:00Z,gpt-4o,u,1,1,0\n"
                           "f,2026-10-01T00:00:00Z,gpt-4o,u,1,1\n"
                           "g,2026-10-01T00:00:00Z,gpt-4o,\xff\xfe,1,1,1\n"
                           "h,2026-10-01T00:00:00Z,gpt-4o,u,1.5,1,1\n");
  CHECK(c.records.empty());
  REQUIRE(c.rejects.size() == 8);
  CHECK(c.rejects[0].second == "invalid input_tokens '-5': must be a non-negative integer");
  CHECK(c.rejects[1].second == "invalid input_tokens '99999999999999999999': out of range");
  CHECK(c.rejects[2].second.find("invalid timestamp 'not-a-time'") == 0);
  CHECK(c.rejects[3].second == "missing model (required for token records)");
  CHECK(c.rejects[4].second == "invalid requests '0': must be at least 1");
  CHECK(c.rejects[5].second == "expected 7 fields, found 6");
  CHECK(c.rejects[6].second == "invalid user: not valid UTF-8");
  CHECK(c.rejects[7].second == "invalid input_tokens '1.5': must be a non-negative integer");
  CHECK(c.rejects[0].first == 2);
}

TEST_CASE("a header without a timestamp is refused as a whole", "[ingest]") {
  CHECK_THROWS_WITH(test::read_text("model,user\ngpt-4o,u\n"), Catch::Contains("no 'timestamp' column"));
  CHECK_THROWS_WITH(test::read_text("timestamp,model,model\n"), Catch::Contains("appears twice"));
}

TEST_CASE("derived ids: stable per file, distinct per row", "[ingest]") {
  const std::string content =
      "timestamp,model,input_tokens\n2026-10-01T00:00:00Z,gpt-4o,1\n2026-10-01T00:00:00Z,gpt-4o,1\n";
  auto a = test::read_text(content);
  auto b = test::read_text(content);
  REQUIRE(a.records.size() == 2);
  CHECK(a.records[0].id != a.records[1].id);  // two identical rows both count
  CHECK(a.records[0].id == b.records[0].id);  // re-reading is a no-op
  CHECK(a.records[0].id.rfind("r:", 0) == 0);
}

TEST_CASE("JSON Lines", "[ingest][jsonl]") {
  auto c = test::read_text(
      "{\"id\":\"x\",\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"input_tokens\":5,\"output_tokens\":\"6\","
      "\"nested\":{\"a\":[1,2]}}\n"
      "\n"
      "{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"input_tokens\":-1}\n"
      "{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\"\n"
      "[1,2]\n"
      "{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"user\":\"caf\\u00e9\",\"input_tokens\":1.5e3}\n",
      "in.jsonl");
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].input == 5);
  CHECK(c.records[0].output == 6);
  REQUIRE(c.rejects.size() == 4);
  CHECK(c.rejects[0].first == 3);
  CHECK(c.rejects[0].second == "invalid input_tokens '-1': must be a non-negative integer");
  CHECK(c.rejects[1].second.find("invalid JSON") == 0);
  CHECK(c.rejects[2].second.find("invalid JSON") == 0);
  CHECK(c.rejects[3].second == "invalid input_tokens '1.5e3': must be a non-negative integer");
}

TEST_CASE("format detection", "[ingest]") {
  CHECK(test::read_text("{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"m\"}\n", "data.txt").records.size() == 1);
  CHECK(test::read_text("timestamp,model\n2026-10-01T00:00:00Z,m\n", "data.txt").records.size() == 1);
}

TEST_CASE("Claude Code session logs are de-duplicated by message and request id", "[ingest][claude]") {
  test::Collector c;
  const std::string dir = std::string(BILLCTL_FIXTURES) + "/claude-code";
  for (const auto& f : billctl::ingest::expand_inputs({dir})) billctl::ingest::read_source(f, Format::auto_detect, {}, c);
  // 3 usage lines in session-1 (one synthetic, skipped), 2 in session-2 of which one repeats msg_01B.
  REQUIRE(c.records.size() == 5);
  std::set<std::string> ids;
  for (const auto& r : c.records) ids.insert(r.id);
  CHECK(ids == std::set<std::string>{"cc:msg_01A:req_01A", "cc:msg_01B:req_01B", "cc:msg_02A:req_02A"});
  CHECK(c.records[0].feature == "claude-code");
  CHECK(c.rejects.empty());
}

TEST_CASE("flat JSON Lines records read without the parser exactly as the parser reads them", "[ingest][jsonl][property]") {
  // Each line is read twice: as written (flat records take the fast scan) and with an escaped
  // unknown key in front, which sends the line to simdjson. Records and reasons must be equal.
  const std::vector<std::string> keys = {"timestamp", "id", "model", "user", "feature", "input_tokens", "output_tokens",
                                         "requests", "note", "status", "cost", "currency"};
  const std::vector<std::string> values = {
      "\"2026-10-01T00:00:00Z\"", "\"2026-10-01T00:00:00.123Z\"", "\"gpt-4o\"", "\"claude-haiku-4-5\"", "\"alice\"",
      "\"a b\"", "\"\"", "\"x\x7fy\"", "\"caf\xc3\xa9\"", "\"tab\\tbed\"", "12", "0", "-3", "1.5", "1e3", "2E+2", "01",
      "null", "true", "[1]", "{\"a\":1}", "\"USD\"", "\"ok\"", "\"error\"", "0.25", "-0", "1.", "-"};
  uint64_t seed = 11;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  std::string fast, slow;
  for (int i = 0; i < 4000; ++i) {
    std::string body;
    const size_t n = rnd(9);
    for (size_t k = 0; k < n; ++k) {
      const std::string ws = rnd(6) == 0 ? " " : rnd(8) == 0 ? "\t" : "";
      body += (k ? "," + ws : "") + "\"" + keys[rnd(keys.size())] + "\"" + ws + ":" + ws + values[rnd(values.size())];
    }
    if (rnd(3)) body = "\"timestamp\":\"2026-10-0" + std::to_string(1 + rnd(9)) + "T10:00:00Z\",\"model\":\"gpt-4o\"" +
                       (body.empty() ? "" : ",") + body;
    const std::string tail = rnd(20) == 0 ? " x" : rnd(20) == 0 ? " " : "";
    fast += "{" + body + "}" + tail + "\n";
    slow += "{\"\\u0078\":0" + std::string(body.empty() ? "" : ",") + body + "}" + tail + "\n";
  }
  auto a = test::read_text(fast, "in.jsonl");
  auto b = test::read_text(slow, "in.jsonl");
  REQUIRE(a.records.size() == b.records.size());
  REQUIRE(a.rejects.size() == b.rejects.size());
  CHECK(a.records.size() > 500);
  CHECK(a.rejects.size() > 500);
  for (size_t i = 0; i < a.records.size(); ++i) {
    INFO("record " << i);
    CHECK(a.records[i].line == b.records[i].line);
    CHECK(a.records[i].model == b.records[i].model);
    CHECK(a.records[i].user == b.records[i].user);
    CHECK(a.records[i].feature == b.records[i].feature);
    CHECK(a.records[i].input == b.records[i].input);
    CHECK(a.records[i].output == b.records[i].output);
    CHECK(a.records[i].requests == b.records[i].requests);
    CHECK(a.records[i].ts == b.records[i].ts);
    const bool derived = a.records[i].id.rfind("r:", 0) == 0;  // derived ids hash the line's bytes
    if (!derived) CHECK(a.records[i].id == b.records[i].id);
  }
  for (size_t i = 0; i < a.rejects.size(); ++i) CHECK(a.rejects[i] == b.rejects[i]);
}
