#include "billctl/forecast/anomalies.hpp"

#include "billctl/forecast/model.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::forecast {

namespace {

constexpr usage::Dim k_attr_dims[] = {usage::Dim::user,    usage::Dim::model,   usage::Dim::feature,
                                      usage::Dim::department, usage::Dim::project, usage::Dim::provider};


// The metric of a bucket: currency units, tokens, requests; for errors the failed requests (the
// share is formed by the caller).
double amount(const usage::Totals& t, Metric m) {
  switch (m) {
    case Metric::cost: return double(t.cost) / 1e12;
    case Metric::tokens: return double(t.tokens());
    case Metric::requests: return double(t.requests);
    case Metric::errors: return double(t.error_requests);
  }
  return 0;
}

double share(const usage::Totals& t) { return t.requests > 0 ? double(t.error_requests) / double(t.requests) : 0; }

// Bucket start -> totals, parsed from a result grouped by [keys..., day|hour].
using Buckets = std::map<int64_t, usage::Totals>;

int64_t bucket_of_label(const std::string& label, Granularity g) {
  const int64_t day = util::parse_date(label.substr(0, 10)).value_or_throw("bucket label");
  if (g == Granularity::day) return day;
  return day * 24 + std::stoi(label.substr(11, 2));
}

struct Setup {
  util::Seconds step;
  std::vector<int64_t> refs;  // offsets of the reference buckets, in buckets (negative)
  int64_t history;            // buckets of history read before the period
};

Setup setup_of(Granularity g) {
  if (g == Granularity::day) return {86400, {-7, -14, -21, -28, -35, -42, -49, -56}, 56};
  std::vector<int64_t> r;
  for (int k = 1; k <= 8; ++k) r.push_back(-168 * k);
  return {3600, r, 8 * 168};
}

const char* severity_of(double observed, double expected) {
  if (expected <= 0) return "critical";
  const double rel = std::fabs(observed - expected) / expected;
  return rel >= 0.5 ? "critical" : rel >= 0.2 ? "major" : "minor";
}

// Detection on one series. `first` is the first bucket with any usage (references before it are
// not zeros, they are unknown).
// `whole`: for one key's series (--by), the typical bucket of the whole usage per metric: a key's
// excess must matter to the whole (5 % of its typical bucket), and a key without a baseline (most
// references empty) only counts when its excess is large for the whole (20 %).
void detect(const Buckets& series, int64_t b0, int64_t b1, int64_t first, const Setup& su, const AnomalyOptions& o,
            std::vector<Anomaly>& out, int& judged, const std::map<Metric, double>* whole = nullptr) {
  auto at = [&](int64_t b) {
    auto it = series.find(b);
    return it == series.end() ? usage::Totals{} : it->second;
  };
  // The metric's typical bucket: the mean over the buckets read (history and period).
  std::map<Metric, double> typical;
  const int64_t span = std::max<int64_t>(1, b1 - std::max(first, b0 - su.history));
  for (Metric m : o.metrics) {
    double sum = 0;
    for (const auto& [b, t] : series)
      if (b >= first && b < b1) sum += amount(t, m);
    typical[m] = sum / double(span);
  }
  // The series' own noise: the robust spread of (observed / expected - 1) over every bucket read
  // that has references, pooled — steadier than the spread of one bucket's few references.
  std::map<Metric, double> pooled;
  for (Metric m : o.metrics) {
    if (m == Metric::errors) continue;
    std::vector<double> rel;
    for (int64_t b = std::max(first, b0 - su.history); b < b1; ++b) {
      std::vector<double> rv;
      for (int64_t off : su.refs)
        if (b + off >= first) rv.push_back(amount(at(b + off), m));
      if (rv.size() < 3) continue;
      const double e = median(rv);
      if (e > 0) rel.push_back(amount(at(b), m) / e - 1);
    }
    if (rel.size() < 14) continue;
    const double mid = median(rel);
    std::vector<double> dev;
    for (double v : rel) dev.push_back(std::fabs(v - mid));
    pooled[m] = 1.4826 * median(dev);
  }
  for (int64_t b = b0; b < b1; ++b) {
    std::vector<int64_t> refs;
    for (int64_t off : su.refs)
      if (b + off >= first) refs.push_back(b + off);
    if (refs.size() < 3) continue;
    ++judged;
    const usage::Totals t = at(b);
    for (Metric m : o.metrics) {
      double obs, exp, spread;
      std::vector<double> rv;
      if (m == Metric::errors) {
        if (t.error_requests < 20) continue;
        obs = share(t);
        for (int64_t r : refs) rv.push_back(share(at(r)));
        exp = median(rv);
        std::vector<double> dev;
        for (double v : rv) dev.push_back(std::fabs(v - exp));
        spread = std::max({1.4826 * median(dev), 0.1 * exp, 0.02});
      } else {
        obs = amount(t, m);
        for (int64_t r : refs) rv.push_back(amount(at(r), m));
        exp = median(rv);
        std::vector<double> dev;
        for (double v : rv) dev.push_back(std::fabs(v - exp));
        const double local = pooled.count(m) ? pooled[m] * exp : 1.4826 * median(dev);
        spread = std::max({local, 0.1 * exp, 0.05 * typical[m], 1e-9});
        const double excess = std::fabs(obs - exp);
        if (excess < 0.25 * typical[m]) continue;
        if (m == Metric::cost && excess < 1) continue;
        if (whole) {
          const double w = whole->count(m) ? whole->at(m) : 0;
          const size_t with_usage = size_t(std::count_if(rv.begin(), rv.end(), [](double v) { return v > 0; }));
          if (excess < 0.05 * w) continue;
          if (with_usage * 2 < rv.size() && excess < 0.2 * w) continue;
        }
      }
      const double score = (obs - exp) / spread;
      const bool up = score >= o.k, down = m == Metric::requests && score <= -o.k;
      if (!up && !down) continue;
      Anomaly a;
      a.start = b * su.step;
      a.end = a.start + su.step;
      a.metric = m;
      a.observed = obs;
      a.expected = exp;
      a.score = score;
      a.severity = severity_of(obs, exp);
      a.below = down;
      out.push_back(std::move(a));
    }
  }
}

}  // namespace

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::cost: return "cost";
    case Metric::tokens: return "tokens";
    case Metric::requests: return "requests";
    case Metric::errors: return "errors";
  }
  return "";
}

