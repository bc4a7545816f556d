#!/usr/bin/env bash
# Two notify runs at the same time send each alert once; when the period resets, PagerDuty's
# incident for the ended period is resolved, once.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml" BILLCTL_NOW=2026-10-31T12:00:00Z
export PD_KEY=key-1
start_receiver recv --delay-ms 300
cat >"$WORK/config.toml" <<TOML
[notify]
default_channels = ["hook", "pager"]
[notify.channels.hook]
type = "webhook"
url = "http://127.0.0.1:$recv_PORT/hook"
[notify.channels.pager]
type = "pagerduty"
url = "http://127.0.0.1:$recv_PORT/pagerduty"
routing_key_env = "PD_KEY"
TOML
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"
billctl budgets set all --limit "1 USD" --stages 50,100
runs=()
for i in 1 2 3; do
  billctl budgets notify >"$WORK/run$i.txt" 2>&1 &
  runs+=($!)
done
for p in "${runs[@]}"; do wait "$p" || fail "a concurrent run failed: $(cat "$WORK"/run*.txt)"; done
# One stage alert (100 %) per channel, whatever the number of runs.
assert_eq "$(count_requests "$recv_LOG" /hook)" "1" "webhook alerts from concurrent runs"
assert_eq "$(count_requests "$recv_LOG" /pagerduty)" "1" "pagerduty alerts from concurrent runs"

# November: the October incident is resolved once; nothing is due in the new period.
export BILLCTL_NOW=2026-11-01T00:30:00Z
billctl budgets notify >"$WORK/nov1.txt"
billctl budgets notify >"$WORK/nov2.txt"
python3 - "$recv_LOG" <<'PY'
import json, sys
pd = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if json.loads(l)["path"] == "/pagerduty"]
assert [p["event_action"] for p in pd] == ["trigger", "resolve"], pd
assert pd[1]["dedup_key"] == "billctl:all:2026-10" and pd[1]["routing_key"] == "key-1"
print("resolve ok")
PY
echo ok
