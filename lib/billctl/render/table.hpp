// One description of a tabular result — columns with an id, a title, a kind — walked by every
// writer (terminal table, RFC 4180 CSV, JSON), so formats cannot drift apart. The terminal
// changes decoration only (colour, bars), never columns or values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"

namespace billctl::render {

enum class Kind {
  text,     // left-aligned
  integer,  // right-aligned, grouped in tables
  money,    // right-aligned, rounded already; the table's currency
  decimal,  // right-aligned, printed as stored (e.g. cost per request with 4 digits)
  percent,  // tenths of a percent
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
};

struct Value {
  std::string text;
  int64_t integer = 0;
  money::Decimal decimal;
  int decimal_digits = 2;
  bool null = false;

  static Value of_text(std::string t) { Value v; v.text = std::move(t); return v; }
  static Value of_int(int64_t i) { Value v; v.integer = i; return v; }
  static Value of_money(money::Decimal d, int digits) { Value v; v.decimal = d; v.decimal_digits = digits; return v; }
  static Value of_percent(int64_t tenths) { Value v; v.integer = tenths; return v; }
  static Value none() { Value v; v.null = true; return v; }
};

struct Table {
  std::string id;     // "by_model"
  std::string title;  // "By model"
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  std::vector<Value> total;  // empty: no totals row
  money::Currency currency;
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

// An aligned text table with a title line and a totals row.
std::string to_text(const Table& t, const TextStyle& style);
// RFC 4180 CSV with a header row, CRLF line ends. With `section` non-empty, a first column
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
