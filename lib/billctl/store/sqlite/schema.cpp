// The schema of the embedded store and its migrations. Opening a store migrates it forward in
// one transaction; a store from a newer billctl is refused before anything changes.
#include "billctl/store/sqlite/schema.hpp"

#include "billctl/store/sqlite/rollup.hpp"

#include <iterator>
#include <string>
#include <vector>

#include "billctl/util/error.hpp"

namespace billctl::store {

namespace {

// Schema migrations; entry i takes the schema from version i to i + 1. Never edit a shipped one.
constexpr const char* k_migrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE catalogs(
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  as_of TEXT NOT NULL
);
CREATE TABLE imports(
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  source TEXT NOT NULL,
  digest TEXT NOT NULL,
  format TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  rows_accepted INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  rows_replaced INTEGER NOT NULL,
  rows_unpriced INTEGER NOT NULL,
  min_ts INTEGER,
  max_ts INTEGER,
  catalog_id INTEGER REFERENCES catalogs(id)
);
CREATE TABLE usage(
  id TEXT NOT NULL UNIQUE,
  ts INTEGER NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  organization TEXT NOT NULL,
  department TEXT NOT NULL,
  user TEXT NOT NULL,
  feature TEXT NOT NULL,
  project TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  service_tier TEXT NOT NULL,
  status TEXT NOT NULL,
  cost_micro INTEGER NOT NULL,   -- whole 1e-6 units of currency
  cost_pico INTEGER NOT NULL,    -- the rest, in 1e-12 units (|cost_pico| < 1e6)
  currency TEXT NOT NULL,
  cost_source INTEGER NOT NULL,  -- 0 unpriced, 1 catalog, 2 provider-reported
  meter TEXT NOT NULL,
  quantity TEXT NOT NULL,
  unit TEXT NOT NULL,
  import_id INTEGER NOT NULL
);
CREATE INDEX usage_ts ON usage(ts);
CREATE TABLE user_prices(
  model TEXT PRIMARY KEY,
  catalog TEXT NOT NULL,
  imported_at TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 2: budgets; per-user usage lookups for hard quotas.
    R"sql(
CREATE TABLE budgets(
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,  -- JSON, see budgets::to_json
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX usage_user_ts ON usage(user, ts);
)sql",
    // (4 replaces this index by the hourly rollup below: random inserts into a user-major index
    // made large imports four times slower.)
    // 3: what budgets notify sent, once per budget, period, stage and channel.
    R"sql(
CREATE TABLE alerts(
  budget TEXT NOT NULL,
  period TEXT NOT NULL,
  stage TEXT NOT NULL,      -- "80", "forecast", or "resolve" (PagerDuty, after the period ended)
  channel TEXT NOT NULL,
  state TEXT NOT NULL,      -- sending, sent, superseded, failed
  claimed_at INTEGER NOT NULL,
  sent_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  PRIMARY KEY(budget, period, stage, channel)
) WITHOUT ROWID;
)sql",
    // 4: per-user hourly totals, so a hard-quota check reads a few hundred rows, not a month of
    // usage. Imports keep it exact (SqliteImport adds each record and subtracts the one it
    // replaces; per-row triggers made imports three times slower); deletes go through a trigger.
    R"sql(
DROP INDEX usage_user_ts;
CREATE TABLE usage_user_hourly(
  user TEXT NOT NULL,
  hour INTEGER NOT NULL,
  currency TEXT NOT NULL,
  records INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  error_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  unpriced_records INTEGER NOT NULL,
  cost_micro INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  PRIMARY KEY(user, hour, currency)
) WITHOUT ROWID;
INSERT INTO usage_user_hourly
  SELECT user, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END),
         SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens),
         SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico)
  FROM usage GROUP BY 1, 2, 3;
CREATE TRIGGER usage_hourly_delete AFTER DELETE ON usage BEGIN
  UPDATE usage_user_hourly SET records = records - 1, requests = requests - OLD.requests,
    error_requests = error_requests - CASE WHEN OLD.status = 'error' THEN OLD.requests ELSE 0 END,
    input_tokens = input_tokens - OLD.input_tokens, cached_input_tokens = cached_input_tokens - OLD.cached_input_tokens,
    cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
    cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
    output_tokens = output_tokens - OLD.output_tokens,
    unpriced_records = unpriced_records - (OLD.cost_source = 0 AND OLD.meter = ''),
    cost_micro = cost_micro - OLD.cost_micro, cost_pico = cost_pico - OLD.cost_pico
  WHERE user = OLD.user AND hour = OLD.ts / 3600 AND currency = OLD.currency;
