// The forecasting model on series whose answer is known in closed form, its edge cases, and the
// forecast built on an in-memory usage source (fakes.hpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "billctl/forecast/anomalies.hpp"
#include "billctl/forecast/forecast.hpp"
#include "billctl/forecast/patterns.hpp"
#include "billctl/report/recommendations.hpp"
#include <map>
#include "billctl/forecast/model.hpp"
#include "fakes.hpp"
#include "helpers.hpp"

using namespace billctl;
using Catch::Detail::Approx;

namespace {

forecast::Series series(std::vector<double> days, int first_weekday = 0) { return {std::move(days), first_weekday}; }

double damped(int k) {
  double s = 0, p = 1;
  for (int i = 1; i <= k; ++i) s += p *= forecast::k_damping;
  return s;
}

}  // namespace

TEST_CASE("a constant series forecasts itself, with no spread", "[forecast]") {
  const auto s = series(std::vector<double>(60, 250.0));
  const forecast::Fit f = forecast::fit(s);
  CHECK(f.level == Approx(250));
  CHECK(f.trend == Approx(0).margin(1e-9));
  for (int k = 1; k <= 30; ++k) CHECK(f.day(k) == Approx(250));
  const forecast::Spread sp = forecast::spread(s, 10);
  CHECK(sp.sigma == Approx(0).margin(1e-12));
  CHECK(forecast::quantile(2500, sp, 0.1) == Approx(2500));
  CHECK(forecast::quantile(2500, sp, 0.9) == Approx(2500));
  CHECK(forecast::p_exceed(2500, sp, 2400) == 1);
  CHECK(forecast::p_exceed(2500, sp, 2600) == 0);
}

TEST_CASE("a weekly pattern is carried forward day by day", "[forecast]") {
  // Monday..Friday 100, weekends 20, for eight weeks starting on a Monday.
  std::vector<double> d;
  for (int i = 0; i < 56; ++i) d.push_back(i % 7 < 5 ? 100 : 20);
  const forecast::Fit f = forecast::fit(series(d, 0));
  // The last day is a Sunday: day 1 is Monday.
  for (int k = 1; k <= 14; ++k) CHECK(f.day(k) == Approx((k - 1) % 7 < 5 ? 100 : 20));
  // Origins with under two weeks before them see no weekly pattern yet: a little spread remains.
  CHECK(forecast::spread(series(d, 0), 7).sigma < 0.1);
}

TEST_CASE("a straight line is fitted exactly and extrapolated with the damped trend", "[forecast]") {
  std::vector<double> d;
  for (int i = 0; i < 40; ++i) d.push_back(10 + 2 * i);
  const forecast::Fit f = forecast::fit(series(d));
  CHECK(f.level == Approx(10 + 2 * 39));
  CHECK(f.trend == Approx(2));
  for (int k = 1; k <= 20; ++k) CHECK(f.day(k) == Approx(88 + 2 * damped(k)));
}

TEST_CASE("under three weeks the trend is left out", "[forecast]") {
  std::vector<double> d;
  for (int i = 0; i < 10; ++i) d.push_back(10 + i);
  const forecast::Fit f = forecast::fit(series(d));
  CHECK(f.trend == 0);
  CHECK(f.level > 10);
  CHECK(f.level < 19);
}

TEST_CASE("one spike does not move the level", "[forecast]") {
  std::vector<double> d(56, 100.0);
  d[50] = 2000;
  const forecast::Fit f = forecast::fit(series(d));
  CHECK(f.day(1) == Approx(100).margin(5));
}

