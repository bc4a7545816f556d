// The report's finance pack on an in-memory store: chargeback and feature ROI sum exactly to the
// report, drivers are the largest moves, month over month columns sum to each period's total,
// budgets are taken at the period's end; and the font coverage the PDF's fallback relies on.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "billctl/render/font_cover.hpp"
#include "billctl/report/pack.hpp"
#include "billctl/util/error.hpp"
#include "fakes.hpp"
#include "helpers.hpp"

using namespace billctl;
using money::Decimal;
using test::dec;
using test::FakeRecord;
using test::FakeStore;

namespace {

const util::Seconds k_sep = 1'788'220'800;  // 2026-09-01T00:00:00Z
const util::Seconds k_oct = 1'790'812'800;  // 2026-10-01T00:00:00Z
const util::Seconds k_nov = 1'793'491'200;  // 2026-11-01T00:00:00Z
const util::Seconds k_now = 1'793'606'400;  // 2026-11-02T08:00:00Z

FakeRecord rec(std::string id, util::Seconds ts, std::string dept, std::string user, std::string feature, const char* cost) {
  FakeRecord r;
  r.id = std::move(id);
  r.ts = ts;
  r.organization = "acme";
  r.department = std::move(dept);
  r.user = std::move(user);
  r.feature = std::move(feature);
  r.cost = dec(cost);
  r.input = 100;
  return r;
}

Decimal column_sum(const render::Table& t, size_t c) {
  Decimal s;
  for (const auto& row : t.rows) s += row[c].decimal;
  return s;
}

const util::Period k_october{k_oct, k_nov, "2026-10", util::Period::Kind::month};

}  // namespace

TEST_CASE("report pack: chargeback, ROI, drivers and month over month sum exactly", "[report][pack]") {
  FakeStore st;
  // September: eng 1.00; October: eng 1.001 + 1.001 (two users), sales 0.333 x 3 (one user), ops 5.
  st.put_record(rec("s1", k_sep + 3600, "eng", "ann", "chat", "1.00"));
  st.put_record(rec("o1", k_oct + 3600, "eng", "ann", "chat", "1.001"));
  st.put_record(rec("o2", k_oct + 7200, "eng", "bob", "agent", "1.001"));
  for (int i = 0; i < 3; ++i) st.put_record(rec("o3" + std::to_string(i), k_oct + 86400 + i, "sales", "cy", "chat", "0.333"));
  st.put_record(rec("o4", k_oct + 5 * 86400, "ops", "dee", "agent", "5"));
  const report::MonthlyReport r = report::build_monthly_report(st, k_october, {}, k_now);
  const report::ReportPack p = report::build_pack(st, r, {}, k_now);

  // Chargeback: department rows in the report's order; costs sum exactly to the total.
  REQUIRE(p.chargeback.rows.size() == 3);
  CHECK(p.chargeback.rows[0][0].text == "ops");
  CHECK(column_sum(p.chargeback, 1) == r.cost);
  CHECK(p.chargeback.total[1].decimal == r.cost);
  CHECK(p.chargeback.rows[1][0].text == "eng");
  CHECK(p.chargeback.rows[1][3].integer == 2);           // active users
  CHECK(p.chargeback.rows[1][4].decimal == dec("1.00"));  // 2.00 / 2 users
  CHECK(p.chargeback.rows[2][3].integer == 1);
  CHECK(p.chargeback.total[3].integer == 4);
  // Feature ROI.
  REQUIRE(p.feature_roi.rows.size() == 2);
  CHECK(column_sum(p.feature_roi, 1) == r.cost);
  CHECK(p.feature_roi.rows[0][0].text == "agent");
  CHECK(p.feature_roi.rows[0][3].integer == 2);

  // Drivers: the feature agent +6.00 (new: 1.001 + 5), then department ops +5.00; three at most.
  REQUIRE(p.drivers.size() == 3);
  CHECK(p.drivers[0].dim == usage::Dim::feature);
  CHECK(p.drivers[0].value == "agent");
  CHECK(p.drivers[0].change == dec("6.00"));
  CHECK(!p.drivers[0].change_tenths);
  CHECK(p.drivers[1].value == "ops");
  CHECK(p.drivers[1].change == dec("5.00"));

  // Month over month: six periods ending with October; each column sums to its total.
  REQUIRE(p.mom.periods.size() == 6);
  CHECK(p.mom.periods.back() == "2026-10");
  CHECK(p.mom.periods[4] == "2026-09");
  for (size_t k = 0; k < p.mom.periods.size(); ++k) {
    Decimal s;
    for (const auto& row : p.mom.cost) s += row[k];
    CHECK(s == p.mom.totals[k]);
  }
  CHECK(p.mom.totals.back() == r.cost);
  CHECK(p.mom.totals[4] == dec("1.00"));

  // The period is over: no forecast; the burn-down is every day, actual, ending at the total.
  CHECK(!p.forecast);
  CHECK(p.burn.budget.empty());
  REQUIRE(p.burn.actual.size() == 31);
  CHECK(p.burn.actual.back() == r.cost);
  CHECK(p.burn.mean.empty());
}

