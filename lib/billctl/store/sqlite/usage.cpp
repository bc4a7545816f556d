// The usage table and its hourly rollup (usage_dim_hourly): imports write both in one
// transaction; aggregation answers from the rollup where it can and scans the records otherwise.
#include "billctl/store/sqlite/adapters.hpp"
#include "billctl/store/sqlite/rollup.hpp"
#include "billctl/store/sqlite/schema.hpp"

#include <algorithm>
#include <atomic>
#include <array>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include "billctl/util/simd.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::store {

namespace {

// An import into an empty store writes the database file once: under a rollback journal the pages
// new to the file are not journaled at all, where the WAL writes every page twice (into the log,
// then back at the checkpoint): 10M records in 85 s instead of 107 s. Only when no other connection
// has the store open (SQLite refuses the switch otherwise, at once); commands opened meanwhile
// wait for the import, as they wait for any writer without a WAL. Back to WAL when the import
// ends, committed or not (or, should that fail, at the next open).
class RollbackJournal {
 public:
  RollbackJournal(Db& db, bool empty_store) : m_db(db) {
    if (!empty_store) return;
    sqlite3_busy_timeout(db.handle(), 0);
    m_on = set_mode("DELETE") == "delete";
    sqlite3_busy_timeout(db.handle(), k_busy_ms);
  }
  ~RollbackJournal() {
    if (!m_on) return;
    for (int attempt = 0; attempt < 100 && set_mode("WAL") != "wal"; ++attempt) sqlite3_sleep(50);
  }
  RollbackJournal(const RollbackJournal&) = delete;
  RollbackJournal& operator=(const RollbackJournal&) = delete;

