#!/usr/bin/env bash
# store migrate copies the embedded store's usage to ClickHouse import by import: the copy answers
# every report as the embedded store did (the import log too), a second run copies only what is
# new, a run killed with -9 resumes, and the verification compares every month. A kill -9 during a
# usage import leaves nothing visible.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse.sh"
F="$SOURCE_DIR/tests/fixtures"
start_clickhouse ch
CH="clickhouse://127.0.0.1:$ch_HTTP/moved"
S=(--db "$WORK/s.db")
C=(--db "$CH" --state "$WORK/s.db")
for i in 1 2 3; do "$GEN_USAGE" --records 100000 --month 2026-10 --seed "$i" --shape real >"$WORK/part$i.csv"; done
billctl "${S[@]}" usage import --quiet "$WORK/part1.csv" "$F/small.csv" "$F/meters.csv" "$F/claude-code"
billctl "${S[@]}" usage import --quiet "$F/small-revised.csv"
billctl "${S[@]}" store migrate --to "$CH" >"$WORK/m1.txt"
grep -q "^verified: every month" "$WORK/m1.txt" || fail "first migrate: $(cat "$WORK/m1.txt")"
same usage imports
same report --period 2026-10 --format json
same usage summary --period 2026-10 --by model,day --format csv
# Charges follow the usage: charged from the embedded store (kept by record), nothing is charged
# again from ClickHouse with the same file as state (kept by key there), nor back in the embedded store.
K=(--config "$F/billing.toml")
charged() {  # charged NAME: records charged and corrected by the deduct's JSON in $WORK/NAME
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(o["charged"] for o in d["organizations"]), sum(o["corrected"] for o in d["organizations"]))' "$WORK/$1"
}
billctl "${K[@]}" "${S[@]}" credits deduct --all --period 2026-10 --actor test --format json >"$WORK/d1.json"
read -r n _ < <(charged d1.json)
[ "$n" -gt 100000 ] || fail "the embedded store charged only $n records"
billctl "${K[@]}" "${C[@]}" credits deduct --all --period 2026-10 --actor test --format json >"$WORK/d2.json"
assert_eq "$(charged d2.json)" "0 0" "records charged again from ClickHouse"
[ "$(sqlite3 "$WORK/s.db" 'SELECT (SELECT COUNT(*) FROM credit_usage) > 100000 AND (SELECT COUNT(*) FROM credit_charge) = 0')" == 1 ] ||
  fail "the charges are not kept by key for ClickHouse"
billctl "${K[@]}" "${S[@]}" credits deduct --all --period 2026-10 --actor test --format json >"$WORK/d3.json"
assert_eq "$(charged d3.json)" "0 0" "records charged again back in the embedded store"
# Nothing new: nothing copied.
billctl "${S[@]}" store migrate --to "$CH" --format json >"$WORK/m2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["records_copied"] == 0 and d["imports_copied"] == 0 and d["verified"] else d)' "$WORK/m2.json"
# Two more imports; a migrate killed with -9 after its first copy resumes with the rest.
billctl "${S[@]}" usage import --quiet "$WORK/part2.csv"
billctl "${S[@]}" usage import --quiet "$WORK/part3.csv"
# kill_when_more PID SQL: kill -9 the billctl process PID once the count SQL returns grows.
kill_when_more() {
  local before
  before=$(ch_query "$ch_HTTP" "$2")
  for _ in $(seq 600); do
    [ "$(ch_query "$ch_HTTP" "$2")" -gt "$before" ] && break
    sleep 0.05
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
"$BILLCTL_BIN" "${S[@]}" --quiet store migrate --to "$CH" >/dev/null 2>&1 &
kill_when_more $! "SELECT count() FROM moved.imports"
billctl "${S[@]}" store migrate --to "$CH" --format json >"$WORK/m3.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["verified"] and d["imports_copied"] <= 1 and d["imports_copied_before"] >= 6 else d)' "$WORK/m3.json"
same usage imports
same report --period 2026-10 --format json
# A differing copy is not verified: exit 1 naming both stores.
billctl "${C[@]}" usage import --quiet "$F/no-ids.csv"
set +e
billctl "${S[@]}" store migrate --to "$CH" >"$WORK/m4.txt" 2>&1; rc=$?
set -e
[ "$rc" == 1 ] && grep -q "NOT verified" "$WORK/m4.txt" && grep -q "differs from $WORK/s.db" "$WORK/m4.txt" || fail "differing stores: exit $rc: $(cat "$WORK/m4.txt")"

# kill -9 during an import into ClickHouse: its rows never become visible.
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/r1.json"
rows=$(ch_query "$ch_HTTP" "SELECT count() FROM moved.usage")
{ cat "$WORK/part1.csv"; tail -n +2 "$WORK/part2.csv"; tail -n +2 "$WORK/part3.csv"; } | sed 's/,evt_/,kill_/' >"$WORK/big.csv"
"$BILLCTL_BIN" "${C[@]}" --quiet usage import "$WORK/big.csv" >/dev/null 2>&1 &
kill_when_more $! "SELECT count() FROM moved.usage"
[ "$(ch_query "$ch_HTTP" "SELECT count() FROM moved.usage")" -gt "$rows" ] || fail "the killed import wrote no batch (the test saw nothing to hide)"
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/r2.json"
cmp -s "$WORK/r1.json" "$WORK/r2.json" || fail "a killed import changed the report"
# Its rows are garbage: an import a day later takes them out (the start time is moved back a day).
orphans="SELECT count() FROM moved.usage WHERE txn NOT IN (SELECT txn FROM moved.imports)"
[ "$(ch_query "$ch_HTTP" "$orphans")" -gt 0 ] || fail "no rows of the killed import"
billctl "${C[@]}" usage import --quiet "$F/small.csv"
[ "$(ch_query "$ch_HTTP" "$orphans")" -gt 0 ] || fail "a killed import's rows were taken out before a day"
ch_query "$ch_HTTP" "ALTER TABLE moved.pending UPDATE started = started - 86400 WHERE txn NOT IN (SELECT txn FROM moved.imports)"
for _ in $(seq 100); do
  [ "$(ch_query "$ch_HTTP" "SELECT count() FROM system.mutations WHERE database = 'moved' AND is_done = 0")" == 0 ] && break
  sleep 0.1
done
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/r3.json"
billctl "${C[@]}" usage import --quiet "$F/small.csv"
for _ in $(seq 100); do
  [ "$(ch_query "$ch_HTTP" "$orphans") $(ch_query "$ch_HTTP" "SELECT count() FROM moved.usage_hourly WHERE txn NOT IN (SELECT txn FROM moved.imports)")" == "0 0" ] && break
  sleep 0.1
done
[ "$(ch_query "$ch_HTTP" "$orphans")" == 0 ] || fail "the killed import's rows are still stored"
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/r4.json"
cmp -s "$WORK/r3.json" "$WORK/r4.json" || fail "collecting garbage changed the report"
echo "ok: store migrate copies, resumes and verifies; a killed import leaves nothing visible, and its rows go a day later"
