// One description of a tabular result — columns with an id, a title, a kind, and the forms they
// appear in — walked by every writer (terminal table, RFC 4180 CSV, JSON), so formats cannot drift
// apart. An output builds one Table; each writer takes the columns of its form. The terminal
// changes decoration only (colour, bars), never values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"

namespace billctl::render {

enum class Kind {
  text,     // left-aligned
  integer,  // right-aligned, grouped in tables
  money,    // right-aligned, rounded already; the table's currency
  decimal,  // right-aligned, printed as stored (e.g. cost per request with 4 digits)
  percent,  // tenths of a percent
  amount,   // money or tokens in the row's own unit (Value::unit: a currency code, or "tokens"):
            // "1,234.56 USD" for people, "1234.56" in CSV, {"amount","currency"} / {"tokens"} in JSON
  boolean,  // "yes"/"no" for people, "true"/"false" in CSV, a JSON boolean
  number,   // a measured ratio (a probability, a score) rounded already: a JSON number
  json,     // a nested JSON value (an object or array): JSON only
};

// Where a column appears. People read the terminal table; machines read CSV and JSON. A column in
// some forms only is how one description says "the terminal shows this in words, machines get
// the raw values".
enum Form : unsigned {
  people = 1,
  csv = 2,
  json = 4,
  machine = csv | json,
  all = people | csv | json,
};

struct Column {
  std::string id;
  std::string title;
  Kind kind = Kind::text;
  bool additive = true;  // the totals row is the column's sum (false: distinct users, unit costs)
  // On a terminal too narrow for the table, columns with a higher rank are hidden first; rank 0
  // columns (the default) go after them, from the right. Money, decimals, percentages and the
  // first column are never hidden unless ranked (a forecast's interval bands).
  int hide_rank = 0;
  unsigned forms = Form::all;
  bool json_omit_null = false;  // a JSON object leaves the key out when the value is null
  int people_digits = -1;       // money, decimal: people see it rounded to this many digits (machines get every digit)

  // The column, shown in `f` only.
  Column in(unsigned f) const {
    Column c = *this;
    c.forms = f;
    return c;
  }
};

struct Value {
  std::string text;
  int64_t integer = 0;
  money::Decimal decimal;
  int decimal_digits = 2;
  bool null = false;
  std::string unit;                                  // Kind::amount: a currency code or "tokens"
  double number = 0;                                 // Kind::number
  std::shared_ptr<const nlohmann::ordered_json> json;  // Kind::json

  static Value of_text(std::string t) { Value v; v.text = std::move(t); return v; }
  static Value of_int(int64_t i) { Value v; v.integer = i; return v; }
  static Value of_money(money::Decimal d, int digits) { Value v; v.decimal = d; v.decimal_digits = digits; return v; }
  static Value of_percent(int64_t tenths) { Value v; v.integer = tenths; return v; }
  static Value of_bool(bool b) { Value v; v.integer = b; return v; }
  static Value of_number(double d) { Value v; v.number = d; return v; }
  // An amount in money (rounded to `digits`) or, with unit "tokens", whole tokens.
  static Value of_amount(money::Decimal d, int digits, std::string unit) {
    Value v = of_money(d, digits);
    v.unit = std::move(unit);
    return v;
  }
  static Value of_json(nlohmann::ordered_json j);
  static Value none() { Value v; v.null = true; return v; }

  // Kind::amount: tokens, not money; and the amount as whole tokens.
  bool is_tokens() const { return unit == "tokens"; }
  int64_t whole_tokens() const { return int64_t(decimal.units() / money::Decimal::k_one); }
};

struct Table {
  std::string id;     // "by_model"
  std::string title;  // "By model"
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  std::vector<Value> total;  // empty: no totals row
  money::Currency currency;
  bool json_money_text = false;  // JSON writes money as a decimal string (the document names the currency once)
  int bar_column = -1;  // the money or percent column a terminal bar is drawn for, -1 none
  int64_t bar_full = 0; // the value of a full bar (a percent column: tenths); 0: the largest row
};

struct TextStyle {
  bool bars = false;   // unicode bars (a terminal)
  bool color = false;  // ANSI colour (a terminal without NO_COLOR)
  // The terminal's width: a table wider than it drops its bars, hides counts (Column::hide_rank
  // first, then from the right), shortens long text in the middle ("…"), then hides text columns
  // but the first, saying what it hid. Money, decimals, percentages and the first column are never
  // hidden. 0: never shortened (piped output, --wide).
  size_t width = 0;
};

// The table with only the columns shown in `f` (the bar column follows its column).
Table in_form(const Table& t, Form f);

// An aligned text table with a title line and a totals row, of the columns for people.
std::string to_text(const Table& t, const TextStyle& style);
// RFC 4180 CSV of the columns for CSV, with a header row, CRLF line ends. With `section` non-empty, a first column
// "section" holding it is added. Cells starting with = + - @ are neutralised with a leading '.
std::string to_csv(const Table& t, bool header = true, const std::string& section = {});
// A CSV cell, quoted when needed and neutralised against formula injection.
std::string csv_cell(const std::string& v, bool neutralise = true);
// A percentage from tenths of a percent, without the sign: "12.3", "-0.5"; with `sign`, a
// positive one gets a "+" ("+12.3"). The one percent formatter of tables, CSV, JSON and prose.
std::string percent_text(int64_t tenths, bool sign = false);
// The text of a value as the machine formats write it ("1234.56", "12.3").
std::string plain(const Column& c, const Value& v);
// The text of a value as the terminal table shows it ("1,234.56", "12.3 %").
std::string pretty(const Column& c, const Value& v);

}  // namespace billctl::render
