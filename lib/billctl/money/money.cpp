#include "billctl/money/money.hpp"

#include <algorithm>
#include <numeric>

namespace billctl::money {

Money round_minor(const Money& m, Rounding mode) {
  return {m.amount.round(m.currency.minor_units, mode), m.currency};
}

std::vector<Decimal> allocate(const std::vector<Decimal>& parts, int minor_digits, Rounding mode) {
  const i128 unit = pow10(Decimal::k_scale - minor_digits);
  Decimal sum;
  for (const Decimal& p : parts) sum += p;
  const i128 target = sum.round(minor_digits, mode).units() / unit;  // in minor units

  std::vector<i128> floors(parts.size());
  std::vector<i128> rems(parts.size());
  i128 floor_sum = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    i128 u = parts[i].units();
    i128 f = u / unit;
    i128 r = u % unit;
    if (r < 0) {  // floor toward -infinity so that remainders are in [0, unit)
      f -= 1;
      r += unit;
    }
    floors[i] = f;
    rems[i] = r;
    floor_sum += f;
  }
  i128 residue = target - floor_sum;  // 0 <= residue <= parts.size()
  std::vector<size_t> order(parts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rems[a] > rems[b]; });
  for (size_t k = 0; k < order.size() && residue > 0; ++k, --residue) floors[order[k]] += 1;

  std::vector<Decimal> out(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) out[i] = Decimal::from_units(floors[i] * unit);
  return out;
}

std::string format_amount(const Decimal& d, const Currency& c) { return d.format(c.minor_units); }

}  // namespace billctl::money
