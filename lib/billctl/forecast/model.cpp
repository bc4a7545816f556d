#include "billctl/forecast/model.hpp"

#include <algorithm>
#include <cmath>

namespace billctl::forecast {

namespace {


// Weighted least squares of z on x: intercept at x = 0 and slope (slope 0 when !with_trend).
void wls(const std::vector<double>& x, const std::vector<double>& z, const std::vector<double>& w, bool with_trend,
         double& level, double& trend) {
  double sw = 0, sx = 0, sz = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    sx += w[i] * x[i];
    sz += w[i] * z[i];
  }
  level = trend = 0;
  if (sw <= 0) return;
  const double mx = sx / sw, mz = sz / sw;
  double sxx = 0, sxz = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += w[i] * (x[i] - mx) * (x[i] - mx);
    sxz += w[i] * (x[i] - mx) * (z[i] - mz);
  }
  if (with_trend && sxx > 0) trend = sxz / sxx;
  level = mz - trend * mx;
}

}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + long(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2) return hi;
  return (*std::max_element(v.begin(), v.begin() + long(mid)) + hi) / 2;
}

double Fit::day(int k) const {
  const double damped = k_damping * (1 - std::pow(k_damping, k)) / (1 - k_damping);  // phi + phi^2 + ... + phi^k
  return std::max(0.0, level + trend * damped) * index[(last_weekday + k) % 7];
}

Fit fit(const Series& s) {
  Fit f;
  const int n = int(s.days.size());
  if (n == 0) return f;
  const int start = std::max(0, n - k_window);
  const int w = n - start;
  auto weekday = [&](int i) { return (s.first_weekday + i) % 7; };
  f.last_weekday = weekday(n - 1);
  if (w >= 14) {
    // Classical decomposition: each day over the centred 7-day mean around it (a trend cancels
    // out), the median ratio per weekday, scaled to average 1.
    std::vector<double> ratios[7];
    for (int i = start + 3; i + 3 < n; ++i) {
      double ma = 0;
      for (int j = i - 3; j <= i + 3; ++j) ma += s.days[size_t(j)];
      if (ma > 0) ratios[weekday(i)].push_back(s.days[size_t(i)] / (ma / 7));
    }
    double med[7], sum = 0;
    bool all = true;
    for (int d = 0; d < 7; ++d) {
      all = all && !ratios[d].empty();
      med[d] = median(std::move(ratios[d]));
      sum += med[d];
    }
    if (all && sum > 0)
      for (int d = 0; d < 7; ++d) f.index[d] = med[d] / (sum / 7);
  }
  std::vector<double> x, z, wt;
  for (int i = start; i < n; ++i) {
    const double idx = f.index[weekday(i)];
    if (idx <= 0) continue;
    x.push_back(double(i - (n - 1)));
    z.push_back(s.days[size_t(i)] / idx);
    wt.push_back(std::exp2(double(i - (n - 1)) / k_half_life));
  }
  const bool with_trend = w >= 21;
  wls(x, z, wt, with_trend, f.level, f.trend);
  // Huber reweighting (three passes): points far off the line count less.
  const std::vector<double> w0 = wt;
  std::vector<double> r(x.size());
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t i = 0; i < x.size(); ++i) r[i] = std::fabs(z[i] - (f.level + f.trend * x[i]));
    const double scale = 1.4826 * median(r);
    if (!(scale > 0)) break;
    for (size_t i = 0; i < x.size(); ++i) wt[i] = r[i] > 2 * scale ? w0[i] * 2 * scale / r[i] : w0[i];
    wls(x, z, wt, with_trend, f.level, f.trend);
  }
  return f;
}

Spread spread(const Series& s, int h) {
  Spread sp;
  const int n = int(s.days.size());
  h = std::max(1, h);
  double recent = 0;
  const int tail = std::min(n, 28);
  for (int i = n - tail; i < n; ++i) recent += s.days[size_t(i)];
  double all = 0;
  for (double v : s.days) all += v;
  // 5 % of a typical recent day (of any day, when the last four weeks were all zero).
  const double per_day = tail > 0 ? 0.05 * (recent > 0 ? recent / tail : all / n) : 0;
  // Origins need k_min_train days before them and h days after; with few, shorter sums are scored.
  int he = std::min(h, n - k_min_train - 4);
  if (he < 1) he = 1;
  sp.shift = std::max(per_day * h, 1e-9);
  const double shift_e = std::max(per_day * he, 1e-9);
  std::vector<double> e;
  for (int o = k_min_train; o + he <= n; ++o) {
    Series train{std::vector<double>(s.days.begin(), s.days.begin() + o), s.first_weekday};
    const Fit f = fit(train);
    double fc = 0, actual = 0;
    for (int k = 1; k <= he; ++k) {
      fc += f.day(k);
      actual += s.days[size_t(o + k - 1)];
    }
    e.push_back(std::log((actual + shift_e) / (fc + shift_e)));
  }
  sp.samples = int(e.size());
  if (!e.empty()) {
    double mean = 0;
    for (double v : e) mean += v;
    mean /= double(e.size());
    double var = 0;
    for (double v : e) var += (v - mean) * (v - mean);
    const double m = double(e.size());
    var = m > 1 ? var / (m - 1) : 0;
    // Overlapping windows are not independent: count one error per h/6 days, and widen for few.
    const double eff = std::max(1.0, m / std::max(1.0, he / 6.0));
    // Half the measured bias, shrunk further when it rests on few errors.
    sp.mu = 0.5 * mean * m / (m + 5);
    sp.sigma = std::sqrt(var) * (1 + 2 / eff) * std::sqrt(1 + 1 / eff);
    // Scored on shorter sums than asked: trend errors grow with the horizon.
    if (he < h) sp.sigma *= std::sqrt(double(h) / he) * 0.5 + 0.5;
  }
  // Little history: never a narrow band.
  if (n < k_min_history || sp.samples < 5) sp.sigma = std::max(sp.sigma, n == 0 ? 0.0 : 0.5);
  return sp;
}

double quantile(double mean, const Spread& sp, double p) {
  // A factor beyond e^±12 (160,000) says nothing more: bounded so that amounts stay finite.
  const double q = (mean + sp.shift) * std::exp(std::clamp(sp.mu + normal_quantile(p) * sp.sigma, -12.0, 12.0)) - sp.shift;
  return std::max(0.0, q);
}

double p_exceed(double mean, const Spread& sp, double x) {
  if (x < 0) return 1;
  const double center = (mean + sp.shift) * std::exp(sp.mu) - sp.shift;
  if (sp.sigma <= 0) return center > x ? 1 : 0;
  const double z = (std::log((x + sp.shift) / (mean + sp.shift)) - sp.mu) / sp.sigma;
  return 1 - normal_cdf(z);
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double normal_quantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9), one Newton step to polish.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace billctl::forecast
