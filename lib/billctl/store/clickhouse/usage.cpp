#include "billctl/store/clickhouse/usage.hpp"

#include "billctl/store/clickhouse/import.hpp"
#include "billctl/store/clickhouse/schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <tuple>

#include "billctl/util/error.hpp"

namespace billctl::store::ch {

namespace {

// The SQL of a text dimension (a meter record's model is its meter, as usage::dim_value has it).
std::string dim_sql(usage::Dim d) {
  switch (d) {
    case usage::Dim::model: return "if(model = '', meter, model)";
    case usage::Dim::day:
    case usage::Dim::week:
    case usage::Dim::month: return "intDiv(ts - if(ts < 0, 86399, 0), 86400)";
    case usage::Dim::hour: return "intDiv(ts - if(ts < 0, 3599, 0), 3600)";
    default: return std::string(usage::dim_name(d));
  }
}

bool is_time(usage::Dim d) { return size_t(d) >= usage::k_text_dims; }

// The WHERE of a query: visible rows of its period, filters, and the input-per-request bounds.
std::string where_sql(const usage::AggQuery& q) {
  std::string w = std::string(k_visible) + " AND ts >= " + std::to_string(q.begin) + " AND ts < " + std::to_string(q.end);
  for (const auto& f : q.where) w += " AND " + dim_sql(f.dim) + " IN (" + quote_list(f.values) + ")";
  const std::string input = "(input_tokens + cached_input_tokens + cache_write_tokens + cache_write_1h_tokens)";
  const std::string reqs = "if(requests > 0, requests, 1)";
  if (q.input_above > 0) w += " AND " + input + " > " + std::to_string(q.input_above) + " * " + reqs;
  if (q.input_upto > 0) w += " AND " + input + " <= " + std::to_string(q.input_upto) + " * " + reqs;
  return w;
}

// The totals' sums (11 columns, in usage::Totals order with the cost as micro and pico), then the
// count columns again as floats: Int64 sums wrap, and a total is exact when its float sum agrees.
constexpr const char* k_sums =
    "sum(sign), sum(sign * requests), sum(if(status = 'error', sign * requests, 0)), sum(sign * input_tokens),"
    " sum(sign * cached_input_tokens), sum(sign * cache_write_tokens), sum(sign * cache_write_1h_tokens),"
    " sum(sign * output_tokens), sum(if(cost_source = 0 AND meter = '', sign, 0)), sum(sign * cost_micro),"
    " sum(sign * cost_pico), sum(sign * toFloat64(requests)), sum(sign * toFloat64(input_tokens)),"
    " sum(sign * toFloat64(cached_input_tokens)), sum(sign * toFloat64(cache_write_tokens)),"
    " sum(sign * toFloat64(cache_write_1h_tokens)), sum(sign * toFloat64(output_tokens))";
constexpr size_t k_sum_columns = 17;

int64_t to_i64(std::string_view s) { return to_number(s, "a number"); }

// A group's keys from the row's fields at `first`: text as it is, a time bucket (a day or hour
// number) as its label.
std::vector<std::string> group_key(const usage::AggQuery& q, const std::vector<std::string_view>& f, size_t first) {
  std::vector<std::string> key;
  for (size_t i = 0; i < q.by.size(); ++i) {
    const usage::Dim d = q.by[i];
    if (!is_time(d)) key.emplace_back(f[first + i]);
    else key.push_back(usage::time_label(d, to_i64(f[first + i]) * (d == usage::Dim::hour ? 3600 : 86400)));
  }
  return key;
}

usage::Totals totals_from(const std::vector<std::string_view>& f, size_t at) {
  usage::Totals t;
  int64_t* counts[] = {&t.records,    &t.requests, &t.error_requests, &t.input_tokens, &t.cached_input_tokens,
                       &t.cache_write_tokens, &t.cache_write_1h_tokens, &t.output_tokens, &t.unpriced_records};
  for (size_t i = 0; i < 9; ++i) *counts[i] = to_i64(f[at + i]);
  t.cost = money::i128(to_i64(f[at + 9])) * k_cost_micro + to_i64(f[at + 10]);
  // requests, input .. output: a wrapped Int64 sum differs from the float sum by about 2^64.
  const int64_t exact[] = {t.requests, t.input_tokens, t.cached_input_tokens, t.cache_write_tokens, t.cache_write_1h_tokens,
                           t.output_tokens};
  for (size_t i = 0; i < 6; ++i)
    if (std::fabs(std::strtod(std::string(f[at + 11 + i]).c_str(), nullptr) - double(exact[i])) > 4.0e18) usage::count_overflow();
  return t;
}

}  // namespace

ClickHouseUsage::ClickHouseUsage(Config config, std::unique_ptr<net::HttpClient> http)
    : m_http(std::move(http)), m_client(std::move(config), *m_http) {}

ClickHouseUsage::~ClickHouseUsage() = default;

void ClickHouseUsage::ensure_schema() {
  if (m_ready) return;
  const Config& c = m_client.config();
  const std::string db = c.database;
  for (size_t s = 0; s < c.shards.size(); ++s) {
    // CREATE DATABASE goes to a server without naming the database (it may not exist yet).
    Config bare = c;
    bare.database = "system";
    Client(bare, *m_http).query("CREATE DATABASE IF NOT EXISTS " + db, s);
  }
  m_client.query(std::string("CREATE TABLE IF NOT EXISTS billctl_schema (version UInt32) ENGINE = TinyLog"));
  const int64_t version = m_client.scalar("SELECT max(version) FROM billctl_schema");
  if (version > k_schema_version)
    throw DataError(display(c) + ": schema version " + std::to_string(version) + " is newer than this billctl understands (" +
                    std::to_string(k_schema_version) + "); upgrade billctl");
  const std::string merge_tree = std::string(" (") + k_usage_columns +
                                 ") ENGINE = MergeTree() PARTITION BY toYYYYMM(toDateTime(ts, 'UTC')) ORDER BY (ts, vtxn, vseq)";
  if (c.cluster.empty()) {
    m_client.query("CREATE TABLE IF NOT EXISTS usage" + merge_tree);
  } else {
    // A cluster: the records in usage_local on every shard (created here: ON CLUSTER needs
    // ZooKeeper), read through the Distributed table usage on the first. The import log and the
    // schema version live on the first.
    const auto engines = m_client.column("SELECT engine FROM system.tables WHERE database = " + quote(db) + " AND name = 'usage'");
    const std::string engine = engines.empty() ? std::string() : engines[0];
    if (!engine.empty() && engine != "Distributed")
      throw DataError(display(c) + ": the database holds the usage of a single server (a " + engine +
                      " table); give the cluster another database, or copy it with billctl store migrate");
    for (size_t s = 0; s < c.shards.size(); ++s) m_client.query("CREATE TABLE IF NOT EXISTS usage_local" + merge_tree, s);
    m_client.query("CREATE TABLE IF NOT EXISTS usage AS usage_local ENGINE = Distributed(" + c.cluster + ", " + db +
                   ", usage_local, rand())");
  }
  m_client.query(
      "CREATE TABLE IF NOT EXISTS imports (txn UInt64, id Int64, at String, source String, digest String, format String,"
      " bytes Int64, accepted Int64, rejected Int64, replaced Int64, unpriced Int64, min_ts Int64, max_ts Int64,"
      " catalog String, catalog_hash String, catalog_as_of String, origin String) ENGINE = MergeTree() ORDER BY (id, txn)");
  // Imports as they start (what garbage collection reads) and the combos with a rollup.
  m_client.query("CREATE TABLE IF NOT EXISTS pending (txn UInt64, started Int64) ENGINE = MergeTree() ORDER BY txn");
  m_client.query("CREATE TABLE IF NOT EXISTS rollup_combos (name String, dim String) ENGINE = MergeTree() ORDER BY name");
  ensure_rollup();
  m_combos = load_combos(m_client);
  if (version < k_schema_version) m_client.query("INSERT INTO billctl_schema VALUES (" + std::to_string(k_schema_version) + ")");
  m_ready = true;
}

// The hourly rollup: per hour, one row per value of each dimension (and '*' for all), per
// currency, import transaction and token/meter kind. Imports add their records' rows themselves
// (summed in billctl, far cheaper than a materialized view on this server version) under their
// own transaction, so the rollup becomes visible with the records; cancelling rows are rolled up
// on the server. Sums of sign * value, like the records.

void ClickHouseUsage::ensure_rollup() {
  const Config& c = m_client.config();
  const bool cluster = !c.cluster.empty();
  const std::string records = cluster ? "usage_local" : "usage", rollup = cluster ? "usage_hourly_local" : "usage_hourly";
  const std::string columns =
      " (dim String, value String, hour Int64, currency String, txn UInt64, is_meter UInt8, records Int64, r_requests Int64,"
      " r_error_requests Int64, r_input Int64, r_cached Int64, r_write Int64, r_write_1h Int64, r_output Int64,"
      " unpriced Int64, r_cost_micro Int64, r_cost_pico Int64,"
      " f_requests Float64, f_input Float64, f_cached Float64, f_write Float64, f_write_1h Float64, f_output Float64)"
      " ENGINE = SummingMergeTree() PARTITION BY intDiv(hour, 24 * 32) ORDER BY (dim, value, hour, currency, txn, is_meter)"
      " SETTINGS index_granularity = 1024";  // queries read a few values of a dimension each
  for (size_t s = 0; s < c.shards.size(); ++s) {
    if (!cluster && s > 0) break;
    const bool missing = m_client.column("SELECT name FROM system.tables WHERE database = " + quote(c.database) +
                                         " AND name = " + quote(rollup), s).empty();
    if (!missing) continue;
    m_client.query("CREATE TABLE IF NOT EXISTS " + rollup + columns, s);
    // Records stored before the rollup existed (a database made by an earlier billctl).
    for (const auto& select : rollup_selects(records, "1", {})) m_client.query("INSERT INTO " + rollup + " " + select, s);
  }
  if (cluster)
    m_client.query("CREATE TABLE IF NOT EXISTS usage_hourly AS usage_hourly_local ENGINE = Distributed(" + c.cluster + ", " +
                   c.database + ", usage_hourly_local, rand())");
}

// Can the hourly rollup answer the whole hours of a query? Its rows hold the values of one
// dimension, or of a registered combo, so the dimensions filtered and grouped by (besides one time
// bucket) must be one, or those of a combo.
std::optional<ClickHouseUsage::RollupPlan> ClickHouseUsage::rollup_plan(const usage::AggQuery& q) const {
  if (q.input_above > 0 || q.input_upto > 0) return std::nullopt;
  std::vector<usage::Dim> dims;
  size_t times = 0;
  for (size_t i = 0; i < q.by.size(); ++i) {
    const usage::Dim d = q.by[i];
    if (is_time(d) ? ++times > 1 : std::find(q.by.begin(), q.by.begin() + long(i), d) != q.by.begin() + long(i)) return std::nullopt;
    if (!is_time(d) && std::find(dims.begin(), dims.end(), d) == dims.end()) dims.push_back(d);
  }
  for (const auto& f : q.where) {
    if (is_time(f.dim)) return std::nullopt;
    if (std::find(dims.begin(), dims.end(), f.dim) == dims.end()) dims.push_back(f.dim);
  }
  for (usage::Dim d : dims)
    if (d == usage::Dim::session) return std::nullopt;
  if (dims.empty()) return RollupPlan{"*", std::nullopt, std::nullopt};
  if (dims.size() == 1) return RollupPlan{std::string(usage::dim_name(dims[0])), std::nullopt, dims[0]};
  const auto c = combo_of(dims);
  if (!c) return std::nullopt;
  for (const auto& r : m_combos)
    if (r.combo.name == c->name) return RollupPlan{r.dim, r.combo, std::nullopt};
  return std::nullopt;
}

std::string ClickHouseUsage::records_sql(const usage::AggQuery& q) {
  std::string keys;
  for (usage::Dim d : q.by) keys += ", " + dim_sql(d);
  std::string sql = "SELECT currency" + keys + ", " + k_sums + " FROM usage WHERE " + where_sql(q);
  if (q.tokens_only) sql += " AND meter = ''";
  return sql + " GROUP BY currency" + keys + " FORMAT TabSeparated";
}

// Whole hours [h0, h1) of queries from the rollup: the queries of one range, time bucket and kind
// in one statement, which reads the rows of each dimension (or combo) they need, each value once,
// and hands each row to the queries it belongs to here (a combo's value split into its
// dimensions' values and filtered).
std::vector<usage::AggResult> ClickHouseUsage::rollup_hours(const std::vector<usage::AggQuery>& queries,
                                                            const std::vector<RolledPart>& parts) {
  auto bucket_of = [&](const usage::AggQuery& q) -> std::string {
    for (usage::Dim d : q.by)
      if (is_time(d)) return d == usage::Dim::hour ? "hour" : "intDiv(hour - if(hour < 0, 23, 0), 24)";
    return "toInt64(0)";
  };
  std::map<std::tuple<int64_t, int64_t, std::string, bool>, std::vector<size_t>> shapes;
  for (size_t k = 0; k < parts.size(); ++k)
    shapes[{parts[k].h0, parts[k].h1, bucket_of(queries[parts[k].query]), queries[parts[k].query].tokens_only}].push_back(k);
  std::vector<usage::ResultBuilder> rb(parts.size());
  // The values a part reads (empty: every value of its rollup).
  auto values_of = [&](const RolledPart& p) {
    const usage::AggQuery& q = queries[p.query];
    if (p.plan.combo) return combo_values(*p.plan.combo, q.where);
    if (p.plan.dim == "*") return std::vector<std::string>{""};
    return q.where.empty() ? std::vector<std::string>{} : q.where[0].values;
  };
  auto run = [&](const std::tuple<int64_t, int64_t, std::string, bool>& shape, const std::vector<size_t>& members) {
    const auto& [h0, h1, bucket, tokens_only] = shape;
    // Per rollup: the values to read, or all of them.
    std::map<std::string, std::pair<bool, std::vector<std::string>>> reads;
    std::map<std::string, std::vector<size_t>> readers;
    for (size_t k : members) {
      const RolledPart& p = parts[k];
      auto& [all, values] = reads[p.plan.dim];
      const std::vector<std::string> v = values_of(p);
      if (v.empty()) all = true;
      values.insert(values.end(), v.begin(), v.end());
      readers[p.plan.dim].push_back(k);
    }
    std::string which;
    for (auto& [dim, read] : reads) {
      auto& [all, values] = read;
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      which += (which.empty() ? "(dim = " : " OR (dim = ") + quote(dim) + (all ? ")" : " AND value IN (" + quote_list(values) + "))");
    }
    const std::string sql = "SELECT dim, currency, value, " + bucket +
                            ", sum(records), sum(r_requests), sum(r_error_requests), sum(r_input), sum(r_cached), sum(r_write),"
                            " sum(r_write_1h), sum(r_output), sum(unpriced), sum(r_cost_micro), sum(r_cost_pico), sum(f_requests),"
                            " sum(f_input), sum(f_cached), sum(f_write), sum(f_write_1h), sum(f_output) FROM usage_hourly WHERE " +
                            std::string(k_visible) + " AND hour >= " + std::to_string(h0) + " AND hour < " + std::to_string(h1) +
                            (tokens_only ? " AND is_meter = 0" : "") + " AND (" + which + ") GROUP BY dim, currency, value, " +
                            bucket + " FORMAT TabSeparated";
    const std::string body = m_client.query(sql);
    TsvReader rows(body);
    std::vector<std::string_view> f;
    std::string_view values[k_max_combo];
    while (rows.next(f)) {
      if (f.size() != 4 + k_sum_columns) throw DataError("ClickHouse returned a row of " + std::to_string(f.size()) + " columns");
      const auto readers_of = readers.find(std::string(f[0]));
      if (readers_of == readers.end()) throw DataError("ClickHouse returned a row of rollup " + std::string(f[0]));
      const usage::Totals t = totals_from(f, 4);
      if (t.records == 0) continue;  // every record of the group was replaced
      for (size_t k : readers_of->second) {
        const usage::AggQuery& q = queries[parts[k].query];
        const RollupPlan& plan = parts[k].plan;
        if (plan.combo) {
          const Combo& c = *plan.combo;
          if (!split_combo_value(f[2], c.dims.size(), values)) throw DataError("ClickHouse holds a malformed rollup value of " + c.name);
          bool keep = true;
          for (size_t d = 0; d < c.dims.size() && keep; ++d) keep = filter_passes(q.where, c.dims[d], values[d]);
          if (!keep) continue;
        } else if (plan.one && !filter_passes(q.where, *plan.one, f[2])) {
          continue;
        }
        std::vector<std::string> key;
        for (usage::Dim d : q.by) {
          if (is_time(d)) key.push_back(usage::time_label(d, to_i64(f[3]) * (d == usage::Dim::hour ? 3600 : 86400)));
          else if (plan.combo) key.emplace_back(values[plan.combo->position(d)]);
          else key.emplace_back(f[2]);
        }
        rb[k].add(std::move(key), f[1], t);
      }
    }
  };
  for (const auto& [shape, members] : shapes) {
    // Statements stay well under the server's max_query_size (256 KiB): long value lists go apart.
    std::vector<size_t> batch;
    size_t bytes = 0;
    for (size_t k : members) {
      size_t b = 64;
      for (const auto& w : queries[parts[k].query].where)
        for (const auto& v : w.values) b += v.size() + 4;
      if (!batch.empty() && bytes + b > 150'000) {
        run(shape, batch);
        batch.clear();
        bytes = 0;
      }
      batch.push_back(k);
      bytes += b;
    }
    if (!batch.empty()) run(shape, batch);
  }
  std::vector<usage::AggResult> out;
  for (auto& b : rb) out.push_back(b.finish());
  return out;
}

// Runs a query of currency, the query's keys (a time key as a day or hour number) and the sums,
// and folds its rows into a result.
usage::AggResult ClickHouseUsage::fold(const usage::AggQuery& q, const std::string& sql) {
  const std::string body = m_client.query(sql);
  TsvReader rows(body);
  std::vector<std::string_view> f;
  usage::ResultBuilder rb;
  const size_t n = q.by.size();
  while (rows.next(f)) {
    if (f.size() != 1 + n + k_sum_columns) throw DataError("ClickHouse returned a row of " + std::to_string(f.size()) + " columns");
    const usage::Totals t = totals_from(f, 1 + n);
    if (t.records == 0) continue;  // every record of the group was replaced
    rb.add(group_key(q, f, 1), f[0], t);
  }
  return rb.finish();
}

// Storage is billed at its peak day and quantities are exact decimals: the live meter records of
// the queries' periods (few: one per meter, series and day or hour) are read once and added up
// here, each to the queries whose period and filters it passes.
void ClickHouseUsage::add_meters(const std::vector<usage::AggQuery>& queries, std::vector<usage::AggResult>& out) {
  util::Seconds begin = INT64_MAX, end = INT64_MIN;
  for (const auto& q : queries)
    if (q.meters && q.input_above <= 0) {
      begin = std::min(begin, q.begin);
      end = std::max(end, q.end);
    }
  if (begin >= end) return;
  usage::AggQuery all;
  all.begin = begin;
  all.end = end;
  // Columns 1-10: the filterable dimensions, in Dim order (a meter record's model is its meter).
  static_assert(size_t(usage::Dim::provider) == 0 && size_t(usage::Dim::session) == 9);
  const std::string body = m_client.query(
      "SELECT any(ts), any(provider), any(if(model = '', meter, model)), any(organization), any(department), any(user),"
      " any(feature), any(project), any(status), any(service_tier), any(session), any(meter), any(quantity), any(unit)"
      " FROM usage WHERE " + where_sql(all) + " AND meter != '' GROUP BY vtxn, vseq HAVING sum(sign) > 0 FORMAT TabSeparated");
  TsvReader rows(body);
  std::vector<std::string_view> f;
  usage::UsageRecord r;
  while (rows.next(f)) {
    if (f.size() != 14) throw DataError("ClickHouse returned a meter row of " + std::to_string(f.size()) + " columns");
    r.timestamp = to_i64(f[0]);
    r.provider = f[1];
    r.organization = f[3];
    r.department = f[4];
    r.user = f[5];
    r.feature = f[6];
    r.project = f[7];
    r.session = f[10];
    r.meter = f[11];
    r.quantity = money::Decimal::parse(f[12]).value_or_throw("stored quantity of a '" + std::string(r.meter) + "' record");
    r.unit = f[13];
    for (size_t i = 0; i < queries.size(); ++i) {
      const usage::AggQuery& q = queries[i];
      // A meter record has no input tokens: it is never above a bound, always within one.
      if (!q.meters || q.input_above > 0 || r.timestamp < q.begin || r.timestamp >= q.end) continue;
      bool keep = true;
      for (const auto& w : q.where)
        keep = keep && size_t(w.dim) < 10 && std::find(w.values.begin(), w.values.end(), f[1 + size_t(w.dim)]) != w.values.end();
      if (keep) out[i].meters.add(r);
    }
  }
}


size_t ClickHouseUsage::register_combos() {
  ensure_schema();
  auto missing = [this] {
    std::vector<Combo> out;
    for (const Combo& w : m_wanted)
      if (std::none_of(m_combos.begin(), m_combos.end(), [&](const RolledCombo& r) { return r.combo.name == w.name; }))
        out.push_back(w);
    return out;
  };
  if (missing().empty()) return 0;
  // Under the writers' lock: an import sums the rollup of the combos registered when it starts.
  WriterLock lock(m_lock_path, "a rollup registration");
  m_combos = load_combos(m_client);
  const std::vector<Combo> unregistered = missing();
  const Config& c = m_client.config();
  const bool cluster = !c.cluster.empty();
  std::random_device rd;
  for (const Combo& combo : unregistered) {
    char tag[20];
    std::snprintf(tag, sizeof tag, "#%08x%08x", unsigned(rd()), unsigned(rd()));
    RolledCombo r{combo, combo.name + tag};
    for (size_t s = 0; s < (cluster ? c.shards.size() : 1); ++s) {
      const std::string rollup = cluster ? "usage_hourly_local" : "usage_hourly", records = cluster ? "usage_local" : "usage";
      // Rows of a registration that did not finish (never read) go first.
      m_client.query("ALTER TABLE " + rollup + " DELETE WHERE substring(dim, 1, " + std::to_string(combo.name.size() + 1) +
                         ") = " + quote(combo.name + "#"), s);
      for (const auto& select : rollup_selects(records, "1", {r}, false)) m_client.query("INSERT INTO " + rollup + " " + select, s);
    }
    m_client.query("INSERT INTO rollup_combos VALUES (" + quote(r.combo.name) + ", " + quote(r.dim) + ")");
    m_combos.push_back(std::move(r));
  }
  return unregistered.size();
}

std::vector<usage::AggResult> ClickHouseUsage::aggregate(const std::vector<usage::AggQuery>& queries) {
  register_combos();
  // A query's whole hours come from the rollup when it can answer them (all such parts in one
  // statement); the rest of it, or all of it, from the records, the queries of one period and kind
  // in one scan (50 budgets: a few scans, not 50); its meters from the meter records (one read).
  std::vector<std::vector<usage::AggResult>> parts(queries.size());
  std::vector<RolledPart> rolled;
  std::vector<usage::AggQuery> scanned;
  std::vector<size_t> scanned_of;
  auto scan = [&](const usage::AggQuery& q, size_t i, util::Seconds begin, util::Seconds end) {
    if (begin >= end) return;
    usage::AggQuery part = q;
    part.begin = begin;
    part.end = end;
    part.meters = false;
    scanned.push_back(std::move(part));
    scanned_of.push_back(i);
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    const usage::AggQuery& q = queries[i];
    const int64_t h0 = q.begin >= 0 ? (q.begin + 3599) / 3600 : q.begin / 3600;
    const int64_t h1 = q.end >= 0 ? q.end / 3600 : (q.end - 3599) / 3600;
    std::optional<RollupPlan> plan = rollup_plan(q);
    if (plan && h0 < h1) {
      rolled.push_back({i, std::move(*plan), h0, h1});
      scan(q, i, q.begin, h0 * 3600);  // the minutes at either edge
      scan(q, i, h1 * 3600, q.end);
    } else {
      scan(q, i, q.begin, q.end);
    }
  }
  std::vector<usage::AggResult> from_rollup = rollup_hours(queries, rolled);
  for (size_t k = 0; k < rolled.size(); ++k) parts[rolled[k].query].push_back(std::move(from_rollup[k]));
  std::map<std::tuple<util::Seconds, util::Seconds, bool, int64_t, int64_t>, std::vector<size_t>> scans;
  for (size_t k = 0; k < scanned.size(); ++k) {
    const usage::AggQuery& q = scanned[k];
    scans[{q.begin, q.end, q.tokens_only, q.input_above, q.input_upto}].push_back(k);
  }
  for (const auto& [shape, members] : scans) {
    if (members.size() == 1) {
      parts[scanned_of[members[0]]].push_back(fold(scanned[members[0]], records_sql(scanned[members[0]])));
      continue;
    }
    std::vector<usage::AggResult> res = scan_together(scanned, members);
    for (size_t k = 0; k < members.size(); ++k) parts[scanned_of[members[k]]].push_back(std::move(res[k]));
  }
  std::vector<usage::AggResult> out;
  for (auto& p : parts) {
    std::vector<std::vector<usage::AggResult>> each;
    for (auto& r : p) each.push_back({std::move(r)});
    out.push_back(std::move(usage::merge_results(std::move(each))[0]));
  }
  add_meters(queries, out);
  return out;
}


// Several queries of one period and kind in one scan: each record is joined with the queries
// whose filters it passes (an array of (query, keys...) tuples, ARRAY JOINed), then grouped by
// query and keys.
std::vector<usage::AggResult> ClickHouseUsage::scan_together(const std::vector<usage::AggQuery>& queries,
                                                             const std::vector<size_t>& members) {
  size_t width = 0;
  for (size_t i : members) width = std::max(width, queries[i].by.size());
  std::string tuples;
  for (size_t k = 0; k < members.size(); ++k) {
    const usage::AggQuery& q = queries[members[k]];
    std::string pass;
    for (const auto& f : q.where) pass += (pass.empty() ? "" : " AND ") + dim_sql(f.dim) + " IN (" + quote_list(f.values) + ")";
    tuples += std::string(k ? ", " : "") + "tuple(" + (pass.empty() ? std::to_string(k + 1) : "if(" + pass + ", " + std::to_string(k + 1) + ", 0)");
    for (size_t j = 0; j < width; ++j) tuples += j < q.by.size() ? ", toString(" + dim_sql(q.by[j]) + ")" : std::string(", ''");
    tuples += ")";
  }
  std::string keys;
  for (size_t j = 0; j <= width; ++j) keys += (j ? ", g." : "g.") + std::to_string(j + 1);
  usage::AggQuery shape = queries[members[0]];
  shape.where.clear();
  std::string sql = "SELECT " + keys + ", currency, " + k_sums + " FROM usage ARRAY JOIN arrayFilter(x -> x.1 != 0, [" + tuples +
                    "]) AS g WHERE " + where_sql(shape);
  if (shape.tokens_only) sql += " AND meter = ''";
  sql += " GROUP BY " + keys + ", currency FORMAT TabSeparated";
  const std::string body = m_client.query(sql);
  TsvReader rows(body);
  std::vector<std::string_view> f;
  std::vector<usage::ResultBuilder> rb(members.size());
  while (rows.next(f)) {
    if (f.size() != 2 + width + k_sum_columns) throw DataError("ClickHouse returned a row of " + std::to_string(f.size()) + " columns");
    const size_t k = size_t(to_i64(f[0]));
    if (k == 0 || k > members.size()) throw DataError("ClickHouse returned a row of query " + std::string(f[0]));
    const usage::AggQuery& q = queries[members[k - 1]];
    const usage::Totals t = totals_from(f, 2 + width);
    if (t.records == 0) continue;
    rb[k - 1].add(group_key(q, f, 1), f[1 + width], t);
  }
  std::vector<usage::AggResult> out;
  for (auto& b : rb) out.push_back(b.finish());
  return out;
}

std::vector<std::string> ClickHouseUsage::dimension_values(std::string_view dim, std::string_view prefix, size_t limit) {
  Config quick = m_client.config();
  quick.timeout_ms = 2000;
  return Client(quick, *m_http)
      .column("SELECT DISTINCT value FROM usage_hourly WHERE " + std::string(k_visible) + " AND dim = " + quote(dim) +
              " AND value != '' AND substring(value, 1, " + std::to_string(prefix.size()) + ") = " + quote(prefix) +
              " ORDER BY value LIMIT " + std::to_string(limit));
}

ClickHouseUsage::Facts ClickHouseUsage::facts() {
  ensure_schema();
  Facts f;
  const auto v = m_client.column("SELECT version()");
  f.server_version = v.empty() ? std::string("?") : v[0];
  f.schema = m_client.scalar("SELECT max(version) FROM billctl_schema");
  f.records = m_client.scalar("SELECT sum(records) FROM usage_hourly WHERE " + std::string(k_visible) + " AND dim = '*'");
  return f;
}

std::vector<usage::CatalogInfo> ClickHouseUsage::catalogs_used(util::Seconds begin, util::Seconds end) {
  ensure_schema();
  // Newest first by when a catalog was first used, as the SQLite store registers them.
  const std::string body = m_client.query(
      "SELECT catalog, catalog_hash, any(catalog_as_of), min(id) AS first FROM imports WHERE id > 0 AND accepted > 0"
      " AND min_ts < " + std::to_string(end) + " AND max_ts >= " + std::to_string(begin) +
      " GROUP BY catalog, catalog_hash ORDER BY first DESC FORMAT TabSeparated");
  TsvReader rows(body);
  std::vector<std::string_view> f;
  std::vector<usage::CatalogInfo> out;
  while (rows.next(f)) {
    if (f.size() != 4) continue;
    usage::CatalogInfo c;
    c.name = f[0];
    c.hash = f[1];
    c.as_of = f[2];
    out.push_back(std::move(c));
  }
  return out;
}

bool ClickHouseUsage::may_have_sessions(util::Seconds begin, util::Seconds end) {
  ensure_schema();
  return !m_client
              .column("SELECT session FROM usage WHERE " + std::string(k_visible) + " AND session != '' AND ts >= " +
                      std::to_string(begin) + " AND ts < " + std::to_string(end) + " LIMIT 1")
              .empty();
}

std::vector<ingest::ImportLogRow> ClickHouseUsage::import_log(size_t limit) {
  ensure_schema();
  const std::string body = m_client.query(
      "SELECT id, at, source, digest, format, catalog, accepted, rejected, replaced, unpriced FROM imports WHERE id > 0"
      " ORDER BY id DESC, txn LIMIT " + std::to_string(limit) + " FORMAT TabSeparated");
  TsvReader rows(body);
  std::vector<std::string_view> f;
  std::vector<ingest::ImportLogRow> out;
  while (rows.next(f)) {
    if (f.size() != 10) continue;
    ingest::ImportLogRow r;
    r.id = to_i64(f[0]);
    r.at = f[1];
    r.source = f[2];
    r.digest = f[3];
    r.format = f[4];
    r.catalog = f[5];
    r.accepted = to_i64(f[6]);
    r.rejected = to_i64(f[7]);
    r.replaced = to_i64(f[8]);
    r.unpriced = to_i64(f[9]);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> ClickHouseUsage::usage_currencies() {
  ensure_schema();
  return m_client.column("SELECT currency FROM usage WHERE " + std::string(k_visible) +
                         " AND (cost_micro != 0 OR cost_pico != 0) GROUP BY currency HAVING sum(sign) > 0 ORDER BY currency");
}

void ClickHouseUsage::copy_import(const ingest::LoggedImport& from, const std::string& origin,
                                  const std::function<void(ingest::RecordSink&)>& fill) {
  ensure_schema();
  auto txn = begin_clickhouse_import(m_client, m_lock_path, nullptr, from.catalog, 0, &from, origin);
  fill(*txn);
  txn->commit();
}

std::vector<std::string> ClickHouseUsage::origins(const std::string& prefix) {
  ensure_schema();
  return m_client.column("SELECT DISTINCT origin FROM imports WHERE substring(origin, 1, " + std::to_string(prefix.size()) + ") = " + quote(prefix));
}

std::unique_ptr<ingest::ImportTxn> ClickHouseUsage::begin_import(const usage::CatalogInfo& catalog, util::Seconds now) {
  ensure_schema();
  return begin_clickhouse_import(m_client, m_lock_path, m_state, catalog, now);
}

}  // namespace billctl::store::ch
