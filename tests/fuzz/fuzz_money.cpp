// Fuzz target for the money parsers: what parses prints back to the same value.
#include <cstdint>
#include <string_view>

#include "billctl/money/money.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = billctl::money::Decimal::parse(text)) {
    auto back = billctl::money::Decimal::parse(d->to_string());
    if (!back || !(*back == *d)) __builtin_trap();
    (void)d->round(2).format(2);
  }
  if (auto m = billctl::money::parse_money(text)) (void)m->amount.to_string();
  return 0;
}
