// Fuzz target for budgets.toml (budgets as code).
#include <cstdint>
#include <string>

#include "billctl/budgets/budget.hpp"
#include "billctl/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (auto& b : billctl::budgets::parse_budgets_toml(text, "budgets.toml")) {
      // What is accepted must survive the store's round trip.
      const auto back = billctl::budgets::from_json(billctl::budgets::to_json(b), "store");
      if (!(back == b)) __builtin_trap();
    }
  } catch (const billctl::Error&) {
  }
  return 0;
}