 private:
  // The journal mode after asking for `mode` ("" when SQLite refused).
  std::string set_mode(const char* mode) {
    sqlite3_stmt* s = nullptr;
    std::string now;
    const std::string sql = std::string("PRAGMA journal_mode = ") + mode;
    if (sqlite3_prepare_v2(m_db.handle(), sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      if (const unsigned char* t = sqlite3_column_text(s, 0)) now = reinterpret_cast<const char*>(t);
    sqlite3_finalize(s);
    return now;
  }
  Db& m_db;
  bool m_on = false;
};

bool usage_empty(Db& db) {
  Stmt any(db, "SELECT EXISTS(SELECT 1 FROM usage)");
  any.step();
  return any.int64(0) == 0;
}

// The connection set up for index builds while it lives (a 4 MB page cache, a sorter thread on
// two cores or more), then back to an import's 128 MB page cache and no sorter threads.
class SortSettings {
 public:
  explicit SortSettings(Db& db) : m_db(db) {
    m_db.exec("PRAGMA cache_size = -4096");
    if (std::thread::hardware_concurrency() >= 2) m_db.exec("PRAGMA threads = 2");
  }
  ~SortSettings() { sqlite3_exec(m_db.handle(), "PRAGMA threads = 0; PRAGMA cache_size = -131072", nullptr, nullptr, nullptr); }
  SortSettings(const SortSettings&) = delete;
  SortSettings& operator=(const SortSettings&) = delete;

 private:
  Db& m_db;
};

// A stored record as an import compares it with the record replacing it and takes it out of the
// rollups: the columns its rollup deltas come from (add_stored), then the rest, its rowid last
// (column k_stored_columns - 1).
const std::string k_stored_select = std::string("SELECT ") + k_rollup_source_columns +
                                    ", service_tier, status, cost_source, quantity, unit, session, rowid";
constexpr int k_stored_columns = k_rollup_source_column_count + 7;

class SqliteImport : public ingest::ImportTxn {
 public:
  SqliteImport(Db& db, const usage::CatalogInfo& catalog, util::Seconds now, size_t max_slots, size_t max_bulk_slots,
               uint64_t partial_rows)
      : m_db(db),
        m_journal(db, usage_empty(db)),
        m_txn(db),
        m_empty(usage_empty(db)),  // again, under the write lock: another import may have ended since
        m_insert(db,
                 "INSERT INTO usage(id, ts, provider, model, organization, department, user, feature, project,"
                 " input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests,"
                 " service_tier, status, cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, import_id, session)"
                 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26)"
                 " ON CONFLICT(id) DO NOTHING"),
        m_update(db,
                 "UPDATE usage SET ts=?2, provider=?3, model=?4, organization=?5, department=?6, user=?7, feature=?8,"
                 " project=?9, input_tokens=?10, cached_input_tokens=?11, cache_write_tokens=?12,"
                 " cache_write_1h_tokens=?13, output_tokens=?14, requests=?15, service_tier=?16, status=?17,"
                 " cost_micro=?18, cost_pico=?19, currency=?20, cost_source=?21, meter=?22, quantity=?23, unit=?24,"
                 " import_id=?25, session=?26 WHERE rowid=?27"),  // ?1 (the id) is bound, not set: the row has it
        m_now(util::format_rfc3339(now)),
        m_roll(registered_combos(db), true, true),
        m_max_slots(max_slots),
        m_max_bulk_slots(max_bulk_slots),
        m_max_partial_rows(partial_rows) {
    // A record adds at most 8 + 56 combos. Reserved now: ahead() may be adding on another thread
    // when put() starts loading.
    m_roll.reserve(m_empty ? std::min(max_bulk_slots, k_max_bulk_slots) + 128 : std::min(max_slots, k_max_slots) + 128);
    // Registered inside the import's transaction, so a rolled-back import leaves nothing behind.
    Stmt reg(db, "INSERT OR IGNORE INTO catalogs(hash, name, as_of) VALUES(?1, ?2, ?3)");
    reg.bind(1, catalog.hash).bind(2, catalog.name).bind(3, catalog.as_of);
    reg.step();
    Stmt id(db, "SELECT id FROM catalogs WHERE hash = ?1");
    id.bind(1, catalog.hash);
    id.step();
    m_catalog_id = id.int64(0);
    // The import id is allocated now so records can point at it; the row is completed in log_source.
    Stmt s(db, "SELECT COALESCE(MAX(id), 0) + 1 FROM imports");
    s.step();
    m_import_id = s.int64(0);
  }

  void put(const usage::PricedRecord& pr) override {
    const usage::UsageRecord& r = *pr.record;
    if (r.timestamp < m_min) m_min = r.timestamp;
    if (r.timestamp > m_max) m_max = r.timestamp;
    if (!m_decided) start_loading();
    if (m_bulk) {
      // Into an empty store: appended without indexes; finish_bulk() builds them and settles
      // repeated ids as the path below would have.
      bind_all(m_append, pr);
      m_append.step();
      m_append.rewind();
      m_last_rowid = m_db.last_rowid();
      if (!r.meter.empty() && ++m_partial_rows[0] == m_max_partial_rows) drop_index(2);
      if (!r.session.empty() && ++m_partial_rows[1] == m_max_partial_rows) drop_index(3);
      // ahead() added the records before the one it handed the rollups over at.
      if (!m_ahead || m_put >= m_ahead_upto.load(std::memory_order_acquire)) add_to_rollup(pr);
      ++m_put;
      return;
    }
    // A record whose id is stored replaces the stored one. A re-import meets the stored records in
    // the order they were stored: the row after the last one met is read first, by rowid, and is the
    // record when its id is the record's (ids are unique); that keeps the id index out of a re-import
    // of an export. After a wrong guess the next ones wait 1, 2, 4 ... 64 records (a file in another
    // order pays for few). Otherwise whether the insert or the lookup by id comes first follows the
    // record before: looking first touches the id index once a record instead of twice.
    Stmt* old = nullptr;  // stands on the stored record
    if (m_guess_wait > 0) {
      --m_guess_wait;
    } else if (m_next_rowid != 0) {
      m_at.bind(1, m_next_rowid);
      if (m_at.step() && m_at.text(k_stored_columns) == r.id) {
        old = &m_at;
        m_guess_backoff = 0;
      } else {
        m_at.reset();
        m_guess_backoff = std::min<unsigned>(std::max(1u, m_guess_backoff * 2), k_max_guess_backoff);
      }
      m_guess_wait = m_guess_backoff;
    }
    if (!old && m_expect_stored) {
      m_old.bind(1, r.id);
      if (m_old.step()) old = &m_old;
      else {
        m_old.reset();
        insert(pr);
      }
    } else if (!old && !insert(pr)) {
      m_old.bind(1, r.id);
      if (!m_old.step()) m_db.fail("record '" + std::string(r.id) + "' is stored and cannot be read");
      old = &m_old;
    }
    m_expect_stored = old != nullptr;
    if (old) {
      // A replacement: take the stored version out of the hourly rollup first. A record stored
      // exactly as it comes again (a re-import of the same export) is left as it is.
      ++m_replaced;
      const int64_t rowid = old->int64(k_stored_columns - 1);
      m_next_rowid = rowid + 1;
      if (same_as_stored(*old, pr)) {
        old->reset();
        return;
      }
      add_stored(m_roll, *old, true);
      old->reset();
      bind_all(m_update, pr);
      m_update.bind(27, rowid);
      m_update.step();
      m_update.rewind();
    }
    add_to_rollup(pr);
  }

  // Inserts a record unless its id is stored; whether it did.
  bool insert(const usage::PricedRecord& pr) {
    bind_all(m_insert, pr);
    m_insert.step();
    m_insert.rewind();
    return m_db.changes() != 0;
  }

  // Into an empty store, the rollup deltas need nothing of the store until they outgrow memory:
  // they are added here (on the reading thread of `usage import`) until then, and by put() after.
  void ahead(const usage::PricedRecord& pr) override {
    if (!m_empty || m_handed_over) return;
    if (!m_ahead) m_ahead = true;  // written once, before put() of the first record reads it
    if (m_roll.full(m_max_bulk_slots)) {
      m_handed_over = true;
      m_ahead_upto.store(m_ahead_count, std::memory_order_release);
      return;
    }
    roll(pr);
    ++m_ahead_count;
  }

  void log_source(const ingest::SourceStats& s) override {
    Stmt ins(m_db,
             "INSERT INTO imports(id, at, source, digest, format, bytes, rows_accepted, rows_rejected, rows_replaced,"
             " rows_unpriced, min_ts, max_ts, catalog_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    ins.bind(1, m_import_id).bind(2, m_now).bind(3, s.path).bind(4, s.read.digest).bind(5, ingest::format_name(s.read.format));
    ins.bind(6, int64_t(s.read.bytes)).bind(7, int64_t(s.accepted)).bind(8, int64_t(s.rejected));
    ins.bind(9, int64_t(m_replaced)).bind(10, int64_t(s.unpriced));
    if (m_min <= m_max) ins.bind(11, m_min).bind(12, m_max);
    else ins.bind_null(11).bind_null(12);
    ins.bind(13, m_catalog_id);
    ins.step();
    m_sources.push_back({m_import_id, m_last_rowid, m_replaced});
    ++m_import_id;
    m_replaced = 0;
    m_min = INT64_MAX;
    m_max = INT64_MIN;
  }

  void put_billed(const providers::BilledLine& b) override {
    Stmt& s = m_billed;
    const std::string amount = b.amount.to_string();
    s.bind(1, b.provider).bind(2, b.day).bind(3, b.key).bind(4, b.project).bind(5, b.model).bind(6, b.line_item);
    s.bind(7, b.token_type).bind(8, amount).bind(9, b.currency.name()).bind(10, m_import_id);
    s.step();
    s.reset();
  }

  uint64_t remove_pulled(std::string_view provider, util::Seconds begin, util::Seconds end,
                         const std::vector<std::string>& keep) override {
    if (m_bulk) finish_bulk();
    settle_rollups();  // the deletes' triggers update rollup rows, which must hold every delta
    m_db.exec("PRAGMA cache_size = -131072");
    const std::string p(provider);
    Stmt del_billed(m_db, "DELETE FROM billed_costs WHERE provider = ?1 AND day >= ?2 AND day < ?3");
    del_billed.bind(1, p).bind(2, begin).bind(3, end);
    del_billed.step();
    // Ids of a provider's records sort together ("openai/..."); '0' follows '/'.
    Stmt ids(m_db, "SELECT id FROM usage WHERE id >= ?1 AND id < ?2 AND ts >= ?3 AND ts < ?4");
    const std::string lo = p + "/", hi = p + "0";
    ids.bind(1, lo).bind(2, hi).bind(3, begin).bind(4, end);
    std::vector<std::string> gone;
    while (ids.step())
      if (!std::binary_search(keep.begin(), keep.end(), ids.text(0))) gone.emplace_back(ids.text(0));
    Stmt del(m_db, "DELETE FROM usage WHERE id = ?1");
    for (const auto& id : gone) {
      del.bind(1, id);
      del.step();
      del.reset();
    }
    return gone.size();
  }

  void put_pull_day(const providers::PullDay& d) override {
    Stmt s(m_db,
           "INSERT OR REPLACE INTO pull_days(provider, day, state, digest, records, billed_lines, pulled_at)"
           " VALUES(?1,?2,?3,?4,?5,?6,?7)");
    s.bind(1, d.provider).bind(2, d.day).bind(3, d.state).bind(4, d.digest).bind(5, d.records).bind(6, d.billed_lines);
    s.bind(7, m_now);
    s.step();
  }

  void set_pull_cursor(std::string_view provider, util::Seconds until) override {
    Stmt s(m_db, "INSERT OR REPLACE INTO pull_cursors(provider, until, pulled_at) VALUES(?1, ?2, ?3)");
    s.bind(1, provider).bind(2, until).bind(3, m_now);
    s.step();
  }

  std::vector<uint64_t> source_replaced() const override {
    std::vector<uint64_t> out;
    for (const auto& s : m_sources) out.push_back(s.replaced);
    return out;
  }
  void commit() override {
    if (m_bulk) finish_bulk();
    step("writing the rollups");
    settle_rollups();
    m_db.exec("PRAGMA cache_size = -131072");
    m_db.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'usage_version'");
    m_txn.commit();
  }

 private:
  // At the first record: an empty store takes the records without the id and time indexes
  // (appending is several times faster than inserting each id and time at a random place in an
  // index that outgrows the page cache); any other goes record by record. Appending needs few
  // pages in memory, so the page cache gives its room to the rollup slots: with up to
  // k_max_bulk_slots held, a month of records usually goes into the rollups in one flush, nothing
  // staged and merged again. The partial indexes (records with a meter, with a session) stay while
  // they are small: a B-tree insert for each such record costs less than building one afterwards,
  // which reads the whole table (1 s each at 10M records); each is dropped too once
  // m_max_partial_rows records need it (100,000).
  void start_loading() {
    m_decided = true;
    if (!m_empty) return;
    drop_index(0);
    drop_index(1);
    m_db.exec("PRAGMA cache_size = -16384");
    m_bulk = true;
  }

  void drop_index(size_t i) {
    m_db.exec(("DROP INDEX " + std::string(k_usage_index_names[i])).c_str());
    m_dropped[i] = true;
  }

  // Ends loading into an empty store: the rollups take every loaded record, repeated ids are
  // settled in load order as put() settles them (a record equal to the one before it is dropped,
  // any other replaces it; the dropped rows leave the rollups through the delete triggers), and
  // the indexes are built.
  void finish_bulk() {
    m_bulk = false;
    step("writing the rollups");
    settle_rollups();
    // An index build is a sort, and SQLite's sorter was fastest here with small in-memory runs
    // (the page cache's size: 4 MB) that a second thread sorts and merges too: at 10M records the
    // id index took 15.2 s with 64 MB and one thread, 4.6 s so (the time index 7.4 -> 4.0 s).
    SortSettings sorting(m_db);
    const std::vector<std::string> indexes = usage_indexes();
    const std::string of = " of " + std::to_string(std::count(m_dropped.begin(), m_dropped.end(), true));
    step("building index 1" + of);
    int rc = sqlite3_exec(m_db.handle(), indexes[0].c_str(), nullptr, nullptr, nullptr);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      step("settling repeated ids");
      m_db.exec("PRAGMA cache_size = -65536");  // the deletes' triggers update rollup rows anywhere
      settle_repeated_ids();
      m_db.exec("PRAGMA cache_size = -4096");
      rc = sqlite3_exec(m_db.handle(), indexes[0].c_str(), nullptr, nullptr, nullptr);
    }
    if (rc != SQLITE_OK) m_db.fail("cannot index the imported records");
    for (size_t i = 1, n = 1; i < indexes.size(); ++i) {
      if (!m_dropped[i]) continue;
      step("building index " + std::to_string(++n) + of);
      m_db.exec(indexes[i].c_str());
    }
    m_dropped = {};
    Stmt upd(m_db, "UPDATE imports SET rows_replaced = ?2 WHERE id = ?1");
    for (const auto& src : m_sources) {
      upd.bind(1, src.import_id).bind(2, int64_t(src.replaced));
      upd.step();
      upd.reset();
    }
  }

  // Repeated ids among the loaded records, each group in load order.
  void settle_repeated_ids() {
    Stmt rows(m_db,
              "SELECT rowid, id, * FROM usage WHERE id IN (SELECT id FROM usage GROUP BY id HAVING count(*) > 1)"
              " ORDER BY id, rowid");
    Stmt del(m_db, "DELETE FROM usage WHERE rowid = ?1");
    const int n = sqlite3_column_count(rows.handle());
    int import_col = -1;
    for (int c = 2; c < n; ++c)
      if (std::string_view(sqlite3_column_name(rows.handle(), c)) == "import_id") import_col = c;
    // The current holder of an id: its rowid and every column but the import's.
    std::string id;
    bool first = true;
    int64_t rowid = 0;
    std::vector<std::string> held, next;
    auto read = [&](std::vector<std::string>& out) {
      out.clear();
      for (int c = 2; c < n; ++c) {
        if (c == import_col) continue;
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(rows.handle(), c));
        out.emplace_back(1, char('0' + sqlite3_column_type(rows.handle(), c)));
        out.back().append(p ? p : "", size_t(sqlite3_column_bytes(rows.handle(), c)));
      }
    };
    std::vector<int64_t> gone;
    while (rows.step()) {
      if (first || rows.text(1) != id) {
        first = false;
        id = rows.text(1);
        rowid = rows.int64(0);
        read(held);
        continue;
      }
      const int64_t r = rows.int64(0);
      read(next);
      ++replaced_at(r);
      if (next == held) {
        gone.push_back(r);  // the same record again: the one held stays
      } else {
        gone.push_back(rowid);
        rowid = r;
        held.swap(next);
      }
    }
    rows.reset();
    for (int64_t r : gone) {
      del.bind(1, r);
      del.step();
      del.reset();
    }
  }