END;
)sql",
    // 5: the credit ledger (append-only, hash-chained), what each usage record was charged in
    // credits, auto-topup rules, plan assignments and invoices with gapless per-year numbers.
    R"sql(
CREATE TABLE credit_ledger(
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  organization TEXT NOT NULL,
  kind TEXT NOT NULL,
  credits TEXT NOT NULL,      -- signed exact decimal
  balance TEXT NOT NULL,      -- the organization's balance after this entry
  actor TEXT NOT NULL,
  reference TEXT NOT NULL,
  reason TEXT NOT NULL,
  idempotency_key TEXT,
  detail TEXT NOT NULL,       -- JSON (package, price, refund_of, usage by type, ...)
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE UNIQUE INDEX credit_ledger_key ON credit_ledger(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX credit_ledger_org ON credit_ledger(organization, seq);
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
  BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
  BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TABLE credit_usage(
  organization TEXT NOT NULL,
  ts INTEGER NOT NULL,        -- of the usage record as charged
  usage_id TEXT NOT NULL,
  credits TEXT NOT NULL,      -- what the record has been charged so far
  run INTEGER NOT NULL,       -- the deduction that charged it last: the ledger's last entry number
                              -- when it began; its usage and correction entries carry it (detail.run)
  PRIMARY KEY(organization, ts, usage_id)
) WITHOUT ROWID;
CREATE TABLE credit_topup(
  organization TEXT PRIMARY KEY,
  threshold TEXT NOT NULL,
  package TEXT NOT NULL,
  max_per_month INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE plan_assignments(
  organization TEXT PRIMARY KEY,
  plan TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE invoice_numbers(year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE invoices(
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  organization TEXT NOT NULL,
  period TEXT NOT NULL,
  status TEXT NOT NULL,       -- draft, pending, paid, void (overdue is pending past its due date)
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  total TEXT NOT NULL,
  currency TEXT NOT NULL,
  doc TEXT NOT NULL           -- JSON: plan, lines, subtotal, credits, tax, total, parties, history
);
CREATE UNIQUE INDEX invoices_open ON invoices(organization, period) WHERE status != 'void';
)sql",
    // 6: SQLite turns an overflowing integer sum into a REAL; the rollup refuses that instead of
    // keeping a rounded (or, read back as an integer, wrapped) token total.
    R"sql(
CREATE TRIGGER usage_hourly_overflow BEFORE UPDATE ON usage_user_hourly
  WHEN typeof(NEW.records) != 'integer' OR typeof(NEW.requests) != 'integer'
    OR typeof(NEW.error_requests) != 'integer' OR typeof(NEW.input_tokens) != 'integer'
    OR typeof(NEW.cached_input_tokens) != 'integer' OR typeof(NEW.cache_write_tokens) != 'integer'
    OR typeof(NEW.cache_write_1h_tokens) != 'integer' OR typeof(NEW.output_tokens) != 'integer'
    OR typeof(NEW.cost_micro) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'token or request totals of a user and hour exceed the 64-bit range (9.2e18)'); END;
)sql",
    // 7: hourly totals per value of every attribution dimension (and '*' for all usage), so that a
    // hard quota on any single scope (department, feature, project, model, provider, user,
    // organization) reads a few hundred rows, not a month of usage. Replaces the per-user rollup.
    R"sql(
CREATE TABLE usage_dim_hourly(
  dim TEXT NOT NULL,        -- provider, model, organization, department, user, feature, project, or '*'
  value TEXT NOT NULL,
  hour INTEGER NOT NULL,
  currency TEXT NOT NULL,
  records INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  error_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  unpriced_records INTEGER NOT NULL,
  cost_micro INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  PRIMARY KEY(dim, value, hour, currency)
) WITHOUT ROWID;
INSERT INTO usage_dim_hourly SELECT 'user', user, hour, currency, records, requests, error_requests, input_tokens,
  cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, unpriced_records, cost_micro, cost_pico
  FROM usage_user_hourly;
INSERT INTO usage_dim_hourly SELECT 'provider', provider, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT 'model', model, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT 'organization', organization, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT 'department', department, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT 'feature', feature, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT 'project', project, ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 2, 3, 4;
INSERT INTO usage_dim_hourly SELECT '*', '', ts / 3600, currency, COUNT(*), SUM(requests), SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END), SUM(input_tokens), SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(cost_source = 0 AND meter = ''), SUM(cost_micro), SUM(cost_pico) FROM usage GROUP BY 3, 4;
DROP TRIGGER usage_hourly_delete;
DROP TRIGGER usage_hourly_overflow;
DROP TABLE usage_user_hourly;
CREATE TRIGGER usage_dim_hourly_delete AFTER DELETE ON usage BEGIN
  UPDATE usage_dim_hourly SET records = records - 1, requests = requests - OLD.requests,
    error_requests = error_requests - CASE WHEN OLD.status = 'error' THEN OLD.requests ELSE 0 END,
    input_tokens = input_tokens - OLD.input_tokens, cached_input_tokens = cached_input_tokens - OLD.cached_input_tokens,
    cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
    cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
    output_tokens = output_tokens - OLD.output_tokens,
    unpriced_records = unpriced_records - (OLD.cost_source = 0 AND OLD.meter = ''),
    cost_micro = cost_micro - OLD.cost_micro, cost_pico = cost_pico - OLD.cost_pico
  WHERE hour = OLD.ts / 3600 AND currency = OLD.currency AND ((dim = 'provider' AND value = OLD.provider) OR (dim = 'model' AND value = OLD.model) OR (dim = 'organization' AND value = OLD.organization) OR (dim = 'department' AND value = OLD.department) OR (dim = 'user' AND value = OLD.user) OR (dim = 'feature' AND value = OLD.feature) OR (dim = 'project' AND value = OLD.project) OR (dim = '*' AND value = ''));
END;
CREATE TRIGGER usage_dim_hourly_overflow BEFORE UPDATE ON usage_dim_hourly
  WHEN typeof(NEW.records) != 'integer' OR typeof(NEW.requests) != 'integer'
    OR typeof(NEW.error_requests) != 'integer' OR typeof(NEW.input_tokens) != 'integer'
    OR typeof(NEW.cached_input_tokens) != 'integer' OR typeof(NEW.cache_write_tokens) != 'integer'
    OR typeof(NEW.cache_write_1h_tokens) != 'integer' OR typeof(NEW.output_tokens) != 'integer'
    OR typeof(NEW.cost_micro) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'token or request totals of one hour exceed the 64-bit range (9.2e18)'); END;
)sql",
    // 8: the rollup keeps token and meter records apart (reports leave meters out of token and cost
    // breakdowns, and now read the rollup) and files a meter record's model under its meter, as
    // every query does; meter records get a partial index for the report's metered-usage section;
    // pairs of dimensions get a rollup of their own. The rollups are filled by rebuild_rollups
    // (one pass over the records) after this step.
    R"sql(