std::vector<Metric> parse_metrics(const std::string& text) {
  std::vector<Metric> out;
  for (std::string_view part : util::split(text, ',')) {
    part = util::trim(part);
    const Metric all[] = {Metric::cost, Metric::tokens, Metric::requests, Metric::errors};
    auto it = std::find_if(std::begin(all), std::end(all), [&](Metric m) { return metric_name(m) == part; });
    if (it == std::end(all)) throw UsageError("invalid --metric '" + text + "': expected cost, tokens, requests or errors (or a list)");
    if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
  }
  if (out.empty()) throw UsageError("invalid --metric '" + text + "': expected cost, tokens, requests or errors (or a list)");
  return out;
}

double parse_sensitivity(const std::string& text) {
  if (text == "low") return 4;
  if (text == "medium") return 3;
  if (text == "high") return 2.5;
  throw UsageError("invalid --sensitivity '" + text + "': expected low, medium or high");
}

AnomalyReport find_anomalies(usage::Source& src, const AnomalyOptions& o) {
  AnomalyReport rep;
  const Setup su = setup_of(o.granularity);
  const usage::Dim bucket_dim = o.granularity == Granularity::day ? usage::Dim::day : usage::Dim::hour;
  const auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const int64_t b0 = floor_div(o.period.begin, su.step);
  // Only whole buckets that are over by "now".
  const int64_t b1 = std::min(floor_div(o.period.end + su.step - 1, su.step), floor_div(o.now + 1, su.step));
  if (b1 <= b0) return rep;
  const util::Seconds from = (b0 - su.history) * su.step, to = b1 * su.step;
  const auto res = src.aggregate({{from, to, o.where, {bucket_dim}}});
  rep.currency = res[0].currency;
  Buckets series;
  int64_t first = INT64_MAX;
  for (const auto& g : res[0].groups) {
    if (g.totals.records == 0) continue;
    const int64_t b = bucket_of_label(g.keys[0], o.granularity);
    series[b].add(g.totals);
    first = std::min(first, b);
  }
  if (first == INT64_MAX) return rep;
  if (!o.by) {
    detect(series, b0, b1, first, su, o, rep.anomalies, rep.buckets);
  } else {
    std::map<Metric, double> whole;  // the whole usage's typical bucket per metric
    for (Metric m : o.metrics) {
      double sum = 0;
      for (const auto& [b, t] : series) sum += amount(t, m);
      whole[m] = sum / double(std::max<int64_t>(1, b1 - std::max(first, b0 - su.history)));
    }
    std::map<std::string, Buckets> keyed;
    const auto per_key = src.aggregate({{from, to, o.where, {*o.by, bucket_dim}}});
    for (const auto& g : per_key[0].groups)
      if (g.totals.records != 0) keyed[g.keys[0]][bucket_of_label(g.keys[1], o.granularity)].add(g.totals);
    for (const auto& [key, s] : keyed) {
      const size_t before = rep.anomalies.size();
      int judged = 0;
      detect(s, b0, b1, first, su, o, rep.anomalies, judged, &whole);
      rep.buckets = std::max(rep.buckets, judged);
      for (size_t i = before; i < rep.anomalies.size(); ++i) rep.anomalies[i].key = key;
    }
  }

  // Attribution: each dimension's values in the bucket against their own references.
  std::vector<usage::AggQuery> qs;
  std::vector<std::vector<int64_t>> ref_buckets;
  for (const auto& a : rep.anomalies) {
    const int64_t b = floor_div(a.start, su.step);
    std::vector<int64_t> refs;
    for (int64_t off : su.refs)
      if (b + off >= first) refs.push_back(b + off);
    ref_buckets.push_back(refs);
    std::vector<usage::Filter> where = o.where;
    if (o.by) {
      auto it = std::find_if(where.begin(), where.end(), [&](const usage::Filter& f) { return f.dim == *o.by; });
      if (it != where.end()) it->values = {a.key};
      else where.push_back({*o.by, {a.key}});
    }
    for (usage::Dim d : k_attr_dims) {
      qs.push_back({a.start, a.end, where, {d}});
      for (int64_t r : refs) qs.push_back({r * su.step, (r + 1) * su.step, where, {d}});
    }
  }
  const auto parts = qs.empty() ? std::vector<usage::AggResult>{} : src.aggregate(qs);
  size_t q = 0;
  for (size_t i = 0; i < rep.anomalies.size(); ++i) {
    Anomaly& a = rep.anomalies[i];
    const Metric m = a.metric;
    const double sign = a.below ? -1 : 1;
    // The bucket's excess in the metric's own unit (errors: failed requests).
    double total_excess = 0;
    std::vector<Driver> drivers;
    for (usage::Dim d : k_attr_dims) {
      std::map<std::string, double> observed;
      std::map<std::string, std::vector<double>> refs;
      for (const auto& g : parts[q].groups) observed[g.keys[0]] += amount(g.totals, m);
      ++q;
      const size_t nref = ref_buckets[i].size();
      for (size_t r = 0; r < nref; ++r, ++q)
        for (const auto& g : parts[q].groups) refs[g.keys[0]].push_back(amount(g.totals, m));
      double dim_obs = 0, dim_exp = 0;
      std::vector<Driver> mine;
      std::map<std::string, bool> seen;
      for (const auto& [v, x] : observed) seen[v] = true;
      for (const auto& [v, x] : refs) seen[v] = true;
      // A dimension with one value throughout (the bucket and its references) says nothing about
      // who or what drove it; a value alone in the bucket and absent before is the driver.
      const bool constant = seen.size() <= 1 && !refs.empty();
      for (const auto& [v, unused] : seen) {
        std::vector<double> rv = refs[v];
        rv.resize(nref, 0.0);  // references without the value count as 0
        const double ob = observed.count(v) ? observed[v] : 0;
        const double ex = median(rv);
        dim_obs += ob;
        dim_exp += ex;
        if (sign * (ob - ex) > 0) mine.push_back({d, v, ob, ex, 0, 0});
      }
      if (d == k_attr_dims[0]) total_excess = sign * (dim_obs - dim_exp);
      if (constant) continue;
      std::sort(mine.begin(), mine.end(), [&](const Driver& x, const Driver& y) {
        const double ex = sign * (x.observed - x.expected), ey = sign * (y.observed - y.expected);
        return ex != ey ? ex > ey : x.value < y.value;
      });
      if (mine.size() > 3) mine.resize(3);
      for (auto& dr : mine) dr.values = observed.size();
      for (auto& dr : mine) drivers.push_back(dr);
    }
    for (auto& dr : drivers) dr.share = total_excess > 0 ? sign * (dr.observed - dr.expected) / total_excess : 0;
    // Rank: share of the excess times purity (how much of the value's own amount is excess: a
    // new feature is all excess, the department it belongs to only partly), by tenths; then the
    // more specific dimension; then the larger share.
    auto rank = [sign](const Driver& x) {
      const double base = sign > 0 ? x.observed : x.expected;
      const double purity = base > 0 ? sign * (x.observed - x.expected) / base : 1;
      return int64_t(std::floor(std::min(x.share, 1.0) * purity * 10 + 1e-9));
    };
    std::stable_sort(drivers.begin(), drivers.end(), [&](const Driver& x, const Driver& y) {
      const int64_t rx = rank(x), ry = rank(y);
      if (rx != ry) return rx > ry;
      if (x.values != y.values) return x.values > y.values;
      return x.share > y.share;
    });
    a.drivers = std::move(drivers);
  }
  std::sort(rep.anomalies.begin(), rep.anomalies.end(), [](const Anomaly& x, const Anomaly& y) {
    if (x.start != y.start) return x.start < y.start;
    if (x.key != y.key) return x.key < y.key;
    return x.metric < y.metric;
  });
  return rep;
}

}  // namespace billctl::forecast
