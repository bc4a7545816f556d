// ISO 4217 currencies with their minor units (USD 2, JPY 0, BHD 3).
#pragma once

#include <string>
#include <string_view>

#include "billctl/util/error.hpp"

namespace billctl::money {

struct Currency {
  char code[4] = {'U', 'S', 'D', 0};
  int minor_units = 2;

  std::string_view name() const { return std::string_view(code, 3); }
  friend bool operator==(const Currency& a, const Currency& b) { return a.name() == b.name(); }
};

// Looks up an ISO 4217 code (upper case). Fails with the code for unknown currencies.
Expected<Currency> find_currency(std::string_view code);
// The currency or a DataError "unknown currency 'XYZ'".
Currency currency(std::string_view code);

inline const Currency k_usd{};

}  // namespace billctl::money
