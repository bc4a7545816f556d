#include "billctl/store/clickhouse/usage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <future>
#include <map>
#include <tuple>
#include <random>
#include <unordered_map>

#include "billctl/store/id_dedupe.hpp"
#include "billctl/util/intern.hpp"
#include "billctl/util/error.hpp"

namespace billctl::store::ch {

namespace {

constexpr const char* k_usage_columns =
    "id String, ts Int64, provider String, model String, organization String, department String, user String,"
    " feature String, project String, session String, input_tokens Int64, cached_input_tokens Int64,"
    " cache_write_tokens Int64, cache_write_1h_tokens Int64, output_tokens Int64, requests Int64,"
    " service_tier String, status String, cost_micro Int64, cost_pico Int64, currency String, cost_source Int8,"
    " meter String, quantity String, unit String, txn UInt64, src UInt64, vtxn UInt64, vseq UInt64, sign Int8";
constexpr const char* k_insert_columns =
    "id, ts, provider, model, organization, department, user, feature, project, session, input_tokens,"
    " cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,"
    " cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, txn, src, vtxn, vseq, sign";
// The record columns of a version, for copying it as a cancelling row.
constexpr const char* k_record_columns =
    "id, ts, provider, model, organization, department, user, feature, project, session, input_tokens,"
    " cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,"
    " cost_micro, cost_pico, currency, cost_source, meter, quantity, unit";
constexpr const char* k_visible = "txn GLOBAL IN (SELECT txn FROM imports)";
constexpr int64_t k_cost_micro = 1'000'000;
constexpr size_t k_batch_bytes = size_t(32) << 20;  // an insert's body

// Appends RowBinary values.
struct RowBinary {
  std::string& out;
  void str(std::string_view s) {
    uint64_t n = s.size();
    while (n >= 0x80) {
      out += char(uint8_t(n) | 0x80);
      n >>= 7;
    }
    out += char(uint8_t(n));
    out.append(s);
  }
  void i64(int64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);  // little-endian (x86-64, aarch64)
    out.append(b, 8);
  }
  void u64(uint64_t v) { i64(int64_t(v)); }
  void i8(int8_t v) { out += char(v); }
};

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

int64_t to_i64(std::string_view s) {
  int64_t v = 0;
  bool neg = !s.empty() && s[0] == '-';
  for (size_t i = neg; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') throw DataError("ClickHouse returned '" + std::string(s) + "' where a number belongs");
    v = int64_t(uint64_t(v) * 10 + uint64_t(s[i] - '0'));
  }
  return neg ? int64_t(0 - uint64_t(v)) : v;
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
  ensure_rollup();
  if (version < k_schema_version) m_client.query("INSERT INTO billctl_schema VALUES (" + std::to_string(k_schema_version) + ")");
  m_ready = true;
}

// The hourly rollup: per hour, one row per value of each dimension (and '*' for all), per
// currency, import transaction and token/meter kind, kept up to date by a materialized view on
// every insert into the records (cancelling rows included), so it sums exactly as they do.
// The hourly rollup: per hour, one row per value of each dimension (and '*' for all), per
// currency, import transaction and token/meter kind. Imports add their records' rows themselves
// (summed in billctl, far cheaper than a materialized view on this server version) under their
// own transaction, so the rollup becomes visible with the records; cancelling rows are rolled up
// on the server. Sums of sign * value, like the records.
namespace {
std::string rollup_select(const std::string& records, const std::string& where) {
  return "SELECT d.1 AS dim, d.2 AS value, intDiv(ts - if(ts < 0, 3599, 0), 3600) AS hour, currency, txn,"
         " toUInt8(meter != '') AS is_meter, sum(sign) AS records, sum(sign * requests) AS r_requests,"
         " sum(if(status = 'error', sign * requests, 0)) AS r_error_requests, sum(sign * input_tokens) AS r_input,"
         " sum(sign * cached_input_tokens) AS r_cached, sum(sign * cache_write_tokens) AS r_write,"
         " sum(sign * cache_write_1h_tokens) AS r_write_1h, sum(sign * output_tokens) AS r_output,"
         " sum(if(cost_source = 0 AND meter = '', sign, 0)) AS unpriced, sum(sign * cost_micro) AS r_cost_micro,"
         " sum(sign * cost_pico) AS r_cost_pico, sum(sign * toFloat64(requests)) AS f_requests,"
         " sum(sign * toFloat64(input_tokens)) AS f_input, sum(sign * toFloat64(cached_input_tokens)) AS f_cached,"
         " sum(sign * toFloat64(cache_write_tokens)) AS f_write, sum(sign * toFloat64(cache_write_1h_tokens)) AS f_write_1h,"
         " sum(sign * toFloat64(output_tokens)) AS f_output FROM " + records +
         " ARRAY JOIN [('*', ''), ('provider', provider), ('model', if(model = '', meter, model)), ('organization', organization),"
         " ('department', department), ('user', user), ('feature', feature), ('project', project), ('status', status),"
         " ('service_tier', service_tier)] AS d WHERE " + where + " GROUP BY dim, value, hour, currency, txn, is_meter";
}
}  // namespace

void ClickHouseUsage::ensure_rollup() {
  const Config& c = m_client.config();
  const bool cluster = !c.cluster.empty();
  const std::string records = cluster ? "usage_local" : "usage", rollup = cluster ? "usage_hourly_local" : "usage_hourly";
  const std::string columns =
      " (dim String, value String, hour Int64, currency String, txn UInt64, is_meter UInt8, records Int64, r_requests Int64,"
      " r_error_requests Int64, r_input Int64, r_cached Int64, r_write Int64, r_write_1h Int64, r_output Int64,"
      " unpriced Int64, r_cost_micro Int64, r_cost_pico Int64,"
      " f_requests Float64, f_input Float64, f_cached Float64, f_write Float64, f_write_1h Float64, f_output Float64)"
      " ENGINE = SummingMergeTree() PARTITION BY intDiv(hour, 24 * 32) ORDER BY (dim, value, hour, currency, txn, is_meter)";
  for (size_t s = 0; s < c.shards.size(); ++s) {
    if (!cluster && s > 0) break;
    const bool missing = m_client.column("SELECT name FROM system.tables WHERE database = " + quote(c.database) +
                                         " AND name = " + quote(rollup), s).empty();
    if (!missing) continue;
    m_client.query("CREATE TABLE IF NOT EXISTS " + rollup + columns, s);
    // Records stored before the rollup existed (a database made by an earlier billctl).
    m_client.query("INSERT INTO " + rollup + " " + rollup_select(records, "1"), s);
  }
  if (cluster)
    m_client.query("CREATE TABLE IF NOT EXISTS usage_hourly AS usage_hourly_local ENGINE = Distributed(" + c.cluster + ", " +
                   c.database + ", usage_hourly_local, rand())");
}

namespace {

// Can the hourly rollup answer the whole hours of a query? Its rows hold one dimension each, so
// every filter and grouping must be on the same one (or none), besides time.
std::optional<std::string> rollup_dim(const usage::AggQuery& q) {
  if (q.input_above > 0 || q.input_upto > 0) return std::nullopt;
  std::optional<usage::Dim> one;
  size_t times = 0;
  auto take = [&](usage::Dim d) {
    if (is_time(d)) return ++times <= 1;
    if (d == usage::Dim::session) return false;
    if (one && *one != d) return false;
    one = d;
    return true;
  };
  for (usage::Dim d : q.by)
    if (!take(d)) return std::nullopt;
  for (const auto& f : q.where)
    if (!take(f.dim)) return std::nullopt;
  return one ? std::string(usage::dim_name(*one)) : std::string("*");
}

}  // namespace

usage::AggResult ClickHouseUsage::aggregate_one(const usage::AggQuery& q) {
  usage::AggResult res;
  const int64_t h0 = q.begin >= 0 ? (q.begin + 3599) / 3600 : q.begin / 3600;
  const int64_t h1 = q.end >= 0 ? q.end / 3600 : (q.end - 3599) / 3600;
  const std::optional<std::string> dim = rollup_dim(q);
  if (dim && h0 < h1) {
    // Whole hours from the rollup, the minutes at either edge from the records.
    std::vector<std::vector<usage::AggResult>> parts;
    parts.push_back({fold(q, rollup_sql(q, *dim, h0, h1))});
    for (const auto& [a, b] : {std::pair(q.begin, h0 * 3600), std::pair(h1 * 3600, q.end)}) {
      if (a >= b) continue;
      usage::AggQuery edge = q;
      edge.begin = a;
      edge.end = b;
      edge.meters = false;
      parts.push_back({fold(edge, records_sql(edge))});
    }
    res = usage::merge_results(std::move(parts))[0];
  } else {
    res = fold(q, records_sql(q));
  }
  if (q.meters) add_meters(q, res);
  return res;
}

std::string ClickHouseUsage::records_sql(const usage::AggQuery& q) {
  std::string keys;
  for (usage::Dim d : q.by) keys += ", " + dim_sql(d);
  std::string sql = "SELECT currency" + keys + ", " + k_sums + " FROM usage WHERE " + where_sql(q);
  if (q.tokens_only) sql += " AND meter = ''";
  return sql + " GROUP BY currency" + keys + " FORMAT TabSeparated";
}

std::string ClickHouseUsage::rollup_sql(const usage::AggQuery& q, const std::string& dim, int64_t h0, int64_t h1) {
  std::string keys;
  for (usage::Dim d : q.by)
    keys += ", " + std::string(is_time(d) ? (d == usage::Dim::hour ? "hour" : "intDiv(hour - if(hour < 0, 23, 0), 24)") : "value");
  std::string sql = "SELECT currency" + keys +
                    ", sum(records), sum(r_requests), sum(r_error_requests), sum(r_input), sum(r_cached), sum(r_write),"
                    " sum(r_write_1h), sum(r_output), sum(unpriced), sum(r_cost_micro), sum(r_cost_pico), sum(f_requests), sum(f_input), sum(f_cached), sum(f_write), sum(f_write_1h), sum(f_output)"
                    " FROM usage_hourly WHERE " + std::string(k_visible) + " AND dim = " + quote(dim) + " AND hour >= " +
                    std::to_string(h0) + " AND hour < " + std::to_string(h1);
  for (const auto& f : q.where) sql += " AND value IN (" + quote_list(f.values) + ")";
  if (q.tokens_only) sql += " AND is_meter = 0";
  return sql + " GROUP BY currency" + keys + " FORMAT TabSeparated";
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
    std::vector<std::string> key;
    for (size_t i = 0; i < n; ++i) {
      const usage::Dim d = q.by[i];
      if (!is_time(d)) key.emplace_back(f[1 + i]);
      else key.push_back(usage::time_label(d, to_i64(f[1 + i]) * (d == usage::Dim::hour ? 3600 : 86400)));
    }
    rb.add(std::move(key), f[0], t);
  }
  return rb.finish();
}

