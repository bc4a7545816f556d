#include "billctl/usage/aggregate.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>

#include "billctl/util/intern.hpp"
#include "billctl/util/simd.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::usage {

namespace {

constexpr std::array<std::string_view, 14> k_dim_names{"provider", "model",   "organization", "department", "user",
                                                       "feature",  "project", "status",       "service_tier", "session",
                                                       "day",      "week",    "month",        "hour"};

bool is_time(Dim d) { return size_t(d) >= k_text_dims; }


}  // namespace

std::string_view dim_name(Dim d) { return k_dim_names[size_t(d)]; }

std::optional<Dim> find_dim(std::string_view name) {
  for (size_t i = 0; i < k_dim_names.size(); ++i)
    if (k_dim_names[i] == name) return Dim(i);
  if (name == "org") return Dim::organization;
  if (name == "tier") return Dim::service_tier;
  if (name == "session_id") return Dim::session;
  return std::nullopt;
}

std::vector<std::string> dim_names() { return {k_dim_names.begin(), k_dim_names.end()}; }

std::vector<Dim> parse_dims(std::string_view text, std::string_view flag) {
  std::vector<Dim> out;
  if (util::trim(text).empty()) return out;
  for (std::string_view part : util::split(text, ',')) {
    part = util::trim(part);
    auto d = find_dim(part);
    if (!d) {
      const std::string hint = util::did_you_mean(part, dim_names());
      throw UsageError("invalid " + std::string(flag) + " '" + std::string(part) + "': not a dimension" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                       "; one of provider, model, organization, department, user, feature, project, status, "
                       "service_tier, day, week, month, hour");
    }
    if (std::find(out.begin(), out.end(), *d) != out.end())
      throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) + "': '" + std::string(part) +
                       "' given twice");
    out.push_back(*d);
  }
  if (out.size() > k_max_group_dims)
    throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) + "': at most 4 dimensions");
  return out;
}

std::string_view dim_value(const UsageRecord& r, Dim d) {
  switch (d) {
    case Dim::provider: return r.provider;
    case Dim::model: return r.model.empty() ? r.meter : r.model;
    case Dim::organization: return r.organization;
    case Dim::department: return r.department;
    case Dim::user: return r.user;
    case Dim::feature: return r.feature;
    case Dim::project: return r.project;
    case Dim::status: return status_name(r.status);
    case Dim::service_tier: return tier_name(r.tier);
    case Dim::session: return r.session;
    default: return {};
  }
}

namespace {

// Numeric bucket of a time dimension.
int64_t time_bucket(Dim d, util::Seconds t) {
  const int64_t day = util::day_of(t);
  switch (d) {
    case Dim::day: return day;
    case Dim::hour: return t >= 0 ? t / 3600 : (t - 3599) / 3600;
    case Dim::week: return day - util::weekday(day);  // the Monday
    case Dim::month: return util::month_of_day(day);
    default: return 0;
  }
}

std::string bucket_label(Dim d, int64_t b) {
  char buf[32];
  switch (d) {
    case Dim::day: return util::format_date(b);
    case Dim::hour: {
      const int64_t day = b >= 0 ? b / 24 : (b - 23) / 24;
      std::snprintf(buf, sizeof buf, "%sT%02d", util::format_date(day).c_str(), int(b - day * 24));
      return buf;
    }
    case Dim::week: {
      // ISO 8601: the week belongs to the year of its Thursday.
      const int64_t thursday = b + 3;
      const util::Date td = util::civil_from_days(thursday);
      const int64_t jan1 = util::days_from_civil({td.year, 1, 1});
      std::snprintf(buf, sizeof buf, "%04d-W%02d", td.year, int((thursday - jan1) / 7 + 1));
      return buf;
    }
    case Dim::month: {
      const int64_t y = b >= 0 ? b / 12 : (b - 11) / 12;
      std::snprintf(buf, sizeof buf, "%04d-%02d", int(y), int(b - y * 12 + 1));
      return buf;
    }
    default: return {};
  }
}

}  // namespace

std::string time_label(Dim d, util::Seconds t) { return bucket_label(d, time_bucket(d, t)); }

