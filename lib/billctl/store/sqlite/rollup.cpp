#include "billctl/store/sqlite/rollup.hpp"

#include "billctl/store/sqlite/common.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <tuple>
#include <charconv>

namespace billctl::store {

std::string combo_value_cases() {
  auto column = [](size_t i) {
    const usage::Dim d = k_rollup_dim[i];
    std::string c = d == usage::Dim::model ? "CASE WHEN OLD.model = '' THEN OLD.meter ELSE OLD.model END" : "OLD.";
    if (d != usage::Dim::model) c += usage::dim_name(d);
    return c;
  };
  std::string out;
  auto emit = [&](const std::vector<size_t>& idx) {
    std::string name, prefix, values;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (k) name += ',';
      name += usage::dim_name(k_rollup_dim[idx[k]]);
      if (k + 1 < idx.size()) prefix.append("length(CAST(").append(column(idx[k])).append(" AS BLOB)) || ':' || ");
      if (k) values += " || ";
      values += column(idx[k]);
    }
    out.append("      WHEN '").append(name).append("' THEN ").append(prefix).append(values).append("\n");
  };
  for (size_t i = 0; i < k_rollup_dims; ++i)
    for (size_t j = i + 1; j < k_rollup_dims; ++j) {
      emit({i, j});
      for (size_t k = j + 1; k < k_rollup_dims; ++k) emit({i, j, k});
    }
  return out;
}

std::vector<Combo> registered_combos(Db& db) {
  std::vector<Combo> out;
  Stmt s(db, "SELECT combo FROM rollup_combos ORDER BY combo");
  while (s.step()) {
    auto c = combo_named(s.text(0));
    if (!c) throw DataError("store '" + db.path() + "': unknown rollup combo '" + std::string(s.text(0)) + "'");
    out.push_back(std::move(*c));
  }
  return out;
}

RollupDeltas::RollupDeltas(std::vector<Combo> combos, bool dims, bool presence)
    : m_combos(std::move(combos)), m_dims(dims), m_presence_on(presence), m_table(size_t(1) << 16, 0) {
  for (const auto& c : m_combos) {
    std::array<size_t, k_max_combo> at{};
    for (size_t k = 0; k < c.dims.size(); ++k) at[k] = rollup_index(c.dims[k]);
    m_combo_at.push_back(at);
  }
  m_last.assign((m_dims ? k_rollup_dims + 1 : 0) + m_combos.size(), 0);
}