TEST_CASE("edge cases: empty, all zeros, one day", "[forecast]") {
  const forecast::Fit empty = forecast::fit(series({}));
  CHECK(empty.day(1) == 0);
  const forecast::Spread se = forecast::spread(series({}), 5);
  CHECK(forecast::quantile(0, se, 0.9) == 0);

  const auto zeros = series(std::vector<double>(30, 0.0));
  CHECK(forecast::fit(zeros).day(3) == 0);
  const forecast::Spread sz = forecast::spread(zeros, 10);
  CHECK(forecast::quantile(0, sz, 0.95) == Approx(0).margin(1e-6));

  // One day of history: never a narrow band.
  const auto one = series({120});
  CHECK(forecast::fit(one).day(1) == Approx(120));
  const forecast::Spread s1 = forecast::spread(one, 20);
  CHECK(s1.sigma >= 0.5);
  CHECK(forecast::quantile(2400, s1, 0.9) > 2400 * 1.8);
  CHECK(forecast::quantile(2400, s1, 0.1) < 2400 / 1.8);
}

TEST_CASE("spend that stopped weeks ago gives finite bounds", "[forecast]") {
  std::vector<double> d(40, 0.0);
  for (int i = 0; i < 10; ++i) d[size_t(i)] = 500;
  const auto s = series(d);
  const forecast::Spread sp = forecast::spread(s, 20);
  const double hi = forecast::quantile(forecast::fit(s).day(1) * 20, sp, 0.975);
  CHECK(std::isfinite(hi));
  CHECK(forecast::to_money(hi, money::Currency{}).to_string().size() < 20);
  CHECK(forecast::to_money(INFINITY, money::Currency{}).to_string() == "10000000000000");
}

TEST_CASE("intervals widen with the noise and probabilities are consistent with them", "[forecast]") {
  std::vector<double> quiet, noisy;
  uint64_t x = 12345;
  for (int i = 0; i < 112; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const double u = double(x >> 11) / double(1ull << 53) - 0.5;
    quiet.push_back(100 * (1 + 0.05 * u));
    noisy.push_back(100 * (1 + 0.8 * u));
  }
  const forecast::Spread a = forecast::spread(series(quiet), 15), b = forecast::spread(series(noisy), 15);
  CHECK(a.samples > 50);
  CHECK(a.sigma < b.sigma);
  // The median has P(exceed) one half, the 90th percentile one tenth.
  const double med = forecast::quantile(1500, b, 0.5), p90 = forecast::quantile(1500, b, 0.9);
  CHECK(forecast::p_exceed(1500, b, med) == Approx(0.5).margin(1e-6));
  CHECK(forecast::p_exceed(1500, b, p90) == Approx(0.1).margin(1e-6));
  CHECK(forecast::p_exceed(1500, b, -1) == 1);
}

TEST_CASE("the normal distribution", "[forecast]") {
  CHECK(forecast::normal_cdf(0) == Approx(0.5));
  CHECK(forecast::normal_quantile(0.975) == Approx(1.959963985).epsilon(1e-9));
  CHECK(forecast::normal_quantile(0.1) == Approx(-1.281551566).epsilon(1e-9));
  CHECK(forecast::normal_quantile(0.001) == Approx(-3.090232306).epsilon(1e-8));
  for (double p : {0.01, 0.2, 0.5, 0.77, 0.999}) CHECK(forecast::normal_cdf(forecast::normal_quantile(p)) == Approx(p).epsilon(1e-10));
}

TEST_CASE("forecast levels: whole percents, sorted, unique", "[forecast]") {
  CHECK(forecast::parse_levels("95, 80,80") == std::vector<int>{80, 95});
  CHECK_THROWS_WITH(forecast::parse_levels("80,100"), Catch::Contains("invalid --levels '80,100'"));
  CHECK_THROWS_WITH(forecast::parse_levels("x"), Catch::Contains("invalid --levels"));
  CHECK_THROWS_WITH(forecast::parse_levels(""), Catch::Contains("invalid --levels"));
}

