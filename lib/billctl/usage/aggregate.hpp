// Aggregation of usage: totals grouped by dimensions over a time range with filters. The query
// and result types are the contract between reports and any usage store (SQLite, files,
// ClickHouse); the in-memory Aggregator computes many queries in one pass over records.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/meters.hpp"
#include "billctl/usage/record.hpp"
#include "billctl/util/time.hpp"

namespace billctl::usage {

enum class Dim : uint8_t {
  provider, model, organization, department, user, feature, project, status, service_tier, session,
  day, week, month, hour
};
constexpr size_t k_text_dims = 10;  // provider .. session are text; the rest are time buckets
constexpr size_t k_max_group_dims = 4;  // what --by accepts
constexpr size_t k_max_query_dims = 9;  // what a query may group by (FOCUS rows: day and eight text dimensions)

std::string_view dim_name(Dim d);
std::optional<Dim> find_dim(std::string_view name);
std::vector<std::string> dim_names();
// Parses "department,model"; throws UsageError naming the flag and suggesting a fix.
std::vector<Dim> parse_dims(std::string_view text, std::string_view flag);
// The text of a text dimension in a record.
std::string_view dim_value(const UsageRecord& r, Dim d);
// The label of a time bucket: day "2026-10-05", week "2026-W41" (ISO), month "2026-10",
// hour "2026-10-05T13".
std::string time_label(Dim d, util::Seconds t);

// --where department=eng: values of one key are alternatives, keys are combined with AND.
struct Filter {
  Dim dim;
  std::vector<std::string> values;
};
// Parses repeated --where K=V flags.
std::vector<Filter> parse_filters(const std::vector<std::string>& items);

struct AggQuery {
  util::Seconds begin = 0;
  util::Seconds end = 0;
  std::vector<Filter> where;
  std::vector<Dim> by;
  bool meters = false;  // also collect the meter records' billed quantities (AggResult::meters)
  bool tokens_only = false;  // leave meter records out of the groups and totals (token breakdowns)
  // Only the groups and their record counts are read: a store may answer with every other total
  // zero (the embedded store counts users per department and feature per day for such queries).
  bool records_only = false;
  // Only records whose input per request (all input classes over requests) is above `input_above`
  // and at most `input_upto` (0: no bound). Stores answer such queries from the records.
  int64_t input_above = 0;
  int64_t input_upto = 0;
};

struct Totals {
  int64_t records = 0;
  int64_t requests = 0;
  int64_t error_requests = 0;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t cache_write_1h_tokens = 0;
  int64_t output_tokens = 0;
  int64_t unpriced_records = 0;
  money::i128 cost = 0;  // 1e-12 units of the result currency

  // Adds o; throws DataError when a count would leave the 64-bit range (never wraps).
  void add(const Totals& o);
  // The same for totals whose counts are all non-negative and added to non-negative counts (a
  // record's): a count overflows exactly when its sum has the sign bit set, so the nine sums are
  // added unchecked (vectorisable) and checked once.
  void add_nonnegative(const Totals& o);
  // Every count and the cost with the opposite sign (to take a replaced record out).
  Totals negated() const;
  // All token classes; throws DataError when the sum leaves the 64-bit range.
  int64_t tokens() const;
  money::Decimal cost_decimal() const { return money::Decimal::from_units(cost); }
  friend bool operator==(const Totals&, const Totals&) = default;
};

// Throws the DataError for totals that leave the 64-bit range.
[[noreturn]] void count_overflow();

// The totals one record contributes.
Totals totals_of(const PricedRecord& r);

struct Group {
  std::vector<std::string> keys;
  Totals totals;
};

struct AggResult {
  std::vector<Group> groups;  // sorted by keys
  money::Currency currency;   // of every cost in the result
  MeterTotals meters;         // when the query asked for them
  Totals total() const;
};

// Computes a set of queries over records fed one at a time. Dimension values are interned once
// per record, so the per-query work is a small-integer hash lookup.
class Aggregator {
 public:
  explicit Aggregator(std::vector<AggQuery> queries);
  ~Aggregator();
  void add(const PricedRecord& r);
  std::vector<AggResult> results() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

// Merges results of the same queries computed over disjoint parts of the data (threads).
std::vector<AggResult> merge_results(std::vector<std::vector<AggResult>> parts);

// Takes results computed over a subset of the records (the same queries) out of results computed
// over all of them: what is left is the results of the other records. Groups left with no record
// are dropped. Meter totals cannot be taken out (they keep peaks): `removed` must have none.
void subtract_results(std::vector<AggResult>& from, const std::vector<AggResult>& removed);

// Folds rows of a store query (one row per key tuple and currency) into a result, checking that
// one currency is used throughout. Used by stores that aggregate in SQL.
class ResultBuilder {
 public:
  void add(std::vector<std::string> keys, std::string_view currency, const Totals& t);
  AggResult finish();

 private:
  std::unordered_map<std::string, size_t> m_index;
  std::vector<Group> m_groups;
  std::optional<money::Currency> m_currency;
};

}  // namespace billctl::usage