std::vector<Filter> parse_filters(const std::vector<std::string>& items) {
  std::vector<Filter> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("invalid --where '" + item + "': expected KEY=VALUE such as department=eng");
    const std::string key = item.substr(0, eq);
    auto d = find_dim(key);
    if (!d || is_time(*d)) {
      std::vector<std::string> names(k_dim_names.begin(), k_dim_names.begin() + k_text_dims);
      const std::string hint = util::did_you_mean(key, names);
      throw UsageError("invalid --where '" + item + "': '" + key + "' is not a filterable dimension" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const Filter& f) { return f.dim == *d; });
    if (it == out.end()) {
      out.push_back(Filter{*d, {}});
      it = out.end() - 1;
    }
    it->values.push_back(item.substr(eq + 1));
  }
  return out;
}

void count_overflow() {
  throw DataError("token or request totals exceed the 64-bit range (9.2e18); narrow the period or the filter");
}

namespace {
void add_checked(int64_t& a, int64_t b) {
  if (__builtin_add_overflow(a, b, &a)) count_overflow();
}
}  // namespace

void Totals::add(const Totals& o) {
  // Checked: a sum never wraps (signed overflow is undefined and would turn a quota into "allow").
  add_checked(records, o.records);
  add_checked(requests, o.requests);
  add_checked(error_requests, o.error_requests);
  add_checked(input_tokens, o.input_tokens);
  add_checked(cached_input_tokens, o.cached_input_tokens);
  add_checked(cache_write_tokens, o.cache_write_tokens);
  add_checked(cache_write_1h_tokens, o.cache_write_1h_tokens);
  add_checked(output_tokens, o.output_tokens);
  add_checked(unpriced_records, o.unpriced_records);
  cost += o.cost;
}

void Totals::add_nonnegative(const Totals& o) {
  // Unsigned adds (no undefined behaviour); the OR of the sums has the sign bit set exactly when
  // one of them left the 63-bit range.
  auto add = [](int64_t& a, int64_t b) { return a = int64_t(uint64_t(a) + uint64_t(b)); };
  const int64_t sums = add(records, o.records) | add(requests, o.requests) | add(error_requests, o.error_requests) |
                       add(input_tokens, o.input_tokens) | add(cached_input_tokens, o.cached_input_tokens) |
                       add(cache_write_tokens, o.cache_write_tokens) | add(cache_write_1h_tokens, o.cache_write_1h_tokens) |
                       add(output_tokens, o.output_tokens) | add(unpriced_records, o.unpriced_records);
  if (sums < 0) count_overflow();
  cost += o.cost;
}

int64_t Totals::tokens() const {
  int64_t t = input_tokens;
  add_checked(t, cached_input_tokens);
  add_checked(t, cache_write_tokens);
  add_checked(t, cache_write_1h_tokens);
  add_checked(t, output_tokens);
  return t;
}

Totals Totals::negated() const {
  Totals n;
  n.records = -records;
  n.requests = -requests;
  n.error_requests = -error_requests;
  n.input_tokens = -input_tokens;
  n.cached_input_tokens = -cached_input_tokens;
  n.cache_write_tokens = -cache_write_tokens;
  n.cache_write_1h_tokens = -cache_write_1h_tokens;
  n.output_tokens = -output_tokens;
  n.unpriced_records = -unpriced_records;
  n.cost = -cost;
  return n;
}

Totals totals_of(const PricedRecord& pr) {
  const UsageRecord& r = *pr.record;
  Totals t;
  t.records = 1;
  t.requests = r.requests;
  t.error_requests = r.status == Status::error ? r.requests : 0;
  t.input_tokens = r.input_tokens;
  t.cached_input_tokens = r.cached_input_tokens;
  t.cache_write_tokens = r.cache_write_tokens;
  t.cache_write_1h_tokens = r.cache_write_1h_tokens;
  t.output_tokens = r.output_tokens;
  t.unpriced_records = pr.source == CostSource::unpriced && !r.is_meter() ? 1 : 0;
  t.cost = pr.cost.units();
  return t;
}

Totals AggResult::total() const {
  Totals t;
  for (const auto& g : groups) t.add(g.totals);
  return t;
}

// ---- Aggregator ------------------------------------------------------------------------------