  // Every delta of the import into the rollup tables: those held in memory (straight into the
  // tables when nothing was staged: the deltas never outgrew memory) and those staged. The stage's
  // GROUP BY (and an index build after it) sorts in memory up to the page cache's size and merges
  // from temporary files beyond it: with the deltas' memory given back first, half the import's
  // cache keeps the peak where record-by-record imports are. The caller restores it.
  void settle_rollups() {
    m_roll.flush(m_db, m_staged);
    m_roll.release();
    m_db.exec("PRAGMA cache_size = -65536");
    if (!m_staged) return;
    RollupDeltas::merge_staged(m_db);
    m_staged = false;
  }

  // The replaced count of the source that loaded row `rowid` (one not yet logged: the current).
  uint64_t& replaced_at(int64_t rowid) {
    for (auto& src : m_sources)
      if (rowid <= src.last_rowid) return src.replaced;
    return m_replaced;
  }

  void add_to_rollup(const usage::PricedRecord& pr) {
    if (m_roll.full(m_bulk ? m_max_bulk_slots : m_max_slots)) {
      m_roll.flush(m_db, true, false);
      m_staged = true;
    }
    roll(pr);
  }

  void roll(const usage::PricedRecord& pr) {
    const usage::UsageRecord& r = *pr.record;
    const std::string_view values[k_rollup_dims] = {r.provider, usage::dim_value(r, usage::Dim::model), r.organization,
                                                    r.department, r.user, r.feature, r.project};
    m_roll.add(values, r.timestamp, r.currency.name(), r.is_meter(), usage::totals_of(pr));
  }

