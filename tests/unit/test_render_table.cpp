#include <catch2/catch.hpp>

#include "billctl/render/json.hpp"
#include "billctl/render/table.hpp"
#include "billctl/report/breakdown.hpp"
#include "billctl/util/strings.hpp"

using namespace billctl;

TEST_CASE("CSV cells are quoted and neutralised", "[render]") {
  CHECK(render::csv_cell("plain") == "plain");
  CHECK(render::csv_cell("a,b") == "\"a,b\"");
  CHECK(render::csv_cell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(render::csv_cell("line\nbreak") == "\"line\nbreak\"");
  CHECK(render::csv_cell("=SUM(A1:A9)") == "'=SUM(A1:A9)");
  CHECK(render::csv_cell("+1") == "'+1");
  CHECK(render::csv_cell("-1") == "'-1");
  CHECK(render::csv_cell("@cmd") == "'@cmd");
  CHECK(render::csv_cell("-1", false) == "-1");
}

TEST_CASE("breakdown rows sum exactly to the totals row", "[render][report]") {
  usage::AggResult r;
  for (int i = 0; i < 7; ++i) {
    usage::Group g;
    g.keys = {"k" + std::to_string(i)};
    g.totals.records = 1;
    g.totals.cost = money::i128(3333333333) * (i + 1) + 1;  // fractions of a cent everywhere
    r.groups.push_back(g);
  }
  for (size_t limit : {size_t(0), size_t(3)}) {
    auto t = report::breakdown_table({"x", "X", {usage::Dim::user}, report::Order::cost_desc, limit}, r);
    money::Decimal sum;
    const size_t cost_col = t.columns.size() - 2;
    for (const auto& row : t.rows) sum += row[cost_col].decimal;
    CHECK(sum == t.total[cost_col].decimal);
    CHECK(t.rows.size() == (limit ? limit + 1 : 7));
  }
}

TEST_CASE("tables render the same values in every format", "[render]") {
  render::Table t;
  t.id = "t";
  t.title = "T";
  t.columns = {{"name", "name", render::Kind::text}, {"n", "n", render::Kind::integer}, {"cost", "cost", render::Kind::money}};
  t.rows.push_back({render::Value::of_text("=x"), render::Value::of_int(1234567),
                    render::Value::of_money(money::Decimal::parse("1234.5").value_or_throw(), 2)});
  CHECK(render::to_csv(t) == "name,n,cost\r\n'=x,1234567,1234.50\r\n");
  const std::string text = render::to_text(t, {});
  CHECK(text.find("1,234,567") != std::string::npos);
  CHECK(text.find("1,234.50") != std::string::npos);
  CHECK(text.find("cost (USD)") != std::string::npos);
  auto j = render::rows_json(t);
  CHECK(j[0]["cost"]["amount"] == "1234.50");
  CHECK(j[0]["cost"]["currency"] == "USD");
  CHECK(j[0]["n"] == 1234567);
}

TEST_CASE("text is shortened to a display width, at the end or in the middle", "[render][width]") {
  CHECK(util::shorten_end("claude-sonnet-4-5", 40) == "claude-sonnet-4-5");
  CHECK(util::shorten_end("claude-sonnet-4-5", 8) == "claude-\u2026");
  CHECK(util::shorten_middle("claude-sonnet-4-5-20250929", 16) == "claude-s\u20260250929");
  CHECK(util::display_width(util::shorten_middle("claude-sonnet-4-5-20250929", 16)) == 16);
  // Wide characters count two columns and are never split.
  CHECK(util::shorten_middle("営業部の山田太郎さん", 9) == "営業\u2026さん");
  CHECK(util::display_width(util::shorten_end("営業部の山田太郎さん", 9)) <= 9);
  CHECK(util::shorten_end("abc", 0).empty());
}

TEST_CASE("a table fits the terminal: bars, then counts by rank, then long text, then text columns", "[render][width]") {
  usage::AggResult r;
  for (int i = 0; i < 4; ++i) {
    usage::Group g;
    g.keys = {"user-" + std::to_string(i), "anthropic/claude-sonnet-4-5-20250929-long-name"};
    g.totals.records = 1;
    g.totals.requests = 1000 + i;
    g.totals.input_tokens = 123456789;
    g.totals.cached_input_tokens = 5;
    g.totals.output_tokens = 99999;
    g.totals.cost = money::i128(1234567) * 1000000 * (i + 1);
    r.groups.push_back(g);
  }
  r.currency = money::find_currency("USD").value_or_throw("test");
  report::BreakdownSpec spec;
  spec.id = "by_user_model";
  spec.title = "By user and model";
  spec.dims = {usage::Dim::user, usage::Dim::model};
  const render::Table t = report::breakdown_table(spec, r);
  render::TextStyle wide;
  wide.bars = true;
  const std::string full = render::to_text(t, wide);
  CHECK_THAT(full, !Catch::Contains("hidden"));
  for (size_t width : {60, 80, 100, 120}) {
    render::TextStyle st;
    st.bars = true;
    st.width = width;
    const std::string out = render::to_text(t, st);
    INFO(width << "\n" << out);
    size_t at = 0;
    for (size_t nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
      CHECK(util::display_width(out.substr(at, nl - at)) <= width);
    // Money and shares are always there; the least useful counts go first.
    CHECK_THAT(out, Catch::Contains("cost (USD)") && Catch::Contains("share") && Catch::Contains("4.94"));
    CHECK_THAT(out, Catch::Contains("--wide shows all"));
    CHECK_THAT(out, !Catch::Contains("writes 1h  "));
  }
  render::TextStyle st80;
  st80.width = 80;
  const std::string at80 = render::to_text(t, st80);
  // Shortening the model is enough once the low-value counts are gone: input and output stay.
  CHECK_THAT(at80, Catch::Contains("(4 columns hidden: requests, cached, writes 5m, writes 1h; --wide shows all)"));
  CHECK_THAT(at80, Catch::Contains("  user-3  anthropic/cla\u2026929-long-name  123,456,789   99,999        4.94   40.0 %\n"));
  render::TextStyle st60;
  st60.width = 60;
  CHECK_THAT(render::to_text(t, st60), Catch::Contains("  user-3  anthropi\u2026ng-name  123,456,789        4.94   40.0 %\n"));
}
