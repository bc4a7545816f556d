#include <catch2/catch.hpp>

#include "billctl/report/live.hpp"
#include "billctl/util/strings.hpp"

using namespace billctl;

namespace {

money::Decimal usd(const char* s) { return money::Decimal::parse(s).value_or_throw("test"); }

report::LiveView sample() {
  report::LiveView v;
  v.now = util::parse_rfc3339("2026-10-26T14:30:00Z").value_or_throw();
  v.currency = money::find_currency("USD").value_or_throw("test");
  v.today = usd("1234.5678");
  v.today_requests = 1;
  v.last_hour = usd("98.7");
  v.last_hour_requests = 2;
  for (int h = 0; h < 15; ++h) v.today_by_hour.push_back(money::Decimal::from_int(h % 5));
  v.month_to_date = usd("23456.78");
  v.last_month_same_point = usd("20000");
  v.month = "2026-10";
  v.last_month = "2026-09";
  v.forecast = usd("45678.9");
  v.forecast_low = usd("41000");
  v.forecast_high = usd("50000");
  v.top_users = {{"営業部の山田太郎さんのとても長い名前", usd("12.3")}, {"bob", usd("4")}};
  v.top_models = {{"claude-sonnet-4-5", usd("30")}};
  v.top_features = {{"한국어 기능", usd("1")}};
  v.anomalies = {{v.now - 7200, "cost", "critical", "user 営業部の山田太郎さん", 229}};
  return v;
}

}  // namespace

TEST_CASE("the live view fits every width, wide characters counted as two columns", "[live]") {
  const report::LiveView v = sample();
  for (int width : {40, 59, 60, 77, 78, 80, 100, 132}) {
    report::LiveStyle st;
    st.width = width;
    st.unicode = width % 2 == 0;
    st.footer = "every 5 s; q quits";
    for (const auto& line : report::render_live(v, st)) {
      INFO(width << ": " << line);
      CHECK(util::display_width(line) <= size_t(width));
    }
  }
}

TEST_CASE("the live view's figures: change against last month, plurals, sparkline levels", "[live]") {
  report::LiveStyle st;
  st.width = 100;
  const auto lines = report::render_live(sample(), st);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  CHECK_THAT(all, Catch::Contains("Today          1,234.57 USD  1 request\n"));
  CHECK_THAT(all, Catch::Contains("Last hour      98.70 USD  2 requests\n"));
  CHECK_THAT(all, Catch::Contains("23,456.78 USD in 2026-10; 20,000.00 USD at this point of 2026-09 (+17.2 %)"));
  CHECK_THAT(all, Catch::Contains("Today by hour  _-=*#_-=*#_-=*#  00..14 UTC"));
  CHECK_THAT(all, Catch::Contains("22.9x expected"));
  CHECK_THAT(all, Catch::Contains("45,678.90 USD for 2026-10 (80 %: 41,000.00 USD to 50,000.00 USD)"));
}