  // Does the stored row `o` stands on hold exactly this record?
  static bool same_as_stored(const Stmt& o, const usage::PricedRecord& pr) {
    const usage::UsageRecord& r = *pr.record;
    const money::i128 u = pr.cost.units();
    if (o.int64(1) != r.timestamp || o.int64(4) != r.requests || o.int64(6) != r.input_tokens ||
        o.int64(7) != r.cached_input_tokens || o.int64(8) != r.cache_write_tokens || o.int64(9) != r.cache_write_1h_tokens ||
        o.int64(10) != r.output_tokens || o.int64(12) != int64_t(u / k_cost_micro) || o.int64(13) != int64_t(u % k_cost_micro) ||
        o.int64(23) != int64_t(pr.source))
      return false;
    if (o.text(0) != r.user || o.text(2) != r.currency.name() || o.text(14) != r.provider || o.text(15) != r.model ||
        o.text(16) != r.organization || o.text(17) != r.department || o.text(18) != r.feature || o.text(19) != r.project ||
        o.text(20) != r.meter || o.text(21) != usage::tier_name(r.tier) || o.text(22) != usage::status_name(r.status) ||
        o.text(25) != r.unit || o.text(26) != r.session)
      return false;
    return !r.is_meter() ? o.text(24).empty() : o.text(24) == r.quantity.to_string();
  }

  void bind_all(Stmt& s, const usage::PricedRecord& pr) {
    const usage::UsageRecord& r = *pr.record;
    const money::i128 u = pr.cost.units();
    s.bind(1, r.id).bind(2, r.timestamp).bind(3, r.provider).bind(4, r.model).bind(5, r.organization);
    s.bind(6, r.department).bind(7, r.user).bind(8, r.feature).bind(9, r.project);
    s.bind(10, r.input_tokens).bind(11, r.cached_input_tokens).bind(12, r.cache_write_tokens);
    s.bind(13, r.cache_write_1h_tokens).bind(14, r.output_tokens).bind(15, r.requests);
    s.bind(16, usage::tier_name(r.tier)).bind(17, usage::status_name(r.status));
    s.bind(18, int64_t(u / k_cost_micro)).bind(19, int64_t(u % k_cost_micro));
    s.bind(20, r.currency.name()).bind(21, int64_t(pr.source));
    m_quantity = r.is_meter() ? r.quantity.to_string() : std::string();
    s.bind(22, r.meter).bind(23, m_quantity).bind(24, r.unit).bind(25, m_import_id).bind(26, r.session);
  }

  Db& m_db;
  RollbackJournal m_journal;  // before m_txn: back to WAL after the transaction ends
  Transaction m_txn;
  const bool m_empty;  // the store held no records when the import began (ahead() and put() agree on it)
  Stmt m_insert;
  Stmt m_update;
  Stmt m_old{m_db, (k_stored_select + " FROM usage WHERE id = ?1").c_str()};
  Stmt m_at{m_db, (k_stored_select + ", id FROM usage WHERE rowid = ?1").c_str()};
  Stmt m_append{m_db,
                "INSERT INTO usage(id, ts, provider, model, organization, department, user, feature, project,"
                " input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests,"
                " service_tier, status, cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, import_id, session)"
                " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26)"};
  Stmt m_billed{m_db,
                "INSERT OR REPLACE INTO billed_costs(provider, day, key, project, model, line_item, token_type, amount,"
                " currency, import_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"};
  std::string m_now;
  RollupDeltas m_roll;
  size_t m_max_slots, m_max_bulk_slots;
  bool m_staged = false;  // whether deltas wait in the stage for merge_staged()
  bool m_expect_stored = false;  // the record before replaced a stored one
  // The row after the stored record met last (0: none yet); the records to wait before guessing it
  // again, and how long the last wrong guess made that wait.
  int64_t m_next_rowid = 0;
  unsigned m_guess_wait = 0, m_guess_backoff = 0;
  static constexpr unsigned k_max_guess_backoff = 64;
  uint64_t m_max_partial_rows;
  std::array<bool, std::size(k_usage_index_names)> m_dropped{};  // while loading into an empty store
  uint64_t m_partial_rows[2] = {0, 0};  // loaded records with a meter, with a session
  // ahead(): whether it is called, whether it handed the rollups over to put(), the records it
  // added, and that count once handed over (the reading thread's until then).
  bool m_ahead = false, m_handed_over = false;
  uint64_t m_ahead_count = 0, m_put = 0;
  std::atomic<uint64_t> m_ahead_upto{UINT64_MAX};
  int64_t m_catalog_id = 0;
  std::string m_quantity;
  int64_t m_import_id = 0;
  uint64_t m_replaced = 0;
  // Each logged source: its import id, the last row it loaded into an empty store, what it replaced.
  struct LoggedSource {
    int64_t import_id;
    int64_t last_rowid;
    uint64_t replaced;
  };
  std::vector<LoggedSource> m_sources;
  bool m_decided = false;  // whether the first record chose how to load
  bool m_bulk = false;     // loading into an empty store, indexes dropped
  int64_t m_last_rowid = 0;
  util::Seconds m_min = INT64_MAX;
  util::Seconds m_max = INT64_MIN;
};

}  // namespace

std::unique_ptr<ingest::ImportTxn> SqliteUsage::begin_import(const usage::CatalogInfo& catalog, util::Seconds now) {
  // A large page cache keeps a big import's index pages in memory instead of spilling them to
  // the WAL and reading them back; it bounds memory at 128 MB whatever the import's size.
  m_db.exec("PRAGMA cache_size = -131072");
  return std::make_unique<SqliteImport>(m_db, catalog, now, m_max_slots, m_max_bulk_slots, m_partial_rows);
}

std::vector<ingest::ImportLogRow> SqliteUsage::import_log(size_t limit) {
  std::vector<ingest::ImportLogRow> out;
  Stmt s(m_db,
         "SELECT i.id, i.at, i.source, i.digest, i.format, i.rows_accepted, i.rows_rejected, i.rows_replaced,"
         " i.rows_unpriced, COALESCE(c.name || ' ' || substr(c.hash, 1, 12), '') FROM imports i"
         " LEFT JOIN catalogs c ON c.id = i.catalog_id ORDER BY i.id DESC LIMIT ?1");
  s.bind(1, int64_t(limit));
  while (s.step()) {
    ingest::ImportLogRow r;
    r.id = s.int64(0);
    r.at = s.text(1);
    r.source = s.text(2);
    r.digest = s.text(3);
    r.format = s.text(4);
    r.accepted = s.int64(5);
    r.rejected = s.int64(6);
    r.replaced = s.int64(7);
    r.unpriced = s.int64(8);
    r.catalog = s.text(9);
    out.push_back(std::move(r));
  }
  return out;
}