TEST_CASE("report pack: budgets at the period's end, the burn-down's budget is the report's scope", "[report][pack]") {
  FakeStore st;
  st.put_record(rec("o1", k_oct + 3600, "eng", "ann", "chat", "30"));
  st.put_record(rec("o2", k_oct + 20 * 86400, "sales", "cy", "chat", "80"));
  budgets::Budget all;
  all.name = "all";
  all.scope = {"organization"};
  all.limit = dec("100");
  all.currency = money::currency("USD");
  budgets::Budget eng = all;
  eng.name = "eng";
  eng.scope = {"department:eng"};
  eng.limit = dec("50");
  budgets::Budget daily = all;
  daily.name = "daily";
  daily.period = budgets::Period::daily;
  const report::MonthlyReport r = report::build_monthly_report(st, k_october, {}, k_now);
  const report::ReportPack p = report::build_pack(st, r, {all, eng, daily}, k_now);
  REQUIRE(p.budgets.size() == 2);  // monthly only
  CHECK(p.budgets[0].window.label == "2026-10");
  CHECK(p.budgets[0].spent == dec("110"));
  CHECK(p.budgets[0].projected == dec("110"));  // the period is over
  CHECK(*p.budgets[0].p_exceed == 1.0);
  CHECK(p.budgets[1].spent == dec("30"));
  CHECK(*p.budgets[1].p_exceed == 0.0);
  CHECK(p.burn.budget == "all");
  CHECK(p.burn.limit == dec("100"));
  REQUIRE(p.budget_table.rows.size() == 2);
  CHECK(p.budget_table.rows[0][5].integer == 1100);  // used, tenths of a percent
}

TEST_CASE("font cover: DejaVu lacks kanji and Hangul, the fallbacks have them", "[render][pdf]") {
  const render::FontCover dejavu = render::FontCover::load("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
  CHECK(dejavu.has(U'A'));
  CHECK(dejavu.has(U'\u00fc'));  // ü
  CHECK(dejavu.has(U'\u0416'));  // Ж
  CHECK(!dejavu.has(U'\u55b6'));  // 営
  CHECK(!dejavu.has(U'\ud55c'));  // 한
  const render::FontCover ipa = render::FontCover::load("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf");
  CHECK(ipa.has(U'\u55b6'));
  CHECK(ipa.has(U'\u30ab'));  // カ
  const render::FontCover nanum = render::FontCover::load("/usr/share/fonts/truetype/nanum/NanumGothic.ttf");
  CHECK(nanum.has(U'\ud55c'));
  CHECK_THROWS_AS(render::FontCover::parse("not a font", "x.ttf"), DataError);
  CHECK_THROWS_AS(render::FontCover::load("/nonexistent.ttf"), DataError);
}

TEST_CASE("next_code_point decodes UTF-8 and passes malformed bytes through", "[render][pdf]") {
  const std::string s = "a\xc3\xbc\xe5\x96\xb6\xf0\x9f\x98\x80\xff";
  size_t i = 0;
  CHECK(render::next_code_point(s, i) == U'a');
  CHECK(render::next_code_point(s, i) == U'\u00fc');
  CHECK(render::next_code_point(s, i) == U'\u55b6');
  CHECK(render::next_code_point(s, i) == U'\U0001F600');
  CHECK(render::next_code_point(s, i) == 0xff);
  CHECK(i == s.size());
}
