#include "billctl/store/combo.hpp"

#include <algorithm>
#include <charconv>

namespace billctl::store {

bool is_rolled(usage::Dim d) { return std::find(std::begin(k_rollup_dim), std::end(k_rollup_dim), d) != std::end(k_rollup_dim); }

size_t rollup_index(usage::Dim d) { return size_t(std::find(std::begin(k_rollup_dim), std::end(k_rollup_dim), d) - std::begin(k_rollup_dim)); }

size_t Combo::position(usage::Dim d) const { return size_t(std::find(dims.begin(), dims.end(), d) - dims.begin()); }

std::optional<Combo> combo_of(std::vector<usage::Dim> dims) {
  if (dims.size() < 2 || dims.size() > k_max_combo) return std::nullopt;
  for (usage::Dim d : dims)
    if (!is_rolled(d)) return std::nullopt;
  std::sort(dims.begin(), dims.end(), [](usage::Dim x, usage::Dim y) { return rollup_index(x) < rollup_index(y); });
  if (std::adjacent_find(dims.begin(), dims.end()) != dims.end()) return std::nullopt;
  Combo c{dims, {}};
  for (usage::Dim d : dims) {
    if (!c.name.empty()) c.name += ',';
    c.name += usage::dim_name(d);
  }
  return c;
}

std::optional<Combo> combo_named(std::string_view name) {
  std::vector<usage::Dim> dims;
  for (size_t at = 0; at <= name.size();) {
    const size_t comma = std::min(name.find(',', at), name.size());
    const auto d = usage::find_dim(name.substr(at, comma - at));
    if (!d) return std::nullopt;
    dims.push_back(*d);
    at = comma + 1;
  }
  auto c = combo_of(dims);
  if (!c || c->name != name) return std::nullopt;
  return c;
}

void combo_value(const std::string_view* values, size_t n, std::string& out) {
  out.clear();
  char digits[24];
  for (size_t i = 0; i + 1 < n; ++i) {
    out.append(digits, std::to_chars(digits, digits + sizeof digits, values[i].size()).ptr);
    out += ':';
  }
  for (size_t i = 0; i < n; ++i) out += values[i];
}

bool split_combo_value(std::string_view v, size_t n, std::string_view* values) {
  size_t lengths[k_max_combo] = {};
  size_t at = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    const size_t colon = v.find(':', at);
    if (colon == std::string_view::npos || std::from_chars(v.data() + at, v.data() + colon, lengths[i]).ptr != v.data() + colon)
      return false;
    at = colon + 1;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (lengths[i] > v.size() - at) return false;
    values[i] = v.substr(at, lengths[i]);
    at += lengths[i];
  }
  values[n - 1] = v.substr(at);
  return true;
}

std::vector<std::string> combo_values(const Combo& c, const std::vector<usage::Filter>& where, size_t max) {
  const size_t n = c.dims.size();
  std::vector<const usage::Filter*> f(n, nullptr);
  for (const auto& w : where)
    if (const size_t k = c.position(w.dim); k < n) f[k] = &w;
  size_t product = 1;
  for (const auto* w : f) product = w && product <= max ? product * w->values.size() : 0;
  std::vector<std::string> out;
  if (product == 0 || product > max) return out;
  std::vector<size_t> at(n, 0);
  std::string v;
  std::string_view parts[k_max_combo];
  for (size_t i = 0; i < product; ++i) {
    for (size_t k = 0; k < n; ++k) parts[k] = f[k]->values[at[k]];
    combo_value(parts, n, v);
    out.push_back(v);
    for (size_t k = n; k-- > 0;)
      if (++at[k] < f[k]->values.size()) break;
      else at[k] = 0;
  }
  return out;
}

bool filter_passes(const std::vector<usage::Filter>& where, usage::Dim d, std::string_view v) {
  for (const auto& f : where)
    if (f.dim == d && std::find(f.values.begin(), f.values.end(), v) == f.values.end()) return false;
  return true;
}

}  // namespace billctl::store
