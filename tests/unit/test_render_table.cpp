#include <catch2/catch.hpp>

#include "billctl/render/json.hpp"
#include "billctl/render/table.hpp"
#include "billctl/report/breakdown.hpp"

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
