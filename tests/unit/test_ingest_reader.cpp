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
