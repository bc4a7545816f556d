// Fuzz target for the period, date and timestamp parsers.
#include <cstdint>
#include <string_view>

#include "billctl/util/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const billctl::util::Seconds now = 1'793'606'400;  // 2026-11-02T08:00:00Z
  if (auto p = billctl::util::parse_period(text, now)) {
    if (p->end <= p->begin) __builtin_trap();
    (void)billctl::util::previous_period(*p);
  }
  if (auto d = billctl::util::parse_date(text)) {
    if (billctl::util::parse_date(billctl::util::format_date(*d)).value_or_throw() != *d) __builtin_trap();
  }
  if (auto t = billctl::util::parse_rfc3339(text)) (void)billctl::util::format_rfc3339(*t);
  return 0;
}
