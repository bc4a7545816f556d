// Amounts in the config file: a decimal written as a string ("20.00") or a whole number, never
// negative. `what` names the file and key in the error.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "billctl/money/decimal.hpp"
#include "billctl/util/toml_guard.hpp"

namespace billctl::money {

// "FILE:LINE" of a node of the config file, for messages.
inline std::string config_at(const std::string& origin, const toml::node& n) {
  return origin + ":" + std::to_string(n.source().begin.line);
}

inline Decimal config_decimal(const toml::node& n, const std::string& what) {
  std::string text;
  if (auto s = n.value<std::string>()) text = *s;
  else if (auto i = util::toml_integer(n)) text = std::to_string(*i);
  else throw DataError(what + ": expected a number, e.g. \"100\" or \"20.00\"");
  auto d = Decimal::parse(text);
  if (!d) throw DataError(what + ": " + d.error());
  if (d->negative()) throw DataError(what + ": must not be negative, got '" + text + "'");
  return *d;
}

}  // namespace billctl::money