// One scan of the rows in the union of the queries' ranges, streamed into the in-memory
// aggregator: one pass serves every query (SQLite's GROUP BY would scan and sort once per query).
namespace {

bool is_time(usage::Dim d) {
  return d == usage::Dim::day || d == usage::Dim::week || d == usage::Dim::month || d == usage::Dim::hour;
}

// Which rollup answers a query, if any.
struct RollupPlan {
  bool ok = false;
  std::optional<Combo> combo;  // a pair of dimensions (else one dimension, or all usage)
  std::optional<usage::Dim> presence;  // usage_user_monthly of this department or feature
};

// The month (year * 12 + month - 1) that starts at `t`, if a UTC month starts at `t`.
std::optional<int64_t> month_index(util::Seconds t) {
  if (t % 86400 != 0 || util::civil_from_days(util::day_of(t)).day != 1) return {};
  return util::month_of_day(util::day_of(t));
}

// Can usage_user_monthly answer a query? Who has token records under which department (or feature),
// counted only, over whole UTC months, filtered on that dimension, organization or user.
std::optional<usage::Dim> plan_presence(const usage::AggQuery& q) {
  if (!q.records_only || !q.tokens_only || q.meters || q.input_above > 0 || q.input_upto > 0 || q.by.size() != 2) return {};
  if (!month_index(q.begin) || !month_index(q.end) || q.begin >= q.end) return {};
  const usage::Dim d = q.by[0] == usage::Dim::user ? q.by[1] : q.by[1] == usage::Dim::user ? q.by[0] : usage::Dim::user;
  if (std::find(std::begin(k_presence_dims), std::end(k_presence_dims), d) == std::end(k_presence_dims)) return {};
  for (const auto& f : q.where)
    if (f.dim != d && f.dim != usage::Dim::organization && f.dim != usage::Dim::user) return {};
  return d;
}

// Can an hourly rollup answer a query? Totals or groups by one time bucket, of all usage, of values
// of one rolled-up dimension, or of values of two (a registered pair); groups by one rolled-up
// dimension, or by a registered pair, of some of their values. Meter quantities come from the meter
// records (a partial index keeps them apart).
RollupPlan plan_rollup(const usage::AggQuery& q, const std::vector<Combo>& combos) {
  if (q.where.size() > k_max_combo || q.by.size() > k_max_combo) return {};
  if (q.input_above > 0 || q.input_upto > 0) return {};  // per-request sizes are not in the rollups
  for (const auto& f : q.where)
    if (!is_rolled(f.dim)) return {};
  const bool by_time = q.by.size() == 1 && is_time(q.by[0]);
  // One dimension and a time bucket (a forecast's per-key daily series).
  const bool by_value_time = q.by.size() == 2 && !is_time(q.by[0]) && is_time(q.by[1]);
  std::vector<usage::Dim> dims;  // the dimensions the rollup must be keyed by
  for (const auto& f : q.where)
    if (std::find(dims.begin(), dims.end(), f.dim) != dims.end()) return {};
    else dims.push_back(f.dim);
  if (by_value_time) {
    if (!is_rolled(q.by[0])) return {};
    if (std::find(dims.begin(), dims.end(), q.by[0]) == dims.end()) dims.push_back(q.by[0]);
  } else if (!by_time) {
    for (usage::Dim d : q.by) {
      if (!is_rolled(d)) return {};
      if (std::find(dims.begin(), dims.end(), d) == dims.end()) dims.push_back(d);
    }
    for (size_t i = 0; i < q.by.size(); ++i)
      for (size_t j = i + 1; j < q.by.size(); ++j)
        if (q.by[i] == q.by[j]) return {};
  }
  if (dims.size() <= 1) return {true, std::nullopt, std::nullopt};
  const auto c = combo_of(dims);
  for (const auto& r : combos)
    if (c && r.name == c->name) return {true, c, std::nullopt};
  return {};
}

// The SQL expression of a dimension's value in the usage table.
std::string dim_column(usage::Dim d) {
  if (d == usage::Dim::model) return "CASE WHEN model = '' THEN meter ELSE model END";
  std::string c(1, '"');
  c += usage::dim_name(d);
  c += '"';
  return c;
}


}  // namespace

