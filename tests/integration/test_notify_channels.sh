#!/usr/bin/env bash
# budgets notify sends each due alert once on every configured channel: generic webhook, Slack,
# Teams, PagerDuty, SMS (local HTTP receiver) and e-mail (local SMTP sink); a second run sends
# nothing; secrets stay out of output; a config file holding secrets must be mode 0600.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml"
export HOOK_TOKEN=hook-secret-123 PD_KEY=pd-routing-key-456 TWILIO_TOKEN=twilio-token-789 SLACK_URL_SECRET=x
start_receiver recv
start_smtp
base="http://127.0.0.1:$recv_PORT"
cat >"$WORK/config.toml" <<TOML
[notify]
attempts = 2
backoff_ms = 10
timeout_ms = 2000

[notify.channels.hook]
type = "webhook"
url = "$base/hook"
token_env = "HOOK_TOKEN"

[notify.channels.slack]
type = "slack"
url = "$base/slack"

[notify.channels.teams]
type = "teams"
url = "$base/teams"

[notify.channels.pager]
type = "pagerduty"
url = "$base/pagerduty"
routing_key_env = "PD_KEY"

[notify.channels.sms]
type = "sms"
url = "$base/sms"
account_sid = "AC123"
auth_token_env = "TWILIO_TOKEN"
from = "+15550000001"
to = ["+15550000002", "+15550000003"]

[notify.channels.mail]
type = "email"
smtp_url = "smtp://127.0.0.1:$SMTP_PORT"
require_tls = false
from = "billing@example.test"
to = ["finance@example.test"]
TOML
# Slack and Teams URLs are secrets: a world-readable config must not hold them.
chmod 644 "$WORK/config.toml"
if billctl budgets notify 2>"$WORK/err"; then fail "a readable config with secrets was accepted"; fi
grep -q "notify.channels.slack.url is a secret" "$WORK/err" || fail "message: $(cat "$WORK/err")"
chmod 600 "$WORK/config.toml"

billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv" "$SOURCE_DIR/tests/fixtures/small.jsonl"
billctl budgets set engineering --scope department:engineering --limit "2 USD" \
  --channel hook --channel slack --channel teams --channel pager --channel sms --channel mail
export BILLCTL_NOW=2026-10-20T12:00:00Z

# Dry run: says what it would send, sends and records nothing.
billctl budgets notify --dry-run >"$WORK/dry.txt"
grep -q "would send webhook POST" "$WORK/dry.txt" || fail "dry run: $(cat "$WORK/dry.txt")"
grep -q "Top users: alice" "$WORK/dry.txt" || fail "dry run lacks drivers: $(cat "$WORK/dry.txt")"
assert_eq "$(wc -l <"$recv_LOG" | tr -d ' ')" "0" "requests after a dry run"

billctl budgets notify >"$WORK/out1.txt" 2>"$WORK/err1.txt" || fail "notify failed: $(cat "$WORK/err1.txt")"
for secret in hook-secret-123 pd-routing-key-456 twilio-token-789 "$base/slack"; do
  if grep -qF "$secret" "$WORK/out1.txt" "$WORK/err1.txt"; then fail "output shows a secret ($secret)"; fi
