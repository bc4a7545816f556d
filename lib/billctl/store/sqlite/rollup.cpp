#include "billctl/store/sqlite/rollup.hpp"

#include "billctl/store/sqlite/common.hpp"

#include <algorithm>
#include <charconv>

namespace billctl::store {

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

RollupDeltas::RollupDeltas(std::vector<Combo> combos, bool dims)
    : m_combos(std::move(combos)),
      m_dims(dims),
      m_roll((dims ? k_rollup_dims + 1 : 0) + m_combos.size()),
      m_last(m_roll.size()),
      m_combo_values(m_combos.size()) {}

void RollupDeltas::add(const std::string_view (&values)[k_rollup_dims], util::Seconds ts, std::string_view currency,
                       bool metered, const usage::Totals& t) {
  const int64_t hour = ts >= 0 ? ts / 3600 : (ts - 3599) / 3600;
  const int64_t cur = currency.size() == 3 ? (int64_t(currency[0]) << 16 | int64_t(currency[1]) << 8 | currency[2]) : 0;
  const int64_t hk = (hour << 25) | (int64_t(metered) << 24) | cur;
  for (size_t c = 0; c < m_combos.size(); ++c)
    combo_value(values[rollup_index(m_combos[c].a)], values[rollup_index(m_combos[c].b)], m_combo_values[c]);
  const size_t first_combo = m_dims ? k_rollup_dims + 1 : 0;
  for (size_t d = 0; d < m_roll.size(); ++d) {
    const std::string_view v = d >= first_combo       ? std::string_view(m_combo_values[d - first_combo])
                               : d < k_rollup_dims     ? values[d]
                                                       : std::string_view();
    Slot& last = m_last[d];
    if (last.hours && last.hk == hk && last.value == v) {
      last.totals->add(t);
      continue;
    }
    auto& by_value = m_roll[d];
    auto it = by_value.find(v);
    if (it == by_value.end()) it = by_value.emplace(std::string(v), Hours{}).first;
    usage::Totals& slot = it->second[hk];
    slot.add(t);
    last = {&it->second, it->first, hk, &slot};
  }
}

void RollupDeltas::flush(Db& db) {
  auto upsert = [&](const char* table, const char* key) {
    return std::string("INSERT INTO ") + table + " VALUES(?1, ?2, ?3, ?4, ?16, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
           " ON CONFLICT(" + key + ", value, hour, currency, metered) DO UPDATE SET records = records + ?5, requests = requests + ?6,"
           " error_requests = error_requests + ?7, input_tokens = input_tokens + ?8,"
           " cached_input_tokens = cached_input_tokens + ?9, cache_write_tokens = cache_write_tokens + ?10,"
           " cache_write_1h_tokens = cache_write_1h_tokens + ?11, output_tokens = output_tokens + ?12,"
           " unpriced_records = unpriced_records + ?13, cost_micro = cost_micro + ?14, cost_pico = cost_pico + ?15";
  };
  Stmt dims(db, upsert("usage_dim_hourly", "dim").c_str());
  Stmt combos(db, upsert("usage_combo_hourly", "combo").c_str());
  const size_t first_combo = m_dims ? k_rollup_dims + 1 : 0;
  for (size_t d = 0; d < m_roll.size(); ++d)
    for (const auto& [value, hours] : m_roll[d]) {
      Stmt& up = d < first_combo ? dims : combos;
      const std::string_view key = d >= first_combo       ? std::string_view(m_combos[d - first_combo].name)
                                   : d < k_rollup_dims     ? usage::dim_name(k_rollup_dim[d])
                                                           : std::string_view("*");
      for (const auto& [hk, t] : hours) {
        const char cur[3] = {char((hk >> 16) & 0xff), char((hk >> 8) & 0xff), char(hk & 0xff)};
        up.bind(1, key).bind(2, value).bind(3, hk >> 25).bind(4, std::string_view(cur, 3)).bind(16, (hk >> 24) & 1);
        up.bind(5, t.records).bind(6, t.requests).bind(7, t.error_requests).bind(8, t.input_tokens);
        up.bind(9, t.cached_input_tokens).bind(10, t.cache_write_tokens).bind(11, t.cache_write_1h_tokens);
        up.bind(12, t.output_tokens).bind(13, t.unpriced_records);
        up.bind(14, int64_t(t.cost / k_cost_micro)).bind(15, int64_t(t.cost % k_cost_micro));
        up.step();
        up.reset();
      }
    }
  for (auto& m : m_roll) m.clear();
  std::fill(m_last.begin(), m_last.end(), Slot{});
}

namespace {

// One pass over the stored usage into `deltas`.
void roll_stored(Db& db, RollupDeltas& deltas) {
  Stmt s(db,
         "SELECT user, ts, currency, 1, requests, CASE WHEN status = 'error' THEN requests ELSE 0 END,"
         " input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,"
         " cost_source = 0 AND meter = '', cost_micro, cost_pico, provider, model, organization, department,"
         " feature, project, meter FROM usage");
  while (s.step()) {
    const std::string_view meter = s.text(20);
    const std::string_view model = s.text(15).empty() ? meter : s.text(15);
    const std::string_view values[k_rollup_dims] = {s.text(14), model, s.text(16), s.text(17), s.text(0), s.text(18), s.text(19)};
    usage::Totals t;
    t.records = 1;
    t.requests = s.int64(4);
    t.error_requests = s.int64(5);
    t.input_tokens = s.int64(6);
    t.cached_input_tokens = s.int64(7);
    t.cache_write_tokens = s.int64(8);
    t.cache_write_1h_tokens = s.int64(9);
    t.output_tokens = s.int64(10);
    t.unpriced_records = s.int64(11);
    t.cost = money::i128(s.int64(12)) * k_cost_micro + s.int64(13);
    deltas.add(values, s.int64(1), s.text(2), !meter.empty(), t);
  }
}

}  // namespace

void register_combos(Db& db, const std::vector<Combo>& combos) {
  std::vector<Combo> fresh;
  Stmt ins(db, "INSERT OR IGNORE INTO rollup_combos(combo) VALUES(?1)");
  for (const auto& c : combos) {
    if (std::any_of(fresh.begin(), fresh.end(), [&](const Combo& f) { return f.name == c.name; })) continue;
    ins.bind(1, c.name);
    ins.step();
    ins.reset();
    if (db.changes() > 0) fresh.push_back(c);
  }
  if (fresh.empty()) return;
  RollupDeltas deltas(fresh, false);
  roll_stored(db, deltas);
  deltas.flush(db);
}

void rebuild_rollups(Db& db, const std::vector<Combo>& combos) {
  RollupDeltas deltas(combos, true);
  roll_stored(db, deltas);
  deltas.flush(db);
}

}  // namespace billctl::store
