// Anomalies (SPEC §10): buckets (days or hours) far above their seasonal baseline — cost, tokens,
// requests (also far below) or the failed-request share — each attributed to the dimension values
// that carry the excess.
//
// Method (documented in billctl-usage(1)):
//  - Baseline: the same seasonal slot in earlier weeks — for days the same weekday in the 8 weeks
//    before, for hours the same hour of the week in the 8 weeks before.
//    expected = median of those references. The spread is the series' own noise, pooled: 1.4826 x
//    the median absolute deviation of observed/expected - 1 over every bucket read, times expected
//    (with under 14 such buckets, the MAD of the bucket's own references); at least 10 % of
//    expected and 5 % of the metric's typical bucket (a flat baseline does not make every wobble
//    a spike).
//  - score = (observed - expected) / spread; an anomaly scores at least k (sensitivity: high 2.5,
//    medium 3, low 4; requests also at most -k) and its excess is material (at least a quarter of
//    the metric's typical bucket, and for cost at least 1 unit of the currency).
//  - Failed-request surges: the share of failed requests against the same baseline of shares,
//    with at least 20 failed requests in the bucket.
//  - Severity from the excess over expected: minor under 20 %, major 20-50 %, critical 50 % and up
//    (a baseline of 0 is critical).
//  - Attribution: per dimension (user, model, feature, department, project, provider; one that has a
//    single value throughout the bucket and its references is left out), each value's
//    observed and expected (the median of its own references) in the bucket; values with a
//    positive excess with their share of the bucket's excess. Ranked by share x purity (the part of
//    the value's own amount that is excess: a new feature is all excess, the department it belongs
//    to only partly), in tenths; within a tenth the more specific dimension (more distinct values)
//    first — a user before the department the user works in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/money/currency.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::forecast {

enum class Metric { cost, tokens, requests, errors };
enum class Granularity { day, hour };

struct AnomalyOptions {
  util::Period period;
  util::Seconds now = 0;  // buckets that end after now are not judged (they are not complete)
  Granularity granularity = Granularity::day;
  std::vector<Metric> metrics{Metric::cost, Metric::errors};
  double k = 3;  // sensitivity
  std::vector<usage::Filter> where;
  // Judge each value of this dimension as a series of its own (a user's spike that the total
  // hides); references before a value first appears count as 0 (a newcomer's spend is news).
  std::optional<usage::Dim> by;
};

struct Driver {
  usage::Dim dim;
  std::string value;
  double observed = 0, expected = 0;
  double share = 0;  // of the bucket's excess
  size_t values = 0;  // distinct values of the dimension in the bucket (how specific the driver is)
};

struct Anomaly {
  std::string key;  // the value of AnomalyOptions::by (empty without it)
  util::Seconds start = 0, end = 0;
  Metric metric = Metric::cost;
  double observed = 0, expected = 0;  // currency units, tokens, requests, or a share 0..1 for errors
  double score = 0;
  std::string severity;  // minor, major, critical
  bool below = false;    // a drop (requests)
  std::vector<Driver> drivers;  // largest excess first, across dimensions
};

struct AnomalyReport {
  std::vector<Anomaly> anomalies;  // by start, then metric
  money::Currency currency;
  int buckets = 0;  // judged
};

std::string_view metric_name(Metric m);
// "cost,errors" -> metrics; throws UsageError naming --metric.
std::vector<Metric> parse_metrics(const std::string& text);
// low | medium | high -> k; throws UsageError naming --sensitivity.
double parse_sensitivity(const std::string& text);

AnomalyReport find_anomalies(usage::Source& src, const AnomalyOptions& o);

}  // namespace billctl::forecast