DROP TRIGGER usage_dim_hourly_delete;
DROP TRIGGER usage_dim_hourly_overflow;
DROP TABLE usage_dim_hourly;
CREATE TABLE usage_dim_hourly(
  dim TEXT NOT NULL,        -- provider, model, organization, department, user, feature, project, or '*'
  value TEXT NOT NULL,      -- a meter record's model is its meter
  hour INTEGER NOT NULL,
  currency TEXT NOT NULL,
  metered INTEGER NOT NULL, -- 1: meter records, 0: token records
  records INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  error_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  unpriced_records INTEGER NOT NULL,
  cost_micro INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  PRIMARY KEY(dim, value, hour, currency, metered)
) WITHOUT ROWID;
CREATE TRIGGER usage_dim_hourly_delete AFTER DELETE ON usage BEGIN
  UPDATE usage_dim_hourly SET records = records - 1, requests = requests - OLD.requests,
    error_requests = error_requests - CASE WHEN OLD.status = 'error' THEN OLD.requests ELSE 0 END,
    input_tokens = input_tokens - OLD.input_tokens, cached_input_tokens = cached_input_tokens - OLD.cached_input_tokens,
    cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
    cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
    output_tokens = output_tokens - OLD.output_tokens,
    unpriced_records = unpriced_records - (OLD.cost_source = 0 AND OLD.meter = ''),
    cost_micro = cost_micro - OLD.cost_micro, cost_pico = cost_pico - OLD.cost_pico
  WHERE hour = OLD.ts / 3600 AND currency = OLD.currency AND metered = (OLD.meter != '') AND ((dim = 'provider' AND value = OLD.provider) OR (dim = 'model' AND value = CASE WHEN OLD.model = '' THEN OLD.meter ELSE OLD.model END) OR (dim = 'organization' AND value = OLD.organization) OR (dim = 'department' AND value = OLD.department) OR (dim = 'user' AND value = OLD.user) OR (dim = 'feature' AND value = OLD.feature) OR (dim = 'project' AND value = OLD.project) OR (dim = '*' AND value = ''));
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'usage_version';
END;
CREATE TRIGGER usage_dim_hourly_overflow BEFORE UPDATE ON usage_dim_hourly
  WHEN typeof(NEW.records) != 'integer' OR typeof(NEW.requests) != 'integer'
    OR typeof(NEW.error_requests) != 'integer' OR typeof(NEW.input_tokens) != 'integer'
    OR typeof(NEW.cached_input_tokens) != 'integer' OR typeof(NEW.cache_write_tokens) != 'integer'
    OR typeof(NEW.cache_write_1h_tokens) != 'integer' OR typeof(NEW.output_tokens) != 'integer'
    OR typeof(NEW.cost_micro) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'token or request totals of one hour exceed the 64-bit range (9.2e18)'); END;
