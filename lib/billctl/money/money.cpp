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
std::string format_money(const Decimal& d, const Currency& c) { return format_amount(d, c) + " " + std::string(c.name()); }

Expected<Money> parse_money(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return Expected<Money>::fail("expected an amount and a currency, e.g. \"45 USD\"");
  std::string_view a = text.substr(0, sp), b = text.substr(text.find_first_not_of(' ', sp));
  if (!a.empty() && (a[0] < '0' || a[0] > '9') && a[0] != '-') std::swap(a, b);
  auto cur = find_currency(b);
  if (!cur) return Expected<Money>::fail(cur.error());
  auto amount = Decimal::parse(a);
  if (!amount) return Expected<Money>::fail(amount.error());
  if (!(amount->round(cur->minor_units) == *amount))
    return Expected<Money>::fail(std::string("'").append(a) + "' has more digits than " + std::string(cur->name()) + " allows (" +
                                 std::to_string(cur->minor_units) + ")");
  return Money{*amount, *cur};
}

}  // namespace billctl::money
