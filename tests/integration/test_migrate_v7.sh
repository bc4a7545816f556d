#!/usr/bin/env bash
# A store made by the release before the storage layer (schema 7) opens with this billctl: it is
# migrated, and every answer it gave before is given again, byte for byte (report, summaries from
# the new rollups, budgets and quotas, the credit ledger and its hash chain, invoices, the import
# log). Then the migrated store keeps working: an import and a deduct on top of it.
source "$(dirname "$0")/lib.sh"
fx="$SOURCE_DIR/tests/fixtures/store-v7"
gzip -dc "$fx/billctl-v7.db.gz" >"$WORK/s.db"
[ "$(sqlite3 "$WORK/s.db" 'PRAGMA user_version')" == 7 ] || fail "the fixture is not a schema-7 store"
db() { billctl --db "$WORK/s.db" "$@"; }
same() {  # same NAME COMMAND...: the command prints what the old billctl printed
  local name=$1; shift
  "$@" >"$WORK/$name" || fail "$name: exit $?"
  diff -u "$fx/$name" "$WORK/$name" || fail "$name differs after the migration"
}
same report.csv db report --period 2026-10 --format csv
[ "$(sqlite3 "$WORK/s.db" 'PRAGMA user_version')" == 16 ] || fail "not migrated to schema 16"
# Schema 12 rebuilt the usage table: its indexes and the rollups' delete triggers are there again.
assert_eq "$(sqlite3 "$WORK/s.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE tbl_name = 'usage' AND type IN ('index', 'trigger') ORDER BY name)")" \
  "usage_charge_delete usage_charge_move usage_combo_hourly_delete usage_dim_hourly_delete usage_id usage_meter_ts usage_session_ts usage_ts usage_user_monthly_delete" "usage indexes and triggers"
same summary.csv db usage summary --period 2026-10 --by department,model --format csv
# Budget projections come from the forecast since (they were the run rate): the rest is the same.
same_but_projections() {  # same_but_projections NAME COMMAND...
  local name=$1; shift
  "$@" >"$WORK/$name" || fail "$name: exit $?"
  python3 - "$fx/$name" "$WORK/$name" <<'PY' || fail "$name differs after the migration"
import json, sys
def strip(path):
    doc = json.load(open(path))
    for b in doc["budgets"]:
        for k in ("projected", "projected_pct", "p_exceed"):
            b.pop(k, None)
    return doc
a, b = strip(sys.argv[1]), strip(sys.argv[2])
if a != b:
    print(json.dumps(a, indent=1)); print(json.dumps(b, indent=1)); sys.exit(1)
PY
}
same_but_projections budgets-status.json db budgets status --format json
same credits-balance.json db credits balance --format json
same credits-ledger.json db credits ledger --format json
same invoices.json db invoices list --format json
same log.json db usage log --format json
same verify.txt db credits verify
BILLCTL_NOW=2026-10-31T12:00:00Z same_but_projections budgets-status-oct.json db budgets status --format json
BILLCTL_NOW=2026-10-31T12:00:00Z same quota-oct.json db budgets check --department engineering --model gpt-4o --format json
# The budgets' pairs have rollups of their own now, and they agree with the records.
[ "$(sqlite3 "$WORK/s.db" "SELECT group_concat(combo, ' ') FROM (SELECT combo FROM rollup_combos ORDER BY combo)")" == \
  "model,department organization,user" ] || fail "pair rollups not registered"
pair=$(sqlite3 "$WORK/s.db" "SELECT SUM(cost_micro) * 1000000 + SUM(cost_pico), SUM(records) FROM usage_combo_hourly WHERE combo = 'model,department' AND value = '6:gpt-4oengineering'")
scan=$(sqlite3 "$WORK/s.db" "SELECT SUM(cost_micro) * 1000000 + SUM(cost_pico), COUNT(*) FROM usage WHERE model = 'gpt-4o' AND department = 'engineering'")
assert_eq "$pair" "$scan" "pair rollup of gpt-4o in engineering"
# Still a working store: a revision replaces records, the deduct corrects them once.
python3 - "$WORK/s.db" "$WORK/rev.csv" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT id, ts, model, organization, department, user FROM usage WHERE organization = 'acme' AND meter = '' ORDER BY id LIMIT 3").fetchall()
with open(sys.argv[2], "w") as f:
    f.write("id,timestamp,model,organization,department,user,input_tokens,output_tokens\n")
    import datetime
    for r in rows:
        t = datetime.datetime.fromtimestamp(r[1], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(f"{r[0]},{t},{r[2]},{r[3]},{r[4]},{r[5]},2000000,1000\n")
PY
db usage import --quiet "$WORK/rev.csv"
db credits deduct --org acme --period 2026-10 --actor test --format json >"$WORK/deduct.json"
corrected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["organizations"][0]["corrected"])' "$WORK/deduct.json")
assert_eq "$corrected" 3 "records corrected after the revision"
db credits deduct --org acme --period 2026-10 --actor test --format json >"$WORK/again.json"
again=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["organizations"][0]; print(o["charged"], o["corrected"])' "$WORK/again.json")
assert_eq "$again" "0 0" "a second deduct charges nothing"
db credits verify >/dev/null || fail "the ledger does not verify after the migration"
# Who has usage under each department and feature per month (schema 15) agrees with the records,
# after the migration filled it and the revision replaced three of them.
for dim in department feature; do
  monthly=$(sqlite3 "$WORK/s.db" "SELECT group_concat(k || '=' || n, ' ') FROM (SELECT value || '/' || organization || '/' || user || '/' || month AS k, SUM(records) AS n FROM usage_user_monthly WHERE dim = '$dim' GROUP BY value, organization, user, month HAVING n != 0 ORDER BY k)")
  scan=$(sqlite3 "$WORK/s.db" "SELECT group_concat(k || '=' || n, ' ') FROM (SELECT $dim || '/' || organization || '/' || user || '/' || (strftime('%Y', ts, 'unixepoch') * 12 + strftime('%m', ts, 'unixepoch') - 1) AS k, COUNT(*) AS n FROM usage WHERE meter = '' GROUP BY k ORDER BY k)")
  [ -n "$scan" ] || fail "no token records to compare"
  assert_eq "$monthly" "$scan" "usage_user_monthly by $dim"
done
db report --period 2026-10 --format json | records_total >/dev/null
echo "ok: schema-7 store migrated, answers unchanged"
