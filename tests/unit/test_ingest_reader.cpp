#include <catch2/catch.hpp>

#include <set>

#include "billctl/ingest/claude_line.hpp"

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

TEST_CASE("Claude Code lines read by the scanner exactly as simdjson reads them", "[ingest][claude][property]") {
  // Lines shaped as Claude Code writes them, then mangled at random: values of other types,
  // escapes, repeated keys, unicode, deep nesting, numbers of every form, bytes cut or flipped.
  // Whenever the scanner answers, simdjson must read the line without error and find the same.
  using billctl::ingest::ClaudeLine;
  uint64_t seed = 5;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  const std::vector<std::string> counts = {"12", "0", "-3", "1.5", "1e3", "01", "null", "\"7\"", "9223372036854775807",
                                           "9223372036854775808", "-0", "2E+2", "[1]", "{}", "true"};
  const std::vector<std::string> texts = {"\"a b\"", "\"\"", "\"caf\xc3\xa9\"", "\"tab\\tbed\"", "\"q\\\"q\"",
                                          "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\x\"", "\"\x01\"", "null", "[]",
                                          "[[[[{\"a\":[1,2,{\"b\":null}]}]]]]", "{\"type\":\"assistant\"}", "\"\xff\""};
  auto pick = [&](const std::vector<std::string>& v) { return v[rnd(v.size())]; };
  auto line_of = [&](bool clean) {
    std::string usage = "{\"input_tokens\":" + (rnd(4) ? std::to_string(rnd(5000)) : pick(counts)) +
                        ",\"cache_creation_input_tokens\":" + std::to_string(rnd(900)) +
                        ",\"cache_read_input_tokens\":" + (rnd(4) ? std::to_string(rnd(90000)) : pick(counts));
    if (rnd(2)) usage += ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":" + std::to_string(rnd(500)) +
                         ",\"ephemeral_1h_input_tokens\":" + (rnd(3) ? std::to_string(rnd(500)) : pick(counts)) + "}";
    usage += ",\"output_tokens\":" + (rnd(4) ? std::to_string(rnd(3000)) : pick(counts)) + ",\"service_tier\":" +
             (rnd(3) ? "\"standard\"" : pick(texts)) + "}";
    std::string content = rnd(2) ? "[{\"type\":\"text\",\"text\":" + pick(texts) + "}]"
                                 : "[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Read\",\"input\":{\"file_path\":" +
                                       pick(texts) + ",\"limit\":" + pick(counts) + "}}]";
    std::string message = "{\"id\":" + std::string(rnd(6) ? "\"msg_" + std::to_string(rnd(50)) + "\"" : pick(texts)) +
                          ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
                          (rnd(6) ? "\"claude-sonnet-4-5-20250929\"" : pick(texts)) + ",\"content\":" + content;
    if (rnd(8)) message += ",\"usage\":" + (rnd(12) ? usage : pick(texts));
    if (rnd(10) == 0) message += ",\"usage\":" + usage;  // a repeated key: the last one counts
    message += "}";
    std::string line = "{\"parentUuid\":null,\"isSidechain\":" + std::string(rnd(2) ? "true" : "false") +
                       ",\"cwd\":\"/home/dev/p" + std::to_string(rnd(9)) + "\",\"sessionId\":\"s-" + std::to_string(rnd(9)) +
                       "\",\"type\":" + (rnd(5) ? "\"assistant\"" : pick(texts)) + ",\"message\":" +
                       (rnd(15) ? message : pick(texts)) + ",\"requestId\":\"req_" + std::to_string(rnd(50)) +
                       "\",\"timestamp\":\"2026-10-0" + std::to_string(1 + rnd(9)) + "T10:00:00.123Z\"";
    if (rnd(12) == 0) line += ",\"type\":\"user\"";
    if (rnd(12) == 0) line += ",\"" + std::string(rnd(2) ? "ty\\u0070e" : "x\\ny") + "\":\"assistant\"";
    line += "}";
    if (clean) return line;
    static constexpr std::string_view k_bytes = "\"{}[],:\\ x0-e";
    if (rnd(5) == 0) line[rnd(line.size())] = k_bytes[rnd(k_bytes.size())];  // one byte changed
    if (rnd(12) == 0) line.resize(rnd(line.size()));                      // cut short
    if (rnd(15) == 0) line = " " + line + (rnd(2) ? " " : " x");
    return line;
  };
  simdjson::ondemand::parser parser;
  int fast = 0, slow_ok = 0, typical = 0;
  for (int i = 0; i < 20000; ++i) {
    // Every tenth line valid JSON without escapes in the fields billing reads: the scanner's own.
    const bool clean = i % 10 == 0;
    std::string line;
    do line = line_of(clean);
    while (clean && (line.find('\\') != std::string::npos || line.find("\x01") != std::string::npos ||
                     line.find("\xff") != std::string::npos || line.find(":01") != std::string::npos));
    std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, ' ');
    ClaudeLine a, b;
    const bool scanned = billctl::ingest::scan_claude_line(line, a);
    const std::string why = billctl::ingest::parse_claude_line(parser, std::string_view(padded.data(), line.size()), padded.size(), b);
    slow_ok += why.empty();
    if (!scanned) continue;
    ++fast;
    INFO(line);
    REQUIRE(why.empty());
    CHECK(a.type == b.type);
    CHECK(a.request_id == b.request_id);
    CHECK(a.cwd == b.cwd);
    CHECK(a.session == b.session);
    CHECK(a.timestamp == b.timestamp);
    CHECK(a.msg_id == b.msg_id);
    CHECK(a.model == b.model);
    CHECK(a.tier == b.tier);
    CHECK(a.has_usage == b.has_usage);
    CHECK(a.has_split == b.has_split);
    CHECK(a.input == b.input);
    CHECK(a.output == b.output);
    CHECK(a.cache_read == b.cache_read);
    CHECK(a.cache_write == b.cache_write);
    CHECK(a.cache_write_5m == b.cache_write_5m);
    CHECK(a.cache_write_1h == b.cache_write_1h);
    typical += i % 10 == 0;
  }
  CHECK(typical == 2000);
  CHECK(fast > 5000);
  CHECK(slow_ok > fast);    // and the scanner leaves some lines simdjson reads
}

TEST_CASE("a line mentions usage when the quoted word is anywhere in it, at any alignment", "[ingest][claude]") {
  uint64_t seed = 3;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  const std::string alphabet = "\"usage\\ x";
  int found = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    const size_t n = rnd(80);
    for (size_t k = 0; k < n; ++k) line += alphabet[rnd(alphabet.size())];
    if (rnd(3) == 0) line.insert(rnd(line.size() + 1), "\"usage\"");
    const bool want = line.find("\"usage\"") != std::string::npos;
    found += want;
    INFO(line);
    REQUIRE(billctl::ingest::mentions_usage(line) == want);
  }
  CHECK(found > 5000);
  CHECK_FALSE(billctl::ingest::mentions_usage("{\"type\":\"user\",\"message\":{\"content\":\"the \\\"usage\\\" key\"}}"));
}