// Whole hours [h0, h1) of a query from usage_dim_hourly or usage_combo_hourly (meters from the
// meter records).
usage::AggResult SqliteUsage::rollup_hours(const usage::AggQuery& q, int64_t h0, int64_t h1, const std::optional<Combo>& combo) {
  const bool by_time = !q.by.empty() && is_time(q.by[0]);
  const bool by_value_time = q.by.size() == 2 && is_time(q.by[1]);  // a dimension, then a time bucket
  const bool by_value = !q.by.empty() && !by_time && !by_value_time;
  std::string sql =
      "SELECT currency, SUM(records), SUM(requests), SUM(error_requests), SUM(input_tokens), SUM(cached_input_tokens),"
      " SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(unpriced_records),"
      " SUM(cost_micro), SUM(cost_pico)";
  // Days, weeks and months are unions of UTC days: SQLite sums the hours of a day into one row.
  const usage::Dim time_dim = by_time ? q.by[0] : by_value_time ? q.by[1] : usage::Dim::hour;
  const std::string hour = time_dim == usage::Dim::hour ? "hour" : "(hour - ((hour % 24) + 24) % 24)";
  sql += combo ? (by_time || by_value_time ? ", value, " + hour : ", value") : by_value_time ? ", value, " + hour
         : by_value ? ", value" : by_time ? ", " + hour : "";
  sql += combo ? " FROM usage_combo_hourly WHERE combo = ?1" : " FROM usage_dim_hourly WHERE dim = ?1";
  sql += " AND hour >= ?2 AND hour < ?3 AND records != 0";
  if (q.tokens_only) sql += " AND metered = 0";
  std::string key;
  std::vector<std::string> values;  // the values the rollup rows must have (none: filtered below)
  if (combo) {
    key = combo->name;
    // Every dimension filtered: the combo values to read, the product of the filters' values.
    values = combo_values(*combo, q.where);
  } else if (by_value || by_value_time) {
    key = usage::dim_name(q.by[0]);
    if (!q.where.empty()) values = q.where[0].values;
  } else {
    key = q.where.empty() ? std::string("*") : std::string(usage::dim_name(q.where[0].dim));
    values = q.where.empty() ? std::vector<std::string>{""} : q.where[0].values;
  }
  if (!values.empty()) sql += " AND value" + in_list(4, values.size());
  // With a combo the rows are grouped by value (and hour) and filtered and keyed below.
  sql += combo || by_value_time ? (by_time || by_value_time ? " GROUP BY value, " + hour + ", currency" : " GROUP BY value, currency")
         : by_value ? " GROUP BY value, currency" : by_time ? " GROUP BY " + hour + ", currency" : " GROUP BY currency";
  Stmt s(m_db, sql.c_str());
  s.bind(1, key).bind(2, h0).bind(3, h1);
  for (size_t i = 0; i < values.size(); ++i) s.bind(int(4 + i), values[i]);
  usage::ResultBuilder rb;
  auto step = [&] {
    try {
      return s.step();
    } catch (const DataError&) {
      // SUM() refuses to wrap: the same error a scan gives.
      if (sqlite3_errcode(m_db.handle()) == SQLITE_ERROR && std::string_view(sqlite3_errmsg(m_db.handle())) == "integer overflow")
        usage::count_overflow();
      throw;
    }
  };
  while (step()) {
    if (s.is_null(1)) continue;
    const usage::Totals t = totals_at(s, 1);
    if (t.records == 0) continue;
    if (combo) {
      std::string_view parts[k_max_combo];
      const size_t n = combo->dims.size();
      if (!split_combo_value(s.text(12), n, parts))
        throw DataError("store '" + m_db.path() + "': malformed rollup value '" + std::string(s.text(12)) + "' of " + combo->name);
      bool keep = true;
      for (size_t k = 0; k < n && keep; ++k) keep = filter_passes(q.where, combo->dims[k], parts[k]);
      if (!keep) continue;
      std::vector<std::string> keys;
      if (by_time) keys.push_back(usage::time_label(q.by[0], s.int64(13) * 3600));
      else if (by_value_time) keys = {std::string(parts[combo->position(q.by[0])]), usage::time_label(q.by[1], s.int64(13) * 3600)};
      else
        for (usage::Dim d : q.by) keys.emplace_back(parts[combo->position(d)]);
      rb.add(std::move(keys), s.text(0), t);
    } else if (by_value_time) {
      rb.add({std::string(s.text(12)), usage::time_label(q.by[1], s.int64(13) * 3600)}, s.text(0), t);
    } else if (by_value) {
      rb.add({std::string(s.text(12))}, s.text(0), t);
    } else if (by_time) {
      rb.add({usage::time_label(q.by[0], s.int64(12) * 3600)}, s.text(0), t);
    } else {
      rb.add({}, s.text(0), t);
    }
  }
  usage::AggResult res = rb.finish();
  if (q.meters) {
    // The meter records of those hours, through their partial index.
    std::string m = "SELECT ts, organization, department, user, feature, project, meter, quantity, unit FROM usage"
                    " INDEXED BY usage_meter_ts WHERE meter != '' AND ts >= ?1 AND ts < ?2";
    size_t next = 3;
    for (const auto& f : q.where) {
      m += " AND " + dim_column(f.dim) + in_list(next, f.values.size());
      next += f.values.size();
    }
    Stmt ms(m_db, m.c_str());
    ms.bind(1, h0 * 3600).bind(2, h1 * 3600);
    int param = 3;
    for (const auto& f : q.where)
      for (const auto& v : f.values) ms.bind(param++, v);
    usage::UsageRecord r;
    while (ms.step()) {
      r.timestamp = ms.int64(0);
      r.organization = ms.text(1);
      r.department = ms.text(2);
      r.user = ms.text(3);
      r.feature = ms.text(4);
      r.project = ms.text(5);
      r.meter = ms.text(6);
      r.quantity = money::Decimal::parse(ms.text(7)).value_or_throw("stored quantity of a '" + std::string(r.meter) + "' record");
      r.unit = ms.text(8);
      res.meters.add(r);
    }
  }
  return res;
}

// A query from the rollup: whole hours from usage_dim_hourly or usage_combo_hourly, the partial
// hours at the edges from the records of those minutes (through the ts index).
usage::AggResult SqliteUsage::from_rollup(const usage::AggQuery& q, const std::optional<Combo>& combo) {
  const int64_t h0 = q.begin >= 0 ? (q.begin + 3599) / 3600 : q.begin / 3600;
  const int64_t h1 = q.end >= 0 ? q.end / 3600 : (q.end - 3599) / 3600;
  if (h0 >= h1) return scan_all({q})[0];
  std::vector<std::vector<usage::AggResult>> parts;
  parts.push_back({rollup_hours(q, h0, h1, combo)});
  for (const auto& [a, b] : {std::pair(q.begin, h0 * 3600), std::pair(h1 * 3600, q.end)}) {
    if (a >= b) continue;
    usage::AggQuery edge = q;
    edge.begin = a;
    edge.end = b;
    parts.push_back(scan_all({edge}));
  }
  return usage::merge_results(std::move(parts))[0];
}

bool scan_whole_table(Db& db, util::Seconds begin, util::Seconds end) {
  // Two subqueries: SQLite reads one end of the index for a lone min() or max(), but scans it for both.
  Stmt span(db, "SELECT (SELECT min(ts) FROM usage), (SELECT max(ts) FROM usage)");
  if (!span.step() || span.is_null(0)) return false;
  const util::Seconds lo = std::max(begin, span.int64(0)), hi = std::min(end, span.int64(1) + 1);
  const util::Seconds stored = span.int64(1) - span.int64(0) + 1;
  return !(hi > lo && (hi - lo) * 8 < stored);
}

// Who has token records under each value of `dim` (department or feature), from usage_user_monthly:
// groups of (value, user) in the query's order, with their record counts only.
usage::AggResult SqliteUsage::from_presence(const usage::AggQuery& q, usage::Dim dim) {
  std::string sql = "SELECT value, user, SUM(records) FROM usage_user_monthly WHERE dim = ?1 AND month >= ?2 AND month < ?3";
  int next = 4;
  for (const auto& f : q.where) {
    sql += " AND " + std::string(f.dim == dim ? "value" : usage::dim_name(f.dim)) + in_list(next, f.values.size());
    next += int(f.values.size());
  }
  sql += " GROUP BY value, user HAVING SUM(records) != 0";
  Stmt s(m_db, sql.c_str());
  s.bind(1, usage::dim_name(dim)).bind(2, *month_index(q.begin)).bind(3, *month_index(q.end));
  int param = 4;
  for (const auto& f : q.where)
    for (const auto& v : f.values) s.bind(param++, v);
  const bool user_first = q.by[0] == usage::Dim::user;
  usage::ResultBuilder rb;
  while (s.step()) {
    usage::Totals t;
    t.records = s.int64(2);
    std::string value(s.text(0)), user(s.text(1));
    rb.add(user_first ? std::vector<std::string>{std::move(user), std::move(value)} : std::vector<std::string>{std::move(value), std::move(user)},
           "", t);
  }
  return rb.finish();
}