TEST_CASE("a forecast on fakes: actual is exact, keys add up to the total, a finished period is all actual", "[forecast][fakes]") {
  test::FakeStore st;
  const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
  int n = 0;
  // Sixty days before October and twenty days into it: two departments, 3:1.
  for (int day = -60; day < 20; ++day)
    for (const char* dept : {"eng", "eng", "eng", "ops"}) {
      test::FakeRecord r;
      r.id = "r" + std::to_string(++n);
      r.ts = oct1 + day * 86400 + 36000;
      r.department = dept;
      r.cost = money::Decimal::parse("10.005").value_or_throw();
      st.put_record(r);
    }
  forecast::Options o;
  o.period = util::parse_period("2026-10", oct1).value_or_throw();
  o.now = oct1 + 19 * 86400 + 43200;  // 2026-10-20T12:00Z
  o.by = {usage::Dim::department};
  const forecast::Forecast f = forecast::make_forecast(st, o);
  CHECK(f.projected);
  CHECK_FALSE(f.insufficient_history);
  CHECK(f.history_days == 79);
  CHECK(f.total.actual_to_date.to_string() == "800.4");  // 20 days x 4 x 10.005, exactly
  // A constant 40.02 a day: the rest is 11 days' worth, and the band has no width.
  CHECK(f.total.mean.to_string() == "1240.62");
  REQUIRE(f.total.intervals.size() == 2);
  CHECK(f.total.intervals[0].lower == f.total.mean);
  CHECK(f.total.intervals[1].upper == f.total.mean);
  REQUIRE(f.groups.size() == 2);
  CHECK(f.groups[0].key == std::vector<std::string>{"eng"});
  CHECK(f.groups[0].mean + f.groups[1].mean == f.total.mean);
  REQUIRE(f.daily.size() == 31);
  CHECK(f.daily[0].actual->to_string() == "40.02");
  CHECK_FALSE(f.daily[25].actual.has_value());

  o.now = oct1 + 40 * 86400;  // November: October is over
  const forecast::Forecast done = forecast::make_forecast(st, o);
  CHECK_FALSE(done.projected);
  CHECK(done.total.mean == done.total.actual_to_date);

  // Little history: still an answer, flagged, with a wide band.
  test::FakeStore young;
  for (int day = 0; day < 5; ++day) {
    test::FakeRecord r;
    r.id = "y" + std::to_string(day);
    r.ts = oct1 + day * 86400 + 3600;
    r.cost = money::Decimal::from_int(100);
    young.put_record(r);
  }
  o.now = oct1 + 5 * 86400;
  o.by.clear();
  const forecast::Forecast y = forecast::make_forecast(young, o);
  CHECK(y.insufficient_history);
  CHECK(y.total.intervals[0].upper > y.total.mean);
  CHECK(y.total.intervals[0].lower < y.total.mean);
}

TEST_CASE("budget risk: a budget that the pace will exceed is likely to", "[forecast][fakes]") {
  test::FakeStore st;
  const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
  for (int day = -40; day < 15; ++day) {
    test::FakeRecord r;
    r.id = "r" + std::to_string(day + 100);
    r.ts = oct1 + day * 86400 + 7200;
    r.department = "eng";
    r.cost = money::Decimal::from_int(100);
    st.put_record(r);
  }
  budgets::Budget low, high, tokens;
  low.name = "low";
  low.limit = money::Decimal::from_int(2500);  // 31 x 100 = 3100 expected
  high.name = "high";
  high.limit = money::Decimal::from_int(5000);
  tokens.name = "tokens";
  tokens.in_tokens = true;
  tokens.limit = money::Decimal::from_int(1000);
  const auto risks = forecast::budget_risks(st, {low, high, tokens}, oct1 + 15 * 86400);
  REQUIRE(risks.size() == 3);
  CHECK(risks[0].mean.to_string() == "3100");
  CHECK(risks[0].p_exceed > 0.99);
  CHECK(risks[1].p_exceed < 0.01);
  CHECK_FALSE(risks[2].error.empty());
}

