// Decimal: an exact fixed-point number, a signed 128-bit count of 1e-12 units.
// It holds a per-token price (3.75e-8) and a total of trillions exactly; every operation
// is checked and throws DataError on overflow. double never touches an amount.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "billctl/util/error.hpp"

namespace billctl::money {

using i128 = __int128;

enum class Rounding { half_even, half_up, down, up };

class Decimal {
 public:
  static constexpr int k_scale = 12;
  static constexpr int64_t k_one = 1'000'000'000'000;

  constexpr Decimal() = default;
  static constexpr Decimal from_units(i128 units) { return Decimal(units); }
  // Whole number n.
  static Decimal from_int(int64_t n);
  // Parses "12", "-0.5", "1,234.5" is refused, "2.5e-06" accepted. Fails when the value has
  // more than 12 significant fractional digits (it would not be exact) or overflows.
  static Expected<Decimal> parse(std::string_view text);

  constexpr i128 units() const { return m_units; }
  bool is_zero() const { return m_units == 0; }
  bool negative() const { return m_units < 0; }

  Decimal operator+(Decimal o) const;
  Decimal operator-(Decimal o) const;
  Decimal operator-() const;
  Decimal& operator+=(Decimal o) { return *this = *this + o; }
  Decimal& operator-=(Decimal o) { return *this = *this - o; }
  // Exact product with an integer count (tokens, requests).
  Decimal mul_int(int64_t n) const;
  // Product of two decimals, rounded to 12 fractional digits with `mode`.
  Decimal mul(Decimal o, Rounding mode = Rounding::half_even) const;
  // Quotient by an integer, rounded to 12 fractional digits with `mode`.
  Decimal div_int(int64_t n, Rounding mode = Rounding::half_even) const;
  // Rounds to `digits` fractional digits (0..12).
  Decimal round(int digits, Rounding mode = Rounding::half_even) const;

  friend bool operator==(Decimal a, Decimal b) { return a.m_units == b.m_units; }
  friend auto operator<=>(Decimal a, Decimal b) { return a.m_units <=> b.m_units; }

  // Plain text with at least `min_frac` and at most 12 fractional digits, trailing zeros
  // beyond min_frac dropped: "12.5", "0.000000037500" → "0.0000000375".
  std::string to_string(int min_frac = 0) const;
  // Like to_string with exactly `frac` digits after rounding half-even, and thousands separators.
  std::string format(int frac, bool grouping = true) const;

 private:
  explicit constexpr Decimal(i128 u) : m_units(u) {}
  i128 m_units = 0;
};

// Divides a by b (b > 0), rounding the quotient with `mode`. Exposed for allocation and percents.
i128 div_round(i128 a, i128 b, Rounding mode);

// Share of `part` in `whole` in tenths of a percent, rounded half-even; 0 when whole is 0.
inline int64_t share_tenths(i128 part, i128 whole) {
  return whole == 0 ? 0 : int64_t(div_round(part * 1000, whole, Rounding::half_even));
}
// 10^n for 0 <= n <= 36.
i128 pow10(int n);
// Decimal text of a 128-bit integer.
std::string to_string(i128 v);

}  // namespace billctl::money
