// Money: an exact amount in one currency. Adding two currencies is an error; rounding to
// the minor unit happens only in round_minor / allocate, the named display and invoice boundary.
#pragma once

#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"

namespace billctl::money {

struct Money {
  Decimal amount;
  Currency currency;

  Money operator+(const Money& o) const {
    require_same(o);
    return {amount + o.amount, currency};
  }
  Money operator-(const Money& o) const {
    require_same(o);
    return {amount - o.amount, currency};
  }
  void require_same(const Money& o) const {
    if (!(currency == o.currency))
      throw DataError("cannot add " + std::string(o.currency.name()) + " to " +
                      std::string(currency.name()) + " without an exchange rate");
  }
};

// Rounds to the currency's minor unit (USD 2, JPY 0, BHD 3), half-even unless told otherwise.
// "45 USD", "45.00 USD" or "USD 45": an amount with at most the currency's minor digits.
Expected<Money> parse_money(std::string_view text);

Money round_minor(const Money& m, Rounding mode = Rounding::half_even);

// Rounds each part to `minor_digits` so that the rounded parts sum exactly to the rounded
// sum of the parts (largest-remainder; ties go to the earlier part).
std::vector<Decimal> allocate(const std::vector<Decimal>& parts, int minor_digits,
                              Rounding mode = Rounding::half_even);

// "1,234.56" with the currency's minor digits, no currency code.
std::string format_amount(const Decimal& d, const Currency& c);
// "1,234.56 USD"
std::string format_money(const Decimal& d, const Currency& c);

}  // namespace billctl::money