TEST_CASE("anomalies on fakes: one user's spike is found and attributed to that user", "[forecast][anomalies][fakes]") {
  test::FakeStore st;
  const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
  int n = 0;
  const char* users[] = {"ann", "bo", "cy", "di"};
  for (int day = -70; day < 30; ++day)
    for (int u = 0; u < 4; ++u) {
      test::FakeRecord r;
      r.id = "r" + std::to_string(++n);
      r.ts = oct1 + day * 86400 + 36000 + u;
      r.user = users[u];
      r.feature = u % 2 ? "chat" : "search";
      r.cost = money::Decimal::from_int(25 + (day * 7 + u * 3) % 5);  // a little wobble
      r.requests = 10;
      st.put_record(r);
    }
  test::FakeRecord spike;
  spike.id = "spike";
  spike.ts = oct1 + 14 * 86400 + 7200;
  spike.user = "eve";
  spike.feature = "agent";
  spike.cost = money::Decimal::from_int(400);
  st.put_record(spike);
  forecast::AnomalyOptions o;
  o.period = util::parse_period("2026-10", oct1).value_or_throw();
  o.now = oct1 + 31 * 86400;
  const forecast::AnomalyReport rep = forecast::find_anomalies(st, o);
  CHECK(rep.buckets == 31);  // every day of October is over by "now"
  REQUIRE(rep.anomalies.size() == 1);
  const forecast::Anomaly& a = rep.anomalies[0];
  CHECK(util::format_rfc3339(a.start) == "2026-10-15T00:00:00Z");
  CHECK(a.metric == forecast::Metric::cost);
  CHECK(a.severity == "critical");
  REQUIRE_FALSE(a.drivers.empty());
  CHECK(a.drivers[0].dim == usage::Dim::user);
  CHECK(a.drivers[0].value == "eve");
  CHECK(a.drivers[0].share == Approx(1.0).margin(0.05));
  CHECK_THROWS_WITH(forecast::parse_metrics("cost,bytes"), Catch::Contains("invalid --metric"));
  CHECK_THROWS_WITH(forecast::parse_sensitivity("max"), Catch::Contains("invalid --sensitivity"));
}

TEST_CASE("patterns on fakes: heatmap, weekday indices, growth, movers and adoption", "[forecast][patterns][fakes]") {
  test::FakeStore st;
  const util::Seconds mon = util::parse_rfc3339("2026-10-05T00:00:00Z").value_or_throw();  // a Monday
  int n = 0;
  // Two weeks: weekdays 10.00 at 09:00 by ann on chat; the second week bo joins on search.
  for (int day = 0; day < 14; ++day) {
    if (day % 7 >= 5) continue;
    test::FakeRecord r;
    r.id = "p" + std::to_string(++n);
    r.ts = mon + day * 86400 + 9 * 3600;
    r.user = "ann";
    r.feature = "chat";
    r.cost = money::Decimal::from_int(10);
    st.put_record(r);
    if (day >= 7) {
      r.id = "p" + std::to_string(++n);
      r.user = "bo";
      r.feature = "search";
      r.model = "gpt-4o-mini";
      st.put_record(r);
    }
  }
  util::Period p;
  p.begin = mon;
  p.end = mon + 14 * 86400;
  p.label = "two weeks";
  const forecast::Patterns pt = forecast::find_patterns(st, p, {});
  CHECK(pt.heat_cost[0][9].to_string() == "30");  // two Mondays: 10 + 20
  CHECK(pt.heat_requests[0][9] == 3);
  CHECK(pt.heat_cost[5][9].is_zero());
  CHECK(pt.weekday_days[0] == 2);
  // 150 over 14 days: a weekday averages 15, the mean day 150/14.
  CHECK(pt.weekday_index[0] == Approx(15.0 / (150.0 / 14)));
  CHECK(pt.weekday_index[6] == 0);
  REQUIRE(pt.growth.size() == 2);
  CHECK(pt.growth[0].now_cost.to_string() == "100");
  CHECK(pt.growth[0].before_cost.to_string() == "50");
  CHECK(pt.growth[0].tenths == 1000);  // +100.0 %
  REQUIRE(pt.weeks.size() == 2);
  REQUIRE(pt.adoption.size() == 2);
  const auto& chat = pt.adoption[0].feature == "chat" ? pt.adoption[0] : pt.adoption[1];
  CHECK(chat.active == std::vector<int64_t>{1, 1});
  CHECK(chat.fresh == std::vector<int64_t>{1, 0});
  // Everything is new against the 4 weeks before: the largest first, then by name.
  REQUIRE(pt.rising.size() == 4);
  CHECK(pt.rising[0].value == "chat");
  CHECK(pt.rising[1].value == "gpt-4o");
  CHECK(pt.rising[3].value == "search");
  CHECK_FALSE(pt.rising[0].tenths.has_value());
  CHECK(pt.falling.empty());
}

