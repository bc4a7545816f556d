#!/usr/bin/env bash
# A deduction that leaves the balance below [credits] low_balance sends one alert per organization
# and month through the configured channel (a webhook on 127.0.0.1); a failed send is reported
# (exit 5) and retried by the next run; a new month alerts again.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml"
start_receiver hooks
start_receiver flaky --fail-first 2 --status 503
cat >"$WORK/config.toml" <<TOML
[credits]
low_balance = "980"
channels = ["hooks"]
[notify]
attempts = 1
backoff_ms = 10
[notify.channels.hooks]
type = "webhook"
url = "http://127.0.0.1:$hooks_PORT/low"
[notify.channels.flaky]
type = "webhook"
url = "http://127.0.0.1:$flaky_PORT/low"
TOML
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"
billctl credits buy starter --org acme --reference pay-1 --actor finance >/dev/null   # 1,000 credits
billctl --quiet credits deduct --org acme --period 2026-10-01 --actor cron >/dev/null   # -> 994.14
assert_eq "$(count_requests "$hooks_LOG" /low)" "0" "alerts while the balance is above the threshold"
billctl --quiet credits deduct --org acme --period 2026-10 --actor cron >/dev/null      # -> 966.56
assert_eq "$(count_requests "$hooks_LOG" /low)" "1" "alerts after falling below the threshold"
requests_to "$hooks_LOG" /low | python3 -c '
import json, sys
body = json.loads(json.loads(sys.stdin.readline())["body"])
assert body["kind"] == "billctl.credits.low_balance", body
assert body["organization"] == "acme", body
assert body["balance"] == "966.56", body
assert body["threshold"] == "980", body
assert body["period"] == "2026-11", body
' || fail "payload: $(cat "$hooks_LOG")"
requests_to "$hooks_LOG" /low | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["body"])' |
  validate_schema billctl.credits.low_balance || fail "the low-balance payload does not match its schema"
# A revised record the same month: a correction, still low, no second alert.
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small-revised.csv"
billctl --quiet credits deduct --org acme --period 2026-10 --actor cron >/dev/null      # -> 962.44
assert_eq "$(count_requests "$hooks_LOG" /low)" "1" "alerts after a second deduction in the same month"
# Next month, still low: alerted again.
BILLCTL_NOW=2026-12-01T08:00:00Z billctl --quiet credits deduct --org acme --period 2026-11 --actor cron >/dev/null
assert_eq "$(count_requests "$hooks_LOG" /low)" "2" "alerts in the next month"

# A failing channel: exit 5 and the next run tries again, until it is sent.
sed -i 's/channels = \["hooks"\]/channels = ["flaky"]/' "$WORK/config.toml"
billctl credits buy starter --org globex --reference pay-2 --actor finance >/dev/null
for want in 5 5 0; do
  set +e
  billctl --quiet credits deduct --org globex --period 2026-10 --actor cron >"$WORK/g.out" 2>"$WORK/g.err"
  code=$?
  set -e
  assert_eq "$code" "$want" "exit code of a deduction whose alert $( [ "$want" = 5 ] && echo fails || echo is sent)"
  [ "$want" = 5 ] && { grep -q "the next run retries" "$WORK/g.err" || fail "stderr: $(cat "$WORK/g.err")"; }
done
assert_eq "$(count_requests "$flaky_LOG" /low)" "3" "attempts: two failed, one sent"
billctl --quiet credits deduct --org globex --period 2026-10 --actor cron >/dev/null
assert_eq "$(count_requests "$flaky_LOG" /low)" "3" "no alert once sent this month"
# The charge was made once although the alert failed twice.
assert_eq "$(billctl credits ledger --org globex --kind usage --format csv | tail -n +2 | wc -l | tr -d ' ')" "1" "usage entries of globex"
billctl credits verify >/dev/null
echo ok
