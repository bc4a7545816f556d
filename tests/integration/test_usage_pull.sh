# usage pull against a local stand-in for the providers' APIs (tests/tools/mock_provider.cpp):
# several pages per range, a 429 with Retry-After, a 500 and a connection dropped mid-page that
# succeed on retry, a pull repeated (nothing doubled), a revised settled day (reported, replaced),
# a rejected key (exit 4, never printed), a provider that keeps failing (exit 1, nothing stored),
# attribution from the config, and reconcile as a CI gate.
. "$(dirname "$0")/lib.sh"
: "${MOCK_PROVIDER:?set by CTest}"
F="$SOURCE_DIR/tests/fixtures/providers"
cp "$F/openai.json" "$WORK/openai.json"
cp "$F/anthropic.json" "$WORK/anthropic.json"
export BILLCTL_DB="$WORK/store.db"

start_mock() {  # start_mock NAME [options]: sets ${NAME}_URL and ${NAME}_LOG
  local name=$1; shift
  "$MOCK_PROVIDER" --port-file "$WORK/$name.port" --log "$WORK/$name.log" --openai "$WORK/openai.json" \
    --anthropic "$WORK/anthropic.json" --openai-key sk-admin-secret-1 --anthropic-key sk-ant-admin-secret-2 "$@" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  [ -s "$WORK/$name.port" ] || fail "mock $name did not start"
  touch "$WORK/$name.log"
  printf -v "${name}_URL" 'http://127.0.0.1:%s/v1' "$(cat "$WORK/$name.port")"
  printf -v "${name}_LOG" '%s' "$WORK/$name.log"
}
total() { billctl report --period "$1" --format json | exact_total; }
records() { billctl report --period "$1" --format json | records_total; }
export OPENAI_ADMIN_KEY=sk-admin-secret-1 ANTHROPIC_ADMIN_KEY=sk-ant-admin-secret-2

# 1. Faults on the way, two buckets per page: the pull still gets everything.
start_mock flaky --page-size 2 --faults 2:429,4:500,6:drop
billctl usage pull openai --since 2026-10-25 --base-url "$flaky_URL" --format json > "$WORK/pull1.json" 2> "$WORK/pull1.err" \
  || fail "pull through faults failed: $(cat "$WORK/pull1.err")"
python3 - "$WORK/pull1.json" "$flaky_LOG" <<'EOF' || fail "first pull"
import json, sys
d = json.load(open(sys.argv[1]))
log = [json.loads(l) for l in open(sys.argv[2])]
assert d["kind"] == "billctl.usage.pull" and d["records"] == 39 and d["billed_lines"] == 64, d
assert [x["change"] for x in d["days"]] == ["new"] * 9, d["days"]
assert d["unpriced_models"] == ["text-embedding-3-small"], d
# every request authorised; the faulted requests were asked again
assert all(x["authorized"] for x in log)
completions = [x for x in log if x["path"].endswith("/completions")]
assert len(completions) >= 5 + 3, len(completions)  # 5 pages of 2 buckets, plus 3 retries
assert any(x["params"].get("page") for x in completions)
EOF
validate_schema billctl.usage.pull < "$WORK/pull1.json"
first_total=$(total 2026-10-25..2026-11-02)
first_records=$(records 2026-10-25..2026-11-02)

# 2. The same range again: nothing doubles, every day unchanged.
start_mock steady
billctl usage pull openai --since 2026-10-25 --base-url "$steady_URL" --format json > "$WORK/pull2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(x["change"]=="unchanged" for x in d["days"]), d["days"]' "$WORK/pull2.json" \
  || fail "a repeated pull changed days"
assert_eq "$(total 2026-10-25..2026-11-02)" "$first_total" "total after a repeated pull"
assert_eq "$(records 2026-10-25..2026-11-02)" "$first_records" "records after a repeated pull"