std::vector<usage::AggResult> SqliteUsage::aggregate(const std::vector<usage::AggQuery>& queries) {
  if (queries.empty()) return {};
  // Reports, summaries, budgets, quotas and invoices over all usage or one or two scopes come from
  // the hourly rollups; one scan of the records serves all the other queries.
  const std::vector<Combo> combos = registered_combos(m_db);
  // A query by a time bucket and then a dimension (the report's days by department) is answered
  // as the same query by the dimension and then the bucket, each group's keys swapped back.
  auto time_first = [](const usage::AggQuery& q) { return q.by.size() == 2 && is_time(q.by[0]) && !is_time(q.by[1]); };
  std::vector<usage::AggQuery> planned = queries;
  for (auto& q : planned)
    if (time_first(q)) std::swap(q.by[0], q.by[1]);
  std::vector<RollupPlan> plans;
  for (const auto& q : planned) {
    plans.push_back(m_use_rollups ? plan_rollup(q, combos) : RollupPlan{});
    if (!plans.back().ok && m_use_rollups)
      if (auto d = plan_presence(q)) plans.back() = RollupPlan{true, std::nullopt, d};
  }
  std::vector<usage::AggQuery> rest;  // one scan for the queries no rollup answers
  for (size_t i = 0; i < queries.size(); ++i)
    if (!plans[i].ok) rest.push_back(queries[i]);
  std::vector<usage::AggResult> scanned = rest.empty() ? std::vector<usage::AggResult>{} : scan_all(rest);
  std::vector<usage::AggResult> out;
  size_t next = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!plans[i].ok) {
      out.push_back(std::move(scanned[next++]));
      continue;
    }
    out.push_back(plans[i].presence ? from_presence(planned[i], *plans[i].presence) : from_rollup(planned[i], plans[i].combo));
    if (time_first(queries[i])) {
      auto& groups = out.back().groups;
      for (auto& g : groups) std::swap(g.keys[0], g.keys[1]);
      std::sort(groups.begin(), groups.end(), [](const usage::Group& a, const usage::Group& b) { return a.keys < b.keys; });
    }
  }
  return out;
}

namespace {

// The text field of a record that holds a dimension; nullptr for the others (status and service
// tier are read into enums, time buckets from the time).
std::string_view* record_field(usage::UsageRecord& r, usage::Dim d) {
  switch (d) {
    case usage::Dim::provider: return &r.provider;
    case usage::Dim::model: return &r.model;
    case usage::Dim::organization: return &r.organization;
    case usage::Dim::department: return &r.department;
    case usage::Dim::user: return &r.user;
    case usage::Dim::feature: return &r.feature;
    case usage::Dim::project: return &r.project;
    case usage::Dim::session: return &r.session;
    default: return nullptr;
  }
}

}  // namespace

// The columns a scan reads: a record's time and meter, the dimensions the queries group or filter
// by, and the totals' columns unless every query only counts records (the report's active users);
// meter quantities when a query wants them. A record's other fields stay empty: no query reads
// them. (Reading 21 columns where 16 are needed cost a fifth of a scan.)
SqliteUsage::ScanColumns SqliteUsage::scan_columns(const std::vector<usage::AggQuery>& queries) {
  ScanColumns c;
  usage::UsageRecord probe;  // record_field() tells which dimensions a record field holds
  auto need = [&](usage::Dim d) {
    if (d == usage::Dim::status) c.status = true;
    else if (d == usage::Dim::service_tier) c.tier = true;
    else if (record_field(probe, d) && std::find(c.texts.begin(), c.texts.end(), d) == c.texts.end()) c.texts.push_back(d);
  };
  for (const auto& q : queries) {
    if (!q.records_only || q.input_above > 0 || q.input_upto > 0) c.totals = true;
    if (q.meters) {
      // Meter totals are kept per organization, storage levels per attribution.
      c.meters = true;
      for (usage::Dim d : {usage::Dim::organization, usage::Dim::department, usage::Dim::user, usage::Dim::feature,
                           usage::Dim::project})
        need(d);
    }
    for (usage::Dim d : q.by) need(d);
    for (const auto& f : q.where) need(f.dim);
  }
  // A query by model groups meter records by their meter: the meter is always read.
  c.sql = "ts, meter";
  for (usage::Dim d : c.texts) c.sql.append(", \"").append(usage::dim_name(d)).append("\"");
  if (c.tier) c.sql += ", service_tier";
  if (c.totals)
    c.sql += ", input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, status,"
             " cost_micro, cost_pico, currency, cost_source";
  else if (c.status)
    c.sql += ", status";
  if (c.meters) c.sql += ", quantity, unit";
  return c;
}

std::vector<usage::AggResult> SqliteUsage::scan_all(const std::vector<usage::AggQuery>& queries) {
  util::Seconds begin = queries[0].begin, end = queries[0].end;
  for (const auto& q : queries) {
    begin = std::min(begin, q.begin);
    end = std::max(end, q.end);
  }
  // A dimension every query filters on is pushed into SQL, so SQLite hands fewer rows over.
  std::optional<usage::Filter> shared;
  for (const auto& f : queries[0].where) {
    bool everywhere = true;
    usage::Filter u{f.dim, {}};
    for (const auto& q : queries) {
      auto it = std::find_if(q.where.begin(), q.where.end(), [&](const usage::Filter& g) { return g.dim == f.dim; });
      if (it == q.where.end()) {
        everywhere = false;
        break;
      }
      for (const auto& v : it->values)
        if (std::find(u.values.begin(), u.values.end(), v) == u.values.end()) u.values.push_back(v);
    }
    if (everywhere && !shared) shared = u;
  }
  const bool use_index = !scan_whole_table(m_db, begin, end);
  const ScanColumns cols = scan_columns(queries);
  std::string sql = "SELECT " + cols.sql;
  sql += " FROM usage";
  sql += use_index ? " WHERE ts >= ?1 AND ts < ?2" : " NOT INDEXED WHERE ts >= ?1 AND ts < ?2";
  if (shared) {
    sql += " AND " + dim_column(shared->dim) + in_list(3, shared->values.size());
  }
  // A large sequential scan is split into two rowid ranges read by two connections at once
  // (WAL readers do not block each other); the halves' results are merged.
  int64_t max_rowid = 0;
  if (!use_index && m_scan_threads > 1) {
    Stmt mr(m_db, "SELECT COALESCE(MAX(rowid), 0) FROM usage");
    mr.step();
    max_rowid = mr.int64(0);
  }
  if (max_rowid < m_parallel_min_rows) return {scan(m_db, sql, begin, end, shared, 0, INT64_MAX, queries, cols)};
  const int64_t mid = max_rowid / 2;
  sql += " AND rowid > ?" + std::to_string(shared ? shared->values.size() + 3 : 3) + " AND rowid <= ?" +
         std::to_string(shared ? shared->values.size() + 4 : 4);
  std::vector<usage::AggResult> second;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      Db other(m_db.path());
      sqlite3_busy_timeout(other.handle(), k_busy_ms);
      second = scan(other, sql, begin, end, shared, mid, max_rowid, queries, cols);
    } catch (...) {
      error = std::current_exception();
    }
  });
  std::vector<usage::AggResult> first;
  try {
    first = scan(m_db, sql, begin, end, shared, 0, mid, queries, cols);
  } catch (...) {
    worker.join();
    throw;
  }
  worker.join();
  if (error) std::rethrow_exception(error);
  return usage::merge_results({std::move(first), std::move(second)});
}

