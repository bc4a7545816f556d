// The forecasting model (SPEC §10), on daily totals of one series. It is statistics, not money:
// it works in binary floating point on amounts in currency units, and callers round what it
// returns to the currency's minor unit; actual spend is never taken from here.
//
// Method ("weekday-seasonal robust trend", documented in billctl-forecast(1)):
//  1. Window: the last k_window days of history (fewer when there are fewer).
//  2. Weekday profile: with two or more weeks, classical decomposition — each day over the centred
//     7-day mean around it, the median of those ratios per weekday, scaled to average 1; else all 1.
//  3. Level and trend: weighted least squares on the deseasonalised days z = y / s_w (days of a
//     weekday whose index is 0 are left out), weights halving every k_half_life days, Huber
//     reweighting (three passes) so a single spike does not tilt the line; with under three weeks the
//     trend is 0 (a weighted mean).
//  4. Day k after the last history day: max(0, level + trend * (phi + ... + phi^k)) * s_w(k), the
//     trend damped with phi = k_damping (on generated histories a full trend lost accuracy even at
//     40 % growth a month: a trend fitted on noisy days is itself noisy).
//  5. Intervals: rolling-origin errors within the history — from every origin with at least
//     k_min_train days before it, the same fit forecasts the next h days and the log ratio of
//     actual to forecast (each shifted by a small constant, so zero days are defined) is
//     recorded; the interval of a forecast sum F is (F + c) * exp(mu + z * sigma) - c, with mu half
//     the errors' mean (bias), sigma their standard deviation widened for few independent errors
//     (overlapping windows count one per h/6 days) and for horizons longer than were scored. The
//     point forecast is the median, (F + c) * exp(mu) - c. With under k_min_history days the history is
//     "insufficient": a wide fallback sigma is used and callers say so.
#pragma once

#include <cstdint>
#include <vector>

namespace billctl::forecast {

inline constexpr int k_window = 56;        // days of history the fit reads
inline constexpr int k_min_history = 14;   // fewer days: "insufficient history"
inline constexpr int k_min_train = 7;      // days before a rolling origin
inline constexpr double k_half_life = 14;  // days
inline constexpr double k_damping = 0.8;   // trend damping per day ahead

// Daily totals, oldest first; weekday of days[0] (0 = Monday).
struct Series {
  std::vector<double> days;
  int first_weekday = 0;
};

// A fitted model: level and trend at the last day, weekday indices.
struct Fit {
  double level = 0;
  double trend = 0;  // per day
  double index[7] = {1, 1, 1, 1, 1, 1, 1};
  int last_weekday = 0;  // of the last day fitted
  // The expected total of day k after the last fitted day (k >= 1).
  double day(int k) const;
};

// Fits the last `k_window` days of s (all of them when fewer). An empty series fits to zero.
Fit fit(const Series& s);

// The distribution of a forecast sum: mean and the log-scale spread of its error.
struct Spread {
  double mu = 0;      // mean log ratio actual/forecast (bias)
  double sigma = 0;   // standard deviation of the log ratio
  double shift = 0;   // the constant c added before taking logs
  int samples = 0;    // rolling-origin errors it rests on
};

// The error spread of h-day sums for series s, from rolling origins (see above).
Spread spread(const Series& s, int h);

// A quantile of a forecast sum `mean` under `sp` (p in (0, 1)); never below 0.
double quantile(double mean, const Spread& sp, double p);
// P(sum > x) under `sp`.
double p_exceed(double mean, const Spread& sp, double x);

// The median of v (the mean of the middle two for an even count); 0 when empty.
double median(std::vector<double> v);

// The standard normal CDF and its inverse.
double normal_cdf(double z);
double normal_quantile(double p);

}  // namespace billctl::forecast
