#include "billctl/store/clickhouse/import.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <future>
#include <optional>
#include <random>

#include "billctl/store/clickhouse/schema.hpp"
#include "billctl/store/id_dedupe.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/intern.hpp"

namespace billctl::store::ch {

namespace {

constexpr size_t k_batch_bytes = size_t(32) << 20;  // an insert's body

// The table of `name` to write to: a shard's local table over a cluster.
std::string local(const Config& c, const std::string& name) { return c.cluster.empty() ? name : name + "_local"; }

class ClickHouseImport : public ingest::ImportTxn {
 public:
  ClickHouseImport(Client& client, const std::string& lock_path, ingest::ImportStore* state_store,
                   const usage::CatalogInfo& catalog, util::Seconds now, const ingest::LoggedImport* verbatim, std::string origin)
      : m_client(client), m_lock(lock_path, "an import"), m_state_store(state_store), m_catalog(catalog), m_now_s(now),
        m_now(util::format_rfc3339(now)), m_origin(std::move(origin)) {
    const int64_t wall = int64_t(::time(nullptr));
    collect_garbage(m_client, wall);
    m_combos = load_combos(m_client);
    if (m_combos.size() > 64) throw DataError("more rollup combos than an import can keep (" + std::to_string(m_combos.size()) + ")");
    m_values.resize(k_roll_dims + m_combos.size());
    if (verbatim) m_verbatim = *verbatim;
    std::random_device rd;
    std::mt19937_64 gen((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(now));
    m_txn = (gen() >> 1) | 1;  // never 0
    m_client.query("INSERT INTO pending VALUES (" + std::to_string(m_txn) + ", " + std::to_string(wall) + ")");
    m_buf.reserve(k_batch_bytes + (size_t(1) << 20));
  }

  ~ClickHouseImport() override {
    try {
      wait_sent();
    } catch (...) {
    }
    rollback();
  }

  void rollback() {
    if (m_committed || !m_wrote) return;
    // Not committed: the rows were never visible; take them out (best effort, a mutation).
    const Config& c = m_client.config();
    for (size_t s = 0; s < c.shards.size(); ++s) {
      try {
        for (const char* table : {"usage", "usage_hourly"})
          m_client.query("ALTER TABLE " + local(c, table) + " DELETE WHERE txn = " + std::to_string(m_txn), s);
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

  // Provider data: billed lines, pulled days and the cursor go to the embedded store, in one
  // transaction of its own committed right after this one.
  void put_billed(const providers::BilledLine& b) override { state().put_billed(b); }
  void put_pull_day(const providers::PullDay& d) override { state().put_pull_day(d); }
  void set_pull_cursor(std::string_view provider, util::Seconds until) override { state().set_pull_cursor(provider, until); }

  uint64_t remove_pulled(std::string_view provider, util::Seconds begin, util::Seconds end,
                         const std::vector<std::string>& keep) override {
    uint64_t gone = state().remove_pulled(provider, begin, end, keep);  // the billed lines
    // The live records of the earlier pull (ids "PROVIDER/...") of [begin, end) but those in
    // `keep` are cancelled by rows of this transaction; `keep` goes in a temporary table.
    const std::string t = std::to_string(m_txn), table = "billctl_keep_" + t;
    const std::string prefix = std::string(provider) + "/";
    const std::string pulled = "substring(id, 1, " + std::to_string(prefix.size()) + ") = " + quote(prefix) + " AND ts >= " +
                               std::to_string(begin) + " AND ts < " + std::to_string(end);
    const std::string cancels = "SELECT count() FROM usage WHERE txn = " + t + " AND sign = -1";
    int64_t before = 0, after = 0;
    with_temp_table(table, "id String", [&](const std::string& kept) {
      std::string body;
      RowBinary w{body};
      for (const auto& id : keep) w.str(id);
      if (!body.empty()) m_client.insert("INSERT INTO " + kept + " FORMAT RowBinary", body);
      m_wrote = true;
      before = m_client.scalar(cancels);
      m_client.query(std::string("INSERT INTO usage (") + k_insert_columns + ") SELECT " + k_record_columns + ", " + t +
                     ", 0, vtxn, vseq, toInt8(-1) FROM usage WHERE " + k_visible + " AND sign = 1 AND " + pulled +
                     " AND id GLOBAL NOT IN (SELECT id FROM " + kept + ") AND (vtxn, vseq) GLOBAL NOT IN (SELECT vtxn, vseq FROM usage WHERE " +
                     k_visible + " AND sign = -1 AND " + pulled + ")");
      after = m_client.scalar(cancels);
    });
    m_removed += uint64_t(after - before);
    return gone + uint64_t(after - before);
  }

  void commit() override {
    flush();
    wait_sent();
    flush_rollup();
    const std::string t = std::to_string(m_txn);
    bool cancelled = m_removed > 0;
    if (m_seq > 0) {
      step("replacing stored records");
      // Repeated ids within this import: every copy but the last is cancelled.
      std::vector<uint64_t> replacing;
      const std::vector<uint64_t> superseded = m_dups.superseded(&replacing);
      if (!superseded.empty()) {
        for (uint64_t seq : replacing) ++source_of(seq).replaced;
        cancel_own(superseded);
        cancelled = true;
      }
      // A store without visible records has nothing this import could replace (a first import).
      const bool stored = !m_client.column(std::string("SELECT txn FROM usage WHERE ") + k_visible + " LIMIT 1").empty();
      // Records of earlier imports with an id this import brings are replaced.
      if (stored) {
        cancelled = true;
        // This import's ids as two 64-bit hashes, computed once into a temporary table (fixed-size
        // sets: a string set of a 10M import does not fit a server's default memory limit).
        with_temp_table("billctl_ids_" + t, "h1 UInt64, h2 UInt64", [&](const std::string& ids) {
          m_client.query("INSERT INTO " + ids + " SELECT cityHash64(id), sipHash64(id) FROM usage PREWHERE txn = " + t +
                         " AND sign = 1");
          const std::string ids_here = "(cityHash64(id), sipHash64(id)) GLOBAL IN (SELECT h1, h2 FROM " + ids + ")";
          // Live versions of earlier imports with those ids (a version is live while no cancelling
          // row names it) are cancelled by rows of this transaction, so they go with it.
          m_client.query(std::string("INSERT INTO usage (") + k_insert_columns + ") SELECT " + k_record_columns + ", " + t +
                         ", 0, vtxn, vseq, toInt8(-1) FROM usage PREWHERE sign = 1 AND txn != " + t + " WHERE " + k_visible +
                         " AND " + ids_here + " AND (vtxn, vseq) GLOBAL NOT IN (SELECT vtxn, vseq FROM usage PREWHERE sign = -1 WHERE " +
                         k_visible + " AND " + ids_here + ")");
        });
        // Each replaced record counts for the source where its id first appears here: with one
        // source (and no pulled records taken out), every cancelling row of a stored version is one.
        if (m_sources.size() == 1 && superseded.empty() && m_removed == 0) {
          m_sources[0].replaced += uint64_t(m_client.scalar("SELECT count() FROM usage PREWHERE txn = " + t +
                                                            " AND sign = -1 AND vtxn != " + t));
        } else {
          const std::string first = superseded.empty() ? "src" : "argMin(src, vseq)";
          const std::string counts = m_client.query(
              "SELECT s, count() FROM (SELECT " + first + " AS s FROM usage WHERE txn = " + t +
              " AND sign = 1 AND (cityHash64(id), sipHash64(id)) GLOBAL IN (SELECT cityHash64(id), sipHash64(id) FROM usage WHERE txn = " +
              t + " AND sign = -1 AND vtxn != " + t + ")" + (superseded.empty() ? "" : " GROUP BY cityHash64(id), sipHash64(id)") +
              ") GROUP BY s FORMAT TabSeparated");
          TsvReader rows(counts);
          std::vector<std::string_view> f;
          while (rows.next(f)) {
            if (f.size() != 2) throw DataError("ClickHouse returned a row of " + std::to_string(f.size()) + " columns");
            const size_t source = size_t(to_number(f[0], "a source"));
            if (source < m_sources.size()) m_sources[source].replaced += uint64_t(to_number(f[1], "a count"));
          }
        }
      }
    }
    // The cancelling rows leave the rollup too (summed on the server: they are already there).
    if (cancelled)
      for (const auto& select : rollup_selects("usage", "txn = " + t + " AND sign = -1", m_combos))
        m_client.query("INSERT INTO usage_hourly " + select);
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
    // Then the provider data in the embedded store (billed lines, pulled days, cursor). Should
    // this fail, the records are in; the next pull of those days finds them and replaces them
    // (it takes out what the earlier pull stored by id), so nothing is counted twice.
    if (m_state) m_state->commit();
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
  // written when it fills (and at commit). A key packs the rollup (a dimension, '*' or a combo),
  // meter flag, currency, value (interned per rollup) and hour; when a field outgrows its bits the
  // table is written first.
  struct RollSums {
    int64_t n[11];  // records, requests, error requests, 5 token classes, unpriced, cost micro, cost pico
    double f[6];    // requests and the token classes as floats (the overflow check)
  };
  static constexpr size_t k_roll_dims = 10;  // '*' and the nine text dimensions of the rollup; combos follow
  static constexpr size_t k_max_roll = size_t(1) << 18;
  static constexpr int64_t k_hour_span = int64_t(1) << 23;  // hours either side of the first
  static constexpr int k_value_bits = 22, k_value_at = 24, k_currency_at = 46, k_meter_at = 53, k_roll_at = 54;

  void add_to_rollup(const usage::PricedRecord& pr, money::i128 cost) {
    const usage::UsageRecord& r = *pr.record;
    const int64_t hour = r.timestamp >= 0 ? r.timestamp / 3600 : (r.timestamp - 3599) / 3600;
    if (m_roll_n == 0) m_hour_base = hour;
    const int32_t cur = m_currencies.id(r.currency.name());
    static constexpr usage::Dim dims[] = {usage::Dim::provider, usage::Dim::model,   usage::Dim::organization,
                                          usage::Dim::department, usage::Dim::user, usage::Dim::feature,
                                          usage::Dim::project,  usage::Dim::status,  usage::Dim::service_tier};
    const size_t rolls = m_values.size();
    int32_t ids[k_roll_dims + 64] = {};
    bool fits = cur < 128 && hour - m_hour_base > -k_hour_span && hour - m_hour_base < k_hour_span;
    for (size_t d = 1; d < k_roll_dims && fits; ++d) {
      ids[d] = m_values[d].id(usage::dim_value(r, dims[d - 1]));
      fits = ids[d] < (1 << k_value_bits);
    }
    for (size_t c = 0; c < m_combos.size() && fits; ++c) {
      const Combo& combo = m_combos[c].combo;
      std::string_view parts[k_max_combo];
      for (size_t k = 0; k < combo.dims.size(); ++k) parts[k] = usage::dim_value(r, combo.dims[k]);
      combo_value(parts, combo.dims.size(), m_combo_buf);
      ids[k_roll_dims + c] = m_values[k_roll_dims + c].id(m_combo_buf);
      fits = ids[k_roll_dims + c] < (1 << k_value_bits);
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
    const uint64_t common = uint64_t(r.is_meter()) << k_meter_at | uint64_t(cur) << k_currency_at |
                            uint64_t(hour - m_hour_base + k_hour_span);
    for (size_t d = 0; d < rolls; ++d) {
      RollSums& sums = roll_slot(uint64_t(d) << k_roll_at | common | uint64_t(ids[d]) << k_value_at);
      for (size_t i = 0; i < 11; ++i) sums.n[i] = int64_t(uint64_t(sums.n[i]) + uint64_t(t[i]));  // wraps as the server's sums do
      for (size_t i = 0; i < 6; ++i) sums.f[i] += f[i];
    }
    if (m_roll_n + rolls >= k_max_roll) flush_rollup();
  }

  RollSums& roll_slot(uint64_t key) {
    if (m_slots.empty()) {
      m_slots.assign(k_max_roll * 4, Slot{});
      m_sums.reserve(k_max_roll);
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
    const uint64_t value_mask = (uint64_t(1) << k_value_bits) - 1;
    for (const Slot& s : m_slots) {
      if (s.index == 0) continue;
      const RollSums& v = m_sums[s.index - 1];
      const size_t d = size_t(s.key >> k_roll_at);
      w.str(d < k_roll_dims ? names[d] : std::string_view(m_combos[d - k_roll_dims].dim));
      w.str(d == 0 ? std::string_view() : std::string_view(m_values[d].value(int32_t((s.key >> k_value_at) & value_mask))));
      w.i64(int64_t(s.key & ((uint64_t(1) << k_value_at) - 1)) - k_hour_span + m_hour_base);
      w.str(m_currencies.value(int32_t((s.key >> k_currency_at) & 127)));
      w.u64(m_txn);
      w.i8(int8_t((s.key >> k_meter_at) & 1));
      for (int64_t n : v.n) w.i64(n);
      for (double f : v.f) {
        char b[8];
        std::memcpy(b, &f, 8);
        body.append(b, 8);
      }
    }
    m_wrote = true;
    const Config& c = m_client.config();
    m_client.insert("INSERT INTO " + local(c, "usage_hourly") +
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

  ingest::ImportTxn& state() {
    if (!m_state) {
      if (!m_state_store) throw DataError("provider data (billed lines, pulled days) needs the embedded state store");
      m_state = m_state_store->begin_import(m_catalog, m_now_s);
    }
    return *m_state;
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
    const std::string t = std::to_string(m_txn);
    with_temp_table("billctl_superseded_" + t, "vseq UInt64", [&](const std::string& table) {
      std::string body;
      RowBinary w{body};
      for (uint64_t s : seqs) w.u64(s);
      m_client.insert("INSERT INTO " + table + " FORMAT RowBinary", body);
      m_client.query(std::string("INSERT INTO usage (") + k_insert_columns + ") SELECT " + k_record_columns + ", " + t +
                     ", src, vtxn, vseq, toInt8(-1) FROM usage WHERE txn = " + t + " AND sign = 1 AND vseq GLOBAL IN (SELECT vseq FROM " +
                     table + ")");
    });
  }

  // Runs `fn` with a temporary Memory table of `columns` on the first server (sent to the others
  // by GLOBAL IN), dropped afterwards whatever happens.
  void with_temp_table(const std::string& name, const std::string& columns, const std::function<void(const std::string&)>& fn) {
    m_client.query("CREATE TABLE IF NOT EXISTS " + name + " (" + columns + ") ENGINE = Memory");
    try {
      fn(name);
    } catch (...) {
      try {
        m_client.query("DROP TABLE IF EXISTS " + name);
      } catch (...) {
      }
      throw;
    }
    m_client.query("DROP TABLE IF EXISTS " + name);
  }

  Client& m_client;
  WriterLock m_lock;
  ingest::ImportStore* m_state_store;
  std::unique_ptr<ingest::ImportTxn> m_state;  // provider data in the embedded store
  uint64_t m_removed = 0;                       // records of earlier pulls cancelled
  std::vector<RolledCombo> m_combos;
  std::string m_combo_buf;
  usage::CatalogInfo m_catalog;
  util::Seconds m_now_s;
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
  std::vector<util::Interner> m_values;  // per rollup: '*', the dimensions, then the combos
  util::Interner m_currencies;
};

}  // namespace

WriterLock::WriterLock(const std::string& path, const char* what) {
  if (path.empty()) return;
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0 || ::flock(m_fd, LOCK_EX) != 0) {
    const int e = errno;
    if (m_fd >= 0) ::close(m_fd);
    throw DataError("cannot lock " + path + " for " + what + ": " + std::strerror(e));
  }
}

WriterLock::~WriterLock() {
  if (m_fd >= 0) ::close(m_fd);  // releases the lock
}

void collect_garbage(Client& client, int64_t wall_now) {
  const Config& c = client.config();
  const std::vector<std::string> txns =
      client.column("SELECT txn FROM pending WHERE started < " + std::to_string(wall_now - k_garbage_age) +
                    " AND txn NOT IN (SELECT txn FROM imports)");
  if (txns.empty()) return;
  std::string list;
  for (const auto& t : txns) list += (list.empty() ? "" : ", ") + std::to_string(to_number(t, "a transaction"));
  for (size_t s = 0; s < c.shards.size(); ++s)
    for (const char* table : {"usage", "usage_hourly"})
      client.query("ALTER TABLE " + local(c, table) + " DELETE WHERE txn IN (" + list + ")", s);
  client.query("ALTER TABLE pending DELETE WHERE txn IN (" + list + ")");
}

std::unique_ptr<ingest::ImportTxn> begin_clickhouse_import(Client& client, const std::string& lock_path,
                                                           ingest::ImportStore* state, const usage::CatalogInfo& catalog,
                                                           util::Seconds now, const ingest::LoggedImport* verbatim,
                                                           std::string origin) {
  return std::make_unique<ClickHouseImport>(client, lock_path, state, catalog, now, verbatim, std::move(origin));
}

}  // namespace billctl::store::ch
