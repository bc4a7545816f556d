#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "billctl/usage/aggregate.hpp"

using namespace billctl;
using usage::Dim;

namespace {

struct Rec {
  usage::UsageRecord r;
  usage::PricedRecord p;
};

Rec make(const char* user, const char* model, const char* ts, int64_t in, const char* cost, bool error = false) {
  Rec x;
  x.r.user = user;
  x.r.model = model;
  x.r.timestamp = *util::parse_rfc3339(ts);
  x.r.input_tokens = in;
  x.r.status = error ? usage::Status::error : usage::Status::ok;
  x.p.cost = money::Decimal::parse(cost).value_or_throw();
  x.p.source = usage::CostSource::catalog;
  return x;
}

}  // namespace

TEST_CASE("one pass computes many groupings", "[usage][aggregate]") {
  const util::Seconds b = *util::parse_rfc3339("2026-10-01T00:00:00Z");
  const util::Seconds e = *util::parse_rfc3339("2026-11-01T00:00:00Z");
  usage::Aggregator agg({{b, e, {}, {}},
                         {b, e, {}, {Dim::user}},
                         {b, e, {}, {Dim::day, Dim::model}},
                         {b, e, usage::parse_filters({"user=bob", "user=carol"}), {Dim::model}},
                         {b, e, {}, {Dim::week}},
                         {b, e, {}, {Dim::hour}}});
  std::vector<Rec> recs{make("alice", "m1", "2026-10-01T10:00:00Z", 10, "1.5"),
                        make("bob", "m2", "2026-10-01T11:00:00Z", 20, "0.25", true),
                        make("alice", "m1", "2026-10-02T10:00:00Z", 30, "2"),
                        make("carol", "m1", "2026-09-30T23:59:59Z", 40, "100"),  // outside
                        make("carol", "m1", "2026-10-31T23:59:59Z", 50, "0.000000000001")};
  for (auto& x : recs) {
    x.p.record = &x.r;
    agg.add(x.p);
  }
  auto res = agg.results();
  REQUIRE(res.size() == 6);
  const auto total = res[0].total();
  CHECK(total.records == 4);
  CHECK(total.input_tokens == 110);
  CHECK(total.error_requests == 1);
  CHECK(total.cost_decimal() == money::Decimal::parse("3.750000000001").value_or_throw());
  REQUIRE(res[1].groups.size() == 3);
  CHECK(res[1].groups[0].keys == std::vector<std::string>{"alice"});
  CHECK(res[1].groups[0].totals.cost_decimal().to_string() == "3.5");
  REQUIRE(res[2].groups.size() == 4);
  CHECK(res[2].groups[0].keys == std::vector<std::string>{"2026-10-01", "m1"});
  REQUIRE(res[3].groups.size() == 2);
  CHECK(res[3].total().records == 2);
  CHECK(res[4].groups[0].keys[0] == "2026-W40");
  CHECK(res[4].groups.back().keys[0] == "2026-W44");
  CHECK(res[5].groups[0].keys[0] == "2026-10-01T10");
  for (const auto& r : res)
    if (!r.groups.empty() && r.groups.size() > 1) CHECK(r.total().records <= total.records);
}

TEST_CASE("time buckets near the first record's and far from it group apart", "[usage][aggregate]") {
  // Hours years apart (a table near the first bucket seen, a map beyond), in no order, repeated.
  usage::Aggregator agg({{0, 7258118400, {}, {Dim::hour}}, {0, 7258118400, {}, {Dim::day}}});
  const char* times[] = {"2026-10-01T10:00:00Z", "1971-01-01T00:30:00Z", "2026-10-01T10:59:59Z", "2150-06-30T23:00:00Z",
                         "2027-12-31T05:00:00Z", "1971-01-01T00:00:01Z", "2026-10-01T09:59:59Z", "2150-06-30T23:10:00Z"};
  std::vector<Rec> recs;
  for (const char* t : times) recs.push_back(make("u", "m", t, 1, "1"));
  for (auto& x : recs) {
    x.p.record = &x.r;
    agg.add(x.p);
  }
  const auto res = agg.results();
  std::vector<std::pair<std::string, int64_t>> hours, days;
  for (const auto& g : res[0].groups) hours.emplace_back(g.keys[0], g.totals.records);
  for (const auto& g : res[1].groups) days.emplace_back(g.keys[0], g.totals.records);
  CHECK(hours == std::vector<std::pair<std::string, int64_t>>{{"1971-01-01T00", 2}, {"2026-10-01T09", 1}, {"2026-10-01T10", 2},
                                                              {"2027-12-31T05", 1}, {"2150-06-30T23", 2}});
  CHECK(days == std::vector<std::pair<std::string, int64_t>>{{"1971-01-01", 2}, {"2026-10-01", 3}, {"2027-12-31", 1}, {"2150-06-30", 2}});
}