namespace {

constexpr size_t k_time_dims = 4;  // day, week, month, hour
size_t time_index(Dim d) { return size_t(d) - k_text_dims; }

// Time buckets to dense ids. Records come in any time order: a small direct-mapped cache in front
// of the map serves a month's days or a day's hours without hashing.
class BucketInterner {
 public:
  int32_t id(int64_t bucket) {
    Cached& c = m_cache[uint64_t(bucket) & (k_cache - 1)];
    if (c.id >= 0 && c.bucket == bucket) return c.id;
    auto [it, inserted] = m_ids.try_emplace(bucket, int32_t(m_values.size()));
    if (inserted) m_values.push_back(bucket);
    c = {bucket, it->second};
    return it->second;
  }
  int64_t value(int32_t id) const { return m_values[size_t(id)]; }

 private:
  static constexpr size_t k_cache = 64;
  struct Cached {
    int64_t bucket = 0;
    int32_t id = -1;
  };
  std::array<Cached, k_cache> m_cache{};
  std::unordered_map<int64_t, int32_t> m_ids;
  std::vector<int64_t> m_values;
};

using Key = std::array<int32_t, k_max_query_dims>;

// Hashes the first `n` ids only: a key has room for k_max_query_dims, a query uses its own.
struct KeyHash {
  size_t n = k_max_query_dims;
  size_t operator()(const Key& k) const {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ uint64_t(uint32_t(k[i]))) * 0xbf58476d1ce4e5b9ull;
    return size_t(h ^ (h >> 31));
  }
};

struct FilterState {
  Dim dim;
  std::vector<std::string> values;
  std::vector<int8_t> verdict;  // by interned id: -1 unknown, 0 no, 1 yes
};

// One query's groups. A single dimension indexes a dense vector by value id (no hashing); two to
// four share an open-addressing table keyed by the ids packed in two words; more (FOCUS rows) use
// a hash map of id tuples.
struct QueryState {
  AggQuery q;
  std::vector<FilterState> filters;
  std::vector<int32_t> dense;  // value id -> group index + 1
  // Up to four ids packed in two words: the key of the flat table.
  struct Packed {
    uint64_t a = 0, b = 0;
    bool operator==(const Packed&) const = default;
  };
  std::vector<Packed> flat_key;     // two to four dimensions: the ids, linear probing
  std::vector<int32_t> flat_group;  // group index + 1, 0 for an empty entry
  std::unordered_map<Key, size_t, KeyHash> index;
  std::vector<Key> keys;
  std::vector<Totals> totals;
  MeterTotals meters;

  Totals& group(const Key& key) {
    if (q.by.size() == 1) {
      const size_t id = size_t(key[0]);
      if (id >= dense.size()) dense.resize(id + 1, 0);
      int32_t& slot = dense[id];
      if (slot == 0) {
        keys.push_back(key);
        totals.emplace_back();
        slot = int32_t(totals.size());
      }
      return totals[size_t(slot) - 1];
    }
    if (q.by.size() <= 4) return packed(key);
    auto [it, inserted] = index.try_emplace(key, totals.size());
    if (inserted) {
      keys.push_back(key);
      totals.emplace_back();
    }
    return totals[it->second];
  }

  static Packed packed_of(const Key& key, size_t n) {
    auto id = [&](size_t i) { return i < n ? uint64_t(uint32_t(key[i])) : 0; };
    return {id(0) << 32 | id(1), id(2) << 32 | id(3)};
  }
  static size_t packed_hash(const Packed& k) {
    uint64_t h = (k.a * 0x9E3779B97F4A7C15ull) ^ (k.b * 0xbf58476d1ce4e5b9ull);
    return size_t(h ^ (h >> 29));
  }
  Totals& packed(const Key& key) {
    if (flat_group.empty()) {
      flat_key.assign(1024, Packed{});
      flat_group.assign(1024, 0);
    }
    const Packed k = packed_of(key, q.by.size());
    const size_t mask = flat_group.size() - 1;
    size_t at = packed_hash(k) & mask;
    for (; flat_group[at] != 0; at = (at + 1) & mask)
      if (flat_key[at] == k) return totals[size_t(flat_group[at]) - 1];
    keys.push_back(key);
    totals.emplace_back();
    flat_key[at] = k;
    flat_group[at] = int32_t(totals.size());
    if (totals.size() * 2 > flat_group.size()) grow_flat();
    return totals.back();
  }
  void grow_flat() {
    const size_t n = flat_group.size() * 2, mask = n - 1;
    std::vector<Packed>(n).swap(flat_key);
    std::vector<int32_t>(n, 0).swap(flat_group);
    for (size_t g = 0; g < keys.size(); ++g) {
      const Packed k = packed_of(keys[g], q.by.size());
      size_t at = packed_hash(k) & mask;
      while (flat_group[at] != 0) at = (at + 1) & mask;
      flat_key[at] = k;
      flat_group[at] = int32_t(g + 1);
    }
  }
};

}  // namespace

