// Non-token meters (SPEC §3.1): sql_queries, api_requests, storage_gb, compute_minutes,
// bandwidth_gb and any other name a source uses. Most meters add up over a period; storage is a
// level, so a period's storage is its peak daily value; compute is metered in minutes and billed
// in hours.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/money/decimal.hpp"
#include "billctl/usage/record.hpp"

namespace billctl::usage {

enum class MeterAgg { sum, peak_daily };

struct MeterKind {
  std::string_view name;   // as in the record: "compute_minutes"
  std::string_view title;  // "Compute"
  MeterAgg agg;
  std::string_view unit;   // the billed unit: "hours"
  int64_t divisor;         // record quantity / divisor = billed quantity
};

// The known meters; nullptr for others (which add up, in the unit their records give).
const MeterKind* find_meter_kind(std::string_view meter);
std::string_view meter_agg_name(MeterAgg a);

// Billed quantities of the meter records of a period, per organization and meter. Records are
// added one at a time (no allocation once an organization and meter were seen) and partial
// results from several threads merge exactly.
class MeterTotals {
 public:
  void add(const UsageRecord& r);
  void merge(const MeterTotals& other);
  bool empty() const { return m_state.empty(); }

  struct Row {
    std::string organization;  // empty when combined over organizations
    std::string meter;
    std::string unit;          // billed unit
    MeterAgg agg = MeterAgg::sum;
    money::Decimal quantity;   // billed quantity (storage: the peak day; compute: hours)
    int64_t records = 0;
  };
  // Sorted by (organization, meter); by_org false combines the organizations.
  std::vector<Row> rows(bool by_org) const;

  // The state as it is kept, per organization and meter: what a remote store sends so that the
  // receiver's rows() are the sender's exactly (add_part merges as merge() does).
  struct Level {
    int64_t day = 0;
    std::string series;
    money::Decimal quantity;
  };
  struct Part {
    std::string organization, meter, unit;
    money::Decimal sum;
    int64_t records = 0;
    std::vector<Level> levels;
  };
  std::vector<Part> parts() const;
  void add_part(const Part& p);

 private:
  struct State {
    std::string unit;
    money::Decimal sum;
    int64_t records = 0;
    // storage: the largest value of each series (organization and attribution) on each day
    std::map<std::pair<int64_t, std::string>, money::Decimal> levels;
  };
  std::map<std::string, State, std::less<>> m_state;  // key: organization \x1f meter
  std::string m_key;
};

}  // namespace billctl::usage
