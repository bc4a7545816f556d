// The hourly rollups imports maintain beside the usage table: per value of each attribution
// dimension and of all usage (usage_dim_hourly), and per pair of values of registered dimension
// pairs (usage_combo_hourly: organization,user for invoices, and the pairs budget scopes combine).
#pragma once

#include <optional>
#include <string_view>
#include <array>
#include <string>
#include <vector>

#include "billctl/store/combo.hpp"
#include "billctl/store/sqlite/db.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/intern.hpp"

namespace billctl::store {

// Every combo's name with the SQL expression of its value over OLD.* (the delete trigger).
std::string combo_value_cases();
std::vector<Combo> registered_combos(Db& db);
// Registers combos and fills their rollups from the stored usage in one pass (in the caller's
// transaction); those registered already are left as they are.
void register_combos(Db& db, const std::vector<Combo>& combos);

// Rollup deltas gathered in memory (an import, a rebuild) and added to the rollup tables at once:
// per value of each dimension and of all usage ('*') when `dims`, per combination of values of
// each combo, and when `presence` the token records per UTC month of each user under each
// department and feature (usage_user_monthly: who has usage where, for the report's active users).
// Rollup slots kept in memory before they are added to the tables (~130 bytes each). At 600K an
// import of 2M real-shaped records peaked at 246 MB (SQLite's 128 MB page cache included); fewer
// slots mean more rewrites of the same rollup rows.
inline constexpr size_t k_max_slots = 600'000;
// The bound while an import loads into an empty store (SQLite's page cache is 16 MB then): a month
// of 10M real-shaped records (1,000 users) has 1.3M hourly rollup rows.
inline constexpr size_t k_max_bulk_slots = 1'400'000;

// The departments and features whose users usage_user_monthly counts.
inline constexpr usage::Dim k_presence_dims[] = {usage::Dim::department, usage::Dim::feature};

// The deltas of usage_user_monthly: per UTC month, the token records of a user (and organization)
// under a department or a feature. An import adds to the same rows over and over (a month of 10M
// real-shaped records: 21,000 rows), so they are summed in memory for the whole import (their own
// dictionaries; 24 bytes a row in an open-addressing table) and written once, or when they pass
// 700,000 rows.
class PresenceDeltas {
 public:
  // A record's: its department and feature (k_presence_dims order), organization and user.
  void add(util::Seconds ts, const std::string_view (&values)[2], std::string_view organization, std::string_view user, int64_t n);
  bool full() const { return m_live > k_max_live; }
  // Adds the deltas to usage_user_monthly in key order, and forgets them.
  void flush(Db& db);
  void release();

 private:
  struct Row {
    int32_t month = 0;
    uint32_t value = UINT32_MAX;  // top bit: a feature; UINT32_MAX: an empty slot
    uint32_t organization = 0, user = 0;
    int64_t records = 0;
  };
  static constexpr size_t k_max_live = (size_t(1) << 20) * 7 / 10;
  void grow();
  void add(int32_t month, uint32_t value, uint32_t organization, uint32_t user, int64_t n);
  std::vector<Row> m_rows;  // power-of-two size, linear probing
  size_t m_live = 0;
  util::Interner m_values, m_organizations, m_users;
  int64_t m_day = INT64_MIN;  // the last record's UTC day and its month
  int32_t m_month = 0;
};

class RollupDeltas {
 public:
  RollupDeltas(std::vector<Combo> combos, bool dims, bool presence);
  // Adds a record's totals (or, negated, a replaced record's). `values` in k_rollup_dim order, a
  // meter record's model being its meter.
  void add(const std::string_view (&values)[k_rollup_dims], util::Seconds ts, std::string_view currency, bool metered,
           const usage::Totals& t);
  // Adds the deltas to usage_dim_hourly and usage_combo_hourly, and forgets them. Staged: appends
  // them to a temporary table instead (no B-tree seeks into rollup tables that grow with the
  // store, so a long import keeps its pace), for merge_staged() to add them up at the end. The
  // monthly deltas are kept across flushes (an import adds to the same few thousand rows all along)
  // and added to usage_user_monthly when `last`, or when they outgrow their bound.
  void flush(Db& db, bool staged = false, bool last = true);
  // Held deltas past their bound: time to flush.
  bool full(size_t max_slots) const { return m_slots.size() > max_slots || m_presence.full(); }
  // Adds what flush(db, true) staged to the rollup tables, each key once, in key order, and
  // empties the stage. Must run before records are deleted (their triggers update the rollups).
  static void merge_staged(Db& db);
  // Room for n slots, so that growing past a power of two never holds two copies at once.
  void reserve(size_t n) { m_slots.reserve(n); }
  // Gives the slots' memory back (after a flush, before work that needs memory of its own).
  void release();
  // Hourly slots held in memory: flushing beyond a bound keeps an import's memory bounded.
  size_t slots() const { return m_slots.size(); }

 private:
  // A slot: the rollup (each dimension, '*', then each combo), the interned values (one for a
  // dimension, one per dimension of a combo, -1 beyond) and the hour, metered flag and currency.
  struct Key {
    int64_t hk = 0;
    uint32_t roll = 0;
    int32_t ids[k_max_combo] = {-1, -1, -1};
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct Slot {
    Key key;
    usage::Totals totals;
  };
  void add_to(const Key& k, const usage::Totals& t);
  void grow();

  std::vector<Combo> m_combos;
  std::vector<std::array<size_t, k_max_combo>> m_combo_at;  // each combo's dimensions' positions in k_rollup_dim
  bool m_dims;
  bool m_presence_on;
  PresenceDeltas m_presence;
  std::array<util::Interner, k_rollup_dims> m_values;
  std::vector<Slot> m_slots;
  std::vector<uint32_t> m_table;  // open addressing, linear probing: slot index + 1, 0 when empty
  std::vector<uint32_t> m_last;   // per rollup, the slot it added to last (+ 1): runs of equal keys skip the probe
};

// The columns of a stored record its rollup deltas come from: the user, time, currency, the
// totals (records first, as totals_at reads them), then provider, model, organization,
// department, feature, project and meter.
inline constexpr const char* k_rollup_source_columns =
    "user, ts, currency, 1, requests, CASE WHEN status = 'error' THEN requests ELSE 0 END,"
    " input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,"
    " cost_source = 0 AND meter = '', cost_micro, cost_pico, provider, model, organization, department,"
    " feature, project, meter";
inline constexpr int k_rollup_source_column_count = 21;
// Adds the deltas of the stored record a statement stands on (k_rollup_source_columns first), or
// takes them out (`negated`: a replaced record).
void add_stored(RollupDeltas& deltas, const Stmt& s, bool negated);

// Fills the rollups of every dimension and of `combos`, and usage_user_monthly, from the stored
// usage in one pass (the tables must be empty of them).
void rebuild_rollups(Db& db, const std::vector<Combo>& combos);
// Fills usage_user_monthly alone from the stored usage (it must be empty).
void rebuild_presence(Db& db);

}  // namespace billctl::store