done
# engineering is at 80.8 % (stage 80); the forecast gives it a 31 % chance of ending the month
# above its limit, under the 80 % of the "projected" alert: one alert per channel.
assert_eq "$(count_requests "$recv_LOG" /hook)" "1" "webhook requests"
assert_eq "$(count_requests "$recv_LOG" /slack)" "1" "slack requests"
assert_eq "$(count_requests "$recv_LOG" /teams)" "1" "teams requests"
assert_eq "$(count_requests "$recv_LOG" /pagerduty)" "1" "pagerduty requests"
assert_eq "$(count_requests "$recv_LOG" /sms)" "2" "sms requests (1 alert x 2 numbers)"
python3 - "$recv_LOG" <<'PY'
import json, sys, urllib.parse
reqs = [json.loads(l) for l in open(sys.argv[1])]
by = lambda p: [r for r in reqs if r["path"] == p]
hook = [json.loads(r["body"]) for r in by("/hook")]
stage = [h for h in hook if h["stage"] == 80][0]
assert stage["kind"] == "billctl.budget.alert" and stage["budget"] == "engineering", stage
open(sys.argv[1] + ".alert.json", "w").write(json.dumps(stage))
assert stage["spent"] == {"amount": "1.62", "currency": "USD"}, stage["spent"]
assert stage["limit"] == {"amount": "2.00", "currency": "USD"}, stage["limit"]
assert stage["used_pct"] == "80.8", stage["used_pct"]
assert stage["top_drivers"]["users"][0]["name"] == "alice", stage["top_drivers"]
assert stage["top_drivers"]["models"] and stage["top_drivers"]["features"]
assert [h["stage"] for h in hook].count("forecast") == 0
assert 0 < stage["p_exceed"] < 0.8, stage["p_exceed"]
assert by("/hook")[0]["authorization"] == "Bearer hook-secret-123"
slack = json.loads(by("/slack")[0]["body"])
assert "engineering" in slack["text"] and "80 %" in slack["text"], slack
teams = json.loads(by("/teams")[0]["body"])
assert teams["@type"] == "MessageCard" and "engineering" in teams["title"], teams
pd = [json.loads(r["body"]) for r in by("/pagerduty")]
assert all(p["routing_key"] == "pd-routing-key-456" and p["event_action"] == "trigger" for p in pd), pd
assert pd[0]["dedup_key"] == "billctl:engineering:2026-10"
assert {p["payload"]["severity"] for p in pd} == {"warning"}
sms = [urllib.parse.parse_qs(r["body"]) for r in by("/sms")]
assert {s["To"][0] for s in sms} == {"+15550000002", "+15550000003"}, sms
assert all(s["From"] == ["+15550000001"] and "engineering" in s["Body"][0] for s in sms)
assert all(r["authorization"].startswith("Basic ") for r in by("/sms"))
print("payloads ok")
PY
validate_schema billctl.budget.alert <"$recv_LOG.alert.json" || fail "the budget alert payload does not match its schema"
# The e-mail arrived at the SMTP sink.
for _ in $(seq 50); do [ "$(ls "$WORK/mail/new" 2>/dev/null | wc -l)" -ge 1 ] && break; sleep 0.1; done
assert_eq "$(ls "$WORK/mail/new" | wc -l | tr -d ' ')" "1" "mails"
grep -l "^Subject: \[billctl\] Budget 'engineering' reached 80 %" "$WORK"/mail/new/* >/dev/null || fail "no stage mail: $(cat "$WORK"/mail/new/*)"
grep -q "^To: finance@example.test" "$WORK"/mail/new/* || fail "mail headers"

# A cron job running again sends nothing new.
before=$(wc -l <"$recv_LOG")
billctl budgets notify >"$WORK/out2.txt"
assert_eq "$(wc -l <"$recv_LOG")" "$before" "requests after a second run"
assert_eq "$(cat "$WORK/out2.txt")" "" "output of a second run"
assert_eq "$(ls "$WORK/mail/new" | wc -l | tr -d ' ')" "1" "mails after a second run"

# Crossing the next stage sends that stage once (95 %: more usage for engineering).
printf 'id,timestamp,model,department,user,input_tokens,output_tokens\nx1,2026-10-19T10:00:00Z,gpt-4o,engineering,alice,120000,3000\n' >"$WORK/more.csv"
billctl usage import --quiet "$WORK/more.csv"
billctl budgets notify --format json >"$WORK/out3.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["alerts"]; assert {x["stage"] for x in a} == {"95"} and all(x["result"]=="sent" for x in a), a' "$WORK/out3.json"
assert_eq "$(count_requests "$recv_LOG" /hook)" "2" "webhook requests after stage 95"
echo ok
