#!/usr/bin/env bash
# The billing API under load (called by scripts/bench --serve [SIZE]): a store of SIZE
# real-shaped records of one month, billctl serve on loopback (plain HTTP, the default 64 workers), 64
# concurrent clients sending a fixed number of GraphQL requests over keep-alive connections
# (tools/graphql_load.cpp). Reports throughput and p50/p99 latency per query.
#   bench/serve_bench.sh BIN GEN LOAD WORK OUT SIZE
set -euo pipefail
bin=$1 gen=$2 load=$3 work=$4 out=$5 size=${6:-10000000}
WORK="$work/serve"
rm -rf "$WORK"
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
export BILLCTL_DB="$WORK/store.db" BILLCTL_NOW=2026-10-31T12:00:00Z XDG_CONFIG_HOME="$WORK/config"
data="$work/real$size.csv"
[ -s "$data" ] || "$gen" --records "$size" --month 2026-10 --seed 1 --shape real > "$data"
"$bin" usage import "$data" > /dev/null 2>&1
secret=$("$bin" serve clients add bench --org acme --role platform-admin --format json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
tenant=$("$bin" serve clients add bench-acme --org acme --role tenant-admin --format json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" 2> "$WORK/serve.log" &
PIDS+=($!)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break; sleep 0.05; done
token() { curl -sf -u "$1:$2" -d grant_type=client_credentials "http://127.0.0.1:$port/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
token bench "$secret" > "$WORK/platform.token"
token bench-acme "$tenant" > "$WORK/tenant.token"
{
  echo
  echo "billctl serve, $size records of 2026-10 in the embedded store, 64 concurrent clients, $(nproc) cores (client and server on this machine)"
  echo
  echo "| query | as | requests | req/s | p50 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee -a "$out"
run() {  # run LABEL TOKEN REQUESTS QUERY
  local r
  r=$("$load" --port "$port" --token-file "$WORK/$2.token" --requests "$3" --clients 64 --query "$4") || echo "bench: $1 had errors: $r" >&2
  python3 -c '
import json, sys
r = json.loads(sys.argv[3])
n, rate, p50, p99, top, errors = (r[k] for k in ("requests", "per_second", "p50_ms", "p99_ms", "max_ms", "errors"))
print(f"| {sys.argv[1]} | {sys.argv[2]} | {n} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {top:.1f} | {errors} |")
' "$1" "$2" "$r" | tee -a "$out"
}
q_dept='{ usage(period: "2026-10", by: ["department"]) { total { cost { amount } } groups { keys totals { requests tokens cost { amount } } } } }'
q_day='{ usage(period: "2026-10", by: ["day"]) { groups { keys totals { cost { amount } } } } }'
q_user='{ usage(period: "2026-10", by: ["user"]) { groups(limit: 10) { keys totals { cost { amount } } } } }'
q_budgets='{ budgets { name status { spent usedPercent } } me { role } }'
run "usage summary by department (month)" platform 20000 "$q_dept"
run "usage summary by department (month)" tenant 20000 "$q_dept"
run "usage summary by day (month)" platform 20000 "$q_day"
run "usage summary by user (month, 1,000 users)" platform 200 "$q_user"
run "me + budgets" tenant 20000 "$q_budgets"