CREATE INDEX usage_meter_ts ON usage(ts) WHERE meter != '';
-- Changes with every import and deleted record: a deduct run over records that did not change since
-- the last one (credit_scans) has nothing to charge and does not read them.
INSERT OR REPLACE INTO meta(key, value) VALUES('usage_version', '1');
CREATE TABLE credit_scans(
  begin INTEGER NOT NULL,
  end INTEGER NOT NULL,
  scope TEXT NOT NULL,          -- '*' or one organization
  usage_version INTEGER NOT NULL,
  detail TEXT NOT NULL,         -- {"ORG": {"skipped": N, "meters": [...]}, ...}
  PRIMARY KEY(begin, end, scope)
) WITHOUT ROWID;
-- Pairs and triples of dimensions with their own rollup: organization,user (active users per
-- organization, for invoices) and those budget scopes combine (registered when such a budget is
-- stored). Its delete trigger is made by combo_delete_trigger() (one case per possible combo).
CREATE TABLE rollup_combos(combo TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE usage_combo_hourly(
  combo TEXT NOT NULL,      -- "organization,user": two or three dimensions in rollup order
  value TEXT NOT NULL,      -- "<bytes>:" of each value but the last, then the values
  hour INTEGER NOT NULL,
  currency TEXT NOT NULL,
  metered INTEGER NOT NULL,
  records INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  error_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  unpriced_records INTEGER NOT NULL,
  cost_micro INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  PRIMARY KEY(combo, value, hour, currency, metered)
) WITHOUT ROWID;
INSERT INTO rollup_combos VALUES('organization,user');
CREATE TRIGGER usage_combo_hourly_overflow BEFORE UPDATE ON usage_combo_hourly
  WHEN typeof(NEW.records) != 'integer' OR typeof(NEW.requests) != 'integer'
    OR typeof(NEW.error_requests) != 'integer' OR typeof(NEW.input_tokens) != 'integer'
    OR typeof(NEW.cached_input_tokens) != 'integer' OR typeof(NEW.cache_write_tokens) != 'integer'
    OR typeof(NEW.cache_write_1h_tokens) != 'integer' OR typeof(NEW.output_tokens) != 'integer'
    OR typeof(NEW.cost_micro) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'token or request totals of one hour exceed the 64-bit range (9.2e18)'); END;
)sql",
    // 9: what the providers billed (usage pull, or their cost pages imported), kept apart from
    // usage for reconciliation; per provider and day, whether the provider may still revise it.
    R"sql(
