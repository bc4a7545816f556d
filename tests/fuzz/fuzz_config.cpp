// Fuzz target for the config file: TOML text through the readers of [notify], [credits] and
// [plans] (what 'billctl' reads from config.toml).
#include <toml++/toml.h>

#include <cstdint>
#include <string_view>

#include "billctl/billing/plans.hpp"
#include "billctl/credits/ledger.hpp"
#include "billctl/notify/channels.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/toml_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  toml::table doc;
  std::string why;
  const std::string ascii = billctl::util::toml_ascii(text, why);  // as billctl reads a config file
  if (!why.empty()) return 0;
  for (unsigned char c : ascii)
    if (c >= 0x80) __builtin_trap();  // the guard's promise: toml++ sees ASCII only
  try {
    doc = toml::parse(ascii, std::string_view("config.toml"));
  } catch (const toml::parse_error&) {
    return 0;
  }
  try {
    if (const auto* n = doc["notify"].as_table())
      billctl::notify::parse_settings(*n, "config.toml", [](const std::string&) { return std::string("x"); }, data[0] & 1);
  } catch (const billctl::Error&) {
  }
  try {
    billctl::credits::parse_config(doc["credits"].as_table(), "config.toml");
  } catch (const billctl::Error&) {
  }
  try {
    billctl::billing::parse_plans(doc["plans"].as_table(), "config.toml");
  } catch (const billctl::Error&) {
  }
  return 0;
}
