#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "billctl/ingest/flat_json.hpp"
#include "billctl/util/simd.hpp"

using namespace billctl;
using ingest::FlatFields;

namespace {

std::vector<std::pair<std::string, std::string>> fields_of(const FlatFields& f, size_t n) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(f[i].key, f[i].value);
  return out;
}

// A random line: mostly a flat export record, with one of many departures from it.
std::string random_line(uint64_t& seed) {
  auto next = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  // The first 11 are valid JSON values (picked most of the time); the others mostly are not, or are
  // left to the exact scanner or to simdjson.
  const char* values[] = {"\"gpt-4o\"", "\"zoe.2\"", "1233", "0", "-7", "1.5", "2e3", "1E-2", "null", "\"\"",
                          "\"DEL\x7f\"", "\"caf\xc3\xa9\"", "\"x\\\"y\"", "\"tab\there\"", "true", "[1]", "{}", "01", "\"a b\"", "-"};
  const char* gaps[] = {"", "", "", "", "", "", "", " ", "  ", "\t", "\r"};
  std::string s = std::string(gaps[next(11)]) + "{";
  const uint64_t fields = next(24);
  for (uint64_t i = 0; i < fields; ++i) {
    if (i) s += std::string(gaps[next(11)]) + "," + gaps[next(11)];
    s += "\"k" + std::to_string(next(30)) + "\"" + gaps[next(11)] + ":" + gaps[next(11)] + (next(8) ? values[next(11)] : values[next(20)]);
  }
  s += std::string(gaps[next(11)]) + "}" + gaps[next(11)];
  // Sometimes a byte changed, dropped or added anywhere (stray quotes, truncation, garbage).
  switch (next(6)) {
    case 0: if (!s.empty()) s[next(s.size())] = "\"{}:,x0 "[next(8)]; break;
    case 1: if (!s.empty()) s.erase(next(s.size()), 1); break;
    case 2: s.insert(next(s.size() + 1), 1, "\"\\:,"[next(4)]); break;
    default: break;
  }
  return s;
}

}  // namespace

TEST_CASE("the fast flat JSON scanner reads an export line as the exact scanner does", "[ingest][jsonl]") {
  const std::string line =
      R"({"timestamp":"2026-10-28T20:20:19.700Z","id":"evt_6e789e6aa1b965f4","user":"zoe.2","input_tokens":1233,)"
      R"("cost":null, "ratio" : -1.5e-3 ,"empty":""})";
  FlatFields a, b;
  size_t na = 0, nb = 0;
  bool plain = false;
  REQUIRE(ingest::scan_flat_object_fast(line, a, na, plain));
  REQUIRE(ingest::scan_flat_object(line, b, nb));
  CHECK(fields_of(a, na) == fields_of(b, nb));
  CHECK(na == 7);
  CHECK(plain);
  CHECK(fields_of(a, na)[3] == std::pair<std::string, std::string>{"input_tokens", "1233"});
  CHECK(fields_of(a, na)[4].second.empty());
  // Left to the exact scanner or to simdjson: escapes, tabs, non-ASCII.
  for (const std::string bad : {R"({"a":"x\"y"})", "{\"a\":\t1}", "{\"a\":\"caf\xc3\xa9\"}"}) CHECK_FALSE(ingest::scan_flat_object_fast(bad, a, na, plain));
}

TEST_CASE("whenever the fast flat JSON scanner vouches for a line, the exact one agrees", "[ingest][jsonl][property]") {
  uint64_t seed = 7;
  size_t vouched = 0, refused_by_both = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string line = random_line(seed);
    FlatFields a, b;
    size_t na = 0, nb = 0;
    bool plain = false;
    const bool fast = ingest::scan_flat_object_fast(line, a, na, plain);
    const bool exact = ingest::scan_flat_object(line, b, nb);
    if (fast) {
      ++vouched;
      INFO(line);
      REQUIRE(exact);
      REQUIRE(fields_of(a, na) == fields_of(b, nb));
      REQUIRE(plain == util::printable_ascii(line));
    } else if (!exact) {
      ++refused_by_both;
    }
  }
  // The generator reaches both outcomes often.
  CHECK(vouched > 5000);
  CHECK(refused_by_both > 5000);
}