CREATE TABLE billed_costs(
  provider TEXT NOT NULL,
  day INTEGER NOT NULL,        -- Unix seconds of the UTC day's start
  key TEXT NOT NULL,           -- the provider's group, unique within the day
  project TEXT NOT NULL,
  model TEXT NOT NULL,
  line_item TEXT NOT NULL,
  token_type TEXT NOT NULL,
  amount TEXT NOT NULL,        -- exact decimal in currency units
  currency TEXT NOT NULL,
  import_id INTEGER NOT NULL,
  PRIMARY KEY(provider, day, key)
) WITHOUT ROWID;
CREATE TABLE pull_days(
  provider TEXT NOT NULL,
  day INTEGER NOT NULL,
  state TEXT NOT NULL,         -- provisional (inside the settle window when pulled) or settled
  digest TEXT NOT NULL,        -- sha256 of what was pulled for the day
  records INTEGER NOT NULL,
  billed_lines INTEGER NOT NULL,
  pulled_at TEXT NOT NULL,
  PRIMARY KEY(provider, day)
) WITHOUT ROWID;
CREATE TABLE pull_cursors(provider TEXT PRIMARY KEY, until INTEGER NOT NULL, pulled_at TEXT NOT NULL) WITHOUT ROWID;
)sql",
    // 10: saved report templates (report save); their deliveries use the alert log (stage 'report').
    R"sql(
CREATE TABLE report_templates(
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,  -- JSON, see report::to_json
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 11: the session a record belongs to (Claude Code's sessionId, a session column), for cost
    // per session; the partial index answers "does this period have sessions" without a scan.
    R"sql(
ALTER TABLE usage ADD COLUMN session TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_session_ts ON usage(ts) WHERE session != '';
)sql",
    // 12: the id's uniqueness moves from a column constraint to an index of its own, so that an
    // import into an empty store can load the records first and build every index once, sorted,
    // instead of inserting each id and time at a random place (the table is rebuilt; rowids are
    // kept). The delete triggers go with the old table; migrate() makes them again.
    R"sql(
CREATE TABLE usage_v12(
  id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  organization TEXT NOT NULL,
  department TEXT NOT NULL,
  user TEXT NOT NULL,
  feature TEXT NOT NULL,
  project TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  service_tier TEXT NOT NULL,
  status TEXT NOT NULL,
  cost_micro INTEGER NOT NULL,   -- whole 1e-6 units of currency
  cost_pico INTEGER NOT NULL,    -- the rest, in 1e-12 units (|cost_pico| < 1e6)
  currency TEXT NOT NULL,
  cost_source INTEGER NOT NULL,  -- 0 unpriced, 1 catalog, 2 provider-reported
  meter TEXT NOT NULL,
  quantity TEXT NOT NULL,
  unit TEXT NOT NULL,
  import_id INTEGER NOT NULL,
  session TEXT NOT NULL DEFAULT ''
);
INSERT INTO usage_v12(rowid, id, ts, provider, model, organization, department, user, feature, project, input_tokens,
  cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,
  cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, import_id, session)
  SELECT rowid, id, ts, provider, model, organization, department, user, feature, project, input_tokens,
  cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,
  cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, import_id, session FROM usage ORDER BY rowid;
DROP TABLE usage;
ALTER TABLE usage_v12 RENAME TO usage;
CREATE UNIQUE INDEX usage_id ON usage(id);
CREATE INDEX usage_ts ON usage(ts);
CREATE INDEX usage_meter_ts ON usage(ts) WHERE meter != '';
CREATE INDEX usage_session_ts ON usage(ts) WHERE session != '';
)sql",
    // 13: billctl serve: OAuth clients (secrets hashed), the log of mutations with their
    // idempotency keys, and plan change requests.
    R"sql(