struct Aggregator::Impl {
  std::vector<QueryState> queries;
  std::array<util::Interner, k_text_dims> text;
  std::array<BucketInterner, k_time_dims> time;
  std::array<bool, k_text_dims> text_needed{};
  std::array<bool, k_time_dims> time_needed{};
  std::optional<money::Currency> currency;
};

Aggregator::Aggregator(std::vector<AggQuery> queries) : m(std::make_unique<Impl>()) {
  for (auto& q : queries) {
    QueryState s;
    for (const auto& f : q.where) {
      s.filters.push_back(FilterState{f.dim, f.values, {}});
      m->text_needed[size_t(f.dim)] = true;
    }
    for (Dim d : q.by) {
      if (is_time(d)) m->time_needed[time_index(d)] = true;
      else m->text_needed[size_t(d)] = true;
    }
    s.index = std::unordered_map<Key, size_t, KeyHash>(16, KeyHash{q.by.size()});
    s.q = std::move(q);
    m->queries.push_back(std::move(s));
  }
}

Aggregator::~Aggregator() = default;

void Aggregator::add(const PricedRecord& pr) {
  const UsageRecord& r = *pr.record;
  if (pr.source != CostSource::unpriced) {
    if (!m->currency) m->currency = r.currency;
    else if (!(*m->currency == r.currency))
      throw DataError("usage costs in " + std::string(m->currency->name()) + " and " + std::string(r.currency.name()) +
                      " cannot be added without an exchange rate");
  }
  // Every dimension value becomes a dense id once per record, whatever the number of queries.
  std::array<int32_t, k_text_dims + k_time_dims> ids{};
  for (size_t d = 0; d < k_text_dims; ++d)
    if (m->text_needed[d]) ids[d] = m->text[d].id(dim_value(r, Dim(d)));
  for (size_t t = 0; t < k_time_dims; ++t)
    if (m->time_needed[t]) ids[k_text_dims + t] = m->time[t].id(time_bucket(Dim(k_text_dims + t), r.timestamp));

  const Totals t = totals_of(pr);
  // A record's counts are never negative (the readers refuse that); checked anyway, once.
  const bool nonneg = (t.requests | t.error_requests | t.input_tokens | t.cached_input_tokens | t.cache_write_tokens |
                       t.cache_write_1h_tokens | t.output_tokens) >= 0;

  const int64_t reqs = r.requests > 0 ? r.requests : 1;
  for (auto& qs : m->queries) {
    if (r.timestamp < qs.q.begin || r.timestamp >= qs.q.end) continue;
    if (qs.q.input_above > 0 && !(r.total_input() > qs.q.input_above * reqs)) continue;
    if (qs.q.input_upto > 0 && !(r.total_input() <= qs.q.input_upto * reqs)) continue;
    bool pass = true;
    for (auto& f : qs.filters) {
      const int32_t id = ids[size_t(f.dim)];
      if (size_t(id) >= f.verdict.size()) f.verdict.resize(size_t(id) + 1, -1);
      int8_t& v = f.verdict[size_t(id)];
      if (v < 0) {
        const std::string& text = m->text[size_t(f.dim)].value(id);
        v = std::find(f.values.begin(), f.values.end(), text) != f.values.end() ? 1 : 0;
      }
      if (!v) {
        pass = false;
        break;
      }
    }
    if (!pass) continue;
    if (qs.q.meters && r.is_meter()) qs.meters.add(r);
    if (qs.q.tokens_only && r.is_meter()) continue;
    if (qs.q.by.empty()) {
      if (qs.totals.empty()) {
        qs.keys.emplace_back();
        qs.totals.emplace_back();
      }
      if (nonneg) qs.totals[0].add_nonnegative(t);
      else qs.totals[0].add(t);
      continue;
    }
    Key key{};
    for (size_t i = 0; i < qs.q.by.size(); ++i) key[i] = ids[size_t(qs.q.by[i])];
    if (nonneg) qs.group(key).add_nonnegative(t);
    else qs.group(key).add(t);
  }
}

