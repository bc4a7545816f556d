// The canonical usage record of SPEC §3.1. Text fields are views into the reader's buffer:
// a record is valid until the reader moves on, so the hot path allocates nothing per row.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/util/time.hpp"

namespace billctl::usage {

enum class Tier : uint8_t { standard, batch, flex, priority };
enum class Status : uint8_t { ok, error };
// How a record's cost was obtained.
enum class CostSource : uint8_t { unpriced = 0, catalog = 1, provider = 2 };
// Whether long-context rates apply: decided from the input per request (by_request), or known
// from the source (a provider's bucket grouped by context window has no per-request figures).
enum class Context : uint8_t { by_request, standard, long_context };

std::string_view tier_name(Tier t);
bool parse_tier(std::string_view s, Tier& out);
std::string_view status_name(Status s);

struct UsageRecord {
  std::string_view id;  // empty: derived by the reader from source and row
  util::Seconds timestamp = 0;
  std::string_view provider, model, organization, department, user, feature, project;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t cache_write_tokens = 0;     // 5-minute cache writes
  int64_t cache_write_1h_tokens = 0;  // 1-hour cache writes
  int64_t output_tokens = 0;
  int64_t requests = 1;
  Tier tier = Tier::standard;
  Status status = Status::ok;
  Context context = Context::by_request;
  bool has_cost = false;
  money::Decimal cost;  // provider-reported, when has_cost
  money::Currency currency;
  std::string_view meter, unit;  // non-token metering
  std::string_view session;      // the conversation or agent session, when the source names one
  money::Decimal quantity;

  bool is_meter() const { return !meter.empty(); }
  int64_t total_input() const { return input_tokens + cached_input_tokens + cache_write_tokens + cache_write_1h_tokens; }
  int64_t total_tokens() const { return total_input() + output_tokens; }
};

// Every text field of a record, in one order: for code that copies a record past the buffer its
// views point into.
constexpr size_t k_text_fields = 11;
inline std::array<std::string_view*, k_text_fields> text_fields(UsageRecord& r) {
  return {&r.id, &r.provider, &r.model, &r.organization, &r.department, &r.user, &r.feature, &r.project, &r.meter, &r.unit, &r.session};
}

// A record with its price attached.
struct PricedRecord {
  const UsageRecord* record = nullptr;
  money::Decimal cost;
  CostSource source = CostSource::unpriced;
};

}  // namespace billctl::usage
