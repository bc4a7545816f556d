#include "billctl/usage/meters.hpp"

#include <algorithm>

namespace billctl::usage {

namespace {

constexpr MeterKind k_meters[] = {
    {"sql_queries", "SQL queries", MeterAgg::sum, "queries", 1},
    {"api_requests", "API requests", MeterAgg::sum, "requests", 1},
    {"storage_gb", "Storage", MeterAgg::peak_daily, "GB", 1},
    {"compute_minutes", "Compute", MeterAgg::sum, "hours", 60},
    {"bandwidth_gb", "Bandwidth", MeterAgg::sum, "GB", 1},
};

money::Decimal billed(const MeterKind* k, money::Decimal q) {
  return k && k->divisor != 1 ? q.div_int(k->divisor) : q;
}

}  // namespace

const MeterKind* find_meter_kind(std::string_view meter) {
  for (const auto& k : k_meters)
    if (k.name == meter) return &k;
  return nullptr;
}

std::string_view meter_agg_name(MeterAgg a) { return a == MeterAgg::peak_daily ? "peak daily" : "sum"; }

void MeterTotals::add(const UsageRecord& r) {
  m_key.assign(r.organization);
  m_key += '\x1f';
  m_key += r.meter;
  auto it = m_state.find(m_key);
  if (it == m_state.end()) {
    it = m_state.emplace(m_key, State{}).first;
    it->second.unit = r.unit;
  }
  State& s = it->second;
  ++s.records;
  const MeterKind* k = find_meter_kind(r.meter);
  if (k && k->agg == MeterAgg::peak_daily) {
    std::string series;  // the attribution a storage level belongs to (rare records: allocation is fine)
    for (std::string_view v : {r.organization, r.department, r.user, r.feature, r.project}) {
      series += v;
      series += '\x1f';
    }
    auto [lv, inserted] = s.levels.try_emplace({util::day_of(r.timestamp), std::move(series)}, r.quantity);
    if (!inserted && r.quantity > lv->second) lv->second = r.quantity;
  } else {
    s.sum += r.quantity;
  }
}

void MeterTotals::merge(const MeterTotals& other) {
  for (const auto& [key, o] : other.m_state) {
    auto [it, inserted] = m_state.try_emplace(key, o);
    if (inserted) continue;
    State& s = it->second;
    s.sum += o.sum;
    s.records += o.records;
    for (const auto& [k, v] : o.levels) {
      auto [lv, ins] = s.levels.try_emplace(k, v);
      if (!ins && v > lv->second) lv->second = v;
    }
  }
}

std::vector<MeterTotals::Part> MeterTotals::parts() const {
  std::vector<Part> out;
  for (const auto& [key, s] : m_state) {
    const size_t sep = key.find('\x1f');
    Part p;
    p.organization = key.substr(0, sep);
    p.meter = key.substr(sep + 1);
    p.unit = s.unit;
    p.sum = s.sum;
    p.records = s.records;
    for (const auto& [k, v] : s.levels) p.levels.push_back(Level{k.first, k.second, v});
    out.push_back(std::move(p));
  }
  return out;
}

void MeterTotals::add_part(const Part& p) {
  MeterTotals one;
  State s;
  s.unit = p.unit;
  s.sum = p.sum;
  s.records = p.records;
  for (const auto& l : p.levels) s.levels[{l.day, l.series}] = l.quantity;
  one.m_state.emplace(p.organization + '\x1f' + p.meter, std::move(s));
  merge(one);
}

std::vector<MeterTotals::Row> MeterTotals::rows(bool by_org) const {
  // Combine into (organization or "", meter) groups first; a storage level keeps its series.
  std::map<std::pair<std::string, std::string>, State> groups;
  for (const auto& [key, s] : m_state) {
    const size_t sep = key.find('\x1f');
    std::string org = by_org ? key.substr(0, sep) : std::string();
    State& g = groups[{std::move(org), key.substr(sep + 1)}];
    if (g.records == 0) g.unit = s.unit;
    g.sum += s.sum;
    g.records += s.records;
    for (const auto& [k, v] : s.levels) g.levels[k] = v;  // series include the organization: no clash
  }
  std::vector<Row> out;
  for (const auto& [key, g] : groups) {
    const MeterKind* k = find_meter_kind(key.second);
    Row row;
    row.organization = key.first;
    row.meter = key.second;
    row.unit = k ? std::string(k->unit) : g.unit;
    row.agg = k ? k->agg : MeterAgg::sum;
    row.records = g.records;
    if (row.agg == MeterAgg::peak_daily) {
      std::map<int64_t, money::Decimal> daily;
      for (const auto& [dk, v] : g.levels) daily[dk.first] += v;
      for (const auto& [day, v] : daily) row.quantity = std::max(row.quantity, v);
    } else {
      row.quantity = billed(k, g.sum);
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace billctl::usage
