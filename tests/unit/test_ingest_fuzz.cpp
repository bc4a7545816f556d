// Seeded random mutations of valid exports: the readers never crash or hang, and every row ends
// up either accepted or rejected with a reason. Runs under ASan+UBSan in scripts/test.
#include <catch2/catch.hpp>

#include "helpers.hpp"

namespace {

struct Lcg {
  uint64_t s;
  uint64_t next() { return s = s * 6364136223846793005ull + 1442695040888963407ull; }
  size_t below(size_t n) { return size_t((next() >> 33) % n); }
};

const char k_csv[] =
    "id,timestamp,model,user,feature,input_tokens,cached_input_tokens,output_tokens,requests,status,cost\n"
    "a,2026-10-01T00:00:00Z,gpt-4o,alice,\"chat, x\",100,5,10,1,ok,\n"
    "b,2026-10-01T01:00:00+02:00,claude-sonnet-4-5,\"b\"\"ob\",\"multi\nline\",200,0,20,2,error,0.5\n"
    "c,2026-10-02T00:00:00Z,gemini-2.5-pro,carol,search,300000,0,30,1,ok,\n";

const char k_jsonl[] =
    "{\"id\":\"a\",\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"user\":\"alice\",\"input_tokens\":100}\n"
    "{\"id\":\"b\",\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"user\":\"b\\u00f6b\",\"cost\":1.5e-3}\n"
    "{\"id\":\"c\",\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"o3\",\"output_tokens\":\"7\",\"x\":[1,{\"y\":null}]}\n";

std::string mutate(std::string s, Lcg& r) {
  static const char k_bytes[] = {'"', ',', '\n', '\r', '{', '}', '[', ']', ':', '\\', '-', '9', 'e', '.', '\0', '\xff', '\xc3'};
  const size_t edits = 1 + r.below(6);
  for (size_t e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = r.below(s.size());
    switch (r.below(4)) {
      case 0: s[at] = k_bytes[r.below(sizeof k_bytes)]; break;
      case 1: s.insert(at, 1, k_bytes[r.below(sizeof k_bytes)]); break;
      case 2: s.erase(at, 1 + r.below(8)); break;
      default: s.insert(at, s.substr(r.below(s.size()), r.below(40))); break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("mutated CSV and JSON Lines never crash the readers", "[ingest][fuzz]") {
  Lcg r{20261124};
  for (int i = 0; i < 1500; ++i) {
    const bool csv = i % 2 == 0;
    const std::string input = mutate(csv ? k_csv : k_jsonl, r);
    INFO("case " << i);
    try {
      auto c = test::read_text(input, csv ? "f.csv" : "f.jsonl");
      for (const auto& [line, reason] : c.rejects) CHECK_FALSE(reason.empty());
    } catch (const billctl::DataError&) {
      // a header the reader refuses as a whole: fine, as long as it says so
    }
  }
}
