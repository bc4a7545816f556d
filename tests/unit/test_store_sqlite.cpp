#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>

#include "billctl/budgets/budget.hpp"
#include "billctl/ingest/ingestor.hpp"
#include "billctl/ingest/import_store.hpp"
#include "billctl/ingest/read_ahead.hpp"
#include "billctl/store/file_source.hpp"
#include "billctl/store/sqlite/store.hpp"
#include "helpers.hpp"

using namespace billctl;

namespace {

const std::string k_csv =
    "id,timestamp,model,user,input_tokens,output_tokens\n"
    "a,2026-10-01T00:00:00Z,gpt-4o,alice,1000000,0\n"
    "b,2026-10-02T00:00:00Z,gpt-4o-mini,bob,1000000,1000000\n";

// Imports one file; `ahead`: as `usage import` does, read on a second thread (batches of 7
// records) with the transaction's ahead() called there for each record.
uint64_t import_file(store::SqliteStore& st, const std::string& path, ingest::OnError on_error = ingest::OnError::fail,
                     uint64_t* replaced = nullptr, bool ahead = false) {
  const pricing::Catalog c = pricing::Catalog::builtin();
  ingest::IngestOptions o;
  o.on_error = on_error;
  auto txn = st.imports().begin_import(c.info(), 1'800'000'000);
  uint64_t accepted = 0;
  if (ahead) {
    ingest::ToImport to(*txn);
    std::optional<ingest::Ingestor> ing;
    ingest::read_ahead(
        [&](ingest::RecordSink& sink, const std::function<void(const ingest::SourceStats&)>& done) {
          ing.emplace(c, o, sink);
          const auto& s = ing->read(path);
          accepted = s.accepted;
          done(s);
          ing->finish();
        },
        to, true, 7);
  } else {
    ingest::Ingestor ing(c, o, *txn);
    const auto& s = ing.read(path);
    accepted = s.accepted;
    txn->log_source(s);
    ing.finish();
  }
  txn->commit();
  if (replaced) *replaced = txn->source_replaced().at(0);
  return accepted;
}

money::Decimal total_cost(store::SqliteStore& st) {
  auto res = st.usage().aggregate({{0, INT64_MAX, {}, {}}});
  return res[0].total().cost_decimal();
}

}  // namespace

TEST_CASE("a new store is migrated to the current schema", "[store]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("a/b/s.db"));
  CHECK(st.schema_version() == store::k_schema_version);
  store::SqliteStore again(dir.path("a/b/s.db"));  // opening twice is harmless
  CHECK(again.schema_version() == store::k_schema_version);
}

TEST_CASE("a store from a newer billctl is refused", "[store]") {
  test::TempDir dir;
  {
    store::SqliteStore st(dir.path("s.db"));
    store::Db(st.path()).exec("PRAGMA user_version = 99");
  }
  CHECK_THROWS_WITH(store::SqliteStore(dir.path("s.db")), Catch::Contains("newer than this billctl"));
}

TEST_CASE("imports upsert by id", "[store]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  const std::string f = dir.file("u.csv", k_csv);
  CHECK(import_file(st, f) == 2);
  const money::Decimal once = total_cost(st);
  CHECK(once.to_string() == "3.25");  // 2.50 + 0.15 + 0.60
  uint64_t replaced = 0;
  CHECK(import_file(st, f, ingest::OnError::fail, &replaced) == 2);
  CHECK(replaced == 2);
  CHECK(total_cost(st) == once);
  auto log = st.imports().import_log(10);
  REQUIRE(log.size() >= 2);
  CHECK(log[0].replaced == 2);
  CHECK(log[0].digest.size() == 64);
  SECTION("a revised record replaces the earlier one") {
    const std::string g = dir.file("v.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                                            "a,2026-10-01T00:00:00Z,gpt-4o,alice,2000000,0\n");
    import_file(st, g);
    CHECK(total_cost(st).to_string() == "5.75");
    auto res = st.usage().aggregate({{0, INT64_MAX, {}, {}}});
    CHECK(res[0].total().records == 2);
  }
}

TEST_CASE("a failed import leaves the store exactly as it was", "[store]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  import_file(st, dir.file("u.csv", k_csv));
  const std::string bad = dir.file("bad.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                                              "c,2026-10-03T00:00:00Z,gpt-4o,carol,1,1\n"
                                              "d,2026-10-03T00:00:00Z,gpt-4o,carol,x,1\n");
  CHECK_THROWS_WITH(import_file(st, bad), Catch::Contains("bad.csv:3: invalid input_tokens 'x'"));
  auto res = st.usage().aggregate({{0, INT64_MAX, {}, {}}});
  CHECK(res[0].total().records == 2);
  CHECK(st.imports().import_log(10).size() == 1);
}

TEST_CASE("aggregation in SQL matches the in-memory aggregator", "[store][aggregate]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  std::string csv = "id,timestamp,model,user,department,input_tokens,output_tokens,status\n";
  for (int i = 0; i < 500; ++i) {
    csv += "r" + std::to_string(i) + ",2026-10-" + (i % 31 + 1 < 10 ? "0" : "") + std::to_string(i % 31 + 1) + "T" +
           (i % 24 < 10 ? "0" : "") + std::to_string(i % 24) + ":00:00Z," + (i % 3 ? "gpt-4o" : "claude-haiku-4-5") + ",u" +
           std::to_string(i % 17) + ",d" + std::to_string(i % 4) + "," + std::to_string(i * 37 % 5000) + "," +
           std::to_string(i * 11 % 900) + "," + (i % 50 ? "ok" : "error") + "\n";
  }
  const std::string f = dir.file("u.csv", csv);
  import_file(st, f);
  std::vector<usage::AggQuery> qs;
  for (auto by : std::vector<std::vector<usage::Dim>>{{},
                                                      {usage::Dim::user},
                                                      {usage::Dim::day},
                                                      {usage::Dim::week},
                                                      {usage::Dim::month},
                                                      {usage::Dim::hour},
                                                      {usage::Dim::department, usage::Dim::model},
                                                      {usage::Dim::status}})
    qs.push_back({*util::parse_rfc3339("2026-10-03T00:00:00Z"), *util::parse_rfc3339("2026-10-20T00:00:00Z"),
                  usage::parse_filters({"department=d1", "department=d2"}), by});
  const auto sql = st.usage().aggregate(qs);
  const pricing::Catalog catalog = pricing::Catalog::builtin();
  store::FileUsageSource files({f}, catalog, {});
  const auto mem = files.aggregate(qs);
  REQUIRE(sql.size() == mem.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    REQUIRE(sql[i].groups.size() == mem[i].groups.size());
    for (size_t g = 0; g < sql[i].groups.size(); ++g) {
      CHECK(sql[i].groups[g].keys == mem[i].groups[g].keys);
      CHECK(sql[i].groups[g].totals == mem[i].groups[g].totals);
    }
  }
}

TEST_CASE("a scan reads the columns its queries need and answers as the in-memory aggregator", "[store][aggregate]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  st.set_use_rollups(false);  // every query from the records
  std::string csv =
      "id,timestamp,provider,model,organization,department,user,feature,project,session,service_tier,input_tokens,"
      "cached_input_tokens,output_tokens,requests,status\n";
  for (int i = 0; i < 600; ++i) {
    const std::string day = std::to_string(i % 28 + 1);
    csv += "r" + std::to_string(i) + ",2026-10-" + (day.size() < 2 ? "0" : "") + day + "T" + (i % 24 < 10 ? "0" : "") +
           std::to_string(i % 24) + ":15:00Z," + (i % 3 ? "openai,gpt-4.1" : "anthropic,claude-sonnet-4-5") + ",o" +
           std::to_string(i % 2) + ",d" + std::to_string(i % 4) + ",u" + std::to_string(i % 13) + ",f" + std::to_string(i % 5) +
           ",p" + std::to_string(i % 3) + "," + (i % 7 ? "" : "s" + std::to_string(i % 9)) + "," +
           (i % 4 ? "standard" : "batch") + "," + std::to_string(i * 997 % 300000) + "," +
           std::to_string(i * 31 % 2000) + "," + std::to_string(i * 11 % 900) + "," + std::to_string(i % 3 + 1) + "," +
           (i % 10 ? "ok" : "error") + "\n";
  }
  const std::string tokens = dir.file("u.csv", csv);
  const std::string meters = std::string(BILLCTL_FIXTURES) + "/meters.csv";
  import_file(st, tokens);
  import_file(st, meters);
  using D = usage::Dim;
  const util::Seconds b = *util::parse_rfc3339("2026-10-02T00:00:00Z"), e = *util::parse_rfc3339("2026-10-27T00:00:00Z");
  std::vector<usage::AggQuery> qs{
      {b, e, {}, {}},
      {b, e, {}, {D::feature, D::model}},
      {b, e, {}, {D::status, D::model, D::feature}},
      {b, e, {}, {D::service_tier, D::model}},
      {b, e, usage::parse_filters({"project=p1"}), {D::provider, D::session}},
      {b, e, usage::parse_filters({"status=error"}), {D::organization, D::day}},
      {b, e, usage::parse_filters({"model=claude-sonnet-4-5"}), {}},
      {b, e, {}, {D::department, D::user}},
      {b, e, {}, {D::model}},
  };
  qs[6].input_above = 200000;  // the long-context edge of recommendations
  qs[6].input_upto = 220000;
  qs[8].meters = true;
  qs[1].tokens_only = qs[3].tokens_only = true;
  for (size_t i = 0; i < 3; ++i) {  // records-only variants, alone and beside the others
    usage::AggQuery q = qs[i + 1];
    q.records_only = true;
    qs.push_back(q);
  }
  qs.back().by = {D::status, D::user};
  const pricing::Catalog catalog = pricing::Catalog::builtin();
  store::FileUsageSource files({tokens, meters}, catalog, {});
  auto same = [](const usage::AggResult& sql, const usage::AggResult& mem, bool records_only) {
    REQUIRE(sql.groups.size() == mem.groups.size());
    for (size_t g = 0; g < sql.groups.size(); ++g) {
      CHECK(sql.groups[g].keys == mem.groups[g].keys);
      if (records_only) CHECK(sql.groups[g].totals.records == mem.groups[g].totals.records);
      else CHECK(sql.groups[g].totals == mem.groups[g].totals);
    }
    const auto sp = sql.meters.parts(), mp = mem.meters.parts();
    REQUIRE(sp.size() == mp.size());
    for (size_t i = 0; i < sp.size(); ++i) {
      CHECK(sp[i].organization == mp[i].organization);
      CHECK(sp[i].meter == mp[i].meter);
      CHECK(sp[i].unit == mp[i].unit);
      CHECK(sp[i].sum == mp[i].sum);
      CHECK(sp[i].records == mp[i].records);
      CHECK(sp[i].levels.size() == mp[i].levels.size());
    }
  };
  const auto all_sql = st.usage().aggregate(qs);
  const auto all_mem = files.aggregate(qs);
  REQUIRE(all_sql.size() == qs.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    INFO("query " << i);
    CHECK(!all_mem[i].groups.empty());
    same(all_sql[i], all_mem[i], qs[i].records_only);
    // Alone, each query reads fewer columns.
    same(st.usage().aggregate({qs[i]})[0], all_mem[i], qs[i].records_only);
  }
}

TEST_CASE("user prices are kept per model", "[store][pricing]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  const auto entries = pricing::parse_catalog_json(util::read_file(std::string(BILLCTL_FIXTURES) + "/prices-acme.json"), "x");
  CHECK(st.prices().save_user_prices(entries, "acme", 0) == 2);
  CHECK(st.prices().user_prices().size() == 2);
  CHECK(st.prices().user_catalog_name() == "acme");
  CHECK(st.prices().save_user_prices({entries[0]}, "acme2", 0) == 1);
  CHECK(st.prices().user_prices().size() == 2);
}

TEST_CASE("single-scope totals from the hourly rollup match a scan, after replacements too", "[store][quota]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  std::string csv = "id,timestamp,model,user,department,feature,project,organization,input_tokens,output_tokens,status\n";
  for (int i = 0; i < 400; ++i)
    csv += "r" + std::to_string(i) + ",2026-10-0" + std::to_string(i % 9 + 1) + "T" + (i % 24 < 10 ? "0" : "") +
           std::to_string(i % 24) + ":" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + ":17Z," +
           (i % 4 ? "gpt-4o" : "claude-haiku-4-5") + ",u" + std::to_string(i % 3) + ",d" + std::to_string(i % 5) + ",f" +
           std::to_string(i % 2) + ",p" + std::to_string(i % 7) + ",o" + std::to_string(i % 2) + "," +
           std::to_string(1000 + i) + ",10," + (i % 7 ? "ok" : "error") + "\n";
  import_file(st, dir.file("a.csv", csv));
  // Revisions move records to other hours, users, departments and sizes: the rollup must follow.
  import_file(st, dir.file("b.csv", "id,timestamp,model,user,department,input_tokens,output_tokens\n"
                                    "r1,2026-10-05T03:30:00Z,gpt-4o,u2,d9,99999,1\n"
                                    "r2,2026-10-02T02:02:17Z,gpt-4o-mini,u2,d1,5,5\n"));
  // A record removed (as a failed revision would be rolled back by SQL): the delete trigger.
  store::Db(st.path()).exec("DELETE FROM usage WHERE id = 'r3'");
  for (const auto& [b, e] : std::vector<std::pair<const char*, const char*>>{
           {"2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"},  // whole hours
           {"2026-10-02T00:30:00Z", "2026-10-06T13:45:10Z"},  // partial hours at both ends
           {"2026-10-03T05:10:00Z", "2026-10-03T05:50:00Z"}}) {  // inside one hour
    for (const char* scope : {"user=u0", "user=u2", "user=nobody", "department=d1", "department=d9", "feature=f0",
                              "project=p3", "organization=o1", "model=gpt-4o", "provider=anthropic", ""}) {
      const usage::AggQuery q{util::parse_rfc3339(b).value_or_throw(), util::parse_rfc3339(e).value_or_throw(),
                              *scope ? usage::parse_filters({scope}) : std::vector<usage::Filter>{}, {}};
      const auto fast = st.usage().aggregate({q});
      st.set_use_rollups(false);
      const auto scan = st.usage().aggregate({q});
      st.set_use_rollups(true);
      INFO(b << " " << e << " " << scope);
      CHECK(fast[0].total() == scan[0].total());
    }
  }
}

TEST_CASE("a store scan split over two connections gives the same results", "[store][parallel]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  std::string csv = "id,timestamp,model,user,department,input_tokens,output_tokens\n";
  for (int i = 0; i < 777; ++i)
    csv += "r" + std::to_string(i) + ",2026-10-" + (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) +
           "T12:00:00Z," + (i % 2 ? "gpt-4o" : "o3") + ",u" + std::to_string(i % 11) + ",d" + std::to_string(i % 3) + "," +
           std::to_string(i * 13) + ",7\n";
  import_file(st, dir.file("u.csv", csv));
  const std::vector<usage::AggQuery> qs{{0, INT64_MAX, {}, {}},
                                        {0, INT64_MAX, {}, {usage::Dim::user, usage::Dim::model}},
                                        {0, INT64_MAX, usage::parse_filters({"department=d1"}), {usage::Dim::day}}};
  st.set_scan_threads(1);
  const auto one = st.usage().aggregate(qs);
  st.set_scan_threads(2, 1);
  const auto two = st.usage().aggregate(qs);
  REQUIRE(one.size() == two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    REQUIRE(one[i].groups.size() == two[i].groups.size());
    for (size_t g = 0; g < one[i].groups.size(); ++g) {
      CHECK(one[i].groups[g].keys == two[i].groups[g].keys);
      CHECK(one[i].groups[g].totals == two[i].groups[g].totals);
    }
  }
  CHECK(two[0].total().records == 777);
}

namespace {

// Every group of two results, compared exactly (keys, totals, currency, meter quantities).
bool is_time_dim(usage::Dim d) {
  return d == usage::Dim::day || d == usage::Dim::week || d == usage::Dim::month || d == usage::Dim::hour;
}

void check_same(const usage::AggResult& a, const usage::AggResult& b) {
  REQUIRE(a.groups.size() == b.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    INFO("group " << g);
    CHECK(a.groups[g].keys == b.groups[g].keys);
    CHECK(a.groups[g].totals == b.groups[g].totals);
  }
  if (!a.groups.empty()) CHECK(a.currency == b.currency);
  const auto ma = a.meters.rows(true), mb = b.meters.rows(true);
  REQUIRE(ma.size() == mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    CHECK(ma[i].meter == mb[i].meter);
    CHECK(ma[i].quantity == mb[i].quantity);
    CHECK(ma[i].records == mb[i].records);
  }
}

}  // namespace

TEST_CASE("an import into an empty store leaves every index of the records complete", "[store]") {
  // Records with a meter and with a session: their partial indexes are kept while loading, or
  // dropped at the bound and built at the end; either way each holds exactly its records.
  std::string csv = "id,timestamp,model,user,input_tokens,output_tokens,meter,quantity,unit,session\n";
  for (int i = 0; i < 30; ++i) {
    const std::string ts = "2026-10-0" + std::to_string(1 + i % 9) + "T0" + std::to_string(i % 10) + ":00:00Z";
    if (i % 3 == 0) csv += "m" + std::to_string(i) + "," + ts + ",,alice,0,0,web_search,2,calls,\n";
    else if (i % 3 == 1) csv += "s" + std::to_string(i) + "," + ts + ",gpt-4o,bob,10,5,,,,sess" + std::to_string(i % 4) + "\n";
    else csv += "p" + std::to_string(i) + "," + ts + ",gpt-4o,carol,10,5,,,,\n";
  }
  for (uint64_t bound : {uint64_t(100'000), uint64_t(1), uint64_t(4)}) {
    INFO("bound " << bound);
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    st.set_partial_index_rows(bound);
    CHECK(import_file(st, dir.file("u.csv", csv)) == 30);
    store::Db db(st.path());
    store::Stmt check(db, "PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.text(0) == "ok");
    store::Stmt names(db, "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage' ORDER BY name)");
    REQUIRE(names.step());
    CHECK(names.text(0) == "usage_id usage_meter_ts usage_session_ts usage_ts");
    store::Stmt meters(db, "SELECT count(*) FROM usage INDEXED BY usage_meter_ts WHERE meter != '' AND ts >= 0");
    REQUIRE(meters.step());
    CHECK(meters.int64(0) == 10);
    store::Stmt sessions(db, "SELECT count(*) FROM usage INDEXED BY usage_session_ts WHERE session != '' AND ts >= 0");
    REQUIRE(sessions.step());
    CHECK(sessions.int64(0) == 10);
  }
}

TEST_CASE("rollup answers equal scans after random imports, replacements and failed imports", "[store][rollup][property]") {
  const pricing::Catalog catalog = pricing::Catalog::builtin();
  for (unsigned seed = 1; seed <= 6; ++seed) {
    INFO("seed " << seed);
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    if (seed % 2) st.set_max_rollup_slots(seed * 7);  // imports write their rollup deltas in many pieces
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    const char* models[] = {"gpt-4o", "gpt-4o-mini", "claude-haiku-4-5", "o3"};
    const char* meters[] = {"sql_queries", "storage_gb", "web_search"};
    for (int round = 0; round < 8; ++round) {
      std::string csv = "id,timestamp,model,organization,department,user,feature,project,input_tokens,output_tokens,status,meter,quantity,unit\n";
      const int rows = 20 + pick(60);
      for (int i = 0; i < rows; ++i) {
        char ts[32];
        const int month = pick(12) ? 10 : pick(2) ? 9 : 11;  // a few at the edges of October, outside it
        std::snprintf(ts, sizeof ts, "2026-%02d-%02dT%02d:%02d:%02dZ", month, month == 10 ? 1 + pick(4) : month == 9 ? 30 : 1, pick(24),
                      pick(60), pick(60));
        const bool meter = pick(6) == 0;
        csv += "r" + std::to_string(pick(150)) + "," + ts + "," + (meter ? "" : models[pick(4)]) + ",o" + std::to_string(pick(2)) +
               ",d" + std::to_string(pick(3)) + "," + (pick(5) ? "u" + std::to_string(pick(6)) : "") + ",f" +
               std::to_string(pick(3)) + ",p" + std::to_string(pick(4)) + "," + (meter ? "0,0" : std::to_string(pick(100000)) + "," + std::to_string(pick(5000))) +
               "," + (pick(8) ? "ok" : "error") + "," + (meter ? meters[pick(3)] : "") + "," +
               (meter ? std::to_string(1 + pick(500)) + "." + std::to_string(pick(100)) : "") + "," + (meter ? "units" : "") + "\n";
      }
      const std::string path = dir.file("round" + std::to_string(round) + ".csv", csv);
      if (pick(4) == 0) {
        // A failed import: everything it wrote is rolled back, the rollup included.
        auto txn = st.imports().begin_import(catalog.info(), 1'800'000'000);
        ingest::IngestOptions o;
        ingest::Ingestor ing(catalog, o, *txn);
        ing.read(path);
        ing.finish();
      } else {
        // Read ahead or not: the rollups of an import into an empty store are then added on the
        // reading thread until they outgrow their bound (seeds 1, 3, 5), then by the writing one.
        import_file(st, path, ingest::OnError::fail, nullptr, pick(2));
      }
      if (round > 0 && pick(3) == 0) {
        // An earlier file again: records stored as it holds them are left alone, the others replaced.
        const std::string again = dir.path("round" + std::to_string(pick(round)) + ".csv");
        uint64_t replaced = 0;
        const uint64_t accepted = import_file(st, again, ingest::OnError::fail, &replaced);
        CHECK(replaced <= accepted);
      }
      if (pick(3) == 0) store::Db(st.path()).exec(("DELETE FROM usage WHERE id = 'r" + std::to_string(pick(150)) + "'").c_str());
      if (round == 3) {
        // A budget combining two dimensions registers their pair rollup, filled from what is stored.
        budgets::Budget b;
        b.name = "pair";
        b.scope = {"department:d1", "model:gpt-4o"};
        b.limit = money::Decimal::from_int(10);
        st.budgets().put_budget(b, 0);
      }
      if (round == 5) {
        budgets::Budget b;  // and a triple
        b.name = "triple";
        b.scope = {"department:d1", "model:gpt-4o", "user:u1"};
        b.limit = money::Decimal::from_int(10);
        st.budgets().put_budget(b, 0);
      }
    }
    const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
    for (int k = 0; k < 80; ++k) {
      usage::AggQuery q;
      q.begin = oct1 + (pick(2) ? 0 : pick(4 * 86400));
      q.end = pick(3) ? oct1 + 5 * 86400 : q.begin + pick(2 * 86400);
      const usage::Dim dims[] = {usage::Dim::user, usage::Dim::department, usage::Dim::model, usage::Dim::feature,
                                 usage::Dim::project, usage::Dim::organization, usage::Dim::provider};
      const usage::Dim times[] = {usage::Dim::day, usage::Dim::hour, usage::Dim::week, usage::Dim::month};
      auto value_of = [&](usage::Dim d) -> std::string {
        return d == usage::Dim::model ? (pick(3) ? models[pick(4)] : meters[pick(3)])
               : d == usage::Dim::user ? "u" + std::to_string(pick(6))
               : d == usage::Dim::provider ? (pick(2) ? "openai" : "anthropic")
                                           : std::string(1, usage::dim_name(d)[0]) + std::to_string(pick(3));
      };
      switch (pick(4)) {
        case 0: break;
        case 1: q.by = {times[pick(4)]}; break;
        case 2:
          q.by = pick(2)   ? std::vector<usage::Dim>{dims[pick(7)]}
                 : pick(2) ? std::vector<usage::Dim>{dims[pick(7)], times[pick(4)]}
                           : std::vector<usage::Dim>{times[pick(4)], dims[pick(7)]};  // the time first (the report's chart)
          break;
        default: q.by = {times[pick(4)]}; break;
      }
      if ((q.by.empty() || q.by[0] == usage::Dim::day || q.by[0] == usage::Dim::hour || q.by[0] == usage::Dim::week ||
           q.by[0] == usage::Dim::month) && pick(2)) {
        const usage::Dim d = dims[pick(7)];
        q.where = {{d, {value_of(d)}}};
        if (pick(3) == 0) q.where[0].values.push_back(d == usage::Dim::model ? "o3" : "u1");
      }
      if (q.by.size() == 2 && pick(2)) {
        const usage::Dim d = is_time_dim(q.by[0]) ? q.by[1] : q.by[0];
        q.where = {{d, {value_of(d), value_of(d)}}};  // by a dimension and time, some of its values
      }
      if (pick(4) == 0) {
        // The registered triple: filtered on all three, or grouped by some and filtered on the rest.
        const std::string d = "d" + std::to_string(pick(3)), m = models[pick(4)], u = "u" + std::to_string(pick(6));
        q.where.clear();
        q.by.clear();
        switch (pick(3)) {
          case 0: q.where = {{usage::Dim::user, {u}}, {usage::Dim::department, {d, "d2"}}, {usage::Dim::model, {m}}}; break;
          case 1: q.by = {usage::Dim::user, usage::Dim::department}; q.where = {{usage::Dim::model, {m}}}; break;
          default: q.by = {times[pick(4)]}; q.where = {{usage::Dim::model, {m}}, {usage::Dim::user, {u}}, {usage::Dim::department, {d}}}; break;
        }
      } else if (pick(3) == 0) {
        // A registered pair: grouped by both (either order), or filtered on both.
        const bool org_user = pick(2);
        const usage::Dim a = org_user ? usage::Dim::organization : usage::Dim::department;
        const usage::Dim b = org_user ? usage::Dim::user : usage::Dim::model;
        const std::string va = org_user ? "o" + std::to_string(pick(2)) : "d" + std::to_string(pick(3));
        const std::string vb = org_user ? (pick(4) ? "u" + std::to_string(pick(6)) : "") : models[pick(4)];
        q.where.clear();
        q.by.clear();
        switch (pick(5)) {
          case 4: q.by = {pick(2) ? a : b, times[pick(4)]}; q.where = {{b, {vb}}, {a, {va}}}; break;
          case 0: q.by = pick(2) ? std::vector<usage::Dim>{a, b} : std::vector<usage::Dim>{b, a}; break;
          case 1: q.by = {a, b}; q.where = {{a, {va}}}; break;
          case 2: q.where = {{a, {va}}, {b, {vb, "u1"}}}; break;
          default: q.by = {times[pick(4)]}; q.where = {{b, {vb}}, {a, {va}}}; break;
        }
      }
      q.tokens_only = pick(2);
      q.meters = pick(2);
      if (pick(4) == 0) {
        // Who has records under which department or feature (usage_user_daily): whole days or not,
        // filtered on the dimension, the organization or the user; only the record counts compared.
        const usage::Dim d = pick(2) ? usage::Dim::department : usage::Dim::feature;
        q.by = pick(2) ? std::vector<usage::Dim>{d, usage::Dim::user} : std::vector<usage::Dim>{usage::Dim::user, d};
        q.where.clear();
        if (pick(3) == 0) q.where.push_back({d, {value_of(d), value_of(d)}});
        if (pick(3) == 0) q.where.push_back({usage::Dim::organization, {"o" + std::to_string(pick(2))}});
        if (pick(4) == 0) q.where.push_back({usage::Dim::user, {"u" + std::to_string(pick(6)), ""}});
        const util::Seconds sep1 = oct1 - 30 * 86400, nov1 = oct1 + 31 * 86400, dec1 = nov1 + 30 * 86400;
        switch (pick(4)) {  // whole months (the table answers), or days (a scan does)
          case 0: q.begin = oct1; q.end = nov1; break;
          case 1: q.begin = sep1; q.end = pick(2) ? nov1 : dec1; break;
          case 2: q.begin = nov1; q.end = dec1; break;
          default: q.begin = oct1 + pick(4) * 86400; q.end = q.begin + (1 + pick(4)) * 86400; break;
        }
        q.tokens_only = pick(5) != 0;
        q.records_only = true;
        q.meters = false;
        const auto fast = st.usage().aggregate({q});
        st.set_use_rollups(false);
        const auto scan = st.usage().aggregate({q});
        st.set_use_rollups(true);
        INFO("records only: by " << usage::dim_name(q.by[0]) << "," << usage::dim_name(q.by[1]) << " where " << q.where.size()
                                 << " begin " << q.begin << " end " << q.end << " tokens_only " << q.tokens_only);
        // The scan of a records-only query reads fewer columns: it counts as a full one does.
        usage::AggQuery full = q;
        full.records_only = false;
        st.set_use_rollups(false);
        const auto whole = st.usage().aggregate({full});
        st.set_use_rollups(true);
        REQUIRE(fast[0].groups.size() == scan[0].groups.size());
        REQUIRE(whole[0].groups.size() == scan[0].groups.size());
        for (size_t g = 0; g < fast[0].groups.size(); ++g) {
          CHECK(fast[0].groups[g].keys == scan[0].groups[g].keys);
          CHECK(fast[0].groups[g].totals.records == scan[0].groups[g].totals.records);
          CHECK(whole[0].groups[g].keys == scan[0].groups[g].keys);
          CHECK(whole[0].groups[g].totals.records == scan[0].groups[g].totals.records);
        }
        continue;
      }
      INFO("query " << k << " begin " << q.begin << " end " << q.end << " by " << (q.by.empty() ? "-" : usage::dim_name(q.by[0]))
                    << " where " << (q.where.empty() ? "-" : usage::dim_name(q.where[0].dim)) << " tokens_only " << q.tokens_only);
      const auto fast = st.usage().aggregate({q});
      st.set_use_rollups(false);
      const auto scan = st.usage().aggregate({q});
      st.set_use_rollups(true);
      check_same(fast[0], scan[0]);
    }
  }
}

namespace {

// Every stored record as text (all columns but the import's, which counts from the store's first
// import), in id order.
std::string dump_usage(const std::string& path, const std::string& except_id) {
  store::Db db(path);
  store::Stmt s(db,
                "SELECT id, ts, provider, model, organization, department, user, feature, project, input_tokens,"
                " cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier,"
                " status, cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, session,"
                " import_id - (SELECT MAX(id) FROM imports) FROM usage WHERE id != ?1 ORDER BY id");
  s.bind(1, except_id);
  std::string out;
  while (s.step()) {
    for (int c = 0; c < 26; ++c) out.append(s.text(c)).append(c == 25 ? "\n" : "|");
  }
  return out;
}

}  // namespace

TEST_CASE("an import into an empty store settles repeated ids as record-by-record imports do", "[store][bulk]") {
  const pricing::Catalog c = pricing::Catalog::builtin();
  test::TempDir dir;
  // Repeats within a file and across files, the same record again and a revised one.
  const std::vector<std::string> files = {
      dir.file("1.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                        "a,2026-10-01T00:00:00Z,gpt-4o,alice,1000,10\n"
                        "b,2026-10-01T01:00:00Z,gpt-4o,bob,2000,20\n"
                        "a,2026-10-01T00:00:00Z,gpt-4o,alice,1000,10\n"
                        "c,2026-10-02T00:00:00Z,o3,carol,3000,30\n"
                        "b,2026-10-03T05:00:00Z,gpt-4o-mini,bob,2500,25\n"),
      dir.file("2.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                        "c,2026-10-02T00:00:00Z,o3,carol,3000,30\n"
                        "d,2026-10-04T00:00:00Z,o3,dave,4000,40\n"
                        "a,2026-10-01T00:00:00Z,gpt-4o,alice,9000,90\n"
                        "d,2026-10-04T00:00:00Z,o3,dave,4000,40\n"
                        "a,2026-10-01T00:00:00Z,gpt-4o,alice,1000,10\n")};
  auto import_all = [&](store::SqliteStore& st) {
    ingest::IngestOptions o;
    auto txn = st.imports().begin_import(c.info(), 1'800'000'000);
    ingest::Ingestor ing(c, o, *txn);
    for (const auto& f : files) txn->log_source(ing.read(f));
    ing.finish();
    txn->commit();
    return txn->source_replaced();
  };
  store::SqliteStore empty(dir.path("empty.db"));
  store::SqliteStore seeded(dir.path("seeded.db"));
  import_file(seeded, dir.file("seed.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                                           "seed,2026-09-01T00:00:00Z,gpt-4o,zed,1,1\n"));
  const auto bulk = import_all(empty);
  const auto one_by_one = import_all(seeded);
  CHECK(bulk == std::vector<uint64_t>{2, 4});
  CHECK(one_by_one == bulk);
  CHECK(dump_usage(empty.path(), "seed") == dump_usage(seeded.path(), "seed"));
  auto log = empty.imports().import_log(10);
  REQUIRE(log.size() == 2);
  CHECK(log[0].replaced == 4);
  CHECK(log[1].replaced == 2);
  // The rollups took out what was replaced: they answer as a scan does.
  empty.set_use_rollups(true);
  usage::AggQuery q;
  q.end = INT64_MAX;
  q.by = {usage::Dim::user};
  const auto fast = empty.usage().aggregate({q});
  empty.set_use_rollups(false);
  const auto scan = empty.usage().aggregate({q});
  CHECK(fast[0].total().records == 4);
  check_same(fast[0], scan[0]);
  // The indexes are back: a second import into the now non-empty store goes record by record.
  uint64_t replaced = 0;
  import_file(empty, files[0], ingest::OnError::fail, &replaced);
  CHECK(replaced == 5);
  store::Db db(empty.path());
  store::Stmt idx(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage'");
  idx.step();
  CHECK(idx.int64(0) == 4);
}

TEST_CASE("a re-import finds stored records by their order as by their ids", "[store][reimport]") {
  // A re-import reads the row after the last stored record it met before looking an id up. The
  // same revision of an export in stored order (through revised records, new ones between them,
  // a deleted stretch and a reversed part) and shuffled must leave the same records and rollups.
  auto row = [](const std::string& id, int i, int tokens) {
    return id + ",2026-10-" + (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) + "T" + (i % 24 < 10 ? "0" : "") +
           std::to_string(i % 24) + ":00:00Z," + (i % 3 ? "gpt-4o" : "o3") + ",o" + std::to_string(i % 2) + ",u" +
           std::to_string(i % 7) + "," + std::to_string(tokens) + ",5\n";
  };
  const std::string header = "id,timestamp,model,organization,user,input_tokens,output_tokens\n";
  std::string first = header;
  for (int i = 0; i < 200; ++i) first += row("e" + std::to_string(i), i, 100 + i);
  std::vector<std::string> again;
  for (int i = 0; i < 100; ++i) {
    if (i % 10 == 3) again.push_back(row("n" + std::to_string(i), i, 7));               // new, between stored ones
    again.push_back(row("e" + std::to_string(i), i, i % 7 == 0 ? 999 + i : 100 + i));  // every seventh revised
  }
  for (int i = 199; i >= 100; --i) again.push_back(row("e" + std::to_string(i), i, i % 5 == 0 ? 50 : 100 + i));
  std::vector<std::string> shuffled = again;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto joined = [&](const std::vector<std::string>& rows) {
    std::string out = header;
    for (const auto& r : rows) out += r;
    return out;
  };
  test::TempDir dir;
  const std::string first_path = dir.file("first.csv", first);
  std::string dumps[2];
  for (int order = 0; order < 2; ++order) {
    INFO((order == 0 ? "stored order" : "shuffled"));
    store::SqliteStore st(dir.path("s" + std::to_string(order) + ".db"));
    import_file(st, first_path);
    store::Db(st.path()).exec("DELETE FROM usage WHERE id IN ('e50', 'e51', 'e52', 'e53', 'e54')");
    uint64_t replaced = 0;
    const std::string path = dir.file("again" + std::to_string(order) + ".csv", joined(order == 0 ? again : shuffled));
    CHECK(import_file(st, path, ingest::OnError::fail, &replaced) == 210);
    CHECK(replaced == 195);
    dumps[order] = dump_usage(st.path(), "");
    store::Db db(st.path());
    store::Stmt n(db, "SELECT count(*), sum(input_tokens) FROM usage");
    REQUIRE(n.step());
    CHECK(n.int64(0) == 210);
    store::Stmt t(db, "SELECT group_concat(v, ' ') FROM (SELECT id || '=' || input_tokens AS v FROM usage"
                      " WHERE id IN ('e7', 'e8', 'e50', 'e150', 'n3') ORDER BY id)");
    REQUIRE(t.step());
    CHECK(t.text(0) == "e150=50 e50=150 e7=1006 e8=108 n3=7");
    for (usage::Dim d : {usage::Dim::user, usage::Dim::organization, usage::Dim::hour}) {
      usage::AggQuery q;
      q.end = INT64_MAX;
      q.by = {d};
      st.set_use_rollups(true);
      const auto fast = st.usage().aggregate({q});
      st.set_use_rollups(false);
      const auto scan = st.usage().aggregate({q});
      CHECK(fast[0].total().records == 210);
      CHECK(fast[0].total().input_tokens == n.int64(1));
      check_same(fast[0], scan[0]);
    }
  }
  CHECK(dumps[0] == dumps[1]);
}

TEST_CASE("a failed import into an empty store leaves it empty, its indexes in place", "[store][bulk]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  const std::string bad = dir.file("bad.csv", "id,timestamp,model,user,input_tokens,output_tokens\n"
                                              "c,2026-10-03T00:00:00Z,gpt-4o,carol,1,1\n"
                                              "d,2026-10-03T00:00:00Z,gpt-4o,carol,x,1\n");
  CHECK_THROWS_WITH(import_file(st, bad), Catch::Contains("bad.csv:3: invalid input_tokens 'x'"));
  store::Db db(st.path());
  store::Stmt s(db, "SELECT (SELECT count(*) FROM usage), (SELECT count(*) FROM usage_dim_hourly),"
                    " (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage')");
  s.step();
  CHECK(s.int64(0) == 0);
  CHECK(s.int64(1) == 0);
  CHECK(s.int64(2) == 4);
}

TEST_CASE("a schema-14 store gets who has usage where per month from its records", "[store][presence]") {
  test::TempDir dir;
  const std::string csv = dir.file("u.csv",
                                   "id,timestamp,model,organization,department,user,feature,input_tokens,output_tokens,meter,quantity,unit\n"
                                   "a,2026-10-01T10:00:00Z,gpt-4o,acme,eng,alice,chat,10,1,,,\n"
                                   "b,2026-10-01T23:59:59Z,gpt-4o,acme,eng,alice,search,10,1,,,\n"
                                   "c,2026-10-02T00:00:00Z,gpt-4o,acme,eng,bob,chat,10,1,,,\n"
                                   "d,2026-10-02T05:00:00Z,gpt-4o,zeta,eng,bob,chat,10,1,,,\n"
                                   "e,2026-10-02T06:00:00Z,,acme,ops,carol,chat,0,0,storage_gb,5,GB\n"
                                   "f,2026-10-03T06:00:00Z,gpt-4o,acme,,dave,,10,1,,,\n"
                                   "g,2026-11-01T00:00:00Z,gpt-4o,acme,eng,alice,chat,10,1,,,\n"
                                   "h,2026-09-30T23:59:59Z,gpt-4o,acme,eng,alice,chat,10,1,,,\n");
  auto presence = [&](const std::string& path) {
    store::Db db(path);
    store::Stmt s(db, "SELECT group_concat(dim || ':' || month || ':' || value || ':' || organization || ':' || user || '=' || records, ' ')"
                      " FROM (SELECT * FROM usage_user_monthly ORDER BY dim, month, value, organization, user)");
    s.step();
    return std::string(s.text(0));
  };
  // Months are year * 12 + month - 1: 24320 is 2026-09, 24321 2026-10, 24322 2026-11 (UTC).
  const std::string want =
      "department:24320:eng:acme:alice=1 department:24321::acme:dave=1 department:24321:eng:acme:alice=2 "
      "department:24321:eng:acme:bob=1 department:24321:eng:zeta:bob=1 department:24322:eng:acme:alice=1 "
      "feature:24320:chat:acme:alice=1 feature:24321::acme:dave=1 feature:24321:chat:acme:alice=1 "
      "feature:24321:chat:acme:bob=1 feature:24321:chat:zeta:bob=1 feature:24321:search:acme:alice=1 "
      "feature:24322:chat:acme:alice=1";
  {
    store::SqliteStore st(dir.path("s.db"));
    import_file(st, csv);
    CHECK(presence(st.path()) == want);  // the meter record (carol) is not a user's token usage
    // As the release before left it: no table, no trigger, schema 14.
    store::Db(st.path()).exec("DROP TRIGGER usage_user_monthly_delete; DROP TABLE usage_user_monthly; DROP TABLE credit_rates; PRAGMA user_version = 14");
  }
  store::SqliteStore st(dir.path("s.db"));
  CHECK(st.schema_version() == store::k_schema_version);
  CHECK(presence(st.path()) == want);
  // Deleted records leave it (at the edges of months too); the report's active users then come from
  // it as from a scan.
  store::Db(st.path()).exec("DELETE FROM usage WHERE id IN ('d', 'g', 'h')");
  CHECK(presence(st.path()).find("department:24322:eng:acme:alice=0") != std::string::npos);
  CHECK(presence(st.path()).find("department:24320:eng:acme:alice=0") != std::string::npos);
  usage::AggQuery q{util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw(), util::parse_rfc3339("2026-11-01T00:00:00Z").value_or_throw(),
                    {}, {usage::Dim::department, usage::Dim::user}};
  q.tokens_only = q.records_only = true;
  const auto fast = st.usage().aggregate({q});
  st.set_use_rollups(false);
  const auto scan = st.usage().aggregate({q});
  REQUIRE(fast[0].groups.size() == 3);
  REQUIRE(scan[0].groups.size() == 3);
  for (size_t g = 0; g < 3; ++g) {
    CHECK(fast[0].groups[g].keys == scan[0].groups[g].keys);
    CHECK(fast[0].groups[g].totals.records == scan[0].groups[g].totals.records);
  }
  CHECK(fast[0].groups[1].keys == std::vector<std::string>{"eng", "alice"});
  CHECK(fast[0].groups[1].totals.records == 2);
}