CREATE TABLE serve_clients(
  name TEXT PRIMARY KEY,
  organization TEXT NOT NULL,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE serve_mutations(
  seq INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  organization TEXT NOT NULL,
  mutation TEXT NOT NULL,
  request TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE UNIQUE INDEX serve_mutations_key ON serve_mutations(actor, idempotency_key) WHERE idempotency_key != '';
CREATE TABLE serve_plan_requests(
  id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  plan TEXT NOT NULL,
  actor TEXT NOT NULL,
  note TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql",
    // 14: a record's credit charge is kept by the record's rowid: a deduct appends its charges in
    // the order it reads the records and joins them back by rowid, with no index on (organization,
    // ts, id) to sort into. Imports replace a record in place (its rowid stays); when a record is
    // deleted, or a later import moves it to another organization or time, its charge moves to
    // credit_orphan under the key it was charged at, for the next deduct over that period to
    // refund. (credit_usage keeps charges by (organization, ts, id) where the usage lives in
    // ClickHouse; the SQLite ledger adapter moves charges between the two forms as it is used.)
    // Migrations that rebuild the usage table must keep its rowids (as VACUUM does: a unit test
    // pins it).
    R"sql(
CREATE TABLE credit_charge(
  usage_row INTEGER PRIMARY KEY,  -- the rowid of the usage record charged
  credits TEXT NOT NULL,
  run INTEGER NOT NULL
);
CREATE TABLE credit_orphan(
  organization TEXT NOT NULL,     -- where the record was when it was charged
  ts INTEGER NOT NULL,
  usage_id TEXT NOT NULL,
  credits TEXT NOT NULL,
  run INTEGER NOT NULL
);
CREATE INDEX credit_orphan_period ON credit_orphan(organization, ts);
CREATE TRIGGER usage_charge_delete AFTER DELETE ON usage BEGIN
  INSERT INTO credit_orphan SELECT OLD.organization, OLD.ts, OLD.id, credits, run FROM credit_charge WHERE usage_row = OLD.rowid;
  DELETE FROM credit_charge WHERE usage_row = OLD.rowid;
END;
CREATE TRIGGER usage_charge_move AFTER UPDATE OF organization, ts, id ON usage
  WHEN OLD.organization != NEW.organization OR OLD.ts != NEW.ts OR OLD.id != NEW.id BEGIN
  INSERT INTO credit_orphan SELECT OLD.organization, OLD.ts, OLD.id, credits, run FROM credit_charge WHERE usage_row = OLD.rowid;
  DELETE FROM credit_charge WHERE usage_row = OLD.rowid;
END;
)sql",
    // 15: who has usage where, per UTC month: the token records of each user (and organization)
    // under each department and each feature, so the report's active users per department and per
    // feature come from a table of about (users x features) rows a month instead of a scan of the
    // month's records. Imports keep it exact as they keep the hourly rollups (RollupDeltas); a
    // deleted record leaves it through the trigger. Filled from the stored usage by migrate().
    R"sql(
CREATE TABLE usage_user_monthly(
  dim TEXT NOT NULL,           -- department or feature
  month INTEGER NOT NULL,      -- year * 12 + month - 1, of the UTC time
  value TEXT NOT NULL,
  organization TEXT NOT NULL,
  user TEXT NOT NULL,
  records INTEGER NOT NULL,    -- token records (meter records are not counted)
  PRIMARY KEY(dim, month, value, organization, user)
) WITHOUT ROWID;
CREATE TRIGGER usage_user_monthly_delete AFTER DELETE ON usage WHEN OLD.meter = '' BEGIN
  UPDATE usage_user_monthly SET records = records - 1
    WHERE dim = 'department' AND month = CAST(strftime('%Y', OLD.ts, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.ts, 'unixepoch') AS INTEGER) - 1
      AND value = OLD.department AND organization = OLD.organization AND user = OLD.user;
  UPDATE usage_user_monthly SET records = records - 1
    WHERE dim = 'feature' AND month = CAST(strftime('%Y', OLD.ts, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.ts, 'unixepoch') AS INTEGER) - 1
      AND value = OLD.feature AND organization = OLD.organization AND user = OLD.user;
END;
)sql",
    // 16: the rates each deduct run charged at (credits per currency unit of priced tokens, per
    // billed unit of each meter; JSON), keyed by the run its charges carry: a charged record is
    // unchanged when it costs what it was charged at its run's rates, so a rate change applies to
    // usage charged after it. Runs before this migration have none (the ledger takes them at the
    // rates of the first run that records them).
    R"sql(
CREATE TABLE credit_rates(
  run INTEGER PRIMARY KEY,
  rates TEXT NOT NULL
);
)sql",
};

// The usage table's indexes since schema 12 (as migration 12 makes them): an import into an empty
// store drops them while it loads and builds them afterwards, usage_id first.
constexpr const char* k_usage_indexes[] = {
    "CREATE UNIQUE INDEX usage_id ON usage(id)",
    "CREATE INDEX usage_ts ON usage(ts)",
    "CREATE INDEX usage_meter_ts ON usage(ts) WHERE meter != ''",
    "CREATE INDEX usage_session_ts ON usage(ts) WHERE session != ''",
};