namespace {

uint64_t key_hash(int64_t hk, uint32_t roll, const int32_t (&ids)[k_max_combo]) {
  uint64_t h = uint64_t(hk) * 0x9E3779B97F4A7C15ull ^ roll;
  for (int32_t v : ids) h = (h ^ uint32_t(v)) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

}  // namespace

void RollupDeltas::grow() {
  std::vector<uint32_t> table(m_table.size() * 2, 0);
  const size_t mask = table.size() - 1;
  for (size_t i = 0; i < m_slots.size(); ++i) {
    const Key& k = m_slots[i].key;
    size_t at = key_hash(k.hk, k.roll, k.ids) & mask;
    while (table[at] != 0) at = (at + 1) & mask;
    table[at] = uint32_t(i + 1);
  }
  m_table = std::move(table);
}

void RollupDeltas::add_to(const Key& k, const usage::Totals& t) {
  uint32_t& last = m_last[k.roll];
  if (last != 0 && m_slots[last - 1].key == k) {
    m_slots[last - 1].totals.add(t);
    return;
  }
  const size_t mask = m_table.size() - 1;
  size_t at = key_hash(k.hk, k.roll, k.ids) & mask;
  while (m_table[at] != 0 && !(m_slots[m_table[at] - 1].key == k)) at = (at + 1) & mask;
  if (m_table[at] == 0) {
    m_slots.push_back(Slot{k, {}});
    m_table[at] = uint32_t(m_slots.size());
  }
  last = m_table[at];
  m_slots[last - 1].totals.add(t);
  if (m_slots.size() * 2 > m_table.size()) grow();
}

void RollupDeltas::add(const std::string_view (&values)[k_rollup_dims], util::Seconds ts, std::string_view currency,
                       bool metered, const usage::Totals& t) {
  const int64_t hour = ts >= 0 ? ts / 3600 : (ts - 3599) / 3600;
  const int64_t cur = currency.size() == 3 ? (int64_t(currency[0]) << 16 | int64_t(currency[1]) << 8 | currency[2]) : 0;
  const int64_t hk = (hour << 25) | (int64_t(metered) << 24) | cur;
  int32_t ids[k_rollup_dims];
  for (size_t d = 0; d < k_rollup_dims; ++d) ids[d] = m_values[d].id(values[d]);
  if (m_presence_on && !metered && t.records != 0) {
    const std::string_view where[2] = {values[rollup_index(k_presence_dims[0])], values[rollup_index(k_presence_dims[1])]};
    m_presence.add(ts, where, values[rollup_index(usage::Dim::organization)], values[rollup_index(usage::Dim::user)], t.records);
  }
  // The record's keys, in batches: each batch's table entries and then slots are fetched from
  // memory together (prefetch) before any is used, instead of one cache miss after another.
  constexpr size_t k_batch = 16;
  Key keys[k_batch];
  size_t n = 0;
  auto run = [&] {
    const size_t mask = m_table.size() - 1;
    size_t at[k_batch];
    for (size_t i = 0; i < n; ++i) {
      at[i] = key_hash(keys[i].hk, keys[i].roll, keys[i].ids) & mask;
      __builtin_prefetch(&m_table[at[i]]);
    }
    for (size_t i = 0; i < n; ++i)
      if (const uint32_t e = m_table[at[i]]) __builtin_prefetch(&m_slots[e - 1]);
    for (size_t i = 0; i < n; ++i) add_to(keys[i], t);
    n = 0;
  };
  uint32_t roll = 0;
  if (m_dims) {
    for (; roll < k_rollup_dims; ++roll) keys[n++] = Key{hk, roll, {ids[roll], -1, -1}};
    keys[n++] = Key{hk, roll++, {-1, -1, -1}};  // all usage
  }
  for (size_t c = 0; c < m_combos.size(); ++c, ++roll) {
    if (n == k_batch) run();
    Key& k = keys[n++] = Key{hk, roll, {-1, -1, -1}};
    for (size_t i = 0; i < m_combos[c].dims.size(); ++i) k.ids[i] = ids[m_combo_at[c][i]];
  }
  run();
}

namespace {

// The totals a rollup row holds, in table order.
constexpr std::array<const char*, 11> k_total_columns = {
    "records", "requests", "error_requests", "input_tokens", "cached_input_tokens", "cache_write_tokens",
    "cache_write_1h_tokens", "output_tokens", "unpriced_records", "cost_micro", "cost_pico"};

void create_stage(Db& db) {
  std::string sql =
      "CREATE TEMP TABLE IF NOT EXISTS rollup_stage(combo INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
      " hour INTEGER NOT NULL, currency TEXT NOT NULL, metered INTEGER NOT NULL";
  for (const char* c : k_total_columns) sql.append(", ").append(c).append(" INTEGER NOT NULL");
  db.exec((sql + ")").c_str());
}

}  // namespace

void RollupDeltas::merge_staged(Db& db) {
  sqlite3_stmt* probe = nullptr;
  // No stage table (nothing was staged on this connection): nothing to do.
  if (sqlite3_prepare_v2(db.handle(), "SELECT EXISTS(SELECT 1 FROM temp.rollup_stage)", -1, &probe, nullptr) != SQLITE_OK) {
    sqlite3_finalize(probe);
    return;
  }
  const bool any = sqlite3_step(probe) == SQLITE_ROW && sqlite3_column_int(probe, 0) != 0;
  sqlite3_finalize(probe);
  if (!any) return;
  for (const auto& [combo, table, key] : {std::tuple{0, "usage_dim_hourly", "dim"}, std::tuple{1, "usage_combo_hourly", "combo"}}) {
    std::string columns, sums, updates;
    for (const char* c : k_total_columns) {
      columns.append(", ").append(c);
      sums.append(", sum(").append(c).append(")");
      updates.append(updates.empty() ? "" : ", ").append(c).append(" = ").append(c).append(" + excluded.").append(c);
    }
    const std::string sql = std::string("INSERT INTO ") + table + "(" + key + ", value, hour, currency, metered" +
                            columns + ") SELECT key, value, hour, currency, metered" + sums +
                            " FROM temp.rollup_stage WHERE combo = " + std::to_string(combo) +
                            " GROUP BY key, value, hour, currency, metered ORDER BY key, value, hour, currency, metered"
                            " ON CONFLICT(" + key + ", value, hour, currency, metered) DO UPDATE SET " + updates;
    char* err = nullptr;
    if (sqlite3_exec(db.handle(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "";
      sqlite3_free(err);
      if (why.find("integer overflow") != std::string::npos)
        throw DataError("token or request totals of one hour exceed the 64-bit range (9.2e18)");
      db.fail("cannot write the rollups");
    }
  }
  db.exec("DELETE FROM temp.rollup_stage");
}

void RollupDeltas::flush(Db& db, bool staged, bool last) {
  if (last || m_presence.full()) m_presence.flush(db);
  if (staged) create_stage(db);
  auto upsert = [&](const char* table, const char* key) {
    if (staged)
      return std::string("INSERT INTO temp.rollup_stage VALUES(") + (std::string_view(key) == "dim" ? "0" : "1") +
             ", ?1, ?2, ?3, ?4, ?16, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
    return std::string("INSERT INTO ") + table + " VALUES(?1, ?2, ?3, ?4, ?16, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
           " ON CONFLICT(" + key + ", value, hour, currency, metered) DO UPDATE SET records = records + ?5, requests = requests + ?6,"
           " error_requests = error_requests + ?7, input_tokens = input_tokens + ?8,"
           " cached_input_tokens = cached_input_tokens + ?9, cache_write_tokens = cache_write_tokens + ?10,"
           " cache_write_1h_tokens = cache_write_1h_tokens + ?11, output_tokens = output_tokens + ?12,"
           " unpriced_records = unpriced_records + ?13, cost_micro = cost_micro + ?14, cost_pico = cost_pico + ?15";
  };
  Stmt dims(db, upsert("usage_dim_hourly", "dim").c_str());
  Stmt combos(db, upsert("usage_combo_hourly", "combo").c_str());
  const uint32_t first_combo = m_dims ? uint32_t(k_rollup_dims + 1) : 0;
  // Each rollup value's hours together (interned ids compare fast), then those runs in the tables'
  // key order (dimension, value: a few thousand strings to compare), so the upserts append to the
  // rollup tables' B-trees or walk their pages once instead of landing at random places.
  std::sort(m_slots.begin(), m_slots.end(), [](const Slot& a, const Slot& b) {
    if (a.key.roll != b.key.roll) return a.key.roll < b.key.roll;
    for (size_t i = 0; i < k_max_combo; ++i)
      if (a.key.ids[i] != b.key.ids[i]) return a.key.ids[i] < b.key.ids[i];
    return a.key.hk < b.key.hk;
  });
  struct Run {
    bool combo;
    std::string_view key;
    std::string value;
    size_t begin, end;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < m_slots.size();) {
    const Key& k = m_slots[i].key;
    size_t j = i + 1;
    while (j < m_slots.size() && m_slots[j].key.roll == k.roll &&
           std::equal(k.ids, k.ids + k_max_combo, m_slots[j].key.ids))
      ++j;
    Run run{k.roll >= first_combo, {}, {}, i, j};
    if (run.combo) {
      const Combo& c = m_combos[k.roll - first_combo];
      std::string_view parts[k_max_combo];
      for (size_t d = 0; d < c.dims.size(); ++d) parts[d] = m_values[m_combo_at[k.roll - first_combo][d]].value(k.ids[d]);
      combo_value(parts, c.dims.size(), run.value);
      run.key = c.name;
    } else if (k.roll < k_rollup_dims) {
      run.key = usage::dim_name(k_rollup_dim[k.roll]);
      run.value = m_values[k.roll].value(k.ids[0]);
    } else {
      run.key = "*";
    }
    runs.push_back(std::move(run));
    i = j;
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    return std::tie(a.combo, a.key, a.value) < std::tie(b.combo, b.key, b.value);
  });
  for (const Run& run : runs)
    for (size_t i = run.begin; i < run.end; ++i) {
      const int64_t hk = m_slots[i].key.hk;
      const usage::Totals& t = m_slots[i].totals;
      Stmt& up = run.combo ? combos : dims;
      const char cur[3] = {char((hk >> 16) & 0xff), char((hk >> 8) & 0xff), char(hk & 0xff)};
      up.bind(1, run.key).bind(2, run.value).bind(3, hk >> 25).bind(4, std::string_view(cur, 3)).bind(16, (hk >> 24) & 1);
      up.bind(5, t.records).bind(6, t.requests).bind(7, t.error_requests).bind(8, t.input_tokens);
      up.bind(9, t.cached_input_tokens).bind(10, t.cache_write_tokens).bind(11, t.cache_write_1h_tokens);
      up.bind(12, t.output_tokens).bind(13, t.unpriced_records);
      up.bind(14, int64_t(t.cost / k_cost_micro)).bind(15, int64_t(t.cost % k_cost_micro));
      up.step();
      up.rewind();
    }
  m_slots.clear();
  std::fill(m_table.begin(), m_table.end(), 0);
  std::fill(m_last.begin(), m_last.end(), 0);
  for (auto& v : m_values) v.clear();
}

namespace {

uint64_t presence_hash(int32_t month, uint32_t value, uint32_t organization, uint32_t user) {
  uint64_t h = uint64_t(uint32_t(month)) * 0x9E3779B97F4A7C15ull;
  for (uint32_t v : {value, organization, user}) h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

}  // namespace

void PresenceDeltas::add(util::Seconds ts, const std::string_view (&values)[2], std::string_view organization,
                         std::string_view user, int64_t n) {
  const int64_t day = util::day_of(ts);
  if (day != m_day) {
    m_day = day;
    m_month = int32_t(util::month_of_day(day));  // years of a record's time (1970-2199) fit
  }
  const int32_t month = m_month;
  const uint32_t o = uint32_t(m_organizations.id(organization)), u = uint32_t(m_users.id(user));
  for (uint32_t dim = 0; dim < 2; ++dim) add(month, uint32_t(m_values.id(values[dim])) | (dim << 31), o, u, n);
}

void PresenceDeltas::add(int32_t month, uint32_t v, uint32_t o, uint32_t u, int64_t n) {
  if ((m_live + 1) * 10 > m_rows.size() * 7) grow();
  const size_t mask = m_rows.size() - 1;
  for (size_t at = presence_hash(month, v, o, u) & mask;; at = (at + 1) & mask) {
    Row& r = m_rows[at];
    if (r.value == UINT32_MAX) {
      r = Row{month, v, o, u, n};
      ++m_live;
      return;
    }
    if (r.month == month && r.value == v && r.organization == o && r.user == u) {
      r.records += n;
      return;
    }
  }
}

void PresenceDeltas::grow() {
  std::vector<Row> rows(std::max<size_t>(m_rows.size() * 2, 4096));
  const size_t mask = rows.size() - 1;
  for (const Row& r : m_rows) {
    if (r.value == UINT32_MAX) continue;
    size_t at = presence_hash(r.month, r.value, r.organization, r.user) & mask;
    while (rows[at].value != UINT32_MAX) at = (at + 1) & mask;
    rows[at] = r;
  }
  m_rows = std::move(rows);
}

void PresenceDeltas::flush(Db& db) {
  if (m_live == 0) return;
  std::vector<const Row*> rows;
  rows.reserve(m_live);
  for (const Row& r : m_rows)
    if (r.value != UINT32_MAX && r.records != 0) rows.push_back(&r);
  // In the table's key order, so the upserts walk its pages once.
  auto value = [&](const Row* r) -> const std::string& { return m_values.value(int32_t(r->value & 0x7fffffffu)); };
  std::sort(rows.begin(), rows.end(), [&](const Row* a, const Row* b) {
    if ((a->value >> 31) != (b->value >> 31)) return (a->value >> 31) < (b->value >> 31);
    if (a->month != b->month) return a->month < b->month;
    if (a->value != b->value) return value(a) < value(b);
    if (a->organization != b->organization)
      return m_organizations.value(int32_t(a->organization)) < m_organizations.value(int32_t(b->organization));
    return m_users.value(int32_t(a->user)) < m_users.value(int32_t(b->user));
  });
  Stmt up(db,
          "INSERT INTO usage_user_monthly(dim, month, value, organization, user, records) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
          " ON CONFLICT(dim, month, value, organization, user) DO UPDATE SET records = records + excluded.records");
  for (const Row* r : rows) {
    up.bind(1, usage::dim_name(k_presence_dims[r->value >> 31])).bind(2, int64_t(r->month)).bind(3, value(r));
    up.bind(4, m_organizations.value(int32_t(r->organization))).bind(5, m_users.value(int32_t(r->user))).bind(6, r->records);
    up.step();
    up.rewind();
  }
  std::fill(m_rows.begin(), m_rows.end(), Row{});
  m_live = 0;
  m_values.clear();
  m_organizations.clear();
  m_users.clear();
}

void PresenceDeltas::release() {
  std::vector<Row>().swap(m_rows);
  m_live = 0;
  m_values.clear();
  m_organizations.clear();
  m_users.clear();
}

void RollupDeltas::release() {
  m_presence.release();
  std::vector<Slot>().swap(m_slots);
  std::vector<uint32_t>(size_t(1) << 16, 0).swap(m_table);
}

void add_stored(RollupDeltas& deltas, const Stmt& s, bool negated) {
  const std::string_view meter = s.text(20);
  const std::string_view model = s.text(15).empty() ? meter : s.text(15);
  const std::string_view values[k_rollup_dims] = {s.text(14), model, s.text(16), s.text(17), s.text(0), s.text(18), s.text(19)};
  const usage::Totals t = totals_at(s, 3);
  deltas.add(values, s.int64(1), s.text(2), !meter.empty(), negated ? t.negated() : t);
}

namespace {

// One pass over the stored usage into `deltas`.
void roll_stored(Db& db, RollupDeltas& deltas) {
  deltas.reserve(k_max_slots + 128);
  Stmt s(db, (std::string("SELECT ") + k_rollup_source_columns + " FROM usage").c_str());
  while (s.step()) {
    if (deltas.full(k_max_slots)) deltas.flush(db, false, false);
    add_stored(deltas, s, false);
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
  RollupDeltas deltas(fresh, false, false);
  roll_stored(db, deltas);
  deltas.flush(db);
}

void rebuild_rollups(Db& db, const std::vector<Combo>& combos) {
  RollupDeltas deltas(combos, true, true);
  roll_stored(db, deltas);
  deltas.flush(db);
}

void rebuild_presence(Db& db) {
  RollupDeltas deltas({}, false, true);
  roll_stored(db, deltas);
  deltas.flush(db);
}

}  // namespace billctl::store
