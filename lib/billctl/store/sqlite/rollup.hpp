// The hourly rollups imports maintain beside the usage table: per value of each attribution
// dimension and of all usage (usage_dim_hourly), and per pair of values of registered dimension
// pairs (usage_combo_hourly: organization,user for invoices, and the pairs budget scopes combine).
#pragma once

#include <optional>
#include <string_view>
#include <unordered_map>
#include <string>
#include <vector>

#include "billctl/store/sqlite/db.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/simd.hpp"

namespace billctl::store {

// The dimensions with an hourly rollup, in the order imports pass their values.
inline constexpr size_t k_rollup_dims = 7;
inline constexpr usage::Dim k_rollup_dim[k_rollup_dims] = {usage::Dim::provider,   usage::Dim::model, usage::Dim::organization,
                                                           usage::Dim::department, usage::Dim::user,  usage::Dim::feature,
                                                           usage::Dim::project};
bool is_rolled(usage::Dim d);
// The position of a rolled-up dimension in k_rollup_dim.
size_t rollup_index(usage::Dim d);

// Two or three rolled-up dimensions in k_rollup_dim order, with a rollup of their own.
inline constexpr size_t k_max_combo = 3;
struct Combo {
  std::vector<usage::Dim> dims;
  std::string name;  // "organization,user"
  size_t position(usage::Dim d) const;  // in dims; dims.size() when absent
};
// A combo's value: the byte length of each value but the last, each followed by ':', then the
// values (unambiguous whatever bytes the values hold): "3:5:acmealicegpt-4o".
void combo_value(const std::string_view* values, size_t n, std::string& out);
// Splits a combo value into its n values; false when malformed.
bool split_combo_value(std::string_view v, size_t n, std::string_view* values);
// The combo of two or three distinct rolled-up dimensions (in any order).
std::optional<Combo> combo_of(std::vector<usage::Dim> dims);
// Every combo's name with the SQL expression of its value over OLD.* (the delete trigger).
std::string combo_value_cases();
std::vector<Combo> registered_combos(Db& db);
// Registers combos and fills their rollups from the stored usage in one pass (in the caller's
// transaction); those registered already are left as they are.
void register_combos(Db& db, const std::vector<Combo>& combos);

// Rollup deltas gathered in memory (an import, a rebuild) and added to the rollup tables at once:
// per value of each dimension and of all usage ('*') when `dims`, and per combination of values of
// each combo.
// Rollup slots kept in memory before they are added to the tables (~150 bytes each). At 600K an
// import of 2M real-shaped records peaked at 246 MB (SQLite's 128 MB page cache included); fewer
// slots mean more rewrites of the same rollup rows.
inline constexpr size_t k_max_slots = 600'000;

class RollupDeltas {
 public:
  RollupDeltas(std::vector<Combo> combos, bool dims);
  // Adds a record's totals (or, negated, a replaced record's). `values` in k_rollup_dim order, a
  // meter record's model being its meter.
  void add(const std::string_view (&values)[k_rollup_dims], util::Seconds ts, std::string_view currency, bool metered,
           const usage::Totals& t);
  // Adds the deltas to usage_dim_hourly and usage_combo_hourly, and forgets them.
  void flush(Db& db);
  // Slots held in memory: flushing beyond a bound keeps an import's memory bounded.
  size_t slots() const { return m_slots; }

 private:
  using Hours = std::unordered_map<int64_t, usage::Totals>;  // hour, metered and currency -> totals
  struct Slot {  // the last slot each key wrote to: consecutive records often share a value and an hour
    Hours* hours = nullptr;
    std::string_view value;
    int64_t hk = 0;
    usage::Totals* totals = nullptr;
  };
  std::vector<Combo> m_combos;
  bool m_dims;
  // The dimensions and '*' (when m_dims), then each combo: value -> hours.
  std::vector<std::unordered_map<std::string, Hours, util::FastHash, std::equal_to<>>> m_roll;
  std::vector<Slot> m_last;
  std::vector<std::string> m_combo_values;  // reused buffers: no allocation per record once grown
  size_t m_slots = 0;
};

// Fills the rollups of every dimension and of `combos` from the stored usage in one pass (the
// tables must be empty of them).
void rebuild_rollups(Db& db, const std::vector<Combo>& combos);

}  // namespace billctl::store
