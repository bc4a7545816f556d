#!/usr/bin/env bash
# usage anomalies --notify sends each anomaly once per metric, bucket and channel (a webhook on a
# local receiver), a second run sends nothing new, and the payload matches its schema.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml" BILLCTL_NOW=2026-11-01T00:00:00Z
start_receiver recv
cat >"$WORK/config.toml" <<TOML
[notify]
default_channels = ["hook"]
attempts = 2
backoff_ms = 10

[notify.channels.hook]
type = "webhook"
url = "http://127.0.0.1:$recv_PORT/hook"
TOML
chmod 600 "$WORK/config.toml"
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/anomalies.csv"
# Without a channel anywhere, --notify is a usage error.
if BILLCTL_CONFIG=/dev/null billctl usage anomalies --period 2026-10 --notify >/dev/null 2>"$WORK/err"; then fail "--notify without a channel passed"; fi
grep -q -- "--notify needs a channel" "$WORK/err" || fail "message: $(cat "$WORK/err")"

billctl usage anomalies --period 2026-10 --notify >"$WORK/out1.txt" 2>"$WORK/err1.txt" || fail "notify failed: $(cat "$WORK/err1.txt")"
assert_eq "$(count_requests "$recv_LOG" /hook)" "2" "webhook requests (the loop and the error storm)"
grep -q "sent anomaly alert 2026-10-14 cost via hook" "$WORK/err1.txt" || fail "notes: $(cat "$WORK/err1.txt")"
python3 - "$recv_LOG" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"] == "/hook"]
bodies = [json.loads(r["body"]) for r in reqs]
cost = [b for b in bodies if b["metric"] == "cost"][0]
assert cost["kind"] == "billctl.usage.anomaly" and cost["bucket"] == "2026-10-14", cost
assert cost["drivers"][0] == {"dimension": "user", "value": "mallory", "share": cost["drivers"][0]["share"]}, cost["drivers"][0]
errors = [b for b in bodies if b["metric"] == "errors"][0]
assert errors["drivers"][0]["value"] == "svc-batch", errors
open(sys.argv[1] + ".anomaly.json", "w").write(json.dumps(cost))
PY
validate_schema billctl.usage.anomaly <"$recv_LOG.anomaly.json" || fail "the anomaly payload does not match its schema"
# A cron job running again sends nothing new.
billctl usage anomalies --period 2026-10 --notify >/dev/null 2>"$WORK/err2.txt"
assert_eq "$(count_requests "$recv_LOG" /hook)" "2" "webhook requests after a second run"
echo ok