void ClickHouseUsage::add_meters(const usage::AggQuery& q, usage::AggResult& res) {
  // Storage is billed at its peak day and quantities are exact decimals: the period's live meter
  // records (few: one per meter, series and day or hour) are added up here.
  const std::string body = m_client.query(
      "SELECT any(ts), any(organization), any(department), any(user), any(feature), any(project), any(meter),"
      " any(quantity), any(unit) FROM usage WHERE " + where_sql(q) +
      " AND meter != '' GROUP BY vtxn, vseq HAVING sum(sign) > 0 FORMAT TabSeparated");
  TsvReader rows(body);
  std::vector<std::string_view> f;
  usage::UsageRecord r;
  while (rows.next(f)) {
    if (f.size() != 9) throw DataError("ClickHouse returned a meter row of " + std::to_string(f.size()) + " columns");
    r.timestamp = to_i64(f[0]);
    r.organization = f[1];
    r.department = f[2];
    r.user = f[3];
    r.feature = f[4];
    r.project = f[5];
    r.meter = f[6];
    r.quantity = money::Decimal::parse(f[7]).value_or_throw("stored quantity of a '" + std::string(r.meter) + "' record");
    r.unit = f[8];
    res.meters.add(r);
  }
}

std::vector<usage::AggResult> ClickHouseUsage::aggregate(const std::vector<usage::AggQuery>& queries) {
  ensure_schema();
  std::vector<usage::AggResult> out(queries.size());
  // Queries the rollup answers go one by one (each reads little); those that read the records are
  // answered together, one scan for each period and kind (50 budgets: a few scans, not 50).
  std::map<std::tuple<util::Seconds, util::Seconds, bool, int64_t, int64_t>, std::vector<size_t>> scans;
  for (size_t i = 0; i < queries.size(); ++i) {
    const usage::AggQuery& q = queries[i];
    const int64_t h0 = q.begin >= 0 ? (q.begin + 3599) / 3600 : q.begin / 3600;
    const int64_t h1 = q.end >= 0 ? q.end / 3600 : (q.end - 3599) / 3600;
    if (rollup_dim(q) && h0 < h1) out[i] = aggregate_one(q);
    else scans[{q.begin, q.end, q.tokens_only, q.input_above, q.input_upto}].push_back(i);
  }
  for (const auto& [shape, members] : scans) {
    if (members.size() == 1) {
      out[members[0]] = aggregate_one(queries[members[0]]);
      continue;
    }
    std::vector<usage::AggResult> res = scan_together(queries, members);
    for (size_t k = 0; k < members.size(); ++k) {
      out[members[k]] = std::move(res[k]);
      if (queries[members[k]].meters) add_meters(queries[members[k]], out[members[k]]);
    }
  }
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
    std::vector<std::string> key;
    for (size_t j = 0; j < q.by.size(); ++j) {
      const usage::Dim d = q.by[j];
      if (!is_time(d)) key.emplace_back(f[1 + j]);
      else key.push_back(usage::time_label(d, to_i64(f[1 + j]) * (d == usage::Dim::hour ? 3600 : 86400)));
    }
    rb[k - 1].add(std::move(key), f[1 + width], t);
  }
  std::vector<usage::AggResult> out;
  for (auto& b : rb) out.push_back(b.finish());
  return out;
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