# 3. The provider revised 2026-10-31 (provisional) and 2026-10-28 (settled): both replaced, the settled one reported.
cp "$F/openai-revised.json" "$WORK/openai.json"
billctl usage pull openai --period 2026-10 --base-url "$steady_URL" > "$WORK/pull3.txt" 2> "$WORK/pull3.err"
grep -q "warning: openai revised 2026-10-28, a settled day" "$WORK/pull3.err" || fail "revised settled day not reported: $(cat "$WORK/pull3.err")"
grep -q "2026-10-31  provisional  updated" "$WORK/pull3.txt" || fail "revised provisional day: $(cat "$WORK/pull3.txt")"
assert_eq "$(records 2026-10-25..2026-11-02)" "$first_records" "records after a revised pull"
# The store now holds exactly what a fresh pull of the revised data gives.
revised_total=$(total 2026-10-25..2026-11-02)
BILLCTL_DB="$WORK/fresh.db" billctl usage pull openai --since 2026-10-25 --base-url "$steady_URL" --quiet > /dev/null
assert_eq "$(BILLCTL_DB="$WORK/fresh.db" total 2026-10-25..2026-11-02)" "$revised_total" "revised pull vs fresh pull"
[ "$revised_total" != "$first_total" ] || fail "the revision changed nothing"

# The same pull as CSV, without storing (--dry-run): one row per day, nothing changed in the store.
billctl usage pull openai --period 2026-10-25..2026-10-27 --base-url "$steady_URL" --dry-run --format csv > "$WORK/dry.csv"
assert_eq "$(head -1 "$WORK/dry.csv" | tr -d '\r')" "day,state,change,records,billed_lines,computed,billed" "pull CSV header"
assert_eq "$(wc -l < "$WORK/dry.csv" | tr -d ' ')" 4 "pull CSV rows"
assert_eq "$(total 2026-10-25..2026-11-02)" "$revised_total" "total after a dry run"

# 4. A rejected key: exit 4, the variable named, the key never printed or stored.
set +e
OPENAI_ADMIN_KEY=sk-admin-wrong-3 billctl usage pull openai --base-url "$steady_URL" > "$WORK/auth.out" 2> "$WORK/auth.err"
rc=$?
set -e
assert_eq "$rc" 4 "exit code of a rejected key"
grep -q "check OPENAI_ADMIN_KEY" "$WORK/auth.err" || fail "auth message: $(cat "$WORK/auth.err")"
grep -rq "sk-admin-" "$WORK/auth.out" "$WORK/auth.err" "$WORK/pull1.err" "$WORK/pull3.err" && fail "a key was printed"
for f in "$WORK"/store.db*; do grep -q "sk-admin-secret-1" "$f" && fail "the key was written to $f"; done

# 5. A provider that keeps failing, or keeps dropping the connection: exit 1, nothing of the run stored.
before=$(billctl report --period 2026-10 --format json)
for kind in 500 drop; do
  start_mock "bad_$kind" --always "$kind"
  url_var="bad_${kind}_URL"
  set +e
  billctl usage pull openai --since 2026-10-20 --base-url "${!url_var}" > /dev/null 2> "$WORK/fail.err"
  rc=$?
  set -e
  assert_eq "$rc" 1 "exit code when the provider keeps failing ($kind)"
  grep -q "nothing was stored" "$WORK/fail.err" || fail "failure message ($kind): $(cat "$WORK/fail.err")"
  assert_eq "$(billctl report --period 2026-10 --format json)" "$before" "store after a failed pull ($kind)"
done

# 6. Anthropic with attribution from the config; reconcile gates CI.
mkdir -p "$XDG_CONFIG_HOME/billctl"
cat > "$XDG_CONFIG_HOME/billctl/config.toml" <<EOF
[providers.anthropic]
organization = "acme"
[providers.anthropic.workspaces.wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ]
department = "research"
project = "deep-search"
EOF
chmod 600 "$XDG_CONFIG_HOME/billctl/config.toml"
billctl usage pull anthropic --since 2026-10-25 --base-url "$steady_URL" --quiet > /dev/null
billctl usage summary --period 2026-10-25..2026-11-02 --where provider=anthropic --by department,project --format csv > "$WORK/attr.csv"
grep -q "^research,deep-search," "$WORK/attr.csv" || fail "attribution: $(cat "$WORK/attr.csv")"
grep -q "^,default," "$WORK/attr.csv" || fail "unmapped default workspace: $(cat "$WORK/attr.csv")"
billctl report reconcile --period 2026-10 --provider anthropic --fail-above 1% --format json > "$WORK/rec.json"
validate_schema billctl.report.reconcile < "$WORK/rec.json"
set +e
billctl report reconcile --period 2026-10 --provider openai --fail-above 1% > /dev/null 2> "$WORK/gate.err"
rc=$?
set -e
assert_eq "$rc" 3 "reconcile gate over tolerance"
echo "ok"
