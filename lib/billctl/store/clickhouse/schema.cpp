#include "billctl/store/clickhouse/schema.hpp"

#include "billctl/store/clickhouse/client.hpp"
#include "billctl/util/error.hpp"

namespace billctl::store::ch {

namespace {

// The SQL of a rolled-up dimension's value (a meter record's model is its meter).
std::string value_sql(usage::Dim d) {
  return d == usage::Dim::model ? std::string("if(model = '', meter, model)") : std::string(usage::dim_name(d));
}

// The SQL of a combo's value, spelled as combo_value() spells it (length() counts bytes).
std::string combo_value_sql(const Combo& c) {
  std::string lengths, values;
  for (size_t i = 0; i < c.dims.size(); ++i) {
    if (i + 1 < c.dims.size()) lengths += "toString(length(" + value_sql(c.dims[i]) + ")), ':', ";
    values += (i ? ", " : "") + value_sql(c.dims[i]);
  }
  return "concat(" + lengths + values + ")";
}

}  // namespace

std::vector<RolledCombo> load_combos(Client& client) {
  const std::string body = client.query("SELECT name, dim FROM rollup_combos ORDER BY name FORMAT TabSeparated");
  TsvReader rows(body);
  std::vector<std::string_view> f;
  std::vector<RolledCombo> out;
  while (rows.next(f)) {
    if (f.size() != 2) throw DataError("ClickHouse returned a row of " + std::to_string(f.size()) + " columns");
    auto c = combo_named(f[0]);
    if (!c) throw DataError("ClickHouse table rollup_combos names an unknown combo '" + std::string(f[0]) + "'");
    out.push_back({std::move(*c), std::string(f[1])});
  }
  return out;
}

std::vector<std::string> rollup_selects(const std::string& records, const std::string& where,
                                       const std::vector<RolledCombo>& combos, bool dims) {
  // One SELECT per rollup: an ARRAY JOIN over all of them copies every row's columns once per
  // rollup (a 10M re-import's cancelling rows: 20 s against a few).
  std::vector<std::pair<std::string, std::string>> rolls;  // dim literal, value expression
  if (dims)
    rolls = {{"'*'", "''"},
             {"'provider'", "provider"},
             {"'model'", "if(model = '', meter, model)"},
             {"'organization'", "organization"},
             {"'department'", "department"},
             {"'user'", "user"},
             {"'feature'", "feature"},
             {"'project'", "project"},
             {"'status'", "status"},
             {"'service_tier'", "service_tier"}};
  for (const auto& c : combos) rolls.emplace_back(quote(c.dim), combo_value_sql(c.combo));
  std::vector<std::string> out;
  for (const auto& [dim, value] : rolls)
    out.push_back(
        "SELECT " + dim + " AS r_dim, " + value + " AS r_value, intDiv(ts - if(ts < 0, 3599, 0), 3600) AS r_hour, currency, txn,"
        " toUInt8(meter != '') AS r_is_meter, sum(sign), sum(sign * requests), sum(if(status = 'error', sign * requests, 0)),"
        " sum(sign * input_tokens), sum(sign * cached_input_tokens), sum(sign * cache_write_tokens),"
        " sum(sign * cache_write_1h_tokens), sum(sign * output_tokens), sum(if(cost_source = 0 AND meter = '', sign, 0)),"
        " sum(sign * cost_micro), sum(sign * cost_pico), sum(sign * toFloat64(requests)), sum(sign * toFloat64(input_tokens)),"
        " sum(sign * toFloat64(cached_input_tokens)), sum(sign * toFloat64(cache_write_tokens)),"
        " sum(sign * toFloat64(cache_write_1h_tokens)), sum(sign * toFloat64(output_tokens)) FROM " + records + " WHERE " + where +
        " GROUP BY r_dim, r_value, r_hour, currency, txn, r_is_meter");
  return out;
}

int64_t to_number(std::string_view s, std::string_view what) {
  const bool neg = !s.empty() && s[0] == '-';
  if (s.size() == size_t(neg)) throw DataError("ClickHouse returned an empty " + std::string(what));
  uint64_t v = 0;
  for (size_t i = neg; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') throw DataError("ClickHouse returned '" + std::string(s) + "' as " + std::string(what));
    v = v * 10 + uint64_t(s[i] - '0');
  }
  return neg ? int64_t(0 - v) : int64_t(v);
}

}  // namespace billctl::store::ch
