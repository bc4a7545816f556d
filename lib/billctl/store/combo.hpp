// Rollup combos, shared by both usage stores: the dimensions with an hourly rollup, and the pairs
// and triples of them with a rollup of their own (organization,user for invoices, and the pairs
// budget scopes combine), with how a combination of values is spelled as one rollup value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
// The combo named "organization,user"; nullopt when the name is not one.
std::optional<Combo> combo_named(std::string_view name);
// The combo values a query filtered on every dimension of `c` reads: the product of its filters'
// values; empty when a dimension is not filtered or the product has more than `max` values (the
// rows are then filtered by split_combo_value and filter_passes).
std::vector<std::string> combo_values(const Combo& c, const std::vector<usage::Filter>& where, size_t max = 500);
// Does value `v` of dimension `d` pass every filter on `d`?
bool filter_passes(const std::vector<usage::Filter>& where, usage::Dim d, std::string_view v);

}  // namespace billctl::store
