#!/usr/bin/env bash
# A failed send (5xx, timeout, refused connection) is retried with backoff within the run,
# reported (exit 5), never recorded as sent, and sent by the next run.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml" BILLCTL_NOW=2026-10-31T12:00:00Z
start_receiver flaky --fail-first 3 --status 503
start_receiver slow --delay-ms 1500
closed=$(free_port)
cat >"$WORK/config.toml" <<TOML
[notify]
attempts = 2
backoff_ms = 20
timeout_ms = 400
[notify.channels.flaky]
type = "webhook"
url = "http://127.0.0.1:$flaky_PORT/hook"
[notify.channels.slow]
type = "webhook"
url = "http://127.0.0.1:$slow_PORT/hook"
[notify.channels.closed]
type = "webhook"
url = "http://127.0.0.1:$closed/hook"
TOML
chmod 600 "$WORK/config.toml"
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"
billctl budgets set b --limit "0.50 USD" --stages 100 --channel flaky
billctl budgets set slow --limit "0.50 USD" --stages 100 --channel slow
billctl budgets set closed --limit "0.50 USD" --stages 100 --channel closed

set +e
billctl budgets notify >"$WORK/out1.txt" 2>"$WORK/err1.txt"
code=$?
set -e
assert_eq "$code" "5" "exit code with failed sends"
grep -q "HTTP 503 (2 attempts)" "$WORK/out1.txt" || fail "503 not reported: $(cat "$WORK/out1.txt")"
grep -q "Timeout" "$WORK/out1.txt" || fail "timeout not reported: $(cat "$WORK/out1.txt")"
grep -qi "connect" "$WORK/out1.txt" || fail "refused connection not reported: $(cat "$WORK/out1.txt")"
grep -q "the next run retries them" "$WORK/err1.txt" || fail "stderr: $(cat "$WORK/err1.txt")"
assert_eq "$(count_requests "$flaky_LOG" /hook)" "2" "attempts within the first run"

# Second run: the flaky receiver answers 503 once more, then 200: sent on the retry.
billctl budgets rm slow closed
billctl budgets notify >"$WORK/out2.txt" || fail "second run failed: $(cat "$WORK/out2.txt")"
grep -q "sent" "$WORK/out2.txt" || fail "not sent on the next run: $(cat "$WORK/out2.txt")"
assert_eq "$(count_requests "$flaky_LOG" /hook)" "4" "requests after the second run"
# Sent is sent: the third run sends nothing.
billctl budgets notify >"$WORK/out3.txt"
assert_eq "$(count_requests "$flaky_LOG" /hook)" "4" "requests after the third run"
echo ok
