// What the store keeps of provider pulls besides usage records: billed cost lines, the state of
// each pulled day (provisional while the provider may still revise it, then settled) and each
// provider's cursor. Reads go through PullLog; writes go through the import transaction
// (ingest::ImportTxn), so a pull's records, billed lines and day states land together or not at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/providers/pages.hpp"
#include "billctl/util/time.hpp"

namespace billctl::providers {

struct PullDay {
  std::string provider;
  util::Seconds day = 0;
  std::string state;   // "provisional" or "settled"
  std::string digest;  // sha256 of the day's pulled records and billed lines
  int64_t records = 0;
  int64_t billed_lines = 0;
  std::string pulled_at;
};

class PullLog {
 public:
  virtual ~PullLog() = default;
  // Billed lines of days in [begin, end), of one provider or ("" ) of all, by provider, day and key.
  virtual std::vector<BilledLine> billed_lines(std::string_view provider, util::Seconds begin, util::Seconds end) = 0;
  // Pulled days in [begin, end), by provider and day.
  virtual std::vector<PullDay> pull_days(std::string_view provider, util::Seconds begin, util::Seconds end) = 0;
  // Where the provider's last complete pull ended.
  virtual std::optional<util::Seconds> pull_cursor(std::string_view provider) = 0;
};

}  // namespace billctl::providers