TEST_CASE("recommendations on fakes: savings are exact at list prices", "[report][recommendations][fakes]") {
  test::FakeStore st;
  const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
  test::FakeRecord r;
  r.id = "day";
  r.ts = oct1 + 5 * 86400 + 12 * 3600;  // noon
  r.model = "gpt-4o";
  r.feature = "chat";
  r.input = 1'000'000;
  r.output = 1'000'000;
  r.cost = money::Decimal::parse("12.50").value_or_throw();
  st.put_record(r);
  r.id = "night";
  r.ts = oct1 + 6 * 86400 + 2 * 3600;  // 02:00: batch-eligible
  st.put_record(r);
  r.id = "failed";
  r.ts = oct1 + 7 * 86400 + 12 * 3600;
  r.failed = true;
  r.input = 0;
  r.output = 0;
  r.cost = money::Decimal::parse("3.00").value_or_throw();
  st.put_record(r);
  const util::Period p = util::parse_period("2026-10", oct1).value_or_throw();
  const auto rec = report::recommend(st, pricing::Catalog::builtin(), p, {}, money::Decimal::from_int(1));
  std::map<std::string, std::string> saving;
  for (const auto& x : rec.items) saving[x.kind + ":" + x.title.substr(0, 12)] = x.saving.to_string();
  // 2M input + 2M output: gpt-4o 5.00 + 20.00 = 25.00, gpt-4o-mini 0.30 + 1.20 = 1.50.
  CHECK(saving["cheaper_model:Try gpt-4o-m"] == "23.5");
  // The night request at the batch price, half of 12.50.
  CHECK(saving["batch:Send gpt-4o "] == "6.25");
  CHECK(saving["failed_requests:Stop paying "] == "3");
  // Caching: 1M of 2M input would move to the cached price (2.50 -> 1.25 per MTok).
  CHECK(saving["prompt_caching:Cache the st"] == "1.25");
  CHECK(rec.items.front().kind == "cheaper_model");
  const auto none = report::recommend(st, pricing::Catalog::builtin(), p, {}, money::Decimal::from_int(1000));
  CHECK(none.items.empty());
}

TEST_CASE("recommendations on fakes: requests just over a long-context threshold", "[report][recommendations][fakes]") {
  test::FakeStore st;
  const util::Seconds oct1 = util::parse_rfc3339("2026-10-01T00:00:00Z").value_or_throw();
  test::FakeRecord r;
  r.id = "edge";
  r.ts = oct1 + 3 * 86400 + 12 * 3600;
  r.model = "claude-sonnet-4-5";
  r.provider = "anthropic";
  r.input = 2'100'000;  // 10 requests of 210,000: 5 % over the 200,000 threshold
  r.output = 10'000;
  r.requests = 10;
  r.cost = money::Decimal::parse("12.825").value_or_throw();
  st.put_record(r);
  r.id = "far";
  r.input = 3'000'000;  // 300,000 a request: far over, not "just" over
  st.put_record(r);
  const util::Period p = util::parse_period("2026-10", oct1).value_or_throw();
  const auto rec = report::recommend(st, pricing::Catalog::builtin(), p, {}, money::Decimal::from_int(1));
  const auto it = std::find_if(rec.items.begin(), rec.items.end(), [](const auto& x) { return x.kind == "long_context_edge"; });
  REQUIRE(it != rec.items.end());
  // Long rates: 2.1M x 6.00 + 10K x 22.50 per MTok = 12.825 -> 12.82; trimmed to 2.0M at 3.00 and
  // 15.00: 6.15. The far request is not counted.
  CHECK(it->current.to_string() == "12.82");
  CHECK(it->saving.to_string() == "6.67");
}
