#include <catch2/catch.hpp>

#include "billctl/usage/aggregate.hpp"
#include "billctl/usage/meters.hpp"

using namespace billctl;
using money::Decimal;

namespace {

Decimal dec(const char* s) { return *Decimal::parse(s); }

usage::UsageRecord meter(const char* org, const char* project, const char* name, const char* qty, const char* unit, int day,
                         int hour = 12) {
  usage::UsageRecord r;
  r.organization = org;
  r.project = project;
  r.meter = name;
  r.quantity = dec(qty);
  r.unit = unit;
  r.timestamp = 1'790'812'800 + int64_t(day) * 86400 + hour * 3600;  // 2026-10-01 + day
  return r;
}

}  // namespace

TEST_CASE("meters: sums, storage as the peak daily value, compute in hours", "[meters]") {
  const std::vector<usage::UsageRecord> recs = {
      meter("acme", "lake", "sql_queries", "4200", "queries", 0),
      meter("acme", "lake", "sql_queries", "800", "queries", 3),
      // Storage snapshots: the largest of a series on a day; the series of a day add up.
      meter("acme", "lake", "storage_gb", "8.5", "GB", 0, 1),
      meter("acme", "lake", "storage_gb", "9.25", "GB", 0, 23),
      meter("acme", "lake", "storage_gb", "7", "GB", 1),
      meter("acme", "vectors", "storage_gb", "4.5", "GB", 1),
      meter("acme", "lake", "compute_minutes", "135", "minutes", 2),
      meter("acme", "lake", "gpu_seconds", "10", "seconds", 2),
      meter("globex", "etl", "storage_gb", "3", "GB", 1),
  };
  usage::MeterTotals all;
  for (const auto& r : recs) all.add(r);
  const auto rows = all.rows(true);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].meter == "compute_minutes");
  CHECK(rows[0].unit == "hours");
  CHECK(rows[0].quantity == dec("2.25"));
  CHECK(rows[1].meter == "gpu_seconds");  // unknown meters add up in their own unit
  CHECK(rows[1].unit == "seconds");
  CHECK(rows[2].meter == "sql_queries");
  CHECK(rows[2].quantity == dec("5000"));
  CHECK(rows[3].meter == "storage_gb");
  CHECK(rows[3].agg == usage::MeterAgg::peak_daily);
  CHECK(rows[3].quantity == dec("11.5"));  // day 1: 7 + 4.5 beats day 0: 9.25
  CHECK(rows[3].records == 4);
  CHECK(rows[4].organization == "globex");
  // Combined over organizations: day 1 is 7 + 4.5 + 3.
  const auto combined = all.rows(false);
  CHECK(combined[3].quantity == dec("14.5"));

  // Two halves merged equal the whole, whatever the split.
  for (size_t split = 0; split <= recs.size(); ++split) {
    usage::MeterTotals a, b;
    for (size_t i = 0; i < recs.size(); ++i) (i < split ? a : b).add(recs[i]);
    a.merge(b);
    const auto m = a.rows(true);
    REQUIRE(m.size() == rows.size());
    for (size_t i = 0; i < m.size(); ++i) {
      CHECK(m[i].quantity == rows[i].quantity);
      CHECK(m[i].records == rows[i].records);
    }
  }
}

TEST_CASE("the aggregator collects meters for the queries that ask, within their filters", "[meters]") {
  usage::AggQuery q1{0, INT64_MAX, {{usage::Dim::organization, {"acme"}}}, {}};
  q1.meters = true;
  usage::AggQuery q2{0, INT64_MAX, {}, {}};  // does not ask
  usage::Aggregator agg({q1, q2});
  for (const auto& r : {meter("acme", "p", "sql_queries", "10", "queries", 0), meter("globex", "p", "sql_queries", "5", "queries", 0)}) {
    usage::PricedRecord pr;
    pr.record = &r;
    agg.add(pr);
  }
  const auto res = agg.results();
  REQUIRE(res[0].meters.rows(false).size() == 1);
  CHECK(res[0].meters.rows(false)[0].quantity == dec("10"));
  CHECK(res[1].meters.empty());
}