constexpr int k_migration_count = int(sizeof k_migrations / sizeof k_migrations[0]);
static_assert(std::size(k_usage_indexes) == std::size(k_usage_index_names));

}  // namespace

// The delete trigger of usage_combo_hourly: a deleted record leaves the rollup of every combo,
// whichever are registered (one case per possible combo).
std::string combo_delete_trigger() {
  return R"sql(CREATE TRIGGER usage_combo_hourly_delete AFTER DELETE ON usage BEGIN
  UPDATE usage_combo_hourly SET records = records - 1, requests = requests - OLD.requests,
    error_requests = error_requests - CASE WHEN OLD.status = 'error' THEN OLD.requests ELSE 0 END,
    input_tokens = input_tokens - OLD.input_tokens, cached_input_tokens = cached_input_tokens - OLD.cached_input_tokens,
    cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
    cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
    output_tokens = output_tokens - OLD.output_tokens,
    unpriced_records = unpriced_records - (OLD.cost_source = 0 AND OLD.meter = ''),
    cost_micro = cost_micro - OLD.cost_micro, cost_pico = cost_pico - OLD.cost_pico
  WHERE hour = OLD.ts / 3600 AND currency = OLD.currency AND metered = (OLD.meter != '') AND value = CASE combo
)sql" + combo_value_cases() + "    END;\nEND;\n";
}

static_assert(k_migration_count == k_schema_version);

std::vector<std::string> usage_indexes() { return {std::begin(k_usage_indexes), std::end(k_usage_indexes)}; }

int schema_version(Db& db) {
  Stmt s(db, "PRAGMA user_version");
  s.step();
  return int(s.int64(0));
}

void migrate(Db& db, const std::function<void(const std::string&)>& notice) {
  // A store from a newer billctl is refused before anything about it changes (journal mode included).
  int v = schema_version(db);
  if (v > k_schema_version)
    throw DataError("store '" + db.path() + "' has schema version " + std::to_string(v) +
                    ", newer than this billctl understands (" + std::to_string(k_schema_version) + "); upgrade billctl");
  // WAL lets reports read while an import writes. Switching needs a moment without other
  // connections, and SQLite does not wait for that itself, so retry briefly.
  for (int attempt = 0;; ++attempt) {
    {
      Stmt mode(db, "PRAGMA journal_mode");
      mode.step();
      if (mode.text(0) == "wal") break;
    }
    if (sqlite3_exec(db.handle(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr) == SQLITE_OK) continue;
    if (attempt > 200) db.fail("cannot switch to WAL mode");
    sqlite3_sleep(50);
  }
  db.exec("PRAGMA synchronous = NORMAL");
  v = schema_version(db);
  if (v == k_schema_version) return;
  Transaction t(db);
  v = schema_version(db);  // another process may have migrated while we waited
  const int from = v;
  if (notice && from > 0 && from < 15) {
    // Migrations 8, 12 and 15 read every record (rollups filled, the table rebuilt): seconds at millions.
    Stmt rows(db, "SELECT COALESCE(MAX(rowid), 0) FROM usage");
    rows.step();
    if (rows.int64(0) >= k_upgrade_notice_rows)
      notice("upgrading the store '" + db.path() + "' from schema " + std::to_string(from) + " to " +
             std::to_string(k_schema_version) + ": one pass over its records, once (about 1 s per million)");
  }
  for (; v < k_schema_version; ++v) {
    // Migration 12 rebuilds the usage table: its triggers are kept and made again.
    std::vector<std::string> triggers;
    if (v == 11) {
      Stmt s(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'usage' ORDER BY name");
      while (s.step()) triggers.emplace_back(s.text(0));
    }
    db.exec(k_migrations[v]);
    for (const auto& t : triggers) db.exec(t.c_str());
  }
  if (from < 8) {
    db.exec(combo_delete_trigger().c_str());
    rebuild_rollups(db, registered_combos(db));  // usage_user_monthly too
  } else if (from < 15) {
    rebuild_presence(db);
  }
  db.exec(("PRAGMA user_version = " + std::to_string(k_schema_version)).c_str());
  t.commit();
}

}  // namespace billctl::store
