#!/usr/bin/env bash
# Usage in a real ClickHouse server gives the same answers as the embedded store, byte for byte:
# reports in every format, summaries over every dimension, top, the live view, budgets (status, check and its exit
# code), forecast, anomalies, patterns, recommendations and invoices; before and after a revised
# re-import; usage pull and reconcile; billctl serve over it (--remote). A failed import leaves nothing visible; wrong credentials exit 4, a server that is
# down exits 1 naming it; results survive a server restart.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse.sh"
F="$SOURCE_DIR/tests/fixtures"
start_clickhouse ch
CH="clickhouse://127.0.0.1:$ch_HTTP/billing"
S=(--db "$WORK/s.db")
C=(--db "$CH" --state "$WORK/state.db")
"$GEN_USAGE" --records 20000 --month 2026-10 --shape real >"$WORK/real.csv"

both() { billctl "${S[@]}" "$@" >/dev/null 2>&1; billctl "${C[@]}" "$@" >/dev/null 2>&1; }

import_out() { billctl "${C[@]}" usage import "$@" 2>&1; }
billctl "${S[@]}" usage import "$WORK/real.csv" "$F/meters.csv" "$F/small.csv" "$F/claude-code" >"$WORK/s-import.txt" 2>&1
import_out "$WORK/real.csv" "$F/meters.csv" "$F/small.csv" "$F/claude-code" >"$WORK/c-import.txt"
grep -q "into clickhouse://127.0.0.1:$ch_HTTP/billing" "$WORK/c-import.txt" || fail "import does not name the ClickHouse store: $(cat "$WORK/c-import.txt")"
diff <(sed 's/ into .*//' "$WORK/s-import.txt") <(sed 's/ into .*//' "$WORK/c-import.txt") || fail "import summaries differ"
both budgets apply --file "$F/budgets.toml"
# Budgets on pairs of dimensions in one period: their queries read the records in one scan.
cat >"$WORK/pairs.toml" <<'TOML'
[[budget]]
name = "eng-gpt"
scope = ["department:engineering", "model:gpt-4o"]
limit = "50 USD"
[[budget]]
name = "research-sonnet-users"
scope = ["department:research", "user:zoe.2"]
limit = "5 USD"
[[budget]]
name = "acme-eng-alice"
scope = ["organization:acme", "department:engineering", "user:alice"]
limit = "3 USD"
[[budget]]
name = "acme-chat"
scope = ["organization:acme", "feature:chat"]
limit = "20 USD"
stages = [10, 50]
TOML
both budgets apply --file "$WORK/pairs.toml"
both invoices plans assign acme starter --since 2026-10

compare_all() {
  same usage imports
  for fmt in table json csv focus; do same report --period 2026-10 --format "$fmt"; done
  same report --period 2026-10 --where department=engineering --format json
  for by in provider model organization department user feature project status service_tier session day week month hour \
            department,model user,day model,status,hour organization,department,project,week; do
    same usage summary --period 2026-10 --by "$by" --format csv
  done
  same usage summary --period 2026-10 --by model --where department=engineering --where department=research --format json
  same usage summary --since 2026-10-05T13:30:00Z --until 2026-10-09T07:15:00Z --by user --format csv
  same usage top --period 2026-10 --by user --limit 5
  BILLCTL_NOW=2026-10-20T15:20:00Z SAME_OK=1 same usage watch --once
  same budgets status --format json
  same budgets check --user alice --department engineering
  same budgets check --user zoe.2 --department research
  same budgets check --user alice --department engineering --organization acme --format json
  same budgets check --user nobody
  # Queries on a registered pair read its rollup (department,user and the others come from budgets).
  same usage summary --period 2026-10 --by user --where department=research --format csv
  same usage summary --period 2026-10 --by department,user --format csv
  same usage summary --period 2026-10 --by organization,user,day --where user=zoe.2 --where user=alice --format csv
  same usage summary --since 2026-10-05T13:30:00Z --until 2026-10-09T07:15:00Z --by model,day --where department=engineering --format csv
  same forecast --period 2026-11 --by department --format json
  same usage anomalies --period 2026-10 --format json
  same usage patterns --period 2026-10 --format json
  same report recommendations --period 2026-10 --format json
  SAME_OK=1 same --config "$F/billing.toml" invoices generate --period 2026-10 --org acme --format json
}
compare_all
# The first aggregation registered the pairs in ClickHouse, each with its rollup filled once.
combos=$(ch_query "$ch_HTTP" "SELECT name FROM billing.rollup_combos ORDER BY name FORMAT TSV" | tr '\n' ' ')
[ "$combos" == "department,user model,department organization,department,user organization,feature organization,user " ] || fail "registered combos: $combos"