std::vector<usage::AggResult> SqliteUsage::scan(Db& db, const std::string& sql, util::Seconds begin, util::Seconds end,
                                                const std::optional<usage::Filter>& shared, int64_t rowid_after,
                                                int64_t rowid_upto, const std::vector<usage::AggQuery>& queries,
                                                const ScanColumns& cols) {
  usage::Aggregator agg(queries);
  Stmt s(db, sql.c_str());
  s.bind(1, begin).bind(2, end);
  int param = 3;
  if (shared)
    for (const auto& v : shared->values) s.bind(param++, v);
  if (rowid_after > 0 || rowid_upto != INT64_MAX) s.bind(param, rowid_after).bind(param + 1, rowid_upto);
  std::string code;
  money::Currency currency;
  usage::UsageRecord r;
  usage::PricedRecord pr;
  pr.record = &r;
  std::vector<std::string_view*> fields;
  for (usage::Dim d : cols.texts) fields.push_back(record_field(r, d));
  const int tier_col = cols.tier ? 2 + int(fields.size()) : -1;
  const int at = 2 + int(fields.size()) + (cols.tier ? 1 : 0);  // the totals' columns, or the status
  const int status_col = cols.totals ? at + 6 : cols.status ? at : -1;
  const int quantity_col = at + (cols.totals ? 11 : cols.status ? 1 : 0);
  // Records-only queries read no totals: each record counts as one unpriced record.
  r.requests = 0;
  pr.source = usage::CostSource::unpriced;
  while (s.step()) {
    r.timestamp = s.int64(0);
    r.meter = s.text(1);
    for (size_t i = 0; i < fields.size(); ++i) *fields[i] = s.text(int(i) + 2);
    if (tier_col > 0) usage::parse_tier(s.text(tier_col), r.tier);
    if (cols.totals) {
      read_counts(s, at, r);
      read_cost(s, at + 7, r, pr, code, currency);
    }
    if (status_col > 0) r.status = stored_status(s.text(status_col));
    if (cols.meters && !r.meter.empty()) {
      r.quantity = money::Decimal::parse(s.text(quantity_col)).value_or_throw("stored quantity of a '" + std::string(r.meter) + "' record");
      r.unit = s.text(quantity_col + 1);
    }
    agg.add(pr);
  }
  return agg.results();
}

bool SqliteUsage::may_have_sessions(util::Seconds begin, util::Seconds end) {
  // The partial index usage_session_ts holds only records with a session.
  Stmt s(m_db, "SELECT EXISTS(SELECT 1 FROM usage WHERE session != '' AND ts >= ?1 AND ts < ?2)");
  s.bind(1, begin).bind(2, end);
  s.step();
  return s.int64(0) != 0;
}

std::vector<usage::CatalogInfo> SqliteUsage::catalogs_used(util::Seconds begin, util::Seconds end) {
  std::vector<usage::CatalogInfo> out;
  Stmt s(m_db,
         "SELECT c.name, c.hash, c.as_of FROM catalogs c WHERE c.id IN (SELECT catalog_id FROM imports"
         " WHERE rows_accepted > 0 AND min_ts < ?2 AND max_ts >= ?1) ORDER BY c.id DESC");
  s.bind(1, begin).bind(2, end);
  while (s.step()) {
    usage::CatalogInfo c;
    c.name = s.text(0);
    c.hash = s.text(1);
    c.as_of = s.text(2);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> SqliteUsage::usage_currencies() {
  return column_texts(m_db, "SELECT DISTINCT currency FROM usage_dim_hourly WHERE dim = '*' AND records > 0 AND (cost_micro != 0 OR cost_pico != 0)");
}

// ---- pull log ----------------------------------------------------------------------------------

std::vector<providers::BilledLine> SqlitePullLog::billed_lines(std::string_view provider, util::Seconds begin,
                                                               util::Seconds end) {
  Stmt s(m_db,
         "SELECT provider, day, key, project, model, line_item, token_type, amount, currency FROM billed_costs"
         " WHERE (?1 = '' OR provider = ?1) AND day >= ?2 AND day < ?3 ORDER BY provider, day, key");
  s.bind(1, provider).bind(2, begin).bind(3, end);
  std::vector<providers::BilledLine> out;
  while (s.step()) {
    providers::BilledLine b;
    b.provider = s.text(0);
    b.day = s.int64(1);
    b.key = s.text(2);
    b.project = s.text(3);
    b.model = s.text(4);
    b.line_item = s.text(5);
    b.token_type = s.text(6);
    b.amount = money::Decimal::parse(s.text(7)).value_or_throw("billed_costs amount");
    b.currency = money::currency(s.text(8));
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<providers::PullDay> SqlitePullLog::pull_days(std::string_view provider, util::Seconds begin, util::Seconds end) {
  Stmt s(m_db,
         "SELECT provider, day, state, digest, records, billed_lines, pulled_at FROM pull_days"
         " WHERE (?1 = '' OR provider = ?1) AND day >= ?2 AND day < ?3 ORDER BY provider, day");
  s.bind(1, provider).bind(2, begin).bind(3, end);
  std::vector<providers::PullDay> out;
  while (s.step())
    out.push_back({std::string(s.text(0)), s.int64(1), std::string(s.text(2)), std::string(s.text(3)), s.int64(4),
                   s.int64(5), std::string(s.text(6))});
  return out;
}

std::optional<util::Seconds> SqlitePullLog::pull_cursor(std::string_view provider) {
  Stmt s(m_db, "SELECT until FROM pull_cursors WHERE provider = ?1");
  s.bind(1, provider);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

}  // namespace billctl::store
