#include <catch2/catch.hpp>

#include <map>

#include "billctl/store/id_dedupe.hpp"
#include "billctl/store/file_source.hpp"
#include "helpers.hpp"

using namespace billctl;

namespace {

std::vector<usage::AggQuery> queries() {
  return {{0, INT64_MAX, {}, {}},
          {0, INT64_MAX, {}, {usage::Dim::user}},
          {0, INT64_MAX, {}, {usage::Dim::day, usage::Dim::model}},
          {0, INT64_MAX, usage::parse_filters({"user=u1"}), {}}};
}

std::vector<usage::AggResult> run(const std::string& path, unsigned threads, ingest::OnError on_error = ingest::OnError::fail) {
  const pricing::Catalog c = pricing::Catalog::builtin();
  ingest::IngestOptions o;
  o.on_error = on_error;
  store::FileUsageSource src({path}, c, o);
  src.set_threads(threads);
  src.set_parallel_min_bytes(1);
  return src.aggregate(queries());
}

void same(const std::vector<usage::AggResult>& a, const std::vector<usage::AggResult>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].groups.size() == b[i].groups.size());
    for (size_t g = 0; g < a[i].groups.size(); ++g) {
      CHECK(a[i].groups[g].keys == b[i].groups[g].keys);
      CHECK(a[i].groups[g].totals == b[i].groups[g].totals);
    }
  }
}

std::string csv_rows(int n, bool multiline_feature) {
  // `note` is a column billctl ignores: attribution fields refuse line breaks, free text may hold them.
  std::string s = "id,timestamp,model,user,note,input_tokens,output_tokens\n";
  for (int i = 0; i < n; ++i) {
    s += "r" + std::to_string(i) + ",2026-10-" + (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) +
         "T10:00:00Z," + (i % 2 ? "gpt-4o" : "claude-haiku-4-5") + ",u" + std::to_string(i % 13) + ",";
    // A quoted field with line breaks on many rows, so that one spans the split point.
    s += multiline_feature && i % 3 == 0 ? "\"a\nb\n\nc,d\"" : "\"a\nb\"";
    s += "," + std::to_string(100 + i) + "," + std::to_string(i % 50) + "\n";
  }
  return s;
}

}  // namespace

TEST_CASE("reading a file in two halves gives the same result as one pass", "[store][parallel]") {
  test::TempDir dir;
  SECTION("CSV") {
    const std::string p = dir.file("u.csv", csv_rows(3001, false));
    same(run(p, 2), run(p, 1));
    CHECK(run(p, 2)[0].total().records == 3001);
    CHECK(run(p, 2)[3].total().records == 231);  // user u1: every 13th row
  }
  SECTION("CSV with quoted line breaks around the split") {
    for (int n : {2999, 3000, 3001, 3002, 3003}) {
      const std::string p = dir.file("m.csv", csv_rows(n, true));
      same(run(p, 2), run(p, 1));
      CHECK(run(p, 2)[0].total().records == n);
    }
  }
  SECTION("JSON Lines") {
    std::string s;
    for (int i = 0; i < 2000; ++i)
      s += "{\"timestamp\":\"2026-10-0" + std::to_string(i % 9 + 1) + "T00:00:00Z\",\"model\":\"gpt-4o\",\"user\":\"u" +
           std::to_string(i % 7) + "\",\"input_tokens\":" + std::to_string(i) + "}\n";
    const std::string p = dir.file("u.jsonl", s);
    same(run(p, 2), run(p, 1));
  }
}

