#!/usr/bin/env bash
# The ClickHouse store beside the embedded one (called by scripts/bench; alone with
# scripts/bench --clickhouse [SIZES...]): on real-shaped usage of each size, usage import (fresh
# and again), the monthly report, summaries, 50 budgets, a hard quota, credits deduct and invoices,
# into one server and into a cluster of two shards (both servers on this machine).
#   bench/clickhouse_bench.sh BIN GEN WORK OUT SIZES...
set -euo pipefail
bin=$1 gen=$2 work=$3 out=$4
shift 4
root="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$work/clickhouse"
rm -rf "$WORK"
mkdir -p "$WORK"
PIDS=()
fail() { echo "bench: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
source "$root/tests/integration/clickhouse.sh"
# The servers run without the tests' memory and thread limits.
t0=$(free_port) t1=$(free_port) t2=$(free_port)
rs="<remote_servers><bench><shard><replica><host>127.0.0.1</host><port>$t1</port></replica></shard><shard><replica><host>127.0.0.1</host><port>$t2</port></replica></shard></bench></remote_servers>"
write_clickhouse_config "$WORK/single" "$(free_port)" "$t0" "$(free_port)"
write_clickhouse_config "$WORK/one" "$(free_port)" "$t1" "$(free_port)" "$rs"
write_clickhouse_config "$WORK/two" "$(free_port)" "$t2" "$(free_port)" "$rs"
for d in single one two; do sed -i 's:<max_memory_usage>4000000000</max_memory_usage><max_threads>2</max_threads>:<max_memory_usage>10000000000</max_memory_usage>:' "$WORK/$d/users.xml"; done
run_clickhouse single
run_clickhouse one
run_clickhouse two

measure_once() {
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/last.out" 2>"$WORK/last.err" || { cat "$WORK/last.err" >&2; return 1; }
  read -r secs kb <"$WORK/time.txt"
  echo "$secs $((kb / 1024))"
}
measure() {
  local a b
  a=$(measure_once "$@")
  b=$(measure_once "$@")
  python3 -c "import sys; a,b=sys.argv[1].split(),sys.argv[2].split(); print(' '.join(a if float(a[0])<=float(b[0]) else b))" "$a" "$b"
}
export BILLCTL_NOW=2026-11-02T00:00:00Z
for n in "$@"; do
  real="$work/usage-real-$n.csv"
  [ -s "$real" ] || "$gen" --records "$n" --seed 1 --shape real >"$real"
  {
    echo
    echo "ClickHouse $(ch_query "$single_HTTP" "SELECT version()") (one server; two shards on this machine) beside the embedded store, $n real-shaped records"
    echo
    echo "| task | ClickHouse s | peak MB | two shards s | peak MB | embedded s | peak MB |"
    echo "|---|---|---|---|---|---|---|"
  } | tee -a "$out"
  db="$WORK/embedded-$n.db"
  rm -f "$db" "$db-wal" "$db-shm"
  E=(--db "$db")
  C=(--db "clickhouse://127.0.0.1:$single_HTTP/bench$n" --state "$WORK/state-$n.db")
  K=(--db "clickhouse://127.0.0.1:$one_HTTP,127.0.0.1:$two_HTTP/bench$n" --cluster bench --state "$WORK/kstate-$n.db")
  row() {  # TASK MEASURE ARGS... (the store flags go first)
    local task=$1 how=$2
    shift 2
    read -r cs cm < <($how "$bin" "${C[@]}" "$@")
    read -r ks km < <($how "$bin" "${K[@]}" "$@")
    read -r es em < <($how "$bin" "${E[@]}" "$@")
    echo "| $task | $cs | $cm | $ks | $km | $es | $em |" | tee -a "$out"
  }
  row "usage import into an empty store ($(python3 -c "print(f'{$n/1e6:g}')")M records)" measure_once usage import --quiet "$real"
  row "usage import of the same file again (all replaced)" measure_once usage import --quiet "$real"
  row "report from the store (every section)" measure report --period 2026-10 --format json
  cmp -s <("$bin" "${C[@]}" report --period 2026-10 --format json) <("$bin" "${E[@]}" report --period 2026-10 --format json) ||
    fail "ClickHouse and the embedded store report differently"
  row "usage summary --by user" measure usage summary --period 2026-10 --by user --format csv
  row "usage summary --by hour" measure usage summary --period 2026-10 --by hour --format csv
  row "usage summary --by department,model (from the records)" measure usage summary --period 2026-10 --by department,model --format csv
  python3 "$root/bench/budgets50.py" "$db" >"$WORK/budgets50.toml"
  each() { "$bin" "${C[@]}" "$@"; "$bin" "${K[@]}" "$@"; "$bin" "${E[@]}" "$@"; }
  BILLCTL_NOW=2026-10-31T12:00:00Z each budgets apply -f "$WORK/budgets50.toml" --quiet
  BILLCTL_NOW=2026-10-31T12:00:00Z row "budgets status (50 budgets)" measure budgets status --format json
  # allow (0) or deny (3): both are answers
  cat >"$WORK/quota.sh" <<'SH'
"$@" budgets check --user alice.1 --department engineering --model gpt-4o --feature chat --project atlas --format json >/dev/null
c=$?; [ $c -eq 0 ] || [ $c -eq 3 ]
SH
  read -r cs cm < <(BILLCTL_NOW=2026-10-31T12:00:00Z measure sh "$WORK/quota.sh" "$bin" "${C[@]}")
  read -r ks km < <(BILLCTL_NOW=2026-10-31T12:00:00Z measure sh "$WORK/quota.sh" "$bin" "${K[@]}")
  read -r es em < <(BILLCTL_NOW=2026-10-31T12:00:00Z measure sh "$WORK/quota.sh" "$bin" "${E[@]}")
  echo "| budgets check (hard quota, every scope mix) | $cs | $cm | $ks | $km | $es | $em |" | tee -a "$out"
  row "credits deduct --all (first run)" measure_once credits deduct --all --period 2026-10 --actor bench --format json
  row "credits deduct --all (again: nothing new)" measure_once credits deduct --all --period 2026-10 --actor bench --format json
  for org in acme globex initech umbrella; do each invoices plans assign "$org" starter --since 2026-10 >/dev/null; done
  BILLCTL_CONFIG=/dev/null row "invoices generate (all organizations)" measure_once invoices generate --period 2026-10 --format json
  rm -f "$db" "$db-wal" "$db-shm"
done
