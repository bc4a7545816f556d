// The credit ledger: credit_ledger (append-only, enforced by triggers), its head in meta,
// credit_topup rules and the charges (which record was charged how much, by which run): by record
// in credit_charge and credit_orphan, or by key in credit_usage (see charges_by_row).
#include "billctl/store/sqlite/adapters.hpp"

#include <nlohmann/json.hpp>

namespace billctl::store {

using credits::Entry;

namespace {

constexpr const char* k_columns =
    "seq, at, organization, kind, credits, balance, actor, reference, reason, idempotency_key, detail, prev_hash, hash";

money::Decimal stored_amount(std::string_view text, int64_t seq) {
  return money::Decimal::parse(text).value_or_throw("credit ledger entry #" + std::to_string(seq));
}

// The entry of a row; with `raw`, amounts that do not parse are left zero and reported there.
Entry read_entry(const Stmt& s, credits::RawEntry* raw = nullptr) {
  Entry e;
  e.seq = s.int64(0);
  e.at = s.int64(1);
  e.organization = s.text(2);
  e.kind = s.text(3);
  if (raw) {
    raw->credits = s.text(4);
    raw->balance = s.text(5);
    auto c = money::Decimal::parse(raw->credits);
    auto b = money::Decimal::parse(raw->balance);
    raw->amounts_parse = bool(c) && bool(b);
    if (raw->amounts_parse) {
      e.credits = *c;
      e.balance = *b;
    }
  } else {
    e.credits = stored_amount(s.text(4), e.seq);
    e.balance = stored_amount(s.text(5), e.seq);
  }
  e.actor = s.text(6);
  e.reference = s.text(7);
  e.reason = s.text(8);
  e.idempotency_key = s.is_null(9) ? std::string() : std::string(s.text(9));
  e.detail = s.text(10);
  e.prev_hash = s.text(11);
  e.hash = s.text(12);
  return e;
}

std::string select(const char* rest) { return std::string("SELECT ") + k_columns + " FROM credit_ledger " + rest; }

}  // namespace

std::optional<Entry> SqliteLedger::last_entry() {
  Stmt s(m_db, select("ORDER BY seq DESC LIMIT 1").c_str());
  if (!s.step()) return std::nullopt;
  return read_entry(s);
}

std::optional<money::Decimal> SqliteLedger::balance(const std::string& organization) {
  Stmt s(m_db, "SELECT seq, balance FROM credit_ledger WHERE organization = ?1 ORDER BY seq DESC LIMIT 1");
  s.bind(1, organization);
  if (!s.step()) return std::nullopt;
  return stored_amount(s.text(1), s.int64(0));
}

std::map<std::string, money::Decimal> SqliteLedger::balances() {
  std::map<std::string, money::Decimal> out;
  Stmt s(m_db,
         "SELECT l.seq, l.organization, l.balance FROM credit_ledger l"
         " JOIN (SELECT organization, MAX(seq) AS seq FROM credit_ledger GROUP BY organization) m ON m.seq = l.seq");
  while (s.step()) out[std::string(s.text(1))] = stored_amount(s.text(2), s.int64(0));
  return out;
}

std::optional<Entry> SqliteLedger::entry(int64_t seq) {
  Stmt s(m_db, select("WHERE seq = ?1").c_str());
  s.bind(1, seq);
  if (!s.step()) return std::nullopt;
  return read_entry(s);
}

std::vector<Entry> SqliteLedger::request_entries(const std::string& key) {
  std::vector<Entry> out;
  Stmt s(m_db, select("WHERE idempotency_key = ?1").c_str());
  s.bind(1, key);
  if (!s.step()) return out;
  out.push_back(read_entry(s));
  // Entries a request made after its first one carry the key in their detail ("request_key").
  Stmt more(m_db, select("WHERE seq > ?1 AND json_extract(detail, '$.request_key') = ?2 ORDER BY seq").c_str());
  more.bind(1, out.front().seq).bind(2, key);
  while (more.step()) out.push_back(read_entry(more));
  return out;
}

std::vector<Entry> SqliteLedger::entries(const credits::LedgerFilter& f) {
  std::string where = "WHERE 1";
  if (!f.organization.empty()) where += " AND organization = ?1";
  if (f.period) where += " AND at >= ?2 AND at < ?3";
  if (!f.kind.empty()) where += " AND kind = ?4";
  if (!f.actor.empty()) where += " AND actor = ?5";
  if (f.after_seq) where += " AND seq > ?6";
  if (!f.kinds.empty()) where += " AND kind" + in_list(7, f.kinds.size());
  where += " ORDER BY seq";
  Stmt s(m_db, select(where.c_str()).c_str());
  if (!f.organization.empty()) s.bind(1, f.organization);
  if (f.period) s.bind(2, f.period->begin).bind(3, f.period->end);
  if (!f.kind.empty()) s.bind(4, f.kind);
  if (!f.actor.empty()) s.bind(5, f.actor);
  if (f.after_seq) s.bind(6, f.after_seq);
  for (size_t i = 0; i < f.kinds.size(); ++i) s.bind(int(7 + i), f.kinds[i]);
  std::vector<Entry> out;
  while (s.step()) out.push_back(read_entry(s));
  return out;
}

void SqliteLedger::scan_entries(const std::function<bool(const credits::RawEntry&)>& fn) {
  Stmt s(m_db, select("ORDER BY seq").c_str());
  credits::RawEntry raw;
  while (s.step()) {
    raw.entry = read_entry(s, &raw);
    if (!fn(raw)) return;
  }
}

void SqliteLedger::append(const Entry& e) {
  Stmt ins(m_db,
           "INSERT INTO credit_ledger(seq, at, organization, kind, credits, balance, actor, reference, reason, idempotency_key,"
           " detail, prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  const std::string credits = e.credits.to_string(), bal = e.balance.to_string();
  ins.bind(1, e.seq).bind(2, e.at).bind(3, e.organization).bind(4, e.kind).bind(5, credits).bind(6, bal);
  ins.bind(7, e.actor).bind(8, e.reference).bind(9, e.reason);
  if (e.idempotency_key.empty()) ins.bind_null(10);
  else ins.bind(10, e.idempotency_key);
  ins.bind(11, e.detail).bind(12, e.prev_hash).bind(13, e.hash);
  ins.step();
  // The head, so that entries removed from the end are noticed too.
  Stmt head(m_db, "INSERT OR REPLACE INTO meta(key, value) VALUES('credit_ledger_head', ?1)");
  const std::string h = std::to_string(e.seq) + " " + e.hash;
  head.bind(1, h);
  head.step();
}

std::string SqliteLedger::recorded_head() {
  Stmt h(m_db, "SELECT value FROM meta WHERE key = 'credit_ledger_head'");
  return h.step() ? std::string(h.text(0)) : std::string();
}

bool SqliteLedger::organization_known(const std::string& org) {
  for (const char* sql : {"SELECT 1 FROM credit_ledger WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM credit_usage WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM credit_orphan WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM plan_assignments WHERE organization = ?1",
                          "SELECT 1 FROM invoices WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM usage_dim_hourly WHERE dim = 'organization' AND value = ?1 AND records > 0 LIMIT 1"}) {
    Stmt s(m_db, sql);
    s.bind(1, org);
    if (s.step()) return true;
  }
  return false;
}

std::vector<std::string> SqliteLedger::organization_names() {
  return column_texts(m_db, "SELECT DISTINCT organization FROM credit_ledger UNION SELECT organization FROM plan_assignments");
}

std::vector<credits::TopupRule> SqliteLedger::topup_rules() {
  std::vector<credits::TopupRule> out;
  Stmt s(m_db, "SELECT organization, threshold, package, max_per_month FROM credit_topup ORDER BY organization");
  while (s.step())
    out.push_back({std::string(s.text(0)), money::Decimal::parse(s.text(1)).value_or_throw("auto-topup threshold"),
                   std::string(s.text(2)), s.int64(3)});
  return out;
}

void SqliteLedger::put_topup_rule(const credits::TopupRule& rule, util::Seconds now) {
  Stmt s(m_db, "INSERT OR REPLACE INTO credit_topup(organization, threshold, package, max_per_month, updated_at) VALUES(?1, ?2, ?3, ?4, ?5)");
  const std::string th = rule.threshold.to_string(), at = util::format_rfc3339(now);
  s.bind(1, rule.organization).bind(2, th).bind(3, rule.package).bind(4, rule.max_per_month).bind(5, at);
  s.step();
}

bool SqliteLedger::remove_topup_rule(const std::string& organization) {
  Stmt s(m_db, "DELETE FROM credit_topup WHERE organization = ?1");
  s.bind(1, organization);
  s.step();
  return m_db.changes() > 0;
}

// Charges come in two forms. Where the usage is here, credit_charge keeps each by its record's
// rowid (the schema's triggers move it to credit_orphan, under the key it was charged at, when the
// record is deleted or moved); where the usage lives in ClickHouse, credit_usage keeps them by
// (organization, ts, id). A file used both ways has its charges moved to the form in use, exactly:
// a keyed charge whose record is here becomes the record's, any other an orphan; and back.
// Before a deduct reads the records, an orphan whose record is back at its key (moved back, or
// deleted and imported again) is the record's charge again, as it was when charges were kept by key.
void SqliteLedger::charges_by_row() {
  if (Stmt(m_db, "SELECT 1 FROM credit_usage LIMIT 1").step()) {
    // Once for a store from before schema 14, or a file last used with ClickHouse: the records in
    // table order (CROSS JOIN keeps them the outer loop) each look up their keyed charge, with an
    // import's page cache: 2M charges in ~4 s, where looking up each charge's record took ~16 s.
    std::string restore;
    {
      Stmt cache(m_db, "PRAGMA cache_size");
      cache.step();
      restore = "PRAGMA cache_size = " + std::to_string(cache.int64(0));
    }
    m_db.exec("PRAGMA cache_size = -131072");
    m_db.exec(
        "INSERT OR REPLACE INTO credit_charge(usage_row, credits, run) SELECT u.rowid, c.credits, c.run FROM usage u"
        " CROSS JOIN credit_usage c ON c.organization = u.organization AND c.ts = u.ts AND c.usage_id = u.id");
    const int64_t adopted = m_db.changes();
    int64_t kept = 0;
    {
      Stmt keyed(m_db, "SELECT COUNT(*) FROM credit_usage");
      keyed.step();
      kept = keyed.int64(0);
    }
    if (kept != adopted)  // some have no record at their key: orphans
      m_db.exec(
          "INSERT INTO credit_orphan(organization, ts, usage_id, credits, run)"
          " SELECT organization, ts, usage_id, credits, run FROM credit_usage c WHERE NOT EXISTS"
          " (SELECT 1 FROM usage u WHERE u.id = c.usage_id AND u.organization = c.organization AND u.ts = c.ts)");
    m_db.exec("DELETE FROM credit_usage");
    m_db.exec(restore.c_str());
  }
  if (Stmt(m_db, "SELECT 1 FROM credit_orphan LIMIT 1").step())
    m_db.exec(
        "CREATE TEMP TABLE IF NOT EXISTS charge_back(orphan INTEGER PRIMARY KEY, usage_row INTEGER NOT NULL);"
        "DELETE FROM temp.charge_back;"
        "INSERT INTO temp.charge_back SELECT MIN(o.rowid), u.rowid FROM credit_orphan o JOIN usage u ON u.id = o.usage_id"
        " WHERE u.organization = o.organization AND u.ts = o.ts"
        " AND NOT EXISTS (SELECT 1 FROM credit_charge c WHERE c.usage_row = u.rowid) GROUP BY u.rowid;"
        "INSERT INTO credit_charge(usage_row, credits, run)"
        " SELECT b.usage_row, o.credits, o.run FROM temp.charge_back b JOIN credit_orphan o ON o.rowid = b.orphan;"
        "DELETE FROM credit_orphan WHERE rowid IN (SELECT orphan FROM temp.charge_back);"
        "DELETE FROM temp.charge_back;");
}

void SqliteLedger::charges_by_key() {
  if (!Stmt(m_db, "SELECT 1 FROM credit_charge UNION ALL SELECT 1 FROM credit_orphan LIMIT 1").step()) return;
  // An orphan's key never holds a charge too: the deduct that charges the record there refunds it.
  m_db.exec(
      "INSERT OR REPLACE INTO credit_usage(organization, ts, usage_id, credits, run)"
      " SELECT organization, ts, usage_id, credits, run FROM credit_orphan;"
      "INSERT OR REPLACE INTO credit_usage(organization, ts, usage_id, credits, run)"
      " SELECT u.organization, u.ts, u.id, c.credits, c.run FROM credit_charge c JOIN usage u ON u.rowid = c.usage_row;"
      "DELETE FROM credit_orphan; DELETE FROM credit_charge;");
}

void SqliteLedger::scan_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                                const std::function<void(const credits::ChargeRow&)>& fn) {
  charges_by_row();
  // One pass over the period's records in table order, each joined with what it was charged before
  // by rowid: the charges are read, and this run's appended, in the same order.
  std::string sql =
      "SELECT u.organization, u.id, u.meter, u.quantity, u.cost_micro, u.cost_pico, u.currency, u.cost_source, c.credits, u.ts,"
      " u.rowid, c.run FROM usage u";
  if (scan_whole_table(m_db, begin, end)) sql += " NOT INDEXED";
  sql += " LEFT JOIN credit_charge c ON c.usage_row = u.rowid WHERE u.ts >= ?1 AND u.ts < ?2 AND u.organization != ''";
  if (!organization.empty()) sql += " AND u.organization = ?3";
  Stmt s(m_db, sql.c_str());
  s.bind(1, begin).bind(2, end);
  if (!organization.empty()) s.bind(3, organization);
  credits::ChargeRow row;
  while (s.step()) {
    row.organization = s.text(0);
    row.id = s.text(1);
    row.meter = s.text(2);
    row.quantity = s.text(3);
    row.currency = s.text(6);
    row.priced = s.int64(7) != 0;
    row.cost = stored_cost(s.int64(4), s.int64(5));
    if (s.is_null(8)) row.charged.reset();
    else row.charged = money::Decimal::parse(s.text(8)).value_or_throw("credit charge of '" + std::string(row.id) + "'");
    row.ts = s.int64(9);
    row.row = s.int64(10);
    row.charged_run = row.charged ? s.int64(11) : 0;
    fn(row);
  }
}

void SqliteLedger::put_charge(const credits::ChargeRow& record, const money::Decimal& credits, int64_t run) {
  const std::string amount = credits.to_string();
  if (record.row > 0) {
    if (!m_put_charge)  // prepared once: a deduct writes one charge per record
      m_put_charge = std::make_unique<Stmt>(m_db, "INSERT OR REPLACE INTO credit_charge(usage_row, credits, run) VALUES(?1, ?2, ?3)");
    m_put_charge->bind(1, record.row).bind(2, amount).bind(3, run);
    m_put_charge->step();
    m_put_charge->rewind();
    return;
  }
  if (!m_put_keyed)
    m_put_keyed = std::make_unique<Stmt>(
        m_db, "INSERT OR REPLACE INTO credit_usage(organization, ts, usage_id, credits, run) VALUES(?1, ?2, ?3, ?4, ?5)");
  m_put_keyed->bind(1, record.organization).bind(2, record.ts).bind(3, record.id).bind(4, amount).bind(5, run);
  m_put_keyed->step();
  m_put_keyed->rewind();
}

std::vector<credits::Charge> SqliteLedger::orphaned_charges(const std::string& organization, util::Seconds begin,
                                                            util::Seconds end, int64_t run, int64_t) {
  // The triggers keep every charge of credit_charge on its record, where it was charged: what is
  // stale is in credit_orphan (scan_charges moved any keyed charge there or onto its record).
  std::vector<credits::Charge> out;
  Stmt m(m_db, "SELECT ts, usage_id, credits FROM credit_orphan WHERE organization = ?1 AND ts >= ?2 AND ts < ?3 AND run < ?4"
               " ORDER BY ts, usage_id");
  m.bind(1, organization).bind(2, begin).bind(3, end).bind(4, run);
  while (m.step())
    out.push_back({m.int64(0), std::string(m.text(1)),
                   money::Decimal::parse(m.text(2)).value_or_throw("credit charge of '" + std::string(m.text(1)) + "'")});
  return out;
}

std::vector<std::string> SqliteLedger::orphan_organizations(util::Seconds begin, util::Seconds end, int64_t run) {
  std::vector<std::string> out;
  Stmt s(m_db, "SELECT DISTINCT organization FROM credit_orphan WHERE ts >= ?1 AND ts < ?2 AND run < ?3 ORDER BY organization");
  s.bind(1, begin).bind(2, end).bind(3, run);
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

void SqliteLedger::delete_charge(const std::string& organization, util::Seconds ts, const std::string& usage_id) {
  for (const char* sql : {"DELETE FROM credit_orphan WHERE organization = ?1 AND ts = ?2 AND usage_id = ?3",
                          "DELETE FROM credit_usage WHERE organization = ?1 AND ts = ?2 AND usage_id = ?3"}) {
    Stmt del(m_db, sql);
    del.bind(1, organization).bind(2, ts).bind(3, usage_id);
    del.step();
  }
}

std::vector<credits::StoredCharge> SqliteLedger::stored_charges(util::Seconds begin, util::Seconds end,
                                                                const std::string& organization,
                                                                const credits::StoredCharge* after, size_t limit) {
  if (!after) charges_by_key();
  // Keyset pages along the primary key: no statement stays open while the caller writes charges.
  std::string sql = "SELECT organization, ts, usage_id, credits, run FROM credit_usage WHERE ts >= ?1 AND ts < ?2";
  if (!organization.empty()) sql += " AND organization = ?3";
  if (after) sql += " AND (organization, ts, usage_id) > (?4, ?5, ?6)";
  sql += " ORDER BY organization, ts, usage_id LIMIT ?7";
  Stmt s(m_db, sql.c_str());
  s.bind(1, begin).bind(2, end).bind(7, int64_t(limit));
  if (!organization.empty()) s.bind(3, organization);
  if (after) s.bind(4, after->organization).bind(5, after->ts).bind(6, after->usage_id);
  std::vector<credits::StoredCharge> out;
  while (s.step())
    out.push_back({std::string(s.text(0)), s.int64(1), std::string(s.text(2)),
                   money::Decimal::parse(s.text(3)).value_or_throw("credit charge of '" + std::string(s.text(2)) + "'"), s.int64(4)});
  return out;
}

std::map<int64_t, std::string> SqliteLedger::run_rates() {
  std::map<int64_t, std::string> out;
  Stmt s(m_db, "SELECT run, rates FROM credit_rates");
  while (s.step()) out.emplace(s.int64(0), std::string(s.text(1)));
  return out;
}

void SqliteLedger::put_run_rates(int64_t run, const std::string& rates) {
  Stmt s(m_db, "INSERT OR REPLACE INTO credit_rates(run, rates) VALUES(?1, ?2)");
  s.bind(1, run).bind(2, rates);
  s.step();
}

int64_t SqliteLedger::usage_version() {
  Stmt s(m_db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'usage_version'");
  return s.step() ? s.int64(0) : 0;
}

std::optional<std::map<std::string, credits::Skipped>> SqliteLedger::charged_at(util::Seconds begin, util::Seconds end,
                                                                                 const std::string& scope, int64_t version) {
  Stmt s(m_db, "SELECT detail FROM credit_scans WHERE begin = ?1 AND end = ?2 AND scope = ?3 AND usage_version = ?4");
  s.bind(1, begin).bind(2, end).bind(3, scope).bind(4, version);
  if (!s.step()) return std::nullopt;
  std::map<std::string, credits::Skipped> out;
  try {
    const nlohmann::json d = nlohmann::json::parse(s.text(0));
    for (const auto& [org, v] : d.items()) {
      credits::Skipped& k = out[org];
      k.records = v.at("skipped").get<int64_t>();
      for (const auto& m : v.at("meters")) k.meters.push_back(m.get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError("store '" + m_db.path() + "': credit_scans: " + e.what());
  }
  return out;
}

void SqliteLedger::record_charged(util::Seconds begin, util::Seconds end, const std::string& scope, int64_t version,
                                  const std::map<std::string, credits::Skipped>& organizations) {
  nlohmann::json d = nlohmann::json::object();
  for (const auto& [org, k] : organizations) d[org] = {{"skipped", k.records}, {"meters", k.meters}};
  Stmt s(m_db, "INSERT OR REPLACE INTO credit_scans(begin, end, scope, usage_version, detail) VALUES(?1, ?2, ?3, ?4, ?5)");
  const std::string detail = d.dump();
  s.bind(1, begin).bind(2, end).bind(3, scope).bind(4, version).bind(5, detail);
  s.step();
}

}  // namespace billctl::store