TEST_CASE("a bad row in the second half is reported at its real line", "[store][parallel]") {
  test::TempDir dir;
  std::string s = csv_rows(2000, false);
  s += "bad,2026-10-01T00:00:00Z,gpt-4o,u,x,not-a-number,1\n";
  s += csv_rows(10, false).substr(s.find('\n') + 1);
  const std::string p = dir.file("u.csv", s);
  // Rows take two lines each (the quoted feature holds a line break): the bad row is on line 4002.
  CHECK_THROWS_WITH(run(p, 2), Catch::Contains("u.csv:4002: invalid input_tokens 'not-a-number'"));
  CHECK_THROWS_WITH(run(p, 1), Catch::Contains("u.csv:4002: invalid input_tokens 'not-a-number'"));
  SECTION("the first bad row in file order wins") {
    std::string t = "id,timestamp,model,user,note,input_tokens,output_tokens\nfirst,2026-10-01T00:00:00Z,gpt-4o,u,f,-1,1\n";
    t += s.substr(s.find('\n') + 1);
    const std::string q = dir.file("v.csv", t);
    CHECK_THROWS_WITH(run(q, 2), Catch::Contains("v.csv:2: invalid input_tokens '-1'"));
  }
  SECTION("skipping counts rejects from both halves") {
    const pricing::Catalog c = pricing::Catalog::builtin();
    ingest::IngestOptions o;
    o.on_error = ingest::OnError::skip;
    store::FileUsageSource src({p}, c, o);
    src.set_parallel_min_bytes(1);
    auto r = src.aggregate(queries());
    CHECK(src.rejected() == 1);
    CHECK(r[0].total().records == 2000);  // the last ten rows repeat ids r0..r9 and replace them, as import would
    CHECK(src.replaced() == 10);
  }
}

TEST_CASE("report --input counts a repeated id once, the last record winning, as import does", "[store][dedupe]") {
  test::TempDir dir;
  // 3000 rows with ids r0..r999 repeated three times, the values differing each time; plus rows
  // without an id (never duplicates). The expected result is the file of last occurrences only.
  std::string dup = "id,timestamp,model,user,input_tokens,output_tokens\n", last = dup;
  std::map<std::string, std::string> final_row;
  std::vector<std::string> order;
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 1000; ++i) {
      const std::string id = "r" + std::to_string((i * 7 + round * 13) % 1000);
      const std::string row = id + ",2026-10-" + (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) + "T10:00:00Z," +
                              (i % 2 ? "gpt-4o" : "claude-haiku-4-5") + ",u" + std::to_string(i % 5) + "," +
                              std::to_string(100 * round + i) + "," + std::to_string(i % 50) + "\n";
      dup += row;
      if (!final_row.count(id)) order.push_back(id);
      final_row[id] = row;
    }
  for (int i = 0; i < 10; ++i) {
    const std::string row = ",2026-10-05T00:00:00Z,gpt-4o,anon,1,1\n";  // identical rows without id both count
    dup += row;
    last += row;
  }
  for (const auto& id : order) last += final_row[id];
  const std::string p = dir.file("dup.csv", dup), q = dir.file("last.csv", last);
  const auto want = run(q, 1);
  CHECK(want[0].total().records == 1010);
  same(run(p, 1), want);
  same(run(p, 2), want);  // the halves of the file replace each other's records too
  SECTION("across files, in the order given") {
    const std::string a = dir.file("a.csv", "id,timestamp,model,input_tokens\nk,2026-10-01T00:00:00Z,gpt-4o,5\n");
    const std::string b = dir.file("b.csv", "id,timestamp,model,input_tokens\nk,2026-10-01T00:00:00Z,gpt-4o,7\n");
    const pricing::Catalog c = pricing::Catalog::builtin();
    store::FileUsageSource src({a, b}, c, ingest::IngestOptions{});
    const auto r = src.aggregate(queries());
    CHECK(r[0].total().records == 1);
    CHECK(r[0].total().input_tokens == 7);
    CHECK(src.replaced() == 1);
  }
}

