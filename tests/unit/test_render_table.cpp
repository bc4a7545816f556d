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

TEST_CASE("one table, three forms: each writer takes its columns", "[render]") {
  using render::Column;
  using render::Form;
  using render::Kind;
  using render::Value;
  const auto d = [](const char* s) { return money::Decimal::parse(s).value_or_throw(); };
  render::Table t;
  t.id = "t";
  t.title = "T";
  t.columns = {{"name", "budget", Kind::text},
               Column{"words", "left", Kind::text}.in(Form::people),
               Column{"raw", "raw", Kind::integer}.in(Form::machine),
               {"spent", "spent", Kind::amount},
               Column{"credits", "credits", Kind::decimal},
               Column{"p", "p", Kind::number}.in(Form::json),
               Column{"ok", "ok", Kind::boolean},
               Column{"detail", "detail", Kind::json}.in(Form::json),
               Column{"error", "error", Kind::text}.in(Form::machine)};
  t.columns[4].people_digits = 2;
  t.columns[8].json_omit_null = true;
  t.bar_column = 4;
  t.rows.push_back({Value::of_text("usd"), Value::of_text("3 days"), Value::of_int(3), Value::of_amount(d("1234.5"), 2, "EUR"),
                    Value::of_money(d("0.125"), 3), Value::of_number(0.873), Value::of_bool(true), Value::of_json({{"a", 1}}),
                    Value::none()});
  t.rows.push_back({Value::of_text("tok"), Value::of_text("1 day"), Value::of_int(1), Value::of_amount(d("2500000"), 0, "tokens"),
                    Value::of_money(d("2"), 0), Value::none(), Value::of_bool(false), Value::of_json(nullptr),
                    Value::of_text("broken")});

  // People: words, not raw values; amounts with their unit; credits at two digits.
  const std::string text = render::to_text(t, {});
  CHECK(text.find("left") != std::string::npos);
  CHECK(text.find("raw") == std::string::npos);
  CHECK(text.find("detail") == std::string::npos);
  CHECK(text.find("1,234.50 EUR") != std::string::npos);
  CHECK(text.find("2,500,000 tokens") != std::string::npos);
  CHECK(text.find("0.12 ") != std::string::npos);  // half-even
  CHECK(text.find("yes") != std::string::npos);
  CHECK(text.find("broken") == std::string::npos);
  // The bar column follows its column when others are left out.
  CHECK(render::in_form(t, Form::people).bar_column == 3);
  CHECK(render::in_form(t, Form::csv).bar_column == 3);

  // CSV: raw values, every digit, no JSON-only columns.
  CHECK(render::to_csv(t) == "name,raw,spent,credits,ok,error\r\nusd,3,1234.50,0.125,true,\r\ntok,1,2500000,2,false,broken\r\n");

  // JSON: amounts as objects in their unit, numbers and booleans as such, null keys left out
  // only where the column says so.
  const auto j = render::rows_json(t);
  CHECK(j[0].dump() == R"({"name":"usd","raw":3,"spent":{"amount":"1234.50","currency":"EUR"},"credits":"0.125","p":0.873,"ok":true,"detail":{"a":1}})");
  CHECK(j[1].dump() == R"({"name":"tok","raw":1,"spent":{"tokens":2500000},"credits":"2","p":null,"ok":false,"detail":null,"error":"broken"})");
}

TEST_CASE("a document naming its currency once writes money as decimal strings", "[render]") {
  render::Table t;
  t.columns = {{"cost", "cost", render::Kind::money}};
  t.rows.push_back({render::Value::of_money(money::Decimal::parse("12.3").value_or_throw(), 2)});
  t.rows.push_back({render::Value::none()});
  CHECK(render::rows_json(t).dump() == R"([{"cost":{"amount":"12.30","currency":"USD"}},{"cost":null}])");
  t.json_money_text = true;
  CHECK(render::rows_json(t).dump() == R"([{"cost":"12.30"},{"cost":null}])");
  // The totals row is written as the rows are.
  t.total = {render::Value::of_money(money::Decimal::parse("12.3").value_or_throw(), 2)};
  CHECK(render::total_json(t).dump() == R"({"cost":"12.30"})");
  t.json_money_text = false;
  CHECK(render::total_json(t).dump() == R"({"cost":{"amount":"12.30","currency":"USD"}})");
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