# Completion offers the values stored in ClickHouse (the state file holds no usage), as the
# embedded store offers its own.
for words in "usage summary --where department=eng" "budgets set x --scope user:zoe" "credits balance --org a"; do
  # shellcheck disable=SC2086
  want=$(BILLCTL_DB="$WORK/s.db" billctl __complete $words | cut -f1 | tr '\n' ' ')
  # shellcheck disable=SC2086
  got=$(BILLCTL_DB="$CH" BILLCTL_STATE="$WORK/state.db" billctl __complete $words | cut -f1 | tr '\n' ' ')
  [ -n "$want" ] && [ "$got" == "$want" ] || fail "completing '$words' from ClickHouse: '$got', not '$want'"
done

# A revised export replaces records (the replaced counts agree too), then the same file again.
billctl "${S[@]}" usage import "$F/small-revised.csv" "$WORK/real.csv" >"$WORK/s-import.txt" 2>&1
import_out "$F/small-revised.csv" "$WORK/real.csv" >"$WORK/c-import.txt"
diff <(sed 's/ into .*//' "$WORK/s-import.txt") <(sed 's/ into .*//' "$WORK/c-import.txt") || fail "re-import summaries differ"
compare_all
# Ids repeated within one import: the last copy counts, as in the embedded store.
printf 'id,timestamp,provider,model,user,input_tokens,output_tokens\nr-1,2026-10-03T10:00:00Z,openai,gpt-4o,zed,100,10\nr-1,2026-10-03T11:00:00Z,openai,gpt-4o,zed,200,20\nr-2,2026-10-03T12:00:00Z,openai,gpt-4o,zed,5,1\n' >"$WORK/rep.csv"
billctl "${S[@]}" usage import "$WORK/rep.csv" "$WORK/rep.csv" >"$WORK/s-import.txt" 2>&1
import_out "$WORK/rep.csv" "$WORK/rep.csv" >"$WORK/c-import.txt"
diff <(sed 's/ into .*//' "$WORK/s-import.txt") <(sed 's/ into .*//' "$WORK/c-import.txt") || fail "repeated-id import summaries differ"
same usage summary --period 2026-10 --by user,hour --where user=zed --format csv

# A failed import (a bad row in its second file) leaves nothing visible.
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/before.json"
set +e
billctl "${C[@]}" usage import "$WORK/rep.csv" "$F/bad-rows.csv" >"$WORK/fail.out" 2>&1
rc=$?
set -e
[ "$rc" == 1 ] || fail "failed import: exit $rc: $(cat "$WORK/fail.out")"
grep -q "bad-rows.csv" "$WORK/fail.out" || fail "failed import does not name the file: $(cat "$WORK/fail.out")"
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/after.json"
cmp -s "$WORK/before.json" "$WORK/after.json" || fail "a failed import changed the report"
same usage imports

# Credentials: a wrong password exits 4 and names the user, never the password.
set +e
BILLCTL_CLICKHOUSE_USER=billing BILLCTL_CLICKHOUSE_PASSWORD=wrong billctl "${C[@]}" report --period 2026-10 >"$WORK/auth.out" 2>&1
rc=$?
set -e
[ "$rc" == 4 ] || fail "wrong password: exit $rc: $(cat "$WORK/auth.out")"
grep -q "refused user 'billing'" "$WORK/auth.out" || fail "wrong password message: $(cat "$WORK/auth.out")"
! grep -q wrong "$WORK/auth.out" || fail "the password was printed"
BILLCTL_CLICKHOUSE_USER=billing BILLCTL_CLICKHOUSE_PASSWORD=s3cret billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/auth.json"
cmp -s "$WORK/before.json" "$WORK/auth.json" || fail "the billing user sees another report"
# The password from the config: refused unless the config is private; password_env names a variable.
printf '[store]\nusage = "%s"\nuser = "billing"\npassword = "s3cret"\n' "$CH" >"$WORK/ch.toml"
chmod 644 "$WORK/ch.toml"
set +e
billctl --config "$WORK/ch.toml" --state "$WORK/state.db" report --period 2026-10 >"$WORK/cfg.out" 2>&1
rc=$?
set -e
[ "$rc" == 1 ] && grep -q "chmod 600" "$WORK/cfg.out" || fail "a password in a shared config: exit $rc: $(cat "$WORK/cfg.out")"
chmod 600 "$WORK/ch.toml"
billctl --config "$WORK/ch.toml" --state "$WORK/state.db" report --period 2026-10 --format json >"$WORK/cfg.json"
cmp -s "$WORK/before.json" "$WORK/cfg.json" || fail "[store] in the config reads another report"
printf '[store]\nusage = "%s"\nuser = "billing"\npassword_env = "CH_PW"\n' "$CH" >"$WORK/ch2.toml"
CH_PW=s3cret billctl --config "$WORK/ch2.toml" --state "$WORK/state.db" report --period 2026-10 --format json >"$WORK/cfg2.json"
cmp -s "$WORK/before.json" "$WORK/cfg2.json" || fail "store.password_env reads another report"

