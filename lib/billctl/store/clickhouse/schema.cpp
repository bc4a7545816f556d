#include "billctl/store/clickhouse/schema.hpp"

#include "billctl/util/error.hpp"

namespace billctl::store::ch {

std::string rollup_select(const std::string& records, const std::string& where) {
  return "SELECT d.1 AS dim, d.2 AS value, intDiv(ts - if(ts < 0, 3599, 0), 3600) AS hour, currency, txn,"
         " toUInt8(meter != '') AS is_meter, sum(sign) AS records, sum(sign * requests) AS r_requests,"
         " sum(if(status = 'error', sign * requests, 0)) AS r_error_requests, sum(sign * input_tokens) AS r_input,"
         " sum(sign * cached_input_tokens) AS r_cached, sum(sign * cache_write_tokens) AS r_write,"
         " sum(sign * cache_write_1h_tokens) AS r_write_1h, sum(sign * output_tokens) AS r_output,"
         " sum(if(cost_source = 0 AND meter = '', sign, 0)) AS unpriced, sum(sign * cost_micro) AS r_cost_micro,"
         " sum(sign * cost_pico) AS r_cost_pico, sum(sign * toFloat64(requests)) AS f_requests,"
         " sum(sign * toFloat64(input_tokens)) AS f_input, sum(sign * toFloat64(cached_input_tokens)) AS f_cached,"
         " sum(sign * toFloat64(cache_write_tokens)) AS f_write, sum(sign * toFloat64(cache_write_1h_tokens)) AS f_write_1h,"
         " sum(sign * toFloat64(output_tokens)) AS f_output FROM " + records +
         " ARRAY JOIN [('*', ''), ('provider', provider), ('model', if(model = '', meter, model)), ('organization', organization),"
         " ('department', department), ('user', user), ('feature', feature), ('project', project), ('status', status),"
         " ('service_tier', service_tier)] AS d WHERE " + where + " GROUP BY dim, value, hour, currency, txn, is_meter";
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
