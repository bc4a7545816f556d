#include "billctl/render/json.hpp"

namespace billctl::render {

Json money_json(const money::Decimal& d, int digits, const money::Currency& c) {
  Json j;
  j["amount"] = d.format(digits, false);
  j["currency"] = std::string(c.name());
  return j;
}

Json value_json(const Column& c, const Value& v, const money::Currency& cur) {
  if (v.null) return nullptr;
  switch (c.kind) {
    case Kind::text: return v.text;
    case Kind::integer: return v.integer;
    case Kind::money: return money_json(v.decimal, v.decimal_digits, cur);
    case Kind::decimal: return v.decimal.format(v.decimal_digits, false);
    case Kind::percent: return plain(c, v);
    case Kind::amount:
      if (v.is_tokens()) return Json{{"tokens", v.whole_tokens()}};
      return Json{{"amount", v.decimal.format(v.decimal_digits, false)}, {"currency", v.unit}};
    case Kind::boolean: return bool(v.integer);
    case Kind::number: return v.number;
    case Kind::json: return v.json ? *v.json : Json(nullptr);
  }
  return nullptr;
}

namespace {

// Column i's value of a row or the totals row, as the table writes it.
Json cell_json(const Table& t, size_t i, const Value& v) {
  const Column& c = t.columns[i];
  if (t.json_money_text && c.kind == Kind::money && !v.null) return v.decimal.format(v.decimal_digits, false);
  return value_json(c, v, t.currency);
}

}  // namespace

Json row_json(const Table& t, const std::vector<Value>& row) {
  Json o = Json::object();
  for (size_t i = 0; i < t.columns.size(); ++i)
    if ((t.columns[i].forms & Form::json) && !(t.columns[i].json_omit_null && row[i].null))
      o[t.columns[i].id] = cell_json(t, i, row[i]);
  return o;
}

Json rows_json(const Table& t) {
  Json arr = Json::array();
  for (const auto& row : t.rows) arr.push_back(row_json(t, row));
  return arr;
}

Json total_json(const Table& t) {
  if (t.total.empty()) return nullptr;
  // Only the numbers: the "Total" label in a key column is for people, not a dimension value.
  Json o = Json::object();
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].kind != Kind::text && (t.columns[i].forms & Form::json)) o[t.columns[i].id] = cell_json(t, i, t.total[i]);
  return o;
}

std::string dump(const Json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"; }

}  // namespace billctl::render