TEST_CASE("the id log finds repeats the same way in memory and spilled to disk", "[store][dedupe]") {
  std::vector<std::pair<std::string, uint64_t>> log;
  uint64_t seed = 42;
  for (uint64_t i = 0; i < 5000; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    log.emplace_back("id-" + std::to_string((seed >> 33) % 3000), i);
  }
  std::map<std::string, uint64_t> last;
  for (const auto& [id, pos] : log) last[id] = pos;
  std::vector<uint64_t> expected;
  for (const auto& [id, pos] : log)
    if (last[id] != pos) expected.push_back(pos);
  // The records that replace one: every record of an id but its first.
  std::map<std::string, uint64_t> first;
  for (const auto& [id, pos] : log) first.try_emplace(id, pos);
  std::vector<uint64_t> replacing_expected;
  for (const auto& [id, pos] : log)
    if (first[id] != pos) replacing_expected.push_back(pos);
  for (size_t cap : {size_t(16), size_t(1000), size_t(1) << 20}) {
    // Positions one by one in turn (a stretch each) ...
    store::DuplicateFinder f(cap), g(cap);
    for (size_t i = 0; i < log.size(); ++i) (i % 2 ? g : f).add(log[i].first, log[i].second);
    f.absorb(g);
    std::vector<uint64_t> replacing;
    CHECK(f.superseded(&replacing) == expected);
    std::sort(replacing.begin(), replacing.end());
    CHECK(replacing == replacing_expected);
    // ... and in long stretches, the second half's logged first (as two threads' halves are).
    store::DuplicateFinder a(cap), b(cap);
    for (size_t i = 0; i < log.size(); ++i) (i < 3100 ? a : b).add(log[i].first, log[i].second);
    b.absorb(a);
    CHECK(b.superseded() == expected);
  }
}

TEST_CASE("many small files read on two threads give what one thread gives", "[store][parallel]") {
  test::TempDir dir;
  auto run_files = [&](const std::vector<std::string>& paths, unsigned threads, ingest::OnError on_error,
                       uint64_t* rejected = nullptr, uint64_t* replaced = nullptr) {
    const pricing::Catalog c = pricing::Catalog::builtin();
    ingest::IngestOptions o;
    o.on_error = on_error;
    store::FileUsageSource src(paths, c, o);
    src.set_threads(threads);
    auto r = src.aggregate(queries());
    if (rejected) *rejected = src.rejected();
    if (replaced) *replaced = src.replaced();
    return r;
  };
  // 40 files; ids repeat across files (a later file's record replaces an earlier one's, revised).
  std::vector<std::string> paths;
  for (int f = 0; f < 40; ++f) {
    std::string s = "id,timestamp,model,user,input_tokens,output_tokens\n";
    for (int i = 0; i < 50; ++i)
      s += "r" + std::to_string((f * 50 + i) % 1500) + ",2026-10-" + std::to_string(10 + i % 9) + "T0" +
           std::to_string(f % 10) + ":00:00Z,gpt-4o,u" + std::to_string(i % 7) + "," + std::to_string(f * 100 + i) + ",1\n";
    paths.push_back(dir.file("f" + std::to_string(100 + f) + ".csv", s));
  }
  uint64_t rep1 = 0, rep2 = 0;
  const auto one = run_files(paths, 1, ingest::OnError::fail, nullptr, &rep1);
  const auto two = run_files(paths, 2, ingest::OnError::fail, nullptr, &rep2);
  same(two, one);
  CHECK(one[0].total().records == 1500);
  CHECK(rep1 == 500);
  CHECK(rep2 == 500);
  SECTION("the first bad row in file order stops the read, whichever thread meets it") {
    auto bad = paths;
    bad[7] = dir.file("bad7.csv", "id,timestamp,model,user,input_tokens,output_tokens\nx,2026-10-01T00:00:00Z,gpt-4o,u,-7,1\n");
    bad[31] = dir.file("bad31.csv", "id,timestamp,model,user,input_tokens,output_tokens\ny,2026-10-01T00:00:00Z,gpt-4o,u,-31,1\n");
    for (int k = 0; k < 5; ++k) CHECK_THROWS_WITH(run_files(bad, 2, ingest::OnError::fail), Catch::Contains("bad7.csv:2: invalid input_tokens '-7'"));
    uint64_t rej = 0;
    const auto skipped = run_files(bad, 2, ingest::OnError::skip, &rej);
    CHECK(rej == 2);
    same(skipped, run_files(bad, 1, ingest::OnError::skip));
  }
}