TEST_CASE("costs in two currencies are not added", "[usage][aggregate]") {
  usage::Aggregator agg({{0, INT64_MAX, {}, {}}});
  auto a = make("a", "m", "2026-10-01T00:00:00Z", 1, "1");
  auto b = make("b", "m", "2026-10-01T00:00:00Z", 1, "1");
  b.r.currency = money::currency("EUR");
  a.p.record = &a.r;
  b.p.record = &b.r;
  agg.add(a.p);
  CHECK_THROWS_WITH(agg.add(b.p), Catch::Contains("cannot be added without an exchange rate"));
}

TEST_CASE("dimension and filter flags", "[usage]") {
  CHECK(usage::parse_dims("department, model", "--by") == std::vector<Dim>{Dim::department, Dim::model});
  CHECK_THROWS_WITH(usage::parse_dims("modle", "--by"), Catch::Contains("did you mean 'model'?"));
  CHECK_THROWS_WITH(usage::parse_dims("user,user", "--by"), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(usage::parse_filters({"department"}), Catch::Contains("expected KEY=VALUE"));
  CHECK_THROWS_WITH(usage::parse_filters({"day=2026-10-01"}), Catch::Contains("not a filterable dimension"));
  auto f = usage::parse_filters({"user=a", "model=m", "user=b"});
  REQUIRE(f.size() == 2);
  CHECK(f[0].values == std::vector<std::string>{"a", "b"});
}

TEST_CASE("groups of two to five dimensions equal a plain count by key", "[usage][aggregate]") {
  // Two to four dimensions share a flat table of packed ids, five a hash map of id tuples; many
  // groups (past several table growths), compared with a std::map built from the records.
  const util::Seconds b = *util::parse_rfc3339("2026-10-01T00:00:00Z");
  const std::vector<std::vector<Dim>> bys = {{Dim::user, Dim::model},
                                             {Dim::model, Dim::user, Dim::day},
                                             {Dim::feature, Dim::user, Dim::week, Dim::department},
                                             {Dim::feature, Dim::user, Dim::day, Dim::department, Dim::model}};
  std::vector<usage::AggQuery> qs;
  for (const auto& by : bys) qs.push_back({b, b + 31 * 86400, {}, by});
  usage::Aggregator agg(qs);
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back("v" + std::to_string(i));
  std::vector<std::map<std::vector<std::string>, std::pair<int64_t, int64_t>>> want(bys.size());
  uint64_t x = 12345;
  auto next = [&](uint64_t n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return size_t((x >> 33) % n);
  };
  for (int i = 0; i < 20000; ++i) {
    Rec rec = make(names[next(300)].c_str(), names[next(7)].c_str(), "2026-10-01T00:00:00Z", int64_t(next(1000)), "0.5");
    rec.r.feature = names[next(40)];
    rec.r.department = names[next(3)];
    rec.r.timestamp = b + int64_t(next(31 * 86400));
    rec.p.record = &rec.r;
    agg.add(rec.p);
    for (size_t q = 0; q < bys.size(); ++q) {
      std::vector<std::string> key;
      for (Dim d : bys[q])
        key.push_back(d == Dim::day || d == Dim::week ? usage::time_label(d, rec.r.timestamp)
                                                      : std::string(usage::dim_value(rec.r, d)));
      auto& [records, input] = want[q][key];
      ++records;
      input += rec.r.input_tokens;
    }
  }
  const auto got = agg.results();
  REQUIRE(got.size() == bys.size());
  for (size_t q = 0; q < bys.size(); ++q) {
    INFO("query " << q);
    REQUIRE(got[q].groups.size() == want[q].size());
    CHECK(want[q].size() > 1000);
    auto it = want[q].begin();
    for (const auto& g : got[q].groups) {
      CHECK(g.keys == it->first);
      CHECK(g.totals.records == it->second.first);
      CHECK(g.totals.input_tokens == it->second.second);
      ++it;
    }
  }
}