// ---- imports -------------------------------------------------------------------------------------

namespace {

class ClickHouseImport : public ingest::ImportTxn {
 public:
  ClickHouseImport(Client& client, const std::string& lock_path, const usage::CatalogInfo& catalog, util::Seconds now,
                   const ingest::LoggedImport* verbatim = nullptr, std::string origin = {})
      : m_client(client), m_catalog(catalog), m_now(util::format_rfc3339(now)), m_origin(std::move(origin)) {
    if (!lock_path.empty()) {
      m_lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (m_lock < 0 || ::flock(m_lock, LOCK_EX) != 0)
        throw DataError("cannot lock " + lock_path + " for an import: " + std::strerror(errno));
    }
    if (verbatim) m_verbatim = *verbatim;
    std::random_device rd;
    std::mt19937_64 gen((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(now));
    m_txn = (gen() >> 1) | 1;  // never 0
    m_buf.reserve(k_batch_bytes + (size_t(1) << 20));
  }

  ~ClickHouseImport() override {
    try {
      wait_sent();
    } catch (...) {
    }
    rollback();
    if (m_lock >= 0) ::close(m_lock);  // releases the lock
  }

  void rollback() {
    if (m_committed || !m_wrote) return;
    // Not committed: the rows were never visible; take them out (best effort, a mutation).
    const Config& c = m_client.config();
    for (size_t s = 0; s < c.shards.size(); ++s) {
      try {
        for (const char* table : {"usage", "usage_hourly"})
          m_client.query(std::string("ALTER TABLE ") + table + (c.cluster.empty() ? "" : "_local") + " DELETE WHERE txn = " +
                             std::to_string(m_txn),
                         s);
      } catch (...) {
      }
    }
  }

  void put(const usage::PricedRecord& pr) override {
    const usage::UsageRecord& r = *pr.record;
    if (r.timestamp < m_min) m_min = r.timestamp;
    if (r.timestamp > m_max) m_max = r.timestamp;
    const uint64_t seq = m_seq++;
    m_dups.add(r.id, seq);
    const money::i128 u = pr.cost.units();
    RowBinary w{m_buf};
    w.str(r.id);
    w.i64(r.timestamp);
    w.str(r.provider);
    w.str(r.model);
    w.str(r.organization);
    w.str(r.department);
    w.str(r.user);
    w.str(r.feature);
    w.str(r.project);
    w.str(r.session);
    w.i64(r.input_tokens);
    w.i64(r.cached_input_tokens);
    w.i64(r.cache_write_tokens);
    w.i64(r.cache_write_1h_tokens);
    w.i64(r.output_tokens);
    w.i64(r.requests);
    w.str(usage::tier_name(r.tier));
    w.str(usage::status_name(r.status));
    w.i64(int64_t(u / k_cost_micro));
    w.i64(int64_t(u % k_cost_micro));
    w.str(r.currency.name());
    w.i8(int8_t(pr.source));
    w.str(r.meter);
    if (r.is_meter()) w.str(r.quantity.to_string());
    else w.str({});
    w.str(r.unit);
    w.u64(m_txn);
    w.u64(m_sources.size());
    w.u64(m_txn);
    w.u64(seq);
    w.i8(1);
    add_to_rollup(pr, u);
    if (m_buf.size() >= k_batch_bytes) flush();
  }

  void log_source(const ingest::SourceStats& s) override {
    m_sources.push_back({s, m_min, m_max, m_seq, 0});
    m_min = INT64_MAX;
    m_max = INT64_MIN;
  }

  std::vector<uint64_t> source_replaced() const override {
    std::vector<uint64_t> out;
    for (const auto& s : m_sources) out.push_back(s.replaced);
    return out;
  }

  uint64_t remove_pulled(std::string_view, util::Seconds, util::Seconds, const std::vector<std::string>&) override {
    throw DataError("usage pull into a ClickHouse store is not supported yet: pull into the embedded store");
  }
  void put_pull_day(const providers::PullDay&) override {
    throw DataError("usage pull into a ClickHouse store is not supported yet: pull into the embedded store");
  }
  void set_pull_cursor(std::string_view, util::Seconds) override {
    throw DataError("usage pull into a ClickHouse store is not supported yet: pull into the embedded store");
  }

  void commit() override {
    flush();
    wait_sent();
    flush_rollup();
    const std::string t = std::to_string(m_txn);
    if (m_seq > 0) {
      step("replacing stored records");
      // Repeated ids within this import: every copy but the last is cancelled.
      std::vector<uint64_t> replacing;
      const std::vector<uint64_t> superseded = m_dups.superseded(&replacing);
      if (!superseded.empty()) {
        for (uint64_t seq : replacing) ++source_of(seq).replaced;
        cancel_own(superseded);
      }
      // Records of earlier imports with an id this import brings: their live versions are cancelled
      // (by rows of this transaction, so they go with it), and each counts as replaced by the
      // source where its id first appears here.
      // Ids are matched by two 64-bit hashes (fixed-size sets: a string set of a 10M import does not
      // fit a server's default memory limit); a version is live while no cancelling row names it.
      const std::string ids_here = "(cityHash64(id), sipHash64(id)) GLOBAL IN (SELECT cityHash64(id), sipHash64(id) FROM usage WHERE txn = " + t + " AND sign = 1)";
      m_client.query(std::string("INSERT INTO usage (") + k_insert_columns + ") SELECT " + k_record_columns + ", " + t +
                     ", 0, vtxn, vseq, toInt8(-1) FROM usage WHERE " + k_visible + " AND sign = 1 AND " + ids_here +
                     " AND (vtxn, vseq) GLOBAL NOT IN (SELECT vtxn, vseq FROM usage WHERE " + k_visible + " AND sign = -1 AND " +
                     ids_here + ")");
      // The cancelling rows leave the rollup too (summed on the server: they are already there).
      m_client.query("INSERT INTO usage_hourly " + rollup_select("usage", "txn = " + t + " AND sign = -1"));
      const std::string first = superseded.empty() ? "src" : "argMin(src, vseq)";
      const std::string counts = m_client.query(
          "SELECT s, count() FROM (SELECT " + first + " AS s FROM usage WHERE txn = " + t +
          " AND sign = 1 AND (cityHash64(id), sipHash64(id)) GLOBAL IN (SELECT cityHash64(id), sipHash64(id) FROM usage WHERE txn = " +
          t + " AND sign = -1 AND vtxn != " + t + ")" + (superseded.empty() ? "" : " GROUP BY cityHash64(id), sipHash64(id)") +
          ") GROUP BY s FORMAT TabSeparated");
      TsvReader rows(counts);
      std::vector<std::string_view> f;
      while (rows.next(f))
        if (f.size() == 2 && size_t(to_i64(f[0])) < m_sources.size()) m_sources[size_t(to_i64(f[0]))].replaced += uint64_t(to_i64(f[1]));
    }
    // The commit point: one INSERT of this transaction's import log rows.
    const int64_t first_id = m_client.scalar("SELECT max(id) FROM imports") + 1;
    std::string body;
    RowBinary w{body};
    auto row = [&](int64_t id, const Source* s) {
      w.u64(m_txn);
      w.i64(id);
      w.str(m_now);
      w.str(s ? std::string_view(s->stats.path) : std::string_view());
      w.str(s ? std::string_view(s->stats.read.digest) : std::string_view());
      w.str(s ? ingest::format_name(s->stats.read.format) : std::string_view());
      w.i64(s ? int64_t(s->stats.read.bytes) : 0);
      w.i64(s ? int64_t(s->stats.accepted) : 0);
      w.i64(s ? int64_t(s->stats.rejected) : 0);
      w.i64(s ? int64_t(s->replaced) : 0);
      w.i64(s ? int64_t(s->stats.unpriced) : 0);
      w.i64(s && s->min <= s->max ? s->min : 0);
      w.i64(s && s->min <= s->max ? s->max : -1);
      w.str(m_catalog.name);
      w.str(m_catalog.hash);
      w.str(m_catalog.as_of);
    };
    if (m_verbatim) {
      const ingest::LoggedImport& v = *m_verbatim;
      w.u64(m_txn);
      w.i64(v.log.id == 0 ? 0 : first_id);  // 0: records without a logged import (not listed)
      w.str(v.log.at);
      w.str(v.log.source);
      w.str(v.log.digest);
      w.str(v.log.format);
      w.i64(v.bytes);
      w.i64(v.log.accepted);
      w.i64(v.log.rejected);
      w.i64(v.log.replaced);
      w.i64(v.log.unpriced);
      w.i64(v.min_ts);
      w.i64(v.max_ts);
      w.str(m_catalog.name);
      w.str(m_catalog.hash);
      w.str(m_catalog.as_of);
      w.str(m_origin);
    } else {
      for (size_t i = 0; i < m_sources.size(); ++i) {
        row(first_id + int64_t(i), &m_sources[i]);
        w.str(m_origin);
      }
      if (m_sources.empty()) {
        row(0, nullptr);  // nothing to log, but the rows (if any) become visible
        w.str(m_origin);
      }
    }
    m_client.insert(
        "INSERT INTO imports (txn, id, at, source, digest, format, bytes, accepted, rejected, replaced, unpriced,"
        " min_ts, max_ts, catalog, catalog_hash, catalog_as_of, origin) FORMAT RowBinary",
        body);
    m_committed = true;
  }

 private:
  struct Source {
    ingest::SourceStats stats;
    util::Seconds min, max;
    uint64_t end_seq;  // one past its last record
    uint64_t replaced;
  };

  // Sends the batch on a helper thread while the next one is read (one in flight at a time; its
  // failure comes out of the next flush or the commit): over a cluster straight to a shard's
  // local table, the shards in turn.
  void flush() {
    if (m_buf.empty()) return;
    wait_sent();
    m_wrote = true;
    m_sending.swap(m_buf);
    m_buf.clear();
    const Config& c = m_client.config();
    const std::string sql = "INSERT INTO " + std::string(c.cluster.empty() ? "usage" : "usage_local") + " (" + k_insert_columns +
                            ") FORMAT RowBinary";
    const size_t shard = m_batches++ % c.shards.size();
    m_sent = std::async(std::launch::async, [this, sql, shard] { m_client.insert(sql, m_sending, shard); });
  }

  void wait_sent() {
    if (m_sent.valid()) m_sent.get();  // rethrows the send's error
  }

  // The rollup rows of the records put so far, summed per key in a flat open-addressed table and
  // written when it fills (and at commit). A key packs the dimension, meter flag, currency, value
  // (interned per dimension) and hour; when a field outgrows its bits the table is written first.
  struct RollSums {
    int64_t n[11];  // records, requests, error requests, 5 token classes, unpriced, cost micro, cost pico
    double f[6];    // requests and the token classes as floats (the overflow check)
  };
  static constexpr size_t k_roll_dims = 10;  // '*' and the nine text dimensions of the rollup
  static constexpr size_t k_max_roll = size_t(1) << 18;
  static constexpr int64_t k_hour_span = int64_t(1) << 29;

  void add_to_rollup(const usage::PricedRecord& pr, money::i128 cost) {
    const usage::UsageRecord& r = *pr.record;
    const int64_t hour = r.timestamp >= 0 ? r.timestamp / 3600 : (r.timestamp - 3599) / 3600;
    if (m_roll_n == 0) m_hour_base = hour;
    int32_t cur = m_currencies.id(r.currency.name());
    int32_t ids[k_roll_dims] = {};
    static constexpr usage::Dim dims[] = {usage::Dim::provider, usage::Dim::model,   usage::Dim::organization,
                                          usage::Dim::department, usage::Dim::user, usage::Dim::feature,
                                          usage::Dim::project,  usage::Dim::status,  usage::Dim::service_tier};
    bool fits = cur < 128 && hour - m_hour_base > -k_hour_span && hour - m_hour_base < k_hour_span;
    for (size_t d = 1; d < k_roll_dims && fits; ++d) {
      ids[d] = m_values[d].id(usage::dim_value(r, dims[d - 1]));
      fits = ids[d] < (1 << 22);
    }
    if (!fits) {  // start over with fresh ids and base
      flush_rollup();
      return add_to_rollup(pr, cost);
    }
    const int64_t t[11] = {1, r.requests, r.status == usage::Status::error ? r.requests : 0, r.input_tokens,
                           r.cached_input_tokens, r.cache_write_tokens, r.cache_write_1h_tokens, r.output_tokens,
                           pr.source == usage::CostSource::unpriced && !r.is_meter() ? 1 : 0, int64_t(cost / k_cost_micro),
                           int64_t(cost % k_cost_micro)};
    const double f[6] = {double(t[1]), double(t[3]), double(t[4]), double(t[5]), double(t[6]), double(t[7])};
    const uint64_t common = uint64_t(r.is_meter()) << 59 | uint64_t(cur) << 52 | uint64_t(hour - m_hour_base + k_hour_span);
    for (size_t d = 0; d < k_roll_dims; ++d) {
      RollSums& sums = roll_slot(uint64_t(d) << 60 | common | uint64_t(ids[d]) << 30);
      for (size_t i = 0; i < 11; ++i) sums.n[i] = int64_t(uint64_t(sums.n[i]) + uint64_t(t[i]));  // wraps as the server's sums do
      for (size_t i = 0; i < 6; ++i) sums.f[i] += f[i];
    }
    if (m_roll_n >= k_max_roll) flush_rollup();
  }

  RollSums& roll_slot(uint64_t key) {
    if (m_slots.empty()) {
      m_slots.assign(k_max_roll * 4, Slot{});
      m_sums.reserve(k_max_roll + k_roll_dims);
    }
    const size_t mask = m_slots.size() - 1;
    for (size_t i = size_t((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;; i = (i + 1) & mask) {
      Slot& s = m_slots[i];
      if (s.index == 0) {
        m_sums.push_back(RollSums{});
        s = Slot{key, uint32_t(m_sums.size())};
        ++m_roll_n;
        return m_sums.back();
      }
      if (s.key == key) return m_sums[s.index - 1];
    }
  }

  void flush_rollup() {
    if (m_roll_n == 0) return;
    static constexpr std::string_view names[k_roll_dims] = {"*",       "provider", "model",  "organization", "department",
                                                            "user",    "feature",  "project", "status",      "service_tier"};
    std::string body;
    body.reserve(m_roll_n * 180);
    RowBinary w{body};
    for (const Slot& s : m_slots) {
      if (s.index == 0) continue;
      const RollSums& v = m_sums[s.index - 1];
      const size_t d = size_t(s.key >> 60);
      w.str(names[d]);
      w.str(d == 0 ? std::string_view() : std::string_view(m_values[d].value(int32_t((s.key >> 30) & ((1u << 22) - 1)))));
      w.i64(int64_t(s.key & ((uint64_t(1) << 30) - 1)) - k_hour_span + m_hour_base);
      w.str(m_currencies.value(int32_t((s.key >> 52) & 127)));
      w.u64(m_txn);
      w.i8(int8_t((s.key >> 59) & 1));
      for (int64_t n : v.n) w.i64(n);
      for (double f : v.f) {
        char b[8];
        std::memcpy(b, &f, 8);
        body.append(b, 8);
      }
    }
    m_wrote = true;
    const Config& c = m_client.config();
    m_client.insert(std::string("INSERT INTO ") + (c.cluster.empty() ? "usage_hourly" : "usage_hourly_local") +
                        " (dim, value, hour, currency, txn, is_meter, records, r_requests, r_error_requests, r_input, r_cached,"
                        " r_write, r_write_1h, r_output, unpriced, r_cost_micro, r_cost_pico, f_requests, f_input, f_cached,"
                        " f_write, f_write_1h, f_output) FORMAT RowBinary",
                    body, m_batches++ % c.shards.size());
    std::fill(m_slots.begin(), m_slots.end(), Slot{});
    m_sums.clear();
    m_roll_n = 0;
    for (auto& v : m_values) v = util::Interner();
    m_currencies = util::Interner();
  }

  // The source that put record `seq` (records after the last logged source count for the next).
  Source& source_of(uint64_t seq) {
    for (auto& s : m_sources)
      if (seq < s.end_seq) return s;
    if (m_sources.empty() || m_sources.back().end_seq <= seq) m_sources.push_back({{}, INT64_MAX, INT64_MIN, UINT64_MAX, 0});
    return m_sources.back();
  }

  // Cancels this import's own earlier copies of repeated ids (positions listed in a temporary table).
  void cancel_own(const std::vector<uint64_t>& seqs) {
    const std::string t = std::to_string(m_txn), table = "billctl_superseded_" + t;
    m_client.query("CREATE TABLE IF NOT EXISTS " + table + " (vseq UInt64) ENGINE = Memory");
    try {
      std::string body;
      RowBinary w{body};
      for (uint64_t s : seqs) w.u64(s);
      m_client.insert("INSERT INTO " + table + " FORMAT RowBinary", body);
      m_client.query(std::string("INSERT INTO usage (") + k_insert_columns + ") SELECT " + k_record_columns + ", " + t +
                     ", src, vtxn, vseq, toInt8(-1) FROM usage WHERE txn = " + t + " AND sign = 1 AND vseq GLOBAL IN (SELECT vseq FROM " +
                     table + ")");
    } catch (...) {
      try {
        m_client.query("DROP TABLE IF EXISTS " + table);
      } catch (...) {
      }
      throw;
    }
    m_client.query("DROP TABLE IF EXISTS " + table);
  }

  Client& m_client;
  int m_lock = -1;
  usage::CatalogInfo m_catalog;
  std::string m_now;
  std::string m_origin;
  std::optional<ingest::LoggedImport> m_verbatim;
  uint64_t m_txn = 0;
  uint64_t m_seq = 0;
  size_t m_batches = 0;
  std::string m_buf;
  std::string m_sending;         // the batch on its way
  std::future<void> m_sent;
  bool m_wrote = false;
  bool m_committed = false;
  util::Seconds m_min = INT64_MAX, m_max = INT64_MIN;
  std::vector<Source> m_sources;
  DuplicateFinder m_dups;
  struct Slot {
    uint64_t key = 0;
    uint32_t index = 0;  // into m_sums, plus one; 0: free
  };
  std::vector<Slot> m_slots;
  std::vector<RollSums> m_sums;
  size_t m_roll_n = 0;
  int64_t m_hour_base = 0;
  util::Interner m_values[k_roll_dims], m_currencies;
};

}  // namespace

void ClickHouseUsage::copy_import(const ingest::LoggedImport& from, const std::string& origin,
                                  const std::function<void(ingest::RecordSink&)>& fill) {
  ensure_schema();
  ClickHouseImport txn(m_client, m_lock_path, from.catalog, 0, &from, origin);
  fill(txn);
  txn.commit();
}

std::vector<std::string> ClickHouseUsage::origins(const std::string& prefix) {
  ensure_schema();
  return m_client.column("SELECT DISTINCT origin FROM imports WHERE substring(origin, 1, " + std::to_string(prefix.size()) + ") = " + quote(prefix));
}

std::unique_ptr<ingest::ImportTxn> ClickHouseUsage::begin_import(const usage::CatalogInfo& catalog, util::Seconds now) {
  ensure_schema();
  return std::make_unique<ClickHouseImport>(m_client, m_lock_path, catalog, now);
}

}  // namespace billctl::store::ch