TEST_CASE("repeated ids next to each other and far apart: the last record wins, on any split", "[store][dedupe][property]") {
  // Random files whose ids come from a small pool, often repeated on the next row (the lines
  // Claude Code writes for each part of a message), sometimes in a later file; rows without an
  // id in between; meter records among them (whose peaks cannot be taken out, so a replaced one
  // makes the reader read everything again). The result must be that of the winning rows alone.
  test::TempDir dir;
  const pricing::Catalog c = pricing::Catalog::builtin();
  auto meter_queries = [] {
    auto q = queries();
    q[0].meters = true;
    return q;
  };
  const std::string header = "id,timestamp,model,user,input_tokens,output_tokens,meter,unit,quantity\n";
  uint64_t seed = 7;
  auto next = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  for (int round = 0; round < 12; ++round) {
    const bool meters = round % 3 == 2;
    std::vector<std::string> texts;
    std::vector<std::pair<std::string, std::string>> rows;  // (id, row) in the order an import sees them
    const int files = 1 + int(next(4));
    std::string last_id;
    for (int f = 0; f < files; ++f) {
      std::string text = header;
      // Now and then a long file whose first 1,400 records repeat no id next to each other (the
      // reader stops holding records there, and repeats after that go to the id log).
      const bool long_file = round % 4 == 3 && f == 0;
      const int n = long_file ? 1800 : 20 + int(next(200));
      for (int i = 0; i < n; ++i) {
        std::string id;
        const uint64_t k = next(10);
        if (k < 4 && !last_id.empty() && !(long_file && i < 1400)) id = last_id;  // the next part of the same message
        else if (k < 9) id = "m" + std::to_string(long_file && i < 1400 ? i : next(60));  // maybe seen before, far away
        last_id = id;
        const int day = 1 + int(next(28));
        std::string row = id + ",2026-10-" + (day < 10 ? "0" : "") + std::to_string(day) + "T10:00:00Z," +
                          (next(2) ? "gpt-4o" : "claude-haiku-4-5") + ",u" + std::to_string(next(5)) + "," +
                          std::to_string(next(1000)) + "," + std::to_string(next(100)) + ",";
        if (meters && next(8) == 0) row = id + ",2026-10-0" + std::to_string(1 + next(9)) + "T10:00:00Z,,u1,0,0,storage,gb_day," + std::to_string(1 + next(50)) + "\n";
        else row += ",,\n";
        text += row;
        rows.emplace_back(id, row);
      }
      texts.push_back(text);
    }
    std::map<std::string, size_t> winner;
    for (size_t i = 0; i < rows.size(); ++i)
      if (!rows[i].first.empty()) winner[rows[i].first] = i;
    std::string last = header;
    uint64_t replaced = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].first.empty() || winner[rows[i].first] == i) last += rows[i].second;
      else ++replaced;
    }
    std::vector<std::string> paths;
    for (size_t f = 0; f < texts.size(); ++f)
      paths.push_back(dir.file("r" + std::to_string(round) + "-" + std::to_string(f) + ".csv", texts[f]));
    const std::string want_path = dir.file("want" + std::to_string(round) + ".csv", last);
    store::FileUsageSource want_src({want_path}, c, ingest::IngestOptions{});
    want_src.set_threads(1);
    const auto want = want_src.aggregate(meter_queries());
    for (unsigned threads : {1u, 2u})
      for (uint64_t split : {uint64_t(1), uint64_t(1) << 30}) {
        INFO("round " << round << ", " << threads << " thread(s), split at " << split);
        store::FileUsageSource src(paths, c, ingest::IngestOptions{});
        src.set_threads(threads);
        src.set_parallel_min_bytes(split);
        const auto got = src.aggregate(meter_queries());
        same(got, want);
        CHECK(got[0].meters.rows(true).size() == want[0].meters.rows(true).size());
        for (size_t m = 0; m < want[0].meters.rows(true).size(); ++m) {
          CHECK(got[0].meters.rows(true)[m].quantity == want[0].meters.rows(true)[m].quantity);
          CHECK(got[0].meters.rows(true)[m].records == want[0].meters.rows(true)[m].records);
        }
        CHECK(src.replaced() == replaced);
      }
  }
}
