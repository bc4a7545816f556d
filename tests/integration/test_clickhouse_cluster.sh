#!/usr/bin/env bash
# Usage on a cluster of two ClickHouse servers (a Distributed table over a local table on each,
# all made by billctl) answers exactly as the embedded store: reports, summaries, budgets, a
# revised re-import, a failed import and credits deduct; both shards hold records.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse.sh"
F="$SOURCE_DIR/tests/fixtures"
t1=$(free_port); t2=$(free_port)
rs="<remote_servers><billing_cluster>
<shard><replica><host>127.0.0.1</host><port>$t1</port></replica></shard>
<shard><replica><host>127.0.0.1</host><port>$t2</port></replica></shard>
</billing_cluster></remote_servers>"
write_clickhouse_config "$WORK/one" "$(free_port)" "$t1" "$(free_port)" "$rs"
write_clickhouse_config "$WORK/two" "$(free_port)" "$t2" "$(free_port)" "$rs"
run_clickhouse one
run_clickhouse two
CH="clickhouse://127.0.0.1:$one_HTTP,127.0.0.1:$two_HTTP/billing"
S=(--config "$F/billing.toml" --db "$WORK/s.db")
C=(--config "$F/billing.toml" --db "$CH" --cluster billing_cluster --state "$WORK/state.db")
# Without the cluster name several servers are a usage error.
set +e
billctl --db "$CH" report >"$WORK/nocluster.out" 2>&1; rc=$?
set -e
[ "$rc" == 2 ] && grep -q -- "--cluster NAME" "$WORK/nocluster.out" || fail "several servers without --cluster: exit $rc: $(cat "$WORK/nocluster.out")"
"$GEN_USAGE" --records 300000 --month 2026-10 --shape real >"$WORK/real.csv"
SAME_EMPTY_OK=1
billctl "${S[@]}" usage import --quiet "$WORK/real.csv" "$F/meters.csv" "$F/small.csv" "$F/claude-code"
billctl "${C[@]}" usage import --quiet "$WORK/real.csv" "$F/meters.csv" "$F/small.csv" "$F/claude-code"
for port in "$one_HTTP" "$two_HTTP"; do
  n=$(ch_query "$port" "SELECT count() FROM billing.usage_local")
  [ "$n" -gt 50000 ] || fail "shard at $port holds $n records"
done
compare() {
  same usage imports
  for fmt in json csv; do same report --period 2026-10 --format "$fmt"; done
  for by in model user,day session department,model,hour; do same usage summary --period 2026-10 --by "$by" --format csv; done
  same budgets check --user alice --department engineering
  same forecast --period 2026-11 --format json
  same usage anomalies --period 2026-10 --format json
}
compare
same credits deduct --all --period 2026-10 --actor cron --format json
same usage import --quiet "$F/small-revised.csv" "$F/claude-code"
compare
same credits deduct --all --period 2026-10 --actor cron --format json
grep -q '"corrected": [1-9]' "$WORK/b.out" || fail "no correction after the revised import"
set +e
billctl "${C[@]}" usage import "$F/small.csv" "$F/bad-rows.csv" >/dev/null 2>&1; rc=$?
set -e
[ "$rc" == 1 ] || fail "failed import: exit $rc"
compare
echo "ok: a two-shard cluster matches the embedded store"