std::vector<AggResult> Aggregator::results() const {
  std::vector<AggResult> out;
  for (const auto& qs : m->queries) {
    AggResult res;
    if (m->currency) res.currency = *m->currency;
    res.meters = qs.meters;
    for (size_t g = 0; g < qs.keys.size(); ++g) {
      Group grp;
      for (size_t i = 0; i < qs.q.by.size(); ++i) {
        const Dim d = qs.q.by[i];
        const int32_t id = qs.keys[g][i];
        grp.keys.push_back(is_time(d) ? bucket_label(d, m->time[time_index(d)].value(id)) : m->text[size_t(d)].value(id));
      }
      grp.totals = qs.totals[g];
      res.groups.push_back(std::move(grp));
    }
    std::sort(res.groups.begin(), res.groups.end(), [](const Group& a, const Group& b) { return a.keys < b.keys; });
    out.push_back(std::move(res));
  }
  return out;
}

std::vector<AggResult> merge_results(std::vector<std::vector<AggResult>> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  std::vector<AggResult> out;
  for (size_t q = 0; q < parts[0].size(); ++q) {
    ResultBuilder rb;
    for (auto& p : parts)
      for (auto& g : p[q].groups) rb.add(std::move(g.keys), p[q].currency.name(), g.totals);
    out.push_back(rb.finish());
    if (out.back().groups.empty()) out.back().currency = parts[0][q].currency;
    for (auto& p : parts) out.back().meters.merge(p[q].meters);
  }
  return out;
}

void subtract_results(std::vector<AggResult>& from, const std::vector<AggResult>& removed) {
  for (size_t q = 0; q < from.size() && q < removed.size(); ++q) {
    if (!removed[q].meters.empty()) throw std::logic_error("subtract_results: meter totals cannot be taken out");
    auto& groups = from[q].groups;
    for (const Group& g : removed[q].groups) {
      auto it = std::lower_bound(groups.begin(), groups.end(), g.keys, [](const Group& a, const std::vector<std::string>& k) { return a.keys < k; });
      if (it == groups.end() || it->keys != g.keys) throw std::logic_error("subtract_results: a removed group was never added");
      it->totals.add(g.totals.negated());
    }
    std::erase_if(groups, [](const Group& g) { return g.totals.records == 0; });
  }
}

// ---- ResultBuilder -----------------------------------------------------------------------------

void ResultBuilder::add(std::vector<std::string> keys, std::string_view currency, const Totals& t) {
  if (t.cost != 0 || t.records != t.unpriced_records) {
    if (!currency.empty()) {
      const money::Currency c = money::currency(currency);
      if (!m_currency) m_currency = c;
      else if (!(*m_currency == c))
        throw DataError("usage costs in " + std::string(m_currency->name()) + " and " + std::string(currency) +
                        " cannot be added without an exchange rate");
    }
  }
  std::string joined;
  for (const auto& k : keys) {
    joined += k;
    joined += '\x1f';
  }
  auto [it, inserted] = m_index.try_emplace(joined, m_groups.size());
  if (inserted) m_groups.push_back(Group{std::move(keys), {}});
  m_groups[it->second].totals.add(t);
}

AggResult ResultBuilder::finish() {
  AggResult res;
  if (m_currency) res.currency = *m_currency;
  res.groups = std::move(m_groups);
  std::sort(res.groups.begin(), res.groups.end(), [](const Group& a, const Group& b) { return a.keys < b.keys; });
  m_groups.clear();
  m_index.clear();
  return res;
}

}  // namespace billctl::usage
