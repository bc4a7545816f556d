#include "billctl/store/sqlite/rollup.hpp"

#include <algorithm>
#include <charconv>

namespace billctl::store {

namespace {

std::string column(usage::Dim d) {
  return d == usage::Dim::model ? "CASE WHEN model = '' THEN meter ELSE model END" : std::string(usage::dim_name(d));
}

}  // namespace

bool is_rolled(usage::Dim d) { return std::find(std::begin(k_rollup_dim), std::end(k_rollup_dim), d) != std::end(k_rollup_dim); }

size_t rollup_index(usage::Dim d) { return size_t(std::find(std::begin(k_rollup_dim), std::end(k_rollup_dim), d) - std::begin(k_rollup_dim)); }

std::optional<Combo> combo_of(usage::Dim x, usage::Dim y) {
  if (x == y || !is_rolled(x) || !is_rolled(y)) return std::nullopt;
  if (rollup_index(y) < rollup_index(x)) std::swap(x, y);
  return Combo{x, y, std::string(usage::dim_name(x)) + "," + std::string(usage::dim_name(y))};
}

std::vector<Combo> registered_combos(Db& db) {
  std::vector<Combo> out;
  Stmt s(db, "SELECT combo FROM rollup_combos ORDER BY combo");
  while (s.step()) {
    const std::string_view name = s.text(0);
    const auto comma = name.find(',');
    const auto a = usage::find_dim(name.substr(0, comma)), b = usage::find_dim(name.substr(comma + 1));
    if (comma == std::string_view::npos || !a || !b) db.fail("unknown rollup combo '" + std::string(name) + "'");
    out.push_back(*combo_of(*a, *b));
  }
  return out;
}

void combo_value(std::string_view a, std::string_view b, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, a.size()).ptr;
  out.assign(digits, end);
  out += ':';
  out += a;
  out += b;
}

bool split_combo_value(std::string_view v, std::string_view& a, std::string_view& b) {
  const auto colon = v.find(':');
  size_t n = 0;
  if (colon == std::string_view::npos || std::from_chars(v.data(), v.data() + colon, n).ptr != v.data() + colon ||
      n > v.size() - colon - 1)
    return false;
  a = v.substr(colon + 1, n);
  b = v.substr(colon + 1 + n);
  return true;
}

void register_combo(Db& db, const Combo& c) {
  Stmt ins(db, "INSERT OR IGNORE INTO rollup_combos(combo) VALUES(?1)");
  ins.bind(1, c.name);
  ins.step();
  if (db.changes() == 0) return;
  const std::string sql =
      "INSERT INTO usage_combo_hourly SELECT ?1, length(CAST(" + column(c.a) + " AS BLOB)) || ':' || " + column(c.a) + " || " + column(c.b) +
      ", ts / 3600, currency, meter != '', COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END),"
      " SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens),"
      " SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4, 5";
  Stmt fill(db, sql.c_str());
  fill.bind(1, c.name);
  fill.step();
}

}  // namespace billctl::store