# Credentials in the address are refused (they would be printed); a malformed address is exit 2.
set +e
billctl --db "clickhouse://billing:s3cret@127.0.0.1:$ch_HTTP/billing" report >"$WORK/url.out" 2>&1; rc=$?
set -e
[ "$rc" == 2 ] && grep -q "credentials do not belong in the address" "$WORK/url.out" || fail "credentials in the URL: exit $rc"
! grep -q s3cret "$WORK/url.out" || fail "the password was printed"
set +e
billctl --db "clickhouse://127.0.0.1/billing" report >"$WORK/url.out" 2>&1; rc=$?
set -e
[ "$rc" == 2 ] && grep -q "invalid --db" "$WORK/url.out" || fail "address without a port: exit $rc: $(cat "$WORK/url.out")"

# doctor names the server, its version and the records.
billctl "${C[@]}" doctor --format json >"$WORK/doctor.json" || true
grep -q "\"text\": \"clickhouse://127.0.0.1:$ch_HTTP/billing: ClickHouse 18" "$WORK/doctor.json" || fail "doctor: $(cat "$WORK/doctor.json")"

# usage pull (a local stand-in for the provider's API): records into ClickHouse, billed lines and
# pulled days into the state file; the same days, totals and reconciliation as the embedded store,
# nothing doubled by a repeated pull, a revised day's records replaced.
: "${MOCK_PROVIDER:?set by CTest}"
P="$SOURCE_DIR/tests/fixtures/providers"
cp "$P/openai.json" "$WORK/openai.json"
cp "$P/anthropic.json" "$WORK/anthropic.json"
"$MOCK_PROVIDER" --port-file "$WORK/mock.port" --log "$WORK/mock.log" --openai "$WORK/openai.json" \
  --anthropic "$WORK/anthropic.json" --openai-key sk-admin-secret-1 --anthropic-key sk-ant-admin-secret-2 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/mock.port" ] && break; sleep 0.05; done
[ -s "$WORK/mock.port" ] || fail "mock provider did not start"
mock="http://127.0.0.1:$(cat "$WORK/mock.port")/v1"
export OPENAI_ADMIN_KEY=sk-admin-secret-1
SAME_OK=1 same usage pull openai --period 2026-10 --base-url "$mock" --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["records"] > 0 and d["billed_lines"] > 0 else d)' "$WORK/b.out" ||
  fail "the pull brought nothing (the test compares nothing)"
same report --period 2026-10 --format json
same report reconcile --period 2026-10 --provider openai --format json
SAME_OK=1 same usage pull openai --period 2026-10 --base-url "$mock" --format json
same report --period 2026-10 --format json
cp "$P/openai-revised.json" "$WORK/openai.json"
SAME_OK=1 same usage pull openai --period 2026-10 --base-url "$mock"
grep -q "revised 2026-10-28" "$WORK/b.err" || fail "revised day not reported: $(cat "$WORK/b.err")"
same report --period 2026-10 --format json
same report reconcile --period 2026-10 --provider openai --format json
same usage summary --period 2026-10 --by provider,model,day --format csv
same usage imports

# billctl serve over the ClickHouse store: the CLI through it prints what it prints locally.
secret=$(billctl "${C[@]}" serve clients add ops --org ops --role platform-admin --format json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
serve_port=$(free_port)
"$BILLCTL_BIN" "${C[@]}" serve --listen "127.0.0.1:$serve_port" 2>"$WORK/serve.log" &
serve_pid=$!
PIDS+=($serve_pid)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$serve_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
for cmd in "report --period 2026-10 --format json" "usage summary --period 2026-10 --by department,model" "budgets status" "forecast --period 2026-10"; do
  billctl "${C[@]}" $cmd >"$WORK/l.out" 2>&1 || true
  BILLCTL_CLIENT_ID=ops BILLCTL_CLIENT_SECRET=$secret billctl --remote "http://127.0.0.1:$serve_port" $cmd >"$WORK/r.out" 2>&1 || true
  cmp -s "$WORK/l.out" "$WORK/r.out" || fail "--remote $cmd over ClickHouse differs: $(diff "$WORK/l.out" "$WORK/r.out" | head -5)"
done
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve over ClickHouse did not stop cleanly: $(tail -3 "$WORK/serve.log")"

# A restart keeps everything; a server that is down is a clear error.
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/before.json"
stop_clickhouse ch
set +e
billctl "${C[@]}" report --period 2026-10 >"$WORK/down.out" 2>&1; rc=$?
set -e
[ "$rc" == 1 ] && grep -q "cannot reach ClickHouse at 127.0.0.1:$ch_HTTP" "$WORK/down.out" || fail "server down: exit $rc: $(cat "$WORK/down.out")"
billctl "${C[@]}" doctor >"$WORK/doctor-down.txt" 2>&1 || true
grep -q "cannot reach ClickHouse at 127.0.0.1:$ch_HTTP" "$WORK/doctor-down.txt" || fail "doctor with the server down: $(cat "$WORK/doctor-down.txt")"
run_clickhouse ch
billctl "${C[@]}" report --period 2026-10 --format json >"$WORK/restarted.json"
cmp -s "$WORK/before.json" "$WORK/restarted.json" || fail "the report changed across a restart"
echo "ok: ClickHouse store matches the embedded store"
