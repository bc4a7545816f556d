// The hourly rollups imports maintain beside the usage table: per value of each attribution
// dimension and of all usage (usage_dim_hourly), and per pair of values of registered dimension
// pairs (usage_combo_hourly: organization,user for invoices, and the pairs budget scopes combine).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/store/sqlite/db.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::store {

// The dimensions with an hourly rollup, in the order imports pass their values.
inline constexpr size_t k_rollup_dims = 7;
inline constexpr usage::Dim k_rollup_dim[k_rollup_dims] = {usage::Dim::provider,   usage::Dim::model, usage::Dim::organization,
                                                           usage::Dim::department, usage::Dim::user,  usage::Dim::feature,
                                                           usage::Dim::project};
bool is_rolled(usage::Dim d);
// The position of a rolled-up dimension in k_rollup_dim.
size_t rollup_index(usage::Dim d);

// Two rolled-up dimensions in k_rollup_dim order.
struct Combo {
  usage::Dim a, b;
  std::string name;  // "organization,user"
};
// A combo's value: the byte length of the first value, ':', then both values (unambiguous
// whatever bytes the values hold).
void combo_value(std::string_view a, std::string_view b, std::string& out);
bool split_combo_value(std::string_view v, std::string_view& a, std::string_view& b);
// The combo of two distinct rolled-up dimensions (in either order).
std::optional<Combo> combo_of(usage::Dim x, usage::Dim y);
std::vector<Combo> registered_combos(Db& db);
// Registers a combo and fills its rollup from the stored usage (in the caller's transaction);
// nothing when it is registered already.
void register_combo(Db& db, const Combo& c);

}  // namespace billctl::store
